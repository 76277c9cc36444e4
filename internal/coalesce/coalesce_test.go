package coalesce_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/internal/coalesce"
)

// Calls made while a batch is out go together in the next one, and each
// caller gets its own result and error.
func TestCallsShareBatches(t *testing.T) {
	var batches, largest atomic.Int64
	gate := make(chan struct{})
	g := coalesce.New(1, 50, func(ctx context.Context, reqs []int) ([]string, []error) {
		if batches.Add(1) == 1 {
			<-gate // the first batch is slow: the others gather meanwhile
		}
		if int64(len(reqs)) > largest.Load() {
			largest.Store(int64(len(reqs)))
		}
		res := make([]string, len(reqs))
		errs := make([]error, len(reqs))
		for i, r := range reqs {
			res[i] = fmt.Sprint("r", r)
			if r%7 == 0 {
				errs[i] = fmt.Errorf("bad %d", r)
			}
		}
		return res, errs
	})
	defer g.Close()
	first := make(chan struct{})
	go func() { defer close(first); g.Do(context.Background(), 1) }()
	for batches.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	var wg sync.WaitGroup
	for i := 2; i < 42; i++ {
		wg.Go(func() {
			got, err := g.Do(context.Background(), i)
			if (i%7 == 0) != (err != nil) || (err == nil && got != fmt.Sprint("r", i)) {
				t.Errorf("call %d: %q, %v", i, got, err)
			}
		})
	}
	time.Sleep(50 * time.Millisecond) // let them queue behind the slow batch
	close(gate)
	wg.Wait()
	<-first
	if n := batches.Load(); n > 5 {
		t.Errorf("41 calls went out in %d batches; want them gathered", n)
	}
	if largest.Load() < 10 {
		t.Errorf("largest batch %d; want the calls made meanwhile together", largest.Load())
	}
}

// A caller that gives up gets its context's error; Close refuses new calls.
func TestGiveUpAndClose(t *testing.T) {
	block := make(chan struct{})
	g := coalesce.New(1, 10, func(ctx context.Context, reqs []int) ([]int, []error) {
		<-block
		return reqs, make([]error, len(reqs))
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := g.Do(ctx, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Do = %v; want the deadline", err)
	}
	close(block)
	g.Close()
	if _, err := g.Do(context.Background(), 2); !errors.Is(err, coalesce.ErrClosed) {
		t.Fatalf("Do after Close = %v; want ErrClosed", err)
	}
}
