package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/bot/inbox"
	"github.com/dieuphoi/dieuphoi/storage"
	"github.com/dieuphoi/dieuphoi/storage/sqlite"
	"github.com/dieuphoi/dieuphoi/storage/storagetest"
)

func open(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "data", "dieuphoi.db"))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store { return open(t) })
}

func TestSessions(t *testing.T) {
	storagetest.RunSessions(t, func(t *testing.T) (storage.SessionStore, storage.SessionStore) {
		s := open(t)
		return s, s // one process, one handle
	})
}

func TestReopenKeepsSessionsAndAnswers(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "x.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "web:a", []byte("state")); err != nil {
		t.Fatal(err)
	}
	if err := s.SyncDirectory(ctx, storagetest.Agencies(), storagetest.People()); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2, err := sqlite.Open(ctx, path) // migrations run again: must be a no-op
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	got, err := s2.Get(ctx, "web:a")
	if err != nil || string(got) != "state" {
		t.Fatalf("session after reopen = %q, %v", got, err)
	}
	d, err := s2.Directory(ctx)
	if err != nil || len(d.People()) != 3 {
		t.Fatalf("people after reopen: %v", err)
	}
}

func TestCampaign(t *testing.T) {
	storagetest.RunCampaign(t, func(t *testing.T) storagetest.CampaignStore { return open(t) })
}

// The embedded store's "update handled" marks are pruned by age too.
func TestPruneDoneMarks(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	turn, err := s.Begin(ctx, "web:c1", "web:u1")
	if err != nil || turn.Done {
		t.Fatalf("begin: %+v, %v", turn, err)
	}
	if err := turn.Lease.Finish(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := s.PruneDone(ctx, time.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Fatalf("pruned %d recent marks (%v)", n, err)
	}
	if n, err := s.PruneDone(ctx, time.Now().Add(time.Second)); err != nil || n != 1 {
		t.Fatalf("pruned %d old marks (%v), want 1", n, err)
	}
	turn, err = s.Begin(ctx, "web:c1", "web:u1")
	if err != nil || turn.Done {
		t.Fatalf("after pruning, the update is still marked done: %+v, %v", turn, err)
	}
	turn.Lease.Release()
}

func TestInbox(t *testing.T) {
	storagetest.RunInbox(t, func(t *testing.T) inbox.Store { return open(t) })
}

func TestEvidenceText(t *testing.T) {
	storagetest.RunEvidenceText(t, func(t *testing.T) storagetest.EvidenceStore { return open(t) })
}
