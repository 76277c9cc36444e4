package telegram

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/bot"
	"github.com/dieuphoi/dieuphoi/bot/telegram/telegramtest"
)

const testToken = "987654321:AAH-sEcReT_t0ken-ForTests-xyz123"

// recorder is a Handler that records what it receives and returns errors
// a test scripts per update.
type recorder struct {
	mu      sync.Mutex
	got     []bot.Inbound
	calls   map[string]int // by update id
	changed chan struct{}
	// fail, when set, decides the error for the n-th call (1-based) of an
	// update.
	fail func(in bot.Inbound, n int) error
	// before, when set, runs before recording (to block or observe).
	before func(in bot.Inbound)
}

func newRecorder() *recorder {
	return &recorder{calls: map[string]int{}, changed: make(chan struct{})}
}

func (r *recorder) Handle(ctx context.Context, in bot.Inbound) error {
	if r.before != nil {
		r.before(in)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls[in.Key.UpdateID]++
	n := r.calls[in.Key.UpdateID]
	r.got = append(r.got, in)
	close(r.changed)
	r.changed = make(chan struct{})
	if r.fail != nil {
		return r.fail(in, n)
	}
	return nil
}

func (r *recorder) all() []bot.Inbound {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]bot.Inbound(nil), r.got...)
}

func (r *recorder) callsOf(updateID int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[fmt.Sprint(updateID)]
}

// wait returns all calls once there are at least n.
func (r *recorder) wait(t *testing.T, n int) []bot.Inbound {
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

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type setup struct {
	srv  *telegramtest.Server
	a    *Adapter
	h    *recorder
	logs *syncBuffer
}

func newSetup(t *testing.T, edit ...func(*Config)) *setup {
	t.Helper()
	s := &setup{srv: telegramtest.New(t, testToken), h: newRecorder(), logs: &syncBuffer{}}
	c := Config{
		Token:       testToken,
		APIBase:     s.srv.URL(),
		Handler:     s.h,
		Log:         slog.New(slog.NewJSONHandler(s.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		PollTimeout: 5 * time.Second,
	}
	for _, e := range edit {
		e(&c)
	}
	a, err := New(context.Background(), c)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	a.minBackoff = 20 * time.Millisecond
	a.maxBackoff = 200 * time.Millisecond
	s.a = a
	return s
}

// poll runs Poll until the test ends and checks it stops promptly.
func (s *setup) poll(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.a.Poll(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Poll returned %v", err)
			}
		case <-time.After(2 * time.Second):
			t.Errorf("Poll did not stop within 2s of cancel")
		}
	})
}
