package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/bot/zalo"
	"github.com/dieuphoi/dieuphoi/bot/zalo/zalotest"
	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/internal/testenv"
	"github.com/dieuphoi/dieuphoi/storage/postgres"
	"github.com/dieuphoi/dieuphoi/web"
)

// zaloUser plays one person on the fake Zalo platform. Events are handled
// before the webhook answers, so replies are there when Post returns.
type zaloUser struct {
	t    *testing.T
	api  *zalotest.Server
	id   string
	seen int
}

func (u *zaloUser) expect(send func(), want string) zalotest.Message {
	u.t.Helper()
	send()
	// The webhook is answered once the event is in the inbox; the replies
	// follow, one or several: wait for the one expected.
	deadline := time.Now().Add(10 * time.Second)
	msgs := u.api.WaitMessages(u.t, u.id, u.seen+1, 10*time.Second)
	for from := u.seen; ; {
		for i := from; i < len(msgs); i++ {
			if strings.Contains(msgs[i].Text, want) {
				u.seen = len(msgs)
				return msgs[i]
			}
		}
		if time.Now().After(deadline) {
			break
		}
		from = len(msgs)
		time.Sleep(20 * time.Millisecond)
		msgs = u.api.Messages(u.id)
	}
	u.t.Fatalf("zalo user %s was never told %q; got %q", u.id, want, msgs[len(msgs)-1].Text)
	return zalotest.Message{}
}

func (u *zaloUser) text(s, want string) {
	u.t.Helper()
	u.expect(func() { u.api.SendText(u.id, s) }, want)
}

// press taps a button the bot sent (its payload arrives as the user's text).
func (u *zaloUser) press(data, want string) {
	u.t.Helper()
	found := false
	for _, m := range u.api.Messages(u.id) {
		for _, b := range m.Buttons {
			found = found || b.Payload == zalo.ButtonPrefix+data
		}
	}
	if !found {
		u.t.Fatalf("no Zalo message to %s has a button %q", u.id, data)
	}
	u.expect(func() { u.api.PressButton(u.id, zalo.ButtonPrefix+data) }, want)
}

