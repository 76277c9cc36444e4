package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dieuphoi/dieuphoi/domain"
)

// For a campaign chosen in the switcher, last year's value on its items,
// in its review flags and in its exports is its previous campaign's
// approved value, not the served campaign's.
func TestChosenCampaignsLastYear(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	// The served campaign's catalog says 100 for last year (its own
	// previous campaign's value).
	inds, as, err := w.store.LoadCatalog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	served := append([]domain.Indicator(nil), inds...)
	for i := range served {
		if served[i].Code == "1.1.1" {
			served[i].LastYear = "100 (PII 2025)"
		}
	}
	// As cmd/dieuphoi wires it (chatCampaigns.Data): the catalog file's
	// indicators with the previous campaign's approved values.
	w.campaignCatalog = func(ctx context.Context, id string) (*domain.Catalog, error) {
		rec, err := w.store.Campaign(ctx, id)
		if err != nil {
			return nil, err
		}
		prev, err := w.store.Campaign(ctx, rec.PreviousID)
		if err != nil {
			return nil, err
		}
		approved, err := w.store.ApprovedValues(ctx, prev.ID)
		if err != nil {
			return nil, err
		}
		return domain.NewCatalog(domain.WithLastYear(inds, rec, prev.NameVI, approved), rec.Assignments), nil
	}
	c := w.signIn(t, "S001")
	resp := c.post("/admin/campaigns", url.Values{"id": {"pii-2027"}, "name_vi": {"PII 2027"}, "previous": {"pii-2026"},
		"deadline": {"2027-08-20T17:00"}, "agency": {"UBND-YM"}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	// 2026 (served) approves 7; 2027 is sent 8.
	w.submit(t, "1.1.1", "UBND-YM", "P003", "7")
	resp = c.post("/admin/indicators/1.1.1/UBND-YM/review?campaign=pii-2026", url.Values{"version": {"1"}, "decision": {"approve"}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve in 2026: %d", resp.StatusCode)
	}
	w.cat.Store(domain.NewCatalog(served, as)) // after the review's reload
	w.applyIn(t, "pii-2027", domain.SaveSubmission{Action: "submit", Submission: domain.Submission{Indicator: "1.1.1", Agency: "UBND-YM",
		Value: "8", By: "P003"}})

	_, body := c.get("/admin/indicators/1.1.1/UBND-YM?campaign=pii-2027")
	mustContain(t, body, "<dt>Năm trước</dt><dd>7 (PII 2026)</dd>")
	mustNotContain(t, body, "100 (PII 2025)", "thay đổi lớn so với năm trước")
	_, body = c.get("/admin/indicators?campaign=pii-2027&flag=big_change")
	mustNotContain(t, body, "UBND huyện Yên Mỹ</td>")
	code, csv := c.get("/admin/export/csv?campaign=pii-2027")
	if code != http.StatusOK || !strings.Contains(csv, "1.1.1") {
		t.Fatalf("2027's export: %d\n%s", code, csv)
	}
	if strings.Contains(csv, "thay đổi lớn") {
		t.Errorf("2027's export compares with the served campaign's last year:\n%s", csv)
	}
	// The served campaign keeps its own: 7 against 100 is a big change.
	_, body = c.get("/admin/indicators/1.1.1/UBND-YM?campaign=pii-2026")
	mustContain(t, body, "<dt>Năm trước</dt><dd>100 (PII 2025)</dd>")
}
