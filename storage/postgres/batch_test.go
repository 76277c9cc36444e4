package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/internal/testenv"
	"github.com/dieuphoi/dieuphoi/storage"
	"github.com/dieuphoi/dieuphoi/storage/postgres"
	"github.com/dieuphoi/dieuphoi/storage/sqlstore"
	"github.com/dieuphoi/dieuphoi/storage/storagetest"
)

// Updates applied together share one transaction, yet each gets its own
// answer: a replay is not applied again, and one stale effect fails only
// its own update.
func TestApplyBatch(t *testing.T) {
	ctx := context.Background()
	s := open(t, testenv.PostgresURL(t))
	if err := s.SyncDirectory(ctx, storagetest.Agencies(), storagetest.People()); err != nil {
		t.Fatalf("sync: %v", err)
	}
	at := time.Date(2024, 7, 25, 9, 0, 0, 0, time.UTC)
	key := func(id string) domain.UpdateKey { return domain.UpdateKey{Channel: domain.Telegram, UpdateID: id} }
	lang := func(p string, l domain.Lang) []domain.Effect {
		return []domain.Effect{domain.SetLanguage{PersonID: p, Lang: l}}
	}
	if _, err := s.Apply(ctx, key("1"), at, lang("DB001", domain.English)); err != nil {
		t.Fatalf("apply: %v", err)
	}

	t.Run("one transaction, per-update results", func(t *testing.T) {
		applied, err := s.ApplyBatch(ctx, []sqlstore.ApplyReq{
			{Key: key("1"), At: at, Effects: lang("DB001", domain.Vietnamese)}, // a replay
			{Key: key("2"), At: at, Effects: lang("DB002", domain.English)},
			{Key: key("3"), At: at},
			{Key: key("3"), At: at}, // the same update twice in one batch
		})
		if err != nil {
			t.Fatalf("ApplyBatch: %v", err)
		}
		if want := []bool{false, true, true, false}; fmt.Sprint(applied) != fmt.Sprint(want) {
			t.Fatalf("applied = %v, want %v", applied, want)
		}
		for p, want := range map[string]domain.Lang{"DB001": domain.English, "DB002": domain.English} {
			st, err := s.PersonState(ctx, p)
			if err != nil || st.Lang != want {
				t.Errorf("%s: lang %q, %v; want %q (a replay changes nothing)", p, st.Lang, err, want)
			}
		}
	})

	// The batch's statements go to the server together (sqlstore.Pipeline):
	// a failure anywhere in them rolls back every update of the batch,
	// update ids included, and says which kind of statement failed.
	t.Run("a failure rolls back the whole batch", func(t *testing.T) {
		link := func(user, p string) domain.Effect {
			return domain.LinkIdentity{Identity: domain.Identity{Channel: domain.Telegram, UserID: user, ChatID: user, PersonID: p, Proof: domain.ProofCode}}
		}
		answer := func(p string) domain.Effect {
			return domain.SaveRSVP{RSVP: domain.RSVP{PersonID: p, Status: domain.RSVPAttend, Channel: domain.Telegram, At: at}}
		}
		stale := domain.SaveSubmission{Submission: domain.Submission{Indicator: "none", Agency: "STC"}, Action: "submit", ExpectVersion: 99}
		cases := []struct {
			name string
			bad  []domain.Effect
			want func(error) bool
		}{
			{"a stale effect between others", []domain.Effect{answer("DB003"), stale, answer("DB003")},
				func(err error) bool { return errors.Is(err, storage.ErrConflict) }},
			{"a statement failing at commit (unknown person)", []domain.Effect{answer("DB003"), answer("NOBODY")},
				func(err error) bool { return err != nil && strings.Contains(err.Error(), "save answer") }},
		}
		for i, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				k := func(n int) domain.UpdateKey { return key(fmt.Sprintf("fail-%d-%d", i, n)) }
				reqs := []sqlstore.ApplyReq{
					{Key: k(1), At: at, Effects: []domain.Effect{link(fmt.Sprint(700+i), "DB001"), answer("DB001")}},
					{Key: k(2), At: at, Effects: c.bad},
					{Key: k(3), At: at, Effects: lang("DB002", domain.Vietnamese)},
				}
				applied, err := s.ApplyBatch(ctx, reqs)
				if !c.want(err) || applied != nil {
					t.Fatalf("ApplyBatch = %v, %v", applied, err)
				}
				if _, err := s.IdentityPerson(ctx, domain.Telegram, fmt.Sprint(700+i)); !errors.Is(err, storage.ErrNotFound) {
					t.Errorf("a rolled-back batch linked a chat: %v", err)
				}
				for _, p := range []string{"DB001", "DB003"} {
					if h, err := s.RSVPHistory(ctx, p); err != nil || len(h) != 0 {
						t.Errorf("%s: answers %+v, %v; want none", p, h, err)
					}
				}
				if st, err := s.PersonState(ctx, "DB002"); err != nil || st.Lang != domain.English {
					t.Errorf("DB002: lang %q, %v; want English still", st.Lang, err)
				}
				// No id was recorded: each is applied on its own now, the
				// bad one failing alone.
				for n := 1; n <= 3; n++ {
					applied, err := s.Apply(ctx, k(n), at, reqs[n-1].Effects)
					if n == 2 {
						if !c.want(err) {
							t.Errorf("update 2 alone: %v", err)
						}
						continue
					}
					if err != nil || !applied {
						t.Errorf("update %d alone: %v, %v; want applied", n, applied, err)
					}
				}
				if h, err := s.RSVPHistory(ctx, "DB001"); err != nil || len(h) != 1 {
					t.Errorf("DB001: answers %+v, %v; want one", h, err)
				}
				// Reset for the next case.
				if _, err := s.Apply(ctx, k(4), at, lang("DB002", domain.English)); err != nil {
					t.Fatal(err)
				}
				if _, err := s.Pool().Exec(ctx, `DELETE FROM rsvps`); err != nil {
					t.Fatal(err)
				}
			})
		}
		// Nothing was left open on the pool's connections: more applies
		// than connections, each in its own transaction, all fine.
		for n := range 40 {
			if _, err := s.Apply(ctx, key(fmt.Sprint("after-", n)), at, lang("DB003", domain.English)); err != nil {
				t.Fatalf("apply %d after the failures: %v", n, err)
			}
		}
	})

	t.Run("a stale effect fails its own update only", func(t *testing.T) {
		bad := []domain.Effect{domain.SaveSubmission{Submission: domain.Submission{Indicator: "none", Agency: "STC"}, Action: "submit", ExpectVersion: 99}}
		var wg sync.WaitGroup
		errs := make([]error, 20)
		for i := range errs {
			wg.Go(func() {
				eff := lang("DB003", domain.English)
				if i == 7 {
					eff = bad
				}
				_, errs[i] = s.Apply(ctx, key(fmt.Sprint(100+i)), at, eff)
			})
		}
		wg.Wait()
		for i, err := range errs {
			if (i == 7) != (err != nil) {
				t.Errorf("update %d: %v", i, err)
			}
		}
		if !errors.Is(errs[7], storage.ErrConflict) {
			t.Logf("stale update: %v", errs[7])
		}
		for i := range errs {
			applied, err := s.Apply(ctx, key(fmt.Sprint(100+i)), at, nil)
			if err != nil || applied != (i == 7) {
				t.Errorf("update %d again: applied %v, %v; want recorded only when it was applied", i, applied, err)
			}
		}
	})
}

