package scheduler_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/bot"
	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/scheduler"
	"github.com/dieuphoi/dieuphoi/storage/sqlstore"
)

// eventStore is what the two-event test needs beyond testStore.
type eventStore interface {
	ImportEvent(ctx context.Context, r domain.EventRecord, at time.Time) (bool, error)
	SetEvent(id string)
	EventRSVPs(ctx context.Context, eventID string) (map[string]domain.RSVP, error)
	CheckIn(ctx context.Context, c sqlstore.CheckIn) (sqlstore.CheckIn, bool, error)
	EventCheckIns(ctx context.Context, eventID string) (map[string]sqlstore.CheckIn, error)
}

// councilEvent overlaps the conference on the same morning; A1 and P1 are
// invited to both, A2 to the conference only.
func councilEvent() *domain.Event {
	return &domain.Event{
		ID: "council", NameVI: "Hội đồng thẩm định đề tài", NameEN: "Project appraisal council", Location: hcm,
		DoorsOpen: at("2024-08-02 09:45"), Start: at("2024-08-02 10:00"), End: at("2024-08-02 12:00"),
		VenueVI: "Phòng họp tầng 3, Sở KH&CN", VenueEN: "Meeting room, 3rd floor", Address: "Hưng Yên",
		RSVPCutoff: at("2024-08-01 12:00"),
		Agenda:     []domain.AgendaItem{{No: 1, Start: at("2024-08-02 10:00"), End: at("2024-08-02 12:00"), TitleVI: "Thẩm định"}},
	}
}

