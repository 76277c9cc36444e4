package bot

import (
	"context"
	"sync"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
)

// dirReload coalesces re-reads of the people list. Each answer naming a
// substitute used to read the whole list again (thousands of rows, most of
// the bot's CPU under a load of substitutes); now every caller waits for
// one read that started after it asked, so the substitute its transaction
// just committed is in it, and the callers arriving during one read share
// the next.
type dirReload struct {
	mu      sync.Mutex
	running bool
	next    *dirRead // the read the next callers join; nil if none asked
}

type dirRead struct {
	done chan struct{}
	dir  *domain.Directory
	err  error
}

// reloadDirectory returns a people list read after the call began, and
// makes it the dispatcher's snapshot.
func (d *Dispatcher) reloadDirectory(ctx context.Context) (*domain.Directory, error) {
	r := &d.dirReload
	r.mu.Lock()
	if r.next == nil {
		r.next = &dirRead{done: make(chan struct{})}
	}
	read := r.next
	if !r.running {
		r.running = true
		go d.runDirReloads()
	}
	r.mu.Unlock()
	select {
	case <-read.done:
		return read.dir, read.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// runDirReloads performs the reads asked for until none is waiting.
func (d *Dispatcher) runDirReloads() {
	r := &d.dirReload
	for {
		r.mu.Lock()
		read := r.next
		r.next = nil
		if read == nil {
			r.running = false
			r.mu.Unlock()
			return
		}
		r.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		read.dir, read.err = d.store.Directory(ctx)
		cancel()
		if read.err == nil {
			d.SetDirectory(read.dir)
		}
		close(read.done)
	}
}
