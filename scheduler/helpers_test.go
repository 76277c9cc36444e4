package scheduler_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/bot"
	"github.com/dieuphoi/dieuphoi/bot/telegram"
	"github.com/dieuphoi/dieuphoi/bot/telegram/telegramtest"
	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/internal/testenv"
	"github.com/dieuphoi/dieuphoi/scheduler"
	"github.com/dieuphoi/dieuphoi/storage"
	"github.com/dieuphoi/dieuphoi/storage/postgres"
	"github.com/dieuphoi/dieuphoi/storage/sqlite"
	"github.com/dieuphoi/dieuphoi/storage/sqlstore"
)

var (
	_ scheduler.Outbox = (*postgres.Store)(nil)
	_ scheduler.Outbox = (*sqlite.Store)(nil)
)

const token = "123456:TEST-token_for-the-scheduler"

var hcm = mustLoc("Asia/Ho_Chi_Minh")

func mustLoc(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, hcm)
	if err != nil {
		panic(err)
	}
	return t
}

// testStore is what the tests need of a store.
type testStore interface {
	storage.Store
	scheduler.Outbox
	OutboxItems(ctx context.Context, job string) ([]sqlstore.OutboxItem, error)
}

func openPG(t testing.TB, url string) testStore {
	t.Helper()
	s, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openSQLite(t testing.TB) testStore {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// eachStore runs fn on PostgreSQL and on SQLite.
func eachStore(t *testing.T, fn func(t *testing.T, st testStore)) {
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		fn(t, openPG(t, testenv.PostgresURL(t)))
	})
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		fn(t, openSQLite(t))
	})
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func testEvent() *domain.Event {
	return &domain.Event{
		ID: "pii-test", NameVI: "Hội nghị PII thử nghiệm", NameEN: "Test PII conference", Location: hcm,
		DoorsOpen: at("2024-08-02 07:30"), Start: at("2024-08-02 08:00"), End: at("2024-08-02 11:00"),
		VenueVI: "Trung tâm Hội nghị tỉnh", VenueEN: "Provincial Conference Centre", Address: "Đường Quảng Trường, Hưng Yên",
		RSVPCutoff: at("2024-07-31 17:00"),
		Organizer:  domain.Contact{Name: "Văn phòng Sở KH&CN", Phone: "0221 3862 538", Email: "vanphong@example.vn"},
		Agenda: []domain.AgendaItem{
			{No: 1, Start: at("2024-08-02 07:30"), End: at("2024-08-02 08:00"), TitleVI: "Đón tiếp đại biểu", TitleEN: "Welcoming delegates"},
			{No: 2, Start: at("2024-08-02 08:00"), End: at("2024-08-02 08:30"), TitleVI: "Khai mạc, giới thiệu đại biểu", TitleEN: "Opening", SpeakerVI: "Sở KH&CN"},
			{No: 3, Start: at("2024-08-02 08:30"), End: at("2024-08-02 10:00"), TitleVI: "Thảo luận về Bộ chỉ số PII", TitleEN: "Discussion of the PII"},
		},
	}
}

func testAgencies() []domain.Agency {
	return []domain.Agency{
		{Code: "SKHCN", NameVI: "Sở Khoa học và Công nghệ", NameEN: "Department of Science and Technology"},
		{Code: "STC", NameVI: "Sở Tài chính", NameEN: "Department of Finance"},
		{Code: "SYT", NameVI: "Sở Y tế", NameEN: "Department of Health"},
	}
}

func person(id, name, agency, phone string, roles ...domain.Role) domain.Person {
	return domain.Person{ID: id, FullName: name, Position: "Chuyên viên", AgencyCode: agency, Phone: phone, Roles: roles}
}

type env struct {
	t     testing.TB
	ctx   context.Context
	st    testStore
	srv   *telegramtest.Server
	tg    *telegram.Adapter
	clk   *clock
	ev    *domain.Event
	dir   *domain.Directory
	sched *scheduler.Schedule
	chats map[string]int64
	seq   int
	// eventKey names the event's jobs (scheduler.Config.EventKey); "" in
	// the tests of one event.
	eventKey string
	// events is the scheduler's Config.Events (nil: none).
	events func(ctx context.Context, now time.Time) ([]scheduler.Config, error)
	// campaigns is the scheduler's Config.Campaigns (nil: none).
	campaigns func(ctx context.Context, now time.Time) ([]scheduler.Config, error)
}

