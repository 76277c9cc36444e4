package pace

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dieuphoi/dieuphoi/bot"
)

// The overall budget (PerSecond in any second, all chats) is a
// sliding-window log of the sends themselves, checked at the moment a send
// is let out and kept for all processes in one place (one Lua script in
// Redis, or memory): every send is an entry, counted from the moment it
// was admitted until one window after its answer came back. The platform
// counts a message when it arrives, some time between the two; counting
// it for a whole window after the latest moment it can have arrived, and
// the next one from the earliest it can arrive, keeps every window the
// platform may look at within the limit whatever the delays in between (a
// sender woken late, a slow round trip), which booked slots alone cannot
// (each late message put 31 in some second).
//
// A spacing pointer (GCRA: the next free slot, one interval apart) spreads
// waiting messages over the second instead of 30 at once, so that a reply
// finds the next opening near; replies move it on too, so a broadcast
// steps aside for them. Replies waiting for an opening go before waiting
// messages. Replies beyond the limit (a load test) leave only the newest
// limit answered entries in the log (trim): no answer changes, and each
// step works on tens of entries instead of hundreds.

// opKind is what one step on the budget asks.
type opKind int

const (
	opSettle opKind = iota // only apply the settlements
	opBook                 // a waiting message's slot; admitted at once when it is now
	opAdmit                // a waiting message at its slot
	opReply                // replies: admitted first, anyway beyond maxWait
)

// answer codes, the same in memory and in the Lua script.
const (
	ansSettled  = 0
	ansAdmitted = 1
	ansBooked   = 2 // come back with opAdmit after wait
	ansRefused  = 3 // come back (opBook, or opReply) after wait
	ansPaused   = 4
)

// settlement moves an entry to the moment its send's answer came (at, in
// µs on the budget's clock), or removes it (at < 0: never sent).
type settlement struct {
	id string
	at int64
}

type op struct {
	kind    opKind
	ids     []string      // the entries admitted, one per message
	waiter  string        // opReply: its mark among the replies waiting
	marked  bool          // opReply: the waiter's marks may be there (it was refused before)
	maxWait time.Duration // opReply
	settle  []settlement
	now     int64 // tests: the budget's clock (µs); 0: its own
}

type answer struct {
	code int
	wait time.Duration
	now  int64 // µs on the budget's clock when it ran
}

// params are the budget's numbers, in µs.
type params struct {
	limit    int
	window   int64 // the platform's window
	interval int64 // spacing of waiting messages
	horizon  int64 // how far ahead a slot may be booked
	pending  int64 // how long an admitted entry counts before it is settled
}

func newParams(lim Limits) params {
	w := time.Second.Microseconds()
	iv := int64(float64(w) * spacing / float64(lim.PerSecond))
	return params{limit: lim.PerSecond, window: w, interval: iv, horizon: horizon * iv, pending: pendingHold.Microseconds()}
}

// state holds the budget: memory or Redis.
type state interface {
	run(ctx context.Context, o op) (answer, error)
	pause(ctx context.Context, until time.Time) error
}

// ticket is one admitted message, not yet answered.
type ticket struct {
	id      string
	at      int64     // admitted, µs on the budget's clock
	asked   time.Time // this process's clock before it asked
	expires time.Time // unused until then: given back
	used    bool
	chat    string
}

// overall is the budget's client in one process: it asks the state, holds
// the tickets admitted ahead of their send (a step's replies, counted while
// the session is saved; a broadcast message admitted by Wait) and settles
// each when its send is answered — with the next step it asks, or after
// settleDelay (one round trip per send).
type overall struct {
	st          state
	p           params
	settleDelay time.Duration // 0: at once
	sameClock   bool          // the state's clock is this process's (memory)
	prefix      string
	seq         atomic.Uint64

	// The budget's clock minus this process's is at most the smallest
	// (its time when a step ran − this clock's before it was asked): the
	// step ran after it was asked. The smallest of this period and the
	// last (offPeriod each) bounds it tightly and follows a clock step.
	offMin  [2]int64
	offSet  [2]bool
	offFrom time.Time

	mu      sync.Mutex
	pre     map[string][]*ticket // admitted, by chat, waiting for their send
	queue   []*ticket            // the same in admission order, to give back the stale
	settles []settlement
	timer   *time.Timer
}

func newOverall(st state, lim Limits, settleDelay time.Duration) *overall {
	_, mem := st.(*memState)
	return &overall{st: st, p: newParams(lim), settleDelay: settleDelay, sameClock: mem,
		prefix: strconv.FormatUint(rand.Uint64(), 36) + ":", pre: map[string][]*ticket{}}
}