// Look-ups of who a chat is, made at the same moment, share one query and
// each gets its own answer.
func TestIdentityStateBatched(t *testing.T) {
	ctx := context.Background()
	s := open(t, testenv.PostgresURL(t))
	if err := s.SyncDirectory(ctx, storagetest.Agencies(), storagetest.People()); err != nil {
		t.Fatalf("sync: %v", err)
	}
	at := time.Date(2024, 7, 25, 9, 0, 0, 0, time.UTC)
	people := []string{"DB001", "DB002", "DB003"}
	for i, p := range people {
		link := domain.LinkIdentity{Identity: domain.Identity{Channel: domain.Telegram, UserID: fmt.Sprint(500 + i), ChatID: fmt.Sprint(500 + i), PersonID: p, Proof: domain.ProofCode}}
		eff := []domain.Effect{link}
		if p == "DB002" {
			eff = append(eff, domain.SetLanguage{PersonID: p, Lang: domain.English})
		}
		if _, err := s.Apply(ctx, domain.UpdateKey{Channel: domain.Telegram, UpdateID: "l" + p}, at, eff); err != nil {
			t.Fatalf("link %s: %v", p, err)
		}
	}
	var wg sync.WaitGroup
	for round := range 50 {
		for i := range 4 { // 503 is linked to nobody
			wg.Go(func() {
				user := fmt.Sprint(500 + i)
				id, st, found, err := s.IdentityState(ctx, domain.Telegram, user)
				if i == 3 {
					if !errors.Is(err, storage.ErrNotFound) || found {
						t.Errorf("round %d: unlinked %s: %v, %v; want ErrNotFound", round, user, found, err)
					}
					return
				}
				wantLang := domain.Lang("")
				if people[i] == "DB002" {
					wantLang = domain.English
				}
				if err != nil || !found || id.PersonID != people[i] || id.ChatID != user || id.Proof != domain.ProofCode || st.Lang != wantLang {
					t.Errorf("round %d: %s = %+v %+v %v %v; want %s", round, user, id, st, found, err, people[i])
				}
			})
		}
	}
	wg.Wait()
}

