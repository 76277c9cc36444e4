package postgres

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/internal/coalesce"
	"github.com/dieuphoi/dieuphoi/storage"
	"github.com/dieuphoi/dieuphoi/storage/sqlstore"
)

// The updates of different chats applied at the same moment share one
// transaction (sqlstore.ApplyBatch): one statement records their ids and
// one commit ends them, and all its statements go out together (pipe.go).
const (
	// Batches out at once (connections). A batch's rows cost one
	// statement per kind and the batch one commit (a WAL flush), so the
	// fewer batches the fewer statements and flushes: with 16 a worker
	// was nearly always free and took updates one at a time (1.3 updates
	// per batch in the benchmark's poll run); with 4, 2.0–4.1 per batch at
	// the fixed rate and 3.6–5.3 in the closed loop; with 2, 3.5–6.1 and
	// 6.1–8.5 (0.6 of the apply transactions per update; five runs each,
	// BenchmarkApplyBatchSize for what a transaction costs). With 1, in
	// the full-size closed loop, commits per update 0.65–0.82 → 0.51–0.71
	// and PostgreSQL's CPU per update −18 % by webhook (three A/B pairs,
	// look-ups at 1 too); a batch waits at most for one transaction
	// (milliseconds) to go, and the 500/s run's p99 stayed at 12–31 ms.
	applyWorkers = 1
	// Updates in one batch: one failing update makes all of them go again
	// one by one.
	applyMax = 16
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

// AppendInbox is sqlstore's, its two statements (the lock, the insert
// returning each row's chat's latest earlier item) sent at once: one round
// trip instead of a transaction's four. pgx runs a batch in one implicit
// transaction; each statement still takes its own snapshot, so the
// insert, after the lock, sees every append that went before.
func (s *Store) AppendInbox(ctx context.Context, by string, items []storage.InboxItem) (int, error) {
	if len(items) == 0 {
		return 0, nil
	}
	plan := s.PlanInboxAppend(by, items)
	b := &pgx.Batch{}
	b.Queue(plan.LockSQL, plan.LockArgs...)
	b.Queue(plan.InsertSQL, plan.InsertArgs...)
	prev := make(map[string]int64, len(items))
	ids := make(map[string]int64, len(items))
	before := make(map[string]int64, len(items))
	facts := make(map[string]storage.FactsVersion, len(items))
	err := func() error {
		br := s.pool.SendBatch(ctx, b)
		defer br.Close()
		if _, err := br.Exec(); err != nil {
			return err
		}
		rows, err := br.Query()
		if err != nil {
			return err
		}
		var key string
		var id, was int64
		var fv string
		if _, err := pgx.ForEachRow(rows, []any{&id, &key, &was, &fv}, func() error {
			ids[key], before[key], facts[key] = id, was, storage.ParseFactsVersion(fv)
			return nil
		}); err != nil {
			return err
		}
		return br.Close()
	}()
	if err != nil {
		return 0, fmt.Errorf("append %d updates to the inbox: %w", len(items), err)
	}
	sqlstore.PrevFromRows(items, prev, before)
	sqlstore.SetFacts(items, facts)
	return sqlstore.LinkInbox(items, prev, ids), nil
}

// ListenInbox calls wake at every append to the inbox by any process (the
// append's notification, sqlstore.InboxChannel) until ctx ends; listening
// reports whether notifications are coming (false while the connection is
// being made again). It holds a connection beside the pool's.
func (s *Store) ListenInbox(ctx context.Context, listening func(bool), wake func(by string)) {
	storage.KeepListening(ctx, listening, func() error { return s.listen(ctx, listening, wake) })
}

func (s *Store) listen(ctx context.Context, listening func(bool), wake func(by string)) error {
	// A connection of its own, not one of the pool's: a connection that
	// listened is never handed to a query, and one taken out of the pool
	// (hijacked) left a warmed connection's place to a new, cold one that
	// the pool opened while serving (seen in the benchmark's run).
	c, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer c.Close(context.Background())
	if _, err := c.Exec(ctx, `LISTEN `+sqlstore.InboxChannel); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	listening(true)
	wake("") // anything appended before LISTEN took effect
	for {
		n, err := c.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("listen: %w", err)
		}
		wake(n.Payload) // the appending process's worker
	}
}