// offPeriod is how long a bound of the clocks' offset is kept.
const offPeriod = 10 * time.Second

func (o *overall) observe(off int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if now := time.Now(); now.Sub(o.offFrom) > offPeriod {
		o.offMin[1], o.offSet[1] = o.offMin[0], o.offSet[0]
		o.offSet[0], o.offFrom = false, now
	}
	if !o.offSet[0] || off < o.offMin[0] {
		o.offMin[0], o.offSet[0] = off, true
	}
}

// offset is the bound of the budget's clock minus this process's.
func (o *overall) offset() (int64, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	switch {
	case o.offSet[0] && o.offSet[1]:
		return min(o.offMin[0], o.offMin[1]), true
	case o.offSet[0]:
		return o.offMin[0], true
	}
	return 0, false
}

func (o *overall) newID() string { return o.prefix + strconv.FormatUint(o.seq.Add(1), 36) }

// run asks the state, carrying the settlements waiting.
func (o *overall) run(ctx context.Context, x op) (answer, error) {
	o.mu.Lock()
	o.sweepLocked(time.Now())
	x.settle, o.settles = o.settles, nil
	o.mu.Unlock()
	t0 := time.Now()
	a, err := o.st.run(ctx, x)
	if err == nil && !o.sameClock {
		o.observe(a.now - t0.UnixMicro())
	}
	if err != nil {
		// Given back for the next try: an entry not settled counts as
		// pending meanwhile, which errs on the safe side.
		o.mu.Lock()
		o.settles = append(x.settle, o.settles...)
		o.mu.Unlock()
		return a, fmt.Errorf("pace: %w", err)
	}
	return a, nil
}

// settle records s: at once in memory, with the next step (or after
// settleDelay) in Redis.
func (o *overall) settle(s settlement) {
	o.mu.Lock()
	o.settles = append(o.settles, s)
	if o.settleDelay > 0 && o.timer == nil {
		o.timer = time.AfterFunc(o.settleDelay, o.flush)
	}
	o.mu.Unlock()
	if o.settleDelay == 0 {
		o.flush()
	}
}

