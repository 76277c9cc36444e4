package flows

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
)

var update = flag.Bool("update", false, "rewrite golden files")

var hcm = mustZone("Asia/Ho_Chi_Minh")

func mustZone(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

func at(h, m int) time.Time { return time.Date(2024, 8, 2, h, m, 0, 0, hcm) }

func testEvent() *domain.Event {
	return &domain.Event{
		ID: "pii-2024", NameVI: "Hội nghị triển khai Chỉ số PII năm 2024", NameEN: "PII 2024 launch conference",
		Location: hcm, DoorsOpen: at(7, 30), Start: at(8, 0), End: at(11, 10),
		VenueVI: "Trung tâm Thông tin - Hội nghị tỉnh Hưng Yên", VenueEN: "Hưng Yên Information and Conference Centre",
		Address:    "Đường Quảng Trường, phường Hiến Nam, thành phố Hưng Yên",
		RSVPCutoff: time.Date(2024, 7, 31, 17, 0, 0, 0, hcm),
		Organizer:  domain.Contact{Name: "Văn phòng Sở KH&CN", Phone: "0221386xxxx"},
		Agenda: []domain.AgendaItem{
			{No: 1, Start: at(7, 30), End: at(8, 0), TitleVI: "Đón tiếp đại biểu", TitleEN: "Welcome", SpeakerVI: "Sở KH&CN", SpeakerEN: "DOST"},
			{No: 2, Start: at(8, 0), End: at(8, 10), TitleVI: "Tuyên bố lý do, giới thiệu đại biểu", TitleEN: "Opening", SpeakerVI: "Sở KH&CN", SpeakerEN: "DOST"},
		},
	}
}

func testDirectory() *domain.Directory {
	return domain.NewDirectory([]domain.Person{
		{ID: "DB001", FullName: "Nguyễn Văn An", Position: "Phó Giám đốc", AgencyCode: "STC", Phone: "0912345678",
			Roles: []domain.Role{domain.RoleDelegate}, InviteToken: "tok-an-0123456789abcdef", InviteCode: "HY7K3M9Q"},
		{ID: "DB002", FullName: "Trần Thị Bình", Position: "Chuyên viên", AgencyCode: "STC", Phone: "0987654321",
			Roles: []domain.Role{domain.RoleFocal}, InviteToken: "tok-binh-0123456789abcd", InviteCode: "HYBINH22"},
	}, []domain.Agency{{Code: "STC", NameVI: "Sở Tài chính", NameEN: "Department of Finance"}})
}

// chat drives Step the way the dispatcher does, keeping the session and
// applying effects to an in-memory record of answers.
type chat struct {
	t       *testing.T
	now     time.Time
	s       Session
	person  *domain.Person
	proof   domain.Proof
	rsvp    *domain.RSVP
	lang    domain.Lang
	effects []domain.Effect
	last    Result
	log     strings.Builder
	dir     *domain.Directory // nil: testDirectory()
	url     string            // Facts.PublicURL
}

func newChat(t *testing.T) *chat {
	return &chat{t: t, now: time.Date(2024, 7, 25, 9, 0, 0, 0, hcm)}
}

func (c *chat) send(in Input) Result {
	c.t.Helper()
	dir := c.dir
	if dir == nil {
		dir = testDirectory()
	}
	f := Facts{Now: c.now, Channel: domain.Telegram, UserID: "42", ChatID: "42",
		Event: testEvent(), Directory: dir, Person: c.person, Proof: c.proof, RSVP: c.rsvp, Lang: c.lang, PublicURL: c.url}
	r := Step(c.s, in, f)
	if again := Step(c.s, in, f); !reflect.DeepEqual(r, again) {
		c.t.Fatalf("Step is not pure: two calls gave different results")
	}
	for _, e := range r.Effects {
		switch e := e.(type) {
		case domain.LinkIdentity:
			p, _ := f.Directory.Person(e.Identity.PersonID)
			c.person, c.proof = &p, e.Identity.Proof
			c.rsvp = nil
		case domain.UnlinkIdentity:
			if e.Channel == f.Channel && e.UserID == f.UserID {
				c.person, c.proof = nil, ""
			}
		case domain.SaveRSVP:
			rec := e.RSVP
			c.rsvp = &rec
		case domain.SetLanguage:
			c.lang = e.Lang
		}
	}
	c.effects = append(c.effects, r.Effects...)
	c.s = r.Session
	c.last = r
	fmt.Fprintf(&c.log, ">>> %s\n", describe(in))
	for _, rep := range r.Replies {
		writeReply(&c.log, rep)
	}
	return r
}

// writeReply writes one reply of a transcript: its text, its buttons, and
// what else it carries.
func writeReply(w *strings.Builder, rep Reply) {
	w.WriteString(rep.Text + "\n")
	for _, row := range rep.Buttons {
		var bs []string
		for _, b := range row {
			bs = append(bs, "["+b.Label+" → "+b.Data+"]")
		}
		w.WriteString(strings.Join(bs, " ") + "\n")
	}
	if rep.Link != nil {
		w.WriteString("[" + rep.Link.Label + " ↗ " + rep.Link.URL + "]\n")
	}
	if rep.File != nil {
		w.WriteString("[file " + rep.File.Name + "]\n")
	}
	if rep.AskContact {
		w.WriteString("[contact keyboard]\n")
	}
	w.WriteString("---\n")
}

func describe(in Input) string {
	switch in.Kind {
	case InCommand:
		return "/" + in.Command + " " + in.Text
	case InButton:
		return "button " + in.Data
	case InContact:
		return fmt.Sprintf("contact %s self=%v", in.Phone, in.ContactIsSelf)
	case InFile:
		var names []string
		for _, f := range in.Files {
			names = append(names, f.Name)
		}
		return "file " + strings.Join(names, ", ")
	}
	return string(in.Kind) + " " + in.Text
}

func text(s string) Input     { return Input{Kind: InText, Text: s} }
func cmd(c, arg string) Input { return Input{Kind: InCommand, Command: c, Text: arg} }
func btn(d string) Input      { return Input{Kind: InButton, Data: d} }

func (c *chat) replyText() string {
	var b []string
	for _, r := range c.last.Replies {
		b = append(b, r.Text)
	}
	return strings.Join(b, "\n")
}

func (c *chat) wantReply(sub string) {
	c.t.Helper()
	if !strings.Contains(c.replyText(), sub) {
		c.t.Fatalf("reply %q does not contain %q", c.replyText(), sub)
	}
}

func TestIdentify(t *testing.T) {
	tests := []struct {
		name   string
		inputs []Input
		wantID string // "" = still unknown
		reply  string
	}{
		{"invite link", []Input{cmd("start", "tok-an-0123456789abcdef")}, "DB001", "Xin chào Nguyễn Văn An"},
		{"bad invite link", []Input{cmd("start", "nope")}, "", "Liên kết mời này không hợp lệ"},
		{"typed code, any case and spacing", []Input{text("hy-7k3m 9q")}, "DB001", "đã được nhận diện"},
		{"own contact", []Input{{Kind: InContact, Phone: "+84 912 345 678", ContactIsSelf: true, ContactVerified: true}}, "DB001", "Nguyễn Văn An"},
		{"someone else's contact", []Input{{Kind: InContact, Phone: "0912345678"}}, "", "của chính anh/chị"},
		{"unknown phone", []Input{{Kind: InContact, Phone: "0900000000", ContactIsSelf: true, ContactVerified: true}}, "", "chưa có trong danh sách"},
		{"wrong code", []Input{text("ABCDEFGH")}, "", "không khớp"},
		{"greeting text", []Input{text("xin chào")}, "", "Để bắt đầu"},
		{"sticker", []Input{{Kind: InSticker}}, "", "Xin gõ mã mời"},
		{"plain /start", []Input{cmd("start", "")}, "", "Để bắt đầu"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newChat(t)
			for _, in := range tc.inputs {
				c.send(in)
			}
			got := ""
			if c.person != nil {
				got = c.person.ID
			}
			if got != tc.wantID || c.s.PersonID != tc.wantID {
				t.Fatalf("person = %q (session %q), want %q", got, c.s.PersonID, tc.wantID)
			}
			c.wantReply(tc.reply)
		})
	}
}