// BenchmarkApply compares an update's transaction sent statement by
// statement (Pipe unset: a plain transaction, BEGIN and each statement
// its own round trip) with the pipelined one, on the RSVP's two writing
// steps: a link (identity + audit) and an answer (answer + substitute
// withdrawal). Run the sub-benchmarks interleaved (-count) on a shared
// machine.
//
//	go test -run '^$' -bench Apply -count 3 ./storage/postgres/
func BenchmarkApply(b *testing.B) {
	ctx := context.Background()
	s := openWithPeople(b)
	pipe := s.Pipe
	db := s.Pool().Config().ConnConfig.Database
	at := time.Date(2024, 7, 25, 9, 0, 0, 0, time.UTC)
	var n atomic.Int64
	for _, c := range []struct {
		name      string
		pipelined bool
		parallel  int // goroutines per CPU applying at once (0: one)
	}{{"one by one", false, 0}, {"pipelined", true, 0}, {"one by one, parallel", false, 8}, {"pipelined, parallel", true, 8}} {
		b.Run(c.name, func(b *testing.B) {
			s.Pipe = nil
			if c.pipelined {
				s.Pipe = pipe
			}
			defer func() { s.Pipe = pipe }()
			cpu0 := testenv.ProcessCPU()
			calls0, ms0, stats := serverStats(ctx, db)
			scpu0 := serverCPU(ctx, db)
			step := func(n int64) {
				user := fmt.Sprint("bench-", n)
				if _, err := s.Apply(ctx, domain.UpdateKey{Channel: domain.Telegram, UpdateID: user + "a"}, at, []domain.Effect{
					domain.LinkIdentity{Identity: domain.Identity{Channel: domain.Telegram, UserID: user, ChatID: user, PersonID: "DB001", Proof: domain.ProofLink}},
				}); err != nil {
					b.Error(err)
				}
				if _, err := s.Apply(ctx, domain.UpdateKey{Channel: domain.Telegram, UpdateID: user + "b"}, at, []domain.Effect{
					domain.SaveRSVP{RSVP: domain.RSVP{PersonID: "DB001", Status: domain.RSVPAttend, Channel: domain.Telegram, At: at}},
				}); err != nil {
					b.Error(err)
				}
			}
			if c.parallel > 0 {
				b.SetParallelism(c.parallel)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						step(n.Add(1))
					}
				})
			} else {
				for b.Loop() {
					step(n.Add(1))
				}
			}
			// The process's CPU (this client's share, what the bot pays),
			// which the machine's load changes far less than the wall time.
			b.ReportMetric(float64(testenv.ProcessCPU()-cpu0)/float64(b.N), "cpu-ns/op")
			// The server's side, where it keeps pg_stat_statements:
			// statements (nested ones, the foreign key checks, included
			// when it tracks all) and their execution time.
			if calls, ms, ok := serverStats(ctx, db); ok && stats {
				b.ReportMetric((calls-calls0)/float64(b.N), "stmts/op")
				b.ReportMetric((ms-ms0)*1e3/float64(b.N), "server-µs/op")
			}
			reportServerCPU(b, serverCPU(ctx, db), scpu0)
		})
	}
}

