package flows

import (
	"strings"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
)

// Which event a meeting input is about: the code its button or the
// session names; else the person's events on now (from midnight of their
// day), else the next day's; staff's /sukien choice first.
func TestMeetingEventChoice(t *testing.T) {
	rec := func(code string, start, end time.Time) domain.EventRecord {
		return domain.EventRecord{Code: code, Event: domain.Event{ID: strings.ToLower(code), Location: hcm, Start: start, End: end}}
	}
	day := func(d, h int) time.Time { return time.Date(2024, 8, d, h, 0, 0, 0, hcm) }
	conf, council, later := rec("PII", day(2, 8), day(2, 11)), rec("HD", day(2, 9), day(2, 12)), rec("TH", day(9, 8), day(9, 17))
	codes := func(rs []domain.EventRecord) string {
		var out []string
		for _, r := range rs {
			out = append(out, r.Code)
		}
		return strings.Join(out, ",")
	}
	staff := &domain.Person{ID: "S", Roles: []domain.Role{domain.RoleStaff}}
	for _, tt := range []struct {
		label  string
		s      Session
		f      Facts
		want   string
		person *domain.Person
	}{
		{label: "one event, nothing to choose", f: Facts{Now: day(2, 10)}, want: ""},
		{label: "two on now: both", f: Facts{Now: day(2, 10), Events: []domain.EventRecord{conf, council, later}}, want: "PII,HD"},
		{label: "the day before: both of that day", f: Facts{Now: day(1, 16), Events: []domain.EventRecord{conf, council, later}}, want: "PII,HD"},
		{label: "from midnight of its day", f: Facts{Now: day(2, 0), Events: []domain.EventRecord{conf, council}}, want: "PII,HD"},
		{label: "one over, the other on", f: Facts{Now: day(2, 11), Events: []domain.EventRecord{council, later}}, want: "HD"},
		{label: "none on: the next", f: Facts{Now: day(5, 9), Events: []domain.EventRecord{later}}, want: "TH"},
		{label: "staff chose with /sukien", s: Session{StaffEvent: "TH"}, person: staff,
			f: Facts{Now: day(2, 10), Events: []domain.EventRecord{conf, council}, AllEvents: []domain.EventRecord{conf, council, later}}, want: "TH"},
		{label: "a delegate's stale staff choice counts for nothing", s: Session{StaffEvent: "TH"},
			f: Facts{Now: day(2, 10), Events: []domain.EventRecord{conf, council}, AllEvents: []domain.EventRecord{later}}, want: "PII,HD"},
	} {
		t.Run(tt.label, func(t *testing.T) {
			tt.f.Person = tt.person
			if tt.f.Person == nil {
				tt.f.Person = &domain.Person{ID: "D", Roles: []domain.Role{domain.RoleDelegate}}
			}
			if got := codes(MeetingCandidates(tt.s, tt.f)); got != tt.want {
				t.Errorf("candidates = %q, want %q", got, tt.want)
			}
		})
	}
	for _, tt := range []struct {
		label string
		s     Session
		in    Input
		want  string
	}{
		{"choice button", Session{}, Input{Kind: InButton, Data: "mt:e:HD2024:ask"}, "HD2024"},
		{"vote with its code", Session{}, Input{Kind: InButton, Data: "mt:v:12:2:HD2024"}, "HD2024"},
		{"vote of the served event", Session{}, Input{Kind: InButton, Data: "mt:v:12:2"}, ""},
		{"documents button", Session{}, Input{Kind: InButton, Data: "mt:docs:HD2024"}, "HD2024"},
		{"question being written", Session{State: stateMtText, Draft: map[string]string{draftMtEvent: "HD2024"}}, Input{Kind: InText, Text: "?"}, "HD2024"},
		{"a new command forgets it", Session{State: stateMtText, Draft: map[string]string{draftMtEvent: "HD2024"}}, Input{Kind: InCommand, Command: "cauhoi"}, ""},
		{"bad choice button", Session{}, Input{Kind: InButton, Data: "mt:e:ask"}, ""},
	} {
		t.Run(tt.label, func(t *testing.T) {
			if got := MeetingEventCode(tt.s, tt.in); got != tt.want {
				t.Errorf("code = %q, want %q", got, tt.want)
			}
		})
	}
}

