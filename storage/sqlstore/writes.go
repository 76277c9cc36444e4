package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"sync"
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
// Measured on PostgreSQL (server CPU per row, batches of 1–16): multi-row
// VALUES costs less than the same rows as arrays through unnest (one
// statement text for any count), and all the kinds in one statement (a
// data-modifying WITH) more than one statement per kind. A VALUES
// statement's text depends on its row count, so each count is prepared
// once per connection (at most applyMax × effects per update of them).

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
	},
	rowIdentity: {
		what: "link identity", width: 6,
		head: `INSERT INTO identities (channel, user_id, chat_id, person_id, linked_at, proof) VALUES `,
		tail: linkConflict,
	},
	rowRSVP: {
		what: "save answer", width: 10,
		head: `INSERT INTO rsvps (person_id, status, sub_name, sub_position, sub_phone, channel, update_key, created_at, recorded_by, event_id) VALUES `,
	},
	rowWithdraw: {
		// Nearly always no row, or one withdrawn already: roles <> ''
		// spares writing a new version of an unchanged row.
		what: "withdraw substitute", width: 1, list: true,
		head: `UPDATE people SET roles = '' WHERE roles <> '' AND id IN (`,
		tail: `)`,
	},
	rowAudit: {
		what: "audit", width: 5,
		head: `INSERT INTO audit (at, person_id, action, detail, channel) VALUES `,
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
	kinds [rowKinds]gathered
}

func newWriter(db DB) *writer { return &writer{db: db} }

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
