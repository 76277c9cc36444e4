package scheduler_test

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/bot"
	"github.com/dieuphoi/dieuphoi/bot/telegram"
	"github.com/dieuphoi/dieuphoi/bot/telegram/telegramtest"
	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
	"github.com/dieuphoi/dieuphoi/internal/testenv"
	"github.com/dieuphoi/dieuphoi/scheduler"
	"github.com/dieuphoi/dieuphoi/storage/files"
	"github.com/dieuphoi/dieuphoi/storage/postgres"
	"github.com/dieuphoi/dieuphoi/storage/redis"
)

var _ scheduler.PlanStore = (*postgres.Store)(nil)

// meetingRig is the bot as it runs: PostgreSQL, Redis sessions, the real
// Telegram client polling the fake Bot API into the dispatcher, and the
// scheduler on a clock the test moves.
type meetingRig struct {
	*env
	pg    *postgres.Store
	sched *scheduler.Scheduler
}

func newMeetingRig(t *testing.T) *meetingRig {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	pg := openPG(t, testenv.PostgresURL(t)).(*postgres.Store)
	people := []domain.Person{
		person("DB090", "Nguyễn Công Hiếu", "SKHCN", "0386534362", domain.RoleStaff, domain.RoleDelegate),
		person("DB010", "Trần Thị Bình", "STC", "0987654321", domain.RoleFocal),
		person("DB001", "Nguyễn Văn An", "SYT", "0912345678", domain.RoleDelegate),
	}
	e := newEnv(t, pg, people, "jobs:\n  indicator_ladder: {at: [\"-7d 08:00\", \"-3d 08:00\", \"-1d 08:00\", \"0d 08:00\"], overdue: \"08:00\", grace: 4h}\n  feedback: {at: [\"+1h\"], grace: 3d}\n")
	ss, err := redis.Open(ctx, redis.Options{URL: testenv.RedisURL(t), Prefix: testenv.Prefix(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ss.Close() })
	blobs, err := files.New(filepath.Join(t.TempDir(), "evidence"))
	if err != nil {
		t.Fatal(err)
	}
	d := bot.NewDispatcher(bot.Config{Store: pg, Sessions: ss, Event: e.ev, Directory: e.dir, Now: e.clk.Now, Log: quiet(),
		Tasks: pg, Blobs: blobs, Quota: pg})
	tg, err := telegram.New(ctx, telegram.Config{Token: token, APIBase: e.srv.URL(), Handler: d, Log: quiet(), PollTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	d.SetSender(domain.Telegram, tg)
	d.SetFetcher(domain.Telegram, tg)
	e.tg = tg
	go tg.Poll(ctx)
	s, err := scheduler.New(scheduler.Config{
		Store: pg, Outbox: pg, Senders: map[domain.Channel]bot.Sender{domain.Telegram: tg},
		Event: e.ev, Directory: func() *domain.Directory { return e.dir }, Schedule: e.sched, Plan: pg,
		Now: e.clk.Now, Log: quiet(), WorkerID: "w1", MaxInFlight: 8,
	})
	if err != nil {
		t.Fatal(err)
	}
	r := &meetingRig{env: e, pg: pg, sched: s}
	for _, p := range people {
		r.linkVerified(p.ID)
	}
	return r
}

// linkVerified gives person a Telegram chat proved by their own phone.
func (r *meetingRig) linkVerified(personID string) {
	chat := int64(7000 + len(r.chats) + 1)
	r.chats[personID] = chat
	id := strconv.FormatInt(chat, 10)
	r.apply(domain.LinkIdentity{Identity: domain.Identity{Channel: domain.Telegram, UserID: id, ChatID: id, PersonID: personID, Proof: domain.ProofPhone}})
}

// waitMsg waits for a message to person containing want, after the first
// skip messages.
func (r *meetingRig) waitMsg(personID, want string, skip int) telegramtest.SentMessage {
	r.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		msgs := r.srv.Messages(r.chats[personID])
		for i := skip; i < len(msgs); i++ {
			if strings.Contains(msgs[i].Text, want) {
				return msgs[i]
			}
		}
		time.Sleep(30 * time.Millisecond)
	}
	r.t.Fatalf("%s never got %q; got:\n%s", personID, want, strings.Join(r.texts(personID), "\n---\n"))
	return telegramtest.SentMessage{}
}

func (r *meetingRig) count(personID, want string) int {
	n := 0
	for _, m := range r.texts(personID) {
		if strings.Contains(m, want) {
			n++
		}
	}
	return n
}

func (r *meetingRig) press(personID string, m telegramtest.SentMessage, data string) {
	r.t.Helper()
	for _, row := range m.Inline {
		for _, b := range row {
			if b.Data == data {
				r.srv.PressButton(r.chats[personID], m.MessageID, data)
				return
			}
		}
	}
	r.t.Fatalf("message %q has no button %q (%+v)", m.Text, data, m.Inline)
}

func (r *meetingRig) task(id string) domain.Task {
	r.t.Helper()
	task, err := r.pg.Task(r.ctx, r.ev.ID, id)
	if err != nil {
		r.t.Fatal(err)
	}
	return task
}

// An organiser's task is reminded on the indicators' ladder (T-7, T-3,
// T-1, the day), once per moment however often the jobs run, and its owner
// updates it from chat: /congviec, a status, a note; the history keeps who
// and when.
func TestOrganiserTaskRemindedAndUpdatedFromChat(t *testing.T) {
	r := newMeetingRig(t)
	if err := r.pg.SyncPlanTasks(r.ctx, r.ev.ID, []domain.Task{{ID: "CN-02", Kind: domain.TaskKindPlan, Title: "Xây dựng kịch bản, chương trình chi tiết Hội nghị",
		Unit: "Phòng Công nghệ và Đổi mới sáng tạo", OwnerID: "DB090", Deadline: at("2024-07-31 17:00"), Status: domain.TaskTodo}}, r.clk.Now()); err != nil {
		t.Fatal(err)
	}
	r.runDue(r.sched, at("2024-07-24 07:59"))
	if n := r.count("DB090", "CN-02"); n != 0 {
		t.Fatalf("reminded before T-7: %d", n)
	}
	r.runDue(r.sched, at("2024-07-24 08:01"))
	m := r.waitMsg("DB090", "Còn 7 ngày đến hạn công việc CN-02", 0)
	contains(t, "T-7", m.Text, "Xây dựng kịch bản", "17:00 31/07/2024", "chưa làm", "/congviec")
	r.runDue(r.sched, at("2024-07-24 09:00")) // the same moment again: nothing new
	if n := len(r.items(scheduler.JobTaskLadder)); n != 1 {
		t.Fatalf("outbox has %d task reminders, want 1", n)
	}

	// The owner opens it from the reminder and sets it in progress.
	r.press("DB090", m, "cv:o:CN-02")
	card := r.waitMsg("DB090", "🏢 Đơn vị: Phòng Công nghệ và Đổi mới sáng tạo", 0)
	r.press("DB090", card, "cv:s:doing:CN-02")
	r.waitMsg("DB090", "Đã cập nhật công việc CN-02: đang làm", 0)
	if got := r.task("CN-02"); got.Status != domain.TaskDoing || got.UpdatedBy != "DB090" {
		t.Fatalf("task after the button = %+v", got)
	}
	// A note over 1,000 characters is refused and changes nothing; a
	// short one is kept.
	before := len(r.texts("DB090"))
	r.srv.SendCommand(r.chats["DB090"], "congviec", "")
	list := r.waitMsg("DB090", "Công việc anh/chị phụ trách (1)", before)
	contains(t, "list", list.Text, "🔄 CN-02", "đang làm", "còn 7 ngày")
	r.press("DB090", card, "cv:n:CN-02")
	r.waitMsg("DB090", "Xin gõ ghi chú cho công việc CN-02", before)
	r.srv.SendText(r.chats["DB090"], strings.Repeat("dài ", 300))
	r.waitMsg("DB090", "quá giới hạn 1000 ký tự", before)
	if got := r.task("CN-02"); got.Note != "" {
		t.Fatalf("a refused note was stored: %q", got.Note)
	}
	r.srv.SendText(r.chats["DB090"], "Đã gửi bản kịch bản lần 1 cho Lãnh đạo Sở")
	r.waitMsg("DB090", "Đã ghi chú cho công việc CN-02", before)
	if got := r.task("CN-02"); got.Note != "Đã gửi bản kịch bản lần 1 cho Lãnh đạo Sở" || got.Status != domain.TaskDoing {
		t.Fatalf("task after the note = %+v", got)
	}

	// The rest of the ladder: T-3, T-1, the day, then overdue, each once.
	r.runDue(r.sched, at("2024-07-28 08:01"))
	r.waitMsg("DB090", "Còn 3 ngày đến hạn công việc CN-02", 0)
	r.runDue(r.sched, at("2024-07-30 08:01"))
	r.waitMsg("DB090", "Còn 1 ngày đến hạn công việc CN-02", 0)
	r.runDue(r.sched, at("2024-07-31 08:01"))
	r.waitMsg("DB090", "Hôm nay là hạn công việc CN-02", 0)
	r.runDue(r.sched, at("2024-08-01 08:01"))
	r.waitMsg("DB090", "Công việc CN-02 đã quá hạn 1 ngày", 0)
	// Done: no more reminders.
	before = len(r.texts("DB090"))
	r.srv.SendCommand(r.chats["DB090"], "congviec", "")
	list = r.waitMsg("DB090", "🔴 CN-02", before)
	r.press("DB090", list, "cv:o:CN-02")
	card = r.waitMsg("DB090", "Đã quá hạn", before)
	r.press("DB090", card, "cv:s:done:CN-02")
	r.waitMsg("DB090", "Đã cập nhật công việc CN-02: đã xong", before)
	r.runDue(r.sched, at("2024-08-02 08:01"))
	r.runDue(r.sched, at("2024-08-03 08:01"))
	if n := len(r.items(scheduler.JobTaskLadder)); n != 5 {
		t.Fatalf("outbox has %d task reminders, want 5 (T-7, T-3, T-1, day, overdue 1)", n)
	}
	h, err := r.pg.TaskHistory(r.ctx, r.ev.ID, "CN-02")
	if err != nil {
		t.Fatal(err)
	}
	var steps []string
	for _, c := range h {
		steps = append(steps, c.By+":"+string(c.Status)+":"+c.Note)
	}
	if want := "DB090:doing:|DB090::Đã gửi bản kịch bản lần 1 cho Lãnh đạo Sở|DB090:done:"; strings.Join(steps, "|") != want {
		t.Fatalf("history = %q, want %q", strings.Join(steps, "|"), want)
	}
}

// The conclusion notice goes once to the attendees and to the focal points
// of the agency it gives a task; the task is reminded on its ladder and
// the focal point marks it done from chat with a file, after which the
// reminders stop. The feedback form reaches the attendee after the event.
func TestConclusionFollowUpRemindedAndDoneFromChat(t *testing.T) {
	r := newMeetingRig(t)
	r.clk.Set(at("2024-08-02 14:00"))
	r.rsvp("DB001", domain.RSVPAttend, nil)
	// The feedback form, an hour after the end.
	r.runDue(r.sched, at("2024-08-02 12:01"))
	fb := r.waitMsg("DB001", "Xin anh/chị đánh giá Hội nghị", 0)
	r.press("DB001", fb, "fb:4:"+r.ev.ID)
	r.waitMsg("DB001", "Cảm ơn anh/chị đã đánh giá 4⭐", 0)
	r.srv.SendText(r.chats["DB001"], "Nên gửi tài liệu trước một tuần")
	r.waitMsg("DB001", "Cảm ơn anh/chị đã góp ý!", 0)
	got, err := r.pg.Feedback(r.ctx, r.ev.ID)
	if err != nil || len(got) != 1 || got[0].Rating != 4 || got[0].Comment != "Nên gửi tài liệu trước một tuần" {
		t.Fatalf("feedback = %+v, %v", got, err)
	}

	tasks, probs := flows.ParseFollowUps("STC | Rà soát số liệu chi cho KH&CN năm 2023 | 20/08/2024 17:00", "KL1", r.dir, hcm, r.clk.Now())
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	c := domain.Conclusion{EventID: r.ev.ID, ID: "KL1", Title: "Thông báo kết luận Hội nghị PII", Body: "Các đơn vị khẩn trương thu thập số liệu.",
		FollowUps: tasks, CreatedBy: "DB090"}
	if err := r.pg.SaveConclusion(r.ctx, c, r.clk.Now()); err != nil {
		t.Fatal(err)
	}
	// A draft's follow-ups are nobody's yet: nothing planned for them.
	planned := func() int {
		plan, err := r.sched.Upcoming(r.ctx, r.clk.Now(), at("2024-08-21 00:00"))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, p := range plan {
			if p.Job == scheduler.JobTaskLadder {
				n++
			}
		}
		return n
	}
	if n := planned(); n != 0 {
		t.Fatalf("a draft's task is planned to be reminded (%d)", n)
	}
	if ok, err := r.pg.MarkConclusionSent(r.ctx, r.ev.ID, "KL1", "DB090", strings.Repeat("ab", 32), r.clk.Now()); !ok || err != nil {
		t.Fatalf("mark sent: %v %v", ok, err)
	}
	if n := planned(); n != 4 {
		t.Fatalf("%d reminders planned for the sent task, want 4 (T-7, T-3, T-1, the day)", n)
	}
	c, _ = r.pg.Conclusion(r.ctx, r.ev.ID, "KL1")
	render := func(lang domain.Lang) []flows.Reply {
		return flows.ConclusionMessage(lang, r.ev, r.dir, c, "https://hoinghi.example.vn/thongbao/x")
	}
	for range 2 { // a second press sends nothing more
		if _, err := r.sched.SendConclusion(r.ctx, c, render); err != nil {
			t.Fatal(err)
		}
		if _, err := r.sched.Drain(r.ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(r.items(scheduler.JobConclusion)); n != 2 {
		t.Fatalf("conclusion messages = %d, want 2 (the attendee and STC's focal point)", n)
	}
	for _, id := range []string{"DB001", "DB010"} {
		m := r.waitMsg(id, "Thông báo kết luận Hội nghị PII", 0)
		contains(t, id, m.Text, "Sở Tài chính:", "Rà soát số liệu chi cho KH&CN năm 2023 (hạn 17:00 20/08/2024)")
	}
	if r.count("DB090", "Thông báo kết luận") != 0 {
		t.Fatal("the notice went to someone neither attending nor concerned")
	}

	// T-7 of the follow-up reaches STC's focal point, once.
	r.runDue(r.sched, at("2024-08-13 08:01"))
	r.runDue(r.sched, at("2024-08-13 08:30"))
	m := r.waitMsg("DB010", "Còn 7 ngày đến hạn công việc KL1-1", 0)
	contains(t, "follow-up", m.Text, "Việc sau hội nghị giao Sở Tài chính")
	if r.count("DB010", "Còn 7 ngày đến hạn công việc KL1-1") != 1 {
		t.Fatal("reminded twice")
	}
	// Someone of another agency cannot touch it, whatever they press.
	before := len(r.texts("DB001"))
	r.srv.PressButton(r.chats["DB001"], m.MessageID, "cv:s:done:KL1-1")
	r.waitMsg("DB001", "không còn hiệu lực", before)
	if got := r.task("KL1-1"); got.Status != domain.TaskTodo {
		t.Fatalf("another agency changed it: %+v", got)
	}
	// Done from chat, with a file that is not a document first (refused).
	r.press("DB010", m, "cv:o:KL1-1")
	card := r.waitMsg("DB010", "📌 KL1-1", 1)
	r.press("DB010", card, "cv:s:done:KL1-1")
	r.waitMsg("DB010", "gửi kèm tệp kết quả", 0)
	r.srv.SendDocument(r.chats["DB010"], "virus.exe", "application/octet-stream", []byte("MZ\x90\x00 not a document"))
	r.waitMsg("DB010", "chỉ nhận PDF, Word, Excel hoặc ảnh", 0)
	if got := r.task("KL1-1"); got.Status != domain.TaskTodo {
		t.Fatalf("a refused file changed the task: %+v", got)
	}
	pdf := []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
	r.srv.SendDocument(r.chats["DB010"], "bao-cao-ra-soat.pdf", "application/pdf", pdf)
	r.waitMsg("DB010", "Đã ghi nhận công việc KL1-1 hoàn thành, kèm tệp «bao-cao-ra-soat.pdf»", 0)
	if got := r.task("KL1-1"); got.Status != domain.TaskDone || got.UpdatedBy != "DB010" {
		t.Fatalf("task = %+v", got)
	}
	h, err := r.pg.TaskHistory(r.ctx, r.ev.ID, "KL1-1")
	if err != nil || len(h) != 1 || h[0].File == nil || h[0].File.Name != "bao-cao-ra-soat.pdf" || len(h[0].File.SHA256) != 64 {
		t.Fatalf("history = %+v, %v", h, err)
	}
	// No T-3 reminder for a task done.
	r.runDue(r.sched, at("2024-08-17 08:01"))
	if n := len(r.items(scheduler.JobTaskLadder)); n != 1 {
		t.Fatalf("task reminders = %d after it was done, want 1", n)
	}
}

// The task queries on both databases: a plan task synced from the files
// keeps its progress when the files are loaded again; a follow-up is its
// agency's focal points' only once its notice is sent; the chat's effects
// keep history.
func TestTaskStoreOnBothDatabases(t *testing.T) {
	eachStore(t, func(t *testing.T, st testStore) {
		ctx := context.Background()
		ts := st.(scheduler.PlanStore)
		now := at("2024-07-20 08:00")
		plan := []domain.Task{{ID: "VP-01", Title: "Phát hành giấy mời", Unit: "Văn phòng Sở", OwnerID: "DB090", Deadline: at("2024-07-29 17:00")}}
		if err := ts.SyncPlanTasks(ctx, "ev1", plan, now); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Apply(ctx, domain.UpdateKey{Channel: "t", UpdateID: "1"}, now, []domain.Effect{
			domain.UpdateTask{EventID: "ev1", TaskID: "VP-01", Status: domain.TaskDoing, Note: "Đã in", By: "DB090", Channel: domain.Telegram}}); err != nil {
			t.Fatal(err)
		}
		plan[0].Deadline = at("2024-07-30 17:00")
		if err := ts.SyncPlanTasks(ctx, "ev1", plan, now); err != nil {
			t.Fatal(err)
		}
		got, err := ts.Task(ctx, "ev1", "VP-01")
		if err != nil || got.Status != domain.TaskDoing || got.Note != "Đã in" || !got.Deadline.Equal(at("2024-07-30 17:00")) || got.Kind != domain.TaskKindPlan {
			t.Fatalf("after a second sync: %+v, %v", got, err)
		}
		if other, _ := ts.Tasks(ctx, "ev2"); len(other) != 0 {
			t.Fatalf("another event sees %+v", other)
		}
		c := domain.Conclusion{EventID: "ev1", ID: "KL1", Title: "TB", Body: "…", CreatedBy: "DB090",
			FollowUps: []domain.Task{{ID: "KL1-1", Title: "Rà soát", AgencyCode: "STC", Deadline: at("2024-08-20 17:00")}}}
		if err := ts.SaveConclusion(ctx, c, now); err != nil {
			t.Fatal(err)
		}
		mine := func(person, agency string, focal bool) int {
			list, err := ts.TasksOf(ctx, "ev1", person, agency, focal)
			if err != nil {
				t.Fatal(err)
			}
			return len(list)
		}
		if mine("DB010", "STC", true) != 0 {
			t.Fatal("a draft's follow-up is already the agency's")
		}
		if ok, err := ts.MarkConclusionSent(ctx, "ev1", "KL1", "DB090", strings.Repeat("cd", 32), now); !ok || err != nil {
			t.Fatal(ok, err)
		}
		if ok, _ := ts.MarkConclusionSent(ctx, "ev1", "KL1", "DB090", strings.Repeat("ef", 32), now); ok {
			t.Fatal("sent twice")
		}
		if err := ts.SaveConclusion(ctx, c, now); err == nil {
			t.Fatal("a sent notice was changed")
		}
		if got, err := ts.ConclusionByToken(ctx, strings.Repeat("cd", 32)); err != nil || got.ID != "KL1" || len(got.FollowUps) != 1 {
			t.Fatalf("by token: %+v, %v", got, err)
		}
		if mine("DB010", "STC", true) != 1 || mine("DB011", "STC", false) != 0 || mine("DB012", "SYT", true) != 0 || mine("DB090", "SKHCN", false) != 1 {
			t.Fatal("TasksOf gives the wrong tasks")
		}
		for i, e := range []domain.Effect{domain.SaveFeedback{EventID: "ev1", PersonID: "DB001", Rating: 5},
			domain.SaveFeedback{EventID: "ev1", PersonID: "DB001", Comment: "Tốt"}, domain.SaveFeedback{EventID: "ev1", PersonID: "DB001", Rating: 3}} {
			if _, err := st.Apply(ctx, domain.UpdateKey{Channel: "t", UpdateID: "fb" + strconv.Itoa(i)}, now, []domain.Effect{e}); err != nil {
				t.Fatal(err)
			}
		}
		fb, err := ts.Feedback(ctx, "ev1")
		if err != nil || len(fb) != 1 || fb[0].Rating != 3 || fb[0].Comment != "Tốt" {
			t.Fatalf("feedback %+v, %v", fb, err)
		}
		h, err := ts.TaskHistory(ctx, "ev1", "VP-01")
		if err != nil || len(h) != 1 || h[0].Status != domain.TaskDoing || h[0].Channel != domain.Telegram {
			t.Fatalf("history %+v, %v", h, err)
		}
		// The console's edit carries the version seen.
		got.Title = "Phát hành giấy mời (bản in)"
		if err := ts.SaveTask(ctx, got, got.Version-1, "DB091", now); err == nil {
			t.Fatal("a stale edit was saved")
		}
		if err := ts.SaveTask(ctx, got, got.Version, "DB091", now); err != nil {
			t.Fatal(err)
		}
	})
}
