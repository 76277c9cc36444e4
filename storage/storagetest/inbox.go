package storagetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/bot/inbox"
	"github.com/dieuphoi/dieuphoi/storage"
)

// RunInbox is the conformance suite of inbox.Store: appending (one
// statement, duplicates skipped), reading by partition lease or owner, the
// leases' fencing tokens and take-over, and deleting.
func RunInbox(t *testing.T, open func(t *testing.T) inbox.Store) {
	ctx := context.Background()
	t0 := time.UnixMilli(1_700_000_000_000)
	item := func(key string, part int, owner string) storage.InboxItem {
		return storage.InboxItem{Key: key, Part: part, Chat: "telegram:" + key, Owner: owner,
			Payload: []byte(`{"k":"` + key + `"}`), Created: t0}
	}
	keys := func(items []storage.InboxItem) []string {
		var out []string
		for _, it := range items {
			out = append(out, it.Key)
		}
		return out
	}
	same := func(t *testing.T, what string, got, want []string) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s = %v, want %v", what, got, want)
		}
	}

	t.Run("append once, read in order under a lease, delete", func(t *testing.T) {
		s := open(t)
		a2 := item("a2", 1, "")
		a2.Chat = "telegram:a1" // a1's chat
		first := []storage.InboxItem{item("a1", 1, ""), item("b1", 2, ""), a2}
		n, err := s.AppendInbox(ctx, "p", first)
		if err != nil || n != 3 {
			t.Fatalf("append = %d, %v; want 3 new", n, err)
		}
		// Each new item learns its id and its chat's item before it.
		if first[0].ID == 0 || first[1].ID <= first[0].ID || first[2].ID <= first[1].ID ||
			first[0].Prev != 0 || first[1].Prev != 0 || first[2].Prev != first[0].ID {
			t.Fatalf("ids and prevs of the first append = %+v", first)
		}
		// A redelivery in the same batch as a new update: only the new one.
		a3 := item("a3", 1, "")
		a3.Chat = "telegram:a1"
		second := []storage.InboxItem{item("a1", 1, ""), a3}
		n, err = s.AppendInbox(ctx, "p", second)
		if err != nil || n != 1 {
			t.Fatalf("append with a duplicate = %d, %v; want 1 new", n, err)
		}
		if second[0].ID != 0 || second[1].ID <= first[2].ID || second[1].Prev != first[2].ID {
			t.Fatalf("ids and prevs of the second append = %+v", second)
		}
		got, err := s.ReadInbox(ctx, "p", 0, t0, 100)
		if err != nil || len(got) != 0 {
			t.Fatalf("read without a lease = %v, %v; want nothing", keys(got), err)
		}
		fence, ok, err := s.AcquireInboxPart(ctx, 1, "p", t0, 10*time.Second)
		if err != nil || !ok || fence != 1 {
			t.Fatalf("acquire = %d, %v, %v", fence, ok, err)
		}
		got, err = s.ReadInbox(ctx, "p", 0, t0, 100)
		if err != nil {
			t.Fatal(err)
		}
		same(t, "read partition 1", keys(got), []string{"a1", "a2", "a3"})
		for _, it := range got {
			if it.Fence != 1 || it.Part != 1 || string(it.Payload) != `{"k":"`+it.Key+`"}` || !it.Created.Equal(t0) {
				t.Fatalf("item read back = %+v", it)
			}
		}
		after, err := s.ReadInbox(ctx, "p", got[0].ID, t0, 1)
		if err != nil {
			t.Fatal(err)
		}
		same(t, "read after the first, limit 1", keys(after), []string{"a2"})
		if err := s.DeleteInbox(ctx, []int64{got[0].ID, got[1].ID}); err != nil {
			t.Fatal(err)
		}
		got, err = s.ReadInbox(ctx, "p", 0, t0, 100)
		if err != nil {
			t.Fatal(err)
		}
		same(t, "read after deleting two", keys(got), []string{"a3"})
		// The chat's latest item still there is a3: the deleted ones
		// are no one's Prev.
		a4 := item("a4", 1, "")
		a4.Chat = "telegram:a1"
		third := []storage.InboxItem{a4}
		if _, err := s.AppendInbox(ctx, "p", third); err != nil || third[0].Prev != second[1].ID {
			t.Fatalf("append after deleting = %+v, %v; want Prev %d", third, err, second[1].ID)
		}
	})

	t.Run("a batch of a getUpdates result in one append", func(t *testing.T) {
		s := open(t)
		var batch []storage.InboxItem
		for i := range 256 {
			batch = append(batch, item(fmt.Sprintf("u%03d", i), 5, ""))
		}
		if n, err := s.AppendInbox(ctx, "p", batch); err != nil || n != 256 {
			t.Fatalf("append 256 = %d, %v", n, err)
		}
		if _, ok, err := s.AcquireInboxPart(ctx, 5, "p", t0, time.Minute); !ok || err != nil {
			t.Fatalf("acquire: %v %v", ok, err)
		}
		got, err := s.ReadInbox(ctx, "p", 0, t0, 1000)
		if err != nil || len(got) != 256 || got[0].Key != "u000" || got[255].Key != "u255" {
			t.Fatalf("read %d items, %v", len(got), err)
		}
	})

	t.Run("leases: one holder, fence grows on take-over, release", func(t *testing.T) {
		s := open(t)
		ttl := 10 * time.Second
		if f, ok, err := s.AcquireInboxPart(ctx, 3, "a", t0, ttl); err != nil || !ok || f != 1 {
			t.Fatalf("a acquires = %d %v %v", f, ok, err)
		}
		if _, ok, err := s.AcquireInboxPart(ctx, 3, "b", t0.Add(ttl/2), ttl); err != nil || ok {
			t.Fatalf("b acquires a live lease = %v %v", ok, err)
		}
		ls, err := s.RenewInboxParts(ctx, "a", t0.Add(ttl/2), ttl)
		if err != nil || len(ls) != 1 || ls[0].Part != 3 || ls[0].Fence != 1 || !ls[0].Expires.Equal(t0.Add(ttl/2+ttl)) {
			t.Fatalf("a renews = %+v, %v", ls, err)
		}
		// a dies: once the lease ran out, b takes over with a new fence.
		dead := t0.Add(2 * ttl)
		if f, ok, err := s.AcquireInboxPart(ctx, 3, "b", dead, ttl); err != nil || !ok || f != 2 {
			t.Fatalf("b takes over = %d %v %v", f, ok, err)
		}
		if ls, err := s.RenewInboxParts(ctx, "a", dead, ttl); err != nil || len(ls) != 0 {
			t.Fatalf("a renews a lost lease = %+v, %v", ls, err)
		}
		all, err := s.InboxLeases(ctx)
		if err != nil || len(all) != 1 || all[0].Holder != "b" || all[0].Fence != 2 {
			t.Fatalf("leases = %+v, %v", all, err)
		}
		if _, err := s.AppendInbox(ctx, "p", []storage.InboxItem{item("x", 3, "")}); err != nil {
			t.Fatal(err)
		}
		if got, err := s.ReadInbox(ctx, "a", 0, dead, 10); err != nil || len(got) != 0 {
			t.Fatalf("the old holder reads = %v, %v", keys(got), err)
		}
		if got, err := s.ReadInbox(ctx, "b", 0, dead, 10); err != nil || len(got) != 1 || got[0].Fence != 2 {
			t.Fatalf("the new holder reads = %+v, %v", got, err)
		}
		if err := s.ReleaseInboxPart(ctx, 3, "a"); err != nil { // not a's: no effect
			t.Fatal(err)
		}
		if _, ok, _ := s.AcquireInboxPart(ctx, 3, "c", dead, ttl); ok {
			t.Fatal("c took a lease another holder released for b")
		}
		if err := s.ReleaseInboxPart(ctx, 3, "b"); err != nil {
			t.Fatal(err)
		}
		if f, ok, err := s.AcquireInboxPart(ctx, 3, "c", dead, ttl); err != nil || !ok || f != 3 {
			t.Fatalf("c after release = %d %v %v", f, ok, err)
		}
	})

	t.Run("pinned items: their owner reads them; a partition holder once the owner is dead", func(t *testing.T) {
		s := open(t)
		ttl := 10 * time.Second
		if n, err := s.InboxHeartbeat(ctx, "web1", t0, ttl); err != nil || n != 1 {
			t.Fatalf("heartbeat = %d, %v", n, err)
		}
		if n, err := s.InboxHeartbeat(ctx, "p", t0, ttl); err != nil || n != 2 {
			t.Fatalf("second heartbeat = %d, %v", n, err)
		}
		if _, err := s.AppendInbox(ctx, "p", []storage.InboxItem{item("w1", 7, "web1"), item("t1", 7, "")}); err != nil {
			t.Fatal(err)
		}
		if _, ok, err := s.AcquireInboxPart(ctx, 7, "p", t0, 3*ttl); !ok || err != nil {
			t.Fatalf("acquire: %v %v", ok, err)
		}
		got, err := s.ReadInbox(ctx, "web1", 0, t0, 10)
		if err != nil {
			t.Fatal(err)
		}
		same(t, "the owner reads", keys(got), []string{"w1"})
		if got[0].Fence != 0 {
			t.Fatalf("a pinned item read by its owner has fence %d, want 0", got[0].Fence)
		}
		got, err = s.ReadInbox(ctx, "p", 0, t0, 10)
		if err != nil {
			t.Fatal(err)
		}
		same(t, "the holder reads while the owner lives", keys(got), []string{"t1"})
		later := t0.Add(2 * ttl) // web1 stopped beating
		if _, err := s.InboxHeartbeat(ctx, "p", later, ttl); err != nil {
			t.Fatal(err)
		}
		got, err = s.ReadInbox(ctx, "p", 0, later, 10)
		if err != nil {
			t.Fatal(err)
		}
		same(t, "the holder reads once the owner died", keys(got), []string{"w1", "t1"})
		if err := s.LeaveInbox(ctx, "p"); err != nil {
			t.Fatal(err)
		}
		if got, err := s.ReadInbox(ctx, "p", 0, later, 10); err != nil || len(got) != 0 {
			t.Fatalf("after leaving, reads = %v, %v", keys(got), err)
		}
		if n, err := s.InboxHeartbeat(ctx, "q", later, ttl); err != nil || n != 1 {
			t.Fatalf("live after p left and web1 died = %d, %v; want 1", n, err)
		}
	})
}