func TestCodeGuessingIsThrottled(t *testing.T) {
	c := newChat(t)
	for i := 0; i < maxIdentifyFails; i++ {
		c.send(text("ZZZZZZZ" + fmt.Sprint(i)))
	}
	c.wantReply("nhập sai nhiều lần")
	// Even the right code is refused while locked out...
	c.send(text("HY7K3M9Q"))
	if c.person != nil {
		t.Fatal("identified during lockout")
	}
	// ...and accepted after.
	c.now = c.now.Add(identifyLockout + time.Second)
	c.send(text("HY7K3M9Q"))
	if c.person == nil || c.person.ID != "DB001" {
		t.Fatal("not identified after lockout")
	}
}

func TestRSVP(t *testing.T) {
	c := newChat(t)
	c.send(cmd("start", "tok-an-0123456789abcdef"))
	c.wantReply("chưa trả lời")

	c.send(btn(btnAttend))
	c.wantReply("Đã ghi nhận: anh/chị sẽ tham dự")
	if c.rsvp == nil || c.rsvp.Status != domain.RSVPAttend {
		t.Fatalf("rsvp = %+v", c.rsvp)
	}
	n := len(c.effects)
	c.send(btn(btnAttend))
	c.wantReply("đã được ghi nhận từ trước")
	if len(c.effects) != n {
		t.Fatal("same answer twice must not save again")
	}
	c.send(btn(btnDecline))
	if c.rsvp.Status != domain.RSVPDecline {
		t.Fatalf("rsvp = %+v, want decline", c.rsvp)
	}
}

