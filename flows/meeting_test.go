package flows

import (
	"strings"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
)

func meetingEvent() *domain.Event {
	ev := testEvent()
	ev.Agenda = append(ev.Agenda,
		domain.AgendaItem{No: 3, Start: at(8, 30), End: at(9, 45), TitleVI: "Trình bày Kế hoạch số 106/KH-UBND", TitleEN: "Plan 106"},
		domain.AgendaItem{No: 4, Start: at(9, 45), End: at(10, 45), TitleVI: "Trao đổi, thảo luận", TitleEN: "Discussion"})
	return ev
}

var meetingDocs = []domain.MeetingDoc{
	{ID: 7, EventID: "pii-2024", AgendaNo: 3, Title: "Kế hoạch số 106/KH-UBND", FileName: "kh-106.pdf"},
	{ID: 8, EventID: "pii-2024", AgendaNo: 0, Title: "Kịch bản điều hành", FileName: "kich-ban.pdf", Internal: true},
}

// meetingStep runs one input for delegate DB001 (or staff) with the
// meeting's facts.
func meetingStep(s Session, in Input, now time.Time, m *MeetingFacts, roles ...domain.Role) Result {
	if len(roles) == 0 {
		roles = []domain.Role{domain.RoleDelegate}
	}
	p := domain.Person{ID: "DB001", FullName: "Nguyễn Văn An", AgencyCode: "STC", Roles: roles}
	return Step(s, in, Facts{Now: now, Channel: domain.Telegram, UserID: "1", ChatID: "1", Event: meetingEvent(),
		Directory: testDirectory(), Person: &p, Proof: domain.ProofPhone, StateOf: p.ID, Meeting: m})
}

func questions(effects []domain.Effect) []domain.Question {
	var out []domain.Question
	for _, e := range effects {
		if q, ok := e.(domain.AskQuestion); ok {
			out = append(out, q.Question)
		}
	}
	return out
}

func TestQuestionWindowEndsWithTheDiscussion(t *testing.T) {
	from, to := QuestionWindow(meetingEvent())
	if want := time.Date(2024, 8, 1, 0, 0, 0, 0, hcm); !from.Equal(want) {
		t.Errorf("from = %v, want %v", from, want)
	}
	if !to.Equal(at(10, 45)) {
		t.Errorf("to = %v, want the discussion item's end 10:45", to)
	}
	ev := testEvent() // no discussion item: until the event ends
	if _, to := QuestionWindow(ev); !to.Equal(ev.End) {
		t.Errorf("without a discussion item: to = %v, want %v", to, ev.End)
	}
}