func TestTwoOverlappingEvents(t *testing.T) {
	eachStore(t, func(t *testing.T, st testStore) {
		people := []domain.Person{
			person("A1", "Nguyễn Văn An", "STC", "0912000001", domain.RoleDelegate),
			person("A2", "Trần Thị Bình", "SYT", "0912000002", domain.RoleDelegate),
			person("P1", "Lê Minh Châu", "STC", "0912000003", domain.RoleDelegate),
			person("ST", "Đinh Hải Giang", "SKHCN", "0912000009", domain.RoleStaff),
		}
		e := newEnv(t, st, people, strings.Replace(testSchedule, "speakers:\n  2: [A1]\n", "", 1))
		es := st.(eventStore)
		conf, council := e.ev, councilEvent()
		everyone := []domain.Invitee{{PersonID: "A1"}, {PersonID: "A2"}, {PersonID: "P1"}, {PersonID: "ST"}}
		shared := []domain.Invitee{{PersonID: "A1"}, {PersonID: "P1"}}
		for _, r := range []domain.EventRecord{
			{Event: *conf, Code: "PII", Invitees: everyone},
			{Event: *council, Code: "HD", Invitees: shared},
		} {
			if _, err := es.ImportEvent(e.ctx, r, e.clk.Now()); err != nil {
				t.Fatal(err)
			}
		}
		es.SetEvent(conf.ID)
		for _, id := range []string{"A1", "A2", "P1", "ST"} {
			e.link(id)
		}
		answer := func(person, event string, s domain.RSVPStatus) {
			e.apply(domain.SaveRSVP{RSVP: domain.RSVP{PersonID: person, Status: s, Channel: domain.Telegram, EventID: event}})
		}
		answer("A1", "pii-test", domain.RSVPAttend)
		answer("A2", "pii-test", domain.RSVPAttend)
		answer("P1", "council", domain.RSVPAttend)

		e.eventKey = conf.ID
		s := e.scheduler(st, "w1", nil)
		invited := map[string]bool{"A1": true, "P1": true}
		sc, err := scheduler.ParseSchedule("schedule.yaml", []byte(strings.Replace(testSchedule, "speakers:\n  2: [A1]\n", "", 1)+
			"send: {per_second: 200, per_chat_per_second: 20}\n"))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.AddEvent(scheduler.Config{Event: council, EventKey: "council", Schedule: sc,
			RSVPs:   func(ctx context.Context) (map[string]domain.RSVP, error) { return es.EventRSVPs(ctx, "council") },
			Invited: func(id string) bool { return invited[id] }}); err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		fresh := func(id string) []string {
			all := e.texts(id)
			out := all[seen[id]:]
			seen[id] = len(all)
			return out
		}

		// D-3 09:00: each event chases its own people without an answer:
		// P1 for the conference, A1 for the council; A2 (conference only,
		// answered) nothing.
		e.runDue(s, at("2024-07-30 09:00"))
		if got := fresh("P1"); len(got) != 1 || !strings.Contains(got[0], conf.NameVI) {
			t.Errorf("P1 at D-3: %q, want the conference's chaser", got)
		}
		if got := fresh("A1"); len(got) != 1 || !strings.Contains(got[0], council.NameVI) {
			t.Errorf("A1 at D-3: %q, want the council's chaser", got)
		}
		if got := fresh("A2"); len(got) != 0 {
			t.Errorf("A2 at D-3: %q", got)
		}
		if got := fresh("ST"); len(got) != 2 {
			t.Errorf("staff at D-3: %d summaries, want one per event: %q", len(got), got)
		}

		// A1 declines the council; P1 answers the conference.
		answer("A1", "council", domain.RSVPDecline)
		answer("P1", "pii-test", domain.RSVPDecline)

		// D-1 09:00: the conference's cut-off is 31/07 17:00 (no chaser);
		// the council's chaser finds everyone answered.
		e.runDue(s, at("2024-08-01 09:00"))
		for _, id := range []string{"A1", "A2", "P1"} {
			if got := fresh(id); len(got) != 0 {
				t.Errorf("%s chased after answering: %q", id, got)
			}
		}

		// D-1 15:00: the day-before reminders, each to its own attendees.
		e.runDue(s, at("2024-08-01 15:00"))
		a1, a2, p1 := fresh("A1"), fresh("A2"), fresh("P1")
		if len(a1) != 1 || !strings.Contains(a1[0], conf.NameVI) {
			t.Errorf("A1 day before: %q, want the conference only", a1)
		}
		if len(a2) != 1 || !strings.Contains(a2[0], conf.NameVI) {
			t.Errorf("A2 day before: %q", a2)
		}
		if len(p1) != 1 || !strings.Contains(p1[0], council.NameVI) || !strings.Contains(p1[0], "Phòng họp tầng 3") {
			t.Errorf("P1 day before: %q, want the council only", p1)
		}
		if n := len(e.items("pii-test/agenda_day_before")); n != 2 {
			t.Errorf("conference day-before rows: %d", n)
		}
		if n := len(e.items("council/agenda_day_before")); n != 1 {
			t.Errorf("council day-before rows: %d", n)
		}
		// Evaluated again: nothing new for either event.
		e.runDue(s, at("2024-08-01 15:00"))
		for _, id := range []string{"A1", "A2", "P1"} {
			if got := fresh(id); len(got) != 0 {
				t.Errorf("%s got a reminder twice: %q", id, got)
			}
		}

		// Check-in is per event: A1 at the conference, P1 at the council.
		for _, c := range []sqlstore.CheckIn{{PersonID: "A1", EventID: "pii-test"}, {PersonID: "P1", EventID: "council"}} {
			c.At, c.Method = at("2024-08-02 07:50"), "self"
			if _, ok, err := es.CheckIn(e.ctx, c); err != nil || !ok {
				t.Fatalf("check in %+v: %v %v", c, ok, err)
			}
		}
		confIn, _ := es.EventCheckIns(e.ctx, "pii-test")
		councilIn, _ := es.EventCheckIns(e.ctx, "council")
		if len(confIn) != 1 || confIn["A1"].PersonID != "A1" || len(councilIn) != 1 || councilIn["P1"].PersonID != "P1" {
			t.Errorf("check-ins: conference %v, council %v", confIn, councilIn)
		}
	})
}