// statements counts the statements a store sends (batched or not).
type statements struct {
	mu    sync.Mutex
	sqls  []string
	trips int // batches and lone statements sent
}

func (c *statements) add(sql string, trip bool) {
	c.mu.Lock()
	c.sqls = append(c.sqls, sql)
	if trip {
		c.trips++
	}
	c.mu.Unlock()
}

// take returns the statements sent since the last take, and in how many
// round trips.
func (c *statements) take() ([]string, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out, trips := c.sqls, c.trips
	c.sqls, c.trips = nil, 0
	return out, trips
}

func (c *statements) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	c.add(d.SQL, true)
	return ctx
}
func (c *statements) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (c *statements) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	c.mu.Lock()
	c.trips++
	c.mu.Unlock()
	return ctx
}
func (c *statements) TraceBatchQuery(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	c.add(d.SQL, false)
}
func (c *statements) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// The rows an update batch writes go to PostgreSQL as one statement per
// kind (ids, links, answers, substitute withdrawals, audit) for the whole
// batch, whatever the number of updates, in one round trip without BEGIN
// and COMMIT; a statement of another kind only splits the rows gathered

// openTraced opens a store on its own database, with the example
// directory, that counts the statements it sends.
func openTraced(t *testing.T) (*postgres.Store, *statements) {
	t.Helper()
	c := new(statements)
	s, err := postgres.Open(context.Background(), testenv.PostgresURL(t), postgres.WithTracer(c))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.SyncDirectory(context.Background(), storagetest.Agencies(), storagetest.People()); err != nil {
		t.Fatalf("sync: %v", err)
	}
	return s, c
}

// before it from those after.
func TestApplyStatements(t *testing.T) {
	ctx := context.Background()
	s, c := openTraced(t)
	at := time.Date(2024, 7, 25, 9, 0, 0, 0, time.UTC)
	people := []string{"DB001", "DB002", "DB003"}
	rsvp := func(n int) []domain.Effect {
		p := people[n%3]
		return []domain.Effect{
			domain.LinkIdentity{Identity: domain.Identity{Channel: domain.Telegram, UserID: fmt.Sprint("s", n), ChatID: fmt.Sprint("s", n), PersonID: p, Proof: domain.ProofLink}},
			domain.SaveRSVP{RSVP: domain.RSVP{PersonID: p, Status: domain.RSVPAttend, Channel: domain.Telegram, At: at}},
			domain.Audit{PersonID: p, Action: "test", Channel: domain.Telegram},
		}
	}
	key := func(n int) domain.UpdateKey {
		return domain.UpdateKey{Channel: domain.Telegram, UpdateID: fmt.Sprint("st", n)}
	}
	_, _ = c.take()
	if applied, err := s.Apply(ctx, key(0), at, rsvp(0)); err != nil || !applied {
		t.Fatalf("apply: %v, %v", applied, err)
	}
	// Each of the five kinds once: the id, the link, the answer, the
	// substitute withdrawal, the audit.
	const kinds = 5
	if got, trips := c.take(); trips != 1 || len(got) != kinds || !strings.HasPrefix(got[0], "INSERT INTO processed_updates") {
		t.Errorf("one update: %d statements in %d round trips, want %d in one:\n%s", len(got), trips, kinds, strings.Join(got, "\n"))
	}
	for _, size := range []int{2, 16} {
		var reqs []sqlstore.ApplyReq
		for n := range size {
			reqs = append(reqs, sqlstore.ApplyReq{Key: key(100*size + n), At: at, Effects: rsvp(n)})
		}
		applied, err := s.ApplyBatch(ctx, reqs)
		if err != nil || len(applied) != size {
			t.Fatalf("batch of %d: %v, %v", size, applied, err)
		}
		if got, trips := c.take(); trips != 1 || len(got) != kinds {
			t.Errorf("batch of %d: %d statements in %d round trips, want %d in one:\n%s", size, len(got), trips, kinds, strings.Join(got, "\n"))
		}
	}
	// A language (its own statement) in the middle: the rows before it,
	// it, the rows after it — still one round trip.
	applied, err := s.ApplyBatch(ctx, []sqlstore.ApplyReq{
		{Key: key(1000), At: at, Effects: rsvp(0)},
		{Key: key(1001), At: at, Effects: []domain.Effect{domain.SetLanguage{PersonID: "DB002", Lang: domain.English}}},
		{Key: key(1002), At: at, Effects: rsvp(1)},
	})
	if err != nil || fmt.Sprint(applied) != "[true true true]" {
		t.Fatalf("mixed batch: %v, %v", applied, err)
	}
	// The ids (all three updates') and the first update's rows, the
	// language, the third update's rows.
	if got, trips := c.take(); trips != 1 || len(got) != 2*kinds || !strings.HasPrefix(got[kinds], "UPDATE people SET lang") {
		t.Errorf("mixed batch: %d statements in %d round trips, want %d in one:\n%s", len(got), trips, 2*kinds, strings.Join(got, "\n"))
	}
	// The histories are what one update after another would write.
	for _, p := range people {
		h, err := s.RSVPHistory(ctx, p)
		if want := map[string]int{"DB001": 1 + 1 + 6 + 1, "DB002": 1 + 5 + 1, "DB003": 5}[p]; err != nil || len(h) != want {
			t.Errorf("%s: %d answers, %v; want %d", p, len(h), err, want)
		}
	}
}

