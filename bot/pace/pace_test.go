package pace_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/dieuphoi/dieuphoi/bot/pace"
	"github.com/dieuphoi/dieuphoi/internal/testenv"
)

// redisLimiters returns n limiters on one Redis, each with its own
// connection: n processes.
func redisLimiters(t *testing.T, n int) []pace.Limiter {
	opt, err := goredis.ParseURL(testenv.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	prefix := testenv.Prefix(t) + "pace:"
	var out []pace.Limiter
	for range n {
		c := goredis.NewClient(opt)
		t.Cleanup(func() { c.Close() })
		out = append(out, pace.NewRedis(c, prefix, pace.Telegram))
	}
	return out
}

// maxInWindow is the most times within any window.
func maxInWindow(ts []time.Time, window time.Duration) int {
	sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
	best, i := 0, 0
	for j := range ts {
		for ts[j].Sub(ts[i]) >= window {
			i++
		}
		best = max(best, j-i+1)
	}
	return best
}

// A broadcast to 90 chats from every limiter at once: never more than 30
// in any second (less the jitter of waking up on a busy machine: the 25 ms
// the margin leaves for it, more under the race detector), and at least
// 97 % of 30 a second overall.
func testBroadcast(t *testing.T, ls []pace.Limiter) {
	ctx := context.Background()
	const msgs = 90
	var mu sync.Mutex
	var ts []time.Time
	var wg sync.WaitGroup
	for i := range msgs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := ls[i%len(ls)].Wait(ctx, fmt.Sprint(7000+i)); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			ts = append(ts, time.Now())
			mu.Unlock()
		}()
	}
	wg.Wait()
	if n := maxInWindow(ts, time.Second-time.Duration(jitter)); n > 30 {
		t.Errorf("%d messages let out within %v, limit 30 a second", n, time.Second-time.Duration(jitter))
	}
	span := ts[len(ts)-1].Sub(ts[0])
	rate := float64(msgs-1) / span.Seconds()
	t.Logf("%d limiters: %d messages in %v: %.2f/s", len(ls), msgs, span, rate)
	if rate < 0.97*30 {
		t.Errorf("rate %.2f/s, want at least 97%% of 30", rate)
	}
}

func TestBroadcastPaceOneProcess(t *testing.T) {
	testBroadcast(t, []pace.Limiter{pace.NewLocal(pace.Telegram)})
}

func TestBroadcastPaceThreeProcesses(t *testing.T) { testBroadcast(t, redisLimiters(t, 3)) }

// One chat gets one waiting message a second, from whichever process; a
// reply just sent there pushes the next waiting message back; a 429 seen by
// one process pauses the others.
func TestChatPaceRepliesAndPause(t *testing.T) {
	for _, tc := range []struct {
		name string
		ls   func(t *testing.T) []pace.Limiter
	}{
		{"local", func(t *testing.T) []pace.Limiter { l := pace.NewLocal(pace.Telegram); return []pace.Limiter{l, l} }},
		{"redis", func(t *testing.T) []pace.Limiter { return redisLimiters(t, 2) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			ls := tc.ls(t)
			a, b := ls[0], ls[1]
			start := time.Now()
			if err := a.Wait(ctx, "42"); err != nil {
				t.Fatal(err)
			}
			if err := b.Wait(ctx, "42"); err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d < 950*time.Millisecond {
				t.Errorf("two messages to one chat %v apart, want a second", d)
			}
			// Replies never wait...
			start = time.Now()
			if err := a.Take(ctx, "43", 2); err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d > 200*time.Millisecond {
				t.Errorf("replies waited %v", d)
			}
			// ...but a broadcast message to that chat waits for them.
			if err := b.Wait(ctx, "43"); err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d < 950*time.Millisecond {
				t.Errorf("a broadcast message went out %v after two replies to the same chat", d)
			}
			// A 429 on one process holds the other.
			start = time.Now()
			if err := a.Pause(ctx, start.Add(700*time.Millisecond)); err != nil {
				t.Fatal(err)
			}
			if err := b.Wait(ctx, "44"); err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d < 650*time.Millisecond {
				t.Errorf("sent %v into a 700ms pause", d)
			}
		})
	}
}
