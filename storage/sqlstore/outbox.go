package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
)

// Outbox statuses. A row starts pending (or skipped, when it was recorded
// only to say why it is not sent), is sending while a worker holds its
// lease, and ends sent, failed (out of attempts or refused for good),
// skipped (too late, nobody to send to) or unreachable (the channel refused
// the person: Telegram 403).
const (
	OutboxPending     = "pending"
	OutboxSending     = "sending"
	OutboxSent        = "sent"
	OutboxFailed      = "failed"
	OutboxSkipped     = "skipped"
	OutboxUnreachable = "unreachable"
)

// OutboxItem is one message in the outbox. Payload is the JSON of the
// []flows.Reply to send. Zero times mean "none".
type OutboxItem struct {
	ID            int64
	Key           string // idempotency key "job|occurrence|recipient"
	Job           string
	PersonID      string
	Channel       domain.Channel
	ChatID        string
	Payload       []byte
	DueAt         time.Time
	ExpiresAt     time.Time // after this it is skipped instead of sent
	Status        string
	Attempts      int
	LastError     string // the last error, or why it was skipped
	NextAttemptAt time.Time
	SentAt        time.Time
	ClaimedBy     string
	ClaimedUntil  time.Time
	CreatedAt     time.Time
}

// Unreachable is a person a channel refused delivery to.
type Unreachable struct {
	PersonID string
	Channel  domain.Channel
	Since    time.Time
	Reason   string
}

// OutboxStats counts rows per status; OldestDue is the due time of the
// oldest row waiting to be sent (pending or sending), zero when none.
type OutboxStats struct {
	ByStatus  map[string]int
	OldestDue time.Time
}

// Depth is how many messages wait to be sent.
func (s OutboxStats) Depth() int { return s.ByStatus[OutboxPending] + s.ByStatus[OutboxSending] }

