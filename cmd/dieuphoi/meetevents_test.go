package main

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/bot/telegram/telegramtest"
	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/storage/postgres"
	"github.com/dieuphoi/dieuphoi/storage/sqlstore"
)

// Two overlapping events on the same morning, over Telegram with
// PostgreSQL and Redis: a delegate invited to both is asked which event
// their question is for (buttons carrying the event's code) and it reaches
// that event's queue only, on the console page switched to it; a delegate
// of the conference alone is not asked; a vote opened for the council goes
// to those checked in there, its buttons carry the council's code, the
// answer counts in the council and the conference shows no vote; /tailieu
// lists the chosen event's documents.
func TestMeetingTwoEventsFromChat(t *testing.T) {
	api := telegramtest.New(t, botToken)
	env := serverEnv(t, api.URL())
	env["DIEUPHOI_PUBLIC_URL"] = "https://hoinghi.example.vn"
	env["DIEUPHOI_CLOCK_START"] = "2024-08-02T09:50:00+07:00" // both events are on
	base, stop := startRun(t, env)
	defer stop()

	ctx := context.Background()
	st, err := postgres.Open(ctx, env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	dir, _ := st.Directory(ctx)
	var delegates []domain.Person
	for _, p := range dir.People() {
		if p.Has(domain.RoleDelegate) && !p.Has(domain.RoleStaff) && !p.Has(domain.RoleFocal) {
			delegates = append(delegates, p)
		}
	}
	staffP, _ := dir.Person("DB090")
	s := &telegramUser{t: t, api: api, id: 9200}
	s.joined(func() int { return api.ShareContact(s.id, staffP.Phone, s.id) }, "📅 Hội nghị triển khai")
	console := signInConsole(t, base, s)

	both := &telegramUser{t: t, api: api, id: 9201} // invited to both
	both.joined(func() int { return api.SendCommand(both.id, "start", delegates[0].InviteToken) }, "📅 Hội nghị triển khai")
	conf := &telegramUser{t: t, api: api, id: 9202} // the conference only
	conf.joined(func() int { return api.SendCommand(conf.id, "start", delegates[1].InviteToken) }, "Hội nghị")

	// The council, overlapping the conference's discussion.
	hcm, _ := time.LoadLocation("Asia/Ho_Chi_Minh")
	day := func(h, m int) time.Time { return time.Date(2024, 8, 2, h, m, 0, 0, hcm) }
	council := domain.Event{ID: "hd-2024", NameVI: "Hội đồng tư vấn đề tài", NameEN: "Project advisory council", Location: hcm,
		DoorsOpen: day(9, 0), Start: day(9, 15), End: day(11, 30), VenueVI: "Phòng họp tầng 3", VenueEN: "3rd floor meeting room",
		Address: "Hưng Yên", RSVPCutoff: day(8, 0), Organizer: domain.Contact{Name: "Văn phòng Sở", Phone: "0221 3862 538"},
		Agenda: []domain.AgendaItem{{No: 1, Start: day(9, 15), End: day(11, 0), TitleVI: "Trao đổi, thảo luận thuyết minh đề tài",
			TitleEN: "Discussion of the proposal"}}}
	if _, err := st.ImportEvent(ctx, domain.EventRecord{Event: council, Code: "HD2024", Status: domain.StatusOpen,
		Invitees: []domain.Invitee{{PersonID: delegates[0].ID}, {PersonID: delegates[2].ID}}}, time.Now()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2500 * time.Millisecond) // the bot's list of events is kept 2 s

	// A question from the delegate of both: which event?
	pick := both.expect(func() int { return api.SendCommand(both.id, "cauhoi", "") }, "nhiều sự kiện")
	var codes []string
	for _, row := range pick.Inline {
		codes = append(codes, row[0].Data)
	}
	if len(codes) != 2 || !strings.Contains(strings.Join(codes, " "), "mt:e:HD2024:ask") {
		t.Fatalf("event choice buttons = %q", codes)
	}
	both.press(pick, "mt:e:HD2024:ask", "về nội dung nào")
	both.pressLatest("mt:s:a1", "Trao đổi, thảo luận thuyết minh đề tài")
	both.text("Kinh phí đề tài tính theo năm nào?", "Đã gửi câu hỏi")
	// The conference's delegate is not asked which.
	conf.expect(func() int { return api.SendCommand(conf.id, "cauhoi", "") }, "về nội dung nào")
	conf.pressLatest("mt:s:a0", "Chung cho Hội nghị")
	conf.text("Khi nào có số liệu năm 2023?", "Đã gửi câu hỏi")

	qc, err := st.MeetingQuestions(ctx, council.ID)
	if err != nil || len(qc) != 1 || qc[0].PersonID != delegates[0].ID || qc[0].AgendaNo != 1 {
		t.Fatalf("council questions = %+v %v", qc, err)
	}
	qp, err := st.MeetingQuestions(ctx, "pii-2024")
	if err != nil || len(qp) != 1 || qp[0].PersonID != delegates[1].ID {
		t.Fatalf("conference questions = %+v %v", qp, err)
	}
	_, page := console.get("/admin/meeting?event=" + council.ID)
	if !strings.Contains(page, "Kinh phí đề tài tính theo năm nào?") || strings.Contains(page, "Khi nào có số liệu năm 2023?") ||
		!strings.Contains(page, `id="switch-event"`) {
		t.Fatalf("the council's queue:\n%s", page)
	}
	_, page = console.get("/admin/meeting?event=pii-2024")
	if strings.Contains(page, "Kinh phí đề tài") || !strings.Contains(page, "Khi nào có số liệu năm 2023?") {
		t.Fatalf("the conference's queue:\n%s", page)
	}

	// A vote in the council: to who checked in there; the conference
	// sees none.
	for _, c := range []sqlstore.CheckIn{{PersonID: delegates[0].ID, EventID: council.ID}, {PersonID: delegates[1].ID, EventID: "pii-2024"}} {
		c.At, c.By, c.Method = time.Now(), staffP.ID, "desk"
		if _, _, err := st.CheckIn(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if code, body := console.post("/admin/meeting/votes?event="+council.ID, url.Values{"question": {"Thông qua thuyết minh?"},
		"kind": {"options"}, "options": {"Đồng ý\nKhông đồng ý"}}); code != http.StatusOK || !strings.Contains(body, "Đã mở biểu quyết") {
		t.Fatalf("open vote: %d %s", code, body)
	}
	vm := messageWith(t, api, both.id, "Biểu quyết: Thông qua thuyết minh?")
	votes, _ := st.Votes(ctx, council.ID)
	if len(votes) != 1 {
		t.Fatalf("council votes = %+v", votes)
	}
	yes := "mt:v:" + strconv.FormatInt(votes[0].ID, 10) + ":1:HD2024"
	both.seen = len(api.Messages(both.id))
	both.press(vm, yes, "Đã ghi nhận lựa chọn «Đồng ý»")
	// The same vote pressed with the conference's (no) code is another
	// event's: refused, nothing recorded.
	both.expect(func() int {
		return api.PressButton(both.id, vm.MessageID, "mt:v:"+strconv.FormatInt(votes[0].ID, 10)+":2")
	}, "không còn")
	time.Sleep(300 * time.Millisecond)
	for _, m := range api.Messages(conf.id) {
		if strings.Contains(m.Text, "Thông qua thuyết minh") {
			t.Fatal("the conference's delegate got the council's vote")
		}
	}
	answers, _ := st.VoteAnswers(ctx, votes[0].ID)
	if len(answers) != 1 || answers[0].Choice != 1 {
		t.Fatalf("council answers = %+v", answers)
	}
	if pv, _ := st.Votes(ctx, "pii-2024"); len(pv) != 0 {
		t.Fatalf("the conference has votes: %+v", pv)
	}
	_, page = console.get("/admin/meeting/live?event=pii-2024")
	if strings.Contains(page, "Thông qua thuyết minh") {
		t.Fatal("the conference's live page shows the council's vote")
	}
	_, page = console.get("/admin/meeting/live?event=" + council.ID)
	if !strings.Contains(page, "Thông qua thuyết minh") || !strings.Contains(page, "(1 phiếu)") {
		t.Fatalf("the council's live page:\n%s", page)
	}

	// /tailieu for the council: none yet there (the conference has the
	// example's documents).
	pick = both.expect(func() int { return api.SendCommand(both.id, "tailieu", "") }, "nhiều sự kiện")
	both.press(pick, "mt:e:HD2024:docs", "Chưa có tài liệu")
	pick = both.expect(func() int { return api.SendCommand(both.id, "tailieu", "") }, "nhiều sự kiện")
	both.press(pick, "mt:e:PII2024:docs", "Tài liệu Hội nghị (3)")
	// A crafted button for an event the person is not invited to.
	last := api.Messages(conf.id)[len(api.Messages(conf.id))-1]
	conf.expect(func() int { return api.PressButton(conf.id, last.MessageID, "mt:e:HD2024:docs") }, "không còn")
}
