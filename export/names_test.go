package export

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/storage/sqlite"
	"github.com/dieuphoi/dieuphoi/storage/storagetest"
)

// The downloads name the campaign they are of (FileTag, made safe for a
// file name); without a tag they keep the plain names.
func TestFileNamesNameTheCampaign(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "d.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.SyncDirectory(ctx, storagetest.Agencies(), storagetest.People()); err != nil {
		t.Fatal(err)
	}
	dir, err := st.Directory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 8, 20, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		label, tag, want string
	}{
		{"campaign id", "pii-2025", "PII-pii-2025-"},
		{"unsafe characters dropped", "../pii 2025/", "PII-pii2025-"},
		{"no tag", "", "PII-"},
	} {
		t.Run(tc.label, func(t *testing.T) {
			src := &Source{Title: "Chỉ số PII 2025", FileTag: tc.tag, Campaign: st, Directory: func() *domain.Directory { return dir },
				Catalog: domain.NewCatalog(storagetest.Indicators(), storagetest.Assignments()), Now: func() time.Time { return at }}
			for _, kind := range []string{"xlsx", "csv"} {
				f, err := src.Export(ctx, kind)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(f.Name, tc.want+"2025") || strings.ContainsAny(f.Name, "/ ") {
					t.Errorf("%s: %q, want it to begin %q", kind, f.Name, tc.want)
				}
			}
			f, err := src.ExportAgency(ctx, "STC")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(f.Name, tc.want+"STC-") {
				t.Errorf("agency workbook: %q", f.Name)
			}
		})
	}
}
