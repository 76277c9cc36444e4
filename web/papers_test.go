package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/papers/paperstest"
)

func TestPapersInConsole(t *testing.T) {
	w := newWorld(t)
	c := w.signIn(t, "S001")

	// Without the issuer in event.yaml, a clear page, not a broken PDF.
	code, body := c.get("/admin/papers/invitation.pdf?person=P001")
	if code != http.StatusConflict {
		t.Fatalf("no issuer: %d", code)
	}
	mustContain(t, body, "chưa có mục invitation")

	w.ev.Issuer = domain.Issuer{Parent: "UBND TỈNH HƯNG YÊN", Body: "SỞ KHOA HỌC VÀ CÔNG NGHỆ", Number: "88/GM-SKHCN",
		Place: "Hưng Yên", SignerTitle: "GIÁM ĐỐC", SignerName: "Trần Tùng Chuẩn", Recipients: []string{"Như trên", "Lưu: VT"}}
	w.rsvp(t, "P002", domain.RSVPSubstitute, w.clock(), &domain.Substitute{Name: "Hoàng Văn Em", Position: "Chuyên viên", Phone: "0944000333"})
	w.rsvp(t, "P004", domain.RSVPDecline, w.clock(), nil)

	pdf := func(path string) string {
		t.Helper()
		resp := c.do("GET", path, nil, "")
		data := read(t, resp)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pdf" ||
			!strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("%s: %d %v\n%.300s", path, resp.StatusCode, resp.Header, data)
		}
		return paperstest.Write(t, []byte(data))
	}
	// A person's invitation: their name, the number, their QR codes.
	p := pdf("/admin/papers/invitation.pdf?person=P001")
	text := paperstest.Collapse(paperstest.Text(t, p)[0])
	mustContain(t, text, "Kính gửi: Đồng chí Nguyễn Văn An", "Số: 88/GM-SKHCN", "GIẤY MỜI", "Hội trường A, Trung tâm Hội nghị tỉnh")
	imgs := paperstest.Images(t, p)
	an := w.person("P001")
	if !paperstest.HasQR(t, imgs, "https://hoinghi.example.vn/checkin/"+an.CheckinToken) ||
		!paperstest.HasQR(t, imgs, "https://t.me/dieuphoi_bot?start="+an.InviteToken) {
		t.Error("the invitation's QR codes are not the person's links")
	}
	// An agency's merged file: one page a guest, the substitute under
	// their own name.
	p = pdf("/admin/papers/invitations.pdf?agency=UBND-YM")
	pages := paperstest.Text(t, p)
	if n := paperstest.Pages(t, p); n != 3 || len(pages) != 3 {
		t.Fatalf("UBND-YM: %d pages, want 3 (P002, P003, P002's substitute)", n)
	}
	all := paperstest.Collapse(strings.Join(pages, " "))
	mustContain(t, all, "Đồng chí Trần Thị Bình", "Đồng chí Lê Minh Cường", "Đồng chí Hoàng Văn Em", "(dự thay đồng chí Trần Thị Bình)")

	// Seating: protocol order, the substitute in place of P002, nobody who
	// declined.
	_, body = c.get("/admin/seating")
	mustContain(t, body, `href="/admin/papers/seating.pdf?event=hn2026"`, `href="/admin/papers/badges.pdf?event=hn2026"`)
	iAn, iCuong, iEm := strings.Index(body, "Nguyễn Văn An"), strings.Index(body, "Lê Minh Cường"), strings.Index(body, "Hoàng Văn Em")
	if iAn < 0 || iCuong < iAn || iEm < iCuong {
		t.Errorf("seating order: An %d, Cường %d, Em %d", iAn, iCuong, iEm)
	}
	mustNotContain(t, body, "Phạm Đức Dũng")
	seat := paperstest.Collapse(strings.Join(paperstest.Text(t, pdf("/admin/papers/seating.pdf")), " "))
	mustContain(t, seat, "1 Nguyễn Văn An Giám đốc", "2 Lê Minh Cường", "3 Hoàng Văn Em")
	mustNotContain(t, seat, "Phạm Đức Dũng", "Bình Phó Chủ tịch")
	b := pdf("/admin/papers/badges.pdf")
	if n := paperstest.Pages(t, b); n != 1 {
		t.Errorf("3 badges on %d pages", n)
	}
	mustContain(t, paperstest.Collapse(paperstest.Text(t, b)[0]), "Hoàng Văn Em", "Dự thay Trần Thị Bình")

	// Links from the person's page, the invitations page and the exports.
	_, body = c.get("/admin/delegates/P001")
	mustContain(t, body, `href="/admin/papers/invitation.pdf?person=P001"`)
	_, body = c.get("/admin/invitations?agency=UBND-YM")
	mustContain(t, body, `href="/admin/papers/invitations.pdf?agency=UBND-YM&event=hn2026"`)

	// Bad input.
	for _, path := range []string{"/admin/papers/invitation.pdf?person=NOPE", "/admin/papers/invitation.pdf?person=S001",
		"/admin/papers/invitations.pdf?agency=NOPE", "/admin/papers/other.pdf"} {
		if code, _ := c.get(path); code != http.StatusNotFound {
			t.Errorf("%s: %d", path, code)
		}
	}
	// Only staff: without a session, the sign-in page.
	anon := w.anon(t)
	for _, path := range []string{"/admin/papers/invitation.pdf?person=P001", "/admin/papers/badges.pdf", "/admin/seating"} {
		code, body := anon.get(path)
		if code != http.StatusUnauthorized || strings.Contains(body, "%PDF") {
			t.Errorf("%s without a session: %d", path, code)
		}
	}
}
