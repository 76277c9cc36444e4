// Package sqlstore holds the queries the results store runs, written once in
// the SQL that PostgreSQL and SQLite share ($n placeholders, ON CONFLICT).
// storage/postgres and storage/sqlite adapt their drivers to DB and embed
// Queries; each keeps its own schema migrations.
package sqlstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/storage"
)

// DB is what the queries need of a connection or a transaction.
type DB interface {
	Exec(ctx context.Context, q string, args ...any) (rowsAffected int64, err error)
	Query(ctx context.Context, q string, args ...any) (Rows, error)
	QueryRow(ctx context.Context, q string, args ...any) Row
}

// Rows is a result set being read.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// Row is a single-row result.
type Row interface{ Scan(dest ...any) error }

// ErrNoRows is what a driver's "no rows" error must be mapped to.
var ErrNoRows = storage.ErrNotFound

// Tx runs fn in a transaction, committing when fn returns nil.
type Tx func(ctx context.Context, fn func(DB) error) error

// Pipeline is a transaction's DB that sends statements to the server
// together (PostgreSQL: one pgx batch, one round trip) instead of one
// after another. Defer queues a statement whose only result is its
// error; it goes out with the next statement that needs a result (Exec's
// row count, a query) or with the commit, in the order queued, and its
// error — wrapped as "what: %w" — comes back from that statement or from
// the commit, the transaction rolled back. A failed statement stops the
// ones after it, as a failing Exec would.
type Pipeline interface {
	DB
	Defer(what, q string, args ...any)
}

// ErrProcessed is what a Pipeline reports when a deferred insert into
// processed_updates found the update id recorded already: the update was
// applied before, and its transaction rolled back.
var ErrProcessed = errors.New("update processed before")

// execLater runs a statement whose only result is its error: deferred on
// a Pipeline, at once otherwise (SQLite, a plain transaction).
func execLater(ctx context.Context, db DB, what, q string, args ...any) error {
	if w, ok := db.(*writer); ok {
		return w.later(ctx, what, q, args...)
	}
	if p, ok := db.(Pipeline); ok {
		p.Defer(what, q, args...)
		return nil
	}
	if _, err := db.Exec(ctx, q, args...); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// Queries implements storage.Store on top of a driver.
type Queries struct {
	DB DB
	Tx Tx
	// Pipe, when set, is a Tx whose DB is a Pipeline: what applies
	// updates' effects uses it (PostgreSQL). nil: Tx.
	Pipe Tx
	// EventID is the event answers and check-ins are read and written for
	// when the caller names none ('' before events are records, and for the
	// rows made then until the first event adopts them).
	EventID string
	// CampaignID is the data campaign submissions are read and written
	// for, in the same way.
	CampaignID string
}

// SetEvent makes id the event the store answers for by default. It is set
// once at start-up, before the store is shared.
func (q *Queries) SetEvent(id string) { q.EventID = id }

// SetCampaign makes id the campaign the store answers for by default, set
// like SetEvent.
func (q *Queries) SetCampaign(id string) { q.CampaignID = id }

// InCampaign returns the campaign's queries (submissions, review queue,
// history) for campaign id instead of the default one: what a focal point
// or staff member who chose another campaign in chat reads. The copy
// shares the connection.
func (q *Queries) InCampaign(id string) storage.CampaignStore {
	c := *q
	if id != "" {
		c.CampaignID = id
	}
	return &c
}

// SyncDirectory implements storage.Store.
func (q *Queries) SyncDirectory(ctx context.Context, agencies []domain.Agency, people []domain.Person) error {
	return q.Tx(ctx, func(db DB) error { return syncDirectory(ctx, db, agencies, people) })
}

func syncDirectory(ctx context.Context, db DB, agencies []domain.Agency, people []domain.Person) error {
	{
		for _, a := range agencies {
			if _, err := db.Exec(ctx, `INSERT INTO agencies (code, name_vi, name_en, kind) VALUES ($1, $2, $3, $4)
				ON CONFLICT (code) DO UPDATE SET name_vi = excluded.name_vi, name_en = excluded.name_en, kind = excluded.kind`,
				a.Code, a.NameVI, a.NameEN, a.Kind); err != nil {
				return fmt.Errorf("upsert agency %s: %w", a.Code, err)
			}
		}
		for i, p := range people {
			token, code, checkin := p.InviteToken, domain.NormalizeCode(p.InviteCode), p.CheckinToken
			if token == "" {
				token = domain.NewInviteToken()
			}
			if code == "" {
				code = domain.NewInviteCode()
			}
			if checkin == "" {
				checkin = domain.NewInviteToken()
			}
			// A token or code given in the list replaces the stored one;
			// otherwise the stored one stays, so printed invitations keep working.
			if _, err := db.Exec(ctx, `INSERT INTO people (id, full_name, position, agency_code, phone, email, roles, invite_token, invite_code, list_order, checkin_token)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $13)
				ON CONFLICT (id) DO UPDATE SET full_name = excluded.full_name, position = excluded.position,
					agency_code = excluded.agency_code, phone = excluded.phone, email = excluded.email,
					roles = excluded.roles, list_order = excluded.list_order,
					invite_token = CASE WHEN $11 THEN excluded.invite_token ELSE people.invite_token END,
					invite_code = CASE WHEN $12 THEN excluded.invite_code ELSE people.invite_code END,
					checkin_token = CASE WHEN $14 OR people.checkin_token = '' THEN excluded.checkin_token ELSE people.checkin_token END`,
				p.ID, p.FullName, p.Position, p.AgencyCode, p.Phone, p.Email, joinRoles(p.Roles), token, code, i,
				p.InviteToken != "", p.InviteCode != "", checkin, p.CheckinToken != ""); err != nil {
				return fmt.Errorf("upsert person %s: %w", p.ID, err)
			}
		}
		return nil
	}
}

// saveSubstitute keeps the substitute of r's person as a guest of their own:
// a person row (domain.SubstituteID) with their own invite token and code
// and check-in token,
// the delegate's agency, and the substitute role while the delegate's
// answer names them. Correcting the name or position keeps the token, so
// an invitation already printed stays valid; a new phone number is a new
// person and gets a new token and code, so the previous substitute's
// invitation no longer works.
func saveSubstitute(ctx context.Context, db DB, r domain.RSVP) error {
	id := domain.SubstituteID(r.PersonID)
	if r.Status != domain.RSVPSubstitute || r.Substitute == nil {
		return writeRow(ctx, db, rowWithdraw, "", id)
	}
	s := r.Substitute
	return execLater(ctx, db, "save substitute", `INSERT INTO people (id, full_name, position, agency_code, phone, email, roles, invite_token, invite_code, list_order, substitute_for, checkin_token)
		SELECT $1, $2, $3, p.agency_code, $4, '', $5, $6, $7, p.list_order, p.id, $9 FROM people p WHERE p.id = $8
		ON CONFLICT (id) DO UPDATE SET full_name = excluded.full_name, position = excluded.position, roles = excluded.roles,
			agency_code = excluded.agency_code,
			invite_token = CASE WHEN people.phone = excluded.phone THEN people.invite_token ELSE excluded.invite_token END,
			invite_code = CASE WHEN people.phone = excluded.phone THEN people.invite_code ELSE excluded.invite_code END,
			checkin_token = CASE WHEN people.phone = excluded.phone AND people.checkin_token <> '' THEN people.checkin_token ELSE excluded.checkin_token END,
			phone = excluded.phone`,
		id, s.Name, s.Position, s.Phone, string(domain.RoleSubstitute), domain.NewInviteToken(), domain.NewInviteCode(), r.PersonID, domain.NewInviteToken())
}

// Directory implements storage.Store.
func (q *Queries) Directory(ctx context.Context) (*domain.Directory, error) {
	var agencies []domain.Agency
	rows, err := q.DB.Query(ctx, `SELECT code, name_vi, name_en, kind FROM agencies ORDER BY code`)
	if err != nil {
		return nil, fmt.Errorf("list agencies: %w", err)
	}
	for rows.Next() {
		var a domain.Agency
		if err := rows.Scan(&a.Code, &a.NameVI, &a.NameEN, &a.Kind); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan agency: %w", err)
		}
		agencies = append(agencies, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list agencies: %w", err)
	}
	rows, err = q.DB.Query(ctx, `SELECT `+personColumns+` FROM people p ORDER BY list_order, substitute_for, id`)
	if err != nil {
		return nil, fmt.Errorf("list people: %w", err)
	}
	people, err := scanPeople(rows)
	if err != nil {
		return nil, fmt.Errorf("list people: %w", err)
	}
	return domain.NewDirectory(people, agencies), nil
}

// personColumns are a person as the directory holds them, from people p.
const personColumns = `p.id, p.full_name, p.position, p.agency_code, p.phone, p.email, p.roles, p.invite_token, p.invite_code, p.checkin_token, p.substitute_for`

// personRow receives personColumns.
type personRow struct {
	p     domain.Person
	roles string
}

func (r *personRow) targets() []any {
	p := &r.p
	return []any{&p.ID, &p.FullName, &p.Position, &p.AgencyCode, &p.Phone, &p.Email, &r.roles, &p.InviteToken, &p.InviteCode, &p.CheckinToken, &p.SubstituteFor}
}

func (r *personRow) person() domain.Person {
	p := r.p
	p.Roles = splitRoles(r.roles)
	return p
}

func scanPeople(rows Rows) ([]domain.Person, error) {
	defer rows.Close()
	var out []domain.Person
	for rows.Next() {
		var r personRow
		if err := rows.Scan(r.targets()...); err != nil {
			return nil, fmt.Errorf("scan person: %w", err)
		}
		out = append(out, r.person())
	}
	return out, rows.Err()
}

// inList is the placeholders "$1, $2, …" of an IN list of ids and its
// arguments.
func inList(ids []string) (string, []any) {
	var b strings.Builder
	args := make([]any, len(ids))
	for i, id := range ids {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "$%d", i+1)
		args[i] = id
	}
	return b.String(), args
}