// TestEventsFollowTheDatabase: an event created in the database after the
// scheduler started has its chaser sent; once it is closed nothing more of
// it goes out, and opened again its reminders resume.
func TestEventsFollowTheDatabase(t *testing.T) {
	eachStore(t, func(t *testing.T, st testStore) {
		people := []domain.Person{
			person("A1", "Nguyễn Văn An", "STC", "0912000001", domain.RoleDelegate),
			person("P1", "Lê Minh Châu", "STC", "0912000003", domain.RoleDelegate),
			person("ST", "Đinh Hải Giang", "SKHCN", "0912000009", domain.RoleStaff),
		}
		plain := strings.Replace(testSchedule, "speakers:\n  2: [A1]\n", "", 1)
		e := newEnv(t, st, people, plain)
		es := st.(eventStore)
		conf, council := e.ev, councilEvent()
		if _, err := es.ImportEvent(e.ctx, domain.EventRecord{Event: *conf, Code: "PII",
			Invitees: []domain.Invitee{{PersonID: "A1"}, {PersonID: "P1"}, {PersonID: "ST"}}}, e.clk.Now()); err != nil {
			t.Fatal(err)
		}
		es.SetEvent(conf.ID)
		for _, id := range []string{"A1", "P1", "ST"} {
			e.link(id)
		}
		for _, id := range []string{"A1", "P1"} {
			e.apply(domain.SaveRSVP{RSVP: domain.RSVP{PersonID: id, Status: domain.RSVPAttend, Channel: domain.Telegram, EventID: conf.ID}})
		}
		e.eventKey = conf.ID
		e.events = scheduler.OpenEvents(st.(scheduler.EventRecords), conf.ID)
		s := e.scheduler(st, "w1", nil)
		seen := map[string]int{}
		fresh := func(id string) []string {
			all := e.texts(id)
			out := all[seen[id]:]
			seen[id] = len(all)
			return out
		}

		// Running, with the conference only.
		e.runDue(s, at("2024-07-29 09:00"))
		fresh("A1")
		fresh("P1")
		fresh("ST")

		// Staff create the council in the console (the database) while the
		// scheduler runs: its D-3 chaser goes to its invitees.
		if _, err := es.ImportEvent(e.ctx, domain.EventRecord{Event: *council, Code: "HD", Status: domain.StatusOpen,
			Schedule: plain, Invitees: []domain.Invitee{{PersonID: "A1"}, {PersonID: "P1"}}}, at("2024-07-29 10:00")); err != nil {
			t.Fatal(err)
		}
		e.runDue(s, at("2024-07-30 09:00"))
		for _, id := range []string{"A1", "P1"} {
			if got := fresh(id); len(got) != 1 || !strings.Contains(got[0], council.NameVI) {
				t.Errorf("%s after the council was created: %q, want its chaser", id, got)
			}
		}
		if got := fresh("ST"); len(got) != 2 {
			t.Errorf("staff: %d summaries, want one per event", len(got))
		}

		// A1 will come; then staff close the council: no chaser for P1, no
		// day-before reminder for A1, no summary.
		e.apply(domain.SaveRSVP{RSVP: domain.RSVP{PersonID: "A1", Status: domain.RSVPAttend, Channel: domain.Telegram, EventID: council.ID}})
		if err := es.(interface {
			SetEventStatus(ctx context.Context, id string, s domain.Status, by string, at time.Time) error
		}).SetEventStatus(e.ctx, council.ID, domain.StatusClosed, "ST", at("2024-07-30 10:00")); err != nil {
			t.Fatal(err)
		}
		for _, when := range []string{"2024-07-31 09:00", "2024-08-01 09:00", "2024-08-01 15:00"} {
			e.runDue(s, at(when))
			for _, id := range []string{"A1", "P1"} {
				for _, m := range fresh(id) {
					if strings.Contains(m, council.NameVI) {
						t.Errorf("%s at %s, the council closed: %q", id, when, m)
					}
				}
			}
			for _, m := range fresh("ST") {
				if strings.Contains(m, council.NameVI) {
					t.Errorf("staff at %s, the council closed: %q", when, m)
				}
			}
		}
		if n := len(e.items("council/rsvp_chaser")); n != 2 {
			t.Errorf("council chaser rows: %d, want the two of D-3", n)
		}
	})
}

