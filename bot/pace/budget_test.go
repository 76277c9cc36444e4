package pace

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/dieuphoi/dieuphoi/internal/testenv"
)

// The budget's steps at given moments (µs on a clock the test sets), in
// memory and in Redis: the accounting, without wall-clock rates.

const ms = int64(1000)

// states returns each kind of budget state with Telegram's numbers, and
// the base moment of the test's clock (a little in the future, so that a
// pause set for a moment on it is still alive in Redis).
func states(t *testing.T) (map[string]state, int64) {
	p := newParams(Telegram)
	opt, err := goredis.ParseURL(testenv.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	rdb := goredis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	return map[string]state{
		"memory": newMemState(p),
		"redis":  newRedisState(rdb, testenv.Prefix(t)+"pace:"+testenv.RandomHex(4)+":", p),
	}, time.Now().Add(10*time.Second).UnixMilli() * 1000
}

type stepper struct {
	t    *testing.T
	st   state
	base int64
	seq  int
}

func (s *stepper) do(at int64, kind opKind, n int, settle ...settlement) (answer, []string) {
	s.t.Helper()
	ids := make([]string, n)
	for i := range ids {
		s.seq++
		ids[i] = fmt.Sprint("e", s.seq)
	}
	// Every reply here is waiter w: it may have marks from a refusal.
	a, err := s.st.run(context.Background(), op{kind: kind, ids: ids, settle: settle, now: s.base + at, waiter: "w", marked: true, maxWait: replyWait})
	if err != nil {
		s.t.Fatal(err)
	}
	return a, ids
}

func (s *stepper) want(at int64, kind opKind, n int, code int, settle ...settlement) ([]string, time.Duration) {
	s.t.Helper()
	a, ids := s.do(at, kind, n, settle...)
	if a.code != code {
		s.t.Fatalf("at %dms: kind %d ×%d answered %d (wait %v), want %d", at/ms, kind, n, a.code, a.wait, code)
	}
	return ids, a.wait
}

func eachState(t *testing.T, f func(t *testing.T, s *stepper)) {
	sts, base := states(t)
	for _, name := range []string{"memory", "redis"} {
		t.Run(name, func(t *testing.T) { f(t, &stepper{t: t, st: sts[name], base: base}) })
	}
}

// An entry counts from its admission until a window after the moment its
// send was answered (the latest it can have reached the platform), not
// after its admission; one never sent is given back at once; one not yet
// answered counts however long it takes.
func TestBudgetCountsEachSendUntilAWindowAfterItsAnswer(t *testing.T) {
	eachState(t, func(t *testing.T, s *stepper) {
		first, _ := s.want(0, opAdmit, 1, ansAdmitted)
		rest, _ := s.want(0, opAdmit, 28, ansAdmitted)
		slow, _ := s.want(1*ms, opAdmit, 1, ansAdmitted)
		// Full: a waiting message keeps its turn and comes back later.
		if _, w := s.want(2*ms, opAdmit, 1, ansBooked); w <= 0 {
			t.Fatalf("refused with no wait")
		}
		// The first was answered 50 ms after its admission: it counts
		// until 1.05 s, not 1 s.
		s.want(1010*ms, opReply, 1, ansRefused, settlement{first[0], s.base + 50*ms})
		for _, id := range rest {
			s.want(20*ms, opSettle, 0, ansSettled, settlement{id, s.base + 10*ms})
		}
		// 28 left at 1.01 s; the first and the slow one still count, and
		// replies are admitted in the room the 28 left.
		r1, _ := s.want(1011*ms, opReply, 1, ansAdmitted)
		r2, _ := s.want(1012*ms, opReply, 1, ansAdmitted)
		// 2 s later the slow one, never answered, and the two replies,
		// not answered yet, still count: 28 more do not fit...
		s.want(3000*ms, opAdmit, 28, ansBooked)
		// ...until a reply never sent is given back.
		s.want(3001*ms, opAdmit, 28, ansAdmitted, settlement{r1[0], -1})
		// The slow one answered at 2.5 s counts until 3.5 s.
		s.want(3002*ms, opSettle, 0, ansSettled, settlement{slow[0], s.base + 2500*ms}, settlement{r2[0], s.base + 3100*ms})
		s.want(3400*ms, opReply, 1, ansRefused)
		if _, w := s.want(3499*ms, opReply, 1, ansRefused); w > 2*time.Millisecond {
			t.Errorf("told to wait %v for an entry leaving in 1 ms", w)
		}
		s.want(3501*ms, opReply, 1, ansAdmitted)
	})
}

// Replies waiting for room go before waiting messages; replies that would
// wait longer than replyWait go out anyway and are counted.
func TestBudgetRepliesFirst(t *testing.T) {
	eachState(t, func(t *testing.T, s *stepper) {
		ids, _ := s.want(0, opAdmit, 30, ansAdmitted)
		for i, id := range ids {
			s.want(1*ms, opSettle, 0, ansSettled, settlement{id, s.base + 10*ms + int64(i)*33*ms})
		}
		// At 1.001 s the first leaves in 9 ms: a reply waits for it.
		_, w := s.want(1001*ms, opReply, 1, ansRefused)
		if w <= 0 || w > 33*time.Millisecond {
			t.Fatalf("the reply was told to wait %v, want the next opening (≤ 33 ms)", w)
		}
		// The opening comes; a broadcast message asking first does not
		// take it from the waiting reply.
		s.want(1011*ms, opAdmit, 1, ansBooked)
		s.want(1012*ms, opReply, 1, ansAdmitted)
		// Replies that would wait longer than replyWait (10 openings are
		// 327 ms away) still wait when the window holds a broadcast: a
		// 429 would pause everything...
		s.want(1013*ms, opReply, 10, ansRefused)
		// ...and go at once, counted, when replies alone fill it (more
		// than the platform allows, a load test).
		rs, _ := s.want(2000*ms, opReply, 30, ansAdmitted)
		for _, id := range rs {
			s.want(2001*ms, opSettle, 0, ansSettled, settlement{id, s.base + 2001*ms})
		}
		s.want(2100*ms, opReply, 2, ansAdmitted)
		// Counted: the window holds 32, and a waiting message finds no
		// room until the first of them leaves.
		if _, w := s.want(2101*ms, opAdmit, 1, ansBooked); w < 900*time.Millisecond {
			t.Errorf("after 32 replies a waiting message waits %v, want until 3.001 s", w)
		}
	})
}

// Waiting messages are spread one interval apart, at most horizon slots
// ahead; the first goes at once; replies move the next slot on; a pause
// holds every kind.
func TestBudgetSpacingAndPause(t *testing.T) {
	iv := newParams(Telegram).interval
	eachState(t, func(t *testing.T, s *stepper) {
		s.want(0, opBook, 1, ansAdmitted) // the first tick is not wasted
		for k := int64(1); k <= horizon; k++ {
			if _, w := s.want(0, opBook, 1, ansBooked); w != time.Duration(k*iv)*time.Microsecond {
				t.Fatalf("slot %d booked %v ahead, want %v", k, w, time.Duration(k*iv)*time.Microsecond)
			}
		}
		if _, w := s.want(0, opBook, 1, ansRefused); w <= 0 {
			t.Fatal("beyond the horizon: no wait")
		}
		// Two replies at 1 s (the slots booked are past) move the next
		// slot two intervals on.
		s.want(1000*ms, opReply, 2, ansAdmitted)
		if _, w := s.want(1000*ms, opBook, 1, ansBooked); w != time.Duration(2*iv)*time.Microsecond {
			t.Errorf("after two replies the next slot is %v ahead, want %v", w, time.Duration(2*iv)*time.Microsecond)
		}
		if err := s.st.pause(context.Background(), time.UnixMicro(s.base+1500*ms)); err != nil {
			t.Fatal(err)
		}
		for _, k := range []opKind{opBook, opAdmit, opReply} {
			if _, w := s.want(1200*ms, k, 1, ansPaused); w != 300*time.Millisecond {
				t.Errorf("kind %d in a pause: wait %v, want 300ms", k, w)
			}
		}
		s.want(1501*ms, opBook, 1, ansAdmitted)
	})
}

// A simulation on the test's clock: callers in three processes, each
// admitted message reaching the platform at a random moment between its
// admission and its answer (up to 80 ms later, as a busy machine makes
// it), waking up to 40 ms late, answers told with a delay; replies in
// between. However the delays fall, no second at the platform gets more
// than 30 — the rule the fake Bot API enforces.
func TestBudgetNeverMoreThanTheLimitInAnySecond(t *testing.T) {
	for _, tc := range []struct {
		name    string
		stalls  bool
		minRate float64
	}{
		// Not wall-clock rates: the budget's own accounting on the
		// test's clock, so the waste is the delays' and nothing else.
		{"delays", false, 25},
		// Every 2 s every caller stops for 150–450 ms (a machine too busy
		// to schedule them, a process paused): the senders then wake
		// together, and a second later the window's openings come
		// together too — still never more than 30 in a second.
		{"stalls", true, 25},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eachState(t, func(t *testing.T, s *stepper) {
				rate, worst := simulate(s, tc.stalls)
				t.Logf("%.1f messages a second on the test's clock; most in any second: %d", rate, worst)
				if worst > 30 {
					t.Errorf("%d messages reached the platform within one second", worst)
				}
				if rate < tc.minRate {
					t.Errorf("%.1f messages a second: the budget wastes more than the delays explain (want ≥ %.1f)", rate, tc.minRate)
				}
			})
		})
	}
}