// People returns the people with these ids that exist: what the
// dispatcher changes in its copy of the list after an answer named a
// substitute, instead of reading the whole list again.
func (q *Queries) People(ctx context.Context, ids []string) ([]domain.Person, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var out []domain.Person
	if err := q.Run(ctx, q.PeopleRead(ids, &out)); err != nil {
		return nil, err
	}
	return out, nil
}

// A Read is one query and how its rows are taken: what a store may send
// with others in one round trip (the PostgreSQL store's reads of a moment,
// storage/postgres/batch.go). Scan reads the rows and closes them.
type Read struct {
	What string // what its error is wrapped as
	SQL  string
	Args []any
	Scan func(Rows) error
}

// Run runs r on q.DB.
func (q *Queries) Run(ctx context.Context, r Read) error {
	rows, err := q.DB.Query(ctx, r.SQL, r.Args...)
	if err != nil {
		return fmt.Errorf("%s: %w", r.What, err)
	}
	if err := r.Scan(rows); err != nil {
		return fmt.Errorf("%s: %w", r.What, err)
	}
	return nil
}

// PeopleRead is People as a Read (ids not empty): the people found are
// appended to out.
func (q *Queries) PeopleRead(ids []string, out *[]domain.Person) Read {
	r := Read{What: "read people", Scan: func(rows Rows) error {
		people, err := scanPeople(rows)
		*out = append(*out, people...)
		return err
	}}
	if q.postgres() {
		// An array: one statement text (one prepared statement) for any
		// count.
		r.SQL, r.Args = `SELECT `+personColumns+` FROM people p WHERE p.id = ANY($1::text[])`, []any{ids}
	} else {
		var in string
		in, r.Args = inList(ids)
		r.SQL = `SELECT ` + personColumns + ` FROM people p WHERE p.id IN (` + in + `)`
	}
	return r
}

