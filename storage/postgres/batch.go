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

// The reads of the updates handled at the same moment go to PostgreSQL
// together: one pgx batch (one round trip) carries every kind asked for,
// each kind's requests in one statement.
//   - Who the chats are (sqlstore.IdentityStates), read in the turn before
//     the step.
//   - What is read after a commit: whose chats a notice goes to (so that of
//     two chats linked to one person at the same moment at least one is
//     told of the other), the substitutes an answer named (the dispatcher's
//     copy of the people list) and whom their invitation goes to.
//
// One batch out at a time, as for the applies: each round trip costs the
// server ≈ 20 µs of its own (protocol, snapshot, executor start) besides
// its rows, and with four look-ups out one nearly always found a worker
// free and went alone (0.32 calls for 0.60 accounts per update in the quick
// closed loop; with two, 2.5 accounts a call by webhook). The reads after a
// commit, one kind per round trip, cost 0.28 round trips per update by
// webhook; in one batch, PostgreSQL's commits per update fell 0.55–0.58 →
// 0.42–0.45, and with the look-ups in the same lane to 0.34–0.35.
const (
	readWorkers = 1
	readMax     = 128
)

// readKind is what a readReq reads.
type readKind uint8

const (
	readChat    readKind = iota // who a chat is (IdentityState, ChatFacts)
	readLinks                   // a person's chats (Identities)
	readPeople                  // people by id (People)
	readTargets                 // notice targets (NoticeTargets)
	readKinds
)

type readReq struct {
	kind readKind
	chat sqlstore.IdentityReq // readChat
	ids  []string             // the others
}

// readRes is what a readReq asked for: its kind's field.
type readRes struct {
	chat    sqlstore.IdentityResult
	links   []domain.Identity
	people  []domain.Person
	targets map[string]storage.NoticeTarget
}

func newReads(s *Store) *coalesce.Group[readReq, readRes] {
	return coalesce.New(readWorkers, readMax, func(ctx context.Context, reqs []readReq) ([]readRes, []error) {
		var ids [readKinds][]string
		var chats []sqlstore.IdentityReq
		for _, r := range reqs {
			if r.kind == readChat {
				chats = append(chats, r.chat)
			}
			ids[r.kind] = append(ids[r.kind], r.ids...)
		}
		chatRes := make([]sqlstore.IdentityResult, len(chats))
		links := map[string][]domain.Identity{}
		var people []domain.Person
		targets := map[string]storage.NoticeTarget{}
		// Each kind asked for is one read; at[k] is kind k's.
		var reads []sqlstore.Read
		var at [readKinds]int
		add := func(k readKind, r sqlstore.Read) { at[k] = len(reads); reads = append(reads, r) }
		if len(chats) > 0 {
			add(readChat, s.IdentityStatesRead(chats, chatRes))
		}
		if l := ids[readLinks]; len(l) > 0 {
			add(readLinks, sqlstore.IdentitiesOfRead(slices.Compact(slices.Sorted(slices.Values(l))), links))
		}
		if l := ids[readPeople]; len(l) > 0 {
			add(readPeople, s.PeopleRead(slices.Compact(slices.Sorted(slices.Values(l))), &people))
		}
		if l := ids[readTargets]; len(l) > 0 {
			add(readTargets, s.NoticeTargetsRead(l, targets))
		}
		errs := s.runReads(ctx, reads)
		out := make([]readRes, len(reqs))
		rerrs := make([]error, len(reqs))
		n := 0 // the next chat's answer
		for i, r := range reqs {
			if rerrs[i] = errs[at[r.kind]]; rerrs[i] != nil {
				continue
			}
			// Each caller its own copies: two callers may ask for one
			// person.
			switch r.kind {
			case readChat:
				out[i].chat = chatRes[n]
				n++
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
		return out, rerrs
	})
}

// runReads runs reads in one round trip and returns each one's error. A
// read that fails fails alone: the reads after it in the batch (which
// PostgreSQL then skips) are run again on their own; those before it were
// read in full.
func (s *Store) runReads(ctx context.Context, reads []sqlstore.Read) []error {
	errs := make([]error, len(reads))
	if len(reads) == 1 {
		errs[0] = s.Run(ctx, reads[0])
		return errs
	}
	b := &pgx.Batch{QueuedQueries: make([]*pgx.QueuedQuery, 0, len(reads))}
	for _, r := range reads {
		b.Queue(r.SQL, r.Args...)
	}
	br := s.pool.SendBatch(ctx, b)
	failed := len(reads) // the first that failed
	for i, r := range reads {
		rows, err := br.Query()
		if err == nil {
			err = r.Scan(rows)
		}
		if err != nil {
			errs[i], failed = fmt.Errorf("%s: %w", r.What, err), i
			break
		}
	}
	// An error closing the batch after every read was taken in full
	// concerns none of them (the failed one has its own).
	_ = br.Close()
	for i := failed + 1; i < len(reads); i++ {
		errs[i] = s.Run(ctx, reads[i])
	}
	return errs
}

// IdentityState is sqlstore's, in the next batch of reads.
func (s *Store) IdentityState(ctx context.Context, ch domain.Channel, userID string) (domain.Identity, storage.PersonState, bool, error) {
	if s.reads == nil {
		return s.Queries.IdentityState(ctx, ch, userID)
	}
	res, err := s.reads.Do(ctx, readReq{kind: readChat, chat: sqlstore.IdentityReq{Channel: ch, UserID: userID}})
	r := res.chat
	if err == nil {
		err = r.Err
	}
	return r.Identity, r.State, r.Found, err
}

// ChatFacts is sqlstore's, in the next batch of reads.
func (s *Store) ChatFacts(ctx context.Context, l storage.ChatLookup) (storage.ChatFacts, error) {
	if s.reads == nil {
		return s.Queries.ChatFacts(ctx, l)
	}
	res, err := s.reads.Do(ctx, readReq{kind: readChat, chat: l})
	return res.chat, err
}

// Identities is sqlstore's, in the next batch of reads.
func (s *Store) Identities(ctx context.Context, personID string) ([]domain.Identity, error) {
	if s.reads == nil {
		return s.Queries.Identities(ctx, personID)
	}
	r, err := s.reads.Do(ctx, readReq{kind: readLinks, ids: []string{personID}})
	return r.links, err
}

// People is sqlstore's, in the next batch of reads.
func (s *Store) People(ctx context.Context, ids []string) ([]domain.Person, error) {
	if s.reads == nil || len(ids) == 0 {
		return s.Queries.People(ctx, ids)
	}
	r, err := s.reads.Do(ctx, readReq{kind: readPeople, ids: ids})
	return r.people, err
}

// NoticeTargets is sqlstore's, in the next batch of reads.
func (s *Store) NoticeTargets(ctx context.Context, personIDs []string) (map[string]storage.NoticeTarget, error) {
	if s.reads == nil || len(personIDs) == 0 {
		return s.Queries.NoticeTargets(ctx, personIDs)
	}
	r, err := s.reads.Do(ctx, readReq{kind: readTargets, ids: personIDs})
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
