package scheduler_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/bot"
	"github.com/dieuphoi/dieuphoi/bot/zalo"
	"github.com/dieuphoi/dieuphoi/bot/zalo/zalotest"
	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
	"github.com/dieuphoi/dieuphoi/internal/testenv"
	"github.com/dieuphoi/dieuphoi/scheduler"
	"github.com/dieuphoi/dieuphoi/storage/sqlstore"
)

const testSchedule = `
timezone: Asia/Ho_Chi_Minh
jobs:
  agenda_day_before: {at: ["-1d 15:00"], grace: 2h}
  agenda_morning: {at: ["0d 06:30"], grace: 1h}
  speaker: {at: ["-15m"]}
  agenda_change: {}
  rsvp_chaser: {at: ["-3d 09:00", "-2d 09:00", "-1d 09:00"], grace: 2h}
  staff_summary: {cron: "0 8 * * *", grace: 2h}
speakers:
  2: [A1]
`

// conferencePeople: A1 (vi) and A2 (en) accept; P1 has not answered; D1
// declines; S1 sends a substitute nobody knows; S2 sends X1, who is in the
// list and has a chat; N1 accepts but never linked a chat; ST is staff.
func conferencePeople() []domain.Person {
	return []domain.Person{
		person("A1", "Nguyễn Văn An", "STC", "0912000001", domain.RoleDelegate),
		person("A2", "Trần Thị Bình", "SYT", "0912000002", domain.RoleDelegate),
		person("P1", "Lê Minh Châu", "STC", "0912000003", domain.RoleDelegate),
		person("D1", "Phạm Quốc Dũng", "SYT", "0912000004", domain.RoleDelegate),
		person("S1", "Hoàng Thu Hà", "SYT", "0912000005", domain.RoleDelegate),
		person("S2", "Vũ Đức Khang", "STC", "0912000006", domain.RoleDelegate),
		person("X1", "Đỗ Thị Lan", "STC", "0912000007", domain.RoleFocal),
		person("N1", "Bùi Văn Nam", "SYT", "0912000008", domain.RoleDelegate),
		person("ST", "Đinh Hải Giang", "SKHCN", "0912000009", domain.RoleStaff),
	}
}

func seedConference(e *env) {
	for _, id := range []string{"A1", "A2", "P1", "D1", "S1", "S2", "X1", "ST"} {
		e.link(id)
	}
	e.apply(domain.SetLanguage{PersonID: "A2", Lang: domain.English})
	e.rsvp("A1", domain.RSVPAttend, nil)
	e.rsvp("A2", domain.RSVPAttend, nil)
	e.rsvp("D1", domain.RSVPDecline, nil)
	e.rsvp("S1", domain.RSVPSubstitute, &domain.Substitute{Name: "Ngô Văn Tâm", Position: "Chuyên viên", Phone: "0987111222"})
	e.rsvp("S2", domain.RSVPSubstitute, &domain.Substitute{Name: "Đỗ Thị Lan", Position: "Chuyên viên", Phone: "0912000007"})
	e.rsvp("N1", domain.RSVPAttend, nil)
}

