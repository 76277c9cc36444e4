package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dieuphoi/dieuphoi/storage"
)

// The inbox's queries (bot/inbox): updates stored before they are
// acknowledged, partition leases with fencing tokens, and the live
// consumers. They are the same on PostgreSQL and SQLite.

// InboxChannel is the PostgreSQL notification channel every append
// notifies at its commit: the other processes' workers read at once
// instead of at their next poll.
const InboxChannel = "dieuphoi_inbox"

// inboxLock is the first statement of an append on PostgreSQL: one append
// at a time across processes, so that ids become visible in the order they
// are taken (a reader that saw id n never later finds a smaller id of the
// same chat committed behind it), and the insert after it sees every
// earlier append. The lock is held until the commit. It also turns
// sequential scans off for the rest of the append's transaction (local to
// it): the insert's plan, kept by the connection, is made under it, so
// its look-up of each chat's latest earlier item always goes down the
// index inbox (chat, id) — a plan made while the inbox was empty would
// otherwise scan the whole inbox for every row while it grew.
const inboxLock = `SELECT pg_advisory_xact_lock(7347110013), set_config('enable_seqscan', 'off', true)`

// inboxLockNotify is inboxLock notifying InboxChannel at the commit with
// the appending process's id ($1): the other processes' workers read at
// once; its own, which was handed what it could take, ignores it.
const inboxLockNotify = inboxLock + `, pg_notify('` + InboxChannel + `', $1)`

// InboxAppend is an append's statements, in one transaction: on
// PostgreSQL the lock (LockSQL), then the insert skipping keys already
// there (rows id, key, the chat's latest earlier item, facts); on SQLite
// the latest item of each chat of the batch already in the inbox (PrevSQL,
// rows chat, id), then the insert (rows id, key, 0, facts).
type InboxAppend struct {
	LockSQL    string
	LockArgs   []any
	PrevSQL    string
	PrevArgs   []any
	InsertSQL  string
	InsertArgs []any
}

// PlanInboxAppend returns the statements appending items for the worker
// by. On PostgreSQL they take arrays, so that their text, and so their
// prepared statement, is the same for every batch size; the append
// notifies unless every item is Local.
func (q *Queries) PlanInboxAppend(by string, items []storage.InboxItem) InboxAppend {
	var a InboxAppend
	if q.postgres() {
		keys := make([]string, len(items))
		itemParts := make([]int32, len(items))
		itemChats := make([]string, len(items))
		owners := make([]string, len(items))
		payloads := make([]string, len(items))
		created := make([]int64, len(items))
		channels := make([]string, len(items))
		users := make([]string, len(items))
		for i, it := range items {
			keys[i], itemParts[i], itemChats[i], owners[i] = it.Key, int32(it.Part), it.Chat, it.Owner
			payloads[i], created[i] = string(it.Payload), ms(it.Created)
			channels[i], users[i] = it.Channel, it.User
		}
		// The rows are the arrays' elements in order (generate_subscripts
		// counts up): ids are taken in it (the look-ups are scalar
		// subqueries, not joins that could reorder rows). Not unnest:
		// the planner sizes unnest by the array it is given, so a plan
		// made for the values at hand (1 row) always looked cheaper than
		// the prepared statement's generic one (100 rows) and the
		// statement was planned again at every append — a third of an
		// update's inbox CPU when updates arrive one by one.
		// generate_subscripts is sized the same whatever the array, so
		// the generic plan is kept after a few executions.
		// Each row's chat's latest earlier item comes back with the row:
		// the subquery reads the statement's snapshot, taken after the
		// lock (every earlier append is in it, the rows this statement
		// inserts are not). One statement instead of a look-up of its own
		// planned at every append; its plan stays on the index (inboxLock).
		a.InsertSQL = `INSERT INTO inbox AS n (key, part, chat, owner, payload, created_at, facts)
			SELECT ($1::text[])[s], ($2::integer[])[s], ($3::text[])[s], ($4::text[])[s], ($5::text[])[s], ($6::bigint[])[s],
				` + q.factsOfAccountSQL("($7::text[])[s]", "($8::text[])[s]") + `
			FROM generate_subscripts($1::text[], 1) AS s
			ON CONFLICT (key) DO NOTHING
			RETURNING n.id, n.key, COALESCE((SELECT MAX(p.id) FROM inbox p WHERE p.chat = n.chat), 0), n.facts`
		a.InsertArgs = []any{keys, itemParts, itemChats, owners, payloads, created, channels, users}
		a.LockSQL = inboxLock
		for _, it := range items {
			if !it.Local {
				a.LockSQL, a.LockArgs = inboxLockNotify, []any{by}
				break
			}
		}
		return a
	}
	chats := make([]string, 0, len(items))
	seen := make(map[string]bool, len(items))
	for _, it := range items {
		if !seen[it.Chat] {
			seen[it.Chat] = true
			chats = append(chats, it.Chat)
		}
	}
	var b strings.Builder
	b.WriteString(`SELECT chat, MAX(id) FROM inbox WHERE chat IN (`)
	for i, c := range chats {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "$%d", i+1)
		a.PrevArgs = append(a.PrevArgs, c)
	}
	b.WriteString(`) GROUP BY chat`)
	a.PrevSQL = b.String()
	b.Reset()
	b.WriteString(`INSERT INTO inbox (key, part, chat, owner, payload, created_at, facts) VALUES `)
	for i, it := range items {
		if i > 0 {
			b.WriteString(", ")
		}
		n := len(a.InsertArgs)
		ch, uid := fmt.Sprintf("$%d", n+7), fmt.Sprintf("$%d", n+8)
		fmt.Fprintf(&b, "($%d, $%d, $%d, $%d, $%d, $%d, %s)", n+1, n+2, n+3, n+4, n+5, n+6, q.factsOfAccountSQL(ch, uid))
		a.InsertArgs = append(a.InsertArgs, it.Key, it.Part, it.Chat, it.Owner, string(it.Payload), ms(it.Created), it.Channel, it.User)
	}
	b.WriteString(` ON CONFLICT (key) DO NOTHING RETURNING id, key, 0, facts`)
	a.InsertSQL = b.String()
	return a
}

