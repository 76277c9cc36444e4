package main

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/dieuphoi/dieuphoi/configs"
	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/storage/sqlite"
)

// export-config writes the campaigns and the catalog beside the events;
// importing them into a fresh database gives the same campaigns (their
// own assignments, renamed codes, deadlines, status) and catalog, and
// importing them again changes nothing.
func TestExportImportCampaignsRoundTrip(t *testing.T) {
	ctx := context.Background()
	env := baseEnv(t)
	in := t.TempDir()
	copyExample(t, in, nil)
	var out, errOut strings.Builder
	if err := run(ctx, []string{"dieuphoi", "import", in}, envFunc(env), &out, &errOut); err != nil {
		t.Fatalf("import: %v\n%s", err, errOut.String())
	}
	ex, err := configs.Load(configs.Example())
	if err != nil {
		t.Fatal(err)
	}
	s, err := sqlite.Open(ctx, filepath.Join(env["DIEUPHOI_DATA_DIR"], "dieuphoi.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SyncCatalog(ctx, ex.Indicators, ex.Assignments); err != nil {
		t.Fatal(err)
	}
	hcm, _ := time.LoadLocation("Asia/Ho_Chi_Minh")
	a := ex.Assignments[0]
	next := domain.CampaignRecord{ID: "pii-2025", NameVI: "PII 2025", NameEN: "PII 2025", CatalogVersion: "2025", PreviousID: "pii-2024",
		CodeMap: map[string]string{a.Indicator: "old-" + a.Indicator}, Opens: time.Date(2025, 6, 1, 0, 0, 0, 0, hcm),
		Deadline: time.Date(2025, 8, 29, 17, 0, 0, 0, hcm), AgencyDeadlines: map[string]time.Time{a.Agency: time.Date(2025, 8, 22, 17, 0, 0, 0, hcm)},
		StaffContact: domain.Contact{Name: "Nguyễn Công Hiếu", Phone: "0386 534 362"},
		Assignments:  []domain.Assignment{{Indicator: a.Indicator, Agency: a.Agency, Focal: a.Focal, Deadline: time.Date(2025, 8, 22, 17, 0, 0, 0, hcm)}}}
	if err := s.CreateCampaign(ctx, next, "DB001", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.SetCampaignStatus(ctx, "pii-2024", domain.StatusClosed, "DB001", time.Now()); err != nil {
		t.Fatal(err)
	}
	before, err := s.Campaigns(ctx)
	if err != nil {
		t.Fatal(err)
	}
	inds, _, err := s.LoadCatalog(ctx)
	s.Close()
	if err != nil {
		t.Fatal(err)
	}

	exp := t.TempDir()
	out.Reset()
	if err := run(ctx, []string{"dieuphoi", "export-config", exp}, envFunc(env), &out, &errOut); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"campaigns.yaml", "indicators.csv", "agencies.csv", "people.csv", "campaigns/pii-2025-assignments.csv", "pii-2024/event.yaml"} {
		if _, err := os.Stat(filepath.Join(exp, f)); err != nil {
			t.Errorf("export-config did not write %s", f)
		}
	}
	env2 := baseEnv(t)
	out.Reset()
	if err := run(ctx, []string{"dieuphoi", "import", exp}, envFunc(env2), &out, &errOut); err != nil {
		t.Fatalf("import of the export: %v", err)
	}
	for _, want := range []string{"chiến dịch pii-2025: đã nhập — 1 chỉ số giao", "chiến dịch pii-2024: đã nhập", "pii-2024 (PII2024): đã nhập",
		"danh mục: " + strconv.Itoa(len(inds)) + " chỉ số"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("import said %q, want %q", out.String(), want)
		}
	}
	s2, err := sqlite.Open(ctx, filepath.Join(env2["DIEUPHOI_DATA_DIR"], "dieuphoi.db"))
	if err != nil {
		t.Fatal(err)
	}
	after, err := s2.Campaigns(ctx)
	if err != nil {
		t.Fatal(err)
	}
	inds2, _, err := s2.LoadCatalog(ctx)
	s2.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Fatalf("campaigns after the round trip: %d, were %d", len(after), len(before))
	}
	same := func(c domain.CampaignRecord) domain.CampaignRecord {
		c.SourceHash, c.CreatedAt, c.UpdatedAt = "", time.Time{}, time.Time{}
		return c
	}
	for i := range before {
		if b, a := same(before[i]), same(after[i]); !reflect.DeepEqual(a, b) {
			t.Errorf("campaign %s changed on the round trip:\n got %+v\nwant %+v", b.ID, a, b)
		}
	}
	if !reflect.DeepEqual(inds, inds2) {
		t.Errorf("catalog changed on the round trip:\n got %+v\nwant %+v", inds2, inds)
	}
	out.Reset()
	if err := run(ctx, []string{"dieuphoi", "import", exp}, envFunc(env2), &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if strings.Count(out.String(), "không đổi") != 3 {
		t.Errorf("importing the same files again: %s", out.String())
	}

	// A campaign naming a previous one that exists nowhere, and a focal
	// point of another agency: refused with file, row and field, nothing
	// stored.
	raw, err := os.ReadFile(filepath.Join(exp, "campaigns.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(raw), "previous: pii-2024", "previous: pii-1999", 1)
	if bad == string(raw) {
		t.Fatalf("campaigns.yaml has no previous: %s", raw)
	}
	if err := os.WriteFile(filepath.Join(exp, "campaigns.yaml"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	env3 := baseEnv(t)
	err = run(ctx, []string{"dieuphoi", "import", exp}, envFunc(env3), &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "campaigns.yaml: campaigns[") || !strings.Contains(err.Error(), "«pii-1999» is neither") {
		t.Fatalf("unknown previous campaign: %v", err)
	}
	s3, err := sqlite.Open(ctx, filepath.Join(env3["DIEUPHOI_DATA_DIR"], "dieuphoi.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s3.Close()
	if list, _ := s3.Campaigns(ctx); len(list) != 0 {
		t.Errorf("a refused import stored %d campaigns", len(list))
	}
	if ev, _ := s3.Events(ctx); len(ev) != 0 {
		t.Errorf("a refused import stored %d events", len(ev))
	}
}

// A database failure part-way through an import (here a trigger refusing
// the second event, after the people, the campaign and the first event
// were written) leaves nothing: the whole import is one transaction.
func TestImportIsOneTransaction(t *testing.T) {
	ctx := context.Background()
	env := baseEnv(t)
	in := t.TempDir()
	copyExample(t, filepath.Join(in, "a"), nil)
	copyExample(t, filepath.Join(in, "b"), second)
	s, err := sqlite.Open(ctx, filepath.Join(env["DIEUPHOI_DATA_DIR"], "dieuphoi.db")) // the schema
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite", filepath.Join(env["DIEUPHOI_DATA_DIR"], "dieuphoi.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TRIGGER fail_late BEFORE INSERT ON events WHEN NEW.id = 'council-2024'
		BEGIN SELECT RAISE(ABORT, 'the disk is full'); END`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	var out, errOut strings.Builder
	err = run(ctx, []string{"dieuphoi", "import", in}, envFunc(env), &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "nothing imported") || !strings.Contains(err.Error(), "the disk is full") {
		t.Fatalf("import with a failure part-way: %v", err)
	}
	s, err = sqlite.Open(ctx, filepath.Join(env["DIEUPHOI_DATA_DIR"], "dieuphoi.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	events, _ := s.Events(ctx)
	campaigns, _ := s.Campaigns(ctx)
	dir, _ := s.Directory(ctx)
	if len(events) != 0 || len(campaigns) != 0 || len(dir.People()) != 0 || len(dir.Agencies()) != 0 {
		t.Errorf("a failed import left %d events (%v), %d campaigns, %d people, %d agencies", len(events), events, len(campaigns),
			len(dir.People()), len(dir.Agencies()))
	}
}