func TestConferenceReminders(t *testing.T) {
	eachStore(t, func(t *testing.T, st testStore) {
		e := newEnv(t, st, conferencePeople(), testSchedule)
		seedConference(e)
		s := e.scheduler(st, "w1", nil)
		count := func(id string) int { return len(e.texts(id)) }

		// First evaluation: nothing due; the agenda is recorded as announced.
		e.runDue(s, at("2024-07-29 07:00"))
		for id := range e.chats {
			if n := count(id); n != 0 {
				t.Fatalf("%s got %d messages before anything was due: %q", id, n, e.texts(id))
			}
		}

		// D-3 09:00: the chaser goes to P1 only (the one without an answer);
		// the staff summary of 08:00 is within its grace.
		e.runDue(s, at("2024-07-30 09:00"))
		if got := e.texts("P1"); len(got) != 1 {
			t.Fatalf("P1 got %q, want one chaser", got)
		}
		contains(t, "chaser", e.texts("P1")[0], "chưa xác nhận tham dự Hội nghị PII thử nghiệm", "17:00 thứ Tư, 31/07/2024")
		m := e.srv.Messages(e.chats["P1"])[0]
		if len(m.Inline) != 2 || m.Inline[0][0].Data != "rsvp:attend" || m.Inline[0][1].Data != "rsvp:decline" || m.Inline[1][0].Data != "rsvp:sub" {
			t.Errorf("chaser buttons = %+v", m.Inline)
		}
		for _, id := range []string{"A1", "A2", "D1", "S1", "S2", "X1"} {
			if n := count(id); n != 0 {
				t.Errorf("%s got a chaser: %q", id, e.texts(id))
			}
		}
		if got := e.texts("ST"); len(got) != 1 {
			t.Fatalf("staff got %q, want one summary", got)
		} else {
			contains(t, "summary", got[0], "Tham dự: 3", "Cử người thay: 2", "Không tham dự: 1", "Chưa trả lời: 1 (tổng 7)",
				"• Sở Tài chính (1): Lê Minh Châu")
		}

		// Evaluated again at the same moment: nothing new.
		e.runDue(s, at("2024-07-30 09:00"))
		if count("P1") != 1 || count("ST") != 1 {
			t.Fatalf("re-evaluation sent again: P1 %q, ST %q", e.texts("P1"), e.texts("ST"))
		}

		// P1 answers; the D-2 chaser finds nobody; D-1 09:00 is after the
		// cut-off and is not even considered.
		e.rsvp("P1", domain.RSVPAttend, nil)
		e.runDue(s, at("2024-07-31 09:00"))
		if count("P1") != 1 {
			t.Errorf("P1 chased after answering: %q", e.texts("P1"))
		}

		// D-1 15:00: the day-before reminder to those who accepted, in their
		// language, and to the substitute who has a chat.
		before := map[string]int{}
		for id := range e.chats {
			before[id] = count(id)
		}
		e.runDue(s, at("2024-08-01 15:00"))
		newText := func(id string) string {
			got := e.texts(id)
			if len(got) != before[id]+1 {
				t.Fatalf("%s: got %d new messages, want 1: %q", id, len(got)-before[id], got[before[id]:])
			}
			before[id] = len(got)
			return got[len(got)-1]
		}
		contains(t, "A1 day before", newText("A1"), "ngày mai, thứ Sáu, 02/08/2024", "Đón tiếp đại biểu từ 07:30, khai mạc lúc 08:00", "Trung tâm Hội nghị tỉnh")
		contains(t, "A2 day before", newText("A2"), "Reminder: tomorrow, Friday 2 August 2024", "Provincial Conference Centre")
		contains(t, "P1 day before", newText("P1"), "ngày mai")
		contains(t, "X1 substitute", newText("X1"), "thay cho Vũ Đức Khang")
		for _, id := range []string{"D1", "S1", "S2"} {
			if count(id) != before[id] {
				t.Errorf("%s got the day-before reminder: %q", id, e.texts(id))
			}
		}
		skipped := map[string]string{}
		for _, it := range e.items(scheduler.JobAgendaDayBefore) {
			if it.Status == sqlstore.OutboxSkipped {
				skipped[it.Key] = it.LastError
			}
		}
		if r := skipped["agenda_day_before|2024-08-01T15:00|sub:S1"]; !strings.Contains(r, "người đi thay chưa kết nối") {
			t.Errorf("S1's substitute: skipped reason %q, all skipped %v", r, skipped)
		}
		if r := skipped["agenda_day_before|2024-08-01T15:00|N1"]; !strings.Contains(r, "chưa kết nối với bot") {
			t.Errorf("N1: skipped reason %q, all skipped %v", r, skipped)
		}

		// D 06:30: the morning message with the agenda.
		e.runDue(s, at("2024-08-02 06:30"))
		contains(t, "A1 morning", newText("A1"), "Hôm nay, thứ Sáu, 02/08/2024", "1. 07:30–08:00  Đón tiếp đại biểu", "3. 08:30–10:00  Thảo luận về Bộ chỉ số PII")
		contains(t, "A2 morning", newText("A2"), "Good morning", "2. 08:00–08:30  Opening")
		newText("P1")
		newText("X1")

		// 07:45: the speaker of item 2 (08:00) is reminded.
		e.runDue(s, at("2024-08-02 07:45"))
		contains(t, "speaker", newText("A1"), "Còn 15 phút", "2. Khai mạc, giới thiệu đại biểu (08:00–08:30)")
		for _, id := range []string{"A2", "P1", "X1", "D1"} {
			if count(id) != before[id] {
				t.Errorf("%s got a speaker reminder: %q", id, e.texts(id)[before[id]:])
			}
		}
	})
}

func TestAgendaChangeAnnouncedOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, st testStore) {
		e := newEnv(t, st, conferencePeople(), testSchedule)
		seedConference(e)
		s := e.scheduler(st, "w1", nil)
		e.runDue(s, at("2024-07-31 20:00"))

		e.ev.Agenda[1].Start = at("2024-08-02 08:10")
		e.ev.Agenda[1].End = at("2024-08-02 08:40")
		e.ev.Agenda[2].Start = at("2024-08-02 08:40")
		e.runDue(s, at("2024-07-31 20:05"))
		got := e.texts("A1")
		if len(got) != 1 {
			t.Fatalf("A1 got %q, want one change notice", got)
		}
		contains(t, "change", got[0], "có thay đổi", "• Mục 2 “Khai mạc, giới thiệu đại biểu”: 08:00–08:30 → 08:10–08:40",
			"• Mục 3 “Thảo luận về Bộ chỉ số PII”: 08:30–10:00 → 08:40–10:00")
		contains(t, "change en", e.texts("A2")[0], "has changed", "• Item 2 “Opening”: 08:00–08:30 → 08:10–08:40")
		if n := len(e.texts("D1")) + len(e.texts("P1")); n != 0 {
			t.Errorf("people not attending were told: D1 %q P1 %q", e.texts("D1"), e.texts("P1"))
		}
		e.runDue(s, at("2024-07-31 20:10"))
		if got := e.texts("A1"); len(got) != 1 {
			t.Fatalf("announced twice: %q", got)
		}
	})
}

func TestGrace(t *testing.T) {
	eachStore(t, func(t *testing.T, st testStore) {
		e := newEnv(t, st, conferencePeople(), testSchedule)
		seedConference(e)
		s := e.scheduler(st, "w1", nil)
		e.runDue(s, at("2024-07-31 20:00"))

		// Down from 20:00 to 16:30 the next day: the 15:00 reminder is 1h30
		// late, within its 2h grace: sent.
		e.runDue(s, at("2024-08-01 16:30"))
		if got := e.texts("A1"); len(got) != 1 || !strings.Contains(got[0], "ngày mai") {
			t.Fatalf("A1 got %q, want the day-before reminder", got)
		}
		// Down again until 07:45: the 06:30 morning message (grace 1h) is
		// recorded skipped with the reason; the 07:45 speaker reminder goes.
		e.runDue(s, at("2024-08-02 07:45"))
		got := e.texts("A1")
		if len(got) != 2 || !strings.Contains(got[1], "Còn 15 phút") {
			t.Fatalf("A1 got %q, want the speaker reminder only", got)
		}
		for _, it := range e.items(scheduler.JobAgendaMorning) {
			if it.Status != sqlstore.OutboxSkipped || !strings.Contains(it.LastError, "quá hạn") || !strings.Contains(it.LastError, "cho phép 1 giờ") {
				t.Errorf("morning row %s: %s %q, want skipped as too late", it.Key, it.Status, it.LastError)
			}
		}
		if n := len(e.items(scheduler.JobAgendaMorning)); n != 5 {
			t.Errorf("morning rows = %d, want one per attendee (A1, A2, N1, sub:S1, sub:S2)", n)
		}
	})
}

func TestExpiredWhileSenderDown(t *testing.T) {
	st := openSQLite(t)
	e := newEnv(t, st, conferencePeople(), testSchedule)
	seedConference(e)
	s := e.scheduler(st, "w1", nil)
	e.runDue(s, at("2024-08-01 14:00"))
	e.clk.Set(at("2024-08-01 15:00"))
	if n, err := s.RunDue(e.ctx, e.clk.Now()); err != nil || n != 3 {
		t.Fatalf("RunDue = %d, %v; want 3 reminders", n, err)
	}
	// The sender comes back after the grace: nothing goes out.
	e.clk.Set(at("2024-08-01 17:01"))
	if n, err := s.Drain(e.ctx); err != nil || n != 0 {
		t.Fatalf("Drain = %d, %v; want nothing sent", n, err)
	}
	for _, it := range e.items(scheduler.JobAgendaDayBefore) {
		if it.ChatID != "" && (it.Status != sqlstore.OutboxSkipped || !strings.Contains(it.LastError, "hết hạn lúc 17:00")) {
			t.Errorf("%s: %s %q, want skipped as expired", it.Key, it.Status, it.LastError)
		}
	}
}

