package postgres_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/internal/testenv"
	"github.com/dieuphoi/dieuphoi/storage/postgres"
	"github.com/dieuphoi/dieuphoi/storage/sqlstore"
	"github.com/dieuphoi/dieuphoi/storage/storagetest"
)

// BenchmarkChatLookup is a chat look-up (IdentityStates) of 3 linked
// accounts whose people have answered, as the closed loop's coalescer
// sends them (≈ 3 accounts a call), on one connection; marks: with 500
// people marked unreachable (blocked the bot), which a look-up must not
// read whole. server-cpu-µs/op is the backend's CPU per look-up.
//
//	go test -run '^$' -bench ChatLookup -benchtime 3000x ./storage/postgres/
func BenchmarkChatLookup(b *testing.B) {
	for _, marks := range []int{0, 500} {
		b.Run(fmt.Sprint("marks=", marks), func(b *testing.B) { chatLookups(b, marks) })
	}
}

func chatLookups(b *testing.B, marks int) {
	ctx := context.Background()
	s, err := postgres.Open(ctx, withConns(testenv.PostgresURL(b), 1))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const people = 500
	dir := make([]domain.Person, people)
	for i := range dir {
		dir[i] = domain.Person{ID: fmt.Sprintf("P%04d", i), FullName: fmt.Sprint("Người ", i), AgencyCode: "STC",
			Phone: fmt.Sprintf("09%08d", i), Roles: []domain.Role{domain.RoleDelegate}}
	}
	if err := s.SyncDirectory(ctx, storagetest.Agencies(), dir); err != nil {
		b.Fatal(err)
	}
	at := time.Date(2024, 7, 25, 9, 0, 0, 0, time.UTC)
	var reqs []sqlstore.ApplyReq
	for i, p := range dir {
		user := fmt.Sprint(900000000 + i)
		reqs = append(reqs, sqlstore.ApplyReq{Key: domain.UpdateKey{Channel: domain.Telegram, UpdateID: "seed-" + user}, At: at, Effects: []domain.Effect{
			domain.LinkIdentity{Identity: domain.Identity{Channel: domain.Telegram, UserID: user, ChatID: user, PersonID: p.ID, Proof: domain.ProofPhone}},
			domain.SaveRSVP{RSVP: domain.RSVP{PersonID: p.ID, Status: domain.RSVPAttend, Channel: domain.Telegram, At: at}}}})
	}
	if _, err := s.ApplyBatch(ctx, reqs); err != nil {
		b.Fatal(err)
	}
	if _, err := s.Pool().Exec(ctx, `INSERT INTO unreachable (person_id, channel, since, reason)
		SELECT 'X' || g, 'telegram', 0, 'blocked' FROM generate_series(1, $1::integer) AS g`, marks); err != nil {
		b.Fatal(err)
	}
	if _, err := s.Pool().Exec(ctx, `ANALYZE`); err != nil {
		b.Fatal(err)
	}
	look := func(n int) []sqlstore.IdentityReq {
		out := make([]sqlstore.IdentityReq, 3)
		for i := range out {
			out[i] = sqlstore.IdentityReq{Channel: domain.Telegram, UserID: fmt.Sprint(900000000 + (n*7+i*131)%people)}
		}
		return out
	}
	for n := range 10 { // the connection's plan, kept
		if _, err := s.IdentityStates(ctx, look(n)); err != nil {
			b.Fatal(err)
		}
	}
	// The pool's one backend only: not the autovacuum the seeding wakes.
	var pid int
	if err := s.Pool().QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		b.Fatal(err)
	}
	cpu0 := backendCPU(b, pid)
	n := 0
	for b.Loop() {
		n++
		res, err := s.IdentityStates(ctx, look(n))
		if err != nil || len(res) != 3 || !res[0].Found || res[0].Version.V == "" {
			b.Fatalf("look-up: %+v, %v", res, err)
		}
	}
	b.ReportMetric(float64((backendCPU(b, pid)-cpu0).Microseconds())/float64(b.N), "server-cpu-µs/op")
}

// backendCPU is the CPU time of the server's process pid so far
// (/proc/PID/schedstat: the server must run on this machine).
func backendCPU(b *testing.B, pid int) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/schedstat", pid))
	if err != nil {
		b.Skipf("the server's CPU: %v", err)
	}
	var ns int64
	if _, err := fmt.Sscan(string(data), &ns); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ns)
}