// factsVersionSQL is, as SQL text, the facts version (storage.FactsVersion)
// of the person the identities row i links to: it changes with every
// change of the link, of the person's row (language included), of their
// answers and of their unreachable marks. PostgreSQL reads it from the rows
// themselves (factsVersionPG). SQLite keeps a counter per person bumped by
// triggers in the same transaction (fact_versions, migration 0020).
func (q *Queries) factsVersionSQL(i string) string {
	if q.postgres() {
		return factsVersionPG(i+".xmin", `(SELECT `+personVersionPG("p2")+` FROM people p2 WHERE p2.id = `+i+`.person_id)`,
			newestAnswerIDPG(i+".person_id"), `EXISTS (SELECT 1 FROM unreachable u2 WHERE u2.person_id = `+i+`.person_id)`)
	}
	return `CAST(COALESCE((SELECT fv.v FROM fact_versions fv WHERE fv.person_id = ` + i + `.person_id), 0) AS TEXT) ||
		COALESCE((SELECT ` + workVersionSQL("p3.roles", "p3.agency_code") + ` FROM people p3 WHERE p3.id = ` + i + `.person_id), '')`
}

// personVersionPG is the person's part of the facts version on
// PostgreSQL, from their people row p (an alias): its row version and the
// versions of what they work on. One text for the append and the look-up,
// so they agree.
func personVersionPG(p string) string {
	return p + `.xmin::text || ` + workVersionSQL(p+".roles", p+".agency_code")
}

// workVersionSQL is, as SQL text, the part of a facts version that
// versions what a person works on, "|review|agency"
// (storage.FactsVersion.Work), from their roles and agency (SQL
// expressions): for staff, the version of every submission (their review
// queue is read from them), for a focal point the version of their
// agency's submissions (of every campaign), each "" otherwise; "||" for
// anyone else. A version is the count of the rows and the sum of their
// versions: submissions are never deleted, an insert starts at version 1
// and every change adds 1 (sqlstore/indicators.go), so both grow with
// every write and equal versions mean the same rows. Read from the rows in
// the statement's snapshot, an agency's by the index submissions
// (agency_code) (migration 0023). The roles are matched as substrings: no
// role's name holds another's (domain.Role), and one matched wrongly would
// only cost a count.
func workVersionSQL(roles, agency string) string {
	return `CASE WHEN ` + roles + ` LIKE '%staff%' OR ` + roles + ` LIKE '%focal%' THEN
			'|' || CASE WHEN ` + roles + ` LIKE '%staff%' THEN
				(SELECT COUNT(*) || '.' || COALESCE(SUM(s.version), 0) FROM submissions s) ELSE '' END ||
			'|' || CASE WHEN ` + roles + ` LIKE '%focal%' THEN
				(SELECT COUNT(*) || '.' || COALESCE(SUM(s.version), 0) FROM submissions s WHERE s.agency_code = ` + agency + `) ELSE '' END
		ELSE '||' END`
}

