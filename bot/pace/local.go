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
	all   *overall
	mu    sync.Mutex
	chats map[string]*rate.Limiter
}

// NewLocal paces by lim in memory.
func NewLocal(lim Limits) *Local {
	return &Local{lim: lim, chats: map[string]*rate.Limiter{}, all: newOverall(newMemState(newParams(lim)), lim, 0)}
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

// Wait implements Limiter.
func (l *Local) Wait(ctx context.Context, chat string) error {
	now := time.Now()
	r := l.chat(chat).ReserveN(now, 1)
	if d := r.DelayFrom(now); d > maxChatWait {
		r.CancelAt(now)
		return &BusyError{Wait: d}
	} else if !bot.Sleep(ctx, d) {
		r.Cancel()
		return ctx.Err()
	}
	t, err := l.all.waitTurn(ctx)
	if err != nil {
		return err
	}
	l.all.hold(chat, []*ticket{t})
	return nil
}

// Take implements Limiter: counted in the chat's budget when it has room
// up to a second ahead; the replies go out anyway.
func (l *Local) Take(ctx context.Context, chat string, n int) error {
	now := time.Now()
	c := l.chat(chat)
	for range n {
		if r := c.ReserveN(now, 1); r.DelayFrom(now) > time.Second {
			r.CancelAt(now)
		}
	}
	ts, err := l.all.replyTurn(ctx, n)
	if err != nil {
		return err
	}
	l.all.hold(chat, ts)
	return nil
}

// Admit implements Limiter.
func (l *Local) Admit(ctx context.Context, chat string) (func(), error) {
	return l.all.admit(ctx, chat, isReply(ctx))
}

// Pause implements Limiter.
func (l *Local) Pause(ctx context.Context, until time.Time) error {
	return l.all.st.pause(ctx, until)
}
