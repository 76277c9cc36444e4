package pace

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/go-redis/redis_rate/v10"
	goredis "github.com/redis/go-redis/v9"

	"github.com/dieuphoi/dieuphoi/bot"
)

// Redis is a Limiter shared by every process on one Redis.
type Redis struct {
	rdb    goredis.UniversalClient
	rl     *redis_rate.Limiter
	prefix string
	all    redis_rate.Limit
	chat   redis_rate.Limit
	group  redis_rate.Limit

	// The pause as last read, for replies: they check it at most every
	// pauseFresh instead of paying a round trip each.
	pmu       sync.Mutex
	pauseEnd  time.Time
	pauseRead time.Time
}

// pauseFresh is how long replies trust the pause last read: another
// process's 429 holds this process's replies at most this much late.
const pauseFresh = 50 * time.Millisecond

// NewRedis paces by lim on rdb, under keys starting with prefix (e.g.
// "dieuphoi:pace:telegram:").
func NewRedis(rdb goredis.UniversalClient, prefix string, lim Limits) *Redis {
	return &Redis{
		rdb: rdb, rl: redis_rate.NewLimiter(rdb), prefix: prefix,
		all:   redis_rate.Limit{Rate: lim.PerSecond, Burst: 1, Period: period(time.Second)},
		chat:  redis_rate.Limit{Rate: lim.PerChatPerSecond, Burst: 1, Period: period(time.Second)},
		group: redis_rate.Limit{Rate: lim.PerGroupPerMinute, Burst: 1, Period: period(time.Minute)},
	}
}

func (r *Redis) chatLimit(chat string) redis_rate.Limit {
	if group(chat) {
		return r.group
	}
	return r.chat
}

// Wait implements Limiter.
func (r *Redis) Wait(ctx context.Context, chat string) error {
	if err := r.waitPause(ctx); err != nil {
		return err
	}
	if err := r.wait(ctx, "chat:"+chat, r.chatLimit(chat)); err != nil {
		return err
	}
	return r.reserve(ctx, "all", r.all)
}

// reserve books the next slot of lim (GCRA: the theoretical arrival time
// moves on by one interval) when it is at most horizon slots ahead, and
// sleeps until it. Booking rather than asking again when the slot has come
// loses no slot to the round trip, and processes get slots in turn; the
// short horizon keeps the next free slot near for a reply.
func (r *Redis) reserve(ctx context.Context, key string, lim redis_rate.Limit) error {
	lim.Burst = horizon
	interval := lim.Period / time.Duration(lim.Rate)
	for {
		res, err := r.rl.Allow(ctx, r.prefix+key, lim)
		if err != nil {
			return fmt.Errorf("pace: %w", err)
		}
		if res.Allowed > 0 {
			// ResetAfter runs to the end of the booked slot.
			slot := time.Now().Add(res.ResetAfter - interval)
			if !bot.Sleep(ctx, time.Until(slot)) {
				return ctx.Err()
			}
			if k := lateSlots(time.Since(slot), interval); k > 0 {
				lim.Burst = 2 * lim.Rate
				if _, err := r.rl.AllowAtMost(ctx, r.prefix+key, lim, k); err != nil {
					return fmt.Errorf("pace: %w", err)
				}
			}
			return nil
		}
		// Every sender of every process was told the same moment: spread
		// them over an interval so that they do not all ask at once.
		if !bot.Sleep(ctx, res.RetryAfter+rand.N(interval)) {
			return ctx.Err()
		}
	}
}

// wait takes one message of a chat's budget, waiting at most maxChatWait
// for it; a busier chat is a *BusyError with nothing booked.
func (r *Redis) wait(ctx context.Context, key string, lim redis_rate.Limit) error {
	for {
		res, err := r.rl.Allow(ctx, r.prefix+key, lim)
		if err != nil {
			return fmt.Errorf("pace: %w", err)
		}
		if res.Allowed > 0 {
			return nil
		}
		if res.RetryAfter > maxChatWait {
			return &BusyError{Wait: res.RetryAfter}
		}
		if !bot.Sleep(ctx, res.RetryAfter) {
			return ctx.Err()
		}
	}
}

// Take implements Limiter: a reply is counted when the budget has room up
// to a second ahead (a burst of replyBurst per chat), and goes out anyway
// when it has not. When the overall budget is in use at its pace (a
// broadcast books slots ahead), the replies wait for their slot, at most
// replyWait: that is what keeps a reply and a broadcast from making more
// than the platform's limit in one second.
func (r *Redis) Take(ctx context.Context, chat string, n int) error {
	if err := r.replyPause(ctx); err != nil {
		return err
	}
	cl := r.chatLimit(chat)
	cl.Burst = replyBurst
	al := r.all
	al.Burst = 2 * r.all.Rate // beyond the bookings of waiting messages
	// The two budgets are independent: count them at the same time, one
	// round trip's wait for the reply instead of two.
	type result struct {
		res *redis_rate.Result
		err error
	}
	allc := make(chan result, 1)
	go func() {
		res, err := r.rl.AllowAtMost(ctx, r.prefix+"all", al, n)
		allc <- result{res, err}
	}()
	_, err := r.rl.AllowAtMost(ctx, r.prefix+"chat:"+chat, cl, n)
	all := <-allc
	if err == nil {
		err = all.err
	}
	if err != nil {
		return fmt.Errorf("pace: %w", err)
	}
	if all.res.Allowed > 0 {
		interval := al.Period / time.Duration(al.Rate)
		first := all.res.ResetAfter - time.Duration(all.res.Allowed)*interval
		if !bot.Sleep(ctx, slotWait(first, all.res.ResetAfter-interval, interval)) {
			return ctx.Err()
		}
	}
	return nil
}

// replyPause waits out a pause known at most pauseFresh ago.
func (r *Redis) replyPause(ctx context.Context) error {
	now := time.Now()
	r.pmu.Lock()
	end, fresh := r.pauseEnd, now.Sub(r.pauseRead) < pauseFresh
	r.pmu.Unlock()
	if !fresh {
		v, err := r.rdb.Get(ctx, r.prefix+"pause").Result()
		switch {
		case errors.Is(err, goredis.Nil):
			end = time.Time{}
		case err != nil:
			return fmt.Errorf("pace: %w", err)
		default:
			if ms, perr := strconv.ParseInt(v, 10, 64); perr == nil {
				end = time.UnixMilli(ms)
			}
		}
		r.pmu.Lock()
		r.pauseEnd, r.pauseRead = end, now
		r.pmu.Unlock()
	}
	if !bot.Sleep(ctx, time.Until(end)) {
		return ctx.Err()
	}
	return nil
}

// Pause implements Limiter.
func (r *Redis) Pause(ctx context.Context, until time.Time) error {
	d := time.Until(until)
	if d <= 0 {
		return nil
	}
	r.pmu.Lock()
	if until.After(r.pauseEnd) {
		r.pauseEnd = until
	}
	r.pmu.Unlock()
	if err := r.rdb.Set(ctx, r.prefix+"pause", strconv.FormatInt(until.UnixMilli(), 10), d).Err(); err != nil {
		return fmt.Errorf("pace: pause: %w", err)
	}
	return nil
}

func (r *Redis) waitPause(ctx context.Context) error {
	v, err := r.rdb.Get(ctx, r.prefix+"pause").Result()
	if errors.Is(err, goredis.Nil) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("pace: %w", err)
	}
	ms, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return nil
	}
	if !bot.Sleep(ctx, time.Until(time.UnixMilli(ms))) {
		return ctx.Err()
	}
	return nil
}
