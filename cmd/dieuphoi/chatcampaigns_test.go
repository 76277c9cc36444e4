package main

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/bot/telegram/telegramtest"
	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/internal/testenv"
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
	env := baseEnv(t)
	env["DATABASE_URL"] = testenv.PostgresURL(t)
	env["REDIS_URL"] = testenv.RedisURL(t)
	env["DIEUPHOI_REDIS_PREFIX"] = testenv.Prefix(t)
	env["TELEGRAM_BOT_TOKEN"] = botToken
	env["TELEGRAM_API_BASE"] = api.URL()
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
	focal.do(func() int { return api.ShareContact(focal.id, focalP.Phone, focal.id) }, 2)
	if pick := api.Messages(focal.id)[1]; !strings.Contains(pick.Text, "Có 2 đợt") || !strings.Contains(pick.Text, "Chỉ số PII 2025") {
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
	staff.do(func() int { return api.ShareContact(staff.id, staffP.Phone, staff.id) }, 2)
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
