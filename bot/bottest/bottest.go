// Package bottest has test helpers the channel adapters' tests share.
package bottest

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/bot"
)

// Recorder is a bot handler that records what it receives and returns the
// errors a test scripts. It stands in for the dispatcher, which the
// end-to-end tests exercise with real stores.
type Recorder struct {
	// Fail, when set, decides the error for the n-th call (1-based) of an
	// update.
	Fail func(in bot.Inbound, n int) error
	// Before, when set, runs before recording (to block or observe).
	Before func(in bot.Inbound)

	mu      sync.Mutex
	got     []bot.Inbound
	calls   map[string]int // by update id
	changed chan struct{}
}

// NewRecorder returns an empty recorder.
func NewRecorder() *Recorder {
	return &Recorder{calls: map[string]int{}, changed: make(chan struct{})}
}

// Handle implements the adapters' Handler.
func (r *Recorder) Handle(ctx context.Context, in bot.Inbound) error {
	if r.Before != nil {
		r.Before(in)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls[in.Key.UpdateID]++
	n := r.calls[in.Key.UpdateID]
	r.got = append(r.got, in)
	close(r.changed)
	r.changed = make(chan struct{})
	if r.Fail != nil {
		return r.Fail(in, n)
	}
	return nil
}

// All returns every call so far.
func (r *Recorder) All() []bot.Inbound {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]bot.Inbound(nil), r.got...)
}

// CallsOf counts the calls for an update id (a string, or a number).
func (r *Recorder) CallsOf(id any) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[fmt.Sprint(id)]
}

// Wait returns all calls once there are at least n, failing the test after
// 5 seconds.
func (r *Recorder) Wait(t testing.TB, n int) []bot.Inbound {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		r.mu.Lock()
		got := append([]bot.Inbound(nil), r.got...)
		ch := r.changed
		r.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("handler got %d updates, want %d: %+v", len(got), n, got)
		}
	}
}

// SyncBuffer is a log sink safe for concurrent writes.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
