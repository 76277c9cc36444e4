package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// The writes every update makes (its id, a link, an answer, the audit) are
// the same few kinds of row. Applying an update or a batch of them, the
// rows of each kind are gathered (writer) and written as one multi-row
// statement per kind. Before any other statement (one that reads, or
// writes something else) the gathered rows are written, so every
// statement sees the writes before it, as it would one at a time; the
// kinds are independent of each other (different tables, or people rows
// nothing else gathered reads), so writing each kind's rows together
// changes nothing but the count of statements.
//
// On PostgreSQL each kind's rows go as one array per column (unnest): one
// statement text for any count of rows. As multi-row VALUES, a text per
// count, each count was parsed and planned anew on every connection it
// reached — 70–150 µs of server CPU each time, up to 16 counts × 5 kinds ×
// 32 connections, against no measurable difference per run once prepared
// (BEGIN, an insert of 1, 4 or 8 processed ids, ROLLBACK: 26–45 µs
// either way). SQLite has no arrays: multi-row VALUES there. All the kinds
// in one statement (a data-modifying WITH) cost more than one statement
// per kind.

// rowKind is one kind of gathered row.
type rowKind int

const (
	rowProcessed rowKind = iota // processed_updates
	rowIdentity                 // identities, a link
	rowRSVP                     // rsvps
	rowWithdraw                 // people: a substitute no longer named
	rowAudit                    // audit
	rowKinds
)

// kindDef is how one kind is written: a row's statement, whose
// "($1, …, $width)" part repeats for more rows.
type kindDef struct {
	what  string // what an error is wrapped as
	width int    // columns (parameters) per row
	head  string // up to the rows
	tail  string // after them
	// list: the rows are a list of ids, "$1, $2, …" (an UPDATE … IN),
	// not VALUES tuples.
	list bool
	// pg is the statement on PostgreSQL, any count of rows: $1… are the
	// columns as arrays, of the element types cols names ('s' string:
	// text, 't' time.Time: timestamptz, 'i' int64: bigint).
	pg   string
	cols string
}

// pgArgs are the gathered rows' values as one typed array per column
// (kindDef.pg).
func (d *kindDef) pgArgs(args []any, rows int) []any {
	out := make([]any, len(d.cols))
	for c, t := range []byte(d.cols) {
		switch t {
		case 's':
			out[c] = column[string](args, len(d.cols), c, rows)
		case 't':
			out[c] = column[time.Time](args, len(d.cols), c, rows)
		case 'i':
			out[c] = column[int64](args, len(d.cols), c, rows)
		}
	}
	return out
}

// column is column c of rows rows of width values each.
func column[T any](args []any, width, c, rows int) []T {
	out := make([]T, rows)
	for r := range rows {
		out[r] = args[r*width+c].(T)
	}
	return out
}

// sql returns the statement writing n rows.
func (d *kindDef) sql(n int) string {
	var b strings.Builder
	b.WriteString(d.head)
	for r := range n {
		if r > 0 {
			b.WriteString(", ")
		}
		if !d.list {
			b.WriteString("(")
		}
		for c := range d.width {
			if c > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "$%d", r*d.width+c+1)
		}
		if !d.list {
			b.WriteString(")")
		}
	}
	b.WriteString(d.tail)
	return b.String()
}

// sqlFor is kinds[k].sql(n), made once.
func sqlFor(k rowKind, n int) string {
	key := int(k)<<16 | n
	if q, ok := sqlCache.Load(key); ok {
		return q.(string)
	}
	q := kinds[k].sql(n)
	sqlCache.Store(key, q)
	return q
}

var sqlCache sync.Map // int(kind)<<16 | rows → statement

// linkConflict keeps a verified proof when a chat is linked again to the
// same person.
const linkConflict = ` ON CONFLICT (channel, user_id) DO UPDATE SET chat_id = excluded.chat_id, person_id = excluded.person_id, linked_at = excluded.linked_at,
	proof = CASE WHEN identities.person_id = excluded.person_id AND identities.proof IN ('phone', 'enrol', 'demo')
		THEN identities.proof ELSE excluded.proof END`

