package pace_test

import (
	"context"
	"errors"
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
// connection: n processes; and a client of that Redis and their prefix.
func redisLimiters(t *testing.T, n int) ([]pace.Limiter, *goredis.Client, string) {
	opt, err := goredis.ParseURL(testenv.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	prefix := testenv.Prefix(t) + "pace:"
	var out []pace.Limiter
	var c *goredis.Client
	for range n {
		c = goredis.NewClient(opt)
		t.Cleanup(func() { c.Close() })
		out = append(out, pace.NewRedis(c, prefix, pace.Telegram))
	}
	return out, c, prefix
}

// interval is the spacing of slots in the overall budget: a second (with
// its margin) over 30.
const interval = 1025 * time.Millisecond / 30

// A broadcast to 90 chats from every limiter at once. What is asserted
// holds however late goroutines wake on a busy machine (the rate achieved
// against a fake enforcing the limits is the benchmark's: make bench):
//   - never ahead of the budget: the k-th message is let out no earlier
//     than k-1 intervals after the broadcast began, whichever process
//     sends it (three limiters pacing each for itself would let 90 out
//     within a second);
//   - every message booked a slot (accounting: the budget's end moved by
//     at least 90 intervals from when the broadcast began);
//   - the first message goes without waiting for a tick.
func testBroadcast(t *testing.T, ls []pace.Limiter, booked func() time.Duration) {
	ctx := context.Background()
	const msgs = 90
	var mu sync.Mutex
	var ts []time.Time
	var wg sync.WaitGroup
	start := time.Now()
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
	if len(ts) != msgs {
		t.Fatalf("%d of %d messages let out", len(ts), msgs)
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
	if d := ts[0].Sub(start); d > 2*time.Second {
		t.Errorf("the first message waited %v", d)
	}
	// Slots are booked one interval apart from the moment the first Wait
	// reached the budget, after start; a message woken late only moves
	// later. A little slack for Redis's clock against this process's.
	for k, at := range ts {
		if early := start.Add(time.Duration(k) * interval).Sub(at); early > 5*time.Millisecond {
			t.Fatalf("message %d let out %v ahead of its slot: more than 30 a second", k+1, early)
		}
	}
	if booked != nil {
		d := booked()
		t.Logf("%d limiters: %d messages booked %v of the budget (%.1f/s), last let out after %v",
			len(ls), msgs, d, float64(msgs)/d.Seconds(), ts[msgs-1].Sub(start))
		// A message woken too late for its slot pays for the slots it
		// was late by (pace's maxLate), so how far beyond 90 intervals the
		// budget moved depends on the machine: the rate achieved is the
		// benchmark's.
		if want := msgs * interval; d < want-interval {
			t.Errorf("%d messages moved the budget by %v, want at least %v (every one a slot)", msgs, d, want)
		}
	}
}

func TestBroadcastPaceOneProcess(t *testing.T) {
	l := pace.NewLocal(pace.Telegram)
	testBroadcast(t, []pace.Limiter{l}, nil)
}

func TestBroadcastPaceThreeProcesses(t *testing.T) {
	ls, rdb, prefix := redisLimiters(t, 3)
	var t0 time.Time
	booked := func() time.Duration {
		// redis_rate keeps the theoretical arrival time of the next slot
		// in seconds since 2017-01-01 (Redis's clock).
		v, err := rdb.Get(context.Background(), "rate:"+prefix+"all").Float64()
		if err != nil {
			t.Fatal(err)
		}
		tat := time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(v * float64(time.Second)))
		return tat.Sub(t0)
	}
	var err error
	if t0, err = rdb.Time(context.Background()).Result(); err != nil {
		t.Fatal(err)
	}
	testBroadcast(t, ls, booked)
}

// One chat gets one waiting message a second, from whichever process: a
// second one is refused at once as busy (nothing booked) rather than held;
// replies there never wait for the chat but make the next waiting message
// busy; a 429 seen by one process pauses the others.
func TestChatPaceRepliesAndPause(t *testing.T) {
	for _, tc := range []struct {
		name string
		ls   func(t *testing.T) []pace.Limiter
	}{
		{"local", func(t *testing.T) []pace.Limiter { l := pace.NewLocal(pace.Telegram); return []pace.Limiter{l, l} }},
		{"redis", func(t *testing.T) []pace.Limiter { ls, _, _ := redisLimiters(t, 2); return ls }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			ls := tc.ls(t)
			a, b := ls[0], ls[1]
			busy := func(err error, what string) {
				t.Helper()
				var be *pace.BusyError
				if !errors.As(err, &be) || be.Wait < 900*time.Millisecond || be.Wait > 2100*time.Millisecond {
					t.Errorf("%s: %v, want busy for a second or two", what, err)
				}
			}
			if err := a.Wait(ctx, "42"); err != nil {
				t.Fatal(err)
			}
			busy(b.Wait(ctx, "42"), "a second message to one chat within a second")
			// Replies never wait for their chat...
			start := time.Now()
			if err := a.Take(ctx, "43", 2); err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d > 500*time.Millisecond {
				t.Errorf("replies waited %v with the budget free", d)
			}
			// ...but a broadcast message to that chat waits for them.
			busy(b.Wait(ctx, "43"), "a broadcast message right after two replies to the chat")
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

// Replies and a broadcast share the overall budget: while a broadcast
// books the slots ahead, a reply waits for the next free one (a short
// wait, never the broadcast's length) instead of going out in the same
// second as 30 broadcast messages, and the broadcast's later messages come
// after it.
func TestRepliesShareTheBudgetWithABroadcast(t *testing.T) {
	for _, tc := range []struct {
		name string
		ls   func(t *testing.T) []pace.Limiter
	}{
		{"local", func(t *testing.T) []pace.Limiter { l := pace.NewLocal(pace.Telegram); return []pace.Limiter{l, l} }},
		{"redis", func(t *testing.T) []pace.Limiter { ls, _, _ := redisLimiters(t, 2); return ls }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			ls := tc.ls(t)
			bc, replies := ls[0], ls[1]
			// A broadcast of 60 keeps the budget booked for two seconds.
			var wg sync.WaitGroup
			for i := range 60 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_ = bc.Wait(ctx, fmt.Sprint(8000+i))
				}()
			}
			time.Sleep(300 * time.Millisecond)
			start := time.Now()
			if err := replies.Take(ctx, "8999", 1); err != nil {
				t.Fatal(err)
			}
			d := time.Since(start)
			wg.Wait()
			rest := time.Since(start)
			t.Logf("the reply waited %v; the broadcast ended %v after it", d, rest)
			if d < interval/2 {
				t.Errorf("the reply went out at once (%v) into a booked budget", d)
			}
			if d > time.Second {
				t.Errorf("the reply waited %v: more than the next free slot", d)
			}
		})
	}
}
