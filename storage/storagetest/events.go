package storagetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/storage"
	"github.com/dieuphoi/dieuphoi/storage/sqlstore"
)

// EventsStore is what many events and campaigns need of a results store.
type EventsStore interface {
	CampaignStore
	SetEvent(id string)
	SetCampaign(id string)
	ImportEvent(ctx context.Context, r domain.EventRecord, at time.Time) (bool, error)
	ImportCampaign(ctx context.Context, c domain.CampaignRecord, at time.Time) (bool, error)
	Events(ctx context.Context) ([]domain.EventRecord, error)
	Event(ctx context.Context, id string) (domain.EventRecord, error)
	Campaigns(ctx context.Context) ([]domain.CampaignRecord, error)
	CloneCampaign(ctx context.Context, from, id, nameVI, nameEN string, at time.Time) (domain.CampaignRecord, error)
	CloneEvent(ctx context.Context, from, id, code string, day time.Time, at time.Time) (domain.EventRecord, error)
	Campaign(ctx context.Context, id string) (domain.CampaignRecord, error)
	SetCampaignStatus(ctx context.Context, id string, s domain.Status, by string, at time.Time) error
	ApprovedValues(ctx context.Context, campaignID string) (map[[2]string]string, error)
	EventRSVPs(ctx context.Context, eventID string) (map[string]domain.RSVP, error)
	PersonRSVPs(ctx context.Context, personID string) (map[string]domain.RSVP, error)
	EventAnswerHistory(ctx context.Context, eventID string) ([]domain.RSVP, error)
	ScopeAudit(ctx context.Context, scope string) ([]sqlstore.AuditEntry, error)
	CheckIn(ctx context.Context, c sqlstore.CheckIn) (sqlstore.CheckIn, bool, error)
	EventCheckIns(ctx context.Context, eventID string) (map[string]sqlstore.CheckIn, error)
	Enqueue(ctx context.Context, it sqlstore.OutboxItem) (bool, error)
	JobRun(ctx context.Context, job string) (time.Time, bool, error)
}

// EventRecord returns an event of the test directory: id, code, a day at
// 08:00-11:00 Hanoi time, everyone in People invited.
func EventRecord(id, code string, day time.Time) domain.EventRecord {
	loc, _ := time.LoadLocation("Asia/Ho_Chi_Minh")
	d := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, loc)
	r := domain.EventRecord{Code: code, Event: domain.Event{ID: id, NameVI: "Hội nghị " + id, NameEN: "Conference " + id, Location: loc,
		DoorsOpen: d.Add(7*time.Hour + 30*time.Minute), Start: d.Add(8 * time.Hour), End: d.Add(11 * time.Hour),
		VenueVI: "Hội trường A", RSVPCutoff: d.AddDate(0, 0, -2).Add(17 * time.Hour),
		Agenda: []domain.AgendaItem{{No: 1, Start: d.Add(8 * time.Hour), End: d.Add(9 * time.Hour), TitleVI: "Khai mạc", SpeakerVI: "Giám đốc Sở"}}}}
	for _, p := range People() {
		r.Invitees = append(r.Invitees, domain.Invitee{PersonID: p.ID})
	}
	return r
}