// serverStats reads the statements run in database db and their time
// (ms) from pg_stat_statements; ok is false where the server has none.
func serverStats(ctx context.Context, db string) (calls, ms float64, ok bool) {
	c, err := pgx.Connect(ctx, os.Getenv(testenv.EnvPostgres))
	if err != nil {
		return 0, 0, false
	}
	defer c.Close(ctx)
	err = c.QueryRow(ctx, `SELECT COALESCE(SUM(s.calls), 0)::float8, COALESCE(SUM(s.total_exec_time), 0)::float8
		FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = $1`, db).Scan(&calls, &ms)
	return calls, ms, err == nil
}

// serverCPU reads the CPU time of each server process connected to
// database db (/proc/PID/schedstat, where the server runs on this
// machine): parsing, planning and the protocol included, which
// pg_stat_statements' execution time leaves out. nil where unreadable.
func serverCPU(ctx context.Context, db string) map[int]time.Duration {
	c, err := pgx.Connect(ctx, os.Getenv(testenv.EnvPostgres))
	if err != nil {
		return nil
	}
	defer c.Close(ctx)
	rows, err := c.Query(ctx, `SELECT pid FROM pg_stat_activity WHERE datname = $1`, db)
	if err != nil {
		return nil
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return nil
	}
	out := map[int]time.Duration{}
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/schedstat", pid))
		if err != nil {
			return nil
		}
		var ns int64
		if _, err := fmt.Sscan(string(b), &ns); err != nil {
			return nil
		}
		out[pid] = time.Duration(ns)
	}
	return out
}