// PeopleFor returns the people an invite link's token, a typed invite
// code or a shared phone number may name (an empty one names nobody):
// how a process finds a person another process added (a substitute) the
// moment their link or code is first used. code is normalised
// (domain.NormalizeCode), phone too (domain.NormalizePhone).
func (q *Queries) PeopleFor(ctx context.Context, token, code, phone string) ([]domain.Person, error) {
	if token == "" && code == "" && phone == "" {
		return nil, nil
	}
	rows, err := q.DB.Query(ctx, `SELECT `+personColumns+` FROM people p
		WHERE ($1 <> '' AND p.invite_token = $1) OR ($2 <> '' AND p.invite_code = $2) OR ($3 <> '' AND p.phone = $3)
		ORDER BY p.list_order, p.substitute_for, p.id`, token, code, phone)
	if err != nil {
		return nil, fmt.Errorf("find people: %w", err)
	}
	out, err := scanPeople(rows)
	if err != nil {
		return nil, fmt.Errorf("find people: %w", err)
	}
	return out, nil
}

// IdentityPerson implements storage.Store.
func (q *Queries) IdentityPerson(ctx context.Context, ch domain.Channel, userID string) (string, error) {
	var id string
	err := q.DB.QueryRow(ctx, `SELECT person_id FROM identities WHERE channel = $1 AND user_id = $2`, string(ch), userID).Scan(&id)
	if err != nil {
		return "", fmt.Errorf("identity %s: %w", ch, err)
	}
	return id, nil
}

// Identity implements storage.Store.
func (q *Queries) Identity(ctx context.Context, ch domain.Channel, userID string) (domain.Identity, error) {
	i := domain.Identity{Channel: ch, UserID: userID}
	var proof string
	var at time.Time
	err := q.DB.QueryRow(ctx, `SELECT chat_id, person_id, proof, linked_at FROM identities WHERE channel = $1 AND user_id = $2`,
		string(ch), userID).Scan(&i.ChatID, &i.PersonID, &proof, &at)
	if err != nil {
		return i, fmt.Errorf("identity %s: %w", ch, err)
	}
	i.Proof, i.LinkedAt = domain.Proof(proof), at.UTC()
	return i, nil
}

// Identities implements storage.Store.
func (q *Queries) Identities(ctx context.Context, personID string) ([]domain.Identity, error) {
	by := make(map[string][]domain.Identity, 1)
	err := q.Run(ctx, IdentitiesOfRead([]string{personID}, by))
	return by[personID], err
}

const identitiesSQL = `SELECT channel, user_id, chat_id, person_id, proof, linked_at FROM identities WHERE person_id = $1 ORDER BY channel, user_id`

// IdentitiesOfRead reads the chats of several people in one query, each
// person's into out; one person's is a statement of its own, which SQLite
// runs too (several: an array parameter, PostgreSQL only).
//
// Each person's chats by a LATERAL sub-query the planner cannot flatten
// (OFFSET 0), so index look-ups whatever the generic plan kept estimated:
// "person_id = ANY($1)" was planned once while identities was nearly
// empty, and then read the whole table at every call (≈ 400 µs a call
// with 5,000 chats linked, a tenth of PostgreSQL's statement time per
// update in the benchmark).
func IdentitiesOfRead(personIDs []string, out map[string][]domain.Identity) Read {
	r := Read{What: "list identities", SQL: `SELECT i.channel, i.user_id, i.chat_id, i.person_id, i.proof, i.linked_at
		FROM unnest($1::text[]) AS a (id)
		JOIN LATERAL (SELECT i.channel, i.user_id, i.chat_id, i.person_id, i.proof, i.linked_at
			FROM identities i WHERE i.person_id = a.id OFFSET 0) i ON TRUE
		ORDER BY i.person_id, i.channel, i.user_id`, Args: []any{personIDs},
		Scan: func(rows Rows) error {
			return scanIdentities(rows, func(i domain.Identity) { out[i.PersonID] = append(out[i.PersonID], i) })
		}}
	if len(personIDs) == 1 {
		r.SQL, r.Args = identitiesSQL, []any{personIDs[0]}
	}
	return r
}

// NoticeTargets reads the NoticeTarget of each of personIDs that exists,
// in one query: a substitute's invitation (to them and to whoever has
// their number) cost a state read and an identities read per person, four
// round trips where this is one.
func (q *Queries) NoticeTargets(ctx context.Context, personIDs []string) (map[string]storage.NoticeTarget, error) {
	out := make(map[string]storage.NoticeTarget, len(personIDs))
	if len(personIDs) == 0 {
		return out, nil
	}
	err := q.Run(ctx, q.NoticeTargetsRead(personIDs, out))
	if err != nil {
		return nil, err
	}
	return out, nil
}

// NoticeTargetsRead is NoticeTargets as a Read (personIDs not empty): each
// person's target goes in out.
func (q *Queries) NoticeTargetsRead(personIDs []string, out map[string]storage.NoticeTarget) Read {
	// A person named twice is read once (else their chats twice).
	personIDs = slices.Compact(slices.Sorted(slices.Values(personIDs)))
	const cols = `SELECT p.id, COALESCE(p.lang, ''), i.channel, i.user_id, i.chat_id, i.proof, i.linked_at `
	const order = ` ORDER BY p.id, i.channel, i.user_id`
	r := Read{What: "notice targets", Scan: func(rows Rows) error { return scanNoticeTargets(rows, out) }}
	if q.postgres() {
		// An array: one statement text for any count. Each person and
		// their chats by LATERAL sub-queries the planner cannot flatten
		// (LIMIT, OFFSET 0), so index look-ups whatever the plan kept
		// estimated: as a join, the generic plan (sized for 10 people)
		// hashed the whole identities table and scanned people at every
		// call (≈ 150 µs a call in the benchmark).
		r.SQL, r.Args = cols+`FROM unnest($1::text[]) AS a (id)
			JOIN LATERAL (SELECT p.id, p.lang FROM people p WHERE p.id = a.id LIMIT 1) p ON TRUE
			LEFT JOIN LATERAL (SELECT i.channel, i.user_id, i.chat_id, i.proof, i.linked_at
				FROM identities i WHERE i.person_id = p.id OFFSET 0) i ON TRUE`+order, []any{personIDs}
	} else {
		var in string
		in, r.Args = inList(personIDs)
		r.SQL = cols + `FROM people p LEFT JOIN identities i ON i.person_id = p.id WHERE p.id IN (` + in + `)` + order
	}
	return r
}

