package postgres

import (
	"context"
	"testing"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/internal/testenv"
	"github.com/dieuphoi/dieuphoi/storage/sqlstore"
	"github.com/dieuphoi/dieuphoi/storage/storagetest"
)

// Reads sent together fail alone: when one of a batch's reads fails, the
// others are run again on their own and answer.
func TestRunReadsFailAlone(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, testenv.PostgresURL(t))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.SyncDirectory(ctx, storagetest.Agencies(), storagetest.People()); err != nil {
		t.Fatalf("sync: %v", err)
	}
	var before, after []domain.Person
	bad := sqlstore.Read{What: "broken", SQL: `SELECT 1/0`, Scan: func(rows sqlstore.Rows) error {
		defer rows.Close()
		for rows.Next() {
		}
		return rows.Err()
	}}
	errs := s.runReads(ctx, []sqlstore.Read{s.PeopleRead([]string{"DB001"}, &before), bad, s.PeopleRead([]string{"DB002", "DB404"}, &after)})
	if errs[0] != nil || errs[2] != nil || errs[1] == nil {
		t.Fatalf("errors %v; want only the broken read's", errs)
	}
	if len(before) != 1 || before[0].ID != "DB001" || len(after) != 1 || after[0].ID != "DB002" {
		t.Errorf("read %+v and %+v; want DB001 and DB002", before, after)
	}
}