func TestTwoSchedulersNoDuplicates(t *testing.T) {
	url := testenv.PostgresURL(t)
	st1, st2 := openPG(t, url), openPG(t, url)
	var people []domain.Person
	for i := range 30 {
		people = append(people, person(fmt.Sprintf("P%02d", i), fmt.Sprintf("Người %d", i), "STC", fmt.Sprintf("09120100%02d", i), domain.RoleDelegate))
	}
	people = append(people, person("ST", "Đinh Hải Giang", "SKHCN", "0912000009", domain.RoleStaff))
	e := newEnv(t, st1, people, testSchedule)
	for _, p := range people {
		e.link(p.ID)
		if p.ID != "ST" && p.ID < "P20" {
			e.rsvp(p.ID, domain.RSVPAttend, nil)
		}
	}
	a, b := e.scheduler(st1, "a", nil), e.scheduler(st2, "b", nil)

	// The lease: one leader; the other takes over only when it runs out,
	// with a higher fence.
	now := at("2024-07-30 08:59")
	fa, okA, err := st1.AcquireLease(e.ctx, scheduler.LeaseName, "a", now, time.Minute)
	if err != nil || !okA || fa != 1 {
		t.Fatalf("a: fence %d ok %v err %v", fa, okA, err)
	}
	if _, okB, err := st2.AcquireLease(e.ctx, scheduler.LeaseName, "b", now.Add(30*time.Second), time.Minute); err != nil || okB {
		t.Fatalf("b took a live lease: ok %v err %v", okB, err)
	}
	if f, ok, _ := st1.AcquireLease(e.ctx, scheduler.LeaseName, "a", now.Add(40*time.Second), time.Minute); !ok || f != 1 {
		t.Fatalf("a could not renew: fence %d ok %v", f, ok)
	}
	if f, ok, _ := st2.AcquireLease(e.ctx, scheduler.LeaseName, "b", now.Add(2*time.Minute), time.Minute); !ok || f != 2 {
		t.Fatalf("b after expiry: fence %d ok %v, want 2", f, ok)
	}

	// Both evaluate and drain the same moments at the same time, as two
	// leaders for a moment would.
	e.clk.Set(at("2024-07-29 09:00"))
	for _, s := range []*scheduler.Scheduler{a, b} {
		if _, err := s.RunDue(e.ctx, e.clk.Now()); err != nil {
			t.Fatal(err)
		}
	}
	for _, when := range []time.Time{at("2024-07-30 09:00"), at("2024-08-01 15:00")} {
		e.clk.Set(when)
		var wg sync.WaitGroup
		for _, s := range []*scheduler.Scheduler{a, b, a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := s.RunDue(e.ctx, when); err != nil {
					t.Error(err)
				}
				if _, err := s.Drain(e.ctx); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
	}
	for _, p := range people {
		got := e.texts(p.ID)
		want := 1 // the chaser (P20..P29), the day-before reminder (P00..P19), the staff summary (ST)
		if len(got) != want {
			t.Errorf("%s got %d messages, want %d: %q", p.ID, len(got), want, got)
		}
	}
	if n := e.srv.Calls("sendMessage"); n != 31 {
		t.Errorf("sendMessage calls = %d, want 31", n)
	}
}

// cancelAfter is a sender that stops its scheduler (cancels the context)
// right after n messages went out. It counts the sends under way when it
// stopped, or started after: the messages that were in flight when the
// process "died", the only ones that may go twice.
type cancelAfter struct {
	next interface {
		Send(ctx context.Context, chatID string, replies []flows.Reply) error
	}
	mu       sync.Mutex
	n        int
	cancel   context.CancelFunc
	active   int  // sends under way
	stopped  bool // cancel called
	inFlight int  // sends under way at the stop or started after it
}

func (c *cancelAfter) Send(ctx context.Context, chatID string, replies []flows.Reply) error {
	c.mu.Lock()
	c.active++
	if c.stopped {
		c.inFlight++
	}
	c.mu.Unlock()
	err := c.next.Send(ctx, chatID, replies)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.active--
	if err == nil && !c.stopped {
		c.n--
		if c.n == 0 {
			c.stopped, c.inFlight = true, c.active
			c.cancel()
		}
	}
	return err
}

func (c *cancelAfter) inFlightAtStop() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.inFlight
}