// PreEventsRows are rows a database made by migrations 0001-0014 holds: an
// answer history, a check-in, a submission with its history, the agenda
// as last announced. Plain SQL both databases take.
var PreEventsRows = []string{
	`INSERT INTO agencies (code, name_vi) VALUES ('STC', 'Sở Tài chính')`,
	`INSERT INTO people (id, full_name, agency_code, invite_token, invite_code, checkin_token) VALUES ('DB001', 'Nguyễn Văn An', 'STC', 'tok1', 'CODE1111', 'chk1')`,
	`INSERT INTO people (id, full_name, agency_code, invite_token, invite_code, checkin_token) VALUES ('DB002', 'Trần Thị Bình', 'STC', 'tok2', 'CODE2222', 'chk2')`,
	`INSERT INTO rsvps (person_id, status, channel, update_key, created_at) VALUES ('DB001', 'decline', 'telegram', 'telegram:1', '2024-07-01 00:00:00+00:00')`,
	`INSERT INTO rsvps (person_id, status, channel, update_key, created_at) VALUES ('DB001', 'attend', 'telegram', 'telegram:2', '2024-07-02 00:00:00+00:00')`,
	`INSERT INTO rsvps (person_id, status, sub_name, sub_phone, channel, update_key, created_at) VALUES ('DB002', 'substitute', 'Phạm Thu', '0911222333', 'zalo', 'zalo:3', '2024-07-03 00:00:00+00:00')`,
	`INSERT INTO checkins (person_id, at, by_person, method) VALUES ('DB001', 1722560000000, '', 'self')`,
	`INSERT INTO indicators (code, name_vi, value_type) VALUES ('2.2.2', 'Chi ngân sách', 'percent')`,
	`INSERT INTO assignments (indicator_code, agency_code, focal_ids, deadline) VALUES ('2.2.2', 'STC', 'DB002', '2024-08-30 10:00:00+00:00')`,
	`INSERT INTO submissions (indicator_code, agency_code, status, value, by_person, updated_at, version) VALUES ('2.2.2', 'STC', 'approved', '0.62', 'DB002', '2024-08-10 00:00:00+00:00', 3)`,
	`INSERT INTO submission_history (indicator_code, agency_code, by_person, at, action, new_value) VALUES ('2.2.2', 'STC', 'DB002', '2024-08-09 00:00:00+00:00', 'submit', '0.62')`,
	`INSERT INTO scheduler_agenda (event_id, version, hash, snapshot, updated_at) VALUES ('pii-2024', 1, 'h', '[]', 1)`,
	`INSERT INTO outbox (key, job, person_id, due_at, next_attempt_at, created_at, status) VALUES ('agenda_day_before|2024-08-01T15:00|DB001', 'agenda_day_before', 'DB001', 1, 1, 1, 'sent')`,
	`INSERT INTO outbox (key, job, person_id, due_at, next_attempt_at, created_at, status) VALUES ('indicator_ladder|2024-08-23T08:00|DB002', 'indicator_ladder', 'DB002', 1, 1, 1, 'sent')`,
	`INSERT INTO scheduler_runs (job, last_run) VALUES ('agenda_day_before', 5)`,
}