// simulate runs the callers for 20 s of the test's clock and returns the
// messages a second and the most that reached the platform in any second.
func simulate(s *stepper, stalls bool) (float64, int) {
	r := rand.New(rand.NewPCG(1, 2))
	type caller struct {
		at   int64 // next moment it acts
		kind opKind
	}
	var arrivals []int64
	var settles []settlement
	now := int64(0)
	// 8 broadcast senders, 2 repliers.
	cs := make([]*caller, 10)
	for i := range cs {
		cs[i] = &caller{kind: opBook}
		if i >= 8 {
			cs[i].kind = opReply
			cs[i].at = int64(r.IntN(2000)) * ms
		}
	}
	stallAt := int64(1000 * ms)
	for now < 20_000*ms {
		// The caller due first acts.
		c := cs[0]
		for _, x := range cs {
			if x.at < c.at {
				c = x
			}
		}
		now = c.at
		if stalls && now >= stallAt {
			// Everyone due from now is held until the stall ends.
			end := stallAt + int64(150+r.IntN(300))*ms
			for _, x := range cs {
				x.at = max(x.at, end)
			}
			stallAt += 2000 * ms
			continue
		}
		n := 1
		if c.kind == opReply {
			n = 1 + r.IntN(3)
		}
		a, ids := s.do(now, c.kind, n, settles...)
		settles = nil
		late := int64(r.IntN(40)) * ms
		switch a.code {
		case ansAdmitted:
			for _, id := range ids {
				arrive := now + int64(r.IntN(80_000))
				answered := arrive + int64(r.IntN(20_000))
				arrivals = append(arrivals, arrive)
				settles = append(settles, settlement{id, s.base + answered})
			}
			if c.kind == opReply {
				c.at = now + int64(500+r.IntN(1500))*ms
			} else {
				c.kind, c.at = opBook, now+late
			}
		case ansBooked:
			c.kind, c.at = opAdmit, now+a.wait.Microseconds()+late
		default:
			if c.kind != opReply {
				c.kind = opBook
			}
			c.at = now + a.wait.Microseconds() + late
		}
	}
	sort.Slice(arrivals, func(i, j int) bool { return arrivals[i] < arrivals[j] })
	worst, j := 0, 0
	for i := range arrivals {
		for arrivals[i]-arrivals[j] >= 1000*ms {
			j++
		}
		worst = max(worst, i-j+1)
	}
	return float64(len(arrivals)) / 20, worst
}