var kinds = [rowKinds]kindDef{
	rowProcessed: {
		what: "record update", width: 3,
		head: `INSERT INTO processed_updates (channel, update_id, processed_at) VALUES `,
		pg: `INSERT INTO processed_updates (channel, update_id, processed_at)
			SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[])`,
		cols: "sst",
	},
	rowIdentity: {
		what: "link identity", width: 6,
		head: `INSERT INTO identities (channel, user_id, chat_id, person_id, linked_at, proof) VALUES `,
		tail: linkConflict,
		pg: `INSERT INTO identities (channel, user_id, chat_id, person_id, linked_at, proof)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::text[])` + linkConflict,
		cols: "sssst" + "s",
	},
	rowRSVP: {
		// The rows in order (unnest yields the arrays' elements in order):
		// their ids, which tell a person's newest answer, follow the
		// updates.
		what: "save answer", width: 10,
		head: `INSERT INTO rsvps (person_id, status, sub_name, sub_position, sub_phone, channel, update_key, created_at, recorded_by, event_id) VALUES `,
		pg: `INSERT INTO rsvps (person_id, status, sub_name, sub_position, sub_phone, channel, update_key, created_at, recorded_by, event_id)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::timestamptz[], $9::text[], $10::text[])`,
		cols: "sssssss" + "t" + "ss",
	},
	rowWithdraw: {
		// Nearly always no row, or one withdrawn already: roles <> ''
		// spares writing a new version of an unchanged row.
		what: "withdraw substitute", width: 1, list: true,
		head: `UPDATE people SET roles = '' WHERE roles <> '' AND id IN (`,
		tail: `)`,
		pg:   `UPDATE people SET roles = '' WHERE roles <> '' AND id = ANY($1::text[])`,
		cols: "s",
	},
	rowAudit: {
		what: "audit", width: 5,
		head: `INSERT INTO audit (at, person_id, action, detail, channel) VALUES `,
		pg: `INSERT INTO audit (at, person_id, action, detail, channel)
			SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[])`,
		cols: "issss",
	},
}

// gathered is one kind's pending rows.
type gathered struct {
	args []any // row after row
	rows int
	keys map[string]bool // identities: the chats linked, each once a statement
}

// writer is the DB an update's effects are applied through: it gathers
// rows by kind and writes them before any other statement and at the end
// (flush).
type writer struct {
	db    DB
	pg    bool // PostgreSQL: each kind's rows as arrays (kindDef.pg)
	kinds [rowKinds]gathered
}

func newWriter(db DB) *writer { return &writer{db: db, pg: onPostgres(db)} }

// row writes one row of kind k (kinds[k].width columns); key, for
// identities, is what one statement may hold once.
func (w *writer) row(ctx context.Context, k rowKind, key string, args ...any) error {
	g := &w.kinds[k]
	if key != "" && g.keys[key] {
		// ON CONFLICT DO UPDATE may not change one row twice in a
		// statement: what is gathered goes first.
		if err := w.flush(ctx); err != nil {
			return err
		}
	}
	g.args = append(g.args, args...)
	g.rows++
	if key != "" {
		if g.keys == nil {
			g.keys = map[string]bool{}
		}
		g.keys[key] = true
	}
	return nil
}

// flush writes the gathered rows: one statement per kind.
func (w *writer) flush(ctx context.Context) error {
	for k := range w.kinds {
		g := &w.kinds[k]
		if g.rows == 0 {
			continue
		}
		q, args := sqlFor(rowKind(k), g.rows), g.args
		if w.pg {
			q, args = kinds[k].pg, kinds[k].pgArgs(g.args, g.rows)
		}
		*g = gathered{}
		if err := execLater(ctx, w.db, kinds[k].what, q, args...); err != nil {
			return err
		}
	}
	return nil
}

// Exec implements DB: the gathered rows first.
func (w *writer) Exec(ctx context.Context, q string, args ...any) (int64, error) {
	if err := w.flush(ctx); err != nil {
		return 0, err
	}
	return w.db.Exec(ctx, q, args...)
}

// Query implements DB: the gathered rows first.
func (w *writer) Query(ctx context.Context, q string, args ...any) (Rows, error) {
	if err := w.flush(ctx); err != nil {
		return nil, err
	}
	return w.db.Query(ctx, q, args...)
}

// QueryRow implements DB: the gathered rows first.
func (w *writer) QueryRow(ctx context.Context, q string, args ...any) Row {
	if err := w.flush(ctx); err != nil {
		return errRow{err}
	}
	return w.db.QueryRow(ctx, q, args...)
}

// later is execLater through w: the gathered rows first.
func (w *writer) later(ctx context.Context, what, q string, args ...any) error {
	if err := w.flush(ctx); err != nil {
		return err
	}
	return execLater(ctx, w.db, what, q, args...)
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// writeRow writes one row of kind k: gathered when db is an update's
// writer, at once (or deferred on a Pipeline) otherwise.
func writeRow(ctx context.Context, db DB, k rowKind, key string, args ...any) error {
	if w, ok := db.(*writer); ok {
		return w.row(ctx, k, key, args...)
	}
	return execLater(ctx, db, kinds[k].what, sqlFor(k, 1), args...)
}
