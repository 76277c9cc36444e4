package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/internal/testenv"
	"github.com/dieuphoi/dieuphoi/storage"
)

// BenchmarkAppendInbox appends a getUpdates batch of 100 updates of linked
// chats: the statement that also reads each sender's person and facts
// version (migration 0020) runs under the append lock, so its time is what
// every append waits.
func BenchmarkAppendInbox(b *testing.B) {
	ctx := context.Background()
	s := openWithPeople(b)
	at := time.Date(2024, 7, 25, 9, 0, 0, 0, time.UTC)
	const chats = 100
	for i := range chats {
		user := fmt.Sprint("u", i)
		if _, err := s.Apply(ctx, domain.UpdateKey{Channel: domain.Telegram, UpdateID: "link-" + user}, at, []domain.Effect{
			domain.LinkIdentity{Identity: domain.Identity{Channel: domain.Telegram, UserID: user, ChatID: user, PersonID: "DB001", Proof: domain.ProofLink}},
			domain.SaveRSVP{RSVP: domain.RSVP{PersonID: "DB001", Status: domain.RSVPAttend, Channel: domain.Telegram, At: at}},
		}); err != nil {
			b.Fatal(err)
		}
	}
	n := 0
	cpu0 := testenv.ProcessCPU()
	db := s.Pool().Config().ConnConfig.Database
	scpu0 := serverCPU(ctx, db)
	for b.Loop() {
		items := make([]storage.InboxItem, chats)
		for i := range items {
			n++
			user := fmt.Sprint("u", i)
			items[i] = storage.InboxItem{Key: fmt.Sprint("telegram:", n), Part: i % 64, Chat: "telegram:" + user, Payload: []byte(`{}`), Created: at,
				Channel: "telegram", User: user}
		}
		if _, err := s.AppendInbox(ctx, "w", items); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(testenv.ProcessCPU()-cpu0)/float64(b.N), "cpu-ns/op")
	reportServerCPU(b, serverCPU(ctx, db), scpu0)
}

// reportServerCPU reports the server's CPU per op (server-cpu-µs/op)
// between two readings of serverCPU.
func reportServerCPU(b *testing.B, after, before map[int]time.Duration) {
	if after == nil || before == nil {
		return
	}
	var d time.Duration
	for pid, t := range after {
		d += t - before[pid] // a connection made since counts whole
	}
	b.ReportMetric(float64(d.Microseconds())/float64(b.N), "server-cpu-µs/op")
}

// BenchmarkInboxOneByOne is the inbox's part of an update arriving alone
// (the fixed-rate case, where appends rarely coalesce): append one update
// of a linked chat, then delete it as handled, with 200 others waiting.
// server-cpu-µs/op is the server's CPU per update (parse, plan and
// protocol included), which the machine's load does not inflate as it
// does wall time.
//
//	go test -run '^$' -bench InboxOneByOne -benchtime 3000x ./storage/postgres/
func BenchmarkInboxOneByOne(b *testing.B) {
	loneAppends(b, false, 1)
}

// BenchmarkInboxAtFixedRate is the inbox's part of an update in the
// benchmark's fixed-rate run (500/s, one process): appended alone by the
// process that leases every partition (Local: no other process to wake),
// deleted with the other updates handled in the same 50 ms (25), while the
// process's notifications connection listens. server-cpu-µs/op counts
// every backend of the database, the listener's included.
//
//	go test -run '^$' -bench InboxAtFixedRate -benchtime 3000x ./storage/postgres/
func BenchmarkInboxAtFixedRate(b *testing.B) {
	loneAppends(b, true, 25)
}

// loneAppends appends updates one at a time to an inbox holding 200, of 400
// linked chats, and deletes the oldest every-th at a time once every more
// wait (Local: appended by the process that will handle them, so not
// notified, with that process listening), reporting the server's CPU.
func loneAppends(b *testing.B, local bool, every int) {
	ctx := context.Background()
	s := openWithPeople(b)
	db := s.Pool().Config().ConnConfig.Database
	at := time.Date(2024, 7, 25, 9, 0, 0, 0, time.UTC)
	const chats = 400
	for i := range chats {
		user := fmt.Sprint("u", i)
		if _, err := s.Apply(ctx, domain.UpdateKey{Channel: domain.Telegram, UpdateID: "link-" + user}, at, []domain.Effect{
			domain.LinkIdentity{Identity: domain.Identity{Channel: domain.Telegram, UserID: user, ChatID: user, PersonID: "DB001", Proof: domain.ProofLink}},
		}); err != nil {
			b.Fatal(err)
		}
	}
	if local {
		lctx, stop := context.WithCancel(ctx)
		listened := make(chan struct{})
		go func() {
			defer close(listened)
			s.ListenInbox(lctx, func(bool) {}, func(string) {})
		}()
		defer func() { stop(); <-listened }()
	}
	n := 0
	item := func() []storage.InboxItem {
		n++
		user := fmt.Sprint("u", n%chats)
		return []storage.InboxItem{{Key: fmt.Sprint("telegram:", n), Part: n % 64, Chat: "telegram:" + user,
			Payload: []byte(`{"message":{"text":"Tham dự"}}`), Created: at, Channel: "telegram", User: user, Local: local}}
	}
	var waiting []int64
	for range 200 {
		it := item()
		if _, err := s.AppendInbox(ctx, "w", it); err != nil {
			b.Fatal(err)
		}
		waiting = append(waiting, it[0].ID)
	}
	scpu0 := serverCPU(ctx, db)
	for b.Loop() {
		it := item()
		if _, err := s.AppendInbox(ctx, "w", it); err != nil {
			b.Fatal(err)
		}
		waiting = append(waiting, it[0].ID)
		if len(waiting) >= 200+every {
			if err := s.DeleteInbox(ctx, waiting[:every]); err != nil {
				b.Fatal(err)
			}
			waiting = waiting[every:]
		}
	}
	reportServerCPU(b, serverCPU(ctx, db), scpu0)
}
