package web

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/storage/sqlite"
)

// countingTexts records which evidence texts are loaded.
type countingTexts struct {
	*sqlite.Store
	mu     sync.Mutex
	loaded []string
}

func (c *countingTexts) EvidenceTexts(ctx context.Context, shas []string) (map[string]domain.EvidenceText, error) {
	c.mu.Lock()
	c.loaded = append(c.loaded, shas...)
	c.mu.Unlock()
	return c.Store.EvidenceTexts(ctx, shas)
}

func (c *countingTexts) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.loaded
	c.loaded = nil
	slices.Sort(out)
	return out
}

// A view reads the evidence texts of the items it shows only, and of those
// only what changed since the last view.
func TestFlagsLoadOnlyWhatChanged(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "d.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	store := &countingTexts{Store: st}
	cat := domain.NewCatalog([]domain.Indicator{
		{Code: "A", NameVI: "A", Type: domain.TypeInteger, Evidence: true, Agency: "X"},
		{Code: "B", NameVI: "B", Type: domain.TypeInteger, Evidence: true, Agency: "X"},
	}, nil)
	c := New(Config{Campaign: store, Catalog: func() *domain.Catalog { return cat }})
	at := time.Date(2024, 8, 1, 9, 0, 0, 0, time.UTC)
	read := func(sha, text string) {
		t.Helper()
		at = at.Add(time.Minute) // a new reading has a new time
		if err := st.SaveEvidenceText(ctx, domain.EvidenceText{SHA256: sha, Status: "ok", Pages: 1, Text: text, ReadAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	shaA, shaB := "aa", "bb"
	read(shaA, "Số lượng: 7 văn bản")
	read(shaB, "không có số nào")
	subA := domain.Submission{Indicator: "A", Agency: "X", Value: "7", Version: 1, Status: domain.StatusSubmitted, Evidence: []domain.Evidence{{SHA256: shaA}}}
	subB := domain.Submission{Indicator: "B", Agency: "X", Value: "9", Version: 1, Status: domain.StatusSubmitted, Evidence: []domain.Evidence{{SHA256: shaB}}}
	all := []domain.Submission{subA, subB}

	// A page showing only A reads A's evidence only.
	flags, err := c.flagsOf(ctx, c.cfg.Catalog(), []domain.Submission{subA}, all)
	if err != nil {
		t.Fatal(err)
	}
	if got := store.take(); !slices.Equal(got, []string{shaA}) || len(flags) != 0 {
		t.Fatalf("A's view loaded %v, flags %v", got, flags)
	}
	// Both: B's text is read now, A's is not read again.
	flags, err = c.flagsOf(ctx, c.cfg.Catalog(), all, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := store.take(); !slices.Equal(got, []string{shaB}) || !slices.Equal(flags[[2]string{"B", "X"}], []string{"value_not_found"}) {
		t.Fatalf("second view loaded %v, flags %v", got, flags)
	}
	// Nothing changed: nothing is loaded, the same flags come back.
	again, err := c.flagsOf(ctx, c.cfg.Catalog(), all, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := store.take(); len(got) != 0 || !slices.Equal(again[[2]string{"B", "X"}], []string{"value_not_found"}) {
		t.Fatalf("unchanged view loaded %v, flags %v", got, again)
	}
	// B's value changes, and A's evidence is read again: each is reloaded.
	subB.Value, subB.Version = "0", 2
	read(shaA, "Số lượng: 8 văn bản")
	flags, err = c.flagsOf(ctx, c.cfg.Catalog(), []domain.Submission{subA, subB}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := store.take(); !slices.Equal(got, []string{shaA, shaB}) {
		t.Errorf("after changes loaded %v", got)
	}
	if !slices.Equal(flags[[2]string{"A", "X"}], []string{"value_not_found"}) {
		t.Errorf("A after its evidence changed: %v", flags)
	}
}
