package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dieuphoi/dieuphoi/storage/sqlstore"
)

// pipeTx is sqlstore's Pipe: a transaction on one connection whose
// statements are sent together as pgx batches (one pipeline, one Sync,
// one round trip each). BEGIN goes out with the first batch and COMMIT
// with the last, so an update whose effects need no result on the way
// (an identity, an answer, the audit) costs one round trip in all, where
// one statement at a time cost begin + each statement + commit. A
// transaction sent as one batch needs neither: the statements up to a
// batch's Sync are one implicit transaction, committed at the Sync or
// rolled back at the first failure. The statements are pgx's cached
// prepared statements (parsed once per connection).
func (s *Store) pipeTx(ctx context.Context, fn func(sqlstore.DB) error) error {
	pc, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	// The pool closes a connection released inside a transaction (a
	// rollback that failed), never handing it out again.
	defer pc.Release()
	p := &pipe{c: pc.Conn()}
	err = fn(p)
	if err == nil && p.begun {
		p.Defer("commit", "COMMIT")
	}
	if err == nil {
		err = p.flush(ctx)
	}
	if err != nil && !p.c.IsClosed() && p.c.PgConn().TxStatus() != 'I' {
		// A failed statement stopped the rest of its batch, COMMIT
		// included: the transaction is open (failed) until rolled back.
		if _, rerr := p.c.Exec(ctx, "ROLLBACK"); rerr != nil {
			return fmt.Errorf("%w (rollback: %v)", err, rerr)
		}
	}
	return err
}

// pipe implements sqlstore.Pipeline on one connection.
type pipe struct {
	c     *pgx.Conn
	batch *pgx.Batch // nil: nothing queued
	what  []string   // per queued statement, what its error is wrapped as
	// begun: BEGIN was sent (the transaction spans batches: COMMIT ends
	// it).
	begun bool
}

var _ sqlstore.Pipeline = (*pipe)(nil)

// Defer implements sqlstore.Pipeline.
func (p *pipe) Defer(what, q string, args ...any) {
	if p.batch == nil {
		p.batch = &pgx.Batch{}
	}
	p.batch.Queue(q, args...)
	p.what = append(p.what, what)
}

// send sends what is queued and reads the results of all of it but the
// last statement when last (the caller reads that one, then closes br).
func (p *pipe) send(ctx context.Context, last bool) (pgx.BatchResults, error) {
	if last && !p.begun {
		// More batches follow this one: the transaction must outlive
		// its Sync.
		b := &pgx.Batch{QueuedQueries: make([]*pgx.QueuedQuery, 0, len(p.batch.QueuedQueries)+1)}
		b.Queue("BEGIN")
		b.QueuedQueries = append(b.QueuedQueries, p.batch.QueuedQueries...)
		p.batch = b
		p.what = append([]string{"begin"}, p.what...)
		p.begun = true
	}
	what := p.what
	if last {
		what = what[:len(what)-1]
	}
	// The results read the batch sent: the next statements go into a
	// new one.
	br := p.c.SendBatch(ctx, p.batch)
	p.batch = nil
	defer func() { p.what = p.what[:0] }()
	for _, w := range what {
		if _, err := br.Exec(); err != nil {
			br.Close()
			return nil, wrapErr(w, err)
		}
	}
	return br, nil
}

// flush sends what is queued, if anything.
func (p *pipe) flush(ctx context.Context) error {
	if len(p.what) == 0 {
		return nil
	}
	br, err := p.send(ctx, false)
	if err != nil {
		return err
	}
	return br.Close()
}

// wrapErr wraps a deferred statement's error; a processed update id
// found recorded already is sqlstore.ErrProcessed.
func wrapErr(what string, err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == "processed_updates_pkey" {
		return fmt.Errorf("%s: %w: %w", what, sqlstore.ErrProcessed, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// Exec sends the queued statements and q, and returns q's row count.
func (p *pipe) Exec(ctx context.Context, q string, args ...any) (int64, error) {
	p.Defer("", q, args...)
	br, err := p.send(ctx, true)
	if err != nil {
		return 0, err
	}
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

// Query sends the queued statements and q; the rows are read before the
// next statement.
func (p *pipe) Query(ctx context.Context, q string, args ...any) (sqlstore.Rows, error) {
	p.Defer("", q, args...)
	br, err := p.send(ctx, true)
	if err != nil {
		return nil, err
	}
	r, err := br.Query()
	if err != nil {
		br.Close()
		return nil, err
	}
	return pipeRows{r, br}, nil
}

// QueryRow sends the queued statements and q.
func (p *pipe) QueryRow(ctx context.Context, q string, args ...any) sqlstore.Row {
	p.Defer("", q, args...)
	br, err := p.send(ctx, true)
	if err != nil {
		return errRow{err}
	}
	return pipeRow{br.QueryRow(), br}
}

type pipeRows struct {
	pgx.Rows
	br pgx.BatchResults
}

func (r pipeRows) Close() {
	r.Rows.Close()
	r.br.Close()
}

type pipeRow struct {
	r  pgx.Row
	br pgx.BatchResults
}

func (r pipeRow) Scan(dest ...any) error {
	err := r.r.Scan(dest...)
	if cerr := r.br.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return sqlstore.ErrNoRows
	}
	return err
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }
