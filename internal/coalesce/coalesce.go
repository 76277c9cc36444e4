// Package coalesce runs calls made at the same time as one batch: while a
// batch is out (a Redis pipeline, a PostgreSQL transaction), the calls that
// arrive gather into the next one. Under load many updates share one round
// trip instead of each paying its own; alone, a call goes out at once.
package coalesce

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Group batches calls of one kind. Req is what a call asks, Res what it
// gets back.
type Group[Req, Res any] struct {
	run  func(ctx context.Context, reqs []Req) ([]Res, []error)
	max  int
	reqs chan *call[Req, Res]
	stop chan struct{}
	// exited is closed once every worker has returned.
	exited chan struct{}
	once   sync.Once
	wg     sync.WaitGroup

	// Calls that ride the next batch (Later), and the timer that sends
	// them on their own when no batch went meanwhile.
	rmu    sync.Mutex
	riders []*call[Req, Res]
	rtimer *time.Timer // made once, at the first rider; reset after
	armed  bool        // rtimer is set to fire
	rdue   time.Time   // when rtimer fires
}

type call[Req, Res any] struct {
	kick bool // not a call: Later's timer asking for a batch of riders
	ctx  context.Context
	req  Req
	res  Res
	err  error
	done chan struct{}
}

// batchTimeout bounds one batch: its callers' own deadlines do not reach
// it.
const batchTimeout = 30 * time.Second

// ErrClosed is returned by Do after Close.
var ErrClosed = errors.New("coalesce: closed")

// New returns a group of workers runners, each taking up to max waiting
// calls at a time and handing them to run, which returns one result and
// one error per request, in order. run gets the context of the batch's
// first call, without its cancellation (bounded by batchTimeout): a batch
// once sent is seen through (its callers may have gone, but the others in
// it have not).
func New[Req, Res any](workers, max int, run func(ctx context.Context, reqs []Req) ([]Res, []error)) *Group[Req, Res] {
	g := &Group[Req, Res]{run: run, max: max, reqs: make(chan *call[Req, Res], max*workers), stop: make(chan struct{}), exited: make(chan struct{})}
	g.wg.Add(workers)
	for range workers {
		go g.loop()
	}
	go func() { g.wg.Wait(); close(g.exited) }()
	return g
}

// Do runs req in the next batch and returns its result. When ctx ends
// first, Do returns ctx's error; the request may still run (like a
// network call given up on).
func (g *Group[Req, Res]) Do(ctx context.Context, req Req) (Res, error) {
	c := &call[Req, Res]{ctx: ctx, req: req, done: make(chan struct{})}
	var zero Res
	select {
	case <-g.stop:
		return zero, ErrClosed
	default:
	}
	select {
	case g.reqs <- c:
	case <-g.stop:
		return zero, ErrClosed
	case <-ctx.Done():
		return zero, ctx.Err()
	}
	return g.await(ctx, c)
}

func (g *Group[Req, Res]) await(ctx context.Context, c *call[Req, Res]) (Res, error) {
	var zero Res
	select {
	case <-c.done:
	case <-ctx.Done():
		return zero, ctx.Err()
	case <-g.exited:
		// Queued as the workers stopped: nobody will take it but a drain.
		g.drain()
		<-c.done
	}
	return c.res, c.err
}

// Later runs req in the next batch that goes out for other calls, or in
// one of its own once wait has passed without one: for a call whose
// caller is in no hurry (a write nobody reads at once), so that under
// load it costs no round trip of its own. It returns, like Do, when req
// has run.
func (g *Group[Req, Res]) Later(ctx context.Context, req Req, wait time.Duration) (Res, error) {
	return g.later(ctx, req, wait, nil)
}

func (g *Group[Req, Res]) later(ctx context.Context, req Req, wait time.Duration, queued func()) (Res, error) {
	c := &call[Req, Res]{ctx: ctx, req: req, done: make(chan struct{})}
	var zero Res
	select {
	case <-g.stop:
		return zero, ErrClosed
	default:
	}
	g.rmu.Lock()
	g.riders = append(g.riders, c)
	// The riders go when the earliest of their waits is over.
	if dl := time.Now().Add(wait); !g.armed || dl.Before(g.rdue) {
		g.armLocked(wait, dl)
	}
	g.rmu.Unlock()
	if queued != nil {
		queued()
	}
	return g.await(ctx, c)
}

type rideKey struct{}

// noRide is rideKey's value in a ctx that does not ride.
type noRide struct{}

type ride struct {
	wait   time.Duration
	once   sync.Once
	queued chan struct{}
}

func (r *ride) mark() { r.once.Do(func() { close(r.queued) }) }

