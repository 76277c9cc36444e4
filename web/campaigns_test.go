package web_test

import (
	"archive/zip"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
)

// applyIn stores effects in campaign id, as the chat of a focal point
// working in that campaign does.
func (w *world) applyIn(t *testing.T, id string, effects ...domain.Effect) {
	t.Helper()
	q := w.store.Queries
	q.CampaignID = id
	if _, err := q.Apply(context.Background(), domain.UpdateKey{Channel: domain.Telegram, UpdateID: id + time.Now().String()}, w.clock(), effects); err != nil {
		t.Fatal(err)
	}
}

func zipFiles(t *testing.T, data string) map[string]string {
	t.Helper()
	zr, err := zip.NewReader(strings.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("not a ZIP: %v", err)
	}
	out := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		out[f.Name] = string(b)
	}
	return out
}

// Staff create a campaign from the current catalog (a form with problems
// is refused with every problem listed and nothing stored), switch the
// review queue, progress and exports to it, review in it without touching
// the served campaign, clone it for the next year with a renamed code,
// close it and download its archive with the evidence.
func TestCampaignsInConsole(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	c := w.signIn(t, "S001")

	code, body := c.get("/admin/campaigns")
	if code != http.StatusOK {
		t.Fatalf("campaigns page: %d", code)
	}
	mustContain(t, body, `data-campaign="pii-2026"`, "đang phục vụ trên chat", `id="new-campaign"`, "UBND huyện Yên Mỹ (1 chỉ số)")

	bad := url.Values{"id": {"X"}, "name_vi": {""}, "deadline": {"20/08/2027"}, "agency": {"UBND-YM"},
		"deadline_UBND-YM": {"2027-09-01T17:00"}, "previous": {"nope"}}
	resp := c.post("/admin/campaigns", bad)
	body = read(t, resp)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad form: %d", resp.StatusCode)
	}
	mustContain(t, body, `id="campaign-errors"`, "Mã chiến dịch: 2 đến 64", "Tên chiến dịch: chưa nhập.", "Hạn nộp chung: chưa chọn",
		"Chiến dịch trước: không có chiến dịch này.")
	if list, _ := w.store.Campaigns(ctx); len(list) != 1 {
		t.Fatalf("a refused form stored a campaign: %+v", list)
	}
	resp = c.post("/admin/campaigns", url.Values{"id": {"pii-2027"}, "name_vi": {"PII 2027"}, "deadline": {"2027-08-20T17:00"},
		"agency": {"UBND-YM"}, "csrf": {"forged"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("without the CSRF token: %d", resp.StatusCode)
	}
	resp.Body.Close()

	good := url.Values{"id": {"pii-2027"}, "name_vi": {"PII 2027"}, "catalog_version": {"2027"}, "previous": {"pii-2026"},
		"opens": {"2027-06-01"}, "deadline": {"2027-08-20T17:00"}, "agency": {"UBND-YM"}, "deadline_UBND-YM": {"2027-08-10T17:00"}}
	resp = c.post("/admin/campaigns", good)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/campaigns/pii-2027?msg=campaign_created" {
		t.Fatalf("create: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	rec, err := w.store.Campaign(ctx, "pii-2027")
	if err != nil {
		t.Fatal(err)
	}
	if rec.PreviousID != "pii-2026" || rec.CatalogVersion != "2027" || len(rec.Assignments) != 1 || rec.Assignments[0].Indicator != "1.1.1" ||
		!rec.Assignments[0].Deadline.Equal(time.Date(2027, 8, 10, 17, 0, 0, 0, ict)) || !rec.Opens.Equal(time.Date(2027, 6, 1, 0, 0, 0, 0, ict)) {
		t.Fatalf("created: %+v", rec)
	}
	resp = c.post("/admin/campaigns", good)
	body = read(t, resp)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Mã pii-2027 đã được dùng") {
		t.Errorf("the same id again: %d", resp.StatusCode)
	}

	// One item waits in each campaign, with different values.
	sha := w.putEvidence(t, "quyết định số 12")
	w.submit(t, "1.1.1", "UBND-YM", "P003", "3")
	w.applyIn(t, "pii-2027", domain.SaveSubmission{Action: "submit", Submission: domain.Submission{Indicator: "1.1.1", Agency: "UBND-YM",
		Value: "7", By: "P003", Note: "=HYPERLINK(\"http://x\")", Evidence: []domain.Evidence{{SHA256: sha, Name: "qd-12.pdf", MIME: "application/pdf", Size: int64(len("quyết định số 12"))}}}})

	_, body = c.get("/admin/indicators")
	mustContain(t, body, `id="campaign-switcher"`, `<option value="pii-2026" selected>`)
	_, body = c.get("/admin/indicators?campaign=pii-2027")
	mustContain(t, body, `<option value="pii-2027" selected>`, "7 ")
	mustNotContain(t, body, "Sở Nội vụ") // SNV has nothing in 2027
	// Remembered: the indicator page, the review and the overview follow.
	_, body = c.get("/admin/indicators/1.1.1/UBND-YM")
	mustContain(t, body, "qd-12.pdf", "(PII 2027)")
	resp = c.post("/admin/indicators/1.1.1/UBND-YM/review", url.Values{"version": {"1"}, "decision": {"approve"}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "msg=approved") {
		t.Fatalf("review in 2027: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if sub, err := w.store.ForCampaign("pii-2027").Submission(ctx, "1.1.1", "UBND-YM"); err != nil || sub.Status != domain.StatusApproved || sub.ReviewedBy != "S001" {
		t.Errorf("2027's item: %+v %v", sub, err)
	}
	if sub, err := w.store.Submission(ctx, "1.1.1", "UBND-YM"); err != nil || sub.Status != domain.StatusSubmitted || sub.Value != "3" {
		t.Errorf("the served campaign's item changed: %+v %v", sub, err)
	}
	_, body = c.get("/admin/")
	mustContain(t, body, `id="progress-campaign">PII 2027<`, `id="calendar"`, "PII 2026", "1 chỉ số chờ duyệt")
	resp = c.do("GET", "/admin/export/csv", nil, "")
	data := read(t, resp)
	if cd := resp.Header.Get("Content-Disposition"); !strings.Contains(cd, "pii-2027") {
		t.Errorf("export file name %q does not name the chosen campaign", cd)
	}
	if !strings.Contains(data, "1.1.1") || !strings.Contains(data, "7") || strings.Contains(data, "2.1.1") {
		t.Errorf("2027's export:\n%s", data)
	}
	_, body = c.get("/admin/indicators?campaign=pii-2026")
	mustContain(t, body, `<option value="pii-2026" selected>`, "Sở Nội vụ")

	// Clone for 2028: a bad mapping line is refused with its line named.
	resp = c.post("/admin/campaigns/pii-2027/clone", url.Values{"id": {"pii-2028"}, "name_vi": {"PII 2028"}, "years": {"1"},
		"code_map": {"1.1.1 = 1.1.0\nxyz"}})
	body = read(t, resp)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad clone: %d", resp.StatusCode)
	}
	mustContain(t, body, `id="clone-errors"`, "Đổi mã chỉ số, dòng 2")
	resp = c.post("/admin/campaigns/pii-2027/clone", url.Values{"id": {"pii-2028"}, "name_vi": {"PII 2028"}, "years": {"1"},
		"code_map": {"1.1.1 = 1.1.0"}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("clone: %d", resp.StatusCode)
	}
	next, err := w.store.Campaign(ctx, "pii-2028")
	if err != nil || next.PreviousID != "pii-2027" || next.CodeMap["1.1.1"] != "1.1.0" || next.Status != domain.StatusOpen ||
		!next.Deadline.Equal(time.Date(2028, 8, 20, 17, 0, 0, 0, ict)) || !next.AgencyDeadlines["UBND-YM"].Equal(time.Date(2028, 8, 10, 17, 0, 0, 0, ict)) ||
		len(next.Assignments) != 1 || !next.Assignments[0].Deadline.Equal(time.Date(2028, 8, 10, 17, 0, 0, 0, ict)) {
		t.Fatalf("cloned: %+v %v", next, err)
	}

	// The served campaign runs with the files' assignments: its clone
	// takes them, a year later.
	resp = c.post("/admin/campaigns/pii-2026/clone", url.Values{"id": {"pii-2026-bis"}, "name_vi": {"PII 2026 bổ sung"}, "years": {"1"}})
	resp.Body.Close()
	if bis, err := w.store.Campaign(ctx, "pii-2026-bis"); err != nil || len(bis.Assignments) != 2 || !bis.Assignments[0].Deadline.Equal(deadline().AddDate(1, 0, 0)) ||
		bis.PreviousID != "pii-2026" {
		t.Errorf("clone of the served campaign: %+v %v", bis, err)
	}

	resp = c.post("/admin/campaigns/pii-2027/status", url.Values{"status": {"closed"}})
	resp.Body.Close()
	if got, _ := w.store.Campaign(ctx, "pii-2027"); got.Status != domain.StatusClosed {
		t.Fatalf("closed: %+v", got.Status)
	}
	if vals, _ := w.store.ApprovedValues(ctx, "pii-2027"); vals[[2]string{"1.1.1", "UBND-YM"}] != "7" {
		t.Errorf("approved values kept on closing: %v", vals)
	}

	resp = c.do("GET", "/admin/campaigns/pii-2027/archive.zip?files=1", nil, "")
	files := zipFiles(t, read(t, resp))
	for _, name := range []string{"chien-dich.json", "so-lieu.csv", "minh-chung.csv", "lich-su.csv", "nhat-ky.csv"} {
		if _, ok := files[name]; !ok {
			t.Errorf("archive lacks %s (has %v)", name, len(files))
		}
	}
	mustContain(t, files["so-lieu.csv"], "1.1.1", "Văn bản chính sách KH,CN&ĐMST", "7", "Lê Minh Cường", "Đỗ Thu Hà")
	mustContain(t, files["minh-chung.csv"], "qd-12.pdf", sha, "Lê Minh Cường", "minh-chung/"+sha[:12]+"-qd-12.pdf")
	mustContain(t, files["lich-su.csv"], "submit", "approve")
	mustContain(t, files["so-lieu.csv"], `'=HYPERLINK`) // a note typed in chat cannot run as a formula
	mustNotContain(t, files["so-lieu.csv"], ",3,")      // the served campaign's value
	mustContain(t, files["nhat-ky.csv"], "campaign.create", "campaign.closed", "review.approve")
	if got := files["minh-chung/"+sha[:12]+"-qd-12.pdf"]; got != "quyết định số 12" {
		t.Errorf("evidence file in the archive: %q", got)
	}
	resp = c.do("GET", "/admin/campaigns/pii-2027/archive.zip", nil, "")
	if files := zipFiles(t, read(t, resp)); len(files) != 5 {
		t.Errorf("archive without files has %d entries", len(files))
	}

	// Archiving keeps everything; an archived campaign takes no review.
	resp = c.post("/admin/campaigns/pii-2027/status", url.Values{"status": {"archived"}})
	resp.Body.Close()
	if sub, err := w.store.ForCampaign("pii-2027").Submission(ctx, "1.1.1", "UBND-YM"); err != nil || sub.Value != "7" {
		t.Errorf("after archiving: %+v %v", sub, err)
	}
	_, body = c.get("/admin/campaigns")
	mustContain(t, body, `data-campaign="pii-2027"`, "Đã lưu trữ", `data-campaign="pii-2028"`)
}