// Who the chats of the updates handled at the same moment are is read in
// one query (sqlstore.IdentityStates). One look-up out at a time, as for
// the applies: each call costs the server ≈ 20 µs of its own (protocol,
// snapshot, executor start) besides its rows, and with four out a look-up
// nearly always found a worker free and went alone (0.32 calls for 0.60
// accounts per update in the quick closed loop; with two, 2.5 accounts a
// call by webhook).
const (
	identityWorkers = 1
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

// What is read after an update was committed — whose chats a notice goes
// to (so that of two chats linked to one person at the same moment at
// least one is told of the other), the substitutes an answer named (the
// dispatcher's copy of the people list) and whom their invitation goes to —
// is read in batches: the reads asked for at the same moment, of every
// kind, go as one pgx batch (one round trip), the ids of each kind in one
// statement. One batch out at a time: the notices go after their chat's
// reply, so waiting for one read costs no one a reply, and the next gathers
// meanwhile (by webhook 0.117 → 0.092 notice reads per update against two
// at a time; the three kinds apart cost 0.28 round trips per update).
const (
	afterWorkers = 1
	afterMax     = 64
)

// afterKind is what an afterReq reads.
type afterKind uint8

const (
	readLinks   afterKind = iota // a person's chats (Identities)
	readPeople                   // people by id (People)
	readTargets                  // notice targets (NoticeTargets)
)

type afterReq struct {
	kind afterKind
	ids  []string
}

// afterRes is what an afterReq asked for: its kind's field.
type afterRes struct {
	links   []domain.Identity
	people  []domain.Person
	targets map[string]storage.NoticeTarget
}

func newAfterReads(s *Store) *coalesce.Group[afterReq, afterRes] {
	return coalesce.New(afterWorkers, afterMax, func(ctx context.Context, reqs []afterReq) ([]afterRes, []error) {
		var ids [3][]string
		for _, r := range reqs {
			ids[r.kind] = append(ids[r.kind], r.ids...)
		}
		links := map[string][]domain.Identity{}
		var people []domain.Person
		targets := map[string]storage.NoticeTarget{}
		var reads []sqlstore.Read
		if l := ids[readLinks]; len(l) > 0 {
			reads = append(reads, sqlstore.IdentitiesOfRead(slices.Compact(slices.Sorted(slices.Values(l))), links))
		}
		if l := ids[readPeople]; len(l) > 0 {
			reads = append(reads, s.PeopleRead(slices.Compact(slices.Sorted(slices.Values(l))), &people))
		}
		if l := ids[readTargets]; len(l) > 0 {
			reads = append(reads, s.NoticeTargetsRead(l, targets))
		}
		err := s.runReads(ctx, reads)
		out := make([]afterRes, len(reqs))
		errs := make([]error, len(reqs))
		for i, r := range reqs {
			if errs[i] = err; err != nil {
				continue
			}
			// Each caller its own copies: two callers may ask for one
			// person.
			switch r.kind {
			case readLinks:
				out[i].links = slices.Clone(links[r.ids[0]])
			case readPeople:
				for _, p := range people {
					if slices.Contains(r.ids, p.ID) {
						out[i].people = append(out[i].people, p)
					}
				}
			case readTargets:
				out[i].targets = make(map[string]storage.NoticeTarget, len(r.ids))
				for _, id := range r.ids {
					if t, ok := targets[id]; ok {
						t.Links = slices.Clone(t.Links)
						out[i].targets[id] = t
					}
				}
			}
		}
		return out, errs
	})
}

// runReads runs reads in one round trip.
func (s *Store) runReads(ctx context.Context, reads []sqlstore.Read) error {
	if len(reads) == 1 {
		return s.Run(ctx, reads[0])
	}
	b := &pgx.Batch{QueuedQueries: make([]*pgx.QueuedQuery, 0, len(reads))}
	for _, r := range reads {
		b.Queue(r.SQL, r.Args...)
	}
	br := s.pool.SendBatch(ctx, b)
	defer br.Close()
	for _, r := range reads {
		rows, err := br.Query()
		if err == nil {
			err = r.Scan(rows)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", r.What, err)
		}
	}
	if err := br.Close(); err != nil {
		return fmt.Errorf("read after commit: %w", err)
	}
	return nil
}

// Identities is sqlstore's, in the next batch of reads.
func (s *Store) Identities(ctx context.Context, personID string) ([]domain.Identity, error) {
	if s.after == nil {
		return s.Queries.Identities(ctx, personID)
	}
	r, err := s.after.Do(ctx, afterReq{kind: readLinks, ids: []string{personID}})
	return r.links, err
}

// People is sqlstore's, in the next batch of reads.
func (s *Store) People(ctx context.Context, ids []string) ([]domain.Person, error) {
	if s.after == nil || len(ids) == 0 {
		return s.Queries.People(ctx, ids)
	}
	r, err := s.after.Do(ctx, afterReq{kind: readPeople, ids: ids})
	return r.people, err
}

// NoticeTargets is sqlstore's, in the next batch of reads.
func (s *Store) NoticeTargets(ctx context.Context, personIDs []string) (map[string]storage.NoticeTarget, error) {
	if s.after == nil || len(personIDs) == 0 {
		return s.Queries.NoticeTargets(ctx, personIDs)
	}
	r, err := s.after.Do(ctx, afterReq{kind: readTargets, ids: personIDs})
	return r.targets, err
}

// DeleteInbox removes handled items (sqlstore's statement) in a
// transaction committed without waiting for its WAL to reach the disk
// (synchronous_commit off for it alone: the setting and the deletion go in
// one round trip, one implicit transaction). A deletion lost in a crash
// of PostgreSQL — only one not yet flushed by the WAL writer (within
// 3 × wal_writer_delay) nor by any durable commit after it, since WAL is
// flushed in order — leaves handled updates in the inbox: they are read
// again and dropped by their update key, as after a process that died
// before deleting them (TestLostInboxDeletionSendsNothingTwice). Nothing
// in the deletion is a promise: the appends, the effects and the
// processed ids stay durable.
func (s *Store) DeleteInbox(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	b.Queue(asyncCommit)
	b.Queue(sqlstore.DeleteInboxSQL, ids)
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("delete %d handled updates from the inbox: %w", len(ids), err)
	}
	return nil
}

// asyncCommit makes the transaction it runs in commit without waiting for
// the WAL flush (set_config local to the transaction: no warning, unlike
// SET LOCAL outside a BEGIN).
const asyncCommit = `SELECT set_config('synchronous_commit', 'off', true)`