// The reads asked for at the same moment by many callers — who a chat is,
// and what is read after a commit: whose chats a notice goes to, people by
// id, notice targets — go in shared round trips, the kinds together, and
// each caller gets exactly what it asked for.
func TestReadsBatched(t *testing.T) {
	ctx := context.Background()
	s, c := openTraced(t)
	at := time.Date(2024, 7, 25, 9, 0, 0, 0, time.UTC)
	// DB001 has two chats, DB002 one, DB003 none.
	for n, l := range []struct{ user, p string }{{"801", "DB001"}, {"z802", "DB001"}, {"803", "DB002"}} {
		ch := domain.Telegram
		if strings.HasPrefix(l.user, "z") {
			ch = domain.Zalo
		}
		if _, err := s.Apply(ctx, domain.UpdateKey{Channel: domain.Telegram, UpdateID: fmt.Sprint("il", n)}, at, []domain.Effect{
			domain.LinkIdentity{Identity: domain.Identity{Channel: ch, UserID: l.user, ChatID: l.user, PersonID: l.p, Proof: domain.ProofCode}},
		}); err != nil {
			t.Fatalf("link: %v", err)
		}
	}
	chats := func(ids []domain.Identity) string {
		got := []string{}
		for _, i := range ids {
			got = append(got, i.PersonID+"/"+string(i.Channel)+":"+i.UserID)
		}
		return fmt.Sprint(got)
	}
	want := map[string]string{"DB001": "[DB001/telegram:801 DB001/zalo:z802]", "DB002": "[DB002/telegram:803]", "DB003": "[]"}
	names := map[string]string{"DB001": "Nguyễn Văn An", "DB002": "Trần Thị Bình", "DB003": "Lê Minh Châu"}
	_, _ = c.take()
	var wg sync.WaitGroup
	const rounds = 40
	calls := 0
	for round := range rounds {
		for _, p := range []string{"DB001", "DB002", "DB003", "DB001"} {
			calls += 4
			wg.Go(func() {
				user := map[string]string{"DB001": "801", "DB002": "803", "DB003": "804"}[p]
				id, _, found, err := s.IdentityState(ctx, domain.Telegram, user)
				if p == "DB003" {
					if !errors.Is(err, storage.ErrNotFound) || found {
						t.Errorf("round %d: unlinked %s: %v, %v; want ErrNotFound", round, user, found, err)
					}
				} else if err != nil || !found || id.PersonID != p || id.ChatID != user {
					t.Errorf("round %d: IdentityState(%s) = %+v, %v, %v; want %s", round, user, id, found, err, p)
				}
			})
			wg.Go(func() {
				ids, err := s.Identities(ctx, p)
				if got := chats(ids); err != nil || got != want[p] {
					t.Errorf("round %d: Identities(%s) = %v, %v; want %s", round, p, got, err, want[p])
				}
			})
			wg.Go(func() {
				ask := []string{p, "DB404"}
				people, err := s.People(ctx, ask)
				if err != nil || len(people) != 1 || people[0].ID != p || people[0].FullName != names[p] {
					t.Errorf("round %d: People(%v) = %+v, %v; want %s alone", round, ask, people, err, p)
				}
			})
			wg.Go(func() {
				ask := []string{p, "DB003", "DB404"}
				targets, err := s.NoticeTargets(ctx, ask)
				wantN := 2
				if p == "DB003" {
					wantN = 1
				}
				if err != nil || len(targets) != wantN {
					t.Errorf("round %d: NoticeTargets(%v) = %+v, %v; want %s and DB003", round, ask, targets, err, p)
					return
				}
				if got := chats(targets[p].Links); got != want[p] {
					t.Errorf("round %d: NoticeTargets(%v)[%s] = %s; want %s", round, ask, p, got, want[p])
				}
				if l := targets["DB003"].Links; len(l) != 0 {
					t.Errorf("round %d: DB003 has chats %s", round, chats(l))
				}
			})
		}
	}
	wg.Wait()
	got, trips := c.take()
	t.Logf("%d reads in %d statements, %d round trips", calls, len(got), trips)
	if trips >= calls/2 || len(got) >= calls/2 {
		t.Errorf("%d statements in %d round trips for %d reads made at once: too few shared", len(got), trips, calls)
	}
	if len(got) <= trips {
		t.Errorf("%d statements in %d round trips: no round trip carried two kinds", len(got), trips)
	}
}

