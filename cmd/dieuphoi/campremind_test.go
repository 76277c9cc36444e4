package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/bot/telegram/telegramtest"
	"github.com/dieuphoi/dieuphoi/configs"
	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/storage/postgres"
)

// A campaign made in the console beside the current one has its own
// deadline reminders from the running service: its focal point is reminded
// at its T-3, the message naming it, and its button switches the chat to
// it; a focal point of an agency the campaign does not ask pressing the
// same button is not switched to it.
func TestOtherCampaignReminderOpensIt(t *testing.T) {
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
	dir, err := st.Directory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mine, _ := dir.Person("DB097")  // SKHCN focal point
	other, _ := dir.Person("DB028") // STC focal point
	in := &telegramUser{t: t, api: api, id: 7401}
	out := &telegramUser{t: t, api: api, id: 7402}
	for _, u := range []struct {
		u *telegramUser
		p domain.Person
	}{{in, mine}, {out, other}} {
		u.u.do(func() int { return api.ShareContact(u.u.id, u.p.Phone, u.u.id) }, 1)
	}

	// Its T-3 (10/08 08:00) is an hour past when the campaign appears: the
	// ladder's grace (4h) still sends it at the scheduler's next tick.
	ex, err := configs.Load(configs.Example())
	if err != nil {
		t.Fatal(err)
	}
	hcm, _ := time.LoadLocation("Asia/Ho_Chi_Minh")
	deadline := time.Date(2024, 8, 13, 17, 0, 0, 0, hcm)
	var as []domain.Assignment
	for _, a := range ex.Assignments {
		if a.Agency == mine.AgencyCode {
			as = append(as, domain.Assignment{Indicator: a.Indicator, Agency: a.Agency, Focal: []string{mine.ID}, Deadline: deadline})
		}
	}
	if len(as) == 0 {
		t.Fatalf("the example assigns nothing to %s", mine.AgencyCode)
	}
	rec := domain.CampaignRecord{ID: "pii-bosung", NameVI: "Số liệu bổ sung 2024", NameEN: "Extra data 2024", Deadline: deadline,
		Opens: time.Date(2024, 8, 1, 0, 0, 0, 0, hcm), Status: domain.StatusOpen, Assignments: as}
	if err := st.CreateCampaign(ctx, rec, "DB090", time.Now()); err != nil {
		t.Fatal(err)
	}
	var rem telegramtest.SentMessage
	for end := time.Now().Add(60 * time.Second); time.Now().Before(end) && rem.Text == ""; time.Sleep(100 * time.Millisecond) {
		for _, m := range api.Messages(in.id) {
			if strings.Contains(m.Text, "🗂 Đợt số liệu: Số liệu bổ sung 2024") {
				rem = m
			}
		}
	}
	if rem.Text == "" || !strings.Contains(rem.Text, "Còn 3 ngày") || !strings.Contains(rem.Text, "13/08/2024") {
		t.Fatalf("no T-3 reminder of the other campaign; got %q", rem.Text)
	}
	in.seen = len(api.Messages(in.id))
	in.press(rem, "cp:pii-bosung", "Đang làm việc với đợt: Số liệu bổ sung 2024")
	for _, m := range api.Messages(out.id) {
		if strings.Contains(m.Text, "Số liệu bổ sung 2024") {
			t.Fatalf("a focal point of another agency was told of the campaign: %q", m.Text)
		}
	}
	// The same button pressed by a focal point the campaign does not ask.
	got := out.expect(func() int { return api.PressButton(out.id, rem.MessageID, "cp:pii-bosung") }, "không còn mở")
	if strings.Contains(got.Text, "Đang làm việc") {
		t.Fatalf("switched a focal point of another agency: %q", got.Text)
	}
	l := out.expect(func() int { return api.SendCommand(out.id, "chiso", "") }, "Các chỉ số PII")
	if strings.Contains(l.Text, "Số liệu bổ sung") {
		t.Fatalf("another agency's list is the other campaign's: %q", l.Text)
	}
}