// OldestAge is how late the oldest waiting message is at now.
func (s OutboxStats) OldestAge(now time.Time) time.Duration {
	if s.OldestDue.IsZero() || now.Before(s.OldestDue) {
		return 0
	}
	return now.Sub(s.OldestDue)
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

// postgres reports whether the queries run on PostgreSQL. SQLite has one
// writer and no row locks, so FOR UPDATE SKIP LOCKED is for PostgreSQL only.
// It recognises the driver adapter by its package, so that the stores need
// no change to tell their dialect.
func (q *Queries) postgres() bool { return onPostgres(q.DB) }

// onPostgres reports whether db is one of storage/postgres's.
func onPostgres(db DB) bool {
	t := reflect.TypeOf(db)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t != nil && strings.HasSuffix(t.PkgPath(), "/storage/postgres")
}

const outboxCols = `id, key, job, person_id, channel, chat_id, payload, due_at, expires_at, status, attempts,
	last_error, next_attempt_at, sent_at, claimed_by, claimed_until, created_at`

func scanOutbox(rows Rows) ([]OutboxItem, error) {
	defer rows.Close()
	var out []OutboxItem
	for rows.Next() {
		var it OutboxItem
		var ch, payload string
		var due, exp, next, sent, until, created int64
		if err := rows.Scan(&it.ID, &it.Key, &it.Job, &it.PersonID, &ch, &it.ChatID, &payload, &due, &exp,
			&it.Status, &it.Attempts, &it.LastError, &next, &sent, &it.ClaimedBy, &until, &created); err != nil {
			return nil, err
		}
		it.Channel, it.Payload = domain.Channel(ch), []byte(payload)
		it.DueAt, it.ExpiresAt, it.NextAttemptAt = fromMS(due), fromMS(exp), fromMS(next)
		it.SentAt, it.ClaimedUntil, it.CreatedAt = fromMS(sent), fromMS(until), fromMS(created)
		out = append(out, it)
	}
	return out, rows.Err()
}

// Enqueue adds it to the outbox unless a row with its key exists, and
// reports whether it was added. Status defaults to pending (skipped rows
// record a reason in LastError); NextAttemptAt defaults to DueAt.
func (q *Queries) Enqueue(ctx context.Context, it OutboxItem) (bool, error) {
	if it.Key == "" || it.Job == "" {
		return false, errors.New("enqueue: key and job are required")
	}
	status := it.Status
	if status == "" {
		status = OutboxPending
	}
	if status != OutboxPending && status != OutboxSkipped {
		return false, fmt.Errorf("enqueue: status %q: new rows are pending or skipped", status)
	}
	next := it.NextAttemptAt
	if next.IsZero() {
		next = it.DueAt
	}
	created := it.CreatedAt
	if created.IsZero() {
		created = time.Now()
	}
	payload := string(it.Payload)
	if payload == "" {
		payload = "[]"
	}
	n, err := q.DB.Exec(ctx, `INSERT INTO outbox (key, job, person_id, channel, chat_id, payload, due_at, expires_at,
			status, last_error, next_attempt_at, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		ON CONFLICT (key) DO NOTHING`,
		it.Key, it.Job, it.PersonID, string(it.Channel), it.ChatID, payload, ms(it.DueAt), ms(it.ExpiresAt),
		status, it.LastError, ms(next), ms(created))
	if err != nil {
		return false, fmt.Errorf("enqueue %s: %w", it.Key, err)
	}
	return n == 1, nil
}

// Claim leases up to limit rows that are due at now to worker until
// now+lease: pending rows whose next attempt has come, and rows whose
// previous worker's lease ran out (it died mid-send: the message may go out
// a second time). Concurrent claimers never get the same row. Rows come
// oldest first.
func (q *Queries) Claim(ctx context.Context, worker string, now time.Time, limit int, lease time.Duration) ([]OutboxItem, error) {
	if limit <= 0 {
		return nil, nil
	}
	// The condition is repeated outside the sub-select so that a row another
	// claimer took meanwhile is left alone even without row locks.
	const due = `((status = 'pending' AND next_attempt_at <= $3) OR (status = 'sending' AND claimed_until < $3))`
	query := `UPDATE outbox SET status = 'sending', claimed_by = $1, claimed_until = $2
		WHERE id IN (SELECT id FROM outbox WHERE ` + due + ` ORDER BY next_attempt_at, id LIMIT $4)
		AND ` + due + `
		RETURNING ` + outboxCols
	if q.postgres() {
		// PostgreSQL may run an "IN (sub-select LIMIT n ... SKIP LOCKED)"
		// more than once inside the UPDATE, each run skipping the rows the
		// previous one locked, and so claim far more than n. A
		// materialised CTE picks the rows exactly once.
		query = `WITH picked AS MATERIALIZED (SELECT id AS pick FROM outbox WHERE ` + due + `
			ORDER BY next_attempt_at, id LIMIT $4 FOR UPDATE SKIP LOCKED)
		UPDATE outbox SET status = 'sending', claimed_by = $1, claimed_until = $2
		FROM picked WHERE id = picked.pick AND ` + due + `
		RETURNING ` + outboxCols
	}
	rows, err := q.DB.Query(ctx, query, worker, ms(now.Add(lease)), ms(now), limit)
	if err != nil {
		return nil, fmt.Errorf("claim outbox rows: %w", err)
	}
	items, err := scanOutbox(rows)
	if err != nil {
		return nil, fmt.Errorf("claim outbox rows: %w", err)
	}
	sort.Slice(items, func(i, j int) bool {
		if !items[i].NextAttemptAt.Equal(items[j].NextAttemptAt) {
			return items[i].NextAttemptAt.Before(items[j].NextAttemptAt)
		}
		return items[i].ID < items[j].ID
	})
	return items, nil
}

// mark updates a row worker holds; it reports a row no longer held (its
// lease ran out and another worker took it) as an error.
func (q *Queries) mark(ctx context.Context, what string, id int64, worker, set string, args ...any) error {
	all := append([]any{id, worker}, args...)
	n, err := q.DB.Exec(ctx, `UPDATE outbox SET `+set+`, claimed_by = '', claimed_until = 0
		WHERE id = $1 AND claimed_by = $2 AND status = 'sending'`, all...)
	if err != nil {
		return fmt.Errorf("outbox %d: %s: %w", id, what, err)
	}
	if n == 0 {
		return fmt.Errorf("outbox %d: %s: %w", id, what, ErrNotClaimed)
	}
	return nil
}

// ErrNotClaimed means the row is no longer leased to the worker.
var ErrNotClaimed = errors.New("row not claimed by this worker")

// MarkSent records that the message went out. A row sent is sent, whoever
// holds its lease now.
func (q *Queries) MarkSent(ctx context.Context, id int64, worker string, at time.Time) error {
	_, err := q.DB.Exec(ctx, `UPDATE outbox SET status = 'sent', sent_at = $2, attempts = attempts + 1,
			last_error = '', claimed_by = '', claimed_until = 0
		WHERE id = $1 AND status IN ('pending', 'sending')`, id, ms(at))
	if err != nil {
		return fmt.Errorf("outbox %d: mark sent: %w", id, err)
	}
	return nil
}

// MarkRetry counts a failed attempt and makes the row due again at next.
func (q *Queries) MarkRetry(ctx context.Context, id int64, worker string, next time.Time, errText string) error {
	return q.mark(ctx, "retry", id, worker, `status = 'pending', attempts = attempts + 1, next_attempt_at = $3, last_error = $4`,
		ms(next), errText)
}

// Release gives the row back without counting an attempt (a flood wait, a
// shutdown before the send): it is due again at next.
func (q *Queries) Release(ctx context.Context, id int64, worker string, next time.Time, note string) error {
	return q.mark(ctx, "release", id, worker, `status = 'pending', next_attempt_at = $3, last_error = $4`, ms(next), note)
}

// MarkFailed counts a last failed attempt and gives up.
func (q *Queries) MarkFailed(ctx context.Context, id int64, worker string, errText string) error {
	return q.mark(ctx, "fail", id, worker, `status = 'failed', attempts = attempts + 1, last_error = $3`, errText)
}

// MarkSkipped gives up on the row without sending, saying why.
func (q *Queries) MarkSkipped(ctx context.Context, id int64, worker string, reason string) error {
	return q.mark(ctx, "skip", id, worker, `status = 'skipped', last_error = $3`, reason)
}

// MarkUnreachable records that the row's channel refused its person (for
// good: no retries) and remembers the person as unreachable there.
func (q *Queries) MarkUnreachable(ctx context.Context, id int64, worker string, at time.Time, reason string) error {
	return q.Tx(ctx, func(db DB) error {
		var person, ch string
		if err := db.QueryRow(ctx, `SELECT person_id, channel FROM outbox WHERE id = $1`, id).Scan(&person, &ch); err != nil {
			return fmt.Errorf("outbox %d: mark unreachable: %w", id, err)
		}
		n, err := db.Exec(ctx, `UPDATE outbox SET status = 'unreachable', attempts = attempts + 1, last_error = $3,
				claimed_by = '', claimed_until = 0
			WHERE id = $1 AND claimed_by = $2 AND status = 'sending'`, id, worker, reason)
		if err != nil {
			return fmt.Errorf("outbox %d: mark unreachable: %w", id, err)
		}
		if n == 0 {
			return fmt.Errorf("outbox %d: mark unreachable: %w", id, ErrNotClaimed)
		}
		if person == "" {
			return nil
		}
		if _, err := db.Exec(ctx, `INSERT INTO unreachable (person_id, channel, since, reason) VALUES ($1, $2, $3, $4)
			ON CONFLICT (person_id, channel) DO NOTHING`, person, ch, ms(at), reason); err != nil {
			return fmt.Errorf("record unreachable %s: %w", person, err)
		}
		return nil
	})
}

// Unreachables lists the people channels refused, oldest first.
func (q *Queries) Unreachables(ctx context.Context) ([]Unreachable, error) {
	rows, err := q.DB.Query(ctx, `SELECT person_id, channel, since, reason FROM unreachable ORDER BY since, person_id, channel`)
	if err != nil {
		return nil, fmt.Errorf("list unreachable: %w", err)
	}
	defer rows.Close()
	var out []Unreachable
	for rows.Next() {
		var u Unreachable
		var ch string
		var since int64
		if err := rows.Scan(&u.PersonID, &ch, &since, &u.Reason); err != nil {
			return nil, fmt.Errorf("list unreachable: %w", err)
		}
		u.Channel, u.Since = domain.Channel(ch), fromMS(since)
		out = append(out, u)
	}
	return out, rows.Err()
}

// ClearUnreachable forgets that personID was unreachable on ch: call it when
// they write to the bot again (they unblocked it).
func (q *Queries) ClearUnreachable(ctx context.Context, personID string, ch domain.Channel) error {
	if _, err := q.DB.Exec(ctx, `DELETE FROM unreachable WHERE person_id = $1 AND channel = $2`, personID, string(ch)); err != nil {
		return fmt.Errorf("clear unreachable %s: %w", personID, err)
	}
	return nil
}

// OutboxStats counts the rows per status and finds the oldest waiting one.
func (q *Queries) OutboxStats(ctx context.Context) (OutboxStats, error) {
	st := OutboxStats{ByStatus: map[string]int{}}
	rows, err := q.DB.Query(ctx, `SELECT status, COUNT(*) FROM outbox GROUP BY status`)
	if err != nil {
		return st, fmt.Errorf("outbox stats: %w", err)
	}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			rows.Close()
			return st, fmt.Errorf("outbox stats: %w", err)
		}
		st.ByStatus[s] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return st, fmt.Errorf("outbox stats: %w", err)
	}
	var oldest int64
	if err := q.DB.QueryRow(ctx, `SELECT COALESCE(MIN(due_at), 0) FROM outbox WHERE status IN ('pending', 'sending')`).Scan(&oldest); err != nil {
		return st, fmt.Errorf("outbox stats: %w", err)
	}
	st.OldestDue = fromMS(oldest)
	return st, nil
}