func TestKilledSenderMidBroadcast(t *testing.T) {
	url := testenv.PostgresURL(t)
	st1, st2 := openPG(t, url), openPG(t, url)
	var people []domain.Person
	for i := range 40 {
		people = append(people, person(fmt.Sprintf("P%02d", i), fmt.Sprintf("Người %d", i), "STC", fmt.Sprintf("09120100%02d", i), domain.RoleDelegate))
	}
	e := newEnv(t, st1, people, testSchedule+"send: {per_second: 30, per_chat_per_second: 1}\n")
	for _, p := range people {
		e.link(p.ID)
	}
	e.clk.Set(at("2024-07-25 10:00"))

	ctxA, cancelA := context.WithCancel(e.ctx)
	defer cancelA()
	killer := &cancelAfter{next: e.tg, n: 12, cancel: cancelA}
	a, err := scheduler.New(scheduler.Config{
		Store: st1, Outbox: st1, Senders: map[domain.Channel]bot.Sender{domain.Telegram: killer},
		Event: e.ev, Directory: func() *domain.Directory { return e.dir }, Schedule: e.sched,
		Now: e.clk.Now, Log: quiet(), WorkerID: "a",
	})
	if err != nil {
		t.Fatal(err)
	}
	n, err := a.Broadcast(e.ctx, "bc-1", "📢 Thông báo: Hội nghị dời sang phòng họp tầng 3.", scheduler.AudienceDelegates)
	if err != nil || n != 40 {
		t.Fatalf("Broadcast = %d, %v; want 40", n, err)
	}
	sentA, _ := a.Drain(ctxA)
	if sentA < 12 || sentA >= 40 {
		t.Fatalf("first sender sent %d before it was stopped", sentA)
	}

	b := e.scheduler(st2, "b", nil)
	if _, err := b.Drain(e.ctx); err != nil {
		t.Fatal(err)
	}
	// Rows a died holding come back once their lease runs out.
	e.clk.Add(3 * time.Minute)
	if _, err := b.Drain(e.ctx); err != nil {
		t.Fatal(err)
	}
	twice := 0
	for _, p := range people {
		switch got := len(e.texts(p.ID)); {
		case got == 0:
			t.Errorf("%s never got the broadcast", p.ID)
		case got == 2:
			twice++
		case got > 2:
			t.Errorf("%s got it %d times", p.ID, got)
		}
	}
	// Only a message in flight when the sender stopped may go twice (its
	// delivery done, its record not): one at the pace of 30 a second, more
	// when a busy machine makes sends overlap.
	if inFlight := killer.inFlightAtStop(); twice > max(1, inFlight) {
		t.Errorf("%d people got it twice; at most the %d in flight at the stop may", twice, max(1, inFlight))
	}
	for _, it := range e.items(scheduler.JobBroadcast) {
		if it.Status != sqlstore.OutboxSent {
			t.Errorf("%s: %s %q", it.Key, it.Status, it.LastError)
		}
	}
	t.Logf("first sender: %d sent before the stop; in flight at the stop: %d; repeated: %d", sentA, killer.inFlightAtStop(), twice)
}

func TestBlockedBecomesUnreachable(t *testing.T) {
	eachStore(t, func(t *testing.T, st testStore) {
		e := newEnv(t, st, conferencePeople(), testSchedule)
		seedConference(e)
		s := e.scheduler(st, "w1", nil)
		e.clk.Set(at("2024-07-29 10:00"))
		e.srv.Block(e.chats["A2"])
		if _, err := s.Broadcast(e.ctx, "b1", "Thông báo thử", scheduler.AudienceAccepted); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Drain(e.ctx); err != nil {
			t.Fatal(err)
		}
		calls := e.srv.Calls("sendMessage")
		e.clk.Add(2 * time.Hour)
		if _, err := s.Drain(e.ctx); err != nil {
			t.Fatal(err)
		}
		if n := e.srv.Calls("sendMessage"); n != calls {
			t.Errorf("retried a blocked chat: %d calls, then %d", calls, n)
		}
		var row sqlstore.OutboxItem
		for _, it := range e.items(scheduler.JobBroadcast) {
			if it.PersonID == "A2" {
				row = it
			}
		}
		if row.Status != sqlstore.OutboxUnreachable || row.Attempts != 1 {
			t.Errorf("A2's row: %s after %d attempts (%q), want unreachable after 1", row.Status, row.Attempts, row.LastError)
		}
		un, err := st.Unreachables(e.ctx)
		if err != nil || len(un) != 1 || un[0].PersonID != "A2" || un[0].Channel != domain.Telegram {
			t.Fatalf("unreachable = %+v, %v", un, err)
		}
		// Next broadcast: A2 is recorded skipped, not attempted.
		if _, err := s.Broadcast(e.ctx, "b2", "Thông báo thử 2", scheduler.AudienceAccepted); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Drain(e.ctx); err != nil {
			t.Fatal(err)
		}
		for _, it := range e.items(scheduler.JobBroadcast) {
			if it.Key == "broadcast|b2|A2" && (it.Status != sqlstore.OutboxSkipped || !strings.Contains(it.LastError, "chặn bot")) {
				t.Errorf("A2 in the next broadcast: %s %q", it.Status, it.LastError)
			}
		}
		// Staff see A2 in the next daily summary.
		e.runDue(s, at("2024-07-30 08:00"))
		got := e.texts("ST")
		if len(got) != 1 {
			t.Fatalf("staff got %q", got)
		}
		contains(t, "summary", got[0], "Không gửi được tin nhắn", "Trần Thị Bình (Sở Y tế) — telegram: đã chặn bot hoặc bỏ quan tâm, từ 29/07/2024")
	})
}

