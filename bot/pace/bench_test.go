package pace_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/dieuphoi/dieuphoi/bot/pace"
	"github.com/dieuphoi/dieuphoi/internal/testenv"
	"github.com/dieuphoi/dieuphoi/storage/redis"
)

// BenchmarkReplies is a step's replies as the dispatcher sends them under
// load (many chats at once): Take, then Admit and the answer for each. It
// reports the round trips to Redis and this process's CPU per step, on a
// client of its own (direct) and as the bot builds it (piped: the
// per-chat counts in shared pipelines, the budget's steps batched).
func BenchmarkReplies(b *testing.B) {
	for _, mode := range []string{"direct", "piped"} {
		b.Run(mode, func(b *testing.B) {
			prefix := testenv.Prefix(b)
			tr := redis.NewTraffic()
			var l pace.Limiter
			if mode == "direct" {
				opt, err := goredis.ParseURL(testenv.RedisURL(b))
				if err != nil {
					b.Fatal(err)
				}
				opt.PoolSize = 64
				c := goredis.NewClient(opt)
				b.Cleanup(func() { c.Close() })
				c.AddHook(tr.Hook())
				l = pace.NewRedis(c, prefix+"pace:", pace.Telegram)
			} else {
				st, err := redis.Open(context.Background(), redis.Options{URL: testenv.RedisURL(b), Prefix: prefix})
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { st.Close() })
				tr = st.Traffic()
				l = pace.NewRedis(st.Scripts(), prefix+"pace:", pace.Telegram)
			}
			ctx := context.Background()
			var seq atomic.Int64
			trips := tr.RoundTrips()
			srv := testenv.RedisURLCPU(b)
			cpu0 := testenv.ProcessCPU()
			b.SetParallelism(64)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					chat := fmt.Sprint(seq.Add(1))
					if err := l.Take(ctx, chat, 1); err != nil {
						b.Error(err)
						return
					}
					done, err := l.Admit(ctx, chat)
					if err != nil {
						b.Error(err)
						return
					}
					done()
				}
			})
			b.StopTimer()
			cpu := testenv.ProcessCPU() - cpu0
			b.ReportMetric(float64(tr.RoundTrips()-trips)/float64(b.N), "roundtrips/op")
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")
			// The Redis server's CPU, the whole server's: on a shared
			// one others' work counts too.
			b.ReportMetric((testenv.RedisURLCPU(b)-srv)/float64(b.N), "redis-cpu-µs/op")
		})
	}
}
