package pace

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/dieuphoi/dieuphoi/bot"
)

// Local is a Limiter for one process (the embedded default).
type Local struct {
	lim   Limits
	all   *rate.Limiter
	mu    sync.Mutex
	chats map[string]*rate.Limiter
	pause time.Time
}

// NewLocal paces by lim in memory.
func NewLocal(lim Limits) *Local {
	return &Local{lim: lim, chats: map[string]*rate.Limiter{},
		all: rate.NewLimiter(rate.Every(period(time.Second)/time.Duration(lim.PerSecond)), 1)}
}

func (l *Local) chat(chat string) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.chats[chat]
	if c == nil {
		if len(l.chats) > 10000 {
			// Forget chats idle for long: their limiters are full again.
			now := time.Now()
			for k, v := range l.chats {
				if v.TokensAt(now) >= float64(v.Burst()) {
					delete(l.chats, k)
				}
			}
		}
		every := period(time.Second) / time.Duration(l.lim.PerChatPerSecond)
		if group(chat) {
			every = period(time.Minute) / time.Duration(l.lim.PerGroupPerMinute)
		}
		c = rate.NewLimiter(rate.Every(every), 1)
		l.chats[chat] = c
	}
	return c
}

func (l *Local) waitPause(ctx context.Context) error {
	l.mu.Lock()
	until := l.pause
	l.mu.Unlock()
	if !bot.Sleep(ctx, time.Until(until)) {
		return ctx.Err()
	}
	return nil
}

// Wait implements Limiter.
func (l *Local) Wait(ctx context.Context, chat string) error {
	if err := l.waitPause(ctx); err != nil {
		return err
	}
	now := time.Now()
	r := l.chat(chat).ReserveN(now, 1)
	if d := r.DelayFrom(now); d > maxChatWait {
		r.CancelAt(now)
		return &BusyError{Wait: d}
	} else if !bot.Sleep(ctx, d) {
		r.Cancel()
		return ctx.Err()
	}
	return l.reserve(ctx)
}

// reserve books the next overall slot when it is at most horizon slots
// ahead and sleeps until it, as Redis.reserve does: a reply then finds the
// next free slot near.
func (l *Local) reserve(ctx context.Context) error {
	interval := period(time.Second) / time.Duration(l.lim.PerSecond)
	for {
		now := time.Now()
		r := l.all.ReserveN(now, 1)
		d := r.DelayFrom(now)
		if d < horizon*interval {
			if !bot.Sleep(ctx, d) {
				r.Cancel()
				return ctx.Err()
			}
			if k := lateSlots(time.Since(now.Add(d)), interval); k > 0 {
				if r := l.all.ReserveN(time.Now(), k); r.DelayFrom(time.Now()) > time.Second {
					r.Cancel()
				}
			}
			return nil
		}
		r.CancelAt(now)
		if !bot.Sleep(ctx, d-(horizon-1)*interval+rand.N(interval)) {
			return ctx.Err()
		}
	}
}

// Take implements Limiter: counted when the budget has room up to a second
// ahead; the reply goes out anyway. Like Redis.Take, it waits for its slot
// when the overall budget is in use at its pace.
func (l *Local) Take(ctx context.Context, chat string, n int) error {
	if err := l.waitPause(ctx); err != nil {
		return err
	}
	now := time.Now()
	c := l.chat(chat)
	first, last, booked := time.Duration(0), time.Duration(0), 0
	for range n {
		if r := c.ReserveN(now, 1); r.DelayFrom(now) > time.Second {
			r.CancelAt(now)
		}
		r := l.all.ReserveN(now, 1)
		d := r.DelayFrom(now)
		if d > time.Second {
			r.CancelAt(now)
			continue
		}
		if booked == 0 {
			first = d
		}
		last = d
		booked++
	}
	if booked > 0 && !bot.Sleep(ctx, slotWait(first, last, period(time.Second)/time.Duration(l.lim.PerSecond))) {
		return ctx.Err()
	}
	return nil
}

// Pause implements Limiter.
func (l *Local) Pause(_ context.Context, until time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if until.After(l.pause) {
		l.pause = until
	}
	return nil
}