func TestMeetingSteps(t *testing.T) {
	during := at(9, 50)
	long := strings.Repeat("ý", MaxQuestionLen+1)
	vote := &domain.Vote{ID: 3, EventID: "pii-2024", Question: "Thông qua kế hoạch?", Kind: domain.VoteOptions,
		Options: []string{"Đồng ý", "Không đồng ý"}, Status: domain.VoteOpen}
	closed := *vote
	closed.Status = domain.VoteClosed
	tests := []struct {
		name      string
		s         Session
		in        Input
		now       time.Time
		m         *MeetingFacts
		roles     []domain.Role
		wantText  string
		wantState string
		wantQ     int  // questions stored
		wantVote  int  // choice stored, 0: none
		wantAudit bool // an audit effect
		wantTask  string
	}{
		{name: "too early", in: cmd("cauhoi", ""), now: time.Date(2024, 7, 30, 9, 0, 0, 0, hcm), m: &MeetingFacts{},
			wantText: "từ 00:00 ngày 01/08/2024 đến 10:45 ngày 02/08/2024"},
		{name: "after the discussion", in: cmd("cauhoi", "Còn kịp không?"), now: at(10, 45), m: &MeetingFacts{},
			wantText: "đã kết thúc lúc 10:45"},
		{name: "over 1000 characters refused, nothing kept", in: cmd("cauhoi", long), now: during, m: &MeetingFacts{},
			wantText: "quá giới hạn 1000 ký tự"},
		{name: "too many in ten minutes", in: cmd("phatbieu", "Ý kiến"), now: during, m: &MeetingFacts{RecentQuestions: MaxQuestionsPerWindow},
			wantText: "Xin đợi ít phút"},
		{name: "not a delegate", in: cmd("cauhoi", "x"), now: during, m: &MeetingFacts{}, roles: []domain.Role{domain.RoleFocal},
			wantText: "dành cho đại biểu"},
		{name: "question asks the subject first", in: cmd("cauhoi", ""), now: during, m: &MeetingFacts{Docs: meetingDocs},
			wantText: "về nội dung nào", wantState: stateMtSubject},
		{name: "a document as subject, then the text", s: Session{State: stateMtSubject, Draft: map[string]string{}},
			in: btn("mt:s:d7"), now: during, m: &MeetingFacts{Docs: meetingDocs},
			wantText: "về «Kế hoạch số 106/KH-UBND»", wantState: stateMtText},
		{name: "an internal document is no subject", s: Session{State: stateMtSubject, Draft: map[string]string{}},
			in: btn("mt:s:d8"), now: during, m: &MeetingFacts{Docs: meetingDocs},
			wantText: "chọn một trong các nút", wantState: stateMtSubject},
		{name: "the text sends it", s: Session{State: stateMtText, Draft: map[string]string{"doc": "7", "item": "3"}},
			in: text("Kinh phí thực hiện lấy từ đâu?"), now: during, m: &MeetingFacts{Docs: meetingDocs},
			wantText: "Đã gửi câu hỏi về «Kế hoạch số 106/KH-UBND»", wantQ: 1},
		{name: "a long text is refused and the question kept open", s: Session{State: stateMtText, Draft: map[string]string{"item": "3"}},
			in: text(long), now: during, m: &MeetingFacts{},
			wantText: "quá giới hạn", wantState: stateMtText},
		{name: "anonymous offered when allowed", s: Session{State: stateMtText, Draft: map[string]string{"item": "4"}},
			in: text("Câu hỏi tế nhị"), now: during, m: &MeetingFacts{AllowAnonymous: true},
			wantText: "ẩn danh", wantState: stateMtAnon},
		{name: "anonymous is still audited", s: Session{State: stateMtAnon, Draft: map[string]string{"item": "4", "text": "Câu hỏi tế nhị"}},
			in: btn("mt:anon:1"), now: during, m: &MeetingFacts{AllowAnonymous: true},
			wantText: "Đã gửi câu hỏi", wantQ: 1, wantAudit: true},
		{name: "anonymous button when staff turned it off", s: Session{State: stateMtAnon, Draft: map[string]string{"text": "x"}},
			in: btn("mt:anon:1"), now: during, m: &MeetingFacts{},
			wantText: "không còn hiệu lực"},
		{name: "speaking request with its topic", in: cmd("phatbieu", "Nguồn lực cho đổi mới sáng tạo cấp huyện"), now: during, m: &MeetingFacts{},
			wantText: "Đã đăng ký phát biểu", wantQ: 1},
		{name: "speaking request asks the topic", in: cmd("phatbieu", ""), now: during, m: &MeetingFacts{},
			wantText: "phát biểu về nội dung gì", wantState: stateMtTopic},
		{name: "documents for a delegate", in: cmd("tailieu", ""), now: during, m: &MeetingFacts{Docs: meetingDocs[:1]},
			wantText: "Tài liệu Hội nghị (1)", wantTask: "meeting_docs:pii-2024|7"},
		{name: "no documents yet", in: cmd("tailieu", ""), now: during, m: &MeetingFacts{},
			wantText: "Chưa có tài liệu"},
		{name: "vote before checking in", in: btn("mt:v:3:1"), now: during, m: &MeetingFacts{Vote: vote},
			wantText: "đã điểm danh"},
		{name: "vote", in: btn("mt:v:3:1"), now: during, m: &MeetingFacts{Vote: vote, CheckedIn: true},
			wantText: "Đã ghi nhận lựa chọn «Đồng ý»", wantVote: 1},
		{name: "vote changed", in: btn("mt:v:3:2"), now: during, m: &MeetingFacts{Vote: vote, CheckedIn: true, MyChoice: 1},
			wantText: "«Không đồng ý»", wantVote: 2},
		{name: "same choice again changes nothing", in: btn("mt:v:3:2"), now: during, m: &MeetingFacts{Vote: vote, CheckedIn: true, MyChoice: 2},
			wantText: "không có gì thay đổi"},
		{name: "vote after closing refused", in: btn("mt:v:3:1"), now: during, m: &MeetingFacts{Vote: &closed, CheckedIn: true, MyChoice: 2},
			wantText: "đã kết thúc; lựa chọn này không được ghi nhận"},
		{name: "a choice the vote does not have", in: btn("mt:v:3:9"), now: during, m: &MeetingFacts{Vote: vote, CheckedIn: true},
			wantText: "không còn"},
		{name: "another vote's button", in: btn("mt:v:4:1"), now: during, m: &MeetingFacts{Vote: vote, CheckedIn: true},
			wantText: "không còn"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := meetingStep(tc.s, tc.in, tc.now, tc.m, tc.roles...)
			var all []string
			for _, r := range res.Replies {
				all = append(all, r.Text)
			}
			text := strings.Join(all, "\n")
			if !strings.Contains(text, tc.wantText) {
				t.Errorf("replies %q lack %q", text, tc.wantText)
			}
			if res.Session.State != tc.wantState {
				t.Errorf("state = %q, want %q", res.Session.State, tc.wantState)
			}
			qs := questions(res.Effects)
			if len(qs) != tc.wantQ {
				t.Errorf("questions stored = %+v, want %d", qs, tc.wantQ)
			}
			vote, audit := 0, false
			for _, e := range res.Effects {
				switch e := e.(type) {
				case domain.CastVote:
					vote = e.Choice
				case domain.Audit:
					audit = true
				}
			}
			if vote != tc.wantVote || audit != tc.wantAudit {
				t.Errorf("vote %d audit %v, want %d %v", vote, audit, tc.wantVote, tc.wantAudit)
			}
			task := ""
			for _, tk := range res.Tasks {
				task = tk.Name + ":" + tk.Arg
			}
			if task != tc.wantTask {
				t.Errorf("task = %q, want %q", task, tc.wantTask)
			}
		})
	}
}

