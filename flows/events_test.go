package flows

import (
	"strings"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
)

// councilRecord is a second event on the same day as testEvent.
func councilRecord() domain.EventRecord {
	return domain.EventRecord{Code: "HD2024", Status: domain.StatusOpen, Event: domain.Event{
		ID: "council-2024", NameVI: "Hội đồng thẩm định đề tài", NameEN: "Project appraisal council", Location: hcm,
		DoorsOpen: at(13, 45), Start: at(14, 0), End: at(16, 0), VenueVI: "Phòng họp tầng 3", VenueEN: "Room 3",
		RSVPCutoff: time.Date(2024, 8, 1, 12, 0, 0, 0, hcm),
		Agenda:     []domain.AgendaItem{{No: 1, Start: at(14, 0), End: at(16, 0), TitleVI: "Thẩm định", TitleEN: "Appraisal"}},
	}}
}

// eventsChat drives Step for a delegate invited to the given events,
// keeping each event's answer as the store would.
type eventsChat struct {
	t       *testing.T
	s       Session
	events  []domain.EventRecord
	answers map[string]*domain.RSVP
	last    Result
}

func (c *eventsChat) send(in Input) Result {
	c.t.Helper()
	p, _ := testDirectory().Person("DB001")
	f := Facts{Now: time.Date(2024, 7, 25, 9, 0, 0, 0, hcm), Channel: domain.Telegram, UserID: "42", ChatID: "42",
		Event: testEvent(), Directory: testDirectory(), Person: &p, Proof: domain.ProofCode,
		RSVP: c.answers["pii-2024"], Events: c.events, EventRSVPs: c.answers}
	r := Step(c.s, in, f)
	for _, e := range r.Effects {
		if s, ok := e.(domain.SaveRSVP); ok {
			id := s.RSVP.EventID
			if id == "" {
				id = "pii-2024"
			}
			rec := s.RSVP
			c.answers[id] = &rec
		}
	}
	c.s, c.last = r.Session, r
	return r
}