func scanNoticeTargets(rows Rows, out map[string]storage.NoticeTarget) error {
	defer rows.Close()
	for rows.Next() {
		var pid, lang string
		var ch, user, chat, proof *string
		var at *time.Time
		if err := rows.Scan(&pid, &lang, &ch, &user, &chat, &proof, &at); err != nil {
			return err
		}
		t := out[pid]
		if lang != "" {
			t.Lang = domain.ParseLang(lang)
		}
		if ch != nil {
			i := domain.Identity{Channel: domain.Channel(*ch), UserID: deref(user), ChatID: deref(chat), PersonID: pid, Proof: domain.Proof(deref(proof))}
			if at != nil {
				i.LinkedAt = at.UTC()
			}
			t.Links = append(t.Links, i)
		}
		out[pid] = t
	}
	return rows.Err()
}

// scanIdentities reads identity rows (channel, user_id, chat_id,
// person_id, proof, linked_at) and closes them.
func scanIdentities(rows Rows, each func(domain.Identity)) error {
	defer rows.Close()
	for rows.Next() {
		var i domain.Identity
		var ch, proof string
		if err := rows.Scan(&ch, &i.UserID, &i.ChatID, &i.PersonID, &proof, &i.LinkedAt); err != nil {
			return fmt.Errorf("scan identity: %w", err)
		}
		i.Channel, i.Proof, i.LinkedAt = domain.Channel(ch), domain.Proof(proof), i.LinkedAt.UTC()
		each(i)
	}
	return rows.Err()
}

// PersonState implements storage.Store, in one query: the language, the
// newest answer, and whether a channel refused delivery to them.
func (q *Queries) PersonState(ctx context.Context, personID string) (storage.PersonState, error) {
	var r stateRow
	answer := `LEFT JOIN rsvps r ON r.id = (SELECT MAX(id) FROM rsvps WHERE person_id = p.id AND event_id = $2)`
	if q.postgres() {
		// Not a join the planner may make a hash join of: see
		// identityStatesPG.
		answer = `LEFT JOIN LATERAL (` + latestAnswerPG("p.id", "$2") + `) r ON TRUE`
	}
	err := q.DB.QueryRow(ctx, `SELECT `+stateColumns+`
		FROM people p `+answer+`
		WHERE p.id = $1`, personID, q.EventID).Scan(r.targets()...)
	if errors.Is(err, ErrNoRows) {
		return storage.PersonState{}, nil
	}
	if err != nil {
		return storage.PersonState{}, fmt.Errorf("person state: %w", err)
	}
	return r.state(personID), nil
}

// IdentityState is Identity and the PersonState of its person in one query:
// the dispatcher's first look at a chat, one round trip instead of two.
// found reports whether the person exists (the state is theirs).
func (q *Queries) IdentityState(ctx context.Context, ch domain.Channel, userID string) (id domain.Identity, st storage.PersonState, found bool, err error) {
	id = domain.Identity{Channel: ch, UserID: userID}
	var proof string
	var at time.Time
	var r stateRow
	err = q.DB.QueryRow(ctx, `SELECT i.chat_id, i.person_id, i.proof, i.linked_at, p.id IS NOT NULL, `+stateColumns+`
		FROM identities i LEFT JOIN people p ON p.id = i.person_id
		LEFT JOIN rsvps r ON r.id = (SELECT MAX(id) FROM rsvps WHERE person_id = i.person_id AND event_id = $3)
		WHERE i.channel = $1 AND i.user_id = $2`, string(ch), userID, q.EventID).Scan(
		append([]any{&id.ChatID, &id.PersonID, &proof, &at, &found}, r.targets()...)...)
	if err != nil {
		return id, st, false, fmt.Errorf("identity %s: %w", ch, err)
	}
	id.Proof, id.LinkedAt = domain.Proof(proof), at.UTC()
	if found {
		st = r.state(id.PersonID)
	}
	return id, st, found, nil
}

// IdentityReq names one chat account for IdentityStates (and the
// candidate the update is about, if any).
type IdentityReq = storage.ChatLookup

// IdentityResult is IdentityState's answer for one account; Err wraps
// storage.ErrNotFound when the account is linked to nobody.
type IdentityResult = storage.ChatFacts

// ChatFacts is IdentityStates for one account.
func (q *Queries) ChatFacts(ctx context.Context, l storage.ChatLookup) (storage.ChatFacts, error) {
	res, err := q.IdentityStates(ctx, []IdentityReq{l})
	if err != nil {
		return storage.ChatFacts{}, err
	}
	return res[0], nil
}

// IdentityStates is IdentityState for several accounts in one query (the
// updates of different chats handled at the same moment), each with the
// person row and state of its candidate, or else of its linked person.
//
// On PostgreSQL the accounts go as arrays and each row is found by a
// LATERAL sub-query with LIMIT 1 (identityStatesPG): one statement text
// for any count, whose plan is index look-ups whatever the tables' sizes
// were when it was made (see identityStatesPG).
func (q *Queries) IdentityStates(ctx context.Context, reqs []IdentityReq) ([]IdentityResult, error) {
	out := make([]IdentityResult, len(reqs))
	if err := q.Run(ctx, q.IdentityStatesRead(reqs, out)); err != nil {
		return nil, err
	}
	return out, nil
}