// CheckEventsMigration checks a store opened on a database that held
// PreEventsRows before migration 0015: importing the first event and
// campaign adopts every answer, check-in and submission, nothing is lost,
// and importing again changes nothing.
func CheckEventsMigration(t *testing.T, s EventsStore) {
	t.Helper()
	ctx := context.Background()
	at := time.Date(2024, 7, 20, 9, 0, 0, 0, time.UTC)
	ev := EventRecord("pii-2024", "PII2024", time.Date(2024, 8, 2, 0, 0, 0, 0, time.UTC))
	ev.Invitees = []domain.Invitee{{PersonID: "DB001"}, {PersonID: "DB002"}}
	ev.SourceHash = "h1"
	if changed, err := s.ImportEvent(ctx, ev, at); err != nil || !changed {
		t.Fatalf("import the first event: %v %v", changed, err)
	}
	if _, err := s.ImportCampaign(ctx, domain.CampaignRecord{ID: "pii-2024", NameVI: "PII 2024", SourceHash: "c1"}, at); err != nil {
		t.Fatalf("import the first campaign: %v", err)
	}
	s.SetEvent("pii-2024")
	s.SetCampaign("pii-2024")
	got, err := s.EventRSVPs(ctx, "pii-2024")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["DB001"].Status != domain.RSVPAttend || got["DB002"].Substitute == nil || got["DB002"].Substitute.Name != "Phạm Thu" {
		t.Errorf("answers after migration: %+v", got)
	}
	hist, err := s.RSVPHistory(ctx, "DB001")
	if err != nil || len(hist) != 2 || hist[0].Status != domain.RSVPDecline {
		t.Errorf("answer history after migration: %+v %v", hist, err)
	}
	checks, err := s.EventCheckIns(ctx, "pii-2024")
	if err != nil || len(checks) != 1 || checks["DB001"].Method != "self" {
		t.Errorf("check-ins after migration: %+v %v", checks, err)
	}
	subs, err := s.Submissions(ctx, "STC")
	if err != nil || len(subs) != 1 || subs[0].Value != "0.62" || subs[0].Version != 3 {
		t.Errorf("submissions after migration: %+v %v", subs, err)
	}
	if h, err := s.SubmissionHistory(ctx, "2.2.2", "STC"); err != nil || len(h) != 1 {
		t.Errorf("submission history after migration: %+v %v", h, err)
	}
	vals, err := s.ApprovedValues(ctx, "pii-2024")
	if err != nil || vals[[2]string{"2.2.2", "STC"}] != "0.62" {
		t.Errorf("approved values of the adopted campaign: %v %v", vals, err)
	}
	// Reminders already sent keep their keys under the event's name (the
	// scheduler's EventKey); the campaign's stay as they were.
	for key, job := range map[string]string{"pii-2024/agenda_day_before|2024-08-01T15:00|DB001": "pii-2024/agenda_day_before",
		"indicator_ladder|2024-08-23T08:00|DB002": "indicator_ladder"} {
		if added, err := s.Enqueue(ctx, sqlstore.OutboxItem{Key: key, Job: job, PersonID: "DB001", DueAt: at, CreatedAt: at}); err != nil || added {
			t.Errorf("outbox key %s after migration: added again=%v %v", key, added, err)
		}
	}
	if last, ok, err := s.JobRun(ctx, "pii-2024/agenda_day_before"); err != nil || !ok || last.UnixMilli() != 5 {
		t.Errorf("job run after migration: %v %v %v", last, ok, err)
	}
	// A second event starts empty: the old rows belong to the first.
	ev2 := EventRecord("hn-2025", "HN2025", time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC))
	ev2.Invitees = ev.Invitees
	if _, err := s.ImportEvent(ctx, ev2, at); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.EventRSVPs(ctx, "hn-2025"); len(got) != 0 {
		t.Errorf("a new event inherited answers: %+v", got)
	}
	if changed, err := s.ImportEvent(ctx, ev, at.Add(time.Hour)); err != nil || changed {
		t.Errorf("importing the same files again: changed=%v %v", changed, err)
	}
	if got, _ := s.EventRSVPs(ctx, "pii-2024"); len(got) != 2 {
		t.Errorf("answers after importing again: %+v", got)
	}
}