// Zalo's 48-hour window runs on the bot's clock, and staff are told that it,
// not a block, is why a person was not reached.
func TestZaloWindowOnTheBotsClock(t *testing.T) {
	eachStore(t, func(t *testing.T, st testStore) {
		e := newEnv(t, st, conferencePeople(), testSchedule)
		seedConference(e)
		api := zalotest.New(t, "app-w", "oa-secret-w", "app-secret-w")
		access, refresh := api.IssueTokens(time.Hour)
		zs := st.(interface {
			Zalo(string) *sqlstore.ZaloStore
		}).Zalo(api.OAID())
		za, err := zalo.New(e.ctx, zalo.Config{AppID: "app-w", OASecret: "oa-secret-w", AppSecret: "app-secret-w", OAID: api.OAID(),
			APIBase: api.URL(), OAuthBase: api.URL(), Handler: nopHandler{}, Tokens: zs, Sync: true, CheckWindow: true,
			Seed: &zalo.Tokens{AccessToken: access, RefreshToken: refresh}, Clock: e.clk.Now, Log: quiet(), RefreshCheck: -1})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = za.Close() })
		hook := httptest.NewServer(za.WebhookHandler())
		t.Cleanup(hook.Close)
		api.SetWebhook(hook.URL)
		e.apply(domain.LinkIdentity{Identity: domain.Identity{Channel: domain.Zalo, UserID: "zu-n1", ChatID: "zu-n1", PersonID: "N1"}})

		s, err := scheduler.New(scheduler.Config{Store: st, Outbox: st,
			Senders: map[domain.Channel]bot.Sender{domain.Telegram: e.tg, domain.Zalo: za},
			Event:   e.ev, Directory: func() *domain.Directory { return e.dir }, Schedule: e.sched, Now: e.clk.Now, Log: quiet()})
		if err != nil {
			t.Fatal(err)
		}
		e.clk.Set(at("2024-07-27 10:00"))
		api.Follow("zu-n1") // the user's last interaction, at the bot's time
		e.clk.Set(at("2024-07-28 09:00"))
		if _, err := s.Broadcast(e.ctx, "w1", "Thông báo trong 48 giờ", scheduler.AudienceAccepted); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Drain(e.ctx); err != nil {
			t.Fatal(err)
		}
		if got := api.Messages("zu-n1"); len(got) != 1 || !strings.Contains(got[0].Text, "trong 48 giờ") {
			t.Fatalf("within the window: %+v", got)
		}
		e.clk.Set(at("2024-07-29 12:00")) // 50 hours after the follow
		if _, err := s.Broadcast(e.ctx, "w2", "Thông báo sau 48 giờ", scheduler.AudienceAccepted); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Drain(e.ctx); err != nil {
			t.Fatal(err)
		}
		if got := api.Messages("zu-n1"); len(got) != 1 {
			t.Fatalf("sent outside the window: %+v", got)
		}
		e.runDue(s, at("2024-07-30 08:00"))
		got := strings.Join(e.texts("ST"), "\n")
		contains(t, "summary", got, "Bùi Văn Nam (Sở Y tế) — zalo: quá 48 giờ chưa nhắn cho OA")
		if strings.Contains(got, "Bùi Văn Nam (Sở Y tế) — zalo: đã chặn") {
			t.Errorf("the window is called a block:\n%s", got)
		}
	})
}

