package flows

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
)

// campaign is a tiny data campaign: STC supplies two indicators through
// focal point DB002 (2.2.2 also through DB005); DB003 is staff; DB004 is
// SKHCN's focal point.
type campaign struct {
	t     *testing.T
	now   time.Time
	dir   *domain.Directory
	cat   *domain.Catalog
	subs  map[[2]string]domain.Submission
	chats map[string]*Session
	last  map[string]Result
	// publicURL is Facts.PublicURL.
	publicURL string
	log       strings.Builder // a transcript, for the golden files
}

func newCampaign(t *testing.T) *campaign {
	hundred, zero := 100.0, 0.0
	deadline := time.Date(2024, 8, 30, 17, 0, 0, 0, hcm)
	inds := []domain.Indicator{
		{Code: "2.2.2", Pillar: "2", NameVI: "Chi ngân sách cho KH&CN trên GRDP", NameEN: "S&T budget share of GRDP", Unit: "%",
			Type: domain.TypePercent, Min: &zero, Max: &hundred, RefYear: 2023, Evidence: true, Agency: "STC",
			GuidanceVI: "Tính theo quyết toán ngân sách 2023.", LastYear: "0,48"},
		{Code: "P1.04", Pillar: "1", NameVI: "Chỉ số cải cách hành chính", Unit: "điểm", Type: domain.TypeScore, RefYear: 2023, Agency: "STC"},
		{Code: "1.1.1", Pillar: "1", NameVI: "Chính sách thúc đẩy KH,CN&ĐMST", Unit: "số văn bản", Type: domain.TypeInteger, RefYear: 2023, Evidence: true, Agency: "SKHCN"},
	}
	as := []domain.Assignment{
		{Indicator: "2.2.2", Agency: "STC", Focal: []string{"DB002", "DB005"}, Deadline: deadline},
		{Indicator: "P1.04", Agency: "STC", Focal: []string{"DB002"}, Deadline: deadline.AddDate(0, 0, -10)},
		{Indicator: "1.1.1", Agency: "SKHCN", Focal: []string{"DB004"}, Deadline: deadline},
	}
	people := []domain.Person{
		{ID: "DB002", FullName: "Trần Thị Bình", Position: "Chuyên viên", AgencyCode: "STC", Roles: []domain.Role{domain.RoleFocal}},
		{ID: "DB003", FullName: "Lê Minh Châu", Position: "Trưởng phòng", AgencyCode: "SKHCN", Roles: []domain.Role{domain.RoleStaff}},
		{ID: "DB004", FullName: "Phạm Văn Đức", Position: "Chuyên viên", AgencyCode: "SKHCN", Roles: []domain.Role{domain.RoleFocal}},
		{ID: "DB005", FullName: "Hoàng Thu Giang", Position: "Chuyên viên", AgencyCode: "STC", Roles: []domain.Role{domain.RoleFocal}},
		{ID: "DB006", FullName: "Lê Văn Khải", Position: "Phó Trưởng phòng", AgencyCode: "SKHCN", Roles: []domain.Role{domain.RoleDelegate, domain.RoleFocal}},
	}
	return &campaign{
		t: t, now: time.Date(2024, 8, 10, 9, 0, 0, 0, hcm),
		dir: domain.NewDirectory(people, []domain.Agency{{Code: "STC", NameVI: "Sở Tài chính"}, {Code: "SKHCN", NameVI: "Sở KH&CN"}}),
		cat: domain.NewCatalog(inds, as), subs: map[[2]string]domain.Submission{},
		chats: map[string]*Session{}, last: map[string]Result{},
	}
}

// as sends input from person id and applies the effects the way the
// database would (including the version check).
func (c *campaign) as(id string, in Input) Result {
	c.t.Helper()
	p, _ := c.dir.Person(id)
	s := c.chats[id]
	if s == nil {
		s = &Session{PersonID: id}
		c.chats[id] = s
	}
	f := Facts{Now: c.now, Channel: domain.Telegram, UserID: id, ChatID: id, Event: testEvent(), Directory: c.dir,
		Person: &p, Proof: domain.ProofPhone, Catalog: c.cat, Submissions: map[string]domain.Submission{}, PublicURL: c.publicURL}
	for k, v := range c.subs {
		if k[1] == p.AgencyCode {
			f.Submissions[k[0]] = v
		}
		if v.Status == domain.StatusSubmitted && p.Has(domain.RoleStaff) {
			f.ReviewQueue = append(f.ReviewQueue, v)
		}
	}
	r := Step(*s, in, f)
	for _, e := range r.Effects {
		switch e := e.(type) {
		case domain.SaveSubmission:
			k := [2]string{e.Submission.Indicator, e.Submission.Agency}
			cur := c.subs[k]
			if cur.Version != e.ExpectVersion || cur.Status == domain.StatusApproved {
				c.t.Fatalf("stale SaveSubmission: stored v%d, expected v%d", cur.Version, e.ExpectVersion)
			}
			n := e.Submission
			n.Version, n.Status = cur.Version+1, domain.StatusDraft
			if e.Action == "submit" {
				n.Status, n.SubmittedAt = domain.StatusSubmitted, c.now
			} else if cur.Status == domain.StatusReturned {
				n.Status = domain.StatusReturned
			}
			c.subs[k] = n
		case domain.ReviewSubmission:
			k := [2]string{e.Indicator, e.Agency}
			cur := c.subs[k]
			if cur.Version != e.ExpectVersion {
				c.t.Fatalf("stale review")
			}
			cur.Version++
			cur.Status, cur.ReviewNote = domain.StatusApproved, ""
			if !e.Approve {
				cur.Status, cur.ReviewNote = domain.StatusReturned, e.Comment
			}
			c.subs[k] = cur
		}
	}
	*s = r.Session
	c.last[id] = r
	fmt.Fprintf(&c.log, ">>> %s: %s\n", id, describe(in))
	for _, rep := range r.Replies {
		writeReply(&c.log, rep)
	}
	for _, n := range r.Notices {
		for _, rep := range n.Replies {
			fmt.Fprintf(&c.log, "(to %s) ", n.PersonID)
			writeReply(&c.log, rep)
		}
	}
	for _, tk := range r.Tasks {
		fmt.Fprintf(&c.log, "(task %s %q)\n---\n", tk.Name, tk.Arg)
	}
	return r
}

