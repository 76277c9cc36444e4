package inbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dieuphoi/dieuphoi/bot"
	"github.com/dieuphoi/dieuphoi/internal/tick"
	"github.com/dieuphoi/dieuphoi/storage"
)

// WorkerConfig configures a Worker.
type WorkerConfig struct {
	Store   Store
	Handler Handler
	Log     *slog.Logger
	// LeaseTTL is how long a partition stays with a process that stopped
	// renewing it (killed): the longest an acknowledged update of a dead
	// process waits. Default 10 s.
	LeaseTTL time.Duration
	// Poll is how often the partitions are read when nothing woke the
	// worker: updates appended by other processes, when the store cannot
	// say so (Listener). Default 50 ms.
	Poll time.Duration
	// IdlePoll replaces Poll while a Listener store is telling the worker
	// of every append. Default 1 s.
	IdlePoll time.Duration
	// MaxInFlight bounds the updates read and not yet finished (memory).
	// Default 2,000.
	MaxInFlight int
	// Concurrency bounds the updates handled at once, and so the
	// goroutines handling them: a chat waiting for its turn is an entry in
	// a list, not a parked goroutine with its stack. Default 256: each
	// update in hand holds its session, facts and the people list it read,
	// and two or three goroutines (pace, reply count, session lock) with
	// their stacks, while on 2 cores with 32 PostgreSQL and 64 Redis
	// connections more at once only wait longer for them.
	Concurrency int
	// MaxAttempts bounds the tries of an update failing with an error other
	// than bot.ErrNotSaved (a bug, a reply that cannot be rendered), so one
	// poisoned update cannot stall its chat. Default 5.
	MaxAttempts int
}

// Worker consumes the inbox partitions this process leases: each chat's
// updates one at a time in arrival order, different chats in parallel.
type Worker struct {
	store   Store
	handler Handler
	log     *slog.Logger
	holder  string
	ttl     time.Duration
	poll    time.Duration
	idle    time.Duration
	heard   atomic.Bool // the store's notifications are coming (Listener)
	handed  atomic.Int64
	refused atomic.Int64 // own appends take left for a read
	readN   atomic.Int64
	maxIn   int
	tries   int
	conc    int // runners at most (Concurrency)
	wake    chan struct{}
	flushed chan struct{}

	mu      sync.Mutex
	runCtx  context.Context // Run's, while it hands updates out
	running bool
	leases  map[int]*partLease
	known   map[int64]bool // read and not yet deleted: never queued twice
	chats   map[string]*chatQueue
	ready   []*chatQueue // chats with items and no runner, in turn order
	runners int          // goroutines taking chats from ready (idle ones too)
	// idlers are runners waiting on idled for a chat to be ready (not
	// counting those woken already): a runner kept is not started again
	// for the next update, nor its stack grown again.
	idlers   int
	idled    sync.Cond // L is &mu
	cursor   int64     // read after this id next time
	rescan   bool      // read from the start next time
	lastScan time.Time
	waiters  map[string][]chan error
	done     []int64        // handled, to delete
	gone     []int64        // the latest ids this worker deleted, a ring
	goneAt   int            // next slot of gone
	goneSet  map[int64]bool // gone as a set
	wg       sync.WaitGroup
}

// queued is one read item waiting in its chat's queue.
type queued struct {
	it    storage.InboxItem
	in    *bot.Inbound // handed over decoded (take); nil: decode it.Payload
	lease *partLease   // nil for an item pinned to this process
	at    time.Time    // queued to its chat (handed over or read)
}

// chatQueue is one chat's queued items. It is in Worker.ready, or held by
// one runner, from its first item until it is empty and forgotten: never
// both, so the chat's items run one at a time, in order.
type chatQueue struct {
	chat  string
	items []queued
	first [1]queued // items' first array: a chat has one update at a time, mostly
}

