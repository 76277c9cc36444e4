package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/internal/testenv"
	"github.com/dieuphoi/dieuphoi/storage"
)

// The append's insert returns each chat's latest earlier item with the
// row, through a plan the connection keeps from its first appends on — made
// while the inbox was empty and vacuumed, when a sequential scan looks
// cheapest. While the inbox grows to thousands of rows (lone appends,
// batches, two items of one chat in a batch, deletions) every Prev stays
// right, and the kept plan still goes down the index (chat, id) instead of
// reading the whole inbox for every row.
func TestAppendPlanStaysOnTheIndex(t *testing.T) {
	ctx := context.Background()
	url := testenv.PostgresURL(t)
	s := open(t, withConns(url, 1)) // one connection: one kept plan
	if _, err := s.Pool().Exec(ctx, `VACUUM ANALYZE inbox`); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(11, 13))
	const chats = 300
	live := map[string][]int64{} // chat → its ids in the inbox, ascending
	var all []int64
	n := 0
	at := time.Date(2024, 7, 25, 9, 0, 0, 0, time.UTC)
	appendSome := func(size int) {
		items := make([]storage.InboxItem, size)
		for i := range items {
			n++
			chat := fmt.Sprint("telegram:", rng.IntN(chats))
			if i > 0 && rng.IntN(4) == 0 {
				chat = items[i-1].Chat // two of one chat in one batch
			}
			items[i] = storage.InboxItem{Key: fmt.Sprint("telegram:u", n), Part: n % 64, Chat: chat, Payload: []byte(`{}`), Created: at}
		}
		if got, err := s.AppendInbox(ctx, "t", items); err != nil || got != size {
			t.Fatalf("append of %d (inbox %d rows) = %d, %v", size, len(all), got, err)
		}
		for _, it := range items {
			want := int64(0)
			if ids := live[it.Chat]; len(ids) > 0 {
				want = ids[len(ids)-1]
			}
			if it.Prev != want {
				t.Fatalf("inbox of %d rows: item %d of chat %s has Prev %d, want %d", len(all), it.ID, it.Chat, it.Prev, want)
			}
			live[it.Chat] = append(live[it.Chat], it.ID)
			all = append(all, it.ID)
		}
	}
	for len(all) < 3000 {
		size := 1
		if r := rng.IntN(20); r == 0 {
			size = 100
		} else if r < 4 {
			size = 2 + rng.IntN(5)
		}
		appendSome(size)
		if rng.IntN(10) == 0 { // some handled and deleted, latest ones too
			var gone []int64
			for range 5 {
				gone = append(gone, all[rng.IntN(len(all))])
			}
			if err := s.DeleteInbox(ctx, gone); err != nil {
				t.Fatal(err)
			}
			for chat, ids := range live {
				live[chat] = slices.DeleteFunc(ids, func(id int64) bool { return slices.Contains(gone, id) })
			}
			all = slices.DeleteFunc(all, func(id int64) bool { return slices.Contains(gone, id) })
		}
	}

	// The plan the connection keeps, as an append would use it (the
	// append's lock statement first, in the same transaction).
	c, err := s.Pool().Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Release()
	var name string
	var generic, custom int64
	if err := c.QueryRow(ctx, `SELECT name, generic_plans, custom_plans FROM pg_prepared_statements
		WHERE statement LIKE 'INSERT INTO inbox AS n %'`).Scan(&name, &generic, &custom); err != nil {
		t.Fatalf("the append's prepared insert: %v", err)
	}
	if generic == 0 {
		t.Fatalf("the append's insert ran %d times with a plan made for its values and never a kept one", custom)
	}
	tx, err := c.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	plan := s.PlanInboxAppend("t", []storage.InboxItem{{Key: "x", Chat: "x"}})
	if _, err := tx.Exec(ctx, plan.LockSQL, plan.LockArgs...); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `SET LOCAL plan_cache_mode = force_generic_plan`); err != nil {
		t.Fatal(err)
	}
	rows, err := tx.Query(ctx, `EXPLAIN EXECUTE `+name+`('{x}', '{0}', '{x}', '{""}', '{"{}"}', '{0}', '{telegram}', '{u}')`)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for rows.Next() {
		var l string
		if err := rows.Scan(&l); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, l)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	explained := strings.Join(lines, "\n")
	if strings.Contains(explained, "Seq Scan on inbox") || !strings.Contains(explained, "inbox_chat") {
		t.Fatalf("the kept plan of the append (%d rows in the inbox; %d kept, %d fresh plans) reads the inbox without the index (chat, id):\n%s",
			len(all), generic, custom, explained)
	}
}
