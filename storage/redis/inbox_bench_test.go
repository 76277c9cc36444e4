package redis

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/internal/testenv"
	"github.com/dieuphoi/dieuphoi/storage"
)

// persistence is the Redis settings the benchmarks compare.
type persistence struct{ name, fsync string } // fsync "": no append-only file

var (
	inboxPersistence = []persistence{{"fsync-always", "always"}, {"fsync-everysec", "everysec"}}
	turnPersistence  = []persistence{{"no-aof", ""}, {"fsync-always", "always"}}
)

// benchRedis runs f against a store on a Redis of the benchmark's own (none
// of the other tests' load in its CPU figure), with each of the
// persistence settings, and reports the server's CPU per op from the
// moment f calls start.
func benchRedis(b *testing.B, modes []persistence, f func(b *testing.B, s *Store, start func())) {
	for _, mode := range modes {
		b.Run(mode.name, func(b *testing.B) {
			args := []string{"--appendonly", "no"}
			if mode.fsync != "" {
				args = []string{"--appendonly", "yes", "--appendfsync", mode.fsync}
			}
			url, _ := privateRedis(b, b.TempDir(), 0, args...)
			s, err := Open(context.Background(), Options{URL: url})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			var cpu0 time.Duration
			f(b, s, func() { cpu0 = testenv.RedisCPU(b, s.rdb) })
			b.ReportMetric(float64((testenv.RedisCPU(b, s.rdb)-cpu0).Microseconds())/float64(b.N), "server-cpu-µs/op")
		})
	}
}

func benchRedisInbox(b *testing.B, f func(b *testing.B, ib *Inbox, start func())) {
	benchRedis(b, inboxPersistence, func(b *testing.B, s *Store, start func()) { f(b, s.Inbox(), start) })
}

// BenchmarkSessionTurnFsync is one update's session turn alone (Begin,
// Save, Finish: three round trips) on a Redis without an append-only
// file and on one syncing it at every write, as the sessions would be if
// they shared the Redis inbox's server: Redis syncs in its one thread, so
// every reply waits for the sync of its loop.
//
//	go test -run '^$' -bench SessionTurnFsync ./storage/redis/
func BenchmarkSessionTurnFsync(b *testing.B) {
	benchRedis(b, turnPersistence, func(b *testing.B, s *Store, start func()) {
		ctx := context.Background()
		session := bytes.Repeat([]byte("s"), 550)
		n := 0
		start()
		for b.Loop() {
			n++
			chat := fmt.Sprint("telegram:", n%400)
			turn, err := s.Begin(ctx, chat, fmt.Sprint("telegram/", n))
			if err != nil || turn.Lease == nil {
				b.Fatalf("begin: %+v, %v", turn, err)
			}
			if err := turn.Lease.Save(ctx, session); err != nil {
				b.Fatal(err)
			}
			if err := turn.Lease.Finish(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkRedisInboxOneByOne is BenchmarkInboxOneByOne of storage/postgres
// on the Redis inbox: the inbox's part of an update arriving alone (append
// one, then delete it as handled, with 200 others waiting), two round
// trips.
//
//	go test -run '^$' -bench RedisInbox ./storage/redis/
func BenchmarkRedisInboxOneByOne(b *testing.B) {
	benchRedisInbox(b, func(b *testing.B, ib *Inbox, start func()) {
		ctx := context.Background()
		at := time.Date(2024, 7, 25, 9, 0, 0, 0, time.UTC)
		const chats = 400
		n := 0
		item := func() []storage.InboxItem {
			n++
			return []storage.InboxItem{{Key: fmt.Sprint("telegram:", n), Part: n % 64, Chat: fmt.Sprint("telegram:u", n%chats),
				Payload: []byte(`{"message":{"text":"Tham dự"}}`), Created: at}}
		}
		var waiting []int64
		for range 200 {
			it := item()
			if _, err := ib.AppendInbox(ctx, "w", it); err != nil {
				b.Fatal(err)
			}
			waiting = append(waiting, it[0].ID)
		}
		start()
		for b.Loop() {
			it := item()
			if _, err := ib.AppendInbox(ctx, "w", it); err != nil {
				b.Fatal(err)
			}
			waiting = append(waiting, it[0].ID)
			if err := ib.DeleteInbox(ctx, waiting[:1]); err != nil {
				b.Fatal(err)
			}
			waiting = waiting[1:]
		}
	})
}

// BenchmarkRedisInboxAppend100 appends a getUpdates batch of 100 updates
// (BenchmarkAppendInbox of storage/postgres).
func BenchmarkRedisInboxAppend100(b *testing.B) {
	benchRedisInbox(b, func(b *testing.B, ib *Inbox, start func()) {
		ctx := context.Background()
		at := time.Date(2024, 7, 25, 9, 0, 0, 0, time.UTC)
		n := 0
		start()
		for b.Loop() {
			items := make([]storage.InboxItem, 100)
			for i := range items {
				n++
				items[i] = storage.InboxItem{Key: fmt.Sprint("telegram:", n), Part: i % 64, Chat: fmt.Sprint("telegram:u", i),
					Payload: []byte(`{}`), Created: at}
			}
			if _, err := ib.AppendInbox(ctx, "w", items); err != nil {
				b.Fatal(err)
			}
		}
	})
}
