package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/internal/testenv"
	"github.com/dieuphoi/dieuphoi/storage/postgres"
	"github.com/dieuphoi/dieuphoi/storage/sqlstore"
	"github.com/dieuphoi/dieuphoi/storage/storagetest"
)

// BenchmarkUpdateMix is the database side of the benchmark's closed loop
// without the inbox: on a pool of the default size, warmed as the bot
// warms it, goroutines look up batches of 1–8 chats at once
// (IdentityStates) and apply their updates together (ApplyBatch: a link
// with its audit, or an answer), as many at once as the bot's
// coalescers send. server-cpu-µs/update is the server's CPU per update
// (/proc: parsing, planning, execution, protocol), which the machine's
// load inflates far less than wall time: compare versions back to back.
//
//	go test -run '^$' -bench UpdateMix -benchtime 400x ./storage/postgres/
func BenchmarkUpdateMix(b *testing.B) {
	ctx := context.Background()
	s, dir := mixStore(b)
	db := s.Pool().Config().ConnConfig.Database
	at := time.Date(2024, 7, 25, 9, 0, 0, 0, time.UTC)
	var updates, next atomic.Int64
	calls0, _, stats := serverStats(ctx, db)
	scpu0 := serverCPU(ctx, db)
	b.SetParallelism(4) // ≈ the bot's applyWorkers on 2 CPUs
	b.RunParallel(func(pb *testing.PB) {
		rng := rand.New(rand.NewPCG(uint64(next.Add(1)), 7))
		for pb.Next() {
			k := 1 + rng.IntN(8)
			looks := make([]sqlstore.IdentityReq, k)
			reqs := make([]sqlstore.ApplyReq, k)
			for i := range k {
				var user string
				reqs[i], user = mixUpdate(dir, next.Add(1), at)
				looks[i] = sqlstore.IdentityReq{Channel: domain.Telegram, UserID: user}
			}
			if _, err := s.IdentityStates(ctx, looks); err != nil {
				b.Error(err)
				return
			}
			if _, err := s.ApplyBatch(ctx, reqs); err != nil {
				b.Error(err)
				return
			}
			updates.Add(int64(k))
		}
	})
	u := float64(max(updates.Load(), 1))
	if calls, _, ok := serverStats(ctx, db); ok && stats {
		b.ReportMetric((calls-calls0)/u, "stmts/update")
	}
	if after, before := serverCPU(ctx, db), scpu0; after != nil && before != nil {
		var d time.Duration
		for pid, t := range after {
			d += t - before[pid]
		}
		b.ReportMetric(float64(d.Microseconds())/u, "server-cpu-µs/update")
	}
}

// mixStore opens a store on a new database with people P0000–P0999,
// warmed as the bot warms it.
func mixStore(b *testing.B) (*postgres.Store, []domain.Person) {
	ctx := context.Background()
	s, err := postgres.Open(ctx, testenv.PostgresURL(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	dir := make([]domain.Person, mixPeople)
	for i := range dir {
		dir[i] = domain.Person{ID: fmt.Sprintf("P%04d", i), FullName: fmt.Sprint("Người ", i), AgencyCode: "STC",
			Phone: fmt.Sprintf("09%08d", i), Roles: []domain.Role{domain.RoleDelegate}}
	}
	if err := s.SyncDirectory(ctx, storagetest.Agencies(), dir); err != nil {
		b.Fatal(err)
	}
	if err := s.Warm(ctx, 0); err != nil {
		b.Fatal(err)
	}
	return s, dir
}

const mixPeople = 1000

// mixUpdate is update n of the mix: a chat linked (with its audit), or an
// answer, from the chat (and user) it returns: n modulo 4 × mixPeople.
func mixUpdate(dir []domain.Person, n int64, at time.Time) (sqlstore.ApplyReq, string) {
	p := dir[int(n)%len(dir)].ID
	user := fmt.Sprint(n % (4 * mixPeople))
	eff := []domain.Effect{domain.LinkIdentity{Identity: domain.Identity{Channel: domain.Telegram, UserID: user, ChatID: user, PersonID: p, Proof: domain.ProofPhone}}}
	if n%2 == 0 {
		eff = []domain.Effect{domain.SaveRSVP{RSVP: domain.RSVP{PersonID: p, Status: domain.RSVPAttend, Channel: domain.Telegram, At: at}}}
	}
	return sqlstore.ApplyReq{Key: domain.UpdateKey{Channel: domain.Telegram, UpdateID: fmt.Sprint("mix-", n)}, At: at, Effects: eff}, user
}

// BenchmarkApplyBatchSize is the server's CPU per applied update (the mix's
// links and answers) in transactions of 2 and of 5 updates (ApplyBatch),
// two at a time: what a transaction costs beside its rows (its commit's
// WAL flush above all), which the apply batches' size (batch.go
// applyWorkers) divides among the updates.
//
//	go test -run '^$' -bench ApplyBatchSize -benchtime 2000x ./storage/postgres/
func BenchmarkApplyBatchSize(b *testing.B) {
	ctx := context.Background()
	s, dir := mixStore(b)
	db := s.Pool().Config().ConnConfig.Database
	at := time.Date(2024, 7, 25, 9, 0, 0, 0, time.UTC)
	var next atomic.Int64
	for _, k := range []int{2, 5} {
		b.Run(fmt.Sprint("updates=", k), func(b *testing.B) {
			var updates atomic.Int64
			scpu0 := serverCPU(ctx, db)
			b.SetParallelism(1) // one per CPU: two transactions at once
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					reqs := make([]sqlstore.ApplyReq, k)
					for i := range reqs {
						reqs[i], _ = mixUpdate(dir, next.Add(1), at)
					}
					if _, err := s.ApplyBatch(ctx, reqs); err != nil {
						b.Error(err)
						return
					}
					updates.Add(int64(k))
				}
			})
			if after := serverCPU(ctx, db); after != nil && scpu0 != nil {
				var d time.Duration
				for pid, t := range after {
					d += t - scpu0[pid]
				}
				b.ReportMetric(float64(d.Microseconds())/float64(max(updates.Load(), 1)), "server-cpu-µs/update")
			}
		})
	}
}
