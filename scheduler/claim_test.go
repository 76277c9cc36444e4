package scheduler_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/storage/sqlstore"
)

// The claim honours its limit: asked for 30 of 100 due rows, a worker
// claims 30 — also with other workers claiming at the same moment — so
// that rows of a worker killed mid-batch wait for no lease they were never
// going to be sent under.
func TestClaimHonoursItsLimit(t *testing.T) {
	eachStore(t, func(t *testing.T, st testStore) {
		ctx := context.Background()
		now := time.Now()
		for i := range 100 {
			if _, err := st.Enqueue(ctx, sqlstore.OutboxItem{Key: fmt.Sprintf("bc|1|p%03d", i), Job: "bc",
				Channel: domain.Telegram, ChatID: fmt.Sprint(1000 + i), Payload: []byte(`[{"Text":"x"}]`), DueAt: now}); err != nil {
				t.Fatal(err)
			}
		}
		got, err := st.Claim(ctx, "w0", now, 30, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 30 {
			t.Fatalf("asked for 30 rows, claimed %d", len(got))
		}
		var mu sync.Mutex
		var wg sync.WaitGroup
		seen := map[int64]string{}
		for w := range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				items, err := st.Claim(ctx, fmt.Sprint("w", w+1), now, 20, time.Minute)
				if err != nil {
					t.Error(err)
					return
				}
				if len(items) > 20 {
					t.Errorf("worker %d asked for 20 rows, claimed %d", w+1, len(items))
				}
				mu.Lock()
				defer mu.Unlock()
				for _, it := range items {
					if other, dup := seen[it.ID]; dup {
						t.Errorf("row %d claimed by %s and w%d", it.ID, other, w+1)
					}
					seen[it.ID] = fmt.Sprint("w", w+1)
				}
			}()
		}
		wg.Wait()
		if len(seen) != 60 {
			t.Errorf("three workers asking for 20 each claimed %d of the 70 left", len(seen))
		}
	})
}