// IdentityStatesRead is IdentityStates as a Read: reqs[i]'s answer goes in
// out[i].
func (q *Queries) IdentityStatesRead(reqs []IdentityReq, out []IdentityResult) Read {
	r := Read{What: "identities", Scan: func(rows Rows) error { return scanIdentityStates(rows, reqs, out) }}
	if q.postgres() {
		chans, users, cands := make([]string, len(reqs)), make([]string, len(reqs)), make([]string, len(reqs))
		for i, req := range reqs {
			chans[i], users[i], cands[i] = string(req.Channel), req.UserID, req.Candidate
		}
		r.SQL, r.Args = q.identityStatesPG(), []any{q.EventID, chans, users, cands}
	} else {
		var b strings.Builder
		args := []any{q.EventID}
		for i, req := range reqs {
			if i > 0 {
				b.WriteString(", ")
			}
			n := len(args)
			fmt.Fprintf(&b, "(CAST($%d AS INTEGER), CAST($%d AS TEXT), CAST($%d AS TEXT), CAST($%d AS TEXT))", n+1, n+2, n+3, n+4)
			args = append(args, i, string(req.Channel), req.UserID, req.Candidate)
		}
		r.SQL, r.Args = `WITH q (n, channel, user_id, cand) AS (VALUES `+b.String()+`)
		SELECT q.n, i.person_id IS NOT NULL, COALESCE(i.chat_id, ''), COALESCE(i.person_id, ''), COALESCE(i.proof, ''), i.linked_at, p.id IS NOT NULL,
			`+identityPersonColumns+`,
			`+stateColumns+`, CASE WHEN i.person_id IS NULL THEN '' ELSE `+q.factsVersionSQL("i")+` END
		FROM q LEFT JOIN identities i ON i.channel = q.channel AND i.user_id = q.user_id
		LEFT JOIN people p ON p.id = CASE WHEN q.cand <> '' THEN q.cand ELSE i.person_id END
		LEFT JOIN rsvps r ON r.id = (SELECT MAX(id) FROM rsvps WHERE person_id = p.id AND event_id = $1)`, args
	}
	return r
}

// scanIdentityStates reads IdentityStatesRead's rows into out.
func scanIdentityStates(rows Rows, reqs []IdentityReq, out []IdentityResult) error {
	defer rows.Close()
	seen := make([]bool, len(reqs))
	// One set of scan targets for all rows (every column is scanned into
	// each row), rather than a dozen escaping locals and target slices per
	// row: this runs for most updates.
	var t struct {
		n       int
		linked  bool
		res     IdentityResult
		proof   string
		at      *time.Time
		pr      personRow
		r       stateRow
		version string
	}
	id := &t.res.Identity
	targets := make([]any, 0, 8+11+9)
	targets = append(targets, &t.n, &t.linked, &id.ChatID, &id.PersonID, &t.proof, &t.at, &t.res.Found)
	targets = append(append(append(targets, t.pr.targets()...), t.r.targets()...), &t.version)
	for rows.Next() {
		t.res = IdentityResult{}
		if err := rows.Scan(targets...); err != nil {
			return err
		}
		n, res := t.n, &t.res
		if n < 0 || n >= len(reqs) {
			return fmt.Errorf("row %d of %d", n, len(reqs))
		}
		id.Channel, id.UserID, id.Proof = reqs[n].Channel, reqs[n].UserID, domain.Proof(t.proof)
		if t.at != nil {
			id.LinkedAt = t.at.UTC()
		}
		if !t.linked {
			res.Err = fmt.Errorf("identity %s: %w", id.Channel, ErrNoRows)
		}
		if res.Found {
			res.Person = t.pr.person()
			res.State = t.r.state(res.Person.ID)
		}
		if t.linked && res.Found && reqs[n].Candidate == "" {
			// One snapshot: the rows above are those of this version.
			res.Version = storage.FactsVersion{Person: res.Person.ID, V: t.version}
		}
		out[n], seen[n] = *res, true
	}
	for i, r := range reqs {
		if !seen[i] {
			out[i] = IdentityResult{Identity: domain.Identity{Channel: r.Channel, UserID: r.UserID},
				Err: fmt.Errorf("identity %s: %w", r.Channel, ErrNoRows)}
		}
	}
	return rows.Err()
}

// identityPersonColumns are personColumns of people p, ” where no row
// was found (left-joined).
const identityPersonColumns = `COALESCE(p.id, ''), COALESCE(p.full_name, ''), COALESCE(p.position, ''), COALESCE(p.agency_code, ''), COALESCE(p.phone, ''), COALESCE(p.email, ''),
	COALESCE(p.roles, ''), COALESCE(p.invite_token, ''), COALESCE(p.invite_code, ''), COALESCE(p.checkin_token, ''), COALESCE(p.substitute_for, '')`

