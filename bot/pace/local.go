package pace

import (
	"context"
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
	if err := l.chat(chat).Wait(ctx); err != nil {
		return err
	}
	return l.all.Wait(ctx)
}

// Take implements Limiter: counted when the budget has room up to a second
// ahead; the reply goes out anyway.
func (l *Local) Take(ctx context.Context, chat string, n int) error {
	if err := l.waitPause(ctx); err != nil {
		return err
	}
	now := time.Now()
	c := l.chat(chat)
	for range n {
		if r := c.ReserveN(now, 1); r.DelayFrom(now) > time.Second {
			r.CancelAt(now)
		}
		if r := l.all.ReserveN(now, 1); r.DelayFrom(now) > time.Second {
			r.CancelAt(now)
		}
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
