package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/internal/testenv"
	"github.com/dieuphoi/dieuphoi/storage/sqlstore"
)

// browser starts headless Chromium (as bot/webchat's tests do).
func browser(t *testing.T, width, height int64) context.Context {
	t.Helper()
	ctx := testenv.Browser(t, int(width), int(height), 30*time.Second)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, height)); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

func do(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + '\n' + document.body.innerText`))
		t.Fatalf("%s: %v\n%s", what, err, body)
	}
}

// until waits for a JavaScript condition, across page loads.
func until(t *testing.T, ctx context.Context, what, js string) {
	t.Helper()
	deadline := time.Now().Add(8 * time.Second)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + '\n' + document.body.innerText`))
			t.Fatalf("waiting for %s: %v\n%s", what, err, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func text(t *testing.T, ctx context.Context, js string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return s
}

func jsq(s string) string { b, _ := json.Marshal(s); return string(b) }

func TestBrowser(t *testing.T) {
	w := newWorld(t)
	day := time.Date(2026, 7, 14, 9, 0, 0, 0, ict)
	w.rsvp(t, "P001", domain.RSVPAttend, day, nil)
	w.rsvp(t, "P002", domain.RSVPSubstitute, day.AddDate(0, 0, 2), &domain.Substitute{Name: "Hoàng Văn Em", Position: "Phó Chánh Văn phòng", Phone: "0900000001"})
	w.rsvp(t, "P004", domain.RSVPDecline, day.AddDate(0, 0, 3), nil)
	w.submit(t, "1.1.1", "UBND-YM", "P003", "7")
	ctx := browser(t, 1280, 900)

	// Sign in by link.
	link, err := w.console.IssueSignIn(context.Background(), "S001")
	if err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "open the link", chromedp.Navigate(w.srv.URL+strings.TrimPrefix(link, "https://hoinghi.example.vn")),
		chromedp.WaitVisible(chromedp.ID("signin")), chromedp.Click(chromedp.ID("signin")))
	until(t, ctx, "the overview", `!!document.getElementById('by-agency')`)
	got := text(t, ctx, `['invited','attend','substitute','decline','pending','checkedin'].map(k => document.getElementById('c-'+k).textContent).join(',')`)
	if got != "4,1,1,1,1,0" {
		t.Errorf("overview counts %s, want 4,1,1,1,1,0", got)
	}
	if n := text(t, ctx, `String(document.querySelectorAll('#matrix tbody tr').length) + ' ' + document.querySelector('#matrix .cell.submitted').textContent`); n != "2 0/1" {
		t.Errorf("matrix: %s", n)
	}
	if bad := text(t, ctx, `[...document.querySelectorAll('.seg')].filter(e => e.getBoundingClientRect().width > 0).length + ''`); bad == "0" {
		t.Error("no bar has a width: is the CSS loaded?")
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	dir := os.Getenv("DIEUPHOI_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	shot := filepath.Join(dir, "console-overview.png")
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("overview screenshot: %s", shot)

	// Approve the submitted indicator.
	do(t, ctx, "open the indicator", chromedp.Navigate(w.srv.URL+"/admin/indicators/1.1.1/UBND-YM"), chromedp.WaitVisible(chromedp.ID("approve")),
		chromedp.Click(chromedp.CSS(`#approve button`)))
	until(t, ctx, "approved", `!!document.querySelector('.flash') && document.getElementById('status').textContent === 'Đã duyệt'`)
	if s, _ := w.store.Submission(context.Background(), "1.1.1", "UBND-YM"); s.Status != domain.StatusApproved || s.ReviewedBy != "S001" {
		t.Errorf("not approved: %+v", s)
	}

	// Import an XLSX with one bad row: the error shows, nothing changes.
	file := filepath.Join(t.TempDir(), "dai-bieu-moi.xlsx")
	if err := os.WriteFile(file, xlsxFile(t, badPeople), 0o644); err != nil {
		t.Fatal(err)
	}
	before := len(w.dir.Load().People())
	do(t, ctx, "upload", chromedp.Navigate(w.srv.URL+"/admin/import"), chromedp.WaitVisible(chromedp.ID("upload")),
		chromedp.SetUploadFiles(chromedp.CSS(`input[name=file]`), []string{file}), chromedp.Click(chromedp.CSS(`#upload button[type=submit]`)))
	until(t, ctx, "import errors", `!!document.getElementById('import-errors')`)
	if row := text(t, ctx, `document.querySelector('#problems tbody tr').innerText`); !strings.Contains(row, "3") || !strings.Contains(row, "Số điện thoại") {
		t.Errorf("problem row: %q", row)
	}
	if n := text(t, ctx, `String(document.querySelectorAll('#confirm').length)`); n != "0" {
		t.Error("a bad file can be confirmed")
	}
	if d, _ := w.store.Directory(context.Background()); len(d.People()) != before || len(w.dir.Load().People()) != before {
		t.Error("the bad file changed the people list")
	}

	// Check a delegate in at the desk; the live count follows.
	p := w.person("P001")
	do(t, ctx, "desk", chromedp.Navigate(w.srv.URL+"/admin/checkin"), chromedp.WaitVisible(chromedp.ID("code")),
		chromedp.SendKeys(chromedp.ID("code"), p.InviteCode), chromedp.Click(chromedp.CSS(`#desk button[type=submit]`)))
	until(t, ctx, "checked in", fmt.Sprintf(`!!document.getElementById('result') && document.getElementById('result').innerText.includes(%s)`, jsq(p.FullName)))
	if n := text(t, ctx, `document.getElementById('h-checkedin').textContent`); n != "1" {
		t.Errorf("desk count %s", n)
	}
	// Someone else checks in elsewhere; the page's poll picks it up.
	if _, _, err := w.store.CheckIn(context.Background(), checkInOf("P002")); err != nil {
		t.Fatal(err)
	}
	until(t, ctx, "live headcount", `document.getElementById('h-checkedin').textContent === '2'`)
}

func checkInOf(id string) sqlstore.CheckIn {
	return sqlstore.CheckIn{PersonID: id, At: time.Now(), Method: "self"}
}

// The reminders page on a phone: what is coming, what was skipped and why,
// with no horizontal overflow at 390 px.
func TestSchedulePageOnPhone(t *testing.T) {
	w := newWorld(t)
	if _, err := w.sched.RunDue(context.Background(), w.clock()); err != nil {
		t.Fatal(err)
	}
	ctx := browser(t, 390, 844)
	link, err := w.console.IssueSignIn(context.Background(), "S001")
	if err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "sign in", chromedp.Navigate(w.srv.URL+strings.TrimPrefix(link, "https://hoinghi.example.vn")),
		chromedp.WaitVisible(chromedp.ID("signin")), chromedp.Click(chromedp.ID("signin")))
	until(t, ctx, "the overview", `!!document.getElementById('by-agency')`)
	do(t, ctx, "reminders", chromedp.Navigate(w.srv.URL+"/admin/schedule"), chromedp.WaitVisible(chromedp.ID("upcoming")))
	up := text(t, ctx, `document.getElementById('upcoming').innerText`)
	for _, want := range []string{"08:00 21/07/2026", "Tổng hợp xác nhận cho cán bộ", "Chưa trả lời"} {
		if !strings.Contains(up, want) && !strings.Contains(text(t, ctx, `document.getElementById('upcoming').textContent`), want) {
			t.Errorf("upcoming lacks %q:\n%s", want, up)
		}
	}
	done := text(t, ctx, `document.getElementById('done').innerText`)
	for _, want := range []string{"08:00 20/07/2026", "bỏ qua", "chưa kết nối với bot"} {
		if !strings.Contains(done, want) {
			t.Errorf("history lacks %q:\n%s", want, done)
		}
	}
	if over := text(t, ctx, `String(document.documentElement.scrollWidth - window.innerWidth)`); over != "0" {
		t.Errorf("the page is %s px wider than a 390 px phone", over)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(90))
	if err != nil {
		t.Fatal(err)
	}
	dir := os.Getenv("DIEUPHOI_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	shot := filepath.Join(dir, "console-schedule-390.png")
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("reminders screenshot: %s", shot)
}