// Every flow on Zalo: a delegate answers with a substitute, a focal point
// submits an indicator with a file; the database holds the same rows as for
// Telegram.
func TestZaloRSVPAndIndicator(t *testing.T) {
	api := zalotest.New(t, "app-1", "oa-secret-key", "app-secret")
	access, refresh := api.IssueTokens(time.Hour)
	env := baseEnv(t)
	env["DATABASE_URL"] = testenv.PostgresURL(t)
	env["REDIS_URL"] = testenv.RedisURL(t)
	env["DIEUPHOI_REDIS_PREFIX"] = testenv.Prefix(t)
	env["DIEUPHOI_CLOCK_START"] = "2024-07-25T09:00:00+07:00"
	for k, v := range map[string]string{
		"ZALO_APP_ID": "app-1", "ZALO_OA_SECRET": "oa-secret-key", "ZALO_APP_SECRET": "app-secret",
		"ZALO_OA_ID": api.OAID(), "ZALO_ACCESS_TOKEN": access, "ZALO_REFRESH_TOKEN": refresh,
		"ZALO_API_BASE": api.URL(), "ZALO_OAUTH_BASE": api.URL(),
	} {
		env[k] = v
	}
	base, stop := startRun(t, env)
	defer stop()
	api.SetWebhook(base + "/zalo/webhook")

	ctx := context.Background()
	st, err := postgres.Open(ctx, env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	dir, _ := st.Directory(ctx)
	delegate := firstDelegate(t, st)
	focalP, _ := dir.Person("DB097")

	d := &zaloUser{t: t, api: api, id: "zl-delegate"}
	// The greeting and the card are one message (bot/join.go), under the
	// card's buttons.
	if m := d.expect(func() { api.SendText(d.id, "/start "+delegate.InviteToken) }, "Hội nghị triển khai"); !strings.HasPrefix(m.Text, "Xin chào") ||
		!strings.Contains(m.Text, "nhận diện.\n\n📅 Hội nghị triển khai") || len(m.Buttons) == 0 {
		t.Fatalf("the invite link was answered %q with buttons %v; want the greeting and the card as one message", m.Text, m.Buttons)
	}
	d.press("rsvp:sub", "họ và tên")
	d.text("Phạm Thu Hà", "Chức vụ")
	d.text("Phó Trưởng phòng Kế hoạch", "Số điện thoại")
	d.text("0911222333", "Xin kiểm tra thông tin")
	d.press("sub:ok", "Đã ghi nhận người đi thay")
	wantSubstitute(t, st, delegate.ID, domain.Zalo) // the same row as over Telegram, but for the channel

	// Zalo's phone form is not proof enough to act for a body: a focal
	// point on Zalo opens the enrolment link staff gave them.
	f := &zaloUser{t: t, api: api, id: "zl-focal"}
	f.expect(func() { api.SendText(f.id, "/start "+focalP.InviteToken) }, "cần xác thực thêm")
	secret, _, err := web.IssueEnrolment(ctx, st, focalP.ID, "DB090", "console", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	f.expect(func() { api.SendText(f.id, "/start "+secret) }, "2.2.1")
	f.press("ind:2.2.1", "Xin nhập giá trị")
	f.text("12,5", "12,5")
	f.press("iv:ok", "minh chứng")
	f.expect(func() { api.SendFile(f.id, "Bao cao 2023.pdf", "application/pdf", pdf) }, "Đã nhận 1 minh chứng")
	f.press("ev:done", "Số/ký hiệu")
	f.text("15/BC-SKHCN", "Ngày ban hành")
	f.text("20/07/2024", "Ghi chú")
	f.press("nt:skip", "Xin kiểm tra trước khi gửi")
	f.press("sm:send", "Đã gửi chỉ số 2.2.1")

	s, err := st.Submission(ctx, "2.2.1", "SKHCN")
	if err != nil {
		t.Fatal(err)
	}
	if s.Value != "12.5" || s.Status != domain.StatusSubmitted || len(s.Evidence) != 1 || s.Evidence[0].SHA256 == "" ||
		s.Evidence[0].Name != "Bao cao 2023.pdf" || s.DocNumber != "15/BC-SKHCN" || s.By != "DB097" {
		t.Fatalf("submission from Zalo = %+v", s)
	}
	ids, _ := st.Identities(ctx, "DB097")
	if len(ids) != 1 || ids[0].Channel != domain.Zalo || ids[0].UserID != "zl-focal" {
		t.Fatalf("identities = %+v", ids)
	}
}

// Finding 11: Zalo's phone form is a claim. One the bot never asked for is
// refused; an asked-for one identifies a delegate but opens no console.
func TestZaloPhoneFormIsNoProof(t *testing.T) {
	api := zalotest.New(t, "app-1", "oa-secret-key", "app-secret")
	access, refresh := api.IssueTokens(time.Hour)
	env := baseEnv(t)
	env["DATABASE_URL"] = testenv.PostgresURL(t)
	env["REDIS_URL"] = testenv.RedisURL(t)
	env["DIEUPHOI_REDIS_PREFIX"] = testenv.Prefix(t)
	for k, v := range map[string]string{
		"ZALO_APP_ID": "app-1", "ZALO_OA_SECRET": "oa-secret-key", "ZALO_APP_SECRET": "app-secret",
		"ZALO_OA_ID": api.OAID(), "ZALO_ACCESS_TOKEN": access, "ZALO_REFRESH_TOKEN": refresh,
		"ZALO_API_BASE": api.URL(), "ZALO_OAUTH_BASE": api.URL(),
	} {
		env[k] = v
	}
	base, stop := startRun(t, env)
	defer stop()
	api.SetWebhook(base + "/zalo/webhook")
	ctx := context.Background()
	st, err := postgres.Open(ctx, env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	dir, _ := st.Directory(ctx)
	staff, _ := dir.Person("DB090")

	u := &zaloUser{t: t, api: api, id: "zl-attacker"}
	u.expect(func() { api.SubmitInfo(u.id, staff.Phone) }, "Xin gõ mã mời")
	if _, err := st.Identity(ctx, domain.Zalo, u.id); err == nil {
		t.Fatal("an unrequested phone form identified the chat")
	}
	u.text("xin chào", "Để bắt đầu") // the greeting asks for the phone
	u.expect(func() { api.SubmitInfo(u.id, staff.Phone) }, "cần xác thực thêm")
	if id, err := st.Identity(ctx, domain.Zalo, u.id); err != nil || id.Proof != domain.ProofPhoneClaimed {
		t.Fatalf("identity after the asked-for form: %+v %v", id, err)
	}
	u.text("/dangnhap", "cần xác thực thêm")
	for _, m := range api.Messages(u.id) {
		if strings.Contains(m.Text, "/admin/signin/") {
			t.Fatalf("a Zalo phone form opened the console: %q", m.Text)
		}
	}
}