// NewWorker returns a worker with a fresh holder id (one per process
// start: a restarted process takes its partitions over like any other).
func NewWorker(c WorkerConfig) *Worker {
	var b [8]byte
	_, _ = rand.Read(b[:])
	w := &Worker{
		store: c.Store, handler: c.Handler, log: c.Log, holder: hex.EncodeToString(b[:]),
		ttl: c.LeaseTTL, poll: c.Poll, idle: c.IdlePoll, maxIn: c.MaxInFlight, tries: c.MaxAttempts,
		wake: make(chan struct{}, 1), flushed: make(chan struct{}, 1),
		leases: map[int]*partLease{}, known: map[int64]bool{}, chats: map[string]*chatQueue{},
		waiters: map[string][]chan error{},
		gone:    make([]int64, 4096), goneSet: make(map[int64]bool, 4096),
	}
	w.idled.L = &w.mu
	if w.log == nil {
		w.log = slog.Default()
	}
	w.log = w.log.With("inbox", w.holder)
	if w.ttl <= 0 {
		w.ttl = 10 * time.Second
	}
	if w.poll <= 0 {
		w.poll = 50 * time.Millisecond
	}
	if w.idle <= 0 {
		w.idle = time.Second
	}
	if w.maxIn <= 0 {
		w.maxIn = 2000
	}
	if w.tries <= 0 {
		w.tries = 5
	}
	n := c.Concurrency
	if n <= 0 {
		n = 256
	}
	w.conc = n
	return w
}

// Holder is this worker's id in the leases.
func (w *Worker) Holder() string { return w.holder }

// Stats reports how many updates the worker got from its own process's
// appends without reading them (handed) and how many it read from the
// store (read) since it started.
func (w *Worker) Stats() (handed, read int64) { return w.handed.Load(), w.readN.Load() }

// Refused reports how many of its own process's appends the worker could
// not take at once and left for a read (their chat had an earlier item it
// did not hold, its partition was draining, it was full or stopping).
func (w *Worker) Refused() int64 { return w.refused.Load() }

// Held reports how many partitions the worker leases now (not counting
// those it is giving up): they are taken one by one after Run starts.
func (w *Worker) Held() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, pl := range w.leases {
		if !pl.draining {
			n++
		}
	}
	return n
}

// Wake makes the worker read its partitions now.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run consumes the inbox until ctx ends; then it lets the updates being
// handled finish (leaving the rest in the inbox), deletes what was handled
// and gives its partitions up, so another process takes them at once.
func (w *Worker) Run(ctx context.Context) error {
	w.mu.Lock()
	w.runCtx, w.running = ctx, true
	w.mu.Unlock()
	w.tickLeases(ctx)
	var bg sync.WaitGroup
	bg.Add(2)
	go func() { defer bg.Done(); w.leaseLoop(ctx) }()
	go func() { defer bg.Done(); w.deleteLoop(ctx) }()
	if l, ok := w.store.(Listener); ok {
		bg.Add(1)
		// This process's own appends were handed to it (take) or woke it.
		wake := func(by string) {
			if by != w.holder {
				w.Wake()
			}
		}
		go func() { defer bg.Done(); l.ListenInbox(ctx, w.heard.Store, wake) }()
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-w.wake:
		case <-timer.C:
		}
		if ctx.Err() != nil {
			break
		}
		w.read(ctx)
		if w.heard.Load() {
			timer.Reset(w.idle)
		} else {
			timer.Reset(w.poll)
		}
	}
	w.mu.Lock()
	w.running = false // nothing is queued from now on: w.wg may be waited
	w.idlers = 0      // and the idle runners end
	w.idled.Broadcast()
	w.mu.Unlock()
	w.wg.Wait()
	bg.Wait()
	fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	w.flushDeletes(fctx)
	if err := w.store.LeaveInbox(fctx, w.holder); err != nil {
		w.log.Warn("inbox: leaving failed; partitions move after their lease", "err", err)
	}
	return nil
}

func (w *Worker) leaseLoop(ctx context.Context) {
	tick.Every(ctx, w.ttl/4, w.tickLeases)
}

// deleteLoop deletes handled items in batches. An item handled but not
// deleted (the process died first) is handled again and dropped by the
// dispatcher as a duplicate.
func (w *Worker) deleteLoop(ctx context.Context) {
	// Deleting sooner only shortens the replay after a crash (dropped as
	// duplicates anyway); every 50 ms, one statement carries the deletions
	// of ~25 updates at 500 a second.
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-w.flushed:
		}
		w.flushDeletes(ctx)
	}
}

