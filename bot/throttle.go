package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
	"github.com/dieuphoi/dieuphoi/internal/coalesce"
	"github.com/dieuphoi/dieuphoi/storage"
)

// Limiter counts events per key in fixed windows, shared by every process
// (storage/redis) or kept in memory (memLimiter, the embedded default).
type Limiter interface {
	// Count returns the events of key in its current window.
	Count(ctx context.Context, key string) (int64, error)
	// Hit records one event of key and returns the count, the window
	// starting with the first event.
	Hit(ctx context.Context, key string, window time.Duration) (int64, error)
}

// Invite-code guessing limits. The flows pause one chat after 5 wrong
// tries; these bound what fresh chats cannot get around: failed attempts
// from one source (a web client's address, a Telegram or Zalo account), and
// attempts on one code or token from anywhere (a code is one person's; a
// few dozen chats using it within an hour is not that person).
const (
	GuessPerSource  = 10
	GuessSourceSpan = 15 * time.Minute
	GuessPerCode    = 10
	GuessCodeSpan   = time.Hour
	// guessAlertSpan spaces the staff alerts: at most one in this time,
	// however many sources are blocked.
	guessAlertSpan = 10 * time.Minute
)

// attempt is an input that tries to identify an unknown chat.
type attempt struct {
	source string // "src:<channel>:<source>"
	code   string // "code:<normalised code or token>"
}

// identifyAttempt returns the attempt in, nil when it is none: a code-shaped
// text or /start with a token, from a chat linked to nobody.
func identifyAttempt(in Inbound) *attempt {
	var code string
	switch in.Input.Kind {
	case flows.InText:
		code = domain.NormalizeCode(in.Input.Text)
	case flows.InCommand:
		if in.Input.Command == "start" {
			code = strings.TrimSpace(in.Input.Text)
			if len(code) > 100 {
				code = code[:100]
			}
		}
	}
	if code == "" {
		return nil
	}
	src := in.Source
	if src == "" {
		src = in.UserID
	}
	return &attempt{source: "src:" + string(in.Key.Channel) + ":" + src, code: "code:" + code}
}

// batchLimiter is a Limiter that counts or hits several keys in one round
// trip (storage/redis: MGET, a pipeline).
type batchLimiter interface {
	Counts(ctx context.Context, keys ...string) ([]int64, error)
	Hits(ctx context.Context, keys []string, windows []time.Duration) ([]int64, error)
}