// Replies far beyond the limit (a load test: hundreds a second) leave
// only the newest limit of the answered entries in the log, and the
// budget answers every step exactly as the full log does: the same
// random steps — bursts of replies, waiting messages, answers told late,
// tickets given back — go to a budget keeping every entry (the reference),
// pending is a step's answer the test tells later.
type pending struct {
	id string
	at int64 // when its answer is told
	to int64 // the answer (µs on the test's clock), -1: given back
}

// due splits waiting into the answers told at now (those due and picked by
// tell) and the rest.
func due(waiting []pending, now, base int64, tell func() bool) ([]settlement, []pending) {
	var settle []settlement
	rest := waiting[:0]
	for _, w := range waiting {
		if w.at <= now && tell() {
			at := w.to
			if at >= 0 {
				at += base
			}
			settle = append(settle, settlement{w.id, at})
		} else {
			rest = append(rest, w)
		}
	}
	return settle, rest
}

// the trimmed one in memory and the one in Redis.
func TestBudgetTrimChangesNoAnswer(t *testing.T) {
	sts, base := states(t)
	ref := newMemState(newParams(Telegram))
	ref.trimAt = math.MaxInt
	// Trimmed at every step beyond the limit (the tightest the trim may
	// be); Redis trims at twice the limit, as memory does by default.
	mem := sts["memory"].(*memState)
	mem.trimAt = Telegram.PerSecond
	targets := []struct {
		name string
		st   state
	}{{"reference", ref}, {"memory", mem}, {"redis", sts["redis"]}}
	r := rand.New(rand.NewPCG(3, 4))
	var waiting []pending
	seq, most := 0, 0
	for now := int64(0); now < 6000*ms; now += int64(1+r.IntN(4)) * ms {
		// Answers due by now are told with this step.
		var settle []settlement
		settle, waiting = due(waiting, now, base, func() bool { return true })
		kind, n := opReply, 1+r.IntN(3)
		switch {
		case now > 3000*ms && now < 4000*ms:
			// A quiet second: the replies' answers all told, the window
			// emptying while the entries dropped would still count, a
			// waiting message asking now and then (its wait is the
			// opening the trimmed log must still know).
			kind, n = opSettle, 0
			if r.IntN(8) == 0 {
				kind, n = opAdmit, 1
			}
		case r.IntN(4) == 0:
			kind, n = []opKind{opBook, opAdmit}[r.IntN(2)], 1
		}
		ids := make([]string, n)
		for i := range ids {
			seq++
			ids[i] = fmt.Sprint("t", seq)
		}
		x := op{kind: kind, ids: ids, settle: settle, now: base + now, waiter: fmt.Sprint("w", seq), maxWait: replyWait}
		var want answer
		for i, tg := range targets {
			a, err := tg.st.run(context.Background(), x)
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				want = a
			} else if a.code != want.code || a.wait != want.wait {
				t.Fatalf("at %d ms, kind %d ×%d: %s answered %d (wait %v), the full log %d (wait %v)",
					now/ms, kind, n, tg.name, a.code, a.wait, want.code, want.wait)
			}
		}
		if want.code == ansAdmitted {
			for _, id := range ids {
				to := now + int64(r.IntN(30_000))
				if r.IntN(20) == 0 {
					to = -1
				}
				waiting = append(waiting, pending{id, now + int64(r.IntN(300_000)), to})
			}
		}
		most = max(most, len(ref.sent))
		if want.code == ansAdmitted && len(ref.sent) > Telegram.PerSecond {
			// Admitted into a full log: trimmed to the limit answered.
			answered := 0
			for _, at := range mem.sent {
				if at <= base+now {
					answered++
				}
			}
			if answered > Telegram.PerSecond {
				t.Fatalf("at %d ms the trimmed log holds %d answered entries, the full one %d", now/ms, answered, len(ref.sent))
			}
		}
	}
	if most < 200 {
		t.Fatalf("the full log held at most %d entries: the replies never overran it", most)
	}
}

