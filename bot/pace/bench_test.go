package pace_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

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
			var ru0, ru1 syscall.Rusage
			trips := tr.RoundTrips()
			srv := serverCPU(b)
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
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
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
			cpu := time.Duration(syscall.TimevalToNsec(ru1.Utime) + syscall.TimevalToNsec(ru1.Stime) -
				syscall.TimevalToNsec(ru0.Utime) - syscall.TimevalToNsec(ru0.Stime))
			b.ReportMetric(float64(tr.RoundTrips()-trips)/float64(b.N), "roundtrips/op")
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")
			// The Redis server's CPU, the whole server's: on a shared
			// one others' work counts too.
			b.ReportMetric((serverCPU(b)-srv)/float64(b.N), "redis-cpu-µs/op")
		})
	}
}

// serverCPU is the Redis server's CPU time so far, in µs.
func serverCPU(b *testing.B) float64 {
	opt, err := goredis.ParseURL(testenv.RedisURL(b))
	if err != nil {
		b.Fatal(err)
	}
	c := goredis.NewClient(opt)
	defer c.Close()
	info, err := c.Info(context.Background(), "cpu").Result()
	if err != nil {
		b.Fatal(err)
	}
	var us float64
	for _, line := range strings.Split(info, "\n") {
		k, v, _ := strings.Cut(strings.TrimSpace(line), ":")
		if k == "used_cpu_sys" || k == "used_cpu_user" {
			f, _ := strconv.ParseFloat(v, 64)
			us += f * 1e6
		}
	}
	return us
}