// TestRefreshTakesUpAnEventAtOnce: a running scheduler whose next tick is
// an hour away sends a new event's due chaser as soon as Refresh is called
// (what the console does after changing an event).
func TestRefreshTakesUpAnEventAtOnce(t *testing.T) {
	st := openSQLite(t)
	people := []domain.Person{person("A1", "Nguyễn Văn An", "STC", "0912000001", domain.RoleDelegate)}
	plain := strings.Replace(testSchedule, "speakers:\n  2: [A1]\n", "", 1)
	e := newEnv(t, st, people, plain)
	es := st.(eventStore)
	if _, err := es.ImportEvent(e.ctx, domain.EventRecord{Event: *e.ev, Code: "PII", Invitees: []domain.Invitee{{PersonID: "A1"}}}, e.clk.Now()); err != nil {
		t.Fatal(err)
	}
	es.SetEvent(e.ev.ID)
	e.link("A1")
	e.apply(domain.SaveRSVP{RSVP: domain.RSVP{PersonID: "A1", Status: domain.RSVPAttend, Channel: domain.Telegram, EventID: e.ev.ID}})
	e.clk.Set(at("2024-07-30 09:00"))
	e.eventKey = e.ev.ID
	e.events = scheduler.OpenEvents(st.(scheduler.EventRecords), e.ev.ID)
	s, err := scheduler.New(scheduler.Config{
		Store: st, Outbox: st, Senders: map[domain.Channel]bot.Sender{domain.Telegram: e.tg},
		Event: e.ev, Directory: func() *domain.Directory { return e.dir }, Schedule: e.sched,
		Now: e.clk.Now, Log: quiet(), WorkerID: "w1", EventKey: e.ev.ID, Events: e.events,
		Tick: time.Hour, PollInterval: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Run(ctx) }()
	defer func() { cancel(); <-done }()
	// The first evaluation (conference only) has run once the job
	// bookkeeping says so.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, ok, _ := st.JobRun(e.ctx, e.ev.ID+"/rsvp_chaser"); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the scheduler never evaluated its jobs")
		}
		time.Sleep(20 * time.Millisecond)
	}
	council := councilEvent()
	if _, err := es.ImportEvent(e.ctx, domain.EventRecord{Event: *council, Code: "HD", Status: domain.StatusOpen,
		Schedule: plain, Invitees: []domain.Invitee{{PersonID: "A1"}}}, e.clk.Now()); err != nil {
		t.Fatal(err)
	}
	if cs, err := e.events(e.ctx, e.clk.Now()); err != nil || len(cs) != 1 {
		t.Fatalf("open events: %d %v", len(cs), err)
	}
	s.Refresh()
	deadline = time.Now().Add(10 * time.Second)
	for {
		got := e.texts("A1")
		if len(got) == 1 && strings.Contains(got[0], council.NameVI) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("A1 got %q, want the new council's chaser without waiting for the tick", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Renamed a moment later (by another process: no Refresh here), a staff
	// action about it (ForEvent) is served the event as it is now.
	e.clk.Add(time.Minute)
	renamed := *council
	renamed.NameVI = "Hội đồng thẩm định đề tài (đổi tên)"
	if _, err := es.ImportEvent(e.ctx, domain.EventRecord{Event: renamed, Code: "HD", Status: domain.StatusOpen,
		Schedule: plain, Invitees: []domain.Invitee{{PersonID: "A1"}}}, e.clk.Now()); err != nil {
		t.Fatal(err)
	}
	o, ok := s.ForEvent(e.ctx, council.ID)
	if !ok || o.Event().NameVI != renamed.NameVI {
		t.Fatalf("ForEvent after a rename: %v, %q; want %q", ok, o.Event().NameVI, renamed.NameVI)
	}
}
