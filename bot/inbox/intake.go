package inbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/dieuphoi/dieuphoi/bot"
	"github.com/dieuphoi/dieuphoi/storage"
)

// maxBatch bounds one append statement: a getUpdates result (100) and the
// webhook deliveries of a few milliseconds fit.
const maxBatch = 256

// Intake is the Handler the channel adapters call: it appends the update
// to the inbox and returns once the store holds it, so that the adapter
// acknowledges it at once. Concurrent calls share one statement: while one
// append runs, the next batch gathers (group commit), so a whole getUpdates
// batch, or a burst of webhook deliveries, costs one round trip.
type Intake struct {
	store  Store
	worker *Worker
	log    *slog.Logger
	now    func() time.Time

	reqs chan *appendReq
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

type appendReq struct {
	item storage.InboxItem
	// in is the update as the worker gets it when handed over (take): the
	// payload decoded again would be the same, at a cost (not handed over
	// when not: invalid UTF-8 that the encoding replaced). Held here, not
	// behind a pointer of its own: one allocation per update fewer.
	in     bot.Inbound
	handed bool
	res    chan error
}

// ErrClosed is returned for updates offered after Close.
var ErrClosed = errors.New("inbox: intake closed")

// NewIntake returns an intake appending to store and waking w (the local
// worker) after each append. Close it when the adapters have stopped.
func NewIntake(store Store, w *Worker, log *slog.Logger) *Intake {
	if log == nil {
		log = slog.Default()
	}
	in := &Intake{store: store, worker: w, log: log, now: time.Now,
		reqs: make(chan *appendReq, maxBatch), stop: make(chan struct{}), done: make(chan struct{})}
	go in.flush()
	return in
}

// Handle appends u to the inbox. A nil error means the update may be
// acknowledged; an error wraps bot.ErrNotSaved, so that adapters do not
// acknowledge it and the platform delivers it again.
func (in *Intake) Handle(ctx context.Context, u bot.Inbound) error {
	return in.append(ctx, u, "")
}

// HandleAndWait appends u pinned to this process and waits until the
// worker has tried it once, returning that try's error. The web chat uses
// it: its reply is read from this process's memory in the same request.
func (in *Intake) HandleAndWait(ctx context.Context, u bot.Inbound) error {
	wait := in.worker.await(u.Key.String())
	if err := in.append(ctx, u, in.worker.holder); err != nil {
		in.worker.unawait(u.Key.String(), wait)
		return err
	}
	select {
	case err := <-wait:
		return err
	case <-ctx.Done():
		in.worker.unawait(u.Key.String(), wait)
		return fmt.Errorf("%w: %v", bot.ErrNotSaved, ctx.Err())
	}
}

// Waiting is the intake as a Handler that waits for the update to be
// handled (HandleAndWait).
func (in *Intake) Waiting() Handler { return waiting{in} }

type waiting struct{ in *Intake }

func (w waiting) Handle(ctx context.Context, u bot.Inbound) error { return w.in.HandleAndWait(ctx, u) }

func (in *Intake) append(ctx context.Context, u bot.Inbound, owner string) error {
	payload, err := json.Marshal(u)
	if err != nil {
		return fmt.Errorf("%w: encode update: %v", bot.ErrNotSaved, err)
	}
	chat := u.ChatKey()
	r := &appendReq{res: make(chan error, 1), item: storage.InboxItem{
		Key: u.Key.String(), Part: Partition(chat), Chat: chat, Owner: owner, Payload: payload, Created: in.now(),
	}}
	if u.CachesFacts() {
		r.item.Channel, r.item.User = string(u.Key.Channel), u.UserID
	}
	// encoding/json writes an invalid byte as the escape \ufffd (a real
	// U+FFFD as itself): only then would the payload read back differ.
	if !bytes.Contains(payload, []byte(`\ufffd`)) {
		r.in, r.handed = u, true
	}
	select {
	case in.reqs <- r:
	case <-in.stop:
		return fmt.Errorf("%w: %v", bot.ErrNotSaved, ErrClosed)
	case <-ctx.Done():
		return fmt.Errorf("%w: %v", bot.ErrNotSaved, ctx.Err())
	}
	// Once queued, the append's outcome is awaited even when ctx ends: the
	// caller must not acknowledge what may not be stored, nor be told it
	// failed when it was stored (it would be redelivered, then dropped as
	// a duplicate: harmless).
	select {
	case err = <-r.res:
	case <-in.done:
		// The flusher stopped; it answered every request it took.
		select {
		case err = <-r.res:
		default:
			err = ErrClosed
		}
	}
	if err != nil {
		return fmt.Errorf("%w: inbox: %v", bot.ErrNotSaved, err)
	}
	return nil
}

// flush appends queued requests, as many per statement as are waiting.
func (in *Intake) flush() {
	defer close(in.done)
	batch := make([]*appendReq, 0, maxBatch)
	items := make([]storage.InboxItem, 0, maxBatch)
	ins := make([]*bot.Inbound, 0, maxBatch)
	for {
		clear(ins)
		batch, items, ins = batch[:0], items[:0], ins[:0]
		select {
		case r := <-in.reqs:
			batch = append(batch, r)
		case <-in.stop:
			in.failQueued()
			return
		}
	gather:
		for len(batch) < maxBatch {
			select {
			case r := <-in.reqs:
				batch = append(batch, r)
			default:
				break gather
			}
		}
		for _, r := range batch {
			items = append(items, r.item)
			if r.handed {
				ins = append(ins, &r.in)
			} else {
				ins = append(ins, nil)
			}
		}
		by := ""
		if in.worker != nil {
			by = in.worker.holder
			in.worker.markLocal(items)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := in.store.AppendInbox(ctx, by, items)
		cancel()
		if err != nil {
			in.log.Warn("inbox append failed; the updates are not acknowledged", "updates", len(batch), "err", err)
		} else if in.worker != nil && in.worker.take(items, ins) {
			// Appends are one at a time, so the worker is handed them in
			// the order of their ids.
			in.worker.Wake()
		}
		for _, r := range batch {
			r.res <- err
		}
	}
}

func (in *Intake) failQueued() {
	for {
		select {
		case r := <-in.reqs:
			r.res <- ErrClosed
		default:
			return
		}
	}
}

// Close stops taking updates once those queued are appended or refused.
func (in *Intake) Close() {
	in.once.Do(func() { close(in.stop) })
	<-in.done
}