type nopHandler struct{}

func (nopHandler) Handle(context.Context, bot.Inbound) error { return nil }

func newEnv(t testing.TB, st testStore, people []domain.Person, scheduleYAML string) *env {
	t.Helper()
	ctx := context.Background()
	srv := telegramtest.New(t, token)
	tg, err := telegram.New(ctx, telegram.Config{Token: token, APIBase: srv.URL(), Handler: nopHandler{}, Log: quiet()})
	if err != nil {
		t.Fatalf("telegram adapter: %v", err)
	}
	if err := st.SyncDirectory(ctx, testAgencies(), people); err != nil {
		t.Fatalf("sync: %v", err)
	}
	dir, err := st.Directory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(scheduleYAML, "send:") {
		// Tests move the clock, but pacing runs in real time: not at
		// Telegram's pace unless the test is about it.
		scheduleYAML += "send: {per_second: 200, per_chat_per_second: 20}\n"
	}
	sc, err := scheduler.ParseSchedule("schedule.yaml", []byte(scheduleYAML))
	if err != nil {
		t.Fatalf("schedule: %v", err)
	}
	return &env{t: t, ctx: ctx, st: st, srv: srv, tg: tg, clk: &clock{now: at("2024-07-20 08:00")}, ev: testEvent(),
		dir: dir, sched: sc, chats: map[string]int64{}}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func (e *env) scheduler(st testStore, worker string, progress scheduler.Progress) *scheduler.Scheduler {
	e.t.Helper()
	s, err := scheduler.New(scheduler.Config{
		Store: st, Outbox: st, Senders: map[domain.Channel]bot.Sender{domain.Telegram: e.tg},
		Event: e.ev, Directory: func() *domain.Directory { return e.dir }, Schedule: e.sched, Progress: progress,
		Now: e.clk.Now, Log: quiet(), WorkerID: worker, MaxInFlight: 8, EventKey: e.eventKey,
		Events: e.events, Campaigns: e.campaigns,
	})
	if err != nil {
		e.t.Fatalf("scheduler: %v", err)
	}
	return s
}

// link gives person a Telegram chat; its id is returned.
func (e *env) link(personID string) int64 {
	e.t.Helper()
	chat := int64(5000 + len(e.chats) + 1)
	e.chats[personID] = chat
	id := strconv.FormatInt(chat, 10)
	e.apply(domain.LinkIdentity{Identity: domain.Identity{Channel: domain.Telegram, UserID: id, ChatID: id, PersonID: personID}})
	return chat
}

func (e *env) apply(effects ...domain.Effect) {
	e.t.Helper()
	e.seq++
	if _, err := e.st.Apply(e.ctx, domain.UpdateKey{Channel: domain.Telegram, UpdateID: "seed-" + strconv.Itoa(e.seq)}, e.clk.Now(), effects); err != nil {
		e.t.Fatalf("apply: %v", err)
	}
}

func (e *env) rsvp(personID string, st domain.RSVPStatus, sub *domain.Substitute) {
	e.t.Helper()
	e.apply(domain.SaveRSVP{RSVP: domain.RSVP{PersonID: personID, Status: st, Substitute: sub, Channel: domain.Telegram}})
}

// runDue moves the clock to when, evaluates the jobs and drains the outbox.
func (e *env) runDue(s *scheduler.Scheduler, when time.Time) {
	e.t.Helper()
	e.clk.Set(when)
	if _, err := s.RunDue(e.ctx, when); err != nil {
		e.t.Fatalf("RunDue at %v: %v", when, err)
	}
	if _, err := s.Drain(e.ctx); err != nil {
		e.t.Fatalf("Drain at %v: %v", when, err)
	}
}

// texts returns the texts sent to person's chat.
func (e *env) texts(personID string) []string {
	var out []string
	for _, m := range e.srv.Messages(e.chats[personID]) {
		out = append(out, m.Text)
	}
	return out
}

func (e *env) items(job string) []sqlstore.OutboxItem {
	e.t.Helper()
	items, err := e.st.OutboxItems(e.ctx, job)
	if err != nil {
		e.t.Fatal(err)
	}
	return items
}

func contains(t testing.TB, what, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Errorf("%s: missing %q in:\n%s", what, w, s)
		}
	}
}