// The steps one process asks at the same moment go to Redis in one script
// run (redisState.runSteps), one after another: each answers exactly as
// it does asked alone, in memory and in Redis — random moments of one to
// six steps of every kind (bursts of replies beyond the limit, waiting
// messages booking and coming back, answers told late, tickets given
// back, a pause).
func TestBudgetStepsTogetherAnswerAsOneByOne(t *testing.T) {
	p := newParams(Telegram)
	opt, err := goredis.ParseURL(testenv.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	rdb := goredis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	prefix := testenv.Prefix(t) + "pace:" + testenv.RandomHex(4)
	mem := newMemState(p)
	alone := newRedisState(rdb, prefix+"a:", p)
	together := newRedisState(rdb, prefix+"b:", p)
	base := time.Now().Add(10*time.Second).UnixMilli() * 1000
	ctx := context.Background()
	r := rand.New(rand.NewPCG(5, 6))
	var waiting []pending
	seq, steps, batched := 0, 0, 0
	codes := map[int]int{}
	for now := int64(0); now < 4000*ms; now += int64(1+r.IntN(8)) * ms {
		if now > 1500*ms && now < 1520*ms {
			until := time.UnixMicro(base + now + 150*ms)
			for _, st := range []state{mem, alone, together} {
				if err := st.pause(ctx, until); err != nil {
					t.Fatal(err)
				}
			}
		}
		var xs []op
		for range 1 + r.IntN(6) {
			var settle []settlement
			settle, waiting = due(waiting, now, base, func() bool { return r.IntN(2) == 0 })
			kind, n := opReply, 1+r.IntN(3)
			switch r.IntN(6) {
			case 0:
				kind, n = opBook, 1
			case 1:
				kind, n = opAdmit, 1
			case 2:
				kind, n = opSettle, 0
			}
			ids := make([]string, n)
			for i := range ids {
				seq++
				ids[i] = fmt.Sprint("t", seq)
			}
			xs = append(xs, op{kind: kind, ids: ids, settle: settle, now: base + now, waiter: fmt.Sprint("w", seq),
				maxWait: time.Duration(r.IntN(400)) * time.Millisecond})
		}
		got, err := together.runSteps(ctx, together.piped, xs)
		if err != nil {
			t.Fatal(err)
		}
		if len(xs) > 1 {
			batched++
		}
		for i, x := range xs {
			want, err := mem.run(ctx, x)
			if err != nil {
				t.Fatal(err)
			}
			a, err := alone.run(ctx, x)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				name string
				a    answer
			}{{"redis alone", a}, {"redis together", got[i]}} {
				if c.a.code != want.code || c.a.wait != want.wait {
					t.Fatalf("at %d ms, step %d of %d (kind %d ×%d): %s answered %d (wait %v), memory %d (wait %v)",
						now/ms, i+1, len(xs), x.kind, len(x.ids), c.name, c.a.code, c.a.wait, want.code, want.wait)
				}
			}
			steps++
			codes[want.code]++
			if want.code == ansAdmitted {
				for _, id := range x.ids {
					to := now + int64(r.IntN(30_000))
					if r.IntN(20) == 0 {
						to = -1
					}
					waiting = append(waiting, pending{id, now + int64(r.IntN(300_000)), to})
				}
			}
		}
	}
	t.Logf("%d steps, %d moments of several; answers by code %v", steps, batched, codes)
	for _, c := range []int{ansSettled, ansAdmitted, ansBooked, ansRefused, ansPaused} {
		if codes[c] == 0 {
			t.Errorf("no step answered %d: the steps did not cover every answer", c)
		}
	}
}

