package redis

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/storage"
)

// redisCPU is the server's own CPU so far (INFO cpu: used_cpu_sys +
// used_cpu_user, the whole process, its fsync included).
func redisCPU(b *testing.B, s *Store) time.Duration {
	info, err := s.rdb.Info(context.Background(), "cpu").Result()
	if err != nil {
		b.Fatal(err)
	}
	var d time.Duration
	for _, line := range strings.Split(info, "\n") {
		k, v, _ := strings.Cut(strings.TrimSpace(line), ":")
		if k == "used_cpu_sys" || k == "used_cpu_user" {
			f, _ := strconv.ParseFloat(v, 64)
			d += time.Duration(f * float64(time.Second))
		}
	}
	return d
}

// benchRedisInbox runs f against the inbox on a Redis of the benchmark's
// own (none of the other tests' load in its CPU figure), with each of the
// persistence settings, and reports the server's CPU per op.
func benchRedisInbox(b *testing.B, f func(b *testing.B, ib *Inbox, start func())) {
	for _, mode := range []struct{ name, fsync string }{{"fsync-always", "always"}, {"fsync-everysec", "everysec"}} {
		b.Run(mode.name, func(b *testing.B) {
			url, _ := privateRedis(b, b.TempDir(), 0, "--appendonly", "yes", "--appendfsync", mode.fsync)
			s, err := Open(context.Background(), Options{URL: url})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			var cpu0 time.Duration
			f(b, s.Inbox(), func() { cpu0 = redisCPU(b, s) })
			b.ReportMetric(float64((redisCPU(b, s)-cpu0).Microseconds())/float64(b.N), "server-cpu-µs/op")
		})
	}
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