func allText(r Result) string {
	var b []string
	for _, rep := range r.Replies {
		b = append(b, rep.Text)
	}
	return strings.Join(b, "\n")
}

func hasButton(r Result, data string) bool {
	for _, rep := range r.Replies {
		for _, row := range rep.Buttons {
			for _, b := range row {
				if b.Data == data {
					return true
				}
			}
		}
	}
	return false
}

func (c *campaign) want(id, sub string) {
	c.t.Helper()
	if got := allText(c.last[id]); !strings.Contains(got, sub) {
		c.t.Fatalf("%s was told %q; want it to contain %q", id, got, sub)
	}
}

func file(name, sha, group string) Input {
	return Input{Kind: InFile, Files: []FileRef{{ID: sha, Name: name, MIME: "application/pdf", Size: 2048, SHA256: sha, GroupID: group}}}
}

func TestIndicatorListIsMostUrgentFirst(t *testing.T) {
	c := newCampaign(t)
	c.subs[[2]string{"2.2.2", "STC"}] = domain.Submission{Indicator: "2.2.2", Agency: "STC", Status: domain.StatusReturned, Version: 3, ReviewNote: "Thiếu"}
	r := c.as("DB002", cmd("chiso", ""))
	text := allText(r)
	if i, j := strings.Index(text, "2.2.2"), strings.Index(text, "P1.04"); i < 0 || j < 0 || i > j {
		t.Fatalf("returned item should come first:\n%s", text)
	}
	for _, want := range []string{"bị trả lại", "chưa nhập", "còn 20 ngày", "Đơn vị đã gửi 0/2"} {
		if !strings.Contains(text, want) {
			t.Errorf("list lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "1.1.1") {
		t.Error("another agency's indicator is listed")
	}
}

func TestEnterIndicatorWithEvidence(t *testing.T) {
	c := newCampaign(t)
	c.as("DB002", btn("ind:2.2.2"))
	c.want("DB002", "Chi ngân sách cho KH&CN trên GRDP")
	c.want("DB002", "Giá trị năm trước: 0,48")
	c.want("DB002", "Xin nhập giá trị")

	c.as("DB002", text("abc"))
	if c.chats["DB002"].State != stateIndValue {
		t.Fatalf("after a bad value the state is %q", c.chats["DB002"].State)
	}
	c.as("DB002", text("0,52%"))
	c.want("DB002", "0,52")
	if len(c.subs) != 0 {
		t.Fatal("saved before the value was confirmed")
	}
	c.as("DB002", btn(btnValOK))
	if s := c.subs[[2]string{"2.2.2", "STC"}]; s.Value != "0.52" || s.Status != domain.StatusDraft {
		t.Fatalf("after confirming the value: %+v; want a draft with 0.52", s)
	}
	c.want("DB002", "tài liệu minh chứng")
	// An album: three photos, one answer.
	c.as("DB002", file("a.jpg", "s1", "alb"))
	c.want("DB002", "Đã nhận 1 minh chứng")
	if r := c.as("DB002", file("b.jpg", "s2", "alb")); len(r.Replies) != 0 {
		t.Fatalf("second photo of an album answered: %q", allText(r))
	}
	c.as("DB002", file("c.jpg", "s3", "alb"))
	c.as("DB002", Input{Kind: InFile, Files: []FileRef{{Name: "virus.exe", Problem: "bad_type"}}})
	c.want("DB002", "không phải PDF")
	c.as("DB002", text("https://hungyen.gov.vn/qd-106"))
	c.want("DB002", "Đã nhận 4 minh chứng")
	c.as("DB002", btn(btnEvDone))
	c.want("DB002", "Số/ký hiệu")
	c.as("DB002", text("106/KH-UBND"))
	c.as("DB002", text("31/02/2024"))
	if c.chats["DB002"].State != stateIndDocDate {
		t.Fatal("an impossible date was accepted")
	}
	c.as("DB002", text("18/06/2024"))
	c.want("DB002", "Ghi chú")
	c.as("DB002", btn(btnNoteSkip))
	c.want("DB002", "Xin kiểm tra trước khi gửi")
	c.want("DB002", "0,52")
	c.as("DB002", btn(btnSend))
	c.want("DB002", "Đã gửi chỉ số 2.2.2")
	s := c.subs[[2]string{"2.2.2", "STC"}]
	if s.Status != domain.StatusSubmitted || len(s.Evidence) != 4 || s.Evidence[1].Group != "alb" || s.DocNumber != "106/KH-UBND" ||
		s.DocDate.Format("02/01/2006") != "18/06/2024" || s.By != "DB002" {
		t.Fatalf("submitted = %+v", s)
	}
}

// The same file or link sent twice is kept once, and links count against
// the 20-item limit like files: a draft stays small whatever is pasted.
func TestEvidenceIsKeptOnceAndBounded(t *testing.T) {
	c := newCampaign(t)
	c.as("DB002", btn("ind:2.2.2"))
	c.as("DB002", text("0,52%"))
	c.as("DB002", btn(btnValOK))
	work := func() int {
		t.Helper()
		return len(c.subs[[2]string{"2.2.2", "STC"}].Evidence)
	}
	c.as("DB002", file("a.pdf", "s1", ""))
	c.as("DB002", file("a-copy.pdf", "s1", ""))
	c.want("DB002", "đã có trong danh sách: a-copy.pdf")
	c.as("DB002", text("https://hungyen.gov.vn/qd-106"))
	c.want("DB002", "Đã nhận 2 minh chứng")
	c.as("DB002", text("https://hungyen.gov.vn/qd-106"))
	c.want("DB002", "đã có trong danh sách")
	if c.chats["DB002"].State != stateIndEvidence {
		t.Fatalf("state after a repeated link: %q", c.chats["DB002"].State)
	}
	for i := 0; i < 25; i++ {
		c.as("DB002", text("https://hungyen.gov.vn/vb-"+itoa(i)))
	}
	c.want("DB002", "tối đa 20 minh chứng")
	c.as("DB002", btn(btnEvDone))
	c.want("DB002", "Số/ký hiệu")
	if n := work(); n != 20 {
		t.Fatalf("the draft keeps %d evidence items; want 20", n)
	}
}

// Two focal points of one agency edit one indicator. The one whose copy is
// older is told plainly that nothing was stored, sees the stored value and
// who set it, and can redo it on top; never "sent" for what was not stored.
func TestVersionRaceBetweenTwoFocalPoints(t *testing.T) {
	c := newCampaign(t)
	k := [2]string{"2.2.2", "STC"}
	enter := func(id, value string) {
		c.as(id, btn("ind:2.2.2"))
		c.as(id, text(value))
		c.as(id, btn(btnValOK))
		if len(c.subs[k].Evidence) == 0 {
			c.as(id, text("https://hungyen.gov.vn/qd-106"))
		}
		c.as(id, btn(btnEvDone))
		c.as(id, text("106/KH-UBND"))
		c.as(id, text("18/06/2024"))
		c.as(id, btn(btnNoteSkip))
		c.want(id, "Xin kiểm tra trước khi gửi")
	}
	enter("DB002", "0,52")
	// Meanwhile DB005 opens the same indicator (from DB002's draft), changes
	// the value and sends it.
	c.as("DB005", btn("ind:2.2.2"))
	c.as("DB005", btn(btnEdit))
	c.as("DB005", btn(btnEdPrefix+"value"))
	c.as("DB005", text("0,61"))
	c.as("DB005", btn(btnValOK))
	c.as("DB005", btn(btnSend))
	c.want("DB005", "Đã gửi chỉ số 2.2.2")
	stored := c.subs[k]

	// DB002 sends the copy it holds: refused plainly, nothing stored.
	r := c.as("DB002", btn(btnSend))
	got := allText(r)
	if strings.Contains(got, "Đã gửi") || len(r.Effects) != 0 {
		t.Fatalf("the loser of the race was told %q with effects %v", got, r.Effects)
	}
	for _, want := range []string{"CHƯA được lưu", "Hoàng Thu Giang", "0,61", "0,52", "đã gửi"} {
		if !strings.Contains(got, want) {
			t.Errorf("conflict message lacks %q:\n%s", want, got)
		}
	}
	if !hasButton(r, btnSend) || !hasButton(r, btnIndicators) {
		t.Fatalf("no way to redo it or keep the stored value: %+v", r.Replies)
	}
	if c.subs[k].Value != "0.61" || c.subs[k].Version != stored.Version {
		t.Fatalf("stored value changed: %+v", c.subs[k])
	}
	// Redo: DB002 now knowingly replaces 0,61 with 0,52.
	c.as("DB002", btn(btnSend))
	c.want("DB002", "Đã gửi chỉ số 2.2.2")
	if s := c.subs[k]; s.Value != "0.52" || s.By != "DB002" || s.Version != stored.Version+1 {
		t.Fatalf("after redo: %+v", s)
	}

	// The same in English, and for a draft being entered: the confirmed
	// value is not stored, the entry goes on from the stored version.
	c.as("DB005", Input{Kind: InButton, Data: btnLangPrefix + "en"})
	c.as("DB005", btn("ind:2.2.2"))
	c.as("DB002", btn("ind:2.2.2"))
	c.as("DB002", btn(btnSaveDraft)) // a sent value stays sent: no new version
	c.subs[k] = domain.Submission{Indicator: "2.2.2", Agency: "STC", Status: domain.StatusDraft, Value: "0.7", By: "DB002", Version: c.subs[k].Version + 1}
	c.as("DB005", btn(btnEdit))
	c.as("DB005", btn(btnEdPrefix+"value"))
	c.as("DB005", text("0.8"))
	r = c.as("DB005", btn(btnValOK))
	got = allText(r)
	if len(r.Effects) != 0 || !strings.Contains(got, "NOT saved") || !strings.Contains(got, "Trần Thị Bình") || !strings.Contains(got, "0.7") {
		t.Fatalf("draft conflict: %q, effects %v", got, r.Effects)
	}
	r = c.as("DB005", btn(btnSaveDraft))
	if len(r.Effects) != 1 || c.subs[k].Value != "0.8" {
		t.Fatalf("saving the draft after the warning: %q, stored %+v", allText(r), c.subs[k])
	}
}

func TestInterruptedEntryResumesAtTheSameQuestion(t *testing.T) {
	c := newCampaign(t)
	c.as("DB002", btn("ind:2.2.2"))
	c.as("DB002", text("0,52"))
	c.as("DB002", btn(btnValOK))
	c.as("DB002", file("qd.pdf", "s1", ""))
	c.as("DB002", cmd("chuongtrinh", "")) // wanders off
	c.as("DB002", cmd("huy", ""))
	// Even with the session lost, the draft in the database brings them back.
	c.chats["DB002"] = &Session{PersonID: "DB002"}
	c.as("DB002", btn("ind:2.2.2"))
	c.want("DB002", "nháp")
	if st := c.chats["DB002"].State; st != stateIndEvidence {
		t.Fatalf("resumed at %q, want the evidence question (value was confirmed)", st)
	}
	// It says what is already kept, so the file is not sent twice.
	c.want("DB002", "Đã lưu 1 minh chứng:\n  1. 📎 qd.pdf (2 KB)")
	if !hasButton(c.last["DB002"], btnEvDone) {
		t.Fatal("resumed evidence step without the “Xong” button")
	}
}

func TestAmbiguousValueIsAskedBack(t *testing.T) {
	c := newCampaign(t)
	c.as("DB002", btn("ind:P1.04"))
	r := c.as("DB002", text("1.234"))
	if c.chats["DB002"].State != stateIndAmbig || !hasButton(r, "val:0") || !hasButton(r, "val:1") {
		t.Fatalf("ambiguous 1.234 not asked back: %q", allText(r))
	}
	c.as("DB002", btn("val:1"))
	c.want("DB002", "Đúng chưa")
}

func TestRepeatedBadValuesOfferADraft(t *testing.T) {
	c := newCampaign(t)
	c.as("DB002", btn("ind:2.2.2"))
	for i := 0; i < maxValueFails; i++ {
		c.as("DB002", text("khoảng chừng năm mươi"))
	}
	if !hasButton(c.last["DB002"], btnSaveDraft) {
		t.Fatal("no draft offered after repeated bad values")
	}
	c.want("DB002", "Văn phòng Sở KH&CN") // who to contact
}

func TestFocalPointCannotTouchAnotherAgency(t *testing.T) {
	c := newCampaign(t)
	for _, in := range []Input{btn("ind:1.1.1"), btn("ind:NOPE"), btn("ra:1.1.1|SKHCN|1"), btn("rv:2.2.2|STC")} {
		c.as("DB002", in)
		if got := allText(c.last["DB002"]); !strings.Contains(got, "không có trong danh sách chỉ số của đơn vị") && !strings.Contains(got, "chỉ dành cho cán bộ") {
			t.Errorf("%s: told %q; want a refusal", in.Data, got)
		}
		if c.last["DB002"].Refused == "" {
			t.Errorf("%s: the refusal is not reported for the log", in.Data)
		}
	}
	if len(c.subs) != 0 {
		t.Fatal("something was saved")
	}
	// An entry button for another agency's item while mid-entry of one's own.
	c.as("DB002", btn("ind:P1.04"))
	c.as("DB002", btn("ind:1.1.1"))
	c.want("DB002", "không có trong danh sách chỉ số của đơn vị")
}

func TestReturnFixApprove(t *testing.T) {
	c := newCampaign(t)
	c.as("DB002", btn("ind:P1.04"))
	c.as("DB002", text("8,25"))
	c.as("DB002", btn(btnValOK))
	c.as("DB002", btn(btnEvSkip)) // evidence optional for this one
	c.as("DB002", btn(btnNoteSkip))
	c.as("DB002", btn(btnSend))
	if c.subs[[2]string{"P1.04", "STC"}].Status != domain.StatusSubmitted {
		t.Fatal("not submitted")
	}

	c.as("DB003", cmd("duyet", ""))
	c.want("DB003", "1 chỉ số đang chờ duyệt")
	c.as("DB003", btn("rv:P1.04|STC"))
	c.want("DB003", "8,25")
	c.as("DB003", btn("rr:P1.04|STC|"+itoa(c.subs[[2]string{"P1.04", "STC"}].Version)))
	r := c.as("DB003", text("Thiếu nguồn số liệu"))
	if len(r.Notices) != 1 || r.Notices[0].PersonID != "DB002" || !strings.Contains(r.Notices[0].Replies[0].Text, "Thiếu nguồn số liệu") {
		t.Fatalf("notices = %+v; want the focal point told with the comment", r.Notices)
	}
	if s := c.subs[[2]string{"P1.04", "STC"}]; s.Status != domain.StatusReturned {
		t.Fatalf("after return: %+v", s)
	}

	c.as("DB002", btn("ind:P1.04"))
	c.want("DB002", "Thiếu nguồn số liệu")
	c.as("DB002", btn(btnEdit)) // it resumes at the summary; change the value
	c.as("DB002", btn("ed:value"))
	c.as("DB002", text("8,4"))
	c.as("DB002", btn(btnValOK))
	c.want("DB002", "Xin kiểm tra trước khi gửi")
	c.as("DB002", btn(btnSend))

	// A stale approve button (old version) is refused; the fresh one works.
	c.as("DB003", btn("ra:P1.04|STC|1"))
	c.want("DB003", "vừa được đơn vị sửa lại")
	v := c.subs[[2]string{"P1.04", "STC"}].Version
	r = c.as("DB003", btn("ra:P1.04|STC|"+itoa(v)))
	if s := c.subs[[2]string{"P1.04", "STC"}]; s.Status != domain.StatusApproved || s.Value != "8.4" {
		t.Fatalf("after approve: %+v", s)
	}
	if len(r.Notices) != 1 {
		t.Fatal("focal point not told of the approval")
	}
	c.as("DB002", btn("ind:P1.04"))
	c.want("DB002", "không sửa được nữa")
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestStaffOnlyActions(t *testing.T) {
	c := newCampaign(t)
	for _, in := range []Input{cmd("duyet", ""), cmd("xuat", ""), btn("ex:xlsx")} {
		r := c.as("DB002", in)
		if !strings.Contains(allText(r), "chỉ dành cho cán bộ") || len(r.Tasks) != 0 {
			t.Errorf("%+v by a focal point: %q tasks=%v", in, allText(r), r.Tasks)
		}
	}
	r := c.as("DB003", btn("ex:xlsx"))
	if len(r.Tasks) != 1 || r.Tasks[0] != (Task{Name: "export", Arg: "xlsx"}) {
		t.Fatalf("staff export = %v", r.Tasks)
	}
	// The data report as PDF, from the same menu.
	if r := c.as("DB003", cmd("xuat", "")); !hasButton(r, "ex:pdf") {
		t.Fatalf("no PDF in the export menu: %+v", r.Replies)
	}
	r = c.as("DB003", btn("ex:pdf"))
	if len(r.Tasks) != 1 || r.Tasks[0] != (Task{Name: "export", Arg: "pdf"}) {
		t.Fatalf("staff PDF export = %v", r.Tasks)
	}
}

func TestSentItemLockedAfterDeadline(t *testing.T) {
	c := newCampaign(t)
	c.subs[[2]string{"P1.04", "STC"}] = domain.Submission{Indicator: "P1.04", Agency: "STC", Status: domain.StatusSubmitted, Value: "8", Version: 1}
	c.now = time.Date(2024, 8, 21, 9, 0, 0, 0, hcm) // P1.04 was due 20/08
	c.as("DB002", btn("ind:P1.04"))
	c.want("DB002", "đã quá hạn")
	if c.chats["DB002"].State != stateIdle {
		t.Fatal("a sent item was opened for editing after its deadline")
	}
}

// The focal point's and staff's conversations, as they read, in both
// languages: a colleague's item entered by another focal point of the
// agency, an ambiguous number answered by typing, percent values with
// their unit once, /huy keeping the draft, resuming with the evidence
// kept, the review queue by agency name and an approval notice.
func TestGoldenCampaignTranscripts(t *testing.T) {
	for _, lang := range []string{"vi", "en"} {
		t.Run(lang, func(t *testing.T) {
			c := newCampaign(t)
			if lang == "en" {
				for _, id := range []string{"DB002", "DB003", "DB006"} {
					c.chats[id] = &Session{PersonID: id, Lang: domain.English}
				}
			}
			// Lê Văn Khải: focal point of SKHCN, not the one named on 1.1.1.
			c.as("DB006", cmd("chiso", ""))
			c.as("DB006", btn("ind:1.1.1"))
			c.as("DB006", text("1.234,5"))
			c.as("DB006", text("12"))
			c.as("DB006", btn(btnValOK))
			c.as("DB006", file("ds-van-ban.pdf", "s9", ""))
			c.as("DB006", cmd("huy", ""))
			c.as("DB006", btn("ind:1.1.1"))
			// Trần Thị Bình: an ambiguous number answered by typing a clear one.
			c.as("DB002", btn("ind:P1.04"))
			c.as("DB002", text("1.234"))
			c.as("DB002", text("2000"))
			c.as("DB002", cmd("huy", ""))
			// A percentage, ambiguous with one reading in range, then a new value.
			c.as("DB002", btn("ind:2.2.2"))
			c.as("DB002", text("1.234"))
			c.as("DB002", text("không rõ"))
			c.as("DB002", text("0,5"))
			c.as("DB002", text("1,234"))
			c.as("DB002", btn("val:0"))
			c.as("DB002", btn(btnValRedo))
			c.as("DB002", text("abc"))
			c.as("DB002", text("12,5%"))
			c.as("DB002", btn(btnValOK))
			c.as("DB002", file("qd.pdf", "s1", ""))
			c.as("DB002", btn(btnEvDone))
			c.as("DB002", text("106/KH-UBND"))
			c.as("DB002", text("18/06/2024"))
			c.as("DB002", btn(btnNoteSkip))
			c.as("DB002", btn(btnSend))
			c.as("DB002", btn(btnSend)) // «Đúng, vẫn gửi» after the soft warning on a 26× jump
			// Staff: the queue by name, the card, approval.
			c.as("DB003", cmd("duyet", ""))
			c.as("DB003", btn("rv:2.2.2|STC"))
			v := c.subs[[2]string{"2.2.2", "STC"}].Version
			c.as("DB003", btn("ra:2.2.2|STC|"+itoa(v)))
			c.as("DB003", btn("hs:2.2.2|STC"))
			c.as("DB003", cmd("nhacnho", ""))
			golden(t, "testdata/campaign_"+lang+".golden", c.log.String())
		})
	}
}

func TestColleagueMayEnterTheAgencysItems(t *testing.T) {
	c := newCampaign(t)
	r := c.as("DB006", cmd("chiso", ""))
	if !hasButton(r, "ind:1.1.1") {
		t.Fatalf("the agency's item is not offered: %q", allText(r))
	}
	c.want("DB006", "Người phụ trách: Phạm Văn Đức")
	c.want("DB006", "Anh/chị được giao 0 chỉ số")
	r = c.as("DB006", btn("ind:1.1.1"))
	if r.Refused != "" || c.chats["DB006"].State != stateIndValue {
		t.Fatalf("a colleague's item was refused: %q", allText(r))
	}
	c.as("DB006", text("3"))
	c.as("DB006", btn(btnValOK))
	s := c.subs[[2]string{"1.1.1", "SKHCN"}]
	if s.Value != "3" || s.By != "DB006" || s.Agency != "SKHCN" {
		t.Fatalf("saved %+v", s)
	}
	// Every item offered can be opened: nothing in the list is refused.
	for _, id := range []string{"DB002", "DB004", "DB006"} {
		c.chats[id] = &Session{PersonID: id}
		list := c.as(id, cmd("chiso", ""))
		for _, rep := range list.Replies {
			for _, row := range rep.Buttons {
				for _, b := range row {
					if !strings.HasPrefix(b.Data, "ind:") {
						continue
					}
					if r := c.as(id, btn(b.Data)); r.Refused != "" {
						t.Errorf("%s was offered %s and refused it", id, b.Data)
					}
					c.as(id, cmd("huy", ""))
				}
			}
		}
	}
}

func TestAmbiguousValueKeepsItsButtonsAndTakesANewValue(t *testing.T) {
	c := newCampaign(t)
	c.as("DB002", btn("ind:2.2.2"))
	c.as("DB002", text("1.234"))
	r := c.as("DB002", text("???"))
	if !hasButton(r, "val:0") || hasButton(r, "val:1") {
		t.Fatalf("an error in the ambiguous step lost the button: %q", allText(r))
	}
	r = c.as("DB002", text("20"))
	if c.chats["DB002"].State != stateIndConfirm || !hasButton(r, btnValOK) {
		t.Fatalf("a clear new value was not taken: %q", allText(r))
	}
	c.want("DB002", "Giá trị anh/chị nhập: 20%. Đúng chưa?")
	// While confirming, a new value replaces the pending one too.
	c.as("DB002", text("2000"))
	c.want("DB002", "ngoài khoảng cho phép")
	if !hasButton(c.last["DB002"], btnValOK) {
		t.Fatal("the read-back's buttons were not repeated with the error")
	}
	c.as("DB002", text("0,75"))
	c.want("DB002", "0,75%. Đúng chưa?")
	// Answering the read-back in words works like its buttons.
	c.as("DB002", text("Đúng"))
	if c.chats["DB002"].State != stateIndEvidence || c.subs[[2]string{"2.2.2", "STC"}].Value != "0.75" {
		t.Fatalf("“Đúng” did not confirm: state %q, %+v", c.chats["DB002"].State, c.subs[[2]string{"2.2.2", "STC"}])
	}
}

func TestValueShownWithItsUnitOnce(t *testing.T) {
	tests := []struct {
		label string
		ind   domain.Indicator
		canon string
		vi    string
		en    string
	}{
		{"percent", vtPct, "12.5", "12,5%", "12.5%"},
		{"percent points", vtPct2, "12.5", "12,5% (điểm)", "12.5% (điểm)"},
		{"score", vtScore, "7.5", "7,5 điểm (0-10)", "7.5 điểm (0-10)"},
		{"count", vtInt, "1000", "1.000 số văn bản", "1,000 số văn bản"},
		{"decimal as entered", vtDec, "1.234", "1,234 người/vạn dân", "1.234 người/vạn dân"},
		{"yes", vtYN, "yes", "Có", "Yes"},
		{"empty", vtPct, "", "—", "—"},
	}
	for _, tc := range tests {
		t.Run(tc.label, func(t *testing.T) {
			if got := ValueWithUnit(domain.Vietnamese, tc.ind, tc.canon); got != tc.vi {
				t.Errorf("vi %q, want %q", got, tc.vi)
			}
			if got := ValueWithUnit(domain.English, tc.ind, tc.canon); got != tc.en {
				t.Errorf("en %q, want %q", got, tc.en)
			}
		})
	}
	// In the review queue too: never "12,5% %".
	c := newCampaign(t)
	c.subs[[2]string{"2.2.2", "STC"}] = domain.Submission{Indicator: "2.2.2", Agency: "STC", Status: domain.StatusSubmitted, Value: "12.5", Version: 3}
	c.as("DB003", cmd("duyet", ""))
	c.want("DB003", "2.2.2 — Sở Tài chính: 12,5%")
	if got := allText(c.last["DB003"]); strings.Contains(got, "% %") || strings.Contains(got, "· STC") {
		t.Fatalf("queue %q", got)
	}
}

func TestCancelWhileEnteringKeepsTheDraftAndShowsTheList(t *testing.T) {
	c := newCampaign(t)
	c.as("DB006", btn("ind:1.1.1"))
	c.as("DB006", text("4"))
	c.as("DB006", btn(btnValOK))
	r := c.as("DB006", cmd("huy", ""))
	c.want("DB006", "được giữ làm bản nháp")
	if strings.Contains(allText(r), "không có gì được thay đổi") || hasButton(r, btnAttend) {
		t.Fatalf("/huy said nothing changed or showed the RSVP card: %q", allText(r))
	}
	if !hasButton(r, "ind:1.1.1") || c.chats["DB006"].State != stateIdle {
		t.Fatalf("/huy did not return to the indicator list: %q", allText(r))
	}
	if s := c.subs[[2]string{"1.1.1", "SKHCN"}]; s.Value != "4" || s.Status != domain.StatusDraft {
		t.Fatalf("draft %+v", s)
	}
	// Nothing confirmed yet: says so.
	c.as("DB002", btn("ind:P1.04"))
	c.as("DB002", cmd("huy", ""))
	c.want("DB002", "Chưa có gì được lưu")
}

func TestApprovalNoticeOffersNoEdit(t *testing.T) {
	e := domain.ReviewSubmission{Indicator: "2.2.2", Agency: "STC", Approve: true}
	ns := ReviewNotices(newCampaign(t).cat, e)
	if len(ns) != 2 {
		t.Fatalf("notices %+v", ns)
	}
	for _, row := range ns[0].Replies[0].Buttons {
		for _, b := range row {
			if strings.HasPrefix(b.Data, btnIndPrefix) {
				t.Fatalf("approval notice offers %q", b.Label)
			}
		}
	}
	// The colleague who sent it is told too, once.
	if ns := ReviewNotices(newCampaign(t).cat, e, "DB009", "DB002"); len(ns) != 3 || ns[2].PersonID != "DB009" {
		t.Fatalf("notices with the sender %+v", ns)
	}
	e.Approve, e.Comment = false, "Thiếu phụ lục"
	if ns := ReviewNotices(newCampaign(t).cat, e); ns[0].Replies[0].Buttons[0][0].Data != "ind:2.2.2" {
		t.Fatal("a returned item's notice lost its edit button")
	}
}

func TestRemindAfterCutoffIsNotOffered(t *testing.T) {
	c := newCampaign(t) // 10/08, after the 31/07 cut-off
	for _, in := range []Input{cmd("nhacnho", ""), btn(btnRemindAsk), btn(btnRemindGo)} {
		r := c.as("DB003", in)
		if len(r.Tasks) != 0 || !strings.Contains(allText(r), "Đã hết hạn xác nhận tham dự") {
			t.Errorf("%+v after the cut-off: %q tasks %v", in, allText(r), r.Tasks)
		}
	}
	c.now = time.Date(2024, 7, 30, 9, 0, 0, 0, hcm)
	if r := c.as("DB003", cmd("nhacnho", "")); len(r.Tasks) != 1 || r.Tasks[0].Name != "remind_preview" {
		t.Fatalf("before the cut-off: tasks %v", r.Tasks)
	}
}

func TestReports(t *testing.T) {
	c := newCampaign(t)
	c.subs[[2]string{"P1.04", "STC"}] = domain.Submission{Indicator: "P1.04", Agency: "STC", Status: domain.StatusDraft}
	var subs []domain.Submission
	for _, s := range c.subs {
		subs = append(subs, s)
	}
	items, total := CountMissing(c.cat, subs)
	got := RenderMissing(domain.Vietnamese, c.dir, items, total, hcm)
	want := "📊 Chỉ số chưa nộp: 3/3, hạn sớm nhất trước:\n\n" +
		"⏰ Hạn 20/08/2024:\n• Sở Tài chính — P1.04 Chỉ số cải cách hành chính (đầu mối: Trần Thị Bình): nháp\n\n" +
		"⏰ Hạn 30/08/2024:\n• Sở KH&CN — 1.1.1 Chính sách thúc đẩy KH,CN&ĐMST (đầu mối: Phạm Văn Đức): chưa nhập\n" +
		"• Sở Tài chính — 2.2.2 Chi ngân sách cho KH&CN trên GRDP (đầu mối: Trần Thị Bình, Hoàng Thu Giang): chưa nhập"
	if got != want {
		t.Errorf("missing:\n%s\nwant:\n%s", got, want)
	}

	dir := domain.NewDirectory([]domain.Person{
		{ID: "A1", FullName: "A Một", AgencyCode: "A", Roles: []domain.Role{domain.RoleDelegate}},
		{ID: "B1", FullName: "B Một", AgencyCode: "B", Roles: []domain.Role{domain.RoleDelegate}},
		{ID: "B2", FullName: "B Hai", AgencyCode: "B", Roles: []domain.Role{domain.RoleDelegate}},
		{ID: "C1", FullName: "C Một", AgencyCode: "C", Roles: []domain.Role{domain.RoleDelegate}},
		{ID: "D1", FullName: "D Một", AgencyCode: "D", Roles: []domain.Role{domain.RoleDelegate}},
	}, []domain.Agency{{Code: "A", NameVI: "Sở Y tế"}, {Code: "B", NameVI: "UBND huyện Ân Thi"}, {Code: "C", NameVI: "Đài PT-TH tỉnh"}, {Code: "D", NameVI: "Sở Nội vụ"}})
	answers := map[string]domain.RSVP{"A1": {Status: domain.RSVPAttend}, "C1": {Status: domain.RSVPDecline}}
	h := CountHeadcount(dir, answers, nil)
	got = RenderHeadcount(domain.Vietnamese, h, time.Date(2024, 7, 30, 9, 0, 0, 0, hcm))
	want = "👥 Tổng hợp đại biểu (09:00 30/07/2024)\nMời: 5 · Dự: 1 · Không dự: 1 · Cử người thay: 0 · Chưa trả lời: 3 · Đã điểm danh: 0\n\n" +
		"Cần nhắc — 2 đơn vị còn đại biểu chưa trả lời (nhiều nhất trước):\n" +
		"• UBND huyện Ân Thi: chưa trả lời 2/2 (dự 0, không 0, thay 0, có mặt 0)\n" +
		"• Sở Nội vụ: chưa trả lời 1/1 (dự 0, không 0, thay 0, có mặt 0)\n\n" +
		"✅ 2 đơn vị đã trả lời đủ: mời 2, dự 1, không dự 1, cử người thay 0."
	if got != want {
		t.Errorf("headcount:\n%s\nwant:\n%s", got, want)
	}
}

func TestStaffPreviewsSayWhoIsNotReached(t *testing.T) {
	r := BroadcastPreview(domain.Vietnamese, "k1", 4, 91, "Hội nghị lùi sang 08:30.")
	want := "Thông báo sẽ gửi tới 4 người qua chat.\n91 người trong nhóm này chưa kết nối với bot (hoặc không nhận được tin) nên sẽ không nhận được; xin báo họ qua điện thoại hoặc văn bản.\n\nBản xem trước:\n\nHội nghị lùi sang 08:30."
	if r.Text != want || !hasButton(Result{Replies: []Reply{r}}, btnBcSend+":k1") {
		t.Errorf("broadcast preview %q", r.Text)
	}
	if r := BroadcastPreview(domain.English, "k1", 3, 0, "x"); strings.Contains(r.Text, "not connected") {
		t.Errorf("everyone reached, yet %q", r.Text)
	}
	r = RemindPreview(domain.Vietnamese, "k1", 0, 5)
	if len(r.Buttons) != 0 || !strings.Contains(r.Text, "5 người trong nhóm này chưa kết nối") {
		t.Errorf("nobody reachable: %+v", r)
	}
	r = RemindPreview(domain.English, "k1", 2, 1)
	if !strings.Contains(r.Text, "2 delegates") || !strings.Contains(r.Text, "unable to receive messages): 1.") || !hasButton(Result{Replies: []Reply{r}}, btnRemindGo+":k1") {
		t.Errorf("remind preview %+v", r)
	}
	s := SignInReply(domain.Vietnamese, "https://x.vn/admin/signin/t")
	if s.Link == nil || s.Link.URL != "https://x.vn/admin/signin/t" || strings.Contains(s.Text, "https://") {
		t.Errorf("sign-in reply %+v", s)
	}
}

func TestHistoryShowsRealChangesFormatted(t *testing.T) {
	c := newCampaign(t)
	at := func(h int) time.Time { return time.Date(2024, 8, 10, h, 0, 0, 0, hcm) }
	changes := []domain.SubmissionChange{
		{By: "DB002", At: at(8), Action: "draft", NewValue: "12.5"},
		{By: "DB002", At: at(9), Action: "draft", OldValue: "12.5", NewValue: "12.5"},               // the next question saved again
		{By: "DB002", At: at(10), Action: "draft", OldValue: "12.5", NewValue: "12.5", Evidence: 1}, // a file added
		{By: "DB002", At: at(11), Action: "submit", OldValue: "12.5", NewValue: "13", Evidence: 1},
		{By: "DB003", At: at(12), Action: "return", OldValue: "13", NewValue: "13", Evidence: 1, Comment: "Thiếu phụ lục"},
	}
	ind, _ := c.cat.Indicator("2.2.2")
	got := History(domain.Vietnamese, ind, changes, c.dir)
	want := []HistoryEntry{
		{At: at(12), Who: "Lê Minh Châu", Action: "Trả lại", Change: "13%", Evidence: "1 minh chứng", Comment: "Thiếu phụ lục"},
		{At: at(11), Who: "Trần Thị Bình", Action: "Gửi", Change: "12,5% → 13%", Evidence: "1 minh chứng"},
		{At: at(10), Who: "Trần Thị Bình", Action: "Lưu nháp", Change: "12,5%", Evidence: "1 minh chứng (+1)"},
		{At: at(8), Who: "Trần Thị Bình", Action: "Lưu nháp", Change: "12,5%", Evidence: "0 minh chứng"},
	}
	if len(got) != len(want) {
		t.Fatalf("%d entries, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d = %+v\nwant %+v", i, got[i], want[i])
		}
	}
	text := RenderHistory(domain.Vietnamese, ind, "Sở Tài chính", got, hcm, 10)
	if !strings.Contains(text, "• 11:00 10/08/2024 · Gửi · Trần Thị Bình: 12,5% → 13% · 1 minh chứng") || strings.Contains(text, "12.5") {
		t.Errorf("chat history %q", text)
	}
	if en := History(domain.English, ind, changes, c.dir); en[1].Change != "12.5% → 13%" || en[1].Action != "Sent" {
		t.Errorf("English %+v", en[1])
	}
}
