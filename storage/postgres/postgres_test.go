package postgres_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/dieuphoi/dieuphoi/bot/inbox"
	"github.com/dieuphoi/dieuphoi/internal/testenv"
	"github.com/dieuphoi/dieuphoi/storage"
	"github.com/dieuphoi/dieuphoi/storage/postgres"
	"github.com/dieuphoi/dieuphoi/storage/storagetest"
)

func open(t testing.TB, url string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// withConns is url with a pool of n connections.
func withConns(url string, n int) string {
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	return url + sep + "pool_max_conns=" + strconv.Itoa(n)
}

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store { return open(t, testenv.PostgresURL(t)) })
}

// Several processes starting at once must not race on migrations.
func TestConcurrentMigrations(t *testing.T) {
	url := testenv.PostgresURL(t)
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := postgres.Open(context.Background(), url)
			if err != nil {
				t.Errorf("open: %v", err)
				return
			}
			s.Close()
		}()
	}
	wg.Wait()
}

func TestBadURLDoesNotLeakPassword(t *testing.T) {
	_, err := postgres.Open(context.Background(), "postgres://u:s3cretpw@127.0.0.1:1/x?sslmode=bogus%")
	if err == nil {
		t.Fatal("want error")
	}
	if got := err.Error(); strings.Contains(got, "s3cretpw") {
		t.Fatalf("error leaks the password: %s", got)
	}
}

func TestCampaign(t *testing.T) {
	storagetest.RunCampaign(t, func(t *testing.T) storagetest.CampaignStore { return open(t, testenv.PostgresURL(t)) })
}

func TestInbox(t *testing.T) {
	storagetest.RunInbox(t, func(t *testing.T) inbox.Store { return open(t, testenv.PostgresURL(t)) })
}

func TestEvidenceText(t *testing.T) {
	storagetest.RunEvidenceText(t, func(t *testing.T) storagetest.EvidenceStore { return open(t, testenv.PostgresURL(t)) })
}

// openWithPeople opens a store of its own holding the sample directory.
func openWithPeople(t testing.TB) *postgres.Store {
	t.Helper()
	s := open(t, testenv.PostgresURL(t))
	if err := s.SyncDirectory(context.Background(), storagetest.Agencies(), storagetest.People()); err != nil {
		t.Fatalf("sync: %v", err)
	}
	return s
}

func TestFactsVersion(t *testing.T) {
	storagetest.RunFactsVersion(t, func(t *testing.T) storagetest.FactsStore { return open(t, testenv.PostgresURL(t)) })
}

func TestIdentityStates(t *testing.T) {
	storagetest.RunIdentityStates(t, func(t *testing.T) storagetest.LookupStore { return open(t, testenv.PostgresURL(t)) })
}