func (w *Worker) flushDeletes(ctx context.Context) {
	w.mu.Lock()
	ids := w.done
	w.done = nil
	w.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	if err := w.store.DeleteInbox(ctx, ids); err != nil {
		w.log.Warn("inbox: deleting handled updates failed; will retry", "updates", len(ids), "err", err)
		w.mu.Lock()
		w.done = append(w.done, ids...)
		w.mu.Unlock()
		return
	}
	w.mu.Lock()
	for _, id := range ids {
		delete(w.known, id)
		// Remembered a while: an append whose look-up still saw one of
		// them as its chat's previous item (take) can be handed over.
		if old := w.gone[w.goneAt]; old != 0 {
			delete(w.goneSet, old)
		}
		w.gone[w.goneAt] = id
		w.goneSet[id] = true
		w.goneAt = (w.goneAt + 1) % len(w.gone)
	}
	w.mu.Unlock()
}

// readLimit bounds one read.
const readLimit = 500

// rescanEvery is how often the partitions are read from the start rather
// than after the highest id seen: an id taken by an insert that committed
// after a later one is not skipped for long.
const rescanEvery = time.Second

// read fetches new items and queues them to their chats.
func (w *Worker) read(ctx context.Context) {
	w.mu.Lock()
	if len(w.known) >= w.maxIn {
		w.mu.Unlock()
		return
	}
	after := w.cursor
	var scanning []*partLease
	if w.rescan || time.Since(w.lastScan) > rescanEvery {
		after, w.rescan, w.lastScan = 0, false, time.Now()
		for _, pl := range w.leases {
			scanning = append(scanning, pl)
		}
	}
	w.mu.Unlock()
	items, err := w.store.ReadInbox(ctx, w.holder, after, time.Now(), readLimit)
	if err != nil {
		if ctx.Err() == nil {
			w.log.Warn("inbox: read failed", "err", err)
		}
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, pl := range scanning {
		pl.scanned = true
	}
	if n := len(items); n > 0 {
		if after == 0 && n == readLimit {
			// A full read from the start: go on from its end, not from
			// further on, or what lies between would wait for the next
			// rescan behind later updates of the same chats.
			w.cursor = items[n-1].ID
		} else {
			w.cursor = max(w.cursor, items[n-1].ID)
		}
	}
	for _, it := range items {
		if w.known[it.ID] || w.goneSet[it.ID] {
			// Queued already; or handled and deleted by this worker
			// after the read's snapshot was taken.
			continue
		}
		if !w.mayHandleLocked(it.Part, it.Fence) {
			// The lease is being renewed or was lost: read it again from
			// the start, in order with its chat's later updates.
			w.rescan = true
			continue
		}
		var pl *partLease
		if it.Fence != 0 {
			pl = w.leases[it.Part]
			if pl.draining {
				continue
			}
			if !pl.scanned {
				// Taken while this read ran: its earlier updates lie
				// before the cursor. Only a read from the start keeps
				// its order.
				w.rescan = true
				continue
			}
			pl.inFlight++
		}
		w.queueLocked(it, nil, pl)
		w.readN.Add(1)
	}
}

// queueLocked puts it behind its chat's queued items; a chat with none
// joins the ready list.
func (w *Worker) queueLocked(it storage.InboxItem, in *bot.Inbound, pl *partLease) {
	w.known[it.ID] = true
	q := w.chats[it.Chat]
	if q == nil {
		q = &chatQueue{chat: it.Chat}
		q.items = q.first[:0]
		w.chats[it.Chat] = q
		w.readyLocked(q)
	}
	q.items = append(q.items, queued{it: it, in: in, lease: pl, at: time.Now()})
}

// readyLocked gives q its turn: at the end of the ready list, with a new
// runner to take it when fewer than Concurrency run. Up to MaxInFlight
// chats may wait here; a goroutine each (as it once was) held ~10 kB of
// stack apiece, the largest part of the process's memory with 10,000
// conversations open.
func (w *Worker) readyLocked(q *chatQueue) {
	w.ready = append(w.ready, q)
	if w.idlers > 0 {
		w.idlers--
		w.idled.Signal()
		return
	}
	if w.runners < w.conc {
		w.runners++
		w.wg.Add(1)
		go w.runner(w.runCtx)
	}
}

// take is the in-process handoff: the intake gives the worker the items
// this process has just appended (with their ids and Prev) and the updates
// themselves (ins, in step; nil where the payload must be decoded), so
// that a handed update is not decoded again; the worker
// queues at once, without waiting for a read, each one it may handle — in
// a partition it leases, or pinned to it — whose chat has nothing earlier
// in the inbox that the worker does not hold already (Prev is 0, or read
// or handed over, or handled and deleted by it lately: it came after all of
// its chat's earlier items): behind those, in order. An item
// refused stays for a read, with whatever of its chat comes later. take
// reports whether any item was refused that a read of this worker would
// find.
func (w *Worker) take(items []storage.InboxItem, ins []*bot.Inbound) (left bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i, it := range items {
		if it.ID == 0 || w.known[it.ID] || w.goneSet[it.ID] {
			continue // a duplicate of an update on its way; or read already (and maybe handled)
		}
		var pl *partLease
		switch {
		case it.Owner == w.holder:
			it.Fence = 0
		case it.Owner == "":
			pl = w.leases[it.Part]
			if pl == nil {
				continue // another process's partition: the notification tells it
			}
			it.Fence = pl.fence
		default:
			continue
		}
		if !w.running || w.runCtx.Err() != nil || len(w.known) >= w.maxIn ||
			(it.Prev != 0 && !w.known[it.Prev] && !w.goneSet[it.Prev]) || (pl != nil && pl.draining) || !w.mayHandleLocked(it.Part, it.Fence) {
			left = true
			w.refused.Add(1)
			continue
		}
		if pl != nil {
			pl.inFlight++
		}
		var in *bot.Inbound
		if i < len(ins) {
			in = ins[i]
		}
		w.queueLocked(it, in, pl)
		w.handed.Add(1)
	}
	return left
}

// markLocal marks the items this worker takes itself (storage.InboxItem
// Local): pinned to it, or of a partition it leases and is not giving up.
// Their append wakes no other process. Should the lease move before the
// append commits (this process stalled past its margin), the next holder
// reads the item all the same: at once when it takes the partition, else
// at its next poll.
func (w *Worker) markLocal(items []storage.InboxItem) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Now()
	for i := range items {
		it := &items[i]
		switch it.Owner {
		case w.holder:
			it.Local = true
		case "":
			pl := w.leases[it.Part]
			it.Local = pl != nil && !pl.draining && now.Before(pl.until)
		default:
			it.Local = false
		}
	}
}

