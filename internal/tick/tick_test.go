package tick_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/internal/tick"
)

// Every calls its function on each tick, not at once, and returns when the
// context ends.
func TestEvery(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var n atomic.Int32
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick.Every(ctx, 5*time.Millisecond, func(context.Context) { n.Add(1) })
	}()
	if got := n.Load(); got != 0 {
		t.Errorf("called %d times before the first tick", got)
	}
	deadline := time.Now().Add(5 * time.Second)
	for n.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n.Load() < 3 {
		t.Fatalf("called %d times in 5 s", n.Load())
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Every did not return after its context ended")
	}
}