func TestFloodWaitAndRetries(t *testing.T) {
	eachStore(t, func(t *testing.T, st testStore) {
		e := newEnv(t, st, conferencePeople(), testSchedule+"send: {max_attempts: 3, per_second: 200, per_chat_per_second: 20}\n")
		seedConference(e)
		s := e.scheduler(st, "w1", nil)
		start := at("2024-07-29 10:00")
		e.clk.Set(start)

		// 429 with retry_after 40: the chat and the channel wait 40 s.
		e.srv.FailNext("sendMessage", 1, 429, 40)
		if n, err := s.Broadcast(e.ctx, "b1", "Thông báo", scheduler.AudienceStaff); err != nil || n != 1 {
			t.Fatalf("broadcast = %d, %v", n, err)
		}
		if _, err := s.Broadcast(e.ctx, "b2", "Thông báo", scheduler.AudienceStaff); err != nil {
			t.Fatal(err)
		}
		if n, _ := s.Drain(e.ctx); n != 0 || e.srv.Calls("sendMessage") != 1 {
			t.Fatalf("sent %d, %d calls; want the one 429 and nothing more", n, e.srv.Calls("sendMessage"))
		}
		e.clk.Set(start.Add(39 * time.Second))
		if n, _ := s.Drain(e.ctx); n != 0 || e.srv.Calls("sendMessage") != 1 {
			t.Fatalf("sent %d before retry_after ran out", n)
		}
		e.clk.Set(start.Add(41 * time.Second))
		if n, _ := s.Drain(e.ctx); n != 2 {
			t.Fatalf("sent %d after retry_after, want 2", n)
		}

		// 5xx: retried with backoff (10 s, 20 s), then failed for good.
		e.srv.FailNext("sendMessage", 3, 502, 0)
		if _, err := s.Broadcast(e.ctx, "b3", "Thông báo 3", scheduler.AudienceStaff); err != nil {
			t.Fatal(err)
		}
		calls := e.srv.Calls("sendMessage")
		s.Drain(e.ctx)
		e.clk.Add(9 * time.Second)
		s.Drain(e.ctx)
		if got := e.srv.Calls("sendMessage") - calls; got != 1 {
			t.Fatalf("%d attempts before the first backoff ran out, want 1", got)
		}
		e.clk.Add(2 * time.Second)
		s.Drain(e.ctx)
		e.clk.Add(21 * time.Second)
		s.Drain(e.ctx)
		e.clk.Add(time.Hour)
		s.Drain(e.ctx)
		if got := e.srv.Calls("sendMessage") - calls; got != 3 {
			t.Errorf("%d attempts, want 3 (max_attempts)", got)
		}
		for _, it := range e.items(scheduler.JobBroadcast) {
			if it.Key == "broadcast|b3|ST" && (it.Status != sqlstore.OutboxFailed || it.Attempts != 3 || !strings.Contains(it.LastError, "Bad Gateway")) {
				t.Errorf("b3: %s after %d attempts, %q", it.Status, it.Attempts, it.LastError)
			}
		}
		stats, err := s.Stats(e.ctx)
		if err != nil || stats.ByStatus[sqlstore.OutboxFailed] != 1 || stats.Depth() != 0 {
			t.Errorf("stats = %+v, %v", stats, err)
		}
	})
}

func TestManualChaserAndPreview(t *testing.T) {
	st := openSQLite(t)
	e := newEnv(t, st, conferencePeople(), testSchedule)
	seedConference(e)
	e.rsvp("D1", domain.RSVPPending, nil) // D1 withdrew the answer
	s := e.scheduler(st, "w1", nil)
	e.clk.Set(at("2024-07-29 10:00"))

	count, sample, err := s.Preview(e.ctx, scheduler.AudienceAccepted)
	if err != nil || count != 3 {
		t.Fatalf("preview accepted = %d, %q, %v; want 3 (A1, A2, X1 for S2)", count, sample, err)
	}
	contains(t, "sample", sample, "Nguyễn Văn An (Sở Tài chính)", "Đỗ Thị Lan", "2 người chưa kết nối")
	if reached, unreached, err := s.Reach(e.ctx, scheduler.AudienceAccepted); err != nil || reached != 3 || unreached != 2 {
		t.Fatalf("Reach(accepted) = %d, %d, %v; want 3 reached, 2 not", reached, unreached, err)
	}

	c, err := s.RemindPendingOnce(e.ctx, "c1", "ST")
	if err != nil || c.Sent != 2 || c.Already {
		t.Fatalf("RemindPendingOnce = %+v, %v; want 2 (P1, D1)", c, err)
	}
	s.Drain(e.ctx)
	// The same confirmation again (a double tap, a stale button): nothing.
	e.clk.Add(time.Minute)
	if c, err := s.RemindPendingOnce(e.ctx, "c1", "ST"); err != nil || !c.Already || c.Sent != 2 || !c.At.Equal(at("2024-07-29 10:00")) {
		t.Fatalf("second confirmation = %+v, %v; want already sent (2) at 10:00", c, err)
	}
	// Another staff member's confirmation with the same id is their own.
	if c, _ := s.RemindPendingOnce(e.ctx, "c1", "ST2"); c.Already || c.Sent != 2 {
		t.Fatalf("another staff member's run = %+v, want 2 new", c)
	}
	s.Drain(e.ctx)
	if got := e.texts("P1"); len(got) != 2 || !strings.Contains(got[0], "chưa xác nhận") {
		t.Errorf("P1 got %q", got)
	}
	if got := e.texts("A1"); len(got) != 0 {
		t.Errorf("A1 (answered) got %q", got)
	}
	if _, err := s.Broadcast(e.ctx, "x|y", "t", scheduler.AudienceStaff); err == nil {
		t.Error("an id with '|' was accepted")
	}
	if _, err := s.Broadcast(e.ctx, "ok", "t", "everyone"); err == nil {
		t.Error("an unknown audience was accepted")
	}
}

