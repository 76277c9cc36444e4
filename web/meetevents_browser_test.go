package web_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/internal/testenv"
	"github.com/dieuphoi/dieuphoi/web"
)

// The meeting's and the plan's console pages follow the event switcher, on
// a 390 px phone in headless Chromium: with the council chosen
// (?event=, remembered in the cookie) the queue, the plan, the documents,
// the votes, the notices and the feedback are the council's — its question
// and its task VP-01, not the conference's of the same id — and each page
// fits the screen with the switcher in its header; switching back shows the
// conference's again. Screenshots are kept in web/testdata (-update).
func TestMeetingPagesFollowTheEventOnPhone(t *testing.T) {
	w := newWorld(t)
	ctx0 := context.Background()
	day := func(h, m int) time.Time { return time.Date(2026, 8, 7, h, m, 0, 0, ict) }
	w.ev.Agenda = []domain.AgendaItem{{No: 1, Start: day(8, 0), End: day(11, 0), TitleVI: "Trao đổi, thảo luận"}}
	// Event records keep their time zone by name.
	hcm, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		t.Fatal(err)
	}
	served := *w.ev
	served.Location = hcm
	council := domain.Event{ID: "hd2026", NameVI: "Hội đồng tư vấn xét chọn đề tài khoa học và công nghệ cấp tỉnh năm 2027",
		Location: hcm, DoorsOpen: day(9, 0), Start: day(9, 15), End: day(11, 45), VenueVI: "Phòng họp tầng 3, Sở KH&CN",
		Address: "1 Đường Chính", RSVPCutoff: day(8, 0),
		Agenda: []domain.AgendaItem{{No: 1, Start: day(9, 15), End: day(11, 30), TitleVI: "Trao đổi, thảo luận thuyết minh"}}}
	for _, r := range []domain.EventRecord{
		{Event: served, Code: "HN2026"},
		{Event: council, Code: "HD2026", Invitees: []domain.Invitee{{PersonID: "P001"}, {PersonID: "P002"}}},
	} {
		if _, err := w.store.ImportEvent(ctx0, r, w.clock()); err != nil {
			t.Fatal(err)
		}
	}
	w.setClock(day(9, 50))
	w.apply(t, domain.AskQuestion{Question: domain.Question{EventID: w.ev.ID, PersonID: "P003", Kind: domain.QuestionAsk,
		Body: "Số liệu năm 2025 nộp trước ngày nào?"}})
	w.apply(t, domain.AskQuestion{Question: domain.Question{EventID: council.ID, PersonID: "P001", Kind: domain.QuestionAsk,
		AgendaNo: 1, Body: "Đề tài có được kéo dài thời gian thực hiện không?"}})
	for ev, title := range map[string]string{w.ev.ID: "Chuẩn bị hội trường hội nghị", council.ID: "Gửi hồ sơ cho thành viên hội đồng"} {
		if err := w.store.SyncPlanTasks(ctx0, ev, []domain.Task{{EventID: ev, ID: "VP-01", Kind: domain.TaskKindPlan, Title: title,
			Unit: "Văn phòng Sở", OwnerID: "S001", Deadline: day(17, 0).AddDate(0, 0, 3), Status: domain.TaskTodo}}, w.clock()); err != nil {
			t.Fatal(err)
		}
	}
	// The console as the program builds it with several events, the plan
	// and the meeting.
	console := web.New(web.Config{Store: w.store, Campaign: w.store, Console: w.store, Events: w.store, Plan: w.store,
		Directory: w.dir.Load, Catalog: w.cat.Load, Event: w.ev, Deadline: deadline(), Blobs: w.blobs,
		PublicURL: "https://hoinghi.example.vn", Now: w.clock, Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Meeting: &web.MeetingConfig{Store: w.store, Files: w.blobs, Sender: &w.told}})
	mux := http.NewServeMux()
	console.Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	var link string
	ctx := testenv.Browser(t, 390, 844, 120*time.Second)
	do(t, ctx, "phone viewport", chromedp.EmulateViewport(390, 844))
	link, err = console.IssueSignIn(ctx0, "S001")
	if err != nil {
		t.Fatal(err)
	}
	shots := os.Getenv("DIEUPHOI_ARTIFACTS")
	if *updateShots {
		shots = "testdata"
	} else if shots == "" {
		shots = t.TempDir()
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	fits := func(name string) {
		t.Helper()
		until(t, ctx, name+" loaded", `document.readyState === 'complete'`)
		var sw, iw int
		fmt.Sscan(text(t, ctx, `document.documentElement.scrollWidth + ' ' + window.innerWidth`), &sw, &iw)
		if iw != 390 || sw > iw {
			t.Errorf("%s: page is %d px wide on a %d px screen", name, sw, iw)
		}
		if got := text(t, ctx, `(document.querySelector('#switch-event option:checked') || {textContent: ''}).textContent`); !strings.Contains(got, "Hội đồng tư vấn") {
			t.Errorf("%s: the switcher shows %q, want the council", name, got)
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(shots, "meeting-event-"+name+"-390.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	body := func() string { return text(t, ctx, `document.body.innerText`) }
	do(t, ctx, "sign in", chromedp.Navigate(srv.URL+strings.TrimPrefix(link, "https://hoinghi.example.vn")),
		chromedp.WaitVisible(chromedp.ID("signin")), chromedp.Click(chromedp.ID("signin")))
	until(t, ctx, "the overview", `!!document.getElementById('by-agency')`)

	do(t, ctx, "the council's queue", chromedp.Navigate(srv.URL+"/admin/meeting?event="+council.ID), chromedp.WaitVisible(chromedp.ID("queue")))
	if b := body(); !strings.Contains(b, "kéo dài thời gian thực hiện") || strings.Contains(b, "Số liệu năm 2025") {
		t.Errorf("the council's queue:\n%s", b)
	}
	fits("queue")
	// The cookie keeps the council for the next pages.
	do(t, ctx, "the council's plan", chromedp.Navigate(srv.URL+"/admin/tasks"), chromedp.WaitVisible(chromedp.ID("tasks")))
	if b := body(); !strings.Contains(b, "Gửi hồ sơ cho thành viên hội đồng") || strings.Contains(b, "Chuẩn bị hội trường hội nghị") {
		t.Errorf("the council's plan:\n%s", b)
	}
	fits("tasks")
	do(t, ctx, "the council's task", chromedp.Navigate(srv.URL+"/admin/tasks/VP-01"), chromedp.WaitVisible(chromedp.ID("edit-task")))
	if v := text(t, ctx, `document.querySelector('#edit-task input[name=title]').value`); v != "Gửi hồ sơ cho thành viên hội đồng" {
		t.Errorf("the council's VP-01 is %q", v)
	}
	for _, p := range []struct{ name, path string }{{"docs", "/admin/meeting/docs"}, {"votes", "/admin/meeting/votes"},
		{"conclusions", "/admin/conclusions"}, {"feedback", "/admin/feedback"}} {
		do(t, ctx, p.name, chromedp.Navigate(srv.URL+p.path))
		fits(p.name)
	}
	// A vote opened on the council's page is the council's.
	do(t, ctx, "open a vote", chromedp.Navigate(srv.URL+"/admin/meeting/votes"), chromedp.WaitVisible(chromedp.ID("vote-open")),
		chromedp.SetValue(`#vote-open input[name=question]`, "Đồng ý đưa đề tài vào danh mục?"),
		chromedp.SetValue(`#vote-open textarea[name=options]`, "Đồng ý\nKhông đồng ý"), chromedp.Submit(`#vote-open`))
	until(t, ctx, "opened", `document.body.innerText.includes('Đã mở biểu quyết')`)
	if vs, _ := w.store.Votes(ctx0, council.ID); len(vs) != 1 {
		t.Errorf("council votes = %+v", vs)
	}
	if vs, _ := w.store.Votes(ctx0, w.ev.ID); len(vs) != 0 {
		t.Errorf("conference votes = %+v", vs)
	}

	// Back to the conference.
	do(t, ctx, "the conference's queue", chromedp.Navigate(srv.URL+"/admin/meeting?event="+w.ev.ID), chromedp.WaitVisible(chromedp.ID("queue")))
	if b := body(); strings.Contains(b, "kéo dài thời gian thực hiện") || !strings.Contains(b, "Số liệu năm 2025") || strings.Contains(b, "Đồng ý đưa đề tài") {
		t.Errorf("the conference's queue:\n%s", b)
	}
	do(t, ctx, "the conference's plan", chromedp.Navigate(srv.URL+"/admin/tasks"), chromedp.WaitVisible(chromedp.ID("tasks")))
	if b := body(); strings.Contains(b, "Gửi hồ sơ cho thành viên hội đồng") || !strings.Contains(b, "Chuẩn bị hội trường hội nghị") {
		t.Errorf("the conference's plan:\n%s", b)
	}
}