// counts reads the counts of keys: in one round trip from a
// batchLimiter, else one key after another.
func (d *Dispatcher) counts(ctx context.Context, keys ...string) ([]int64, error) {
	if b, ok := d.limiter.(batchLimiter); ok {
		return b.Counts(ctx, keys...)
	}
	out := make([]int64, len(keys))
	for i, k := range keys {
		n, err := d.limiter.Count(ctx, k)
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}

// hits records one event of each key (in its window) and returns their
// counts: in one round trip on a batchLimiter, else one after another.
func (d *Dispatcher) hits(ctx context.Context, keys []string, windows []time.Duration) ([]int64, error) {
	if b, ok := d.limiter.(batchLimiter); ok {
		return b.Hits(ctx, keys, windows)
	}
	out := make([]int64, len(keys))
	for i, k := range keys {
		n, err := d.limiter.Hit(ctx, k, windows[i])
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}

// guessRead is the guessing counters of an update's attempt, read ahead
// (prefetchGuess).
type guessRead struct {
	a    attempt
	done chan struct{}
	n    []int64
	err  error
}

// guessRideWait bounds how long the read of the guessing counters waits
// for the begin it rides, hitsRideWait their counts for the session save
// (made after the effects are applied: a link's take a few milliseconds;
// the handler waits for the counts before it returns either way).
const (
	guessRideWait = 20 * time.Millisecond
	hitsRideWait  = 50 * time.Millisecond
)

// prefetchGuess starts reading the guessing counters of in's attempt, when
// it may be one (an account linked to nobody when the update was stored),
// so that the read rides the round trip of the turn's begin made next
// (coalesce.Ride; storage/redis) instead of taking one of its own once the
// facts say the chat is linked to nobody. It returns once the read is
// queued; nil when nothing is read ahead.
func (d *Dispatcher) prefetchGuess(ctx context.Context, in Inbound) *guessRead {
	if in.FactsAt.Person != "" {
		return nil
	}
	if _, ok := d.limiter.(batchLimiter); !ok {
		return nil
	}
	a := identifyAttempt(in)
	if a == nil {
		return nil
	}
	g := &guessRead{a: *a, done: make(chan struct{})}
	rctx, queued := coalesce.Ride(ctx, guessRideWait)
	go func() {
		defer close(g.done)
		g.n, g.err = d.counts(rctx, "guess:"+a.source, "guess:"+a.code)
	}()
	select {
	case <-queued:
	case <-g.done:
	}
	return g
}

// beginTurn begins in's turn, reading the guessing counters of in's
// attempt with it when it may be one (prefetchGuess): in the same script
// run when the session store keeps the counters too
// (storage.ReadingBegin), else riding the begin's round trip.
func (d *Dispatcher) beginTurn(ctx context.Context, in Inbound, chat, key string) (storage.Turn, *guessRead, error) {
	if rb, ok := d.sessions.(storage.ReadingBegin); ok && in.FactsAt.Person == "" && any(d.limiter) == any(d.sessions) {
		if a := identifyAttempt(in); a != nil {
			g := &guessRead{a: *a, done: make(chan struct{})}
			defer close(g.done)
			turn, n, err := rb.BeginReading(ctx, chat, key, "guess:"+a.source, "guess:"+a.code)
			g.n = n
			if len(n) != 2 {
				g.err = errors.New("guessing counters not read")
			}
			return turn, g, err
		}
	}
	pre := d.prefetchGuess(ctx, in) // rides the begin
	turn, err := d.sessions.Begin(ctx, chat, key)
	return turn, pre, err
}

// guessBlocked reports whether a's source or code is over its limit, from
// the counters read ahead when pre read them.
func (d *Dispatcher) guessBlocked(ctx context.Context, a *attempt, pre *guessRead, log *slog.Logger) bool {
	var n []int64
	var err error
	if pre != nil && pre.a == *a {
		<-pre.done
		n, err = pre.n, pre.err
	} else {
		n, err = d.counts(ctx, "guess:"+a.source, "guess:"+a.code)
	}
	if err != nil {
		log.Warn("guess throttle", "err", err)
		return false // an outage of the counters does not lock people out
	}
	return n[0] >= GuessPerSource || n[1] >= GuessPerCode
}

// recordAttempt counts a: a failure against its source, any attempt
// against its code. When either reaches its limit now, staff are told
// (at most one alert per guessAlertSpan) and it is audited.
func (d *Dispatcher) recordAttempt(ctx context.Context, a *attempt, linked bool, log *slog.Logger) {
	d.recordAttemptHits(ctx, ctx, a, linked, log)
}

// recordAttemptRiding is recordAttempt with the counts riding the round
// trip of the session save made next (coalesce.Ride): it returns once they
// are queued, and the func that waits for the rest.
func (d *Dispatcher) recordAttemptRiding(ctx context.Context, a *attempt, linked bool, log *slog.Logger) (wait func()) {
	if _, ok := d.limiter.(batchLimiter); !ok {
		d.recordAttempt(ctx, a, linked, log)
		return func() {}
	}
	rctx, queued := coalesce.Ride(ctx, hitsRideWait)
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.recordAttemptHits(ctx, rctx, a, linked, log)
	}()
	select {
	case <-queued:
	case <-done:
	}
	return func() { <-done }
}

// recordAttemptHits is recordAttempt with the counts made with hctx.
func (d *Dispatcher) recordAttemptHits(ctx, hctx context.Context, a *attempt, linked bool, log *slog.Logger) {
	keys, windows := []string{"guess:" + a.code}, []time.Duration{GuessCodeSpan}
	if !linked {
		keys, windows = append(keys, "guess:"+a.source), append(windows, GuessSourceSpan)
	}
	n, err := d.hits(hctx, keys, windows)
	if err != nil {
		log.Warn("guess throttle", "err", err)
		return
	}
	var reached []string
	if !linked && n[1] == GuessPerSource {
		reached = append(reached, fmt.Sprintf("source %s: %d wrong codes in %s", clipData(a.source), n[1], GuessSourceSpan))
	}
	if n[0] == GuessPerCode {
		// The code itself stays out of logs and the audit: it is a secret.
		reached = append(reached, fmt.Sprintf("one code: %d attempts in %s", n[0], GuessCodeSpan))
	}
	if len(reached) == 0 {
		return
	}
	detail := strings.Join(reached, "; ")
	log.Warn("invite code guessing throttled", "detail", detail)
	d.audit(ctx, "", "identify.throttled", detail, "", log)
	if n, err := d.limiter.Hit(ctx, "guess:alert", guessAlertSpan); err != nil || n != 1 {
		return
	}
	var notices []flows.Notice
	for _, p := range d.dir.Load().People() {
		if p.Has(domain.RoleStaff) {
			notices = append(notices, flows.Notice{PersonID: p.ID, Replies: []flows.Reply{{
				Text: flows.Text(domain.Vietnamese, "guess_alert", int(GuessSourceSpan.Minutes())),
			}}})
		}
	}
	d.notify(ctx, notices, log)
}

// memLimiter is a Limiter in memory, for one process. It forgets expired
// windows as it goes and never holds more than memLimiterMax keys.
type memLimiter struct {
	mu  sync.Mutex
	m   map[string]memWindow
	now func() time.Time
}

type memWindow struct {
	n   int64
	end time.Time
}

const memLimiterMax = 100000

func newMemLimiter() *memLimiter {
	return &memLimiter{m: map[string]memWindow{}, now: time.Now}
}

func (l *memLimiter) Count(_ context.Context, key string) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	w, ok := l.m[key]
	if !ok || !l.now().Before(w.end) {
		return 0, nil
	}
	return w.n, nil
}

func (l *memLimiter) Hit(_ context.Context, key string, window time.Duration) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	w, ok := l.m[key]
	if !ok || !now.Before(w.end) {
		if len(l.m) >= memLimiterMax {
			for k, v := range l.m {
				if !now.Before(v.end) {
					delete(l.m, k)
				}
			}
			if len(l.m) >= memLimiterMax {
				clear(l.m) // under a flood of keys: start afresh rather than grow
			}
		}
		w = memWindow{end: now.Add(window)}
	}
	w.n++
	l.m[key] = w
	return w.n, nil
}