func TestSubstitute(t *testing.T) {
	c := newChat(t)
	c.send(cmd("start", "tok-an-0123456789abcdef"))
	c.send(btn(btnSub))
	c.wantReply("họ và tên")

	steps := []struct {
		in        Input
		wantState string
		reply     string
	}{
		{text("Lan"), stateSubName, "ít nhất hai chữ"},
		{text("Nguyễn 123"), stateSubName, "ít nhất hai chữ"},
		{Input{Kind: InSticker}, stateSubName, "chỉ đọc được chữ"},
		{text("  Phạm   Thu Hà "), stateSubPosition, "Chức vụ, đơn vị công tác của Phạm Thu Hà"},
		{text("123"), stateSubPosition, "từ 2 đến 120 ký tự"},
		{text("Phó Trưởng phòng Kế hoạch"), stateSubPhone, "Số điện thoại di động"},
		{text("12345"), stateSubPhone, "không phải số điện thoại"},
		{text("+84 911.222.333"), stateSubConfirm, "0911 222 333"},
		{text("ok"), stateSubConfirm, "Xin chọn một trong các nút"},
	}
	for i, st := range steps {
		c.send(st.in)
		if c.s.State != st.wantState {
			t.Fatalf("step %d (%s): state = %q, want %q", i, describe(st.in), c.s.State, st.wantState)
		}
		c.wantReply(st.reply)
		if c.rsvp != nil {
			t.Fatalf("step %d: saved before confirmation", i)
		}
	}
	c.send(btn(btnSubOK))
	want := domain.Substitute{Name: "Phạm Thu Hà", Position: "Phó Trưởng phòng Kế hoạch", Phone: "0911222333"}
	if c.rsvp == nil || c.rsvp.Status != domain.RSVPSubstitute || *c.rsvp.Substitute != want {
		t.Fatalf("rsvp = %+v, want substitute %+v", c.rsvp, want)
	}
	if c.s.State != stateIdle || c.s.Draft != nil {
		t.Fatalf("session after confirm = %+v, want idle", c.s)
	}
	// The confirm button pressed again (an old message) is stale.
	c.send(btn(btnSubOK))
	c.wantReply("không còn hiệu lực")
}

func TestCancelKeepsWhatWasConfirmed(t *testing.T) {
	c := newChat(t)
	c.send(cmd("start", "tok-an-0123456789abcdef"))
	c.send(btn(btnAttend))
	c.send(btn(btnSub))
	c.send(text("Phạm Thu Hà"))
	c.send(cmd("huy", ""))
	c.wantReply("Đã hủy")
	if c.rsvp.Status != domain.RSVPAttend || c.s.State != stateIdle {
		t.Fatalf("after cancel: rsvp %+v state %q; want attend kept, idle", c.rsvp, c.s.State)
	}
}

func TestCutoffAndRoles(t *testing.T) {
	c := newChat(t)
	c.send(cmd("start", "tok-an-0123456789abcdef"))
	c.now = time.Date(2024, 7, 31, 17, 0, 0, 0, hcm)
	c.send(btn(btnAttend))
	c.wantReply("Đã hết hạn thay đổi")
	if c.rsvp != nil {
		t.Fatal("saved after cut-off")
	}
	c.send(btn(btnSub))
	if c.s.State != stateIdle {
		t.Fatal("substitute form opened after cut-off")
	}
	// After the cut-off the card offers no answer buttons: they would only
	// be refused.
	c.send(cmd("xacnhan", ""))
	c.wantReply("Đã hết hạn thay đổi xác nhận")
	for _, rep := range c.last.Replies {
		for _, row := range rep.Buttons {
			for _, b := range row {
				if strings.HasPrefix(b.Data, "rsvp:") {
					t.Fatalf("the card after the cut-off offers %q", b.Label)
				}
			}
		}
	}

	f := newChat(t)
	f.send(cmd("start", "tok-binh-0123456789abcd"))
	for _, row := range f.last.Replies[len(f.last.Replies)-1].Buttons {
		for _, b := range row {
			if strings.HasPrefix(b.Data, "rsvp:") {
				t.Fatalf("a focal point who is not a delegate sees RSVP button %q", b.Data)
			}
		}
	}
	f.send(btn(btnAttend)) // crafted callback data
	f.wantReply("không có trong danh sách đại biểu")
	if f.rsvp != nil {
		t.Fatal("non-delegate saved an answer")
	}
}

