package zalo

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/dieuphoi/dieuphoi/bot"
)

// job is one verified event waiting for the worker.
type job struct {
	user  string
	event string
	in    *bot.Inbound // nil: only record the interaction
	touch time.Time    // zero: not an interaction
}

// workQueue runs jobs one user at a time, in arrival order, different users
// in parallel up to a bound, with a bound on the jobs waiting.
type workQueue struct {
	ctx    context.Context
	mu     sync.Mutex
	users  map[string][]job // present while the user's goroutine runs
	n      int              // jobs queued, running included
	max    int
	closed bool
	sem    chan struct{}
	wg     sync.WaitGroup
	cancel context.CancelFunc
}

var errQueueFull = errors.New("zalo: event queue full")

func (q *workQueue) init(ctx context.Context, max, workers int) {
	q.ctx, q.cancel = context.WithCancel(ctx)
	q.users = map[string][]job{}
	q.max = max
	q.sem = make(chan struct{}, workers)
}

// add queues j behind the user's earlier jobs.
func (q *workQueue) add(j job, run func(context.Context, job)) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	switch {
	case q.closed:
		return ErrClosed
	case q.n >= q.max:
		return errQueueFull
	}
	pending, running := q.users[j.user]
	q.users[j.user] = append(pending, j)
	q.n++
	if !running {
		q.wg.Add(1)
		go q.drain(j.user, run)
	}
	return nil
}

// drain runs the user's jobs until none is left.
func (q *workQueue) drain(user string, run func(context.Context, job)) {
	defer q.wg.Done()
	for {
		q.mu.Lock()
		list := q.users[user]
		if len(list) == 0 {
			delete(q.users, user)
			q.mu.Unlock()
			return
		}
		j := list[0]
		q.mu.Unlock()

		select {
		case q.sem <- struct{}{}:
			run(q.ctx, j)
			<-q.sem
		case <-q.ctx.Done():
		}

		q.mu.Lock()
		q.users[user] = q.users[user][1:]
		q.n--
		q.mu.Unlock()
	}
}

// close stops taking jobs and waits up to timeout for the queued ones; then
// it cancels the rest. It returns how many were left unfinished.
func (q *workQueue) close(timeout time.Duration) int {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	done := make(chan struct{})
	go func() { q.wg.Wait(); close(done) }()
	left := 0
	select {
	case <-done:
	case <-time.After(timeout):
		q.mu.Lock()
		left = q.n
		q.mu.Unlock()
		q.cancel()
		<-done
	}
	q.cancel()
	return left
}

// process handles one job: records the interaction, then hands the event to
// the handler, retrying as bot.ErrNotSaved asks and other failures a bounded
// number of times.
// handleNow handles one event synchronously (Config.Sync): nil when it may
// be acknowledged.
func (a *Adapter) handleNow(j job) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if !j.touch.IsZero() {
		if err := a.interactions.Touch(ctx, j.user, j.touch); err != nil {
			a.log.Warn("record the interaction", "err", a.redact(err))
		}
	}
	if j.in == nil {
		return nil
	}
	err := a.handler.Handle(ctx, *j.in)
	if err == nil || errors.Is(err, ErrOutsideWindow) || errors.Is(err, ErrNotFollower) {
		return nil
	}
	return err
}

func (a *Adapter) process(ctx context.Context, j job) {
	log := a.log.With("event", j.event, "user", j.user)
	if !j.touch.IsZero() {
		tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		if err := a.interactions.Touch(tctx, j.user, j.touch); err != nil {
			log.Warn("record the interaction", "err", a.redact(err))
		}
		cancel()
	}
	if j.in == nil {
		return
	}
	log = log.With("update", j.in.Key.UpdateID)
	for attempt := 1; ; attempt++ {
		start := time.Now()
		hctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		err := a.handler.Handle(hctx, *j.in)
		cancel()
		switch {
		case err == nil:
			log.Debug("event handled", "kind", j.in.Input.Kind, "took", time.Since(start))
			return
		case errors.Is(err, ErrOutsideWindow) || errors.Is(err, ErrNotFollower):
			log.Info("replies not delivered: user outside the messaging window or not following; event done", "err", err)
			return
		case ctx.Err() != nil:
			log.Error("event abandoned at shutdown", "err", err)
			return
		case errors.Is(err, bot.ErrNotSaved):
			log.Warn("event not saved; will retry", "attempt", attempt, "err", err)
		case attempt >= a.maxAttempts:
			log.Error("dropping event that keeps failing", "attempts", attempt, "err", err)
			return
		default:
			log.Warn("event failed; will retry", "attempt", attempt, "err", err)
		}
		if !sleep(ctx, a.backoff(attempt)) {
			log.Error("event abandoned at shutdown")
			return
		}
	}
}
