package flows

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
)

var (
	pii2024 = domain.CampaignRecord{ID: "pii-2024", NameVI: "PII 2024", NameEN: "PII 2024", Status: domain.StatusOpen,
		Deadline: time.Date(2024, 8, 30, 17, 0, 0, 0, hcm)}
	pii2025 = domain.CampaignRecord{ID: "pii-2025", NameVI: "PII 2025", NameEN: "PII 2025", Status: domain.StatusOpen, PreviousID: "pii-2024",
		Deadline: time.Date(2025, 8, 30, 17, 0, 0, 0, hcm)}
)

func TestCampaignFor(t *testing.T) {
	two := []domain.CampaignRecord{pii2024, pii2025}
	for _, tc := range []struct {
		label   string
		s       Session
		in      Input
		offered []domain.CampaignRecord
		want    string
	}{
		{"none offered: the store's current campaign", Session{}, cmd("chiso", ""), nil, ""},
		{"one offered: that one, without a question", Session{}, cmd("chiso", ""), two[:1], "pii-2024"},
		{"several, none chosen: none (ask, or the current one for staff)", Session{}, cmd("chiso", ""), two, ""},
		{"several, chosen in the session", Session{Campaign: "pii-2025"}, cmd("chiso", ""), two, "pii-2025"},
		{"the button picks, whatever the session says", Session{Campaign: "pii-2024"}, btn("cp:pii-2025"), two, "pii-2025"},
		{"a button naming a campaign not offered picks nothing", Session{}, btn("cp:pii-2023"), two, ""},
		{"a session choice no longer offered is not used", Session{Campaign: "pii-2023"}, cmd("chiso", ""), two, ""},
		{"a session choice no longer offered, one left: that one", Session{Campaign: "pii-2025"}, cmd("chiso", ""), two[:1], "pii-2024"},
	} {
		if got := CampaignFor(tc.s, tc.in, tc.offered); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.label, got, tc.want)
		}
	}
}

// campaigns drives Step for people of newCampaign's directory with several
// open campaigns, each with its own submissions, as the dispatcher does:
// the facts are those of the campaign CampaignFor names.
type campaigns struct {
	*campaign
	offered []domain.CampaignRecord
	subsOf  map[string]map[[2]string]domain.Submission // by campaign id
}

func (c *campaigns) step(id string, in Input) Result {
	c.t.Helper()
	p, _ := c.dir.Person(id)
	s := c.chats[id]
	if s == nil {
		s = &Session{PersonID: id}
		c.chats[id] = s
	}
	cid := CampaignFor(*s, in, c.offered)
	if cid == "" {
		cid = "pii-2024" // the current one
	}
	f := Facts{Now: c.now, Channel: domain.Telegram, UserID: id, ChatID: id, Event: testEvent(), Directory: c.dir,
		Person: &p, Proof: domain.ProofPhone, Catalog: c.cat, Submissions: map[string]domain.Submission{}}
	if len(c.offered) > 1 {
		f.Campaigns, f.CampaignID = c.offered, cid
	}
	for k, v := range c.subsOf[cid] {
		if k[1] == p.AgencyCode {
			f.Submissions[k[0]] = v
		}
		if v.Status == domain.StatusSubmitted && p.Has(domain.RoleStaff) {
			f.ReviewQueue = append(f.ReviewQueue, v)
		}
	}
	r := Step(*s, in, f)
	for _, e := range r.Effects {
		if e, ok := e.(domain.SaveSubmission); ok {
			n := e.Submission
			n.Version = e.ExpectVersion + 1
			n.Status = domain.StatusDraft
			if e.Action == "submit" {
				n.Status = domain.StatusSubmitted
			}
			c.subsOf[e.CampaignID][[2]string{n.Indicator, n.Agency}] = n
		}
	}
	*s = r.Session
	c.last[id] = r
	return r
}