func TestRunLeadsAndSends(t *testing.T) {
	st := openSQLite(t)
	e := newEnv(t, st, conferencePeople(), testSchedule)
	seedConference(e)
	e.clk.Set(at("2024-07-30 08:59"))
	ticking := func() time.Time { e.clk.Add(time.Second); return e.clk.Now() }
	s, err := scheduler.New(scheduler.Config{
		Store: st, Outbox: st, Senders: map[domain.Channel]bot.Sender{domain.Telegram: e.tg},
		Event: e.ev, Directory: func() *domain.Directory { return e.dir }, Schedule: e.sched,
		Now: ticking, Log: quiet(), WorkerID: "run", Tick: 20 * time.Millisecond, PollInterval: 20 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	e.srv.WaitMessages(t, e.chats["P1"], 1, 10*time.Second)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := e.texts("P1"); len(got) != 1 || !strings.Contains(got[0], "chưa xác nhận") {
		t.Errorf("P1 got %q", got)
	}
}

func TestResendInvite(t *testing.T) {
	st := openSQLite(t)
	e := newEnv(t, st, conferencePeople(), testSchedule)
	seedConference(e)
	s := e.scheduler(st, "w1", nil)
	e.clk.Set(at("2024-07-29 10:00"))
	if n, err := s.ResendInvite(e.ctx, "P1", "ST"); err != nil || n != 1 {
		t.Fatalf("ResendInvite(P1) = %d, %v; want 1", n, err)
	}
	// N1 never opened a chat with the bot: nothing to send, said so.
	if n, err := s.ResendInvite(e.ctx, "N1", "ST"); err != nil || n != 0 {
		t.Fatalf("ResendInvite(N1) = %d, %v; want 0", n, err)
	}
	s.Drain(e.ctx)
	got := e.texts("P1")
	if len(got) != 1 || !strings.Contains(got[0], "Anh/chị chưa trả lời; xin xác nhận trước 17:00 ngày 31/07/2024") {
		t.Fatalf("P1 got %q; want the invitation with its buttons", got)
	}
}

// The resent invitation's text follows the person's answer and the date;
// after the cut-off it carries no answer buttons.
func TestResendInviteFollowsTheAnswerAndTheDate(t *testing.T) {
	tests := []struct {
		label, person, now string
		want, notWant      string
		buttons            bool
	}{
		{"pending, open", "P1", "2024-07-29 10:00", "Anh/chị chưa trả lời; xin xác nhận trước", "Đã hết hạn", true},
		{"declined, open", "D1", "2024-07-29 10:00", "Anh/chị đã báo không tham dự; nếu thay đổi ý định, xin trả lời trước 17:00 ngày 31/07/2024", "chưa trả lời", true},
		{"declined, closed", "D1", "2024-08-01 10:00", "Anh/chị đã báo không tham dự; Ban tổ chức đã ghi nhận", "xin xác nhận trước", false},
		{"accepted, closed", "A1", "2024-08-01 10:00", "Anh/chị đã xác nhận tham dự", "xin xác nhận trước", false},
		{"substitute, open", "S1", "2024-07-29 10:00", "Anh/chị đã cử Ngô Văn Tâm đi thay", "chưa trả lời", true},
		{"pending, closed", "P1", "2024-08-01 10:00", "Đã hết hạn xác nhận tham dự (17:00 ngày 31/07/2024); nếu anh/chị muốn dự", "xin xác nhận trước", false},
	}
	for _, tc := range tests {
		t.Run(tc.label, func(t *testing.T) {
			st := openSQLite(t)
			e := newEnv(t, st, conferencePeople(), testSchedule)
			seedConference(e)
			s := e.scheduler(st, "w1", nil)
			e.clk.Set(at(tc.now))
			if n, err := s.ResendInvite(e.ctx, tc.person, "ST"); err != nil || n != 1 {
				t.Fatalf("ResendInvite = %d, %v", n, err)
			}
			s.Drain(e.ctx)
			ms := e.srv.Messages(e.chats[tc.person])
			if len(ms) != 1 {
				t.Fatalf("sent %d messages", len(ms))
			}
			m := ms[0]
			if !strings.Contains(m.Text, tc.want) || strings.Contains(m.Text, tc.notWant) {
				t.Errorf("text %q; want %q, not %q", m.Text, tc.want, tc.notWant)
			}
			answer := false
			for _, row := range m.Inline {
				for _, b := range row {
					answer = answer || strings.HasPrefix(b.Data, "rsvp:")
				}
			}
			if answer != tc.buttons {
				t.Errorf("answer buttons %v, want %v: %+v", answer, tc.buttons, m.Inline)
			}
		})
	}
}
