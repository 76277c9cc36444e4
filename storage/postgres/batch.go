package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/internal/coalesce"
	"github.com/dieuphoi/dieuphoi/storage"
	"github.com/dieuphoi/dieuphoi/storage/sqlstore"
)

// The updates of different chats applied at the same moment share one
// transaction (sqlstore.ApplyBatch): one statement records their ids and
// one commit ends them, instead of a transaction's three round trips each.
const (
	applyWorkers = 16 // batches out at once (connections)
	applyMax     = 16 // updates in one batch: its statements run one after another
)

func newApplier(q *sqlstore.Queries) *coalesce.Group[sqlstore.ApplyReq, bool] {
	return coalesce.New(applyWorkers, applyMax, func(ctx context.Context, reqs []sqlstore.ApplyReq) ([]bool, []error) {
		errs := make([]error, len(reqs))
		if len(reqs) > 1 {
			applied, err := q.ApplyBatch(ctx, reqs)
			if err == nil {
				return applied, errs
			}
			// Something in the batch failed (a stale effect, a lock
			// conflict) and nothing was applied: each on its own, so that
			// only the update at fault gets the error.
		}
		applied := make([]bool, len(reqs))
		for i, r := range reqs {
			applied[i], errs[i] = q.Apply(ctx, r.Key, r.At, r.Effects)
		}
		return applied, errs
	})
}

// Apply implements storage.Store: in the next batch of updates.
func (s *Store) Apply(ctx context.Context, key domain.UpdateKey, at time.Time, effects []domain.Effect) (bool, error) {
	if s.applies == nil {
		return s.Queries.Apply(ctx, key, at, effects)
	}
	return s.applies.Do(ctx, sqlstore.ApplyReq{Key: key, At: at, Effects: effects})
}

// ListenInbox calls wake at every append to the inbox by any process (the
// append's notification, sqlstore.InboxChannel) until ctx ends; listening
// reports whether notifications are coming (false while the connection is
// being made again). It holds one connection of the pool.
func (s *Store) ListenInbox(ctx context.Context, listening func(bool), wake func()) {
	for attempt := 0; ctx.Err() == nil; attempt++ {
		err := s.listen(ctx, listening, wake)
		listening(false)
		if ctx.Err() != nil {
			return
		}
		slog.Warn("inbox notifications lost; polling until listening again", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(min(time.Duration(attempt+1)*time.Second, 30*time.Second)):
		}
	}
}

func (s *Store) listen(ctx context.Context, listening func(bool), wake func()) error {
	pc, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	// Taken out of the pool: a connection that listened is closed, never
	// handed to a query.
	c := pc.Hijack()
	defer c.Close(context.Background())
	if _, err := c.Exec(ctx, `LISTEN `+sqlstore.InboxChannel); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	listening(true)
	wake() // anything appended before LISTEN took effect
	for {
		if _, err := c.WaitForNotification(ctx); err != nil {
			return fmt.Errorf("listen: %w", err)
		}
		wake()
	}
}

// Who the chats of the updates handled at the same moment are is read in
// one query (sqlstore.IdentityStates).
const (
	identityWorkers = 4
	identityMax     = 128
)

func newIdentities(q *sqlstore.Queries) *coalesce.Group[sqlstore.IdentityReq, sqlstore.IdentityResult] {
	return coalesce.New(identityWorkers, identityMax, func(ctx context.Context, reqs []sqlstore.IdentityReq) ([]sqlstore.IdentityResult, []error) {
		errs := make([]error, len(reqs))
		res, err := q.IdentityStates(ctx, reqs)
		if err != nil {
			for i := range errs {
				errs[i] = err
			}
		}
		return res, errs
	})
}

// IdentityState is sqlstore's, in the next batch of look-ups.
func (s *Store) IdentityState(ctx context.Context, ch domain.Channel, userID string) (domain.Identity, storage.PersonState, bool, error) {
	if s.identities == nil {
		return s.Queries.IdentityState(ctx, ch, userID)
	}
	r, err := s.identities.Do(ctx, sqlstore.IdentityReq{Channel: ch, UserID: userID})
	if err == nil {
		err = r.Err
	}
	return r.Identity, r.State, r.Found, err
}

// ChatFacts is sqlstore's, in the next batch of look-ups.
func (s *Store) ChatFacts(ctx context.Context, l storage.ChatLookup) (storage.ChatFacts, error) {
	if s.identities == nil {
		return s.Queries.ChatFacts(ctx, l)
	}
	return s.identities.Do(ctx, l)
}
