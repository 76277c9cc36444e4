package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
)

// The staff console's tables (migration 0005): sign-in links, sessions,
// check-ins, the audit trail and uploads waiting for confirmation. Times are
// stored as Unix milliseconds so that comparisons mean the same on both
// databases. Token and session ids arrive here already hashed.

// Sign-in link refusals, told apart so the page can say what happened.
var (
	ErrSignInUsed    = errors.New("sign-in link already used")
	ErrSignInExpired = errors.New("sign-in link expired")
)

// ConsoleSession is a signed-in staff member's cookie session.
type ConsoleSession struct {
	PersonID  string
	CSRF      string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// CheckIn records that a person arrived at the event.
type CheckIn struct {
	PersonID string
	At       time.Time
	By       string // staff person id at the desk; "" for self check-in
	Method   string // "desk" or "self"
	EventID  string // "" for the store's current event
}

// AuditEntry is one console action.
type AuditEntry struct {
	ID       int64
	At       time.Time
	PersonID string
	Action   string
	Detail   string
	Channel  string // "console", a chat channel, "cli"
}

// Upload is an uploaded list waiting for the user to confirm the import.
type Upload struct {
	ID          string
	SessionHash string
	Kind        string
	FileName    string
	Data        []byte
	CreatedAt   time.Time
}

func consoleMS(t time.Time) int64 { return t.UnixMilli() }

func consoleTime(v int64) time.Time { return time.UnixMilli(v).UTC() }

// CreateSignIn stores a one-time sign-in link (by its token's hash).
func (q *Queries) CreateSignIn(ctx context.Context, tokenHash, personID string, now, expires time.Time) error {
	if _, err := q.DB.Exec(ctx, `INSERT INTO signin_tokens (token_hash, person_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
		tokenHash, personID, consoleMS(now), consoleMS(expires)); err != nil {
		return fmt.Errorf("create sign-in link: %w", err)
	}
	// Old links are of no use to anyone; keep the table small.
	if _, err := q.DB.Exec(ctx, `DELETE FROM signin_tokens WHERE expires_at < $1`, consoleMS(now.Add(-24*time.Hour))); err != nil {
		return fmt.Errorf("prune sign-in links: %w", err)
	}
	return nil
}

// UseSignIn consumes a sign-in link: it succeeds once, while the link has
// not expired. It returns ErrSignInUsed, ErrSignInExpired or ErrNoRows.
func (q *Queries) UseSignIn(ctx context.Context, tokenHash string, now time.Time) (string, error) {
	n, err := q.DB.Exec(ctx, `UPDATE signin_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2`,
		tokenHash, consoleMS(now))
	if err != nil {
		return "", fmt.Errorf("use sign-in link: %w", err)
	}
	var person string
	var used *int64
	var expires int64
	if err := q.DB.QueryRow(ctx, `SELECT person_id, used_at, expires_at FROM signin_tokens WHERE token_hash = $1`, tokenHash).
		Scan(&person, &used, &expires); err != nil {
		if errors.Is(err, ErrNoRows) {
			return "", ErrNoRows
		}
		return "", fmt.Errorf("read sign-in link: %w", err)
	}
	switch {
	case n == 1:
		return person, nil
	case used != nil:
		return "", ErrSignInUsed
	default:
		return "", ErrSignInExpired
	}
}

// CreateConsoleSession stores a new session (by its id's hash).
func (q *Queries) CreateConsoleSession(ctx context.Context, idHash string, s ConsoleSession) error {
	if _, err := q.DB.Exec(ctx, `INSERT INTO console_sessions (id_hash, person_id, csrf, expires_at, created_at) VALUES ($1, $2, $3, $4, $5)`,
		idHash, s.PersonID, s.CSRF, consoleMS(s.ExpiresAt), consoleMS(s.CreatedAt)); err != nil {
		return fmt.Errorf("create console session: %w", err)
	}
	if _, err := q.DB.Exec(ctx, `DELETE FROM console_sessions WHERE expires_at < $1`, consoleMS(s.CreatedAt)); err != nil {
		return fmt.Errorf("prune console sessions: %w", err)
	}
	return nil
}

// ConsoleSession returns a session that has not expired at now, or ErrNoRows.
func (q *Queries) ConsoleSession(ctx context.Context, idHash string, now time.Time) (ConsoleSession, error) {
	var s ConsoleSession
	var exp, created int64
	err := q.DB.QueryRow(ctx, `SELECT person_id, csrf, expires_at, created_at FROM console_sessions WHERE id_hash = $1 AND expires_at > $2`,
		idHash, consoleMS(now)).Scan(&s.PersonID, &s.CSRF, &exp, &created)
	if err != nil {
		if errors.Is(err, ErrNoRows) {
			return s, ErrNoRows
		}
		return s, fmt.Errorf("read console session: %w", err)
	}
	s.ExpiresAt, s.CreatedAt = consoleTime(exp), consoleTime(created)
	return s, nil
}

// ExtendConsoleSession moves a session's expiry (sliding sessions).
func (q *Queries) ExtendConsoleSession(ctx context.Context, idHash string, expires time.Time) error {
	if _, err := q.DB.Exec(ctx, `UPDATE console_sessions SET expires_at = $2 WHERE id_hash = $1`, idHash, consoleMS(expires)); err != nil {
		return fmt.Errorf("extend console session: %w", err)
	}
	return nil
}

// DeleteConsoleSession ends a session (sign-out) and its pending uploads.
func (q *Queries) DeleteConsoleSession(ctx context.Context, idHash string) error {
	return q.Tx(ctx, func(db DB) error {
		if _, err := db.Exec(ctx, `DELETE FROM console_sessions WHERE id_hash = $1`, idHash); err != nil {
			return fmt.Errorf("delete console session: %w", err)
		}
		if _, err := db.Exec(ctx, `DELETE FROM console_uploads WHERE session_hash = $1`, idHash); err != nil {
			return fmt.Errorf("delete uploads: %w", err)
		}
		return nil
	})
}

// CheckIn records a person's arrival. The first check-in wins: when the
// person was checked in before, nothing changes and the first record is
// returned with fresh=false.
func (q *Queries) CheckIn(ctx context.Context, c CheckIn) (CheckIn, bool, error) {
	if c.Method != "desk" && c.Method != "self" {
		return CheckIn{}, false, fmt.Errorf("check in: unknown method %q", c.Method)
	}
	if c.EventID == "" {
		c.EventID = q.EventID
	}
	n, err := q.DB.Exec(ctx, `INSERT INTO checkins (person_id, at, by_person, method, event_id) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (event_id, person_id) DO NOTHING`, c.PersonID, consoleMS(c.At), c.By, c.Method, c.EventID)
	if err != nil {
		return CheckIn{}, false, fmt.Errorf("check in: %w", err)
	}
	var got CheckIn
	var at int64
	if err := q.DB.QueryRow(ctx, `SELECT person_id, at, by_person, method, event_id FROM checkins WHERE event_id = $1 AND person_id = $2`, c.EventID, c.PersonID).
		Scan(&got.PersonID, &at, &got.By, &got.Method, &got.EventID); err != nil {
		return CheckIn{}, false, fmt.Errorf("read check-in: %w", err)
	}
	got.At = consoleTime(at)
	return got, n == 1, nil
}

// CheckIns returns every check-in to the current event, keyed by person.
func (q *Queries) CheckIns(ctx context.Context) (map[string]CheckIn, error) {
	return q.EventCheckIns(ctx, q.EventID)
}

// EventCheckIns returns every check-in to one event, keyed by person.
func (q *Queries) EventCheckIns(ctx context.Context, eventID string) (map[string]CheckIn, error) {
	rows, err := q.DB.Query(ctx, `SELECT person_id, at, by_person, method, event_id FROM checkins WHERE event_id = $1`, eventID)
	if err != nil {
		return nil, fmt.Errorf("list check-ins: %w", err)
	}
	defer rows.Close()
	out := map[string]CheckIn{}
	for rows.Next() {
		var c CheckIn
		var at int64
		if err := rows.Scan(&c.PersonID, &at, &c.By, &c.Method, &c.EventID); err != nil {
			return nil, fmt.Errorf("scan check-in: %w", err)
		}
		c.At = consoleTime(at)
		out[c.PersonID] = c
	}
	return out, rows.Err()
}

// AddAudit records one console action.
func (q *Queries) AddAudit(ctx context.Context, at time.Time, personID, action, detail string) error {
	return insertAudit(ctx, q.DB, at, personID, action, detail, "console")
}

// AddAuditFrom records an action done elsewhere than the console: in a chat
// (channel "telegram", "zalo", "web") or on the command line ("cli").
func (q *Queries) AddAuditFrom(ctx context.Context, at time.Time, personID, action, detail string, ch domain.Channel) error {
	return insertAudit(ctx, q.DB, at, personID, action, detail, ch)
}

// scanAudit reads audit rows (id, at, person_id, action, detail, channel)
// and closes them.
func scanAudit(rows Rows) ([]AuditEntry, error) {
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.PersonID, &e.Action, &e.Detail, &e.Channel); err != nil {
			return nil, fmt.Errorf("scan audit: %w", err)
		}
		e.At = consoleTime(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// AuditLog returns the newest console actions first, at most limit.
func (q *Queries) AuditLog(ctx context.Context, limit int) ([]AuditEntry, error) {
	rows, err := q.DB.Query(ctx, `SELECT id, at, person_id, action, detail, channel FROM audit ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	return scanAudit(rows)
}

// PutUpload keeps an uploaded list until it is confirmed, and drops uploads
// older than an hour.
func (q *Queries) PutUpload(ctx context.Context, u Upload) error {
	if _, err := q.DB.Exec(ctx, `DELETE FROM console_uploads WHERE created_at < $1`, consoleMS(u.CreatedAt.Add(-time.Hour))); err != nil {
		return fmt.Errorf("prune uploads: %w", err)
	}
	if _, err := q.DB.Exec(ctx, `INSERT INTO console_uploads (id, session_hash, kind, file_name, data, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		u.ID, u.SessionHash, u.Kind, u.FileName, u.Data, consoleMS(u.CreatedAt)); err != nil {
		return fmt.Errorf("keep upload: %w", err)
	}
	return nil
}

// Upload returns an upload of this session, or ErrNoRows.
func (q *Queries) Upload(ctx context.Context, id, sessionHash string) (Upload, error) {
	u := Upload{ID: id, SessionHash: sessionHash}
	var created int64
	err := q.DB.QueryRow(ctx, `SELECT kind, file_name, data, created_at FROM console_uploads WHERE id = $1 AND session_hash = $2`,
		id, sessionHash).Scan(&u.Kind, &u.FileName, &u.Data, &created)
	if err != nil {
		if errors.Is(err, ErrNoRows) {
			return u, ErrNoRows
		}
		return u, fmt.Errorf("read upload: %w", err)
	}
	u.CreatedAt = consoleTime(created)
	return u, nil
}

// DeleteUpload removes an upload; it reports whether it was there, so that
// a double-submitted confirmation imports once.
func (q *Queries) DeleteUpload(ctx context.Context, id, sessionHash string) (bool, error) {
	n, err := q.DB.Exec(ctx, `DELETE FROM console_uploads WHERE id = $1 AND session_hash = $2`, id, sessionHash)
	if err != nil {
		return false, fmt.Errorf("delete upload: %w", err)
	}
	return n == 1, nil
}

// SignInStatus looks at a sign-in link without using it: the person it is
// for, or ErrSignInUsed, ErrSignInExpired or ErrNoRows.
func (q *Queries) SignInStatus(ctx context.Context, tokenHash string, now time.Time) (string, error) {
	var person string
	var used *int64
	var expires int64
	if err := q.DB.QueryRow(ctx, `SELECT person_id, used_at, expires_at FROM signin_tokens WHERE token_hash = $1`, tokenHash).
		Scan(&person, &used, &expires); err != nil {
		if errors.Is(err, ErrNoRows) {
			return "", ErrNoRows
		}
		return "", fmt.Errorf("read sign-in link: %w", err)
	}
	switch {
	case used != nil:
		return "", ErrSignInUsed
	case expires <= consoleMS(now):
		return "", ErrSignInExpired
	}
	return person, nil
}

// LoadCatalog reads the indicator catalog and the assignments back, as the
// last SyncCatalog left them (catalog order), so that a process can rebuild
// its domain.Catalog after an import made in the console.
func (q *Queries) LoadCatalog(ctx context.Context) ([]domain.Indicator, []domain.Assignment, error) {
	rows, err := q.DB.Query(ctx, `SELECT code, pillar, name_vi, name_en, guidance_vi, guidance_en, unit, value_type,
			min_value, max_value, ref_year, evidence_required, agency_code, last_year,
			change_limit, soft_min, soft_max, numerator, denominator FROM indicators ORDER BY list_order, code`)
	if err != nil {
		return nil, nil, fmt.Errorf("read indicators: %w", err)
	}
	var inds []domain.Indicator
	for rows.Next() {
		var i domain.Indicator
		var typ string
		if err := rows.Scan(&i.Code, &i.Pillar, &i.NameVI, &i.NameEN, &i.GuidanceVI, &i.GuidanceEN, &i.Unit, &typ,
			&i.Min, &i.Max, &i.RefYear, &i.Evidence, &i.Agency, &i.LastYear,
			&i.ChangeLimit, &i.SoftMin, &i.SoftMax, &i.Numerator, &i.Denominator); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("scan indicator: %w", err)
		}
		i.Type = domain.ValueType(typ)
		inds = append(inds, i)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("read indicators: %w", err)
	}
	rows, err = q.DB.Query(ctx, `SELECT indicator_code, agency_code, focal_ids, deadline FROM assignments ORDER BY agency_code, indicator_code`)
	if err != nil {
		return nil, nil, fmt.Errorf("read assignments: %w", err)
	}
	defer rows.Close()
	var as []domain.Assignment
	for rows.Next() {
		var a domain.Assignment
		var focal string
		if err := rows.Scan(&a.Indicator, &a.Agency, &focal, &a.Deadline); err != nil {
			return nil, nil, fmt.Errorf("scan assignment: %w", err)
		}
		for _, f := range strings.Split(focal, ";") {
			if f = strings.TrimSpace(f); f != "" {
				a.Focal = append(a.Focal, f)
			}
		}
		a.Deadline = a.Deadline.UTC()
		as = append(as, a)
	}
	return inds, as, rows.Err()
}