func replyText(r Result) string {
	var b strings.Builder
	for _, rep := range r.Replies {
		b.WriteString(rep.Text + "\n")
		for _, row := range rep.Buttons {
			for _, btn := range row {
				b.WriteString("[" + btn.Data + "]")
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

func TestFocalPointChoosesCampaign(t *testing.T) {
	c := &campaigns{campaign: newCampaign(t), offered: []domain.CampaignRecord{pii2024, pii2025},
		subsOf: map[string]map[[2]string]domain.Submission{"pii-2024": {}, "pii-2025": {}}}
	// Last year's round: P1.04 already sent.
	c.subsOf["pii-2024"][[2]string{"P1.04", "STC"}] = domain.Submission{Indicator: "P1.04", Agency: "STC", Status: domain.StatusSubmitted, Value: "6.5", Version: 2}
	for _, s := range []struct {
		label     string
		in        Input
		want, not []string
		campaign  string // the effects' campaign, when there are effects
		session   string // the session's choice after the step
	}{
		{label: "/chiso with two open campaigns asks which, the current one first", in: cmd("chiso", ""),
			want: []string{"Có 2 đợt", "1. PII 2024", "2. PII 2025", "[cp:pii-2024][cp:pii-2025]"}, not: []string{"[ind:"}},
		{label: "an indicator button before choosing asks which too", in: btn("ind:P1.04"),
			want: []string{"[cp:pii-2025]"}, not: []string{"P1.04 — Chỉ số cải cách"}},
		{label: "choosing 2025 shows its list, named, with a button to switch", in: btn("cp:pii-2025"), session: "pii-2025",
			want: []string{"Đang làm việc với đợt: PII 2025", "🗂 Đợt: PII 2025", "chưa nhập", "[ind:P1.04]", "[menu:cps]"}, not: []string{"📨"}},
		{label: "the indicator opens in 2025, empty", in: btn("ind:P1.04"), session: "pii-2025",
			want: []string{"P1.04"}, not: []string{"6,5"}},
		{label: "a value typed", in: text("7,5"), session: "pii-2025", want: []string{"7,5"}},
		{label: "confirmed: the draft is 2025's", in: btn(btnValOK), campaign: "pii-2025", session: "pii-2025"},
		{label: "/chiendich lists the campaigns, the chosen one marked", in: cmd("chiendich", ""), session: "pii-2025",
			want: []string{"PII 2025 ✓", "[cp:pii-2024]"}},
		{label: "switching to 2024 shows 2024's items", in: btn("cp:pii-2024"), session: "pii-2024",
			want: []string{"🗂 Đợt: PII 2024", "📨 P1.04"}},
		{label: "a campaign that is not open is refused, and the list shown", in: btn("cp:pii-2023"),
			want: []string{"không còn mở", "[cp:pii-2024]"}},
		{label: "the help names /chiendich", in: cmd("trogiup", ""), want: []string{"/chiendich"}},
	} {
		r := c.step("DB002", s.in)
		got := replyText(r)
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
		for _, e := range r.Effects {
			if ss, ok := e.(domain.SaveSubmission); ok && ss.CampaignID != s.campaign {
				t.Errorf("%s: saved for %q, want %q", s.label, ss.CampaignID, s.campaign)
			}
		}
		if s.campaign != "" && len(r.Effects) == 0 {
			t.Errorf("%s: nothing saved", s.label)
		}
		if got := c.chats["DB002"].Campaign; got != s.session {
			t.Errorf("%s: session campaign %q, want %q", s.label, got, s.session)
		}
	}
	if got := c.subsOf["pii-2025"][[2]string{"P1.04", "STC"}]; got.Value != "7.5" {
		t.Errorf("2025's P1.04 = %+v, want the draft 7.5", got)
	}
	if got := c.subsOf["pii-2024"][[2]string{"P1.04", "STC"}]; got.Value != "6.5" || got.Status != domain.StatusSubmitted {
		t.Errorf("2024's P1.04 = %+v, want it untouched", got)
	}

	// 2025 closes half-way through an entry: the choice and the entry are
	// dropped, and with one campaign open there is no question.
	c.step("DB002", btn("cp:pii-2025"))
	c.step("DB002", btn("ind:P1.04"))
	if !strings.HasPrefix(c.chats["DB002"].State, "ind_") {
		t.Fatalf("not entering: %q", c.chats["DB002"].State)
	}
	c.offered = []domain.CampaignRecord{pii2024}
	r := c.step("DB002", text("8"))
	if s := c.chats["DB002"]; s.Campaign != "" || strings.HasPrefix(s.State, "ind_") || len(r.Effects) != 0 {
		t.Errorf("after 2025 closed: session %+v, effects %+v", s, r.Effects)
	}
	r = c.step("DB002", cmd("chiso", ""))
	if got := replyText(r); strings.Contains(got, "[cp:") || strings.Contains(got, "[menu:cps]") || !strings.Contains(got, "[ind:P1.04]") {
		t.Errorf("one campaign open: %s", got)
	}
	if got := replyText(c.step("DB002", cmd("chiendich", ""))); !strings.Contains(got, "không có đợt số liệu nào khác") {
		t.Errorf("/chiendich with one campaign open: %s", got)
	}
	// With one campaign open, an old campaign button switches nothing.
	if got := replyText(c.step("DB003", btn("cp:pii-2024"))); strings.Contains(got, "Đang làm việc") {
		t.Errorf("staff pressing a stale campaign button with one open: %s", got)
	}
}

func TestStaffChoosesCampaign(t *testing.T) {
	c := &campaigns{campaign: newCampaign(t), offered: []domain.CampaignRecord{pii2024, pii2025},
		subsOf: map[string]map[[2]string]domain.Submission{"pii-2024": {}, "pii-2025": {}}}
	c.subsOf["pii-2025"][[2]string{"2.2.2", "STC"}] = domain.Submission{Indicator: "2.2.2", Agency: "STC", Status: domain.StatusSubmitted,
		Value: "0.5", By: "DB002", Version: 3, SubmittedAt: c.now}
	for _, s := range []struct {
		label     string
		in        Input
		want, not []string
		review    string // the campaign of a review effect
		task      string
	}{
		{label: "/duyet starts with the current campaign, named", in: cmd("duyet", ""), want: []string{"🗂 Đợt: PII 2024"}, not: []string{"2.2.2 —"}},
		{label: "/chiendich marks the current one", in: cmd("chiendich", ""), want: []string{"PII 2024 ✓", "[cp:pii-2025]"}},
		{label: "choosing 2025", in: btn("cp:pii-2025"), want: []string{"Đang làm việc với đợt: PII 2025", "[menu:cps]"}},
		{label: "/duyet is then 2025's queue", in: cmd("duyet", ""), want: []string{"🗂 Đợt: PII 2025", "2.2.2 — Sở Tài chính", "[rv:2.2.2|STC]"}},
		{label: "approving is 2025's", in: btn("ra:2.2.2|STC|3"), review: "pii-2025"},
		{label: "/chuanop asks the bot for the missing list", in: cmd("chuanop", ""), task: "missing"},
		{label: "/xuat then Excel asks for the export", in: btn("ex:xlsx"), task: "export"},
	} {
		r := c.step("DB003", s.in)
		got := replyText(r)
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
		if s.review != "" {
			if len(r.Effects) != 1 || r.Effects[0].(domain.ReviewSubmission).CampaignID != s.review {
				t.Errorf("%s: effects %+v, want a review of %s", s.label, r.Effects, s.review)
			}
		}
		if s.task != "" && (len(r.Tasks) != 1 || r.Tasks[0].Name != s.task) {
			t.Errorf("%s: tasks %+v, want %s", s.label, r.Tasks, s.task)
		}
	}
	// The dispatcher hands the task the campaign of the facts; the step's
	// choice stays in the session.
	if c.chats["DB003"].Campaign != "pii-2025" {
		t.Errorf("staff session campaign = %q", c.chats["DB003"].Campaign)
	}
}

func TestAttendanceFollowsChosenEvent(t *testing.T) {
	staff := domain.Person{ID: "ST1", FullName: "Đinh Hải Giang", AgencyCode: "STC", Roles: []domain.Role{domain.RoleStaff}}
	dir := domain.NewDirectory([]domain.Person{staff}, []domain.Agency{{Code: "STC", NameVI: "Sở Tài chính"}})
	pii := domain.EventRecord{Code: "PII2024", Status: domain.StatusOpen, Event: *testEvent()}
	var s Session
	step := func(in Input) Result {
		p := staff
		r := Step(s, in, Facts{Now: time.Date(2024, 7, 25, 9, 0, 0, 0, hcm), Channel: domain.Telegram, UserID: "9", ChatID: "9",
			Event: testEvent(), Directory: dir, Person: &p, Proof: domain.ProofPhone, AllEvents: []domain.EventRecord{pii, councilRecord()}})
		s = r.Session
		return r
	}
	for _, tc := range []struct {
		label string
		in    Input
		task  *Task
	}{
		{"/diemdanh starts with the served event", cmd("diemdanh", ""), &Task{Name: "attendance"}},
		{"choosing the council", btn("sev:HD2024"), nil},
		{"/diemdanh is then the council's", cmd("diemdanh", ""), &Task{Name: "attendance", Arg: "council-2024"}},
		{"so is /attendance", cmd("attendance", ""), &Task{Name: "attendance", Arg: "council-2024"}},
	} {
		r := step(tc.in)
		if tc.task != nil && (len(r.Tasks) != 1 || r.Tasks[0] != *tc.task) {
			t.Errorf("%s: tasks %+v, want %+v", tc.label, r.Tasks, *tc.task)
		}
	}
}

func TestRenderAttendance(t *testing.T) {
	stc := domain.Agency{Code: "STC", NameVI: "Sở Tài chính"}
	snv := domain.Agency{Code: "SNV", NameVI: "Sở Nội vụ"}
	sxd := domain.Agency{Code: "SXD", NameVI: "Sở Xây dựng"}
	h := Headcount{
		Total: HeadcountRow{Invited: 12, Attend: 7, Substitute: 1, Decline: 2, Pending: 2, CheckedIn: 5},
		ByAgency: []HeadcountRow{
			{Agency: snv, Invited: 4, Attend: 3, CheckedIn: 1},
			{Agency: stc, Invited: 5, Attend: 3, Substitute: 1, CheckedIn: 3},
			{Agency: sxd, Invited: 3, Attend: 1, Decline: 2, CheckedIn: 1},
		},
	}
	now := time.Date(2024, 8, 2, 7, 50, 0, 0, hcm)
	for _, tc := range []struct {
		label, event string
		lang         domain.Lang
		want         []string
	}{
		{"the served event", "", domain.Vietnamese, []string{"🚪 Điểm danh (07:50 02/08/2024)\nĐã có mặt: 5 / 8 dự kiến (tham dự 7, cử người thay 1)",
			"Chưa đến đủ — 2 đơn vị", "• Sở Nội vụ: chưa đến 2/3\n• Sở Tài chính: chưa đến 1/4", "✅ 1 đơn vị đã có mặt đủ."}},
		{"another event is named first", "Hội đồng thẩm định", domain.Vietnamese, []string{"📅 Hội đồng thẩm định\n🚪 Điểm danh"}},
		{"in English", "", domain.English, []string{"Present: 5 of 8 expected", "• Sở Nội vụ: 2 of 3 not yet here"}},
	} {
		got := RenderAttendance(tc.lang, h, tc.event, now)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: %q lacks %q", tc.label, got, w)
			}
		}
	}
}

// The served event's own reminders carry its code on their answer buttons:
// someone invited to it alone answers it with them, and a code that is not
// theirs changes nothing.
func TestServedEventCodedButtons(t *testing.T) {
	p, _ := testDirectory().Person("DB001")
	for _, tc := range []struct {
		label, data string
		effects     int
		want        string
	}{
		{"its own code answers the served event", "rsvp:attend:PII2024", 1, "sẽ tham dự"},
		{"any case", "rsvp:decline:pii2024", 1, "không tham dự"},
		{"another code is no event of theirs", "rsvp:attend:HD2024", 0, "không còn trong danh sách"},
	} {
		r := Step(Session{}, btn(tc.data), Facts{Now: time.Date(2024, 7, 25, 9, 0, 0, 0, hcm), Channel: domain.Telegram, UserID: "42", ChatID: "42",
			Event: testEvent(), Directory: testDirectory(), Person: &p, Proof: domain.ProofCode, EventCode: "PII2024"})
		if len(r.Effects) != tc.effects || !strings.Contains(replyText(r), tc.want) {
			t.Errorf("%s: effects %+v, replies %s", tc.label, r.Effects, replyText(r))
		}
		for _, e := range r.Effects {
			if s, ok := e.(domain.SaveRSVP); !ok || s.RSVP.EventID != "" {
				t.Errorf("%s: saved %+v, want the served event's answer", tc.label, e)
			}
		}
	}
}

// /nhacnho follows /sukien too: the preview and its confirmation are the
// chosen event's, and a confirmation previewed for one event never sends
// for another.
func TestRemindFollowsChosenEvent(t *testing.T) {
	staff := domain.Person{ID: "ST1", FullName: "Đinh Hải Giang", AgencyCode: "STC", Roles: []domain.Role{domain.RoleStaff}}
	dir := domain.NewDirectory([]domain.Person{staff}, []domain.Agency{{Code: "STC", NameVI: "Sở Tài chính"}})
	pii := domain.EventRecord{Code: "PII2024", Status: domain.StatusOpen, Event: *testEvent()}
	now := time.Date(2024, 7, 25, 9, 0, 0, 0, hcm)
	var s Session
	step := func(in Input) Result {
		p := staff
		r := Step(s, in, Facts{Now: now, Channel: domain.Telegram, UserID: "9", ChatID: "9",
			Event: testEvent(), Directory: dir, Person: &p, Proof: domain.ProofPhone, AllEvents: []domain.EventRecord{pii, councilRecord()}})
		s = r.Session
		return r
	}
	ms := strconv.FormatInt(now.UnixMilli(), 36)
	served := step(cmd("nhacnho", ""))
	if len(served.Tasks) != 1 || served.Tasks[0] != (Task{Name: "remind_preview", Arg: ms}) {
		t.Fatalf("/nhacnho for the served event: %+v", served.Tasks)
	}
	step(btn("sev:HD2024"))
	for _, tc := range []struct {
		label string
		in    Input
		task  Task
		want  string
	}{
		{"/nhacnho previews the council's", cmd("nhacnho", ""), Task{Name: "remind_preview", Arg: ms + ":HD2024\ncouncil-2024"}, ""},
		{"its confirmation sends the council's", btn("rm:go:" + ms + ":HD2024"), Task{Name: "remind", Arg: ms + ":HD2024\ncouncil-2024"}, ""},
		{"a confirmation previewed for the served event sends nothing now", btn("rm:go:" + ms),
			Task{Name: "remind_preview", Arg: ms + ":HD2024\ncouncil-2024"}, "đã cũ"},
	} {
		r := step(tc.in)
		if len(r.Tasks) != 1 || r.Tasks[0] != tc.task {
			t.Errorf("%s: tasks %+v, want %+v", tc.label, r.Tasks, tc.task)
		}
		if tc.want != "" && !strings.Contains(replyText(r), tc.want) {
			t.Errorf("%s: reply %s lacks %q", tc.label, replyText(r), tc.want)
		}
	}
	// An announcement too: previewed and sent for the council.
	step(cmd("thongbao", ""))
	step(btn("bc:aud:pending"))
	r := step(text("Xin mời đại biểu đến đúng giờ."))
	bc := BroadcastArg(ms+":HD2024", "pending", "Xin mời đại biểu đến đúng giờ.")
	if len(r.Tasks) != 1 || r.Tasks[0] != (Task{Name: "broadcast_preview", Arg: bc}) {
		t.Fatalf("announcement preview: %+v", r.Tasks)
	}
	if r := step(btn("bc:send:" + ms)); len(r.Tasks) != 0 {
		t.Errorf("a send button without the council's code sent: %+v", r.Tasks)
	}
	if r := step(btn("bc:send:" + ms + ":HD2024")); len(r.Tasks) != 1 || r.Tasks[0] != (Task{Name: "broadcast", Arg: bc}) {
		t.Errorf("announcement send: %+v", r.Tasks)
	}
	// After the council's cut-off, its reminders are not offered, whatever
	// the served event's.
	now = time.Date(2024, 8, 1, 13, 0, 0, 0, hcm)
	if r := step(cmd("nhacnho", "")); len(r.Tasks) != 0 || !strings.Contains(replyText(r), "12:00 ngày 01/08/2024") {
		t.Errorf("after the council's cut-off: %+v %s", r.Tasks, replyText(r))
	}
	if tok, ev := SplitRemindArg(RemindArg("abc:HD", "council")); tok != "abc:HD" || ev != "council" {
		t.Errorf("SplitRemindArg: %q %q", tok, ev)
	}
}
