package main

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/bot/telegram/telegramtest"
	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/storage"
	"github.com/dieuphoi/dieuphoi/storage/postgres"
)

// Two open data campaigns over Telegram, against PostgreSQL and Redis: a
// focal point is asked which one and enters a value in 2025's, which stays
// out of 2024's; staff review 2024's queue until they switch with
// /chiendich, then approve the 2025 item, and /chuanop and /xuat are 2025's.
// Every step is read back from the database.
func TestChatChoosesCampaign(t *testing.T) {
	api := telegramtest.New(t, botToken)
	env := serverEnv(t, api.URL())
	env["DIEUPHOI_CLOCK_START"] = "2024-08-10T09:00:00+07:00"
	_, stop := startRun(t, env)
	defer stop()

	ctx := context.Background()
	st, err := postgres.Open(ctx, env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.LoadCurrent(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CloneCampaign(ctx, "pii-2024", "pii-2025", "Chỉ số PII 2025", "PII 2025", time.Now()); err != nil {
		t.Fatal(err)
	}
	y2025 := st.InCampaign("pii-2025")
	dir, err := st.Directory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	focalP, _ := dir.Person("DB097") // Lê Văn Khải, SKHCN focal point
	staffP, _ := dir.Person("DB090")

	focal := &telegramUser{t: t, api: api, id: 7301}
	if pick := focal.joined(func() int { return api.ShareContact(focal.id, focalP.Phone, focal.id) }, "Có 2 đợt"); !strings.Contains(pick.Text, "Chỉ số PII 2025") {
		t.Fatalf("focal point with two campaigns was shown %q; want the choice", pick.Text)
	}
	focal.pressLatest("cp:pii-2025", "🗂 Đợt: Chỉ số PII 2025")
	focal.pressLatest("ind:2.2.1", "Xin nhập giá trị")
	focal.text("12,5", "12,5")
	focal.pressLatest("iv:ok", "minh chứng")
	focal.text("https://skhcn.hungyen.gov.vn/bao-cao-2023", "Xong")
	focal.pressLatest("ev:done", "Số/ký hiệu")
	focal.text("125/BC-SKHCN", "Ngày ban hành")
	focal.text("15/03/2024", "Ghi chú")
	focal.pressLatest("nt:skip", "Xin kiểm tra trước khi gửi")
	focal.pressLatest("sm:send", "Đã gửi chỉ số 2.2.1")

	sub, err := y2025.Submission(ctx, "2.2.1", "SKHCN")
	if err != nil || sub.Status != domain.StatusSubmitted || sub.Value != "12.5" {
		t.Fatalf("2025's 2.2.1 = %+v, %v; want sent 12.5", sub, err)
	}
	if s, err := st.Submission(ctx, "2.2.1", "SKHCN"); err != storage.ErrNotFound {
		t.Fatalf("2024's 2.2.1 = %+v, %v; want none", s, err)
	}
	if h, err := y2025.SubmissionHistory(ctx, "2.2.1", "SKHCN"); err != nil || len(h) == 0 {
		t.Fatalf("2025's history = %+v, %v", h, err)
	}

	staff := &telegramUser{t: t, api: api, id: 7302}
	staff.joined(func() int { return api.ShareContact(staff.id, staffP.Phone, staff.id) }, "📅 Hội nghị triển khai")
	q := staff.expect(func() int { return api.SendCommand(staff.id, "duyet", "") }, "🗂 Đợt: Hội nghị")
	if strings.Contains(q.Text, "2.2.1") {
		t.Fatalf("2024's review queue shows 2025's item: %q", q.Text)
	}
	staff.expect(func() int { return api.SendCommand(staff.id, "chiendich", "") }, "Có 2 đợt")
	staff.pressLatest("cp:pii-2025", "Đang làm việc với đợt: Chỉ số PII 2025")
	staff.expect(func() int { return api.SendCommand(staff.id, "duyet", "") }, "2.2.1")
	staff.pressLatest("rv:2.2.1|SKHCN", "12,5")
	staff.pressLatest("ra:2.2.1|SKHCN|"+strconv.Itoa(sub.Version), "Đã duyệt")
	if sub, err = y2025.Submission(ctx, "2.2.1", "SKHCN"); err != nil || sub.Status != domain.StatusApproved {
		t.Fatalf("after approval 2025's 2.2.1 = %+v, %v", sub, err)
	}
	told := waitFor(t, api, focal.id, "đã được Sở KH&CN duyệt") // the focal point is told
	if len(told.Inline) != 1 || told.Inline[0][0].Data != "cp:pii-2025" {
		t.Fatalf("approval notice buttons %+v; want the 2025 list", told.Inline)
	}

	miss := staff.expect(func() int { return api.SendCommand(staff.id, "chuanop", "") }, "Chỉ số chưa nộp")
	if !strings.HasPrefix(miss.Text, "🗂 Đợt: Chỉ số PII 2025") || !strings.Contains(miss.Text, "2025") {
		t.Fatalf("/chuanop = %q; want 2025's, with its deadlines", miss.Text)
	}
	staff.do(func() int { return api.SendCommand(staff.id, "xuat", "") }, 1)
	staff.pressLatest("ex:xlsx", "Đang chuẩn bị")
	var doc telegramtest.SentDocument
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end) && doc.Data == nil; time.Sleep(100 * time.Millisecond) {
		if docs := api.Documents(staff.id); len(docs) > 0 {
			doc = docs[0]
		}
	}
	if !strings.Contains(doc.Name, "pii-2025") {
		t.Fatalf("export named %q; want 2025's", doc.Name)
	}

	// The focal point's choice is kept: the list is 2025's, with the item
	// approved.
	l := focal.expect(func() int { return api.SendCommand(focal.id, "chiso", "") }, "🗂 Đợt: Chỉ số PII 2025")
	if !strings.Contains(l.Text, "✅ 2.2.1") {
		t.Fatalf("2025's list = %q; want 2.2.1 approved", l.Text)
	}
}

// Staff choose another open event with /sukien, and /diemdanh, /tonghop and
// /nhacnho are then about it: its reminder reaches a delegate invited to
// both events with buttons that answer it, and the audit names it.
func TestStaffCommandsFollowChosenEvent(t *testing.T) {
	api := telegramtest.New(t, botToken)
	env := serverEnv(t, api.URL())
	_, stop := startRun(t, env)
	defer stop()

	ctx := context.Background()
	st, err := postgres.Open(ctx, env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	hcm, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		t.Fatal(err)
	}
	council, err := st.CloneEvent(ctx, "pii-2024", "council-2024", "HD2024", time.Date(2024, 8, 6, 0, 0, 0, 0, hcm), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	council.Event.NameVI, council.Event.NameEN = "Hội đồng thẩm định đề tài", "Appraisal council"
	if _, err := st.ImportEvent(ctx, council, time.Now()); err != nil {
		t.Fatal(err)
	}
	dir, err := st.Directory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var pending domain.Person
	for _, p := range dir.People() {
		if p.Has(domain.RoleDelegate) && !p.Has(domain.RoleStaff) && !p.Has(domain.RoleFocal) {
			pending = p
			break
		}
	}
	staffP, _ := dir.Person("DB090")

	b := &telegramUser{t: t, api: api, id: 7401}
	b.joined(func() int { return api.SendCommand(b.id, "start", pending.InviteToken) }, "2 sự kiện")
	s := &telegramUser{t: t, api: api, id: 7402}
	s.joined(func() int { return api.ShareContact(s.id, staffP.Phone, s.id) }, "2 sự kiện sắp tới")
	s.expect(func() int { return api.SendCommand(s.id, "sukien", "") }, "Chọn sự kiện khác")
	s.pressLatest("sev:HD2024", "Từ giờ /tonghop và /diemdanh áp dụng cho: Hội đồng thẩm định đề tài")
	att := s.expect(func() int { return api.SendCommand(s.id, "diemdanh", "") }, "Điểm danh")
	if !strings.HasPrefix(att.Text, "📅 Hội đồng thẩm định đề tài") || !strings.Contains(att.Text, "Đã có mặt: 0 / 0") {
		t.Fatalf("/diemdanh = %q; want the council's", att.Text)
	}
	s.expect(func() int { return api.SendCommand(s.id, "tonghop", "") }, "📅 Hội đồng thẩm định đề tài")
	prev := s.expect(func() int { return api.SendCommand(s.id, "nhacnho", "") }, "chưa trả lời giấy mời")
	if !strings.HasPrefix(prev.Text, "📅 Hội đồng thẩm định đề tài") {
		t.Fatalf("reminder preview %q; want it to name the council", prev.Text)
	}
	confirm := buttonWithPrefix(t, prev, "rm:go:")
	if !strings.HasSuffix(confirm, ":HD2024") {
		t.Fatalf("confirmation %q does not name the council", confirm)
	}
	s.press(prev, confirm, "Đã xếp lịch nhắc")
	reminder := waitFor(t, api, b.id, "Anh/chị chưa xác nhận tham dự Hội đồng thẩm định đề tài")
	b.press(reminder, "rsvp:attend:HD2024", "sẽ tham dự")
	answers, err := st.EventRSVPs(ctx, "council-2024")
	if err != nil || answers[pending.ID].Status != domain.RSVPAttend {
		t.Fatalf("council answers %+v, %v; want %s attending", answers, err, pending.ID)
	}
	if main, err := st.CurrentRSVPs(ctx); err != nil || main[pending.ID].Status != "" {
		t.Fatalf("the conference got an answer too: %+v %v", main[pending.ID], err)
	}
	// An announcement to those who accepted is the council's too.
	s.expect(func() int { return api.SendCommand(s.id, "thongbao", "") }, "Gửi thông báo tới ai")
	s.pressLatest("bc:aud:accepted", "nội dung thông báo")
	pv := s.text("Hội đồng họp tại phòng họp tầng 3.", "sẽ gửi tới 1 người")
	if !strings.HasPrefix(pv.Text, "📅 Hội đồng thẩm định đề tài") {
		t.Fatalf("announcement preview %q; want it to name the council", pv.Text)
	}
	s.press(pv, buttonWithPrefix(t, pv, "bc:send:"), "Đang xếp lịch")
	waitFor(t, api, b.id, "Hội đồng họp tại phòng họp tầng 3.")
	audit, err := st.ScopeAudit(ctx, "event:council-2024")
	found := false
	for _, a := range audit {
		found = found || (a.Action == "remind.send" && a.PersonID == "DB090")
	}
	if err != nil || !found {
		t.Fatalf("the council's audit %+v, %v; want the reminder", audit, err)
	}
}