// What a question and a speaking request store.
func TestMeetingQuestionStored(t *testing.T) {
	res := meetingStep(Session{State: stateMtText, Draft: map[string]string{"doc": "7", "item": "3"}},
		text("  Kinh phí lấy từ đâu?  "), at(9, 50), &MeetingFacts{Docs: meetingDocs})
	q := questions(res.Effects)[0]
	if q.EventID != "pii-2024" || q.PersonID != "DB001" || q.Kind != domain.QuestionAsk || q.DocumentID != 7 || q.AgendaNo != 3 ||
		q.Body != "Kinh phí lấy từ đâu?" || q.Anonymous {
		t.Fatalf("question = %+v", q)
	}
	res = meetingStep(Session{}, cmd("phatbieu", "Nguồn lực"), at(9, 50), &MeetingFacts{})
	q = questions(res.Effects)[0]
	if q.Kind != domain.QuestionSpeak || q.AgendaNo != 4 || q.Body != "Nguồn lực" {
		t.Fatalf("speaking request = %+v; want it on the discussion item (4)", q)
	}
}

// Every meeting text exists in both languages with the same verbs.
func TestMeetingCatalogsComplete(t *testing.T) {
	vi, en := meetingCatalogs[domain.Vietnamese], meetingCatalogs[domain.English]
	for k, v := range vi {
		e, ok := en[k]
		if !ok {
			t.Errorf("English lacks %q", k)
			continue
		}
		if strings.Count(v, "%") != strings.Count(e, "%") {
			t.Errorf("%q: verbs differ: %q / %q", k, v, e)
		}
	}
	for k := range en {
		if _, ok := vi[k]; !ok {
			t.Errorf("Vietnamese lacks %q", k)
		}
	}
}

// The vote message: one button per option, a row of 1–5 for a rating.
func TestVoteMessage(t *testing.T) {
	r := VoteMessage(domain.English, domain.Vote{ID: 12, Question: "Rate the session", Kind: domain.VoteRating}, "")
	if len(r.Buttons) != 1 || len(r.Buttons[0]) != 5 || r.Buttons[0][4].Data != "mt:v:12:5" || !strings.Contains(r.Text, "Rate the session") {
		t.Fatalf("rating message = %+v", r)
	}
	r = VoteMessage(domain.Vietnamese, domain.Vote{ID: 3, Question: "Thông qua?", Kind: domain.VoteOptions, Options: []string{"Có", "Không"}}, "")
	if len(r.Buttons) != 2 || r.Buttons[1][0].Data != "mt:v:3:2" || r.Buttons[1][0].Label != "Không" {
		t.Fatalf("options message = %+v", r)
	}
}
