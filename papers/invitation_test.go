package papers_test

import (
	"bytes"
	"errors"
	"github.com/dieuphoi/dieuphoi/papers"
	"github.com/dieuphoi/dieuphoi/papers/paperstest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
)

const publicURL = "https://hoinghi.skhcn.example.vn"

var printedAt = time.Date(2024, 7, 20, 9, 0, 0, 0, time.UTC)

// invitees are people of an agency with their links, as the console makes
// them.
func invitees(t *testing.T, dir *domain.Directory, code string) []papers.Invitee {
	t.Helper()
	a, ok := dir.Agency(code)
	if !ok {
		t.Fatalf("no agency %s", code)
	}
	var out []papers.Invitee
	for _, p := range dir.People() {
		if p.AgencyCode == code && p.Has(domain.RoleDelegate) {
			out = append(out, papers.NewInvitee(p, a, "", publicURL, "pii_hungyen_bot"))
		}
	}
	if len(out) < 2 {
		t.Fatalf("agency %s has %d delegates; the test needs two or more", code, len(out))
	}
	return out
}

func TestInvitationReadsBack(t *testing.T) {
	ev, dir := example(t)
	people := invitees(t, dir, "HV-KHCNDMST")
	one := people[:1]
	data, err := papers.Invitations(ev, one, printedAt)
	if err != nil {
		t.Fatal(err)
	}
	path := paperstest.Write(t, data)
	if n := paperstest.Pages(t, path); n != 1 {
		t.Fatalf("one person's invitation has %d pages", n)
	}
	text := paperstest.Text(t, path)[0]
	p := one[0].Person
	for _, want := range []string{
		"UBND TỈNH HƯNG YÊN", "SỞ KHOA HỌC VÀ CÔNG NGHỆ",
		"CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
		"Số:", "/GM-SKHCN", "Hưng Yên, ngày 26 tháng 7 năm 2024",
		"GIẤY MỜI", "Kính gửi: Đồng chí " + p.FullName, p.Position,
		"Học viện Khoa học, Công nghệ và Đổi mới sáng tạo",
		"Thời gian: 08 giờ 00, thứ Sáu, 02/08/2024", "đón tiếp đại biểu từ 07 giờ 30",
		"Trung tâm Thông tin - Hội nghị tỉnh Hưng Yên", "Đón tiếp đại biểu",
		"trước 17 giờ 00 ngày 31/07/2024", "Nơi nhận:", "- Như trên;", "- Lưu: VT, CNĐMST.",
		"GIÁM ĐỐC", "Trần Tùng Chuẩn", "Điểm danh", p.InviteCode, "Trợ lý hội nghị",
	} {
		if !strings.Contains(paperstest.Collapse(text), paperstest.Collapse(want)) {
			t.Errorf("invitation text lacks %q:\n%s", want, text)
		}
	}
	golden(t, "invitation.txt", []byte(text))

	// Both QR codes carry this person's links: the images in the PDF are
	// the QR images of exactly those payloads.
	imgs := paperstest.Images(t, path)
	for _, payload := range []string{one[0].CheckIn, one[0].Chat} {
		if !paperstest.HasQR(t, imgs, payload) {
			t.Errorf("no QR image of %q in the invitation (%d images)", payload, len(imgs))
		}
	}
	if one[0].Chat != "https://t.me/pii_hungyen_bot?start="+p.InviteToken || one[0].CheckIn != publicURL+"/checkin/"+p.CheckinToken {
		t.Errorf("links = %q, %q", one[0].CheckIn, one[0].Chat)
	}
	if paperstest.HasQR(t, imgs, people[1].CheckIn) {
		t.Error("the invitation carries another person's check-in QR")
	}

	// The rendered page is kept for people to look at (and the README).
	png, img := paperstest.Render(t, path, 1, 100, "invitation")
	if b := img.Bounds(); b.Dx() < 800 || b.Dy() < 1100 {
		t.Errorf("rendered page is %v", b)
	}
	if *update {
		data, err := os.ReadFile(png)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("testdata", "invitation.png"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestInvitationsMergedPerAgency(t *testing.T) {
	ev, dir := example(t)
	people := invitees(t, dir, "SKHCN")
	data, err := papers.Invitations(ev, people, printedAt)
	if err != nil {
		t.Fatal(err)
	}
	path := paperstest.Write(t, data)
	if n := paperstest.Pages(t, path); n != len(people) {
		t.Fatalf("%d people, %d pages", len(people), n)
	}
	pages := paperstest.Text(t, path)
	for i, iv := range people {
		if !strings.Contains(paperstest.Collapse(pages[i]), paperstest.Collapse("Kính gửi: Đồng chí "+iv.Person.FullName)) {
			t.Errorf("page %d is not %s's:\n%s", i+1, iv.Person.FullName, pages[i])
		}
	}
}

func TestInvitationSubstituteAndDates(t *testing.T) {
	ev, dir := example(t)
	p, _ := dir.Person("DB002")
	a, _ := dir.Agency(p.AgencyCode)
	sub := domain.Person{ID: domain.SubstituteID(p.ID), FullName: "Ngô Thị Hằng", Position: "Chuyên viên", AgencyCode: p.AgencyCode,
		InviteToken: "subtok", CheckinToken: "subchk", InviteCode: "HYSUB1"}
	ev.Issuer.Date = time.Time{} // printed date
	ev.Issuer.Number = "125/GM-SKHCN"
	ev.Issuer.SignerAuthority = "KT. GIÁM ĐỐC"
	ev.Issuer.SignerTitle = "PHÓ GIÁM ĐỐC"
	ev.Issuer.Recipients = nil
	data, err := papers.Invitations(ev, []papers.Invitee{papers.NewInvitee(sub, a, p.FullName, publicURL, "")}, time.Date(2024, 2, 5, 20, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	path := paperstest.Write(t, data)
	text := paperstest.Collapse(paperstest.Text(t, path)[0])
	for _, want := range []string{"Kính gửi: Đồng chí Ngô Thị Hằng", "(dự thay đồng chí " + p.FullName + ")",
		"Số: 125/GM-SKHCN", "Hưng Yên, ngày 06 tháng 02 năm 2024", "KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "- Như trên;", "- Lưu: VT."} {
		if !strings.Contains(text, paperstest.Collapse(want)) {
			t.Errorf("lacks %q:\n%s", want, text)
		}
	}
	// Without Telegram the chat QR is the web chat link.
	if !paperstest.HasQR(t, paperstest.Images(t, path), publicURL+"/chat/i/subtok") {
		t.Error("no web chat QR")
	}
}

func TestInvitationLongAgendaStaysOnOnePage(t *testing.T) {
	ev, dir := example(t)
	for i := range ev.Agenda {
		ev.Agenda[i].TitleVI = strings.Repeat("Phân tích, đánh giá các điểm mạnh, điểm yếu ", 6)
	}
	ev.Address = strings.Repeat("Đường Quảng Trường, phường Hiến Nam, ", 4)
	data, err := papers.Invitations(ev, invitees(t, dir, "SKHCN")[:1], printedAt)
	if err != nil {
		t.Fatal(err)
	}
	if n := paperstest.Pages(t, paperstest.Write(t, data)); n != 1 {
		t.Errorf("%d pages", n)
	}
}

func TestInvitationRefusals(t *testing.T) {
	ev, dir := example(t)
	if _, err := papers.Invitations(ev, nil, printedAt); !errors.Is(err, papers.ErrNobody) {
		t.Errorf("nobody: %v", err)
	}
	ev.Issuer = domain.Issuer{}
	if _, err := papers.Invitations(ev, invitees(t, dir, "SKHCN"), printedAt); !errors.Is(err, papers.ErrNoIssuer) {
		t.Errorf("no issuer: %v", err)
	}
}

func TestDateLine(t *testing.T) {
	tests := []struct {
		label string
		d     time.Time
		want  string
	}{
		{"two digits", time.Date(2024, 7, 26, 0, 0, 0, 0, time.UTC), "Hưng Yên, ngày 26 tháng 7 năm 2024"},
		{"day below ten", time.Date(2024, 8, 2, 0, 0, 0, 0, time.UTC), "Hưng Yên, ngày 02 tháng 8 năm 2024"},
		{"January", time.Date(2025, 1, 15, 0, 0, 0, 0, time.UTC), "Hưng Yên, ngày 15 tháng 01 năm 2025"},
		{"February", time.Date(2025, 2, 9, 0, 0, 0, 0, time.UTC), "Hưng Yên, ngày 09 tháng 02 năm 2025"},
		{"March", time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), "Hưng Yên, ngày 01 tháng 3 năm 2025"},
		{"December", time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC), "Hưng Yên, ngày 31 tháng 12 năm 2025"},
	}
	for _, tt := range tests {
		if got := papers.DateLine("Hưng Yên", tt.d); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.label, got, tt.want)
		}
	}
}

// golden compares got with testdata/name (rewritten with -update).
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run with -update if intended):\n got:\n%s\nwant:\n%s", name, got, want)
	}
}
