package main

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/bot/telegram/telegramtest"
	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/storage/postgres"
)

// waitFor waits until the bot sent chat a message containing want.
func waitFor(t *testing.T, api *telegramtest.Server, chat int64, want string) telegramtest.SentMessage {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		for _, m := range api.Messages(chat) {
			if strings.Contains(m.Text, want) {
				return m
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("chat %d never got %q", chat, want)
	return telegramtest.SentMessage{}
}

// Staff work from chat: headcount, missing data, a reminder to those who
// have not answered and an announcement, each previewed and confirmed, then
// delivered by the scheduler; a sign-in link for the console; and a
// delegate who accepts gets the calendar file.
func TestStaffCommandsInChat(t *testing.T) {
	api := telegramtest.New(t, botToken)
	env := serverEnv(t, api.URL())
	// A public address, as in production: Telegram takes it on a URL button.
	env["DIEUPHOI_PUBLIC_URL"] = "https://hoinghi.example.vn"
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
		if p.Has(domain.RoleDelegate) && !p.Has(domain.RoleStaff) {
			delegates = append(delegates, p)
		}
	}
	staffP, _ := dir.Person("DB090")

	// Delegate A accepts and gets the calendar file.
	a := &telegramUser{t: t, api: api, id: 8101}
	a.joined(func() int { return api.SendCommand(a.id, "start", delegates[0].InviteToken) }, "Hội nghị")
	a.pressLatest("rsvp:attend", "sẽ tham dự")
	var ics telegramtest.SentDocument
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end) && ics.Data == nil; time.Sleep(50 * time.Millisecond) {
		if docs := api.Documents(a.id); len(docs) > 0 {
			ics = docs[0]
		}
	}
	if !strings.HasSuffix(ics.Name, ".ics") || !strings.Contains(string(ics.Data), "BEGIN:VEVENT") ||
		!strings.Contains(string(ics.Data), "DTSTART;TZID=Asia/Ho_Chi_Minh:20240802T080000") {
		t.Fatalf("calendar file = %q %q", ics.Name, ics.Data)
	}
	// Delegate B identifies but does not answer.
	b := &telegramUser{t: t, api: api, id: 8102}
	b.joined(func() int { return api.SendCommand(b.id, "start", delegates[1].InviteToken) }, "Hội nghị")

	s := &telegramUser{t: t, api: api, id: 8100}
	s.joined(func() int { return api.ShareContact(s.id, staffP.Phone, s.id) }, "📅 Hội nghị triển khai")
	invited := 0
	for _, p := range dir.People() {
		if p.Has(domain.RoleDelegate) {
			invited++
		}
	}
	hc := s.expect(func() int { return api.SendCommand(s.id, "tonghop", "") }, "Tổng hợp đại biểu")
	if want := "Mời: " + itoa(invited) + " · Dự: 1 · "; !strings.Contains(hc.Text, want) {
		t.Fatalf("headcount %q lacks %q", hc.Text, want)
	}
	// What needs action comes first: the agencies still to chase.
	if !strings.Contains(hc.Text, "Cần nhắc") {
		t.Fatalf("headcount %q does not lead with the agencies to chase", hc.Text)
	}
	miss := s.expect(func() int { return api.SendCommand(s.id, "chuanop", "") }, "Chỉ số chưa nộp")
	if !strings.Contains(miss.Text, "⏰ Hạn 30/08/2024") || strings.Contains(miss.Text, "— SKHCN") {
		t.Fatalf("missing indicators %q: want them by deadline, with names", miss.Text)
	}

	// A reminder to those who have not answered: preview, confirm, delivered.
	prev := s.expect(func() int { return api.SendCommand(s.id, "nhacnho", "") }, "chưa trả lời giấy mời")
	// Those pending who can be reached in chat: B, and the staff member,
	// who is a delegate too.
	if !strings.HasPrefix(prev.Text, "2 đại biểu") {
		t.Fatalf("reminder preview = %q; want 2 reachable pending delegates", prev.Text)
	}
	// …and how many cannot be reached, because they have not connected.
	if want := itoa(invited-3) + " người trong nhóm này chưa kết nối với bot"; !strings.Contains(prev.Text, want) {
		t.Fatalf("reminder preview = %q; want %q", prev.Text, want)
	}
	confirm := buttonWithPrefix(t, prev, "rm:go:")
	s.press(prev, confirm, "Đã xếp lịch nhắc")
	chaser := waitFor(t, api, b.id, "Hội nghị")
	if len(api.Messages(a.id)) == 0 || strings.Contains(lastText(api, a.id), chaser.Text) {
		t.Fatal("the delegate who answered was reminded too")
	}
	// The confirmation pressed again (a double tap, or the old button
	// later): nothing more is sent.
	s.press(prev, confirm, "đã được xác nhận lúc")
	time.Sleep(500 * time.Millisecond)
	chasers := 0
	for _, m := range api.Messages(b.id) {
		if m.Text == chaser.Text {
			chasers++
		}
	}
	if chasers != 1 {
		t.Fatalf("B was reminded %d times by one confirmation, want 1", chasers)
	}
	// The reminder's buttons name the event (as other events' reminders
	// do), and one tap answers it.
	reminder := waitFor(t, api, b.id, "Anh/chị chưa xác nhận tham dự")
	if d := buttonWithPrefix(t, reminder, "rsvp:decline"); d != "rsvp:decline:PII2024" {
		t.Fatalf("reminder button %q; want the event's code", d)
	}
	b.press(reminder, "rsvp:decline:PII2024", "không tham dự")

	// An announcement to those who accepted.
	s.expect(func() int { return api.SendCommand(s.id, "thongbao", "") }, "Gửi thông báo tới ai")
	s.pressLatest("bc:aud:accepted", "nội dung thông báo")
	pv := s.text("Xin mời đại biểu đến trước 07:45 để nhận tài liệu.", "sẽ gửi tới 1 người")
	s.press(pv, buttonWithPrefix(t, pv, "bc:send:"), "Đang xếp lịch")
	waitFor(t, api, a.id, "Xin mời đại biểu đến trước 07:45")
	time.Sleep(300 * time.Millisecond)
	for _, m := range api.Messages(b.id) {
		if strings.Contains(m.Text, "07:45 để nhận tài liệu") {
			t.Fatal("the announcement reached someone who has not accepted")
		}
	}

	// A sign-in link to the staff console, which opens.
	// It comes as a URL button, not an address to copy.
	link := s.expect(func() int { return api.SendCommand(s.id, "dangnhap", "") }, "Đường dẫn đăng nhập")
	if strings.Contains(link.Text, "/admin/signin/") || len(link.Inline) != 1 || len(link.Inline[0]) != 1 {
		t.Fatalf("sign-in message %q %+v", link.Text, link.Inline)
	}
	u := link.Inline[0][0].URL
	if !regexp.MustCompile(`^https://hoinghi\.example\.vn/admin/signin/\S+$`).MatchString(u) {
		t.Fatalf("sign-in button URL %q", u)
	}
	u = base + u[strings.Index(u, "/admin/"):]
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "Đăng nhập") {
		t.Fatalf("sign-in page = %d %s", resp.StatusCode, body)
	}
	// A delegate asking for a staff command is refused politely.
	a.expect(func() int { return api.SendCommand(a.id, "tonghop", "") }, "chỉ dành cho cán bộ")
}

// buttonWithPrefix returns the data of m's button that starts with prefix.
func buttonWithPrefix(t *testing.T, m telegramtest.SentMessage, prefix string) string {
	t.Helper()
	for _, row := range m.Inline {
		for _, b := range row {
			if strings.HasPrefix(b.Data, prefix) {
				return b.Data
			}
		}
	}
	t.Fatalf("message %q has no button %q…", m.Text, prefix)
	return ""
}

func lastText(api *telegramtest.Server, chat int64) string {
	ms := api.Messages(chat)
	if len(ms) == 0 {
		return ""
	}
	return ms[len(ms)-1].Text
}

func itoa(n int) string { return strconv.Itoa(n) }