// BenchmarkApplyBatch applies the RSVP's two writing steps (a link, an
// answer) for several chats at once, as the applier does under load: per
// op, one batch of size updates. Compare stmts/op and server-cpu-µs/op
// (divide by size for per update) between versions back to back.
//
//	go test -run '^$' -bench ApplyBatch ./storage/postgres/
func BenchmarkApplyBatch(b *testing.B) {
	ctx := context.Background()
	s := openWithPeople(b)
	db := s.Pool().Config().ConnConfig.Database
	at := time.Date(2024, 7, 25, 9, 0, 0, 0, time.UTC)
	var n atomic.Int64
	for _, size := range []int{1, 4, 16} {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			cpu0 := testenv.ProcessCPU()
			calls0, ms0, stats := serverStats(ctx, db)
			scpu0 := serverCPU(ctx, db)
			for b.Loop() {
				reqs := make([]sqlstore.ApplyReq, size)
				for i := range reqs {
					m := n.Add(1)
					user := fmt.Sprint("batch-", m)
					eff := []domain.Effect{domain.LinkIdentity{Identity: domain.Identity{Channel: domain.Telegram, UserID: user, ChatID: user, PersonID: "DB001", Proof: domain.ProofLink}}}
					if m%2 == 0 {
						eff = []domain.Effect{domain.SaveRSVP{RSVP: domain.RSVP{PersonID: "DB002", Status: domain.RSVPAttend, Channel: domain.Telegram, At: at}}}
					}
					reqs[i] = sqlstore.ApplyReq{Key: domain.UpdateKey{Channel: domain.Telegram, UpdateID: user}, At: at, Effects: eff}
				}
				if _, err := s.ApplyBatch(ctx, reqs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(testenv.ProcessCPU()-cpu0)/float64(b.N), "cpu-ns/op")
			if calls, ms, ok := serverStats(ctx, db); ok && stats {
				b.ReportMetric((calls-calls0)/float64(b.N), "stmts/op")
				b.ReportMetric((ms-ms0)*1e3/float64(b.N), "server-µs/op")
			}
			reportServerCPU(b, serverCPU(ctx, db), scpu0)
		})
	}
}

// An apply batch writes each kind of row with one statement text whatever
// the count of rows (arrays), so a connection prepares it once; the rows
// keep the batch's order (a person's newest answer is the later update's).
func TestApplyBatchOneTextPerKind(t *testing.T) {
	ctx := context.Background()
	// One connection: pg_prepared_statements is per session.
	s := open(t, withConns(testenv.PostgresURL(t), 1))
	if err := s.SyncDirectory(ctx, storagetest.Agencies(), storagetest.People()); err != nil {
		t.Fatalf("sync: %v", err)
	}
	at := time.Date(2024, 7, 25, 9, 0, 0, 0, time.UTC)
	n := 0
	for size := 1; size <= 4; size++ {
		var reqs []sqlstore.ApplyReq
		for i := range size {
			n++
			user := fmt.Sprint("u", n)
			status := domain.RSVPAttend
			if i == size-1 {
				status = domain.RSVPDecline // the batch's last answer of DB002
			}
			reqs = append(reqs, sqlstore.ApplyReq{Key: domain.UpdateKey{Channel: domain.Telegram, UpdateID: user}, At: at, Effects: []domain.Effect{
				domain.LinkIdentity{Identity: domain.Identity{Channel: domain.Telegram, UserID: user, ChatID: user, PersonID: "DB002", Proof: domain.ProofLink}},
				domain.SaveRSVP{RSVP: domain.RSVP{PersonID: "DB002", Status: status, Channel: domain.Telegram, At: at}},
			}})
		}
		applied, err := s.ApplyBatch(ctx, reqs)
		if err != nil || len(applied) != size {
			t.Fatalf("batch of %d: %v, %v", size, applied, err)
		}
		st, err := s.PersonState(ctx, "DB002")
		if err != nil || st.RSVP == nil || st.RSVP.Status != domain.RSVPDecline {
			t.Fatalf("after a batch of %d the answer is %+v, %v; want the batch's last (decline)", size, st.RSVP, err)
		}
	}
	ids, err := s.Identities(ctx, "DB002")
	if err != nil || len(ids) != n {
		t.Fatalf("%d links, %v; want %d", len(ids), err, n)
	}
	c, err := s.Pool().Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Release()
	for _, table := range []string{"processed_updates", "identities", "rsvps", "audit"} {
		var texts int
		if err := c.QueryRow(ctx, `SELECT COUNT(*) FROM pg_prepared_statements WHERE statement LIKE 'INSERT INTO ' || $1 || ' %'`, table).Scan(&texts); err != nil {
			t.Fatal(err)
		}
		if texts != 1 {
			t.Errorf("%d prepared statements insert into %s after batches of 1–4 updates; want 1", texts, table)
		}
	}
}