// identityStatesPG is IdentityStates' statement on PostgreSQL: $1 the
// event, $2–$4 the accounts' channels, user ids and candidates. One text
// for any count of accounts (a VALUES list was a text per count, each
// prepared and planned on every connection it met: 37 texts in a
// 10,500-update run of the benchmark). Every row is looked up by a
// LATERAL sub-query with LIMIT 1, which the planner cannot flatten into
// a join, so the plan is nested index look-ups whatever it estimated:
// the connections keep the plan made at their first run
// (storage/postgres planCacheMode), often at start-up while identities
// and rsvps are empty and not yet analysed, and a flat join planned then
// — for 10 accounts, or a VALUES list of 2 or more — hash-joins
// sequential scans of both tables (EXPLAIN EXECUTE on a fresh database),
// kept until an analyse. The answer is read once: its newest row by the
// index (event_id, person_id, id), not its id by MAX and then the row.
//
// The facts version (factsVersionPG) is made of what the row already
// read: the link's xmin, the person's xmin and roles (p is the linked
// person whenever the version is used: no candidate) and the unreachable
// mark the state reads; only the newest answer of any event is a look-up
// of its own, and for staff and focal points the versions of their
// submissions (workVersionSQL). The mark is a scalar sub-query with LIMIT 1: as EXISTS the
// generic plan (sized for 10 accounts) hashed the whole unreachable table
// at every run — a sequential scan growing with every person who blocked
// the bot (500 marks: a third more CPU per look-up).
//
// The person's answer to the event and their mark are read inside the
// person's LATERAL sub-query (the answer as one whole rsvps row, its
// columns picked outside), not by LATERAL joins of their own: the same
// index steps, but a plan of three nodes fewer (two nested loops and a
// sub-query scan, each with an expression context to set up and free
// at every run; executor start-up was 16 % of the server's CPU in the
// benchmark's webhook run).
func (q *Queries) identityStatesPG() string {
	return `WITH q (n, channel, user_id, cand) AS (SELECT CAST(a.o AS INTEGER) - 1, a.c, a.u, a.d FROM unnest($2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS a (c, u, d, o))
		SELECT q.n, i.person_id IS NOT NULL, COALESCE(i.chat_id, ''), COALESCE(i.person_id, ''), COALESCE(i.proof, ''), i.linked_at, p.id IS NOT NULL,
			` + identityPersonColumns + `,
			COALESCE(p.lang, ''), ` + answerColumns("(p.r)") + `,
			p.marked IS NOT NULL,
			CASE WHEN i.person_id IS NULL THEN '' ELSE ` + factsVersionPG("i.xmin", personVersionPG("p"), "i.answer", "p.marked IS NOT NULL") + ` END
		FROM q
		LEFT JOIN LATERAL (SELECT i.chat_id, i.person_id, i.proof, i.linked_at, i.xmin, ` + newestAnswerIDPG("i.person_id") + ` AS answer
			FROM identities i WHERE i.channel = q.channel AND i.user_id = q.user_id LIMIT 1) i ON TRUE
		LEFT JOIN LATERAL (SELECT ` + personColumns + `, p.lang, p.xmin,
				(SELECT r FROM rsvps r WHERE r.person_id = p.id AND r.event_id = $1 ORDER BY r.id DESC LIMIT 1) AS r,
				(SELECT TRUE FROM unreachable u WHERE u.person_id = p.id LIMIT 1) AS marked
			FROM people p WHERE p.id = CASE WHEN q.cand <> '' THEN q.cand ELSE i.person_id END LIMIT 1) p ON TRUE`
}

// latestAnswerPG is a sub-query for the newest answer of person to
// event, the columns stateColumns reads of r: one backward step of the
// index (event_id, person_id, id).
func latestAnswerPG(person, event string) string {
	return `SELECT ` + answerColumns("r") + `
			FROM rsvps r WHERE r.person_id = ` + person + ` AND r.event_id = ` + event + ` ORDER BY r.id DESC LIMIT 1`
}

// answerColumns are the columns of an answer (rsvps row) r that the state
// reads (stateRow), r being a table alias or a row value.
func answerColumns(r string) string {
	return r + `.status, ` + r + `.sub_name, ` + r + `.sub_position, ` + r + `.sub_phone, ` + r + `.channel, ` + r + `.created_at, ` + r + `.recorded_by`
}

// stateColumns are a person's state as PersonState reads it, from people p
// (left-joined: lang may be NULL) and their newest answer r.
var stateColumns = `COALESCE(p.lang, ''), ` + answerColumns("r") + `,
	EXISTS (SELECT 1 FROM unreachable u WHERE u.person_id = p.id)`

// stateRow receives stateColumns.
type stateRow struct {
	lang                                       string
	status, subName, subPosition, subPhone, ch *string
	at                                         *time.Time
	by                                         *string
	unreachable                                bool
}

func (r *stateRow) targets() []any {
	return []any{&r.lang, &r.status, &r.subName, &r.subPosition, &r.subPhone, &r.ch, &r.at, &r.by, &r.unreachable}
}

