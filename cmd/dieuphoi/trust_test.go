package main

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dieuphoi/dieuphoi/bot/telegram/telegramtest"
	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/internal/testenv"
	"github.com/dieuphoi/dieuphoi/storage"
	"github.com/dieuphoi/dieuphoi/storage/postgres"
	"github.com/dieuphoi/dieuphoi/web"
)

// trustWorld runs the real program on PostgreSQL and Redis with Telegram
// against the fake Bot API.
type trustWorld struct {
	api  *telegramtest.Server
	env  map[string]string
	st   *postgres.Store
	dir  *domain.Directory
	base string
}

func newTrustWorld(t *testing.T) *trustWorld {
	t.Helper()
	w := &trustWorld{api: telegramtest.New(t, botToken), env: baseEnv(t)}
	w.env["DATABASE_URL"] = testenv.PostgresURL(t)
	w.env["REDIS_URL"] = testenv.RedisURL(t)
	w.env["DIEUPHOI_REDIS_PREFIX"] = testenv.Prefix(t)
	w.env["TELEGRAM_BOT_TOKEN"] = botToken
	w.env["TELEGRAM_API_BASE"] = w.api.URL()
	w.base, _ = startRun(t, w.env)
	st, err := postgres.Open(context.Background(), w.env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	w.st = st
	if w.dir, err = st.Directory(context.Background()); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *trustWorld) person(t *testing.T, id string) domain.Person {
	t.Helper()
	p, ok := w.dir.Person(id)
	if !ok {
		t.Fatalf("no person %s", id)
	}
	return p
}

func (w *trustWorld) user(t *testing.T, id int64) *telegramUser {
	return &telegramUser{t: t, api: w.api, id: id}
}

// noSignInLink fails when any message in chat carries a console link.
func noSignInLink(t *testing.T, api *telegramtest.Server, chat int64) {
	t.Helper()
	for _, m := range api.Messages(chat) {
		if strings.Contains(m.Text, "/admin/signin/") {
			t.Fatalf("chat %d got a console sign-in link: %q", chat, m.Text)
		}
	}
}

func auditHas(t *testing.T, st *postgres.Store, action, person, channel string) {
	t.Helper()
	log, err := st.AuditLog(context.Background(), 200)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range log {
		if e.Action == action && e.PersonID == person && e.Channel == channel {
			return
		}
	}
	t.Errorf("no audit row %s by %s on %s in %+v", action, person, channel, log)
}

// Finding 1: in a group, nobody is identified, nobody's data is shown or
// changed and no link is sent; the group gets one note with a button to a
// private chat. A second member cannot act as the first.
func TestGroupChatNeverActsForAPerson(t *testing.T) {
	w := newTrustWorld(t)
	api, ctx := w.api, context.Background()
	staff := w.person(t, "DB090")

	// A, a staff member, verified in their private chat.
	a := w.user(t, 9101)
	a.joined(func() int { return api.ShareContact(a.id, staff.Phone, a.id) }, "📅 Hội nghị triển khai") // the greeting with the menu
	time.Sleep(300 * time.Millisecond)                                                                 // anything else the update sends
	before := len(api.Messages(a.id))

	const group = -1001234567890
	api.Queue(api.NewText(a.id, staff.InviteCode).InGroup(group, "Phòng CN&ĐMST"))
	note := waitFor(t, api, group, "tin nhắn riêng")
	if len(note.Inline) != 1 || note.Inline[0][0].URL != "https://t.me/"+telegramtest.BotUsername {
		t.Fatalf("group note buttons = %+v; want one button opening the private chat", note.Inline)
	}
	// B, another member, tries everything the issue found.
	const b = 9102
	last := 0
	for _, u := range []telegramtest.Update{
		api.NewCommand(b, "dangnhap", ""),
		api.NewCommand(b, "start", staff.InviteToken),
		api.NewButtonPress(b, note.MessageID, "rsvp:decline"),
		api.NewText(b, staff.InviteCode),
		api.NewCommand(b, "tonghop", ""),
		api.NewContact(b, staff.Phone, b),
	} {
		last = api.Queue(u.InGroup(group, "Phòng CN&ĐMST"))
	}
	api.WaitConfirmed(t, last+1, 30*time.Second)
	time.Sleep(300 * time.Millisecond)
	if ms := api.Messages(group); len(ms) != 1 {
		t.Fatalf("the group got %d messages, want the one note: %+v", len(ms), ms)
	}
	noSignInLink(t, api, group)
	if ms := api.Messages(a.id); len(ms) != before {
		t.Errorf("A's private chat got %d messages from the group's activity: %q", len(ms)-before, ms[len(ms)-1].Text)
	}
	// Identity is keyed by the user, never by the group.
	if _, err := w.st.Identity(ctx, domain.Telegram, strconv.Itoa(b)); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("B was identified in the group: %v", err)
	}
	id, err := w.st.Identity(ctx, domain.Telegram, strconv.Itoa(int(a.id)))
	if err != nil || id.ChatID != strconv.Itoa(int(a.id)) || id.Proof != domain.ProofPhone {
		t.Errorf("A's identity = %+v, %v; want their private chat, verified by phone", id, err)
	}
	if hist, _ := w.st.RSVPHistory(ctx, staff.ID); len(hist) != 0 {
		t.Errorf("A's answer was changed from the group: %+v", hist)
	}
	// B in a private chat is a stranger.
	w.user(t, b).expect(func() int { return api.SendCommand(b, "dangnhap", "") }, "Để bắt đầu")
	noSignInLink(t, api, b)
}