// RunEvents runs the events-and-campaigns suite; open returns a fresh,
// empty store.
func RunEvents(t *testing.T, open func(t *testing.T) EventsStore) {
	ctx := context.Background()
	at := time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC)
	seed := func(t *testing.T) EventsStore {
		s := open(t)
		if err := s.SyncDirectory(ctx, Agencies(), People()); err != nil {
			t.Fatal(err)
		}
		return s
	}
	t.Run("events round-trip with agenda, invitees and time zone", func(t *testing.T) {
		s := seed(t)
		ev := EventRecord("a", "AAA", time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC))
		ev.Schedule = "reminders: []\n"
		if _, err := s.ImportEvent(ctx, ev, at); err != nil {
			t.Fatal(err)
		}
		got, err := s.Event(ctx, "a")
		if err != nil {
			t.Fatal(err)
		}
		if got.Code != "AAA" || got.Status != domain.StatusOpen || got.Schedule != ev.Schedule || len(got.Invitees) != 3 {
			t.Errorf("event: %+v", got)
		}
		if got.Event.Location.String() != "Asia/Ho_Chi_Minh" || !got.Event.Start.Equal(ev.Event.Start) || got.Event.Start.Location().String() != "Asia/Ho_Chi_Minh" {
			t.Errorf("times: %v %v", got.Event.Start, got.Event.Location)
		}
		if len(got.Event.Agenda) != 1 || got.Event.Agenda[0].SpeakerVI != "Giám đốc Sở" {
			t.Errorf("agenda: %+v", got.Event.Agenda)
		}
	})
	t.Run("a cloned event moves by whole days and keeps agenda and invitees", func(t *testing.T) {
		s := seed(t)
		src := EventRecord("a", "A24", time.Date(2024, 8, 2, 0, 0, 0, 0, time.UTC))
		src.Event.Issuer = domain.Issuer{Body: "SỞ KHOA HỌC VÀ CÔNG NGHỆ", Number: "125/GM-SKHCN", Place: "Hưng Yên",
			Date: time.Date(2024, 7, 26, 0, 0, 0, 0, src.Event.Location), SignerName: "Trần Tùng Chuẩn", SignerTitle: "GIÁM ĐỐC"}
		if _, err := s.ImportEvent(ctx, src, at); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CloneEvent(ctx, "a", "b", "A24", time.Date(2025, 8, 1, 0, 0, 0, 0, time.UTC), at); !errors.Is(err, sqlstore.ErrCodeTaken) {
			t.Errorf("clone with the source's code: %v", err)
		}
		if _, err := s.CloneEvent(ctx, "a", "b", "A25", time.Date(2025, 8, 1, 0, 0, 0, 0, time.UTC), at); err != nil {
			t.Fatal(err)
		}
		got, err := s.Event(ctx, "b")
		if err != nil {
			t.Fatal(err)
		}
		loc := got.Event.Location
		if s := got.Event.Start.In(loc).Format("2006-01-02 15:04"); s != "2025-08-01 08:00" {
			t.Errorf("clone starts %s", s)
		}
		if s := got.Event.RSVPCutoff.In(loc).Format("2006-01-02 15:04"); s != "2025-07-30 17:00" {
			t.Errorf("clone's cut-off %s", s)
		}
		if len(got.Event.Agenda) != 1 || got.Event.Agenda[0].Start.In(loc).Format("2006-01-02 15:04") != "2025-08-01 08:00" || len(got.Invitees) != 3 {
			t.Errorf("clone: %+v", got)
		}
		// The same issuer and signer; the letter's number is the clerk's
		// to give again, its date moved with the event.
		if is := got.Event.Issuer; is.Body != "SỞ KHOA HỌC VÀ CÔNG NGHỆ" || is.SignerName != "Trần Tùng Chuẩn" || is.Number != "/GM-SKHCN" ||
			is.Date.In(loc).Format("2006-01-02") != "2025-07-25" {
			t.Errorf("clone's issuer: %+v", is)
		}
		if orig, _ := s.Event(ctx, "a"); !orig.Event.Start.Equal(src.Event.Start) || orig.Event.Issuer.Number != "125/GM-SKHCN" {
			t.Errorf("the source moved: %v", orig.Event.Start)
		}
	})
	t.Run("two events cannot share a code", func(t *testing.T) {
		s := seed(t)
		if _, err := s.ImportEvent(ctx, EventRecord("a", "SAME", at), at); err != nil {
			t.Fatal(err)
		}
		_, err := s.ImportEvent(ctx, EventRecord("b", "SAME", at), at)
		if !errors.Is(err, sqlstore.ErrCodeTaken) {
			t.Fatalf("second event with the same code: %v", err)
		}
		if list, _ := s.Events(ctx); len(list) != 1 {
			t.Errorf("the refused event was stored: %+v", list)
		}
	})
	t.Run("answers and check-ins are per event", func(t *testing.T) {
		s := seed(t)
		for _, ev := range []domain.EventRecord{EventRecord("a", "A1", at), EventRecord("b", "B1", at.AddDate(0, 0, 1))} {
			if _, err := s.ImportEvent(ctx, ev, at); err != nil {
				t.Fatal(err)
			}
		}
		s.SetEvent("a")
		for i, r := range []domain.RSVP{
			{PersonID: "DB001", Status: domain.RSVPAttend, Channel: domain.Telegram, EventID: "a"},
			{PersonID: "DB001", Status: domain.RSVPDecline, Channel: domain.Telegram, EventID: "b"},
			{PersonID: "DB002", Status: domain.RSVPAttend, Channel: domain.Telegram}, // the current event
		} {
			key := domain.UpdateKey{Channel: domain.Telegram, UpdateID: "ev" + string(rune('0'+i))}
			if _, err := s.Apply(ctx, key, at, []domain.Effect{domain.SaveRSVP{RSVP: r}}); err != nil {
				t.Fatal(err)
			}
		}
		a, _ := s.EventRSVPs(ctx, "a")
		b, _ := s.EventRSVPs(ctx, "b")
		if a["DB001"].Status != domain.RSVPAttend || a["DB002"].Status != domain.RSVPAttend || len(b) != 1 || b["DB001"].Status != domain.RSVPDecline {
			t.Errorf("answers a=%+v b=%+v", a, b)
		}
		if mine, err := s.PersonRSVPs(ctx, "DB001"); err != nil || len(mine) != 2 || mine["a"].Status != domain.RSVPAttend || mine["b"].Status != domain.RSVPDecline {
			t.Errorf("DB001's answers by event: %+v %v", mine, err)
		}
		if h, err := s.EventAnswerHistory(ctx, "b"); err != nil || len(h) != 1 || h[0].PersonID != "DB001" || h[0].EventID != "b" {
			t.Errorf("answers to b: %+v %v", h, err)
		}
		if au, err := s.ScopeAudit(ctx, "event:a"); err != nil || len(au) != 1 || au[0].Action != "event.save" {
			t.Errorf("audit of event a: %+v %v", au, err)
		}
		if st, _ := s.PersonState(ctx, "DB001"); st.RSVP == nil || st.RSVP.Status != domain.RSVPAttend {
			t.Errorf("person state for the current event: %+v", st.RSVP)
		}
		if _, fresh, err := s.CheckIn(ctx, sqlstore.CheckIn{PersonID: "DB001", At: at, Method: "self", EventID: "a"}); err != nil || !fresh {
			t.Fatalf("check in to a: %v %v", fresh, err)
		}
		if _, fresh, err := s.CheckIn(ctx, sqlstore.CheckIn{PersonID: "DB001", At: at, Method: "desk", EventID: "b"}); err != nil || !fresh {
			t.Fatalf("check in to b: %v %v", fresh, err)
		}
		if first, fresh, err := s.CheckIn(ctx, sqlstore.CheckIn{PersonID: "DB001", At: at.Add(time.Hour), Method: "desk", EventID: "a"}); err != nil || fresh || first.Method != "self" {
			t.Errorf("second check-in to a: %+v %v %v", first, fresh, err)
		}
	})
	t.Run("a campaign names its previous one; closing keeps approved values", func(t *testing.T) {
		s := seed(t)
		if err := s.SyncCatalog(ctx, Indicators(), Assignments()); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ImportCampaign(ctx, domain.CampaignRecord{ID: "pii-2024", NameVI: "PII 2024", CatalogVersion: "2024"}, at); err != nil {
			t.Fatal(err)
		}
		s.SetCampaign("pii-2024")
		n := 0
		apply := func(e domain.Effect) {
			n++
			if _, err := s.Apply(ctx, domain.UpdateKey{Channel: domain.Telegram, UpdateID: "c" + string(rune('a'+n))}, at, []domain.Effect{e}); err != nil {
				t.Fatal(err)
			}
		}
		apply(domain.SaveSubmission{Submission: domain.Submission{Indicator: "2.2.2", Agency: "STC", Value: "0.7", By: "DB002"}, Action: "submit"})
		apply(domain.ReviewSubmission{Indicator: "2.2.2", Agency: "STC", Approve: true, By: "DB003", ExpectVersion: 1})
		if err := s.SetCampaignStatus(ctx, "pii-2024", domain.StatusClosed, "DB003", at); err != nil {
			t.Fatal(err)
		}
		cloned, err := s.CloneCampaign(ctx, "pii-2024", "pii-2025", "PII 2025", "PII 2025", at)
		if err != nil || cloned.PreviousID != "pii-2024" || cloned.Status != domain.StatusOpen {
			t.Fatalf("clone: %+v %v", cloned, err)
		}
		next := cloned
		next.CatalogVersion, next.CodeMap = "2025", map[string]string{"2.2.2b": "2.2.2"}
		next.Deadline, next.AgencyDeadlines = at.AddDate(0, 2, 0), map[string]time.Time{"STC": at.AddDate(0, 1, 0)}
		if _, err := s.ImportCampaign(ctx, next, at); err != nil {
			t.Fatal(err)
		}
		list, err := s.Campaigns(ctx)
		if err != nil || len(list) != 2 || list[0].ID != "pii-2025" {
			t.Fatalf("campaigns, open first: %+v %v", list, err)
		}
		if list[0].PreviousCode("2.2.2b") != "2.2.2" || !list[0].AgencyDeadlines["STC"].Equal(at.AddDate(0, 1, 0)) {
			t.Errorf("campaign fields: %+v", list[0])
		}
		vals, err := s.ApprovedValues(ctx, "pii-2024")
		if err != nil || vals[[2]string{"2.2.2", "STC"}] != "0.7" {
			t.Errorf("approved values of 2024: %v %v", vals, err)
		}
		// 2025's catalog renamed 2.2.2 to 2.2.2b: it shows 2024's approved
		// value as last year's; P1.04, never approved, keeps the file's.
		inds := Indicators()
		inds[0].Code = "2.2.2b"
		inds[1].LastYear = "61,2"
		prev, _ := s.Campaign(ctx, list[0].PreviousID)
		shown := domain.WithLastYear(inds, list[0], prev.NameVI, vals)
		if shown[0].LastYear != "0,7 (PII 2024)" || shown[1].LastYear != "61,2" {
			t.Errorf("last year's values in 2025: %q, %q", shown[0].LastYear, shown[1].LastYear)
		}
		// 2025 starts empty: its agencies answer again, and 2024's
		// approved row stays as it was.
		s.SetCampaign("pii-2025")
		if subs, _ := s.Submissions(ctx, "STC"); len(subs) != 0 {
			t.Errorf("2025 inherited submissions: %+v", subs)
		}
		apply(domain.SaveSubmission{Submission: domain.Submission{Indicator: "2.2.2", Agency: "STC", Value: "0.8", By: "DB002"}, Action: "draft"})
		if subs, _ := s.Submissions(ctx, "STC"); len(subs) != 1 || subs[0].Value != "0.8" {
			t.Errorf("2025 submissions: %+v", subs)
		}
		s.SetCampaign("pii-2024")
		if subs, _ := s.Submissions(ctx, "STC"); len(subs) != 1 || subs[0].Value != "0.7" || subs[0].Status != domain.StatusApproved {
			t.Errorf("2024 after 2025 began: %+v", subs)
		}
	})
	t.Run("an unknown status is refused", func(t *testing.T) {
		s := seed(t)
		ev := EventRecord("a", "A", at)
		ev.Status = "deleted"
		if _, err := s.ImportEvent(ctx, ev, at); err == nil {
			t.Error("status deleted accepted")
		}
		if err := s.SetCampaignStatus(ctx, "nope", domain.StatusClosed, "", at); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("closing a missing campaign: %v", err)
		}
	})
}