func (o *overall) flush() {
	o.mu.Lock()
	o.timer = nil
	empty := len(o.settles) == 0
	o.mu.Unlock()
	if empty {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, _ = o.run(ctx, op{kind: opSettle})
}

// sweepLocked gives back the tickets nobody sent in time.
func (o *overall) sweepLocked(now time.Time) {
	i := 0
	for ; i < len(o.queue) && o.queue[i].expires.Before(now); i++ {
		t := o.queue[i]
		if t.used {
			continue
		}
		t.used = true
		ts := o.pre[t.chat]
		for j, u := range ts {
			if u == t {
				ts = append(ts[:j:j], ts[j+1:]...)
				break
			}
		}
		if len(ts) == 0 {
			delete(o.pre, t.chat)
		} else {
			o.pre[t.chat] = ts
		}
		o.settles = append(o.settles, settlement{id: t.id, at: -1})
	}
	o.queue = o.queue[i:]
}

// hold keeps tickets admitted ahead for chat's next sends.
func (o *overall) hold(chat string, ts []*ticket) {
	o.mu.Lock()
	defer o.mu.Unlock()
	exp := time.Now().Add(ticketTTL)
	for _, t := range ts {
		t.chat, t.expires = chat, exp
		o.pre[chat] = append(o.pre[chat], t)
		o.queue = append(o.queue, t)
	}
}

// take returns a ticket admitted ahead for chat, or nil.
func (o *overall) take(chat string) *ticket {
	o.mu.Lock()
	defer o.mu.Unlock()
	ts := o.pre[chat]
	if len(ts) == 0 {
		return nil
	}
	t := ts[0]
	t.used = true
	if len(ts) == 1 {
		delete(o.pre, chat)
	} else {
		o.pre[chat] = ts[1:]
	}
	return t
}

// done is called when t's send was answered: its entry then counts until
// a window after now (the latest it can have reached the platform).
func (o *overall) done(t *ticket) func() {
	var once sync.Once
	return func() {
		at := t.at + time.Since(t.asked).Microseconds()
		if o.sameClock {
			// The budget runs on this clock: the answer's moment is known
			// exactly, not only bounded by the time since asking.
			at = time.Now().UnixMicro()
		} else if off, ok := o.offset(); ok {
			// The answer on the budget's clock, bounded by the tightest
			// offset seen rather than by this round trip, which on a busy
			// machine can be tens of milliseconds.
			at = min(at, time.Now().UnixMicro()+off)
		}
		once.Do(func() { o.settle(settlement{id: t.id, at: at}) })
	}
}

// waitTurn returns when one waiting message may go out, admitted: at its
// slot in the spacing, when the window has room and no reply waits.
func (o *overall) waitTurn(ctx context.Context) (*ticket, error) {
	kind := opBook
	for {
		id := o.newID()
		asked := time.Now()
		a, err := o.run(ctx, op{kind: kind, ids: []string{id}})
		if err != nil {
			return nil, err
		}
		wait := a.wait
		switch a.code {
		case ansAdmitted:
			return &ticket{id: id, at: a.now, asked: asked}, nil
		case ansBooked:
			kind = opAdmit
		default: // refused beyond the horizon, or paused: book again then
			kind = opBook
			// Every sender of every process was told the same moment:
			// spread them over the horizon, so that they do not all ask
			// again at every slot.
			wait += time.Duration(rand.Int64N(o.p.horizon)) * time.Microsecond
		}
		if !bot.Sleep(ctx, wait) {
			return nil, ctx.Err()
		}
	}
}

// replyTurn admits n replies: as soon as the window has room (before any
// waiting message), or anyway once they have waited replyWait (then the
// budget is overrun by replies alone, a load test, and the platform's 429
// is the backstop). A pause is waited out.
func (o *overall) replyTurn(ctx context.Context, n int) ([]*ticket, error) {
	waiter := o.newID()
	deadline := time.Now().Add(replyWait)
	marked := false
	for {
		ids := make([]string, n)
		for i := range ids {
			ids[i] = o.newID()
		}
		asked := time.Now()
		a, err := o.run(ctx, op{kind: opReply, ids: ids, waiter: waiter, marked: marked, maxWait: max(0, time.Until(deadline))})
		if err != nil {
			return nil, err
		}
		// A refused step marks its replies among those waiting.
		marked = marked || a.code == ansRefused
		if a.code == ansAdmitted {
			ts := make([]*ticket, n)
			for i, id := range ids {
				ts[i] = &ticket{id: id, at: a.now, asked: asked}
			}
			return ts, nil
		}
		if !bot.Sleep(ctx, a.wait) {
			return nil, ctx.Err()
		}
		if a.code == ansPaused {
			deadline = time.Now().Add(replyWait)
		}
	}
}

// admit returns when one message to chat may go out at once — with a
// ticket admitted ahead for chat, or after asking — and the func to call
// when its send is answered.
func (o *overall) admit(ctx context.Context, chat string, reply bool) (func(), error) {
	if t := o.take(chat); t != nil {
		return o.done(t), nil
	}
	if reply {
		ts, err := o.replyTurn(ctx, 1)
		if err != nil {
			return nil, err
		}
		return o.done(ts[0]), nil
	}
	t, err := o.waitTurn(ctx)
	if err != nil {
		return nil, err
	}
	return o.done(t), nil
}

// ---------------------------------------------------------------- memory

// memState is the budget in this process's memory (the embedded default);
// the same steps as the Lua script in redis.go.
type memState struct {
	p       params
	mu      sync.Mutex
	sent    map[string]int64 // entry → µs: admitted+pending, or answered
	replies map[string]int64 // the same for the entries that are replies
	next    int64            // the next free slot of waiting messages
	paused  int64
	waiters map[string]int64 // a reply waiting → until when it counts
	trimAt  int              // the log is trimmed once the window holds more (trim)
}

func newMemState(p params) *memState {
	return &memState{p: p, sent: map[string]int64{}, replies: map[string]int64{}, waiters: map[string]int64{}, trimAt: 2 * p.limit}
}

func (m *memState) pause(_ context.Context, until time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.paused = max(m.paused, until.UnixMicro())
	return nil
}

func (m *memState) run(_ context.Context, x op) (answer, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := x.now
	if now == 0 {
		now = time.Now().UnixMicro()
	}
	p := m.p
	for _, s := range x.settle {
		if s.at < 0 {
			delete(m.sent, s.id)
			delete(m.replies, s.id)
		} else {
			m.sent[s.id] = s.at
			if _, ok := m.replies[s.id]; ok {
				m.replies[s.id] = s.at
			}
		}
	}
	us := func(v int64) time.Duration { return time.Duration(v) * time.Microsecond }
	if x.kind == opSettle {
		return answer{code: ansSettled, now: now}, nil
	}
	if m.paused > now {
		return answer{code: ansPaused, wait: us(m.paused - now), now: now}, nil
	}
	n := len(x.ids)
	if x.kind == opBook {
		slot := max(now, m.next)
		if slot-now > p.horizon {
			return answer{code: ansRefused, wait: us(slot - now - p.horizon + p.interval), now: now}, nil
		}
		m.next = slot + p.interval
		if slot > now {
			return answer{code: ansBooked, wait: us(slot - now), now: now}, nil
		}
	}
	scores := expire(m.sent, now-p.window)
	full := len(scores) > m.trimAt
	if full {
		scores = trim(m.sent, now, p.limit)
	}
	for id, until := range m.waiters {
		if until <= now {
			delete(m.waiters, id)
		}
	}
	cnt, lim := len(scores), p.limit
	if x.kind != opReply {
		lim -= len(m.waiters)
	}
	var wait int64
	if cnt+n > lim {
		k := cnt + n - lim
		wait = p.interval
		if k <= cnt {
			slices.Sort(scores)
			wait = scores[k-1] + p.window - now
		}
		wait = min(max(wait, minWait), p.window)
	}
	// Replies go out anyway, beyond maxWait, only when replies alone fill
	// the window (more than the platform allows: a load test); beside a
	// broadcast they wait for their opening, however long the machine
	// makes it, rather than draw a 429 that pauses everything.
	over := false
	if x.kind == opReply && us(wait) > x.maxWait {
		rs := expire(m.replies, now-p.window)
		if full {
			rs = trim(m.replies, now, p.limit)
		}
		over = len(rs)+n > p.limit
	}
	if wait == 0 || over {
		if x.kind == opReply && us(wait) <= x.maxWait {
			expire(m.replies, now-p.window)
			if full {
				trim(m.replies, now, p.limit)
			}
		}
		for _, id := range x.ids {
			m.sent[id] = now + p.pending
			if x.kind == opReply {
				m.replies[id] = now + p.pending
			}
		}
		if x.kind == opReply {
			for i := range n {
				delete(m.waiters, x.waiter+"#"+strconv.Itoa(i))
			}
			m.next = max(m.next, min(max(m.next, now)+int64(n)*p.interval, now+p.window))
		}
		return answer{code: ansAdmitted, now: now}, nil
	}
	if x.kind == opReply {
		// Each reply waiting keeps one opening from waiting messages.
		for i := range n {
			m.waiters[x.waiter+"#"+strconv.Itoa(i)] = now + wait + waiterSlack
		}
		return answer{code: ansRefused, wait: us(wait), now: now}, nil
	}
	// A waiting message the window has no room for keeps its turn: it
	// comes back when the room it needs is made (sent to the back of the
	// line instead, its slot would be lost whenever the window, not the
	// spacing, holds the pace). The slots booked from now on come after
	// that room: the spacing follows the window instead of sending more
	// messages to wait for the same opening.
	m.next = max(m.next, now+wait+p.interval)
	return answer{code: ansBooked, wait: us(wait), now: now}, nil
}

// expire drops the entries of log that left the window (at or before
// from) and returns the scores of the rest.
func expire(log map[string]int64, from int64) []int64 {
	scores := make([]int64, 0, len(log))
	for id, at := range log {
		if at <= from {
			delete(log, id)
		} else {
			scores = append(scores, at)
		}
	}
	return scores
}

// trim bounds a log overrun by replies (a load test: hundreds a second)
// to the limit newest of its answered entries, besides those pending,
// without changing any answer: an answered entry never moves again, so
// while one dropped would still count, the limit kept — answered no
// earlier — count too, the window is full either way, and the opening a
// step waits for is among the newest limit. (Pending entries may yet be
// answered earlier than these: never dropped.) Each step then works on
// tens of entries instead of hundreds. It runs once the window holds
// twice the limit (not at every step: its two commands would cost more
// than the smaller log saves). It returns the scores left.
func trim(log map[string]int64, now int64, limit int) []int64 {
	type entry struct {
		id string
		at int64
	}
	var done []entry
	for id, at := range log {
		if at <= now {
			done = append(done, entry{id, at})
		}
	}
	if len(done) > limit {
		// Ties broken by id, as Redis orders a sorted set.
		slices.SortFunc(done, func(a, b entry) int { return cmp.Or(cmp.Compare(a.at, b.at), strings.Compare(a.id, b.id)) })
		for _, e := range done[:len(done)-limit] {
			delete(log, e.id)
		}
	}
	scores := make([]int64, 0, len(log))
	for _, at := range log {
		scores = append(scores, at)
	}
	return scores
}

// minWait is the shortest wait the budget answers (µs): a retry sooner
// would find the same.
const minWait = 500

// waiterSlack is how long past its wait a reply's mark keeps waiting
// messages back (µs): the time to wake and ask again.
const waiterSlack = 100_000