func (r *stateRow) state(personID string) storage.PersonState {
	st := storage.PersonState{Unreachable: r.unreachable}
	if r.lang != "" {
		st.Lang = domain.ParseLang(r.lang)
	}
	if r.status == nil {
		return st
	}
	a := domain.RSVP{PersonID: personID, Status: domain.RSVPStatus(*r.status), Channel: domain.Channel(deref(r.ch)), By: deref(r.by)}
	if r.at != nil {
		a.At = r.at.UTC()
	}
	if a.Status == domain.RSVPSubstitute {
		a.Substitute = &domain.Substitute{Name: deref(r.subName), Position: deref(r.subPosition), Phone: deref(r.subPhone)}
	}
	st.RSVP = &a
	return st
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// RSVPHistory implements storage.Store: oldest first.
func (q *Queries) RSVPHistory(ctx context.Context, personID string) ([]domain.RSVP, error) {
	rows, err := q.DB.Query(ctx, rsvpSelect+` WHERE person_id = $1 AND event_id = $2 ORDER BY id`, personID, q.EventID)
	if err != nil {
		return nil, fmt.Errorf("answer history: %w", err)
	}
	list, err := scanRSVPs(rows)
	if err != nil {
		return nil, fmt.Errorf("answer history: %w", err)
	}
	return list, nil
}

// CurrentRSVPs implements storage.Store.
func (q *Queries) CurrentRSVPs(ctx context.Context) (map[string]domain.RSVP, error) {
	return q.EventRSVPs(ctx, q.EventID)
}

// EventRSVPs returns everyone's current answer to one event, keyed by
// person.
func (q *Queries) EventRSVPs(ctx context.Context, eventID string) (map[string]domain.RSVP, error) {
	rows, err := q.DB.Query(ctx, rsvpSelect+` WHERE id IN (SELECT MAX(id) FROM rsvps WHERE event_id = $1 GROUP BY person_id)`, eventID)
	if err != nil {
		return nil, fmt.Errorf("current answers: %w", err)
	}
	list, err := scanRSVPs(rows)
	if err != nil {
		return nil, fmt.Errorf("current answers: %w", err)
	}
	out := make(map[string]domain.RSVP, len(list))
	for _, r := range list {
		out[r.PersonID] = r
	}
	return out, nil
}

const rsvpSelect = `SELECT person_id, status, sub_name, sub_position, sub_phone, channel, created_at, recorded_by, event_id FROM rsvps`

func scanRSVPs(rows Rows) ([]domain.RSVP, error) {
	defer rows.Close()
	var out []domain.RSVP
	for rows.Next() {
		var r domain.RSVP
		var status, ch string
		var sub domain.Substitute
		if err := rows.Scan(&r.PersonID, &status, &sub.Name, &sub.Position, &sub.Phone, &ch, &r.At, &r.By, &r.EventID); err != nil {
			return nil, err
		}
		r.Status, r.Channel = domain.RSVPStatus(status), domain.Channel(ch)
		if r.Status == domain.RSVPSubstitute {
			r.Substitute = &sub
		}
		r.At = r.At.UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}

// Apply implements storage.Store.
func (q *Queries) Apply(ctx context.Context, key domain.UpdateKey, at time.Time, effects []domain.Effect) (bool, error) {
	if len(effects) == 0 {
		// Nothing but the update id to record: one statement, atomic by
		// itself, without a transaction's two extra round trips.
		n, err := q.DB.Exec(ctx, `INSERT INTO processed_updates (channel, update_id, processed_at) VALUES ($1, $2, $3)
			ON CONFLICT (channel, update_id) DO NOTHING`, string(key.Channel), key.UpdateID, at.UTC())
		if err != nil {
			return false, fmt.Errorf("record update: %w", err)
		}
		return n > 0, nil
	}
	if q.Pipe != nil {
		// The id, the effects and the commit in one round trip (more only
		// where an effect needs a result: a version check, a row count).
		// The id is inserted without ON CONFLICT: a replay — rare, after a
		// crash — fails on the key, stopping everything after it.
		err := q.Pipe(ctx, func(db DB) error {
			w := newWriter(db)
			if err := w.row(ctx, rowProcessed, "", string(key.Channel), key.UpdateID, at.UTC()); err != nil {
				return err
			}
			if err := applyEffects(ctx, w, key, at, effects, q.EventID, q.CampaignID); err != nil {
				return err
			}
			return w.flush(ctx)
		})
		switch {
		case errors.Is(err, ErrProcessed):
			return false, nil // applied before: a replay
		case err != nil:
			return false, err
		}
		return true, nil
	}
	applied := false
	err := q.Tx(ctx, func(db DB) error {
		n, err := db.Exec(ctx, `INSERT INTO processed_updates (channel, update_id, processed_at) VALUES ($1, $2, $3)
			ON CONFLICT (channel, update_id) DO NOTHING`, string(key.Channel), key.UpdateID, at.UTC())
		if err != nil {
			return fmt.Errorf("record update: %w", err)
		}
		if n == 0 {
			return nil // applied before: a replay
		}
		applied = true
		w := newWriter(db)
		if err := applyEffects(ctx, w, key, at, effects, q.EventID, q.CampaignID); err != nil {
			return err
		}
		return w.flush(ctx)
	})
	if err != nil {
		return false, err
	}
	return applied, nil
}

// applyEffects applies one update's effects in their order.
func applyEffects(ctx context.Context, db DB, key domain.UpdateKey, at time.Time, effects []domain.Effect, eventID, campaignID string) error {
	for _, e := range effects {
		// A stale effect (someone changed the item since the user saw it)
		// rolls the whole update back: the caller steps the flow again on
		// fresh facts and tells the user, rather than answer "sent" for
		// something that was not stored.
		if err := applyEffect(ctx, db, key, at, e, eventID, campaignID); err != nil {
			return err
		}
	}
	return nil
}

// applyEffect applies one effect; eventID is the event an answer without
// one of its own is for, campaignID the campaign of submissions.
func applyEffect(ctx context.Context, db DB, key domain.UpdateKey, at time.Time, e domain.Effect, eventID, campaignID string) error {
	switch e := e.(type) {
	case domain.LinkIdentity:
		return applyLink(ctx, db, at, e)
	case domain.UnlinkIdentity:
		n, err := db.Exec(ctx, `DELETE FROM identities WHERE channel = $1 AND user_id = $2 AND person_id = $3`,
			string(e.Channel), e.UserID, e.PersonID)
		if err != nil {
			return fmt.Errorf("unlink identity: %w", err)
		}
		if n > 0 {
			return insertAudit(ctx, db, at, e.By, "identity.unlink", e.PersonID+" "+string(e.Channel)+":"+e.UserID, e.From)
		}
	case domain.Audit:
		return insertAudit(ctx, db, at, e.PersonID, e.Action, e.Detail, e.Channel)
	case domain.SaveRSVP:
		r := e.RSVP
		if !r.Status.Valid() {
			return fmt.Errorf("save answer: invalid status %q", r.Status)
		}
		var sub domain.Substitute
		if r.Substitute != nil {
			sub = *r.Substitute
		}
		if r.EventID == "" {
			r.EventID = eventID
		}
		if err := writeRow(ctx, db, rowRSVP, "",
			r.PersonID, string(r.Status), sub.Name, sub.Position, sub.Phone, string(r.Channel), key.String(), at.UTC(), r.By, r.EventID); err != nil {
			return err
		}
		if err := saveSubstitute(ctx, db, r); err != nil {
			return fmt.Errorf("save answer: %w", err)
		}
	case domain.SetLanguage:
		return execLater(ctx, db, "save language", `UPDATE people SET lang = $1 WHERE id = $2`, string(e.Lang), e.PersonID)
	case domain.SaveSubmission:
		return applySubmission(ctx, db, at, e, cmp.Or(e.CampaignID, campaignID))
	case domain.ReviewSubmission:
		return applyReview(ctx, db, at, e, cmp.Or(e.CampaignID, campaignID))
	case domain.AskQuestion:
		return applyQuestion(ctx, db, at, e)
	case domain.CastVote:
		return applyVote(ctx, db, at, e)
	case domain.UpdateTask:
		return applyUpdateTask(ctx, db, at, e)
	case domain.SaveFeedback:
		return applyFeedback(ctx, db, at, e)
	default:
		return fmt.Errorf("apply: unknown effect %T", e)
	}
	return nil
}

// applyLink links a chat to a person. An enrolment link is used up here, in
// the same transaction, so two chats racing with one link cannot both get
// the verified proof. Relinking a chat to the same person never weakens its
// proof (a verified staff member who types their code again stays verified).
func applyLink(ctx context.Context, db DB, at time.Time, e domain.LinkIdentity) error {
	i := e.Identity
	proof := i.Proof
	if proof == "" {
		proof = domain.ProofCode
	}
	if e.Enrolment != "" {
		n, err := db.Exec(ctx, `UPDATE enrolments SET used_at = $1, used_by = $2
			WHERE token_hash = $3 AND person_id = $4 AND used_at IS NULL AND expires_at > $1`,
			consoleMS(at), string(i.Channel)+":"+i.UserID, e.Enrolment, i.PersonID)
		if err != nil {
			return fmt.Errorf("use enrolment: %w", err)
		}
		if n == 0 {
			proof = domain.ProofLink
		}
	}
	if err := writeRow(ctx, db, rowIdentity, string(i.Channel)+":"+i.UserID,
		string(i.Channel), i.UserID, i.ChatID, i.PersonID, at.UTC(), string(proof)); err != nil {
		return err
	}
	return insertAudit(ctx, db, at, i.PersonID, "identity.link", string(i.Channel)+":"+i.UserID+" ("+string(proof)+")", i.Channel)
}

func insertAudit(ctx context.Context, db DB, at time.Time, personID, action, detail string, ch domain.Channel) error {
	return writeRow(ctx, db, rowAudit, "",
		consoleMS(at), personID, action, detail, string(ch))
}

func joinRoles(rs []domain.Role) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r)
	}
	return strings.Join(s, ";")
}