// A reply admitted after a refusal takes its marks among the waiting
// replies away (waiting messages get their openings back at once); a
// reply never refused has none, and its step does not look. The sets'
// expiry is set once per run, for every set a step added to.
func TestBudgetAdmittedReplyTakesItsMarks(t *testing.T) {
	sts, base := states(t)
	rs := sts["redis"].(*redisState)
	ctx := context.Background()
	rdb := rs.rdb.(*goredis.Client)
	if err := rdb.ZAdd(ctx, rs.keys[3], goredis.Z{Score: float64(base + 60_000*ms), Member: "w#0"}, goredis.Z{Score: float64(base + 60_000*ms), Member: "v#0"}).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := rs.run(ctx, op{kind: opReply, ids: []string{"e1"}, now: base, waiter: "w", marked: true, maxWait: replyWait}); err != nil {
		t.Fatal(err)
	}
	if _, err := rs.run(ctx, op{kind: opReply, ids: []string{"e2"}, now: base + ms, waiter: "v", maxWait: replyWait}); err != nil {
		t.Fatal(err)
	}
	left, err := rdb.ZRange(ctx, rs.keys[3], 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(left) != "[v#0]" {
		t.Errorf("marks left %v, want [v#0] (w's taken by its admission; v was not marked)", left)
	}
	for _, k := range []string{rs.keys[0], rs.keys[4]} {
		if ttl, err := rdb.PTTL(ctx, k).Result(); err != nil || ttl <= 0 {
			t.Errorf("PTTL(%s) = %v, %v; want the log's expiry", k, ttl, err)
		}
	}
}