// maxIdlers bounds the runners kept waiting for work (their stacks, shrunk
// by the collector while they wait, are the memory they hold).
const maxIdlers = 64

// runner handles the first item of the chat whose turn it is, puts the
// chat back at the end of the list while it has more (each waiting chat
// gets its turn before a chat's second update), and when no chat waits
// waits for one (up to maxIdlers runners do) or ends.
func (w *Worker) runner(ctx context.Context) {
	defer w.wg.Done()
	// In-flight updates finish at shutdown: only new ones stop. Made once
	// per runner, not per update.
	live := context.WithoutCancel(ctx)
	w.mu.Lock()
	defer w.mu.Unlock()
	for {
		w.runReady(ctx, live)
		if !w.running || ctx.Err() != nil || w.idlers >= maxIdlers {
			break
		}
		// readyLocked wakes one idle runner per chat made ready (and
		// counts it off idlers); Run's end wakes them all.
		w.idlers++
		w.idled.Wait()
	}
	w.runners--
}

// runReady runs the ready chats until none is left; w.mu is held on entry
// and exit.
func (w *Worker) runReady(ctx, live context.Context) {
	for len(w.ready) > 0 {
		q := w.ready[0]
		w.ready[0] = nil
		w.ready = w.ready[1:]
		e := q.items[0]
		w.mu.Unlock()

		handled := w.handle(ctx, live, e)

		w.mu.Lock()
		q.items[0] = queued{}
		q.items = q.items[1:]
		if e.lease != nil {
			e.lease.inFlight--
		}
		if handled {
			w.done = append(w.done, e.it.ID)
		} else {
			// Left in the inbox, and so are the chat's later updates
			// queued here: whoever holds the partition next (this process
			// again, after a rescan) reads them again, in order.
			delete(w.known, e.it.ID)
			for _, later := range q.items {
				delete(w.known, later.it.ID)
				if later.lease != nil {
					later.lease.inFlight--
				}
			}
			clear(q.items)
			q.items = q.items[:0]
			w.rescan = true
		}
		if len(q.items) == 0 {
			delete(w.chats, q.chat)
		} else {
			w.ready = append(w.ready, q)
		}
	}
}