func TestUnknownButtonAndCommand(t *testing.T) {
	c := newChat(t)
	c.send(cmd("start", "tok-an-0123456789abcdef"))
	c.send(btn("rsvp:attend;DROP TABLE"))
	c.wantReply("không còn hiệu lực")
	c.send(cmd("xyz", ""))
	c.wantReply("chưa hiểu lệnh “/xyz”")
	if len(c.effects) != 1 { // only the identity link
		t.Fatalf("effects = %v", c.effects)
	}
}

func TestLanguage(t *testing.T) {
	c := newChat(t)
	c.send(cmd("start", "tok-an-0123456789abcdef"))
	c.send(cmd("ngonngu", ""))
	c.send(btn("lang:en"))
	c.wantReply("Switched to English")
	c.wantReply("Your status: no answer yet")
	if c.lang != domain.English {
		t.Fatal("language preference not saved")
	}
	c.send(cmd("chuongtrinh", ""))
	c.wantReply("Friday 2 August 2024")
}

// The golden transcripts show every text a delegate sees in a whole RSVP,
// in both languages. Run with -update after changing a message.
func TestGoldenTranscripts(t *testing.T) {
	for _, lang := range []string{"vi", "en"} {
		t.Run(lang, func(t *testing.T) {
			c := newChat(t)
			c.send(cmd("start", ""))
			if lang == "en" {
				c.send(btn("lang:en"))
			}
			c.send(text("HY7K3M9Q"))
			c.send(btn(btnAgenda))
			c.send(btn(btnSub))
			c.send(text("Phạm Thu Hà"))
			c.send(text("Phó Trưởng phòng"))
			c.send(text("0911222333"))
			c.send(btn(btnSubOK))
			c.send(btn(btnCard))
			c.send(btn(btnDecline))
			c.send(cmd("trogiup", ""))
			golden(t, filepath.Join("testdata", "rsvp_"+lang+".golden"), c.log.String())
		})
	}
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update to create): %v", err)
	}
	if string(want) != got {
		t.Errorf("%s differs (run go test ./flows -update to accept):\n--- got\n%s", path, got)
	}
}

func TestEveryMessageHasBothLanguages(t *testing.T) {
	for k := range catalogs[domain.Vietnamese] {
		if _, ok := catalogs[domain.English][k]; !ok {
			t.Errorf("message %q has no English text", k)
		}
		if strings.Count(catalogs[domain.Vietnamese][k], "%") != strings.Count(catalogs[domain.English][k], "%") {
			t.Errorf("message %q: the two languages take different arguments", k)
		}
	}
	for k := range catalogs[domain.English] {
		if _, ok := catalogs[domain.Vietnamese][k]; !ok {
			t.Errorf("message %q has no Vietnamese text", k)
		}
	}
}

// Every message key the code names exists in the catalogs: a missing one
// would show the user an empty message.
func TestEveryUsedMessageExists(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	re := regexp.MustCompile(`(?:\bt|\.t|msg)\((?:[a-zA-Z.]+, )?"([a-z_]+)"\)?[,)]`)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(src), -1) {
			if _, ok := catalogs[domain.Vietnamese][msg(m[1])]; !ok {
				t.Errorf("%s uses message %q, which is not in the catalog", f, m[1])
			}
		}
	}
	for _, prefix := range []string{"ist_empty", "ist_draft", "ist_submitted", "ist_returned", "ist_approved", "file_too_large", "file_bad_type", "file_fetch_failed"} {
		if _, ok := catalogs[domain.Vietnamese][msg(prefix)]; !ok {
			t.Errorf("built message %q missing", prefix)
		}
	}
}

// FormatDate writes Vietnamese dates as "thứ Sáu, 02/08/2024", the same as
// the format it was first written with, on every day of a few years.
func TestFormatDateVietnamese(t *testing.T) {
	loc := time.FixedZone("ICT", 7*3600)
	for d := time.Date(1999, 12, 1, 23, 30, 0, 0, loc); d.Year() < 2031; d = d.AddDate(0, 0, 1) {
		want := fmt.Sprintf("%s, %02d/%02d/%d", viWeekdays[d.Weekday()], d.Day(), int(d.Month()), d.Year())
		if got := FormatDate(domain.Vietnamese, d); got != want {
			t.Fatalf("FormatDate(%v) = %q, want %q", d, got, want)
		}
	}
	if got, want := FormatDate(domain.Vietnamese, time.Date(2024, 8, 2, 9, 0, 0, 0, loc)), "thứ Sáu, 02/08/2024"; got != want {
		t.Errorf("FormatDate = %q, want %q", got, want)
	}
}