// Ride marks ctx: the call made with it (Call) rides the next batch that
// goes out for other calls, waiting at most wait for one (Later). For a
// call known to have company coming at once (an update's session save and
// the per-chat count of its replies, beside its budget step), so that
// they share that round trip instead of each going alone. The channel is
// closed once the call is queued (or refused): the caller of the call
// that is to carry it waits for that first.
func Ride(ctx context.Context, wait time.Duration) (context.Context, <-chan struct{}) {
	r := &ride{wait: wait, queued: make(chan struct{})}
	return context.WithValue(ctx, rideKey{}, r), r.queued
}

// Call is Later when ctx is marked by Ride, else Do.
func (g *Group[Req, Res]) Call(ctx context.Context, req Req) (Res, error) {
	if r, ok := ctx.Value(rideKey{}).(*ride); ok {
		defer r.mark()
		return g.later(ctx, req, r.wait, r.mark)
	}
	return g.Do(ctx, req)
}

// armLocked sets the riders' timer to fire after wait (at dl). A kick
// already on its way meanwhile is harmless: a batch of no riders.
func (g *Group[Req, Res]) armLocked(wait time.Duration, dl time.Time) {
	if g.rtimer == nil {
		g.rtimer = time.AfterFunc(wait, g.kick)
	} else {
		g.rtimer.Reset(wait)
	}
	g.armed, g.rdue = true, dl
}

// disarmLocked stops the riders' timer.
func (g *Group[Req, Res]) disarmLocked() {
	if g.armed {
		g.rtimer.Stop()
		g.armed = false
	}
}

// kick asks a worker for a batch of the riders waiting.
func (g *Group[Req, Res]) kick() {
	select {
	case g.reqs <- &call[Req, Res]{kick: true}:
	case <-g.stop:
	}
}

// takeRiders moves up to n waiting riders into batch.
func (g *Group[Req, Res]) takeRiders(batch []*call[Req, Res], n int) []*call[Req, Res] {
	g.rmu.Lock()
	defer g.rmu.Unlock()
	k := min(n, len(g.riders))
	if k == 0 {
		return batch
	}
	batch = append(batch, g.riders[:k]...)
	clear(g.riders[:k])
	if k == len(g.riders) {
		g.riders = g.riders[:0] // its array kept for the next riders
		g.disarmLocked()
	} else {
		// More than a batch holds: the rest go in the next one (the
		// timer may have fired for this batch already).
		g.riders = g.riders[k:]
		g.armLocked(0, time.Now())
	}
	return batch
}

func (g *Group[Req, Res]) loop() {
	defer g.wg.Done()
	batch := make([]*call[Req, Res], 0, g.max)
	reqs := make([]Req, 0, g.max)
	for {
		batch, reqs = batch[:0], reqs[:0]
		select {
		case c := <-g.reqs:
			batch = append(batch, c)
		case <-g.stop:
			g.drain()
			return
		}
	gather:
		for len(batch) < g.max {
			select {
			case c := <-g.reqs:
				batch = append(batch, c)
			default:
				break gather
			}
		}
		// The riders waiting go with it.
		batch = g.takeRiders(batch, g.max-len(batch)+kicks(batch))
		// Calls whose caller has gone already are not sent.
		live := batch[:0]
		for _, c := range batch {
			if c.kick {
				continue
			}
			if err := c.ctx.Err(); err != nil {
				c.err = err
				close(c.done)
				continue
			}
			live = append(live, c)
			reqs = append(reqs, c.req)
		}
		if len(live) == 0 {
			continue
		}
		// The batch does not ride (Ride) because its first call did: the
		// calls run makes go at once.
		ctx, cancel := context.WithTimeout(context.WithValue(context.WithoutCancel(live[0].ctx), rideKey{}, noRide{}), batchTimeout)
		res, errs := g.run(ctx, reqs)
		cancel()
		for i, c := range live {
			if i < len(res) {
				c.res = res[i]
			}
			if i < len(errs) {
				c.err = errs[i]
			}
			close(c.done)
		}
		clear(batch)
		clear(reqs)
	}
}

func kicks[Req, Res any](batch []*call[Req, Res]) int {
	n := 0
	for _, c := range batch {
		if c.kick {
			n++
		}
	}
	return n
}

// drain refuses the calls still queued at Close.
func (g *Group[Req, Res]) drain() {
	g.rmu.Lock()
	riders := g.riders
	g.riders = nil
	g.disarmLocked()
	g.rmu.Unlock()
	for _, c := range riders {
		c.err = ErrClosed
		close(c.done)
	}
	for {
		select {
		case c := <-g.reqs:
			if c.kick {
				continue
			}
			c.err = ErrClosed
			close(c.done)
		default:
			return
		}
	}
}

// Close stops the workers once their batches are done; calls queued and
// not taken get ErrClosed.
func (g *Group[Req, Res]) Close() {
	g.once.Do(func() { close(g.stop) })
	<-g.exited
	g.drain()
}
