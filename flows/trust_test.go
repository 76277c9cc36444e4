package flows

import (
	"strings"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
)

// trustDirectory has a delegate who is also staff.
func trustDirectory() *domain.Directory {
	return domain.NewDirectory([]domain.Person{
		{ID: "DB001", FullName: "Nguyễn Văn An", Position: "Phó Giám đốc", AgencyCode: "STC", Phone: "0912345678",
			Roles: []domain.Role{domain.RoleDelegate}, InviteToken: "tok-an-0123456789abcdef", InviteCode: "HY7K3M9Q"},
		{ID: "S001", FullName: "Lê Minh Châu", Position: "Trưởng phòng", AgencyCode: "STC", Phone: "0911111111",
			Roles: []domain.Role{domain.RoleDelegate, domain.RoleStaff}, InviteToken: "tok-staff-0123456789ab", InviteCode: "HYSTAFF3"},
	}, []domain.Agency{{Code: "STC", NameVI: "Sở Tài chính"}})
}

// trustChat is one chat as the dispatcher drives it: identity and proof
// come from the "database" (the last link effect), not from the session.
type trustChat struct {
	t      *testing.T
	ch     domain.Channel
	user   string
	s      Session
	person *domain.Person
	proof  domain.Proof
	links  []domain.Identity
	enrol  *Enrolment
	last   Result
}

func (c *trustChat) send(in Input) Result {
	c.t.Helper()
	f := Facts{Now: time.Date(2024, 7, 25, 9, 0, 0, 0, hcm), Channel: c.ch, UserID: c.user, ChatID: c.user,
		Event: testEvent(), Directory: trustDirectory(), Person: c.person, Proof: c.proof, Links: c.links, Enrolment: c.enrol}
	r := Step(c.s, in, f)
	for _, e := range r.Effects {
		switch e := e.(type) {
		case domain.LinkIdentity:
			p, _ := f.Directory.Person(e.Identity.PersonID)
			c.person, c.proof = &p, e.Identity.Proof
		case domain.UnlinkIdentity:
			if e.Channel == c.ch && e.UserID == c.user {
				c.person, c.proof = nil, ""
			}
		}
	}
	c.s, c.last = r.Session, r
	return r
}

func (c *trustChat) said() string {
	var b []string
	for _, r := range c.last.Replies {
		b = append(b, r.Text)
	}
	return strings.Join(b, "\n")
}

func hasTask(r Result, name string) bool {
	for _, t := range r.Tasks {
		if t.Name == name {
			return true
		}
	}
	return false
}

func TestProofDecidesWhatAStaffMemberMayDo(t *testing.T) {
	tests := []struct {
		name     string
		ch       domain.Channel
		identify Input
		proof    domain.Proof
		staff    bool
	}{
		{"printed code", domain.Telegram, text("HYSTAFF3"), domain.ProofCode, false},
		{"invite link", domain.Telegram, cmd("start", "tok-staff-0123456789ab"), domain.ProofLink, false},
		{"own phone, vouched for by Telegram", domain.Telegram, Input{Kind: InContact, Phone: "0911111111", ContactIsSelf: true, ContactVerified: true}, domain.ProofPhone, true},
		{"demo picker", domain.Web, Input{Kind: InCommand, Command: "start", Text: "tok-staff-0123456789ab", DemoPick: true}, domain.ProofDemo, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &trustChat{t: t, ch: tc.ch, user: "77"}
			c.send(tc.identify)
			if c.person == nil || c.person.ID != "S001" || c.proof != tc.proof {
				t.Fatalf("linked %v on %q, want S001 on %q", c.person, c.proof, tc.proof)
			}
			if got := strings.Contains(c.said(), "cần xác thực thêm"); got == tc.staff {
				t.Errorf("verification asked = %v after %s: %q", got, tc.name, c.said())
			}
			r := c.send(cmd("dangnhap", ""))
			if hasTask(r, "signin") != tc.staff {
				t.Fatalf("sign-in link asked = %v, want %v (%q)", hasTask(r, "signin"), tc.staff, c.said())
			}
			if !tc.staff {
				if !strings.Contains(c.said(), "cần xác thực thêm") || r.Refused == "" {
					t.Errorf("no polite word on how to get the rest: %q", c.said())
				}
				// The delegate's functions work.
				if r := c.send(btn(btnAttend)); len(r.Effects) != 1 {
					t.Errorf("RSVP refused on %s", tc.proof)
				}
			}
		})
	}
}

func TestVerifiedChatStaysVerifiedWhenTheCodeIsTypedAgain(t *testing.T) {
	c := &trustChat{t: t, ch: domain.Telegram, user: "77"}
	c.send(Input{Kind: InContact, Phone: "0911111111", ContactIsSelf: true, ContactVerified: true})
	r := c.send(text("HYSTAFF3"))
	if c.proof != domain.ProofPhone {
		t.Fatalf("proof = %q after the code was typed again", c.proof)
	}
	if len(r.Notices) != 0 {
		t.Errorf("relinking the same person announced: %+v", r.Notices)
	}
}