func (c *eventsChat) text() string {
	var b strings.Builder
	for _, r := range c.last.Replies {
		b.WriteString(r.Text)
		b.WriteString("\n")
		for _, row := range r.Buttons {
			for _, btn := range row {
				b.WriteString("[" + btn.Data + "]")
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

func TestSeveralEvents(t *testing.T) {
	pii := domain.EventRecord{Code: "PII2024", Status: domain.StatusOpen, Event: *testEvent()}
	c := &eventsChat{t: t, events: []domain.EventRecord{pii, councilRecord()}, answers: map[string]*domain.RSVP{}}
	type step struct {
		label   string
		in      Input
		want    []string
		not     []string
		effects int
		eventID string // of the answer saved, when effects
	}
	for _, s := range []step{
		{label: "/xacnhan lists both events, asking which", in: cmd("xacnhan", ""),
			want: []string{"được mời dự 2 sự kiện", "1. 📅 Hội nghị triển khai", "2. 📅 Hội đồng thẩm định đề tài", "[ev:PII2024]", "[ev:HD2024]", "chưa trả lời"}},
		{label: "an answer button naming no event asks which", in: btn(btnAttend), want: []string{"[ev:PII2024]", "[ev:HD2024]"}},
		{label: "picking the council shows its card with its own buttons", in: btn("ev:HD2024"),
			want: []string{"Hội đồng thẩm định đề tài", "Phòng họp tầng 3", "[rsvp:attend:HD2024]", "[rsvp:decline:HD2024]", "[menu:events]"}},
		{label: "declining answers the council", in: btn("rsvp:decline:HD2024"), effects: 1, eventID: "council-2024"},
		{label: "a conference reminder's button answers the conference", in: btn("rsvp:attend:PII2024"), effects: 1, eventID: "pii-2024",
			want: []string{"Trung tâm Thông tin - Hội nghị tỉnh Hưng Yên"}},
		{label: "the agenda is the chosen event's", in: btn(btnAgenda), want: []string{"Tuyên bố lý do"}, not: []string{"Thẩm định"}},
		{label: "the card lists each answer", in: cmd("start", ""), want: []string{"Hội nghị triển khai", "tham dự", "không tham dự"}},
		{label: "/chuongtrinh without a chosen event asks which", in: cmd("chuongtrinh", ""), want: []string{"[ev:PII2024]"}},
		{label: "an event that is gone is said so", in: btn("ev:NOPE"), want: []string{"không còn trong danh sách"}},
		{label: "an answer button of a gone event changes nothing", in: btn("rsvp:attend:NOPE"), want: []string{"không còn trong danh sách"}},
	} {
		r := c.send(s.in)
		got := c.text()
		for _, w := range s.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: reply lacks %q:\n%s", s.label, w, got)
			}
		}
		for _, w := range s.not {
			if strings.Contains(got, w) {
				t.Errorf("%s: reply has %q:\n%s", s.label, w, got)
			}
		}
		if len(r.Effects) != s.effects {
			t.Fatalf("%s: %d effects %+v, want %d", s.label, len(r.Effects), r.Effects, s.effects)
		}
		if s.effects > 0 {
			if rs, ok := r.Effects[0].(domain.SaveRSVP); !ok || rs.RSVP.EventID != s.eventID {
				t.Errorf("%s: saved %+v, want for %s", s.label, r.Effects[0], s.eventID)
			}
		}
	}
	if c.answers["council-2024"].Status != domain.RSVPDecline || c.answers["pii-2024"].Status != domain.RSVPAttend {
		t.Errorf("answers: council %v, conference %v", c.answers["council-2024"].Status, c.answers["pii-2024"].Status)
	}

	// One upcoming event only, and not the deployment's: the chat is about
	// it, as with a single event, and answers it.
	one := &eventsChat{t: t, events: []domain.EventRecord{councilRecord()}, answers: map[string]*domain.RSVP{}}
	one.send(cmd("xacnhan", ""))
	if got := one.text(); !strings.Contains(got, "Hội đồng thẩm định đề tài") || !strings.Contains(got, "[rsvp:attend]") || strings.Contains(got, "[menu:events]") {
		t.Errorf("one other event: %s", got)
	}
	if r := one.send(btn(btnAttend)); len(r.Effects) != 1 || r.Effects[0].(domain.SaveRSVP).RSVP.EventID != "council-2024" {
		t.Errorf("one other event, answer: %+v", r.Effects)
	}
}

func TestStaffSwitchesEvent(t *testing.T) {
	staff := domain.Person{ID: "ST1", FullName: "Đinh Hải Giang", AgencyCode: "STC", Roles: []domain.Role{domain.RoleStaff}}
	dir := domain.NewDirectory([]domain.Person{staff}, []domain.Agency{{Code: "STC", NameVI: "Sở Tài chính"}})
	pii := domain.EventRecord{Code: "PII2024", Status: domain.StatusOpen, Event: *testEvent()}
	all := []domain.EventRecord{pii, councilRecord()}
	var s Session
	step := func(in Input, proof domain.Proof) Result {
		p := staff
		f := Facts{Now: time.Date(2024, 7, 25, 9, 0, 0, 0, hcm), Channel: domain.Telegram, UserID: "9", ChatID: "9",
			Event: testEvent(), Directory: dir, Person: &p, Proof: proof, AllEvents: all}
		r := Step(s, in, f)
		s = r.Session
		return r
	}
	for _, tc := range []struct {
		label string
		in    Input
		proof domain.Proof
		want  string
		task  *Task
	}{
		{"/tonghop starts with the served event", cmd("tonghop", ""), domain.ProofPhone, "", &Task{Name: "headcount"}},
		{"/sukien lists the open events", cmd("sukien", ""), domain.ProofPhone, "sev:HD2024", nil},
		{"choosing the council", btn("sev:HD2024"), domain.ProofPhone, "Hội đồng thẩm định đề tài", nil},
		{"/tonghop is then the council's", cmd("tonghop", ""), domain.ProofPhone, "", &Task{Name: "headcount", Arg: "council-2024"}},
		{"an unverified chat cannot switch", btn("sev:PII2024"), domain.ProofCode, "", nil},
		{"and the choice stays the council", cmd("tonghop", ""), domain.ProofPhone, "", &Task{Name: "headcount", Arg: "council-2024"}},
	} {
		r := step(tc.in, tc.proof)
		var b strings.Builder
		for _, rep := range r.Replies {
			b.WriteString(rep.Text)
			for _, row := range rep.Buttons {
				for _, btn := range row {
					b.WriteString("[" + btn.Data + "]")
				}
			}
		}
		if tc.want != "" && !strings.Contains(b.String(), tc.want) {
			t.Errorf("%s: reply lacks %q: %s", tc.label, tc.want, b.String())
		}
		if tc.task != nil && (len(r.Tasks) != 1 || r.Tasks[0] != *tc.task) {
			t.Errorf("%s: tasks %+v, want %+v", tc.label, r.Tasks, *tc.task)
		}
	}
}