// Finding 2: a printed code gives delegate functions only, with a word on
// how to get the rest; the verified routes (own phone on Telegram, an
// enrolment link) give the console. Every new link is announced in the
// person's other chats with a button that undoes it; /dangxuat unlinks.
func TestPrintedCodeOpensNoConsole(t *testing.T) {
	w := newTrustWorld(t)
	api, ctx := w.api, context.Background()
	staff := w.person(t, "DB090")

	c := w.user(t, 9201)
	c.text(staff.InviteCode, "cần xác thực thêm")
	c.expect(func() int { return api.SendCommand(c.id, "dangnhap", "") }, "cần xác thực thêm")
	c.expect(func() int { return api.SendCommand(c.id, "nhacnho", "") }, "cần xác thực thêm")
	noSignInLink(t, api, c.id)
	// The RSVP, a delegate's function, works.
	c.expect(func() int { return api.SendCommand(c.id, "xacnhan", "") }, "Trạng thái của anh/chị")
	// Someone else's contact card with the staff member's number is no proof.
	c.expect(func() int { return api.ShareContact(c.id, staff.Phone, 5555) }, "của chính anh/chị")
	c.expect(func() int { return api.SendCommand(c.id, "dangnhap", "") }, "cần xác thực thêm")
	noSignInLink(t, api, c.id)

	// The verified route: their own number, as Telegram vouches for it.
	c.expect(func() int { return api.ShareContact(c.id, staff.Phone, c.id) }, "Đã xác thực")
	c.expect(func() int { return api.SendCommand(c.id, "dangnhap", "") }, "/admin/signin/")
	auditHas(t, w.st, "signin.issue", staff.ID, "telegram")
	auditHas(t, w.st, "identity.link", staff.ID, "telegram")

	// Someone types the printed code elsewhere: the verified chat is told,
	// and its button unlinks the intruder.
	d := w.user(t, 9202)
	d.text(staff.InviteCode, "cần xác thực thêm")
	notice := waitFor(t, api, c.id, "vừa được liên kết trên Telegram lúc")
	if !strings.Contains(notice.Text, "Hủy liên kết") || len(notice.Inline) != 1 {
		t.Fatalf("link notice = %q %+v", notice.Text, notice.Inline)
	}
	c.seen = len(api.Messages(c.id))
	c.press(notice, notice.Inline[0][0].Data, "Đã hủy liên kết trên Telegram")
	if _, err := w.st.Identity(ctx, domain.Telegram, "9202"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("the intruder's chat is still linked: %v", err)
	}
	auditHas(t, w.st, "identity.unlink", staff.ID, "telegram")
	d.expect(func() int { return api.SendCommand(d.id, "xacnhan", "") }, "Để bắt đầu")

	// The other verified route: an enrolment link staff issued, used once.
	other := w.person(t, "DB091")
	secret, _, err := web.IssueEnrolment(ctx, w.st, other.ID, staff.ID, "console", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	e := w.user(t, 9203)
	e.expect(func() int { return api.SendCommand(e.id, "start", secret) }, "Đã xác thực")
	e.expect(func() int { return api.SendCommand(e.id, "dangnhap", "") }, "/admin/signin/")
	f := w.user(t, 9204)
	f.expect(func() int { return api.SendCommand(f.id, "start", secret) }, "đã được dùng")
	noSignInLink(t, api, f.id)

	// /dangxuat unlinks this chat.
	c.expect(func() int { return api.SendCommand(c.id, "dangxuat", "") }, "Đã hủy liên kết chat này")
	if _, err := w.st.Identity(ctx, domain.Telegram, "9201"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("still linked after /dangxuat: %v", err)
	}
	c.expect(func() int { return api.SendCommand(c.id, "dangnhap", "") }, "Để bắt đầu")
}

// Finding 8: rights come from the database on every update, so a flushed
// Redis takes nothing from a verified staff member, and what they do keeps
// them as its author.
func TestStaffKeepRightsAfterSessionLoss(t *testing.T) {
	w := newTrustWorld(t)
	api, ctx := w.api, context.Background()
	staff := w.person(t, "DB090")
	s := w.user(t, 9301)
	s.expect(func() int { return api.ShareContact(s.id, staff.Phone, s.id) }, "Xin chào Nguyễn Công Hiếu")

	opt, err := redis.ParseURL(w.env["REDIS_URL"])
	if err != nil {
		t.Fatal(err)
	}
	rc := redis.NewClient(opt)
	defer rc.Close()
	keys, err := rc.Keys(ctx, w.env["DIEUPHOI_REDIS_PREFIX"]+"*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("no session keys to flush: %v", err)
	}
	if err := rc.Del(ctx, keys...).Err(); err != nil {
		t.Fatal(err)
	}

	s.expect(func() int { return api.SendCommand(s.id, "dangnhap", "") }, "/admin/signin/")
	prev := s.expect(func() int { return api.SendCommand(s.id, "nhacnho", "") }, "chưa trả lời giấy mời")
	var goData string
	for _, row := range prev.Inline {
		for _, b := range row {
			if strings.HasPrefix(b.Data, "rm:go") {
				goData = b.Data
			}
		}
	}
	s.press(prev, goData, "Đã xếp lịch nhắc")
	auditHas(t, w.st, "remind.send", staff.ID, "telegram")
}