func TestZaloPhoneFormIsAClaimAndMustBeAsked(t *testing.T) {
	form := Input{Kind: InContact, Phone: "0911111111", ContactIsSelf: true, PhoneForm: true}
	c := &trustChat{t: t, ch: domain.Zalo, user: "zl"}
	r := c.send(form)
	if c.person != nil || len(r.Effects) != 0 || r.Refused == "" {
		t.Fatalf("an unrequested phone form identified the chat: %+v", r)
	}
	c.send(cmd("start", "")) // the greeting asks for the phone
	if !c.s.ContactAsked {
		t.Fatal("the greeting did not record that the phone was asked for")
	}
	c.send(form)
	if c.person == nil || c.person.ID != "S001" || c.proof != domain.ProofPhoneClaimed {
		t.Fatalf("asked-for form: %v %q", c.person, c.proof)
	}
	if r := c.send(cmd("dangnhap", "")); hasTask(r, "signin") {
		t.Fatal("a claimed phone opened the console")
	}
	// Sent again while known, it still is not proof.
	c.send(form)
	if c.proof != domain.ProofPhoneClaimed || !strings.Contains(c.said(), "chưa được nền tảng xác nhận") {
		t.Errorf("proof %q, said %q", c.proof, c.said())
	}
}

func TestEnrolmentLink(t *testing.T) {
	for _, tc := range []struct {
		problem, reply string
	}{{"used", "đã được dùng"}, {"expired", "đã hết hạn"}, {"unknown", "không hợp lệ"}} {
		c := &trustChat{t: t, ch: domain.Zalo, user: "zl", enrol: &Enrolment{Problem: tc.problem}}
		r := c.send(cmd("start", EnrolPrefix+"x"))
		if c.person != nil || len(r.Effects) != 0 || !strings.Contains(c.said(), tc.reply) {
			t.Errorf("%s: linked %v, said %q", tc.problem, c.person, c.said())
		}
	}
	c := &trustChat{t: t, ch: domain.Zalo, user: "zl", enrol: &Enrolment{PersonID: "S001", Hash: "h1"}}
	r := c.send(cmd("start", EnrolPrefix+"x"))
	l, ok := r.Effects[0].(domain.LinkIdentity)
	if !ok || l.Enrolment != "h1" || l.Identity.Proof != domain.ProofEnrol || !strings.Contains(c.said(), "Đã xác thực") {
		t.Fatalf("enrolment: %+v, said %q", r.Effects, c.said())
	}
	if r := c.send(cmd("dangnhap", "")); !hasTask(r, "signin") {
		t.Fatal("an enrolled staff member got no sign-in link")
	}
}

func TestNewLinkIsAnnouncedAndCanBeUndone(t *testing.T) {
	mine := domain.Identity{Channel: domain.Telegram, UserID: "77", ChatID: "77", PersonID: "S001", Proof: domain.ProofPhone}
	intruder := domain.Identity{Channel: domain.Web, UserID: "w1", ChatID: "w1", PersonID: "S001", Proof: domain.ProofCode}

	in := &trustChat{t: t, ch: domain.Web, user: "w1"}
	r := in.send(text("HYSTAFF3"))
	if len(r.Notices) != 1 {
		t.Fatalf("notices = %+v", r.Notices)
	}
	n := r.Notices[0]
	if n.PersonID != "S001" || n.Skip == nil || n.Skip.Channel != domain.Web || n.Skip.UserID != "w1" {
		t.Fatalf("notice %+v", n)
	}
	rep := n.Replies[0]
	if !strings.Contains(rep.Text, "Tài khoản của anh/chị vừa được liên kết trên trang trò chuyện (web) lúc 09:00 ngày 25/07/2024") ||
		!strings.Contains(rep.Text, "«Hủy liên kết»") || rep.Buttons[0][0].Data != btnUnlinkPrefix+intruder.LinkRef() {
		t.Fatalf("notice reply %+v", rep)
	}

	// The verified chat presses it.
	own := &trustChat{t: t, ch: domain.Telegram, user: "77", person: ptr(trustDirectory(), "S001"), proof: domain.ProofPhone,
		links: []domain.Identity{mine, intruder}}
	r = own.send(btn(rep.Buttons[0][0].Data))
	u, ok := r.Effects[0].(domain.UnlinkIdentity)
	if !ok || u.Channel != domain.Web || u.UserID != "w1" || u.By != "S001" || u.From != domain.Telegram {
		t.Fatalf("unlink effect %+v", r.Effects)
	}
	// Pressed again, after it is gone.
	own.links = []domain.Identity{mine}
	if r := own.send(btn(rep.Buttons[0][0].Data)); len(r.Effects) != 0 || !strings.Contains(own.said(), "đã được hủy trước đó") {
		t.Errorf("second press: %+v %q", r.Effects, own.said())
	}
	// An unverified chat cannot unlink a verified one.
	in.links = []domain.Identity{mine, intruder}
	if r := in.send(btn(btnUnlinkPrefix + mine.LinkRef())); len(r.Effects) != 0 || r.Refused == "" {
		t.Errorf("the intruder unlinked the owner: %+v", r.Effects)
	}
	// /dangxuat unlinks the chat it is typed in.
	r = in.send(cmd("dangxuat", ""))
	if u, ok := r.Effects[0].(domain.UnlinkIdentity); !ok || u.UserID != "w1" || in.person != nil {
		t.Fatalf("dangxuat: %+v", r.Effects)
	}
	if r := in.send(cmd("dangnhap", "")); hasTask(r, "signin") || !strings.Contains(in.said(), "Để bắt đầu") {
		t.Errorf("after /dangxuat: %q", in.said())
	}
}

func ptr(d *domain.Directory, id string) *domain.Person {
	p, _ := d.Person(id)
	return &p
}

func TestGroupNote(t *testing.T) {
	for _, lang := range []domain.Lang{domain.Vietnamese, domain.English} {
		r := GroupNote(lang, "https://t.me/bot")
		if r.Link == nil || r.Link.URL != "https://t.me/bot" || r.Link.Label == "" || r.Text == "" || len(r.Buttons) != 0 {
			t.Errorf("%s: %+v", lang, r)
		}
	}
}