// With several qualifying events the command asks which, with buttons
// carrying each event's code; a question whose event went away meanwhile
// is not sent to another.
func TestMeetingAsksWhichEvent(t *testing.T) {
	during := at(9, 50)
	council := domain.EventRecord{Code: "HD", Event: domain.Event{ID: "hd", NameVI: "Hội đồng", Location: hcm, Start: at(9, 0), End: at(12, 0)}}
	conf := domain.EventRecord{Code: "PII", Event: *meetingEvent()}
	r := meetingStep(Session{}, Input{Kind: InCommand, Command: "cauhoi"}, during, &MeetingFacts{Choices: []domain.EventRecord{conf, council}})
	if len(r.Replies) != 1 || !strings.Contains(r.Replies[0].Text, "nhiều sự kiện") || len(r.Replies[0].Buttons) != 2 ||
		r.Replies[0].Buttons[1][0].Data != "mt:e:HD:ask" || len(r.Effects) != 0 {
		t.Fatalf("the choice: %+v", r.Replies)
	}
	// Chosen: the council's agenda, its code kept for the next steps.
	ev := council.Event
	ev.Agenda = []domain.AgendaItem{{No: 1, Start: at(9, 0), End: at(11, 0), TitleVI: "Trao đổi, thảo luận đề tài"}}
	r = meetingStep(r.Session, Input{Kind: InButton, Data: "mt:e:HD:ask"}, during, &MeetingFacts{Event: &ev, EventCode: "HD"})
	if r.Session.Draft[draftMtEvent] != "HD" || !strings.Contains(r.Replies[0].Text, "về nội dung nào") ||
		!strings.Contains(r.Replies[0].Buttons[1][0].Label, "Trao đổi, thảo luận đề tài") {
		t.Fatalf("after choosing: %+v %+v", r.Session, r.Replies)
	}
	r = meetingStep(r.Session, Input{Kind: InButton, Data: "mt:s:a1"}, during, &MeetingFacts{Event: &ev, EventCode: "HD"})
	r2 := meetingStep(r.Session, Input{Kind: InText, Text: "Kinh phí?"}, during, &MeetingFacts{Event: &ev, EventCode: "HD"})
	if qs := questions(r2.Effects); len(qs) != 1 || qs[0].EventID != "hd" || qs[0].AgendaNo != 1 {
		t.Fatalf("question = %+v", qs)
	}
	// The council is gone before the text is sent: nothing stored.
	r2 = meetingStep(r.Session, Input{Kind: InText, Text: "Kinh phí?"}, during, &MeetingFacts{})
	if len(r2.Effects) != 0 || !strings.Contains(r2.Replies[0].Text, "không còn") {
		t.Fatalf("with the event gone: %+v %+v", r2.Effects, r2.Replies)
	}
}

// /congviec lists a person's tasks of every event; two events' tasks with
// the same id are told apart in their buttons, and a status pressed
// changes the task of the event the button names; a long event id is named
// by a digest that fits Telegram's 64 bytes.
func TestTasksOfTwoEvents(t *testing.T) {
	due := time.Date(2024, 8, 5, 17, 0, 0, 0, hcm)
	tasks := []domain.Task{
		{EventID: "pii-2024", ID: "VP-01", Title: "Chuẩn bị hội trường", OwnerID: "DB001", Deadline: due, Status: domain.TaskTodo},
		{EventID: "hd", ID: "VP-01", Title: "Gửi hồ sơ hội đồng", OwnerID: "DB001", Deadline: due, Status: domain.TaskTodo},
	}
	p := domain.Person{ID: "DB001", FullName: "Nguyễn Văn An", AgencyCode: "STC", Roles: []domain.Role{domain.RoleDelegate}}
	step := func(in Input) Result {
		return Step(Session{}, in, Facts{Now: at(9, 0), Channel: domain.Telegram, UserID: "1", ChatID: "1", Event: testEvent(),
			Directory: testDirectory(), Person: &p, Proof: domain.ProofPhone, StateOf: p.ID, Tasks: tasks})
	}
	r := step(Input{Kind: InCommand, Command: "congviec"})
	var data []string
	for _, row := range r.Replies[0].Buttons {
		data = append(data, row[0].Data)
	}
	if strings.Join(data, " ") != "cv:o:VP-01 cv:o:VP-01@hd" {
		t.Fatalf("task buttons = %q", data)
	}
	r = step(Input{Kind: InButton, Data: "cv:s:doing:VP-01@hd"})
	if len(r.Effects) != 1 || r.Effects[0].(domain.UpdateTask).EventID != "hd" || r.Effects[0].(domain.UpdateTask).Status != domain.TaskDoing {
		t.Fatalf("effects = %+v", r.Effects)
	}
	r = step(Input{Kind: InButton, Data: "cv:s:doing:VP-01@other"})
	if len(r.Effects) != 0 || r.Refused == "" {
		t.Fatalf("a task of no event of theirs: %+v", r.Effects)
	}
	long := domain.Task{EventID: strings.Repeat("hoi-dong-tham-dinh-", 3), ID: "KL-2024-01"}
	if ref := TaskRef(long, "pii-2024"); len("cv:s:blocked:"+ref) > 64 || !strings.HasPrefix(ref, "KL-2024-01@") {
		t.Errorf("long event id: %q", ref)
	}
}
