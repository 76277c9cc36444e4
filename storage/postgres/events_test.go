package postgres_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dieuphoi/dieuphoi/internal/testenv"
	"github.com/dieuphoi/dieuphoi/storage/storagetest"
)

func TestCampaigns(t *testing.T) {
	storagetest.RunCampaigns(t, func(t *testing.T) storagetest.CampaignsStore { return open(t, testenv.PostgresURL(t)) })
}

func TestEvents(t *testing.T) {
	storagetest.RunEvents(t, func(t *testing.T) storagetest.EventsStore { return open(t, testenv.PostgresURL(t)) })
}

// Migration 0015 on a database made by migrations 0001-0014: the first
// event and campaign imported adopt every answer, check-in and submission.
func TestEventsMigrationOnExistingData(t *testing.T) {
	ctx := context.Background()
	url := testenv.PostgresURL(t)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	names, _ := filepath.Glob("migrations/*.sql")
	if _, err := conn.Exec(ctx, `CREATE TABLE schema_migrations (version TEXT PRIMARY KEY, applied_at TIMESTAMP NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		v := strings.TrimSuffix(filepath.Base(n), ".sql")
		if v >= "0015" {
			break
		}
		body, _ := os.ReadFile(n)
		if _, err := conn.Exec(ctx, string(body)); err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		if _, err := conn.Exec(ctx, `INSERT INTO schema_migrations VALUES ($1, now())`, v); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range storagetest.PreEventsRows {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	conn.Close(ctx)
	storagetest.CheckEventsMigration(t, open(t, url))
}
