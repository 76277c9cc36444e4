package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dieuphoi/dieuphoi/bot"
	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
	"github.com/dieuphoi/dieuphoi/internal/testenv"
	"github.com/dieuphoi/dieuphoi/scheduler"
	"github.com/dieuphoi/dieuphoi/storage/files"
	"github.com/dieuphoi/dieuphoi/storage/postgres"
	"github.com/dieuphoi/dieuphoi/web"
)

// sentTo records what the scheduler's sender delivered, by chat.
type sentTo struct {
	mu   sync.Mutex
	msgs map[string][]flows.Reply
}

func (s *sentTo) Send(_ context.Context, chat string, replies []flows.Reply) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs[chat] = append(s.msgs[chat], replies...)
	return nil
}

func (s *sentTo) count(chat, want string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.msgs[chat] {
		if strings.Contains(r.Text, want) {
			n++
		}
	}
	return n
}

// The organisers' plan and the conclusion notice in the console, on
// PostgreSQL, in headless Chromium at a phone's 390 px: the overview names
// the late tasks; a task with a deadline in the past is refused and nothing
// is added; a task is added and updated with its history; the notice is
// written from the template, a follow-up with a past date refused, then
// sent once to the attendee and the agency's focal point (a second press
// sends nothing); its text version opens from the link; feedback results
// and their CSV. Screenshots are kept in web/testdata.
func TestMeetingPagesOnPhone(t *testing.T) {
	ctx := context.Background()
	pg, err := postgres.Open(ctx, testenv.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Close() })
	if err := pg.SyncDirectory(ctx, agencies, people); err != nil {
		t.Fatal(err)
	}
	d, err := pg.Directory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var dir atomic.Pointer[domain.Directory]
	dir.Store(d)
	var mu sync.Mutex
	now := time.Date(2026, 8, 7, 14, 0, 0, 0, ict)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	ev := &domain.Event{
		ID: "hn2026", NameVI: "Hội nghị công bố Chỉ số đổi mới sáng tạo tỉnh 2026", Location: ict,
		DoorsOpen: time.Date(2026, 8, 7, 7, 30, 0, 0, ict), Start: time.Date(2026, 8, 7, 8, 0, 0, 0, ict),
		End: time.Date(2026, 8, 7, 11, 30, 0, 0, ict), VenueVI: "Hội trường A, Trung tâm Hội nghị tỉnh", Address: "1 Đường Chính",
		RSVPCutoff: time.Date(2026, 8, 3, 17, 0, 0, 0, ict), Organizer: domain.Contact{Name: "Văn phòng Sở KH&CN"},
		Agenda: []domain.AgendaItem{
			{No: 1, Start: time.Date(2026, 8, 7, 8, 0, 0, 0, ict), End: time.Date(2026, 8, 7, 8, 30, 0, 0, ict), TitleVI: "Khai mạc", SpeakerVI: "Sở KH&CN"},
			{No: 2, Start: time.Date(2026, 8, 7, 11, 0, 0, 0, ict), End: time.Date(2026, 8, 7, 11, 30, 0, 0, ict), TitleVI: "Phát biểu kết thúc Hội nghị", SpeakerVI: "Đồng chí Giám đốc Sở KH&CN"},
		},
	}
	seq := 0
	apply := func(effects ...domain.Effect) {
		t.Helper()
		seq++
		if _, err := pg.Apply(ctx, domain.UpdateKey{Channel: domain.Web, UpdateID: fmt.Sprint("seed-", seq)}, clock(), effects); err != nil {
			t.Fatal(err)
		}
	}
	for i, id := range []string{"S001", "P001", "P003"} {
		chat := fmt.Sprint(9100 + i)
		apply(domain.LinkIdentity{Identity: domain.Identity{Channel: domain.Telegram, UserID: chat, ChatID: chat, PersonID: id, Proof: domain.ProofPhone}})
	}
	apply(domain.SaveRSVP{RSVP: domain.RSVP{PersonID: "P001", Status: domain.RSVPAttend, Channel: domain.Telegram}})
	if err := pg.SyncPlanTasks(ctx, ev.ID, []domain.Task{
		{ID: "VP-03", Title: "Chuẩn bị hội trường, khánh tiết", Unit: "Văn phòng Sở", OwnerID: "S001", Deadline: time.Date(2026, 8, 6, 16, 0, 0, 0, ict)},
		{ID: "TT-02", Title: "Đưa tin kết quả Hội nghị", Unit: "Trung tâm Thông tin", OwnerID: "S001", Deadline: time.Date(2026, 8, 10, 17, 0, 0, 0, ict)},
	}, clock()); err != nil {
		t.Fatal(err)
	}
	blobs, err := files.New(filepath.Join(t.TempDir(), "evidence"))
	if err != nil {
		t.Fatal(err)
	}
	rec := &sentTo{msgs: map[string][]flows.Reply{}}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	sched, err := scheduler.New(scheduler.Config{Store: pg, Outbox: pg, Senders: map[domain.Channel]bot.Sender{domain.Telegram: rec}, Event: ev,
		Directory: dir.Load, Plan: pg, Now: clock, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	console := web.New(web.Config{
		Store: pg, Console: pg, Directory: dir.Load, Event: ev, PublicURL: "https://hoinghi.example.vn", Now: clock, Log: log,
		Plan: pg, Blobs: blobs,
		SendConclusion: func(ctx context.Context, c domain.Conclusion, link string) (int, error) {
			n, err := sched.SendConclusion(ctx, c, func(lang domain.Lang) []flows.Reply { return flows.ConclusionMessage(lang, ev, dir.Load(), c, link) })
			if err == nil {
				_, err = sched.Drain(ctx)
			}
			return n, err
		},
		Attendees: func(ctx context.Context, _ string) ([]string, error) { return sched.MeetingAttendees(ctx) },
	})
	mux := http.NewServeMux()
	console.Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	ctx2 := testenv.Browser(t, 390, 844, 120*time.Second)
	do(t, ctx2, "phone viewport", chromedp.EmulateViewport(390, 844))
	link, err := console.IssueSignIn(ctx, "S001")
	if err != nil {
		t.Fatal(err)
	}
	// The kept screenshots are refreshed with -update (the
	// notice's id is random, so every run draws slightly different ones);
	// otherwise they go to $DIEUPHOI_ARTIFACTS or the test's directory.
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
		until(t, ctx2, name+" loaded", `document.readyState === 'complete'`)
		got := text(t, ctx2, `document.documentElement.scrollWidth + ' ' + window.innerWidth`)
		var sw, iw int
		fmt.Sscan(got, &sw, &iw)
		if iw != 390 || sw > iw {
			t.Errorf("%s: page is %d px wide on a %d px screen", name, sw, iw)
		}
		png, err := chromedp.Run(ctx2, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(shots, "meeting-"+name+"-390.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	body := func() string { return text(t, ctx2, `document.body.innerText`) }
	do(t, ctx2, "sign in", chromedp.Navigate(srv.URL+strings.TrimPrefix(link, "https://hoinghi.example.vn")),
		chromedp.WaitVisible(chromedp.ID("signin")), chromedp.Click(chromedp.ID("signin")))
	until(t, ctx2, "the overview", `!!document.getElementById('late-tasks')`)
	if got := text(t, ctx2, `document.getElementById('late-tasks').innerText`); !strings.Contains(got, "1 công việc trễ hạn") {
		t.Errorf("overview: %q", got)
	}

	// The plan, late first; a task with a deadline in the past is refused.
	do(t, ctx2, "tasks", chromedp.Navigate(srv.URL+"/admin/tasks"), chromedp.WaitVisible(chromedp.ID("tasks")))
	if got := text(t, ctx2, `[...document.querySelectorAll('#tasks tr.late')].map(r => r.innerText).join('|')`); !strings.Contains(got, "VP-03") || strings.Contains(got, "TT-02") {
		t.Errorf("late rows: %q", got)
	}
	fits("tasks")
	add := func(title, date string) {
		do(t, ctx2, "add "+title, chromedp.SetValue(`#add-task input[name=title]`, title), chromedp.SetValue(`#add-task input[name=unit]`, "Văn phòng Sở"),
			chromedp.SetValue(`#add-task select[name=owner]`, "S001"), chromedp.SetValue(`#add-task input[name=date]`, date),
			chromedp.SetValue(`#add-task input[name=clock]`, "17:00"), chromedp.SetValue(`#add-task input[name=id]`, "VP-09"),
			chromedp.Submit(`#add-task`))
	}
	add("Gửi thư cảm ơn đại biểu", "2026-08-01")
	until(t, ctx2, "refused", `document.body.innerText.includes('đã qua; xin chọn một thời điểm sau bây giờ')`)
	fits("task-past-refused")
	if tasks, _ := pg.Tasks(ctx, ev.ID); len(tasks) != 2 {
		t.Fatalf("a task with a past deadline was stored: %+v", tasks)
	}
	add("Gửi thư cảm ơn đại biểu", "2026-08-12")
	until(t, ctx2, "added", `document.body.innerText.includes('Đã lưu công việc.') && document.body.innerText.includes('VP-09')`)
	// Update it: in progress, with a note; the history says who.
	do(t, ctx2, "open", chromedp.Navigate(srv.URL+"/admin/tasks/VP-09"), chromedp.WaitVisible(chromedp.ID("edit-task")),
		chromedp.SetValue(`#edit-task select[name=status]`, "doing"), chromedp.SetValue(`#edit-task textarea[name=note]`, "Đã in 90 thư"),
		chromedp.Submit(`#edit-task`))
	until(t, ctx2, "saved", `!!document.getElementById('task-history') && document.getElementById('task-history').innerText.includes('Đã in 90 thư')`)
	if h := text(t, ctx2, `document.getElementById('task-history').innerText`); !strings.Contains(h, "Đỗ Thu Hà → đang làm") {
		t.Errorf("history: %q", h)
	}
	fits("task")
	if got, _ := pg.Task(ctx, ev.ID, "VP-09"); got.Status != domain.TaskDoing || got.UpdatedBy != "S001" {
		t.Fatalf("task = %+v", got)
	}

	// The conclusion notice from the template.
	do(t, ctx2, "new notice", chromedp.Navigate(srv.URL+"/admin/conclusions/new"), chromedp.WaitVisible(chromedp.ID("conclusion-form")))
	tpl := text(t, ctx2, `document.querySelector('#conclusion-form textarea[name=body]').value`)
	for _, want := range []string{"Ngày 07/08/2026", "Hội trường A", "do Đồng chí Giám đốc Sở KH&CN chủ trì", "có 1 đại biểu", "- Khai mạc (Sở KH&CN);"} {
		if !strings.Contains(tpl, want) {
			t.Errorf("template lacks %q:\n%s", want, tpl)
		}
	}
	fits("conclusion-new")
	do(t, ctx2, "past follow-up", chromedp.SetValue(`#conclusion-form textarea[name=followups]`, "UBND-YM | Báo cáo số liệu 1.1.1 | 01/08/2026"),
		chromedp.Submit(`#conclusion-form`))
	until(t, ctx2, "refused", `!!document.getElementById('form-errors') && document.getElementById('form-errors').innerText.includes('đã qua')`)
	if list, _ := pg.Conclusions(ctx, ev.ID); len(list) != 0 {
		t.Fatalf("a notice with problems was stored: %+v", list)
	}
	do(t, ctx2, "save", chromedp.SetValue(`#conclusion-form textarea[name=followups]`, "UBND-YM | Báo cáo số liệu 1.1.1 | 20/08/2026"),
		chromedp.Submit(`#conclusion-form`))
	until(t, ctx2, "draft", `!!document.getElementById('preview') && document.body.innerText.includes('Đã lưu bản nháp')`)
	contains := func(what, got string, wants ...string) {
		t.Helper()
		for _, w := range wants {
			if !strings.Contains(got, w) {
				t.Errorf("%s lacks %q:\n%s", what, w, got)
			}
		}
	}
	contains("preview", text(t, ctx2, `document.getElementById('preview').innerText`), "UBND huyện Yên Mỹ:", "Báo cáo số liệu 1.1.1 (hạn 17:00 20/08/2026)")
	do(t, ctx2, "send", chromedp.Submit(`#send`))
	until(t, ctx2, "sent", `!!document.getElementById('sent-at') && document.body.innerText.includes('Đã xếp lịch gửi')`)
	fits("conclusion-sent")
	if rec.count("9101", "Thông báo kết luận") != 1 || rec.count("9102", "Báo cáo số liệu 1.1.1") != 1 || rec.count("9100", "Thông báo kết luận") != 0 {
		t.Fatalf("sent: %+v", rec.msgs)
	}
	do(t, ctx2, "send again", chromedp.Submit(`#send`))
	until(t, ctx2, "nothing more", `document.body.innerText.includes('không gửi thêm')`)
	if rec.count("9101", "Thông báo kết luận") != 1 {
		t.Fatal("sent twice")
	}
	// The text version from the link in the message.
	var url string
	for _, r := range rec.msgs["9102"] {
		if r.Link != nil {
			url = r.Link.URL
		}
	}
	if !strings.HasPrefix(url, "https://hoinghi.example.vn/thongbao/") {
		t.Fatalf("link %q", url)
	}
	resp, err := http.Get(srv.URL + strings.TrimPrefix(url, "https://hoinghi.example.vn"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	contains("text version", string(b), "NHIỆM VỤ GIAO CÁC CƠ QUAN, ĐƠN VỊ", "Báo cáo số liệu 1.1.1 (hạn 17:00 20/08/2026)")
	if resp, err := http.Get(srv.URL + "/thongbao/" + strings.Repeat("x", 43)); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("a made-up link: %v %v", resp, err)
	}

	// The agency's focal point reports it done with a file: the task page
	// links the file, served as a download.
	sum, _, err := blobs.Put(strings.NewReader("%PDF-1.4 báo cáo"), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	notices, _ := pg.Conclusions(ctx, ev.ID)
	fu := notices[0].FollowUps[0].ID
	apply(domain.UpdateTask{EventID: ev.ID, TaskID: fu, Status: domain.TaskDone, By: "P003", Channel: domain.Telegram,
		File: &domain.Evidence{SHA256: sum, Name: "bao-cao.pdf", MIME: "application/pdf", Size: 20}})
	do(t, ctx2, "follow-up", chromedp.Navigate(srv.URL+"/admin/tasks/"+fu), chromedp.WaitVisible(chromedp.ID("task-history")))
	contains("follow-up history", text(t, ctx2, `document.getElementById('task-history').innerText`), "Lê Minh Cường → đã xong", "bao-cao.pdf")
	href := text(t, ctx2, `document.querySelector('#task-history a').getAttribute('href')`)
	contains("file", readURL(t, console, srv.URL+href, ctx2), "%PDF-1.4 báo cáo")
	fits("followup-done")

	// Feedback results and their export.
	apply(domain.SaveFeedback{EventID: ev.ID, PersonID: "P001", Rating: 4, Comment: "=HYPERLINK(\"http://x\") tài liệu nên gửi sớm"})
	do(t, ctx2, "feedback", chromedp.Navigate(srv.URL+"/admin/feedback"), chromedp.WaitVisible(chromedp.ID("feedback-summary")))
	contains("feedback", body(), "1 người đánh giá", "điểm trung bình 4,0/5", "Nguyễn Văn An")
	fits("feedback")
	csv := readURL(t, console, srv.URL+"/admin/feedback/export.csv", ctx2)
	contains("csv", csv, "Nguyễn Văn An", "'=HYPERLINK")
}

// readURL fetches a console URL with the browser's session cookie.
func readURL(t *testing.T, _ *web.Console, u string, ctx context.Context) string {
	t.Helper()
	return text(t, ctx, `(() => { const x = new XMLHttpRequest(); x.open('GET', `+jsq(u)+`, false); x.send(); return x.responseText; })()`)
}
