package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/bot/inbox"
	"github.com/dieuphoi/dieuphoi/domain"
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

// Migration 0007 on a database made before it: every person gets their own
// check-in token, links keep working at the weakest proof, and a Telegram
// group linked to a person is unlinked.
func TestTrustMigrationOnExistingData(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	names, _ := filepath.Glob("migrations/*.sql")
	if _, err := db.Exec(`CREATE TABLE schema_migrations (version TEXT PRIMARY KEY, applied_at TIMESTAMP NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		v := strings.TrimSuffix(filepath.Base(n), ".sql")
		if v >= "0007" {
			break
		}
		body, _ := os.ReadFile(n)
		if _, err := db.Exec(string(body)); err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		if _, err := db.Exec(`INSERT INTO schema_migrations VALUES (?, ?)`, v, time.Now().UTC()); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []string{
		`INSERT INTO agencies (code, name_vi) VALUES ('A', 'Sở A')`,
		`INSERT INTO people (id, full_name, agency_code, invite_token, invite_code) VALUES ('P1', 'Một', 'A', 'tok1', 'CODE1111')`,
		`INSERT INTO people (id, full_name, agency_code, invite_token, invite_code) VALUES ('P2', 'Hai', 'A', 'tok2', 'CODE2222')`,
		`INSERT INTO identities (channel, user_id, chat_id, person_id, linked_at) VALUES ('telegram', '11', '11', 'P1', '2024-07-01 00:00:00+00:00')`,
		`INSERT INTO identities (channel, user_id, chat_id, person_id, linked_at) VALUES ('telegram', '12', '-100777', 'P2', '2024-07-01 00:00:00+00:00')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	dir, err := s.Directory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p1, _ := dir.Person("P1")
	p2, _ := dir.Person("P2")
	if len(p1.CheckinToken) < 32 || p1.CheckinToken == p2.CheckinToken || p1.CheckinToken == p1.InviteToken {
		t.Errorf("check-in tokens %q %q", p1.CheckinToken, p2.CheckinToken)
	}
	if id, err := s.Identity(ctx, domain.Telegram, "11"); err != nil || id.Proof != domain.ProofCode {
		t.Errorf("private link after migration: %+v %v", id, err)
	}
	if _, err := s.Identity(ctx, domain.Telegram, "12"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("the group link survived: %v", err)
	}
}

func TestInbox(t *testing.T) {
	storagetest.RunInbox(t, func(t *testing.T) inbox.Store { return open(t) })
}

func TestEvidenceText(t *testing.T) {
	storagetest.RunEvidenceText(t, func(t *testing.T) storagetest.EvidenceStore { return open(t) })
}

func TestCampaigns(t *testing.T) {
	storagetest.RunCampaigns(t, func(t *testing.T) storagetest.CampaignsStore { return open(t) })
}

func TestEvents(t *testing.T) {
	storagetest.RunEvents(t, func(t *testing.T) storagetest.EventsStore { return open(t) })
}

// Migration 0015 on a database made by migrations 0001-0014: the first
// event and campaign imported adopt every answer, check-in and submission.
func TestEventsMigrationOnExistingData(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	names, _ := filepath.Glob("migrations/*.sql")
	if _, err := db.Exec(`CREATE TABLE schema_migrations (version TEXT PRIMARY KEY, applied_at TIMESTAMP NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		v := strings.TrimSuffix(filepath.Base(n), ".sql")
		if v >= "0015" {
			break
		}
		body, _ := os.ReadFile(n)
		if _, err := db.Exec(string(body)); err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		if _, err := db.Exec(`INSERT INTO schema_migrations VALUES (?, ?)`, v, time.Now().UTC()); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range storagetest.PreEventsRows {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	storagetest.CheckEventsMigration(t, s)
}

func TestFactsVersion(t *testing.T) {
	storagetest.RunFactsVersion(t, func(t *testing.T) storagetest.FactsStore { return open(t) })
}

func TestIdentityStates(t *testing.T) {
	storagetest.RunIdentityStates(t, func(t *testing.T) storagetest.LookupStore { return open(t) })
}
