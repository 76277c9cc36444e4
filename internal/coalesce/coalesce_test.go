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

// A call made with Later goes in the next batch that other calls make,
// with no batch of its own; alone, it goes once its wait has passed; and
// Close refuses riders still waiting.
func TestLaterRidesTheNextBatch(t *testing.T) {
	var mu sync.Mutex
	var batches [][]int
	g := coalesce.New(2, 8, func(ctx context.Context, reqs []int) ([]int, []error) {
		mu.Lock()
		batches = append(batches, append([]int(nil), reqs...))
		mu.Unlock()
		out := make([]int, len(reqs))
		for i, r := range reqs {
			out[i] = r * 10
		}
		return out, make([]error, len(reqs))
	})
	defer g.Close()
	ctx := context.Background()
	later := make(chan int, 1)
	go func() {
		n, err := g.Later(ctx, 1, time.Hour)
		if err != nil {
			t.Error(err)
		}
		later <- n
	}()
	time.Sleep(20 * time.Millisecond) // the rider waits
	select {
	case n := <-later:
		t.Fatalf("Later returned %d before any batch went", n)
	default:
	}
	if n, err := g.Do(ctx, 2); err != nil || n != 20 {
		t.Fatalf("Do = %d, %v", n, err)
	}
	select {
	case n := <-later:
		if n != 10 {
			t.Errorf("Later = %d, want 10", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the rider did not go with the next batch")
	}
	mu.Lock()
	if len(batches) != 1 || len(batches[0]) != 2 {
		t.Errorf("batches %v; want the rider and the call in one", batches)
	}
	mu.Unlock()

	// Alone, a rider goes after its wait; more riders than a batch holds
	// all go.
	start := time.Now()
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			if n, err := g.Later(ctx, 100+i, 30*time.Millisecond); err != nil || n != (100+i)*10 {
				t.Errorf("Later(%d) = %d, %v", 100+i, n, err)
			}
		})
	}
	wg.Wait()
	if d := time.Since(start); d < 25*time.Millisecond {
		t.Errorf("lone riders went after %v; want their wait (30ms)", d)
	}

	g2 := coalesce.New(1, 4, func(ctx context.Context, reqs []int) ([]int, []error) {
		return reqs, make([]error, len(reqs))
	})
	errc := make(chan error, 1)
	go func() { _, err := g2.Later(ctx, 1, time.Hour); errc <- err }()
	time.Sleep(20 * time.Millisecond)
	g2.Close()
	if err := <-errc; !errors.Is(err, coalesce.ErrClosed) {
		t.Errorf("rider at Close: %v; want ErrClosed", err)
	}
}

// A rider with a short wait queued behind one with a long wait goes after
// its own wait (taking the other along), and Call with a ctx marked by
// Ride is such a rider, whose channel says when it is queued.
func TestRideGoesAtItsOwnWait(t *testing.T) {
	var batches atomic.Int64
	g := coalesce.New(1, 8, func(ctx context.Context, reqs []int) ([]int, []error) {
		batches.Add(1)
		return reqs, make([]error, len(reqs))
	})
	defer g.Close()
	ctx := context.Background()
	long := make(chan error, 1)
	go func() { _, err := g.Later(ctx, 1, time.Hour); long <- err }()
	time.Sleep(20 * time.Millisecond)
	rctx, queued := coalesce.Ride(ctx, 30*time.Millisecond)
	start := time.Now()
	short := make(chan error, 1)
	go func() { _, err := g.Call(rctx, 2); short <- err }()
	select {
	case <-queued:
	case <-time.After(5 * time.Second):
		t.Fatal("the ride was never queued")
	}
	for _, c := range []chan error{short, long} {
		select {
		case err := <-c:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("a rider did not go at the shorter wait")
		}
	}
	if d := time.Since(start); d < 25*time.Millisecond {
		t.Errorf("went after %v; want the ride's 30 ms", d)
	}
	if n := batches.Load(); n != 1 {
		t.Errorf("%d batches, want both riders in one", n)
	}
}
