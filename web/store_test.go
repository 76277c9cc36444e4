package web_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/internal/testenv"
	"github.com/dieuphoi/dieuphoi/storage/postgres"
	"github.com/dieuphoi/dieuphoi/storage/sqlite"
	"github.com/dieuphoi/dieuphoi/storage/sqlstore"
	"github.com/dieuphoi/dieuphoi/web"
)

type consoleStore interface {
	web.ConsoleStore
	SyncDirectory(ctx context.Context, agencies []domain.Agency, people []domain.Person) error
	SyncCatalog(ctx context.Context, indicators []domain.Indicator, assignments []domain.Assignment) error
	LoadCatalog(ctx context.Context) ([]domain.Indicator, []domain.Assignment, error)
}

func TestConsoleStoreSQLite(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	testConsoleStore(t, st)
}

func TestConsoleStorePostgres(t *testing.T) {
	st, err := postgres.Open(context.Background(), testenv.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	testConsoleStore(t, st)
}

func testConsoleStore(t *testing.T, st consoleStore) {
	ctx := context.Background()
	now := time.Date(2026, 8, 7, 7, 0, 0, 123e6, time.UTC)
	if err := st.SyncDirectory(ctx, agencies, people); err != nil {
		t.Fatal(err)
	}

	// Sign-in links: once, before expiry.
	if err := st.CreateSignIn(ctx, "h1", "S001", now, now.Add(15*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if id, err := st.SignInStatus(ctx, "h1", now); err != nil || id != "S001" {
		t.Fatalf("status: %q %v", id, err)
	}
	if id, err := st.UseSignIn(ctx, "h1", now.Add(time.Minute)); err != nil || id != "S001" {
		t.Fatalf("use: %q %v", id, err)
	}
	if _, err := st.UseSignIn(ctx, "h1", now.Add(2*time.Minute)); !errors.Is(err, sqlstore.ErrSignInUsed) {
		t.Fatalf("second use: %v", err)
	}
	if _, err := st.SignInStatus(ctx, "h1", now); !errors.Is(err, sqlstore.ErrSignInUsed) {
		t.Fatalf("status after use: %v", err)
	}
	if err := st.CreateSignIn(ctx, "h2", "S001", now, now.Add(15*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.UseSignIn(ctx, "h2", now.Add(15*time.Minute)); !errors.Is(err, sqlstore.ErrSignInExpired) {
		t.Fatalf("expired: %v", err)
	}
	if _, err := st.UseSignIn(ctx, "nope", now); !errors.Is(err, sqlstore.ErrNoRows) {
		t.Fatalf("unknown: %v", err)
	}

	// Sessions.
	s := sqlstore.ConsoleSession{PersonID: "S001", CSRF: "c", CreatedAt: now, ExpiresAt: now.Add(8 * time.Hour)}
	if err := st.CreateConsoleSession(ctx, "sid", s); err != nil {
		t.Fatal(err)
	}
	got, err := st.ConsoleSession(ctx, "sid", now.Add(time.Hour))
	if err != nil || got.PersonID != "S001" || got.CSRF != "c" || !got.ExpiresAt.Equal(now.Add(8*time.Hour).Truncate(time.Millisecond)) {
		t.Fatalf("session: %+v %v", got, err)
	}
	if _, err := st.ConsoleSession(ctx, "sid", now.Add(9*time.Hour)); !errors.Is(err, sqlstore.ErrNoRows) {
		t.Fatalf("expired session: %v", err)
	}
	if err := st.ExtendConsoleSession(ctx, "sid", now.Add(10*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ConsoleSession(ctx, "sid", now.Add(9*time.Hour)); err != nil {
		t.Fatalf("extended session: %v", err)
	}

	// Uploads belong to their session and go with it.
	u := sqlstore.Upload{ID: "u1", SessionHash: "sid", Kind: "people", FileName: "ds.csv", Data: []byte("a,b\n"), CreatedAt: now}
	if err := st.PutUpload(ctx, u); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Upload(ctx, "u1", "other"); !errors.Is(err, sqlstore.ErrNoRows) {
		t.Fatalf("other session's upload: %v", err)
	}
	if g, err := st.Upload(ctx, "u1", "sid"); err != nil || string(g.Data) != "a,b\n" || g.FileName != "ds.csv" {
		t.Fatalf("upload: %+v %v", g, err)
	}
	if ok, err := st.DeleteUpload(ctx, "u1", "sid"); err != nil || !ok {
		t.Fatalf("delete upload: %v %v", ok, err)
	}
	if ok, _ := st.DeleteUpload(ctx, "u1", "sid"); ok {
		t.Fatal("deleted twice")
	}
	_ = st.PutUpload(ctx, sqlstore.Upload{ID: "u2", SessionHash: "sid", Kind: "people", FileName: "x", Data: []byte{1}, CreatedAt: now})
	if err := st.DeleteConsoleSession(ctx, "sid"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ConsoleSession(ctx, "sid", now); !errors.Is(err, sqlstore.ErrNoRows) {
		t.Fatalf("deleted session: %v", err)
	}
	if _, err := st.Upload(ctx, "u2", "sid"); !errors.Is(err, sqlstore.ErrNoRows) {
		t.Fatalf("upload outlived its session: %v", err)
	}

	// Check-ins: the first wins.
	first, fresh, err := st.CheckIn(ctx, sqlstore.CheckIn{PersonID: "P001", At: now, By: "S001", Method: "desk"})
	if err != nil || !fresh || first.Method != "desk" {
		t.Fatalf("check in: %+v %v %v", first, fresh, err)
	}
	again, fresh, err := st.CheckIn(ctx, sqlstore.CheckIn{PersonID: "P001", At: now.Add(time.Hour), Method: "self"})
	if err != nil || fresh || !again.At.Equal(first.At) || again.Method != "desk" || again.By != "S001" {
		t.Fatalf("second check in: %+v %v %v", again, fresh, err)
	}
	if _, _, err := st.CheckIn(ctx, sqlstore.CheckIn{PersonID: "P002", At: now, Method: "bogus"}); err == nil {
		t.Fatal("bogus method accepted")
	}
	all, err := st.CheckIns(ctx)
	if err != nil || len(all) != 1 || all["P001"].By != "S001" {
		t.Fatalf("check-ins: %+v %v", all, err)
	}

	// Audit.
	for i, a := range []string{"signin", "checkin.desk"} {
		if err := st.AddAudit(ctx, now.Add(time.Duration(i)*time.Second), "S001", a, "P001"); err != nil {
			t.Fatal(err)
		}
	}
	log, err := st.AuditLog(ctx, 10)
	if err != nil || len(log) != 2 || log[0].Action != "checkin.desk" || log[1].Detail != "P001" {
		t.Fatalf("audit: %+v %v", log, err)
	}

	// The catalog reads back as synced.
	min := 0.0
	inds := append([]domain.Indicator(nil), indicators...)
	inds[0].Min = &min
	as := []domain.Assignment{{Indicator: "1.1.1", Agency: "UBND-YM", Focal: []string{"P003"}, Deadline: deadline()}}
	if err := st.SyncCatalog(ctx, inds, as); err != nil {
		t.Fatal(err)
	}
	gi, ga, err := st.LoadCatalog(ctx)
	if err != nil || len(gi) != 2 || gi[0].Code != "1.1.1" || gi[0].Min == nil || gi[1].Min != nil || !gi[0].Evidence || gi[1].Type != domain.TypePercent {
		t.Fatalf("indicators: %+v %v", gi, err)
	}
	if len(ga) != 1 || ga[0].Focal[0] != "P003" || !ga[0].Deadline.Equal(deadline()) {
		t.Fatalf("assignments: %+v", ga)
	}
}
