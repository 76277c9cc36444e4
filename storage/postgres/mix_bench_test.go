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
	s, err := postgres.Open(ctx, testenv.PostgresURL(b))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const people = 1000
	dir := make([]domain.Person, people)
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
				n := next.Add(1)
				p := dir[int(n)%people].ID
				user := fmt.Sprint(n % (4 * people))
				looks[i] = sqlstore.IdentityReq{Channel: domain.Telegram, UserID: user}
				eff := []domain.Effect{domain.LinkIdentity{Identity: domain.Identity{Channel: domain.Telegram, UserID: user, ChatID: user, PersonID: p, Proof: domain.ProofPhone}}}
				if n%2 == 0 {
					eff = []domain.Effect{domain.SaveRSVP{RSVP: domain.RSVP{PersonID: p, Status: domain.RSVPAttend, Channel: domain.Telegram, At: at}}}
				}
				reqs[i] = sqlstore.ApplyReq{Key: domain.UpdateKey{Channel: domain.Telegram, UpdateID: fmt.Sprint("mix-", n)}, At: at, Effects: eff}
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