// OutboxItems lists the rows of job ("" for all), oldest first: for tests,
// the staff's reports and operators.
func (q *Queries) OutboxItems(ctx context.Context, job string) ([]OutboxItem, error) {
	rows, err := q.DB.Query(ctx, `SELECT `+outboxCols+` FROM outbox WHERE job = $1 OR $1 = '' ORDER BY id`, job)
	if err != nil {
		return nil, fmt.Errorf("list outbox: %w", err)
	}
	items, err := scanOutbox(rows)
	if err != nil {
		return nil, fmt.Errorf("list outbox: %w", err)
	}
	return items, nil
}

// AcquireLease takes or renews the lease name for holder until now+ttl. It
// succeeds when the lease is free, expired or already holder's, and returns
// the fencing token: it grows each time the lease changes hands.
func (q *Queries) AcquireLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (fence int64, ok bool, err error) {
	until := ms(now.Add(ttl))
	n, err := q.DB.Exec(ctx, `INSERT INTO scheduler_leader (name, holder, fence, expires_at) VALUES ($1, $2, 1, $3)
		ON CONFLICT (name) DO NOTHING`, name, holder, until)
	if err != nil {
		return 0, false, fmt.Errorf("lease %s: %w", name, err)
	}
	if n == 1 {
		return 1, true, nil
	}
	err = q.DB.QueryRow(ctx, `UPDATE scheduler_leader
		SET fence = CASE WHEN holder = $2 THEN fence ELSE fence + 1 END, holder = $2, expires_at = $3
		WHERE name = $1 AND (holder = $2 OR expires_at < $4)
		RETURNING fence`, name, holder, until, ms(now)).Scan(&fence)
	if errors.Is(err, ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("lease %s: %w", name, err)
	}
	return fence, true, nil
}

