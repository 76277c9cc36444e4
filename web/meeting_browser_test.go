package web_test

import (
	"context"
	"flag"
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

var updateShots = flag.Bool("update", false, "rewrite the screenshots kept in testdata")

// shot saves a screenshot: in testdata (kept with the code) when run with
// -update, else in $DIEUPHOI_ARTIFACTS or the test's temporary directory.
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	dir := os.Getenv("DIEUPHOI_ARTIFACTS")
	if *updateShots {
		dir = "testdata"
	} else if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// The chair's secretary's page in headless Chromium: the live queue in
// large type, newest first, agency and name (none for an anonymous
// question), refreshing by itself when a question arrives; giving the
// floor, answering, merging a duplicate and moving an item; a vote's
// results; a document uploaded. Screenshots: testdata/meeting-*.png
// (refreshed with -update).
func TestMeetingConsoleInBrowser(t *testing.T) {
	w := newWorld(t)
	ctx0 := context.Background()
	day := func(h, m int) time.Time { return time.Date(2026, 8, 7, h, m, 0, 0, ict) }
	w.ev.Agenda = []domain.AgendaItem{
		{No: 1, Start: day(8, 0), End: day(8, 30), TitleVI: "Khai mạc"},
		{No: 2, Start: day(8, 30), End: day(9, 45), TitleVI: "Trình bày Kế hoạch số 106/KH-UBND"},
		{No: 3, Start: day(9, 45), End: day(10, 45), TitleVI: "Trao đổi, thảo luận"},
	}
	w.setClock(day(9, 50))
	if err := w.store.SetAllowAnonymous(ctx0, w.ev.ID, true); err != nil {
		t.Fatal(err)
	}
	ask := func(person, kind, body string, item int, anon bool) {
		w.apply(t, domain.AskQuestion{Question: domain.Question{EventID: w.ev.ID, PersonID: person, Kind: kind, AgendaNo: item, Body: body, Anonymous: anon}})
		w.setClock(w.clock().Add(time.Minute))
	}
	ask("P001", domain.QuestionAsk, "Kinh phí triển khai Kế hoạch 106 được bố trí từ nguồn nào?", 2, false)
	ask("P002", domain.QuestionSpeak, "Kinh nghiệm thu thập số liệu ở cấp huyện", 3, false)
	ask("P004", domain.QuestionAsk, "Có xem xét giảm số chỉ số phải báo cáo không?", 3, true)
	id := func(person string) int64 {
		qs, err := w.store.MeetingQuestions(ctx0, w.ev.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range qs {
			if q.PersonID == person {
				return q.ID
			}
		}
		t.Fatalf("no question of %s", person)
		return 0
	}

	// Many steps on two shared cores: more time than the other browser tests.
	ctx := testenv.Browser(t, 1280, 800, 120*time.Second)
	do(t, ctx, "viewport", chromedp.EmulateViewport(1280, 800))
	link, err := w.console.IssueSignIn(ctx0, "S001")
	if err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "sign in", chromedp.Navigate(w.srv.URL+strings.TrimPrefix(link, "https://hoinghi.example.vn")),
		chromedp.WaitVisible(chromedp.ID("signin")), chromedp.Click(chromedp.ID("signin")))
	until(t, ctx, "the overview", `!!document.getElementById('by-agency')`)
	do(t, ctx, "the queue", chromedp.Navigate(w.srv.URL+"/admin/meeting"), chromedp.WaitVisible(chromedp.ID("queue")))

	order := text(t, ctx, `[...document.querySelectorAll('#queue .q')].map(e => e.querySelector('.q-who').textContent + '|' + (e.querySelector('.q-agency') || {textContent: ''}).textContent).join('\n')`)
	if want := "Ẩn danh|\nTrần Thị Bình|— UBND huyện Yên Mỹ\nNguyễn Văn An|— Sở Khoa học và Công nghệ"; order != want {
		t.Fatalf("queue (newest first, name and agency, anonymous without a name):\n%s\nwant:\n%s", order, want)
	}
	if strings.Contains(text(t, ctx, `document.body.innerText`), "Phạm Đức Dũng") {
		t.Error("the anonymous question shows its sender's name")
	}
	if px := text(t, ctx, `getComputedStyle(document.querySelector('.q-body')).fontSize`); px < "24px" || len(px) < 4 {
		t.Errorf("question text is %s; want large type for a projector", px)
	}
	shot(t, ctx, "meeting-queue.png")

	// A question arrives: the page shows it by itself.
	ask("P003", domain.QuestionAsk, "Kinh phí cho Kế hoạch 106 lấy từ đâu?", 2, false)
	until(t, ctx, "the new question without reloading", `document.querySelectorAll('#queue .q').length === 4 && document.querySelector('#queue .q .q-who').textContent === 'Lê Minh Cường'`)

	// Give the floor; answer; merge the duplicate; move an item down.
	do(t, ctx, "give the floor", chromedp.Click(chromedp.CSS(fmt.Sprintf(`#q-%d form[action*="/call"] button`, id("P002")))))
	until(t, ctx, "called", fmt.Sprintf(`!!document.querySelector('.flash') && document.querySelector('#q-%d .badge') !== null`, id("P002")))
	do(t, ctx, "answer", chromedp.SendKeys(chromedp.CSS(fmt.Sprintf(`#q-%d input[name=answer]`, id("P001"))), "Từ ngân sách tỉnh năm 2026."),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`#q-%d form[action*="/answer"] button`, id("P001")))))
	until(t, ctx, "answered", fmt.Sprintf(`!!document.querySelector('.flash') && !document.getElementById('q-%d')`, id("P001")))
	do(t, ctx, "merge", chromedp.SendKeys(chromedp.CSS(fmt.Sprintf(`#q-%d input[name=into]`, id("P003"))), fmt.Sprint(id("P001"))),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`#q-%d form[action*="/merge"] button`, id("P003")))))
	until(t, ctx, "merged", fmt.Sprintf(`!document.getElementById('q-%d')`, id("P003")))
	do(t, ctx, "move down", chromedp.Click(chromedp.CSS(fmt.Sprintf(`#q-%d form[action*="/down"] button`, id("P004")))))
	until(t, ctx, "moved", fmt.Sprintf(`document.querySelector('#queue .q').id === 'q-%d'`, id("P002")))
	notes := w.told.notices()
	if len(notes) != 2 || notes[0].PersonID != "P002" || notes[0].Status != domain.QuestionCalled ||
		notes[1].PersonID != "P001" || notes[1].Answer != "Từ ngân sách tỉnh năm 2026." {
		t.Fatalf("delegates told = %+v", notes)
	}
	if m, _ := w.store.MeetingQuestions(ctx0, w.ev.ID); len(m) != 4 {
		t.Fatalf("questions = %+v", m)
	}

	// A 1–5 rating to those who checked in; answers show on the page.
	for _, p := range []string{"P001", "P002"} {
		if _, _, err := w.store.CheckIn(ctx0, sqlstore.CheckIn{PersonID: p, At: w.clock(), By: "S001", Method: "desk"}); err != nil {
			t.Fatal(err)
		}
	}
	do(t, ctx, "open a rating", chromedp.Navigate(w.srv.URL+"/admin/meeting/votes"), chromedp.WaitVisible(chromedp.ID("vote-open")),
		chromedp.SendKeys(chromedp.CSS(`#vote-open input[name=question]`), "Mức độ hữu ích của Hội nghị"),
		chromedp.Click(chromedp.CSS(`#vote-open input[value=rating]`)), chromedp.Click(chromedp.CSS(`#vote-open button[type=submit]`)))
	until(t, ctx, "opened", `!!document.querySelector('.flash') && !!document.querySelector('.vote-live')`)
	votes, _ := w.store.Votes(ctx0, w.ev.ID)
	if len(votes) != 1 || len(w.told.votes) != 1 || w.told.votes[0] != "P001,P002" {
		t.Fatalf("vote %+v sent to %v; want P001,P002", votes, w.told.votes)
	}
	w.apply(t, domain.CastVote{EventID: w.ev.ID, VoteID: votes[0].ID, PersonID: "P001", Choice: 5},
		domain.CastVote{EventID: w.ev.ID, VoteID: votes[0].ID, PersonID: "P002", Choice: 4})
	do(t, ctx, "back to the queue", chromedp.Navigate(w.srv.URL+"/admin/meeting"), chromedp.WaitVisible(chromedp.ID("queue")))
	if got := text(t, ctx, `document.querySelector('.vote-live h2').textContent`); !strings.Contains(got, "2 phiếu, trung bình 4,5") {
		t.Fatalf("vote on the live page: %q", got)
	}
	shot(t, ctx, "meeting-live-vote.png")

	// A document uploaded from the browser.
	pdf := filepath.Join(t.TempDir(), "ke-hoach-106.pdf")
	if err := os.WriteFile(pdf, []byte("%PDF-1.4\n%%EOF\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "upload a document", chromedp.Navigate(w.srv.URL+"/admin/meeting/docs"), chromedp.WaitVisible(chromedp.ID("doc-upload")),
		chromedp.SendKeys(chromedp.CSS(`#doc-upload input[name=title]`), "Kế hoạch số 106/KH-UBND"),
		chromedp.SetUploadFiles(chromedp.CSS(`#doc-upload input[name=file]`), []string{pdf}),
		chromedp.Click(chromedp.CSS(`#doc-upload button[type=submit]`)))
	until(t, ctx, "listed", `!!document.querySelector('#docs tbody tr') && document.querySelector('#docs').innerText.includes('Kế hoạch số 106/KH-UBND')`)
	shot(t, ctx, "meeting-docs.png")

	// On a phone (a tablet or the secretary's own): nothing wider than the screen.
	ctx2 := testenv.Browser(t, 390, 844, 90*time.Second)
	do(t, ctx2, "phone", chromedp.EmulateViewport(390, 844), chromedp.Navigate(w.srv.URL+strings.TrimPrefix(mustLink(t, w), "https://hoinghi.example.vn")),
		chromedp.WaitVisible(chromedp.ID("signin")), chromedp.Click(chromedp.ID("signin")))
	until(t, ctx2, "the overview", `!!document.getElementById('by-agency')`)
	for _, page := range []string{"/admin/meeting", "/admin/meeting/docs", "/admin/meeting/votes"} {
		do(t, ctx2, page, chromedp.Navigate(w.srv.URL+page))
		until(t, ctx2, page+" loaded", `document.readyState === 'complete'`)
		if got := text(t, ctx2, `document.documentElement.scrollWidth + ' ' + window.innerWidth`); got != "390 390" {
			t.Errorf("%s on a phone: width %s", page, got)
		}
	}
	do(t, ctx2, "queue", chromedp.Navigate(w.srv.URL+"/admin/meeting"))
	until(t, ctx2, "queue loaded", `!!document.getElementById('queue')`)
	shot(t, ctx2, "meeting-queue-phone.png")
}

func mustLink(t *testing.T, w *world) string {
	t.Helper()
	link, err := w.console.IssueSignIn(context.Background(), "S001")
	if err != nil {
		t.Fatal(err)
	}
	return link
}