// handle runs one item through the handler, retrying while it is not
// saved, and reports whether it is finished with (handled, or given up).
// false means it stays in the inbox: the lease was lost or ctx ended.
// The handler runs under live, ctx without its cancellation.
func (w *Worker) handle(ctx, live context.Context, e queued) bool {
	in, err := inbound(e)
	if err != nil {
		w.log.Error("inbox: dropping an update that cannot be decoded", "key", e.it.Key, "err", err)
		w.notify(e.it.Key, nil)
		return true
	}
	in.FactsAt = e.it.Facts
	// Built only when something is logged: most updates log nothing.
	log := func() *slog.Logger { return w.log.With("update", e.it.Key, "chat", e.it.Chat) }
	fails := 0
	for attempt := 1; ; attempt++ {
		if ctx.Err() != nil {
			return false
		}
		if !w.waitLease(ctx, e) {
			log().Info("inbox: partition lease lost; leaving the update to its next holder")
			return false
		}
		if o, ok := w.handler.(waitObserver); ok && attempt == 1 {
			o.ObserveInboxWait(time.Since(e.it.Created), time.Since(e.at))
		}
		hctx, cancel := context.WithTimeout(live, 2*time.Minute)
		err := w.handler.Handle(hctx, in)
		cancel()
		if attempt == 1 {
			w.notify(e.it.Key, err)
		}
		switch {
		case err == nil:
			return true
		case errors.Is(err, bot.ErrUnreachable):
			log().Info("inbox: replies not delivered: the person cannot be reached there; update done", "err", err)
			return true
		case errors.Is(err, bot.ErrNotSaved):
			log().Warn("inbox: update not saved; will retry", "attempt", attempt, "err", err)
		default:
			fails++
			if fails >= w.tries {
				log().Error("inbox: dropping an update that keeps failing", "attempts", fails, "err", err)
				return true
			}
			log().Warn("inbox: update failed; will retry", "attempt", fails, "err", err)
		}
		if !bot.Sleep(ctx, bot.Backoff(100*time.Millisecond, 10*time.Second, attempt)) {
			return false
		}
	}
}

// inbound is e's update: handed over by this process's intake, or decoded
// from its payload (apart from handle, so that handle's copy does not
// escape to the heap for the decoder).
func inbound(e queued) (bot.Inbound, error) {
	if e.in != nil {
		return *e.in, nil
	}
	var in bot.Inbound
	err := json.Unmarshal(e.it.Payload, &in)
	return in, err
}

// waitObserver is a Handler that records how long updates waited in the
// inbox (bot.Dispatcher, into its stage histogram): in all, since the
// intake took them, and the part of it since they were queued to their
// chat in this worker (behind the chat's earlier updates, for a turn of
// the concurrency bound); the rest is the append and the read.
type waitObserver interface {
	ObserveInboxWait(total, queued time.Duration)
}

// waitLease reports whether e may be handled: at once when its partition
// is still leased under the same fence; while the lease is only overdue
// for renewal (the store is slow or down), it waits for the next renewal
// rather than give the chat's order away; false when the lease was lost.
func (w *Worker) waitLease(ctx context.Context, e queued) bool {
	for {
		w.mu.Lock()
		ok := w.mayHandleLocked(e.it.Part, e.it.Fence)
		lost := e.lease != nil && w.leases[e.it.Part] != e.lease
		w.mu.Unlock()
		switch {
		case ok:
			return true
		case lost:
			return false
		}
		if !bot.Sleep(ctx, 10*time.Millisecond) {
			return false
		}
	}
}

// await registers interest in the first try of the update with key.
func (w *Worker) await(key string) chan error {
	ch := make(chan error, 1)
	w.mu.Lock()
	w.waiters[key] = append(w.waiters[key], ch)
	w.mu.Unlock()
	return ch
}

func (w *Worker) unawait(key string, ch chan error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	list := w.waiters[key]
	for i, c := range list {
		if c == ch {
			list = append(list[:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(w.waiters, key)
	} else {
		w.waiters[key] = list
	}
}

func (w *Worker) notify(key string, err error) {
	w.mu.Lock()
	list := w.waiters[key]
	delete(w.waiters, key)
	w.mu.Unlock()
	for _, c := range list {
		c <- err
	}
}