// ReleaseLease gives the lease up if holder has it, so that another process
// takes over at once instead of after the lease runs out.
func (q *Queries) ReleaseLease(ctx context.Context, name, holder string) error {
	if _, err := q.DB.Exec(ctx, `UPDATE scheduler_leader SET expires_at = 0 WHERE name = $1 AND holder = $2`, name, holder); err != nil {
		return fmt.Errorf("release lease %s: %w", name, err)
	}
	return nil
}

// JobRun returns how far job was evaluated; ok is false when never.
func (q *Queries) JobRun(ctx context.Context, job string) (last time.Time, ok bool, err error) {
	var v int64
	err = q.DB.QueryRow(ctx, `SELECT last_run FROM scheduler_runs WHERE job = $1`, job).Scan(&v)
	if errors.Is(err, ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("job run %s: %w", job, err)
	}
	return fromMS(v), true, nil
}

// SetJobRun records that job was evaluated up to at by the leader with
// fence. It never moves back, and a leader with an older fence than the last
// writer's changes nothing.
func (q *Queries) SetJobRun(ctx context.Context, job string, at time.Time, fence int64) error {
	_, err := q.DB.Exec(ctx, `INSERT INTO scheduler_runs (job, last_run, fence) VALUES ($1, $2, $3)
		ON CONFLICT (job) DO UPDATE SET last_run = excluded.last_run, fence = excluded.fence
		WHERE scheduler_runs.last_run < excluded.last_run AND scheduler_runs.fence <= excluded.fence`,
		job, ms(at), fence)
	if err != nil {
		return fmt.Errorf("record job run %s: %w", job, err)
	}
	return nil
}

// AgendaSnapshot returns the agenda last announced for eventID; ErrNoRows
// (storage.ErrNotFound) when none was.
func (q *Queries) AgendaSnapshot(ctx context.Context, eventID string) (version int, hash string, snapshot []byte, err error) {
	var s string
	err = q.DB.QueryRow(ctx, `SELECT version, hash, snapshot FROM scheduler_agenda WHERE event_id = $1`, eventID).Scan(&version, &hash, &s)
	if err != nil {
		return 0, "", nil, fmt.Errorf("agenda snapshot %s: %w", eventID, err)
	}
	return version, hash, []byte(s), nil
}

// SetAgendaSnapshot stores the agenda announced as version.
func (q *Queries) SetAgendaSnapshot(ctx context.Context, eventID string, version int, hash string, snapshot []byte, at time.Time) error {
	_, err := q.DB.Exec(ctx, `INSERT INTO scheduler_agenda (event_id, version, hash, snapshot, updated_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (event_id) DO UPDATE SET version = excluded.version, hash = excluded.hash,
			snapshot = excluded.snapshot, updated_at = excluded.updated_at
		WHERE scheduler_agenda.version <= excluded.version`,
		eventID, version, hash, string(snapshot), ms(at))
	if err != nil {
		return fmt.Errorf("store agenda snapshot %s: %w", eventID, err)
	}
	return nil
}