// factsVersionPG is the facts version on PostgreSQL from its parts, SQL
// expressions: the link's row version (xmin: every change of a row writes
// a new one, by a new transaction), the person's — their row version and
// the versions of what they work on (workVersionSQL), as text; NULL: no
// such row —, the id of their newest answer to any event (answers are only
// ever inserted; NULL: none) and whether a channel marked them
// unreachable (what is cached). One text for both of its readers — the
// inbox append, which looks the parts up, and the chat look-up
// (identityStatesPG), which has the rows at hand — so they agree.
func factsVersionPG(linkXmin, person, answerID, unreachable string) string {
	return `(` + linkXmin + `::text || ':' || COALESCE(` + person + `, '-') || ':' ||
			COALESCE(` + answerID + `, 0)::text || ':' || CASE WHEN ` + unreachable + ` THEN 'u' ELSE 'r' END)`
}

// newestAnswerIDPG is a scalar sub-query for the id of person's newest
// answer to any event: one backward step of the index rsvps (person_id,
// id).
func newestAnswerIDPG(person string) string {
	return `(SELECT r2.id FROM rsvps r2 WHERE r2.person_id = ` + person + ` ORDER BY r2.id DESC LIMIT 1)`
}

// factsOfAccountSQL is the person the account (channel, user) is linked to
// and their facts version, "person/version" (” when linked to nobody; one
// look-up of the link, storage.ParseFactsVersion).
func (q *Queries) factsOfAccountSQL(channel, user string) string {
	return `COALESCE((SELECT i.person_id || '/' || ` + q.factsVersionSQL("i") + ` FROM identities i WHERE i.channel = ` + channel + ` AND i.user_id = ` + user + `), '')`
}

// LinkInbox sets the ID of each new item (0 for a key already there) and
// its Prev from prev (chat → latest id before the append; changed) and the
// batch's own earlier items, and returns how many were new.
func LinkInbox(items []storage.InboxItem, prev, ids map[string]int64) int {
	n := 0
	for i := range items {
		it := &items[i]
		it.ID, it.Prev = ids[it.Key], 0
		if it.ID == 0 {
			continue
		}
		// A key twice in one batch is inserted once: its second copy
		// stays 0.
		delete(ids, it.Key)
		n++
		it.Prev = prev[it.Chat]
		prev[it.Chat] = it.ID
	}
	return n
}

// AppendInbox stores items in one transaction, skipping those whose key
// is already there (a redelivery while the first copy waits), sets the ID
// and Prev of each new item (storage.InboxItem) and returns how many were
// new. by is the appending process's worker, named in the notification.
// storage/postgres sends the same statements in one round trip.
func (q *Queries) AppendInbox(ctx context.Context, by string, items []storage.InboxItem) (int, error) {
	if len(items) == 0 {
		return 0, nil
	}
	plan := q.PlanInboxAppend(by, items)
	prev := make(map[string]int64, len(items))
	ids := make(map[string]int64, len(items))
	before := make(map[string]int64, len(items)) // key → its chat's latest earlier item (PostgreSQL's insert)
	facts := make(map[string]storage.FactsVersion, len(items))
	err := q.Tx(ctx, func(db DB) error {
		if plan.LockSQL != "" {
			if _, err := db.Exec(ctx, plan.LockSQL, plan.LockArgs...); err != nil {
				return err
			}
		}
		// SQLite has one writer, and its transactions start by taking the
		// write lock (_txlock=immediate): the two statements see the same
		// inbox.
		if plan.PrevSQL != "" {
			if err := scanRows(db, ctx, plan.PrevSQL, plan.PrevArgs, func(r Rows) error {
				var chat string
				var id int64
				if err := r.Scan(&chat, &id); err != nil {
					return err
				}
				prev[chat] = id
				return nil
			}); err != nil {
				return err
			}
		}
		return scanRows(db, ctx, plan.InsertSQL, plan.InsertArgs, func(r Rows) error {
			var id, was int64
			var key string
			var fv string
			if err := r.Scan(&id, &key, &was, &fv); err != nil {
				return err
			}
			ids[key] = id
			before[key] = was
			facts[key] = storage.ParseFactsVersion(fv)
			return nil
		})
	})
	if err != nil {
		return 0, fmt.Errorf("append %d updates to the inbox: %w", len(items), err)
	}
	PrevFromRows(items, prev, before)
	SetFacts(items, facts)
	return LinkInbox(items, prev, ids), nil
}

