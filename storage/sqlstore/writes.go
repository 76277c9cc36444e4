package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// The writes every update makes (its id, a link, an answer, the audit) are
// the same few kinds of row. Applying a batch, the rows of each kind are
// gathered (writer) and, on PostgreSQL, written as one statement per kind
// for the whole batch, the rows as arrays through unnest: one statement
// text whatever the number of rows, so pgx's prepared statement serves
// every batch. Before any other statement (one that reads, or writes
// something else) the gathered rows are written, so every statement sees
// the writes before it, as it would one at a time; the kinds are
// independent of each other (different tables, or people rows nothing
// else gathered reads), so writing each kind's rows together changes
// nothing but the count of statements. SQLite writes each row at once.
//
// All the kinds in one statement (a data-modifying WITH) was tried and
// measured: fewer statements, but more server CPU per row than one
// statement per kind (BenchmarkApply's server-cpu-µs/op).

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

// kindDef is how one kind is written: a row at a time (SQLite, and
// outside an update's writer, e.g. the console's audit) and many rows at
// once (PostgreSQL: one array per column).
type kindDef struct {
	what  string   // what an error is wrapped as
	types []string // PostgreSQL array element types, one per column
	one   string   // one row's statement, $1… in column order
	many  string   // the rows' statement, one array per column from $1
}

// unnest is SELECT * FROM unnest($1::t1[], $2::t2[], …).
func unnest(types []string) string {
	var b strings.Builder
	b.WriteString("SELECT * FROM unnest(")
	for i, t := range types {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "$%d::%s[]", i+1, t)
	}
	b.WriteString(")")
	return b.String()
}

// linkConflict keeps a verified proof when a chat is linked again to the
// same person.
const linkConflict = ` ON CONFLICT (channel, user_id) DO UPDATE SET chat_id = excluded.chat_id, person_id = excluded.person_id, linked_at = excluded.linked_at,
	proof = CASE WHEN identities.person_id = excluded.person_id AND identities.proof IN ('phone', 'enrol', 'demo')
		THEN identities.proof ELSE excluded.proof END`

var kinds = [rowKinds]kindDef{
	rowProcessed: {
		what:  "record update",
		types: []string{"text", "text", "timestamptz"},
		one:   `INSERT INTO processed_updates (channel, update_id, processed_at) VALUES ($1, $2, $3)`,
	},
	rowIdentity: {
		what:  "link identity",
		types: []string{"text", "text", "text", "text", "timestamptz", "text"},
		one:   `INSERT INTO identities (channel, user_id, chat_id, person_id, linked_at, proof) VALUES ($1, $2, $3, $4, $5, $6)` + linkConflict,
	},
	rowRSVP: {
		what:  "save answer",
		types: []string{"text", "text", "text", "text", "text", "text", "text", "timestamptz", "text", "text"},
		one: `INSERT INTO rsvps (person_id, status, sub_name, sub_position, sub_phone, channel, update_key, created_at, recorded_by, event_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
	},
	rowWithdraw: {
		what:  "withdraw substitute",
		types: []string{"text"},
		// Nearly always no row, or one withdrawn already: roles <> ''
		// spares writing a new version of an unchanged row.
		one:  `UPDATE people SET roles = '' WHERE id = $1 AND roles <> ''`,
		many: `UPDATE people SET roles = '' WHERE id = ANY($1::text[]) AND roles <> ''`,
	},
	rowAudit: {
		what:  "audit",
		types: []string{"bigint", "text", "text", "text", "text"},
		one:   `INSERT INTO audit (at, person_id, action, detail, channel) VALUES ($1, $2, $3, $4, $5)`,
	},
}

func init() {
	for k := range kinds {
		d := &kinds[k]
		if d.many == "" {
			// INSERT INTO t (cols) VALUES (…)[ ON CONFLICT …] → INSERT INTO
			// t (cols) SELECT * FROM unnest(…)[ ON CONFLICT …].
			head, rest, _ := strings.Cut(d.one, "VALUES (")
			_, tail, _ := strings.Cut(rest, ")")
			d.many = head + unnest(d.types) + tail
		}
	}
}

// column is one column's values of the gathered rows: a PostgreSQL array.
type column struct {
	s []string
	t []time.Time
	n []int64
}

func (c *column) add(v any) {
	switch v := v.(type) {
	case string:
		c.s = append(c.s, v)
	case time.Time:
		c.t = append(c.t, v)
	case int64:
		c.n = append(c.n, v)
	default:
		panic(fmt.Sprintf("sqlstore: gathered column of %T", v))
	}
}

func (c *column) value() any {
	switch {
	case c.t != nil:
		return c.t
	case c.n != nil:
		return c.n
	}
	return c.s
}

// gathered is one kind's pending rows.
type gathered struct {
	cols []column
	rows int
	keys map[string]bool // identities: the chats linked, each once a statement
}

// writer is the DB an update's effects are applied through: it gathers
// rows by kind (arrays on PostgreSQL) and writes them before any other
// statement and at the end (flush).
type writer struct {
	db     DB
	arrays bool // gather (PostgreSQL); false: each row at once
	kinds  [rowKinds]gathered
}

func newWriter(db DB, arrays bool) *writer { return &writer{db: db, arrays: arrays} }

// row writes one row of kind k (its columns in the order of kinds[k].one);
// key, for identities, is what one statement may hold once.
func (w *writer) row(ctx context.Context, k rowKind, key string, args ...any) error {
	d := &kinds[k]
	if !w.arrays {
		return execLater(ctx, w.db, d.what, d.one, args...)
	}
	g := &w.kinds[k]
	if key != "" && g.keys[key] {
		// ON CONFLICT DO UPDATE may not change one row twice in a
		// statement: what is gathered goes first.
		if err := w.flush(ctx); err != nil {
			return err
		}
	}
	if g.cols == nil {
		g.cols = make([]column, len(d.types))
	}
	for i, a := range args {
		g.cols[i].add(a)
	}
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
		args := make([]any, len(g.cols))
		for i := range g.cols {
			args[i] = g.cols[i].value()
		}
		*g = gathered{}
		if err := execLater(ctx, w.db, kinds[k].what, kinds[k].many, args...); err != nil {
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
	return execLater(ctx, db, kinds[k].what, kinds[k].one, args...)
}