func splitRoles(s string) []domain.Role {
	var out []domain.Role
	for _, r := range strings.Split(s, ";") {
		if r = strings.TrimSpace(r); r != "" {
			out = append(out, domain.Role(r))
		}
	}
	return out
}

// PruneProcessed forgets the ids of updates processed before before: long
// after any platform would redeliver them, they only take space.
func (q *Queries) PruneProcessed(ctx context.Context, before time.Time) (int64, error) {
	n, err := q.DB.Exec(ctx, `DELETE FROM processed_updates WHERE processed_at < $1`, before.UTC())
	if err != nil {
		return 0, fmt.Errorf("prune processed updates: %w", err)
	}
	return n, nil
}

// ApplyReq is one update's Apply, for ApplyBatch.
type ApplyReq struct {
	Key     domain.UpdateKey
	At      time.Time
	Effects []domain.Effect
}

// ApplyBatch applies the effects of several updates (of different chats,
// handled at the same moment) in one transaction: one statement records
// every update id, then each new update's effects run. It returns, per
// request, whether its effects were applied (false for a replay). Any
// error rolls the whole batch back; the caller then applies each update
// on its own (Apply), so that one stale effect (ErrConflict) does not fail
// the others.
//
// On a Pipeline (PostgreSQL) the whole transaction — begin, the ids, every
// effect's statements, commit — goes to the server in one round trip, more
// only where an effect needs a result before going on. The ids are then
// inserted without ON CONFLICT, assuming none is a replay; if one is, the
// batch is rolled back and run again the way that tells which (two round
// trips).
func (q *Queries) ApplyBatch(ctx context.Context, reqs []ApplyReq) ([]bool, error) {
	if q.Pipe != nil {
		applied, err := q.applyBatch(ctx, q.Pipe, reqs, true)
		if !errors.Is(err, ErrProcessed) {
			return applied, err
		}
		return q.applyBatch(ctx, q.Pipe, reqs, false)
	}
	return q.applyBatch(ctx, q.Tx, reqs, false)
}

// applyBatch is ApplyBatch in transaction tx; allNew: the ids are inserted
// without asking which were recorded before (a Pipeline's tx only).
func (q *Queries) applyBatch(ctx context.Context, tx Tx, reqs []ApplyReq, allNew bool) ([]bool, error) {
	applied := make([]bool, len(reqs))
	err := tx(ctx, func(db DB) error {
		w := newWriter(db)
		fresh := map[domain.UpdateKey]bool{}
		if allNew {
			// With the effects' rows (writes.go), or at once where each
			// row is its own statement.
			for _, r := range reqs {
				if err := w.row(ctx, rowProcessed, "", string(r.Key.Channel), r.Key.UpdateID, r.At.UTC()); err != nil {
					return err
				}
				fresh[r.Key] = true // or the insert fails: ErrProcessed
			}
		} else {
			var sb strings.Builder
			sb.WriteString(`INSERT INTO processed_updates (channel, update_id, processed_at) VALUES `)
			args := make([]any, 0, 3*len(reqs))
			for i, r := range reqs {
				if i > 0 {
					sb.WriteString(", ")
				}
				fmt.Fprintf(&sb, "($%d, $%d, $%d)", 3*i+1, 3*i+2, 3*i+3)
				args = append(args, string(r.Key.Channel), r.Key.UpdateID, r.At.UTC())
			}
			sb.WriteString(` ON CONFLICT (channel, update_id) DO NOTHING RETURNING channel, update_id`)
			rows, err := db.Query(ctx, sb.String(), args...)
			if err != nil {
				return fmt.Errorf("record updates: %w", err)
			}
			for rows.Next() {
				var ch string
				var k domain.UpdateKey
				if err := rows.Scan(&ch, &k.UpdateID); err != nil {
					rows.Close()
					return fmt.Errorf("record updates: %w", err)
				}
				k.Channel = domain.Channel(ch)
				fresh[k] = true
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return fmt.Errorf("record updates: %w", err)
			}
		}
		for i, r := range reqs {
			if !fresh[r.Key] {
				continue // applied before: a replay (or twice in this batch)
			}
			delete(fresh, r.Key)
			applied[i] = true
			if err := applyEffects(ctx, w, r.Key, r.At, r.Effects, q.EventID, q.CampaignID); err != nil {
				return err
			}
		}
		return w.flush(ctx)
	})
	if err != nil {
		return nil, err
	}
	return applied, nil
}