// SetFacts gives each item the facts version its insert read (key →
// version); none for an item not inserted.
func SetFacts(items []storage.InboxItem, facts map[string]storage.FactsVersion) {
	for i := range items {
		items[i].Facts = facts[items[i].Key]
	}
}

// PrevFromRows adds to prev the latest earlier item of each chat that the
// insert's rows reported (before: key → id).
func PrevFromRows(items []storage.InboxItem, prev, before map[string]int64) {
	for _, it := range items {
		if b, ok := before[it.Key]; ok && b > prev[it.Chat] {
			prev[it.Chat] = b
		}
	}
}

func scanRows(db DB, ctx context.Context, q string, args []any, row func(Rows) error) error {
	rows, err := db.Query(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := row(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// ReadInbox returns, oldest first, up to limit items after id after that
// holder may handle at now: those of the partitions it leases (with the
// lease's fence), those pinned to it, and those pinned to a process no
// longer alive in a partition it leases.
func (q *Queries) ReadInbox(ctx context.Context, holder string, after int64, now time.Time, limit int) ([]storage.InboxItem, error) {
	rows, err := q.DB.Query(ctx, `SELECT i.id, i.key, i.part, i.chat, i.owner, i.payload, i.created_at, COALESCE(l.fence, 0), i.facts
		FROM inbox i LEFT JOIN inbox_leases l ON l.part = i.part AND l.holder = $1 AND l.expires_at > $2
		WHERE i.id > $3 AND (i.owner = $1 OR (l.part IS NOT NULL AND (i.owner = ''
			OR NOT EXISTS (SELECT 1 FROM inbox_workers w WHERE w.holder = i.owner AND w.expires_at > $2))))
		ORDER BY i.id LIMIT $4`, holder, ms(now), after, limit)
	if err != nil {
		return nil, fmt.Errorf("read the inbox: %w", err)
	}
	defer rows.Close()
	var out []storage.InboxItem
	for rows.Next() {
		var it storage.InboxItem
		var payload, facts string
		var created int64
		if err := rows.Scan(&it.ID, &it.Key, &it.Part, &it.Chat, &it.Owner, &payload, &created, &it.Fence, &facts); err != nil {
			return nil, fmt.Errorf("read the inbox: %w", err)
		}
		if it.Owner == holder {
			it.Fence = 0
		}
		it.Payload, it.Created, it.Facts = []byte(payload), fromMS(created), storage.ParseFactsVersion(facts)
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the inbox: %w", err)
	}
	return out, nil
}

// DeleteInboxSQL deletes the handled items of ids ($1) on PostgreSQL.
const DeleteInboxSQL = `DELETE FROM inbox WHERE id = ANY($1::bigint[])`

// DeleteInbox removes handled items.
func (q *Queries) DeleteInbox(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	if q.postgres() {
		// One statement text for any count: prepared once per connection.
		// A list of literals was a new text, so a new prepared statement
		// (an extra round trip to parse and plan it), at every deletion.
		if _, err := q.DB.Exec(ctx, DeleteInboxSQL, ids); err != nil {
			return fmt.Errorf("delete %d handled updates from the inbox: %w", len(ids), err)
		}
		return nil
	}
	var b strings.Builder
	b.WriteString(`DELETE FROM inbox WHERE id IN (`)
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		// Integers from our own reads: no placeholder needed, and none of
		// SQLite's limit on their number.
		b.WriteString(strconv.FormatInt(id, 10))
	}
	b.WriteByte(')')
	if _, err := q.DB.Exec(ctx, b.String()); err != nil {
		return fmt.Errorf("delete %d handled updates from the inbox: %w", len(ids), err)
	}
	return nil
}

// InboxHeartbeat records holder as alive until now+ttl, forgets processes
// dead for long, and returns how many are alive (holder included).
func (q *Queries) InboxHeartbeat(ctx context.Context, holder string, now time.Time, ttl time.Duration) (int, error) {
	var live int
	err := q.Tx(ctx, func(db DB) error {
		if _, err := db.Exec(ctx, `INSERT INTO inbox_workers (holder, expires_at) VALUES ($1, $2)
			ON CONFLICT (holder) DO UPDATE SET expires_at = excluded.expires_at`, holder, ms(now.Add(ttl))); err != nil {
			return err
		}
		if _, err := db.Exec(ctx, `DELETE FROM inbox_workers WHERE expires_at < $1`, ms(now.Add(-24*time.Hour))); err != nil {
			return err
		}
		return db.QueryRow(ctx, `SELECT COUNT(*) FROM inbox_workers WHERE expires_at > $1`, ms(now)).Scan(&live)
	})
	if err != nil {
		return 0, fmt.Errorf("inbox heartbeat: %w", err)
	}
	return live, nil
}

// InboxLeases returns every partition lease, live or not.
func (q *Queries) InboxLeases(ctx context.Context) ([]storage.InboxLease, error) {
	rows, err := q.DB.Query(ctx, `SELECT part, holder, fence, expires_at FROM inbox_leases ORDER BY part`)
	if err != nil {
		return nil, fmt.Errorf("read inbox leases: %w", err)
	}
	return scanInboxLeases(rows)
}

func scanInboxLeases(rows Rows) ([]storage.InboxLease, error) {
	defer rows.Close()
	var out []storage.InboxLease
	for rows.Next() {
		var l storage.InboxLease
		var exp int64
		if err := rows.Scan(&l.Part, &l.Holder, &l.Fence, &exp); err != nil {
			return nil, fmt.Errorf("read inbox leases: %w", err)
		}
		l.Expires = fromMS(exp)
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read inbox leases: %w", err)
	}
	return out, nil
}

// AcquireInboxPart takes partition part for holder until now+ttl when it is
// free or its lease ran out, and returns the new fencing token: it grows
// with every take, so a holder whose lease lapsed can tell.
func (q *Queries) AcquireInboxPart(ctx context.Context, part int, holder string, now time.Time, ttl time.Duration) (int64, bool, error) {
	until := ms(now.Add(ttl))
	n, err := q.DB.Exec(ctx, `INSERT INTO inbox_leases (part, holder, fence, expires_at) VALUES ($1, $2, 1, $3)
		ON CONFLICT (part) DO NOTHING`, part, holder, until)
	if err != nil {
		return 0, false, fmt.Errorf("inbox partition %d: %w", part, err)
	}
	if n == 1 {
		return 1, true, nil
	}
	var fence int64
	err = q.DB.QueryRow(ctx, `UPDATE inbox_leases SET fence = fence + 1, holder = $2, expires_at = $3
		WHERE part = $1 AND expires_at <= $4 RETURNING fence`, part, holder, until, ms(now)).Scan(&fence)
	if errors.Is(err, ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("inbox partition %d: %w", part, err)
	}
	return fence, true, nil
}

// RenewInboxParts extends holder's leases that have not run out to
// now+ttl and returns them. A lease that ran out is not renewed even when
// nobody took it: it is taken again, with a new fence.
func (q *Queries) RenewInboxParts(ctx context.Context, holder string, now time.Time, ttl time.Duration) ([]storage.InboxLease, error) {
	rows, err := q.DB.Query(ctx, `UPDATE inbox_leases SET expires_at = $2 WHERE holder = $1 AND expires_at > $3
		RETURNING part, holder, fence, expires_at`, holder, ms(now.Add(ttl)), ms(now))
	if err != nil {
		return nil, fmt.Errorf("renew inbox leases: %w", err)
	}
	return scanInboxLeases(rows)
}

// ReleaseInboxPart gives partition part up when holder has it, so that
// another process takes it at once.
func (q *Queries) ReleaseInboxPart(ctx context.Context, part int, holder string) error {
	if _, err := q.DB.Exec(ctx, `UPDATE inbox_leases SET expires_at = 0 WHERE part = $1 AND holder = $2`, part, holder); err != nil {
		return fmt.Errorf("release inbox partition %d: %w", part, err)
	}
	return nil
}

// LeaveInbox releases all of holder's partitions and removes it from the
// live consumers (a clean shutdown).
func (q *Queries) LeaveInbox(ctx context.Context, holder string) error {
	return q.Tx(ctx, func(db DB) error {
		if _, err := db.Exec(ctx, `UPDATE inbox_leases SET expires_at = 0 WHERE holder = $1`, holder); err != nil {
			return fmt.Errorf("leave the inbox: %w", err)
		}
		if _, err := db.Exec(ctx, `DELETE FROM inbox_workers WHERE holder = $1`, holder); err != nil {
			return fmt.Errorf("leave the inbox: %w", err)
		}
		return nil
	})
}

// InboxDepth returns how many updates wait in the inbox and when the oldest
// arrived.
func (q *Queries) InboxDepth(ctx context.Context) (int, time.Time, error) {
	var n int
	var oldest int64
	if err := q.DB.QueryRow(ctx, `SELECT COUNT(*), COALESCE(MIN(created_at), 0) FROM inbox`).Scan(&n, &oldest); err != nil {
		return 0, time.Time{}, fmt.Errorf("inbox depth: %w", err)
	}
	return n, fromMS(oldest), nil
}
