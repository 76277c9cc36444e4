package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/storage"
	"github.com/dieuphoi/dieuphoi/storage/sqlstore"
)

// Warm opens up to n of the pool's connections (the pool's size when n
// is 0) and runs an update's hot path once on each, in a transaction that
// is rolled back: a chat's look-up, an inbox append, and a link and an
// answer applied. A new server process pays for its first statements —
// loading the catalog entries of every table, index, type and foreign
// key they touch, parsing and planning them, pgx preparing each text —
// ≈ 30 ms of server CPU against ≈ 4 ms for the same statements once warm
// (TestWarmConnections measures it). Unwarmed, the first burst of updates
// after a start paid that on every connection it opened, all in the same
// second. Nothing is written: the transaction is rolled back (sequence
// values it drew are skipped), so its only trace is the connections'
// caches. Call it before serving.
func (s *Store) Warm(ctx context.Context, n int) error {
	if n <= 0 || n > int(s.pool.Config().MaxConns) {
		n = int(s.pool.Config().MaxConns)
	}
	var person string
	err := s.pool.QueryRow(ctx, `SELECT id FROM people ORDER BY id LIMIT 1`).Scan(&person)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("warm connections: %w", err)
	}
	// All n at once, so that each is a connection of its own.
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			c, err := s.pool.Acquire(ctx)
			if err != nil {
				errs[i] = err
				return
			}
			defer c.Release()
			errs[i] = s.warm(ctx, c.Conn(), person, fmt.Sprint(warmKey, "-", i))
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("warm connections: %w", err)
	}
	return nil
}

// warmKey marks the warm-up's rows (never committed).
const warmKey = "warm-up"

// warm runs the hot statements on c inside a transaction it rolls back.
// person, when set, is an existing person the link and answer name (the
// foreign keys must hold for the statements to run to their end). key is
// this connection's own update id and account: warm-ups sharing one waited
// for each other's rollback on its processed-update and link rows, so the
// 32 ran one after another.
func (s *Store) warm(ctx context.Context, c *pgx.Conn, person, key string) error {
	tx, err := c.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	q := s.Queries
	q.DB = conn{tx}
	q.Tx = func(ctx context.Context, fn func(sqlstore.DB) error) error { return fn(conn{tx}) }
	// The same batches as pipeTx sends, inside this transaction (begun:
	// neither BEGIN nor COMMIT is added).
	q.Pipe = func(ctx context.Context, fn func(sqlstore.DB) error) error {
		p := &pipe{c: c, begun: true}
		if err := fn(p); err != nil {
			return err
		}
		return p.flush(ctx)
	}
	user := key
	if _, err := q.ChatFacts(ctx, storage.ChatLookup{Channel: domain.Telegram, UserID: user, Candidate: person}); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("look-up: %w", err)
	}
	if person != "" { // else no one to link: the rest is warm at least
		at := time.Now()
		if _, err := q.ApplyBatch(ctx, []sqlstore.ApplyReq{{Key: domain.UpdateKey{Channel: domain.Telegram, UpdateID: key}, At: at,
			Effects: []domain.Effect{
				domain.LinkIdentity{Identity: domain.Identity{Channel: domain.Telegram, UserID: user, ChatID: user, PersonID: person, Proof: domain.ProofLink}},
				domain.SaveRSVP{RSVP: domain.RSVP{PersonID: person, Status: domain.RSVPAttend, Channel: domain.Telegram, At: at}},
			}}}); err != nil {
			return fmt.Errorf("apply: %w", err)
		}
	}
	// The append last: its lock, which other processes' appends wait
	// for, is held only until the rollback just after. Both texts of the
	// lock: an append notifies only when other processes must hear of it.
	local := []storage.InboxItem{{Key: "telegram:" + user, Part: 0, Chat: "telegram:" + user, Payload: []byte(`{}`),
		Channel: string(domain.Telegram), User: user, Created: time.Now(), Local: true}}
	notifying := s.PlanInboxAppend(user, []storage.InboxItem{{}})
	plan := s.PlanInboxAppend(user, local)
	for _, st := range []struct {
		sql  string
		args []any
	}{{notifying.LockSQL, notifying.LockArgs}, {plan.LockSQL, plan.LockArgs}, {plan.PrevSQL, plan.PrevArgs}, {plan.InsertSQL, plan.InsertArgs}} {
		if st.sql == "" {
			continue
		}
		rows, err := tx.Query(ctx, st.sql, st.args...)
		if err != nil {
			return fmt.Errorf("inbox append: %w", err)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("inbox append: %w", err)
		}
	}
	return nil
}
