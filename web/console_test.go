package web_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/web"
)

var consolePages = []string{"/admin/", "/admin/delegates", "/admin/delegates/P001", "/admin/delegates/P001/invite",
	"/admin/indicators", "/admin/indicators/1.1.1/UBND-YM", "/admin/import", "/admin/export", "/admin/export/attendees.xlsx",
	"/admin/export/xlsx", "/admin/invitations?agency=SKHCN", "/admin/qr/P001.png", "/admin/papers/invitation.pdf?person=P001", "/admin/papers/badges.pdf", "/admin/seating", "/admin/checkin", "/admin/api/headcount",
	"/admin/nothing-here"}

func TestNoSessionNoData(t *testing.T) {
	w := newWorld(t)
	w.rsvp(t, "P001", domain.RSVPAttend, w.clock(), nil)
	sum := w.putEvidence(t, "bằng chứng")
	w.submit(t, "1.1.1", "UBND-YM", "P003", "7", domain.Evidence{SHA256: sum, Name: "qd.pdf", Size: 10})
	c := w.anon(t)
	for _, p := range append(consolePages, "/admin/evidence/"+sum) {
		code, body := c.get(p)
		if code != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401", p, code)
		}
		mustContain(t, body, "/dangnhap", "tên của anh/chị")
		mustNotContain(t, body, "bạn", "Nguyễn Văn An", "Yên Mỹ", w.person("P001").InviteCode, "bằng chứng")
	}
	resp := c.post("/admin/checkin", url.Values{"code": {w.person("P001").InviteCode}})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("POST without session: %d", resp.StatusCode)
	}
	read(t, resp)
	if cs, _ := w.store.CheckIns(context.Background()); len(cs) != 0 {
		t.Errorf("checked in without a session: %v", cs)
	}
	resp = c.do("GET", "/admin/", nil, "")
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP %q", csp)
	}
	read(t, resp)
	// A forged cookie is no session.
	u, _ := url.Parse(w.srv.URL + "/admin/")
	c.http.Jar.SetCookies(u, []*http.Cookie{{Name: "dieuphoi_admin", Value: strings.Repeat("A", 43), Path: "/admin"}})
	if code, _ := c.get("/admin/"); code != http.StatusUnauthorized {
		t.Errorf("forged cookie: %d", code)
	}
}

func TestSignInLinks(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	if _, err := w.console.IssueSignIn(ctx, "P001"); !errors.Is(err, web.ErrNotStaff) {
		t.Fatalf("delegate got a link: %v", err)
	}
	if _, err := w.console.IssueSignIn(ctx, "nobody"); !errors.Is(err, web.ErrNotStaff) {
		t.Fatalf("unknown person got a link: %v", err)
	}
	path := func(link string) string { return strings.TrimPrefix(link, "https://hoinghi.example.vn") }

	// Used.
	c := w.signIn(t, "S001")
	link, _ := w.console.IssueSignIn(ctx, "S001")
	if !strings.HasPrefix(link, "https://hoinghi.example.vn/admin/signin/") {
		t.Fatalf("link %s", link)
	}
	resp := c.do("POST", path(link), nil, "")
	read(t, resp)
	resp = w.anon(t).do("POST", path(link), nil, "")
	if body := read(t, resp); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "đã được dùng") || !strings.Contains(body, "/dangnhap") {
		t.Errorf("used link: %d\n%s", resp.StatusCode, body)
	}
	if code, body := w.anon(t).get(path(link)); code != http.StatusForbidden || !strings.Contains(body, "đã được dùng") {
		t.Errorf("used link page: %d", code)
	}

	// Expired.
	link, _ = w.console.IssueSignIn(ctx, "S001")
	w.setClock(w.clock().Add(16 * time.Minute))
	if code, body := w.anon(t).get(path(link)); code != http.StatusForbidden || !strings.Contains(body, "hết hạn") || strings.Contains(body, `id="signin"`) {
		t.Errorf("expired link page: %d\n%s", code, body)
	}
	resp = w.anon(t).do("POST", path(link), nil, "")
	if body := read(t, resp); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "hết hạn") {
		t.Errorf("expired link: %d", resp.StatusCode)
	}

	// A token for someone who is not staff (any more) gives no session.
	tok := "x" + strings.Repeat("y", 42)
	sum := sha256.Sum256([]byte(tok))
	if err := w.store.CreateSignIn(ctx, hex.EncodeToString(sum[:]), "P001", w.clock(), w.clock().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	a := w.anon(t)
	resp = a.do("POST", "/admin/signin/"+tok, nil, "")
	if body := read(t, resp); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "không có quyền") || resp.Header.Get("Set-Cookie") != "" {
		t.Errorf("non-staff token: %d %q", resp.StatusCode, resp.Header.Get("Set-Cookie"))
	}
	if code, _ := a.get("/admin/"); code != http.StatusUnauthorized {
		t.Errorf("non-staff got in: %d", code)
	}
	// Unknown token.
	if code, body := w.anon(t).get("/admin/signin/" + strings.Repeat("z", 43)); code != http.StatusForbidden || !strings.Contains(body, "không hợp lệ") {
		t.Errorf("unknown token: %d", code)
	}

	// A staff member who loses the role loses the session.
	if code, _ := c.get("/admin/"); code != http.StatusOK {
		t.Fatalf("session: %d", code)
	}
	demoted := append([]domain.Person(nil), people...)
	demoted[0].Roles = []domain.Role{domain.RoleDelegate}
	if err := w.store.SyncDirectory(ctx, agencies, demoted); err != nil {
		t.Fatal(err)
	}
	_ = w.reload(ctx)
	if code, _ := c.get("/admin/"); code != http.StatusUnauthorized {
		t.Errorf("demoted staff still in: %d", code)
	}
}

func TestSignOutAndCSRF(t *testing.T) {
	w := newWorld(t)
	c := w.signIn(t, "S001")
	code := w.person("P001").InviteCode
	for name, form := range map[string]url.Values{
		"missing": {"code": {code}, "csrf": {""}},
		"bad":     {"code": {code}, "csrf": {otherToken(c.csrf)}},
	} {
		resp := c.post("/admin/checkin", form)
		if body := read(t, resp); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Yêu cầu bị từ chối") {
			t.Errorf("%s CSRF token: %d", name, resp.StatusCode)
		}
	}
	// The token in the query string only: refused (it would leak into logs
	// and Referer headers).
	resp := c.do("POST", "/admin/checkin?csrf="+url.QueryEscape(c.csrf), strings.NewReader(url.Values{"code": {code}}.Encode()),
		"application/x-www-form-urlencoded")
	if read(t, resp); resp.StatusCode != http.StatusForbidden {
		t.Errorf("CSRF token in the query string: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest("POST", w.srv.URL+"/admin/checkin", strings.NewReader(url.Values{"code": {code}, "csrf": {c.csrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if read(t, resp); resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin POST: %d", resp.StatusCode)
	}
	if cs, _ := w.store.CheckIns(context.Background()); len(cs) != 0 {
		t.Errorf("checked in despite bad CSRF: %v", cs)
	}
	// The token in the header (for scripts) is accepted.
	req, _ = http.NewRequest("POST", w.srv.URL+"/admin/checkin", strings.NewReader(url.Values{"code": {code}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(web.CSRFHeader, c.csrf)
	if resp, err = c.http.Do(req); err != nil {
		t.Fatal(err)
	}
	if read(t, resp); resp.StatusCode == http.StatusForbidden {
		t.Errorf("CSRF token in the header refused")
	}
	resp = c.post("/admin/signout", nil)
	if body := read(t, resp); resp.StatusCode != 200 || !strings.Contains(body, "đã đăng xuất") {
		t.Errorf("sign out: %d", resp.StatusCode)
	}
	if code, _ := c.get("/admin/"); code != http.StatusUnauthorized {
		t.Errorf("after sign-out: %d", code)
	}
}

func TestOverviewAndDelegates(t *testing.T) {
	w := newWorld(t)
	day1, day2 := time.Date(2026, 7, 15, 10, 0, 0, 0, ict), time.Date(2026, 7, 16, 11, 0, 0, 0, ict)
	w.rsvp(t, "P001", domain.RSVPAttend, day1, nil)
	w.rsvp(t, "P002", domain.RSVPSubstitute, day2, &domain.Substitute{Name: "Hoàng Văn Em", Position: "Phó Chánh Văn phòng", Phone: "0900000001"})
	w.rsvp(t, "P003", domain.RSVPDecline, day2, nil)
	c := w.signIn(t, "S001")

	code, body := c.get("/admin/")
	if code != 200 {
		t.Fatalf("overview: %d", code)
	}
	mustContain(t, body, `id="c-invited">4<`, `id="c-attend">1<`, `id="c-substitute">1<`, `id="c-decline">1<`, `id="c-pending">1<`,
		`id="c-checkedin">0<`, "UBND huyện Yên Mỹ", "15/07/2026", "16/07/2026", "Còn <strong>18</strong> ngày đến hội nghị",
		"Hạn nộp: <strong>còn 31 ngày</strong>", "1 Thể chế", "2 Nguồn nhân lực", `class="cell empty"`, "Tổng quan", "Đăng xuất", "Đăng nhập")

	// Search ignores diacritics.
	_, body = c.get("/admin/delegates?q=nguyen")
	mustContain(t, body, "Nguyễn Văn An")
	mustNotContain(t, body, "Trần Thị Bình")
	_, body = c.get("/admin/delegates?q=" + url.QueryEscape("tran binh"))
	mustContain(t, body, "Trần Thị Bình", "Hoàng Văn Em", "Cử người dự thay")
	mustNotContain(t, body, "Nguyễn Văn An")
	_, body = c.get("/admin/delegates?q=" + url.QueryEscape("DŨNG"))
	mustContain(t, body, "Phạm Đức Dũng")
	_, body = c.get("/admin/delegates?status=decline")
	mustContain(t, body, "Lê Minh Cường")
	mustNotContain(t, body, "Nguyễn Văn An")

	// Invite links.
	p := w.person("P001")
	_, body = c.get("/admin/delegates/P001/invite")
	mustContain(t, body, "https://hoinghi.example.vn/chat/i/"+p.InviteToken, "https://t.me/dieuphoi_bot?start="+p.InviteToken, p.InviteCode, "/admin/qr/P001.png")
	// Resending the invitation in chat: queued for a person with a chat, a
	// clear message for one without.
	for _, tc := range []struct{ id, want string }{{"P001", "Đã xếp lịch gửi lại lời mời"}, {"P002", "chưa mở trò chuyện"}} {
		resp := c.post("/admin/delegates/"+tc.id+"/invite", nil)
		read(t, resp)
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusSeeOther || loc == "" {
			t.Fatalf("resend %s: %d %q", tc.id, resp.StatusCode, loc)
		}
		if _, b := c.get(loc); !strings.Contains(b, tc.want) {
			t.Errorf("resend %s: the page lacks %q", tc.id, tc.want)
		}
	}
	if resp := c.post("/admin/delegates/P001/invite", url.Values{"csrf": {"nope"}}); resp.StatusCode != 403 {
		t.Errorf("resend with a bad CSRF token: %d", resp.StatusCode)
	}
	w.mu.Lock()
	if len(w.resent) != 2 || !strings.HasPrefix(w.resent[0], "P001 ") {
		t.Errorf("resent = %v", w.resent)
	}
	w.mu.Unlock()
	resp := c.do("GET", "/admin/qr/P001.png", nil, "")
	if b := read(t, resp); resp.Header.Get("Content-Type") != "image/png" || !strings.HasPrefix(b, "\x89PNG") {
		t.Errorf("qr: %s", resp.Header.Get("Content-Type"))
	}
	if code, _ := c.get("/admin/qr/NOPE.png"); code != 404 {
		t.Errorf("unknown qr: %d", code)
	}

	// Edit: a bad phone is refused, a good edit saved (token and code kept).
	resp = c.post("/admin/delegates/P001", url.Values{"full_name": {"Nguyễn Văn Ân"}, "position": {"Giám đốc Sở"}, "phone": {"12ab"}, "agency": {"SKHCN"}})
	if body := read(t, resp); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Số điện thoại không hợp lệ") {
		t.Errorf("bad phone: %d", resp.StatusCode)
	}
	if w.person("P001").FullName != "Nguyễn Văn An" {
		t.Error("bad edit saved")
	}
	resp = c.post("/admin/delegates/P001", url.Values{"full_name": {"  Nguyễn  Văn Ân "}, "position": {"Giám đốc Sở"}, "phone": {"+84 912.345.000"}, "agency": {"SNV"}})
	read(t, resp)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("edit: %d", resp.StatusCode)
	}
	got := w.person("P001")
	if got.FullName != "Nguyễn Văn Ân" || got.Phone != "0912345000" || got.AgencyCode != "SNV" || got.InviteToken != p.InviteToken || got.InviteCode != p.InviteCode || w.reloads.Load() == 0 {
		t.Errorf("edited: %+v", got)
	}
	if order := w.dir.Load().People(); order[1].ID != "P001" {
		t.Errorf("list order changed: %v", order[1].ID)
	}
	_, body = c.get("/admin/delegates?msg=saved")
	mustContain(t, body, "Đã lưu thông tin đại biểu.")

	// The attendee list.
	resp = c.do("GET", "/admin/export/attendees.xlsx", nil, "")
	data := read(t, resp)
	if !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Errorf("attendees: %v", resp.Header)
	}
	x, err := excelize.OpenReader(strings.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := x.GetRows("Đại biểu")
	if len(rows) != 5 || rows[0][2] != "Họ và tên" || rows[2][2] != "Trần Thị Bình" || rows[2][5] != "Cử người dự thay" || rows[2][6] != "Hoàng Văn Em" {
		t.Errorf("attendees rows: %v", rows)
	}
	for _, k := range []string{"xlsx", "csv", "pdf", "zip"} {
		resp := c.do("GET", "/admin/export/"+k, nil, "")
		if b := read(t, resp); resp.StatusCode != 200 || len(b) == 0 || !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
			t.Errorf("export %s: %d", k, resp.StatusCode)
		}
	}
	if code, _ := c.get("/admin/export/doc"); code != 404 {
		t.Errorf("unknown export: %d", code)
	}
	// An agency's sign-off workbook: only its rows, and the signature block.
	resp = c.do("GET", "/admin/export/agency?agency=SKHCN", nil, "")
	ab := read(t, resp)
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Disposition"), "PII-SKHCN-") {
		t.Fatalf("agency export: %d %s", resp.StatusCode, resp.Header.Get("Content-Disposition"))
	}
	ax, err := excelize.OpenReader(strings.NewReader(ab))
	if err != nil {
		t.Fatal(err)
	}
	sheet := ax.GetSheetList()[0]
	arows, _ := ax.GetRows(sheet)
	flat := fmt.Sprint(arows)
	if !strings.Contains(flat, "Thủ trưởng đơn vị") || strings.Contains(flat, "UBND-YM") {
		t.Errorf("agency workbook rows: %v", arows)
	}
	if code, _ := c.get("/admin/export/agency?agency=NOPE"); code != 404 {
		t.Errorf("unknown agency export: %d", code)
	}
	_, body = c.get("/admin/export")
	mustContain(t, body, "/admin/export/attendees.xlsx", "/admin/export/zip", `action="/admin/export/agency"`)

	// Invitations.
	_, body = c.get("/admin/invitations")
	mustContain(t, body, "/admin/invitations?agency=UBND-YM")
	_, body = c.get("/admin/invitations?agency=UBND-YM")
	mustContain(t, body, "Trần Thị Bình", "Lê Minh Cường", w.person("P002").InviteCode, "/admin/qr/P002.png", "Hội trường A", "07/08/2026", `id="print"`)
	mustNotContain(t, body, "Nguyễn Văn Ân")
}

func TestIndicatorsReview(t *testing.T) {
	w := newWorld(t)
	sum := w.putEvidence(t, "%PDF quyết định")
	w.submit(t, "1.1.1", "UBND-YM", "P003", "7", domain.Evidence{SHA256: sum, Name: "Quyết định 12.pdf", MIME: "application/pdf", Size: 15})
	w.submit(t, "2.1.1", "SNV", "P004", "62.5")
	c := w.signIn(t, "S001")

	_, body := c.get("/admin/indicators")
	mustContain(t, body, "1.1.1", "UBND huyện Yên Mỹ", "Đã gửi", "/admin/evidence/"+sum, "Quyết định 12.pdf", "62,5")
	_, body = c.get("/admin/indicators?q=" + url.QueryEscape("lao dong"))
	mustContain(t, body, "2.1.1")
	mustNotContain(t, body, "Văn bản chính sách")

	// Evidence: attachment for a submission's file; 404 for any other hash.
	resp := c.do("GET", "/admin/evidence/"+sum, nil, "")
	if b := read(t, resp); b != "%PDF quyết định" || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") || resp.Header.Get("Content-Type") != "application/octet-stream" {
		t.Errorf("evidence: %q %v", b, resp.Header)
	}
	other := w.putEvidence(t, "không thuộc chỉ số nào")
	for _, h := range []string{other, strings.Repeat("0", 64), "../../etc/passwd", "ABC"} {
		if code, _ := c.get("/admin/evidence/" + url.PathEscape(h)); code != 404 {
			t.Errorf("evidence %s: %d", h, code)
		}
	}

	// Return without a comment is refused; with one, it goes through Act.
	_, body = c.get("/admin/indicators/1.1.1/UBND-YM")
	mustContain(t, body, `id="approve"`, `name="version" value="1"`, "12/QĐ-UBND", "01/03/2024", "Lê Minh Cường")
	resp = c.post("/admin/indicators/2.1.1/SNV/review", url.Values{"decision": {"return"}, "version": {"1"}, "comment": {" "}})
	if b := read(t, resp); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(b, "xin ghi rõ") {
		t.Errorf("return without comment: %d", resp.StatusCode)
	}
	resp = c.post("/admin/indicators/2.1.1/SNV/review", url.Values{"decision": {"return"}, "version": {"1"}, "comment": {"Thiếu nguồn số liệu"}})
	read(t, resp)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasSuffix(resp.Header.Get("Location"), "msg=returned") {
		t.Errorf("return: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	s, _ := w.store.Submission(context.Background(), "2.1.1", "SNV")
	if s.Status != domain.StatusReturned || s.ReviewNote != "Thiếu nguồn số liệu" || s.ReviewedBy != "S001" {
		t.Errorf("returned: %+v", s)
	}
	// Approve with a stale version changes nothing.
	resp = c.post("/admin/indicators/1.1.1/UBND-YM/review", url.Values{"decision": {"approve"}, "version": {"5"}})
	read(t, resp)
	if !strings.HasSuffix(resp.Header.Get("Location"), "msg=stale") {
		t.Errorf("stale: %s", resp.Header.Get("Location"))
	}
	resp = c.post("/admin/indicators/1.1.1/UBND-YM/review", url.Values{"decision": {"approve"}, "version": {"1"}})
	read(t, resp)
	if !strings.HasSuffix(resp.Header.Get("Location"), "msg=approved") {
		t.Errorf("approve: %s", resp.Header.Get("Location"))
	}
	_, body = c.get("/admin/indicators/1.1.1/UBND-YM?msg=approved")
	mustContain(t, body, "Đã duyệt chỉ số.", "Đã duyệt", "Duyệt", "Gửi")
	mustNotContain(t, body, `id="approve"`)
	_, body = c.get("/admin/")
	mustContain(t, body, "Duyệt chỉ số", "Trả lại chỉ số", `class="cell approved"`, `class="cell returned"`)
}

func TestDeskCheckIn(t *testing.T) {
	w := newWorld(t)
	w.rsvp(t, "P002", domain.RSVPSubstitute, w.clock(), &domain.Substitute{Name: "Hoàng Văn Em", Position: "Phó Chánh Văn phòng"})
	w.setClock(time.Date(2026, 8, 7, 7, 45, 0, 0, ict))
	c := w.signIn(t, "S001")
	p := w.person("P002")
	resp := c.post("/admin/checkin", url.Values{"code": {strings.ToLower(p.InviteCode[:4]) + "-" + p.InviteCode[4:]}})
	body := read(t, resp)
	mustContain(t, body, "Điểm danh thành công lúc 07:45", "Trần Thị Bình", "UBND huyện Yên Mỹ", "Đại biểu đã cử người dự thay: <strong>Hoàng Văn Em</strong>", `id="h-checkedin">1<`)
	w.setClock(time.Date(2026, 8, 7, 8, 10, 0, 0, ict))
	// Scanned QR: the check-in link.
	resp = c.post("/admin/checkin", url.Values{"code": {"https://hoinghi.example.vn/checkin/" + p.InviteToken}})
	body = read(t, resp)
	mustContain(t, body, "Đã điểm danh trước đó lúc 07:45", `id="h-checkedin">1<`)
	resp = c.post("/admin/checkin", url.Values{"code": {"ZZZZZZZZ"}})
	if body := read(t, resp); resp.StatusCode != 404 || !strings.Contains(body, "Không tìm thấy mã “ZZZZZZZZ”") {
		t.Errorf("unknown code: %d", resp.StatusCode)
	}
	resp = c.do("GET", "/admin/api/headcount", nil, "")
	var h web.Counts
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil || h.CheckedIn != 1 || h.Invited != 4 || h.Expected != 1 {
		t.Errorf("headcount: %+v %v", h, err)
	}
	resp.Body.Close()
	_, body = c.get("/admin/delegates?status=checkedin")
	mustContain(t, body, "Trần Thị Bình", "07:45")
}

func TestSelfCheckIn(t *testing.T) {
	w := newWorld(t)
	p := w.person("P001")
	c := w.anon(t)
	path := "/checkin/" + p.CheckinToken
	// The QR code's secret is its own: the chat token opens no check-in
	// page, and the page gives no way into the person's chat.
	if code, _ := c.get("/checkin/" + p.InviteToken); code != http.StatusNotFound {
		t.Errorf("check-in by the chat token: %d", code)
	}

	// Before the window: a polite message and a link to the chat.
	code, body := c.get(path)
	if code != 200 {
		t.Fatalf("%d", code)
	}
	mustContain(t, body, "Nguyễn Văn An", "Điểm danh sẽ mở từ 05:30 ngày 07/08/2026", `href="/chat"`, "Hẹn gặp anh/chị")
	mustNotContain(t, body, p.InviteToken, p.InviteCode)
	mustNotContain(t, body, `id="confirm"`, "bạn")
	resp := c.post(path, url.Values{"form": {"x"}})
	if read(t, resp); resp.StatusCode != http.StatusForbidden {
		t.Errorf("early POST: %d", resp.StatusCode)
	}

	// In the window, with the page's token.
	w.setClock(time.Date(2026, 8, 7, 7, 50, 0, 0, ict))
	_, body = c.get(path)
	mustContain(t, body, `id="confirm"`)
	form := regexFind(t, body, `name="form" value="([^"]+)"`)
	resp = c.post(path, url.Values{"form": {"wrong"}})
	if read(t, resp); resp.StatusCode != http.StatusForbidden {
		t.Errorf("bad form token: %d", resp.StatusCode)
	}
	if cs, _ := w.store.CheckIns(context.Background()); len(cs) != 0 {
		t.Fatalf("checked in with a bad token")
	}
	resp = c.post(path, url.Values{"form": {form}})
	body = read(t, resp)
	mustContain(t, body, "Điểm danh thành công lúc 07:50")
	cs, _ := w.store.CheckIns(context.Background())
	if cs["P001"].Method != "self" {
		t.Errorf("check-ins: %+v", cs)
	}
	// After the end.
	w.setClock(time.Date(2026, 8, 7, 11, 30, 0, 0, ict))
	_, body = c.get(path)
	mustContain(t, body, "đã kết thúc", "cảm ơn anh/chị")
	mustNotContain(t, body, `id="confirm"`, "bạn")
	// Unknown token.
	if code, _ := c.get("/checkin/nope"); code != 404 {
		t.Errorf("unknown token: %d", code)
	}
}

func regexFind(t *testing.T, s, re string) string {
	t.Helper()
	i := strings.Index(s, strings.Split(re, "(")[0])
	if i < 0 {
		t.Fatalf("no %s in\n%s", re, s)
	}
	rest := s[i+len(strings.Split(re, "(")[0]):]
	return rest[:strings.IndexByte(rest, '"')]
}

// xlsxFile builds a workbook from rows.
func xlsxFile(t *testing.T, rows [][]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func (c *client) upload(kind, name string, data []byte) *http.Response {
	c.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("csrf", c.csrf)
	_ = mw.WriteField("kind", kind)
	fw, _ := mw.CreateFormFile("file", name)
	_, _ = fw.Write(data)
	mw.Close()
	return c.do("POST", "/admin/import", &buf, mw.FormDataContentType())
}

var badPeople = [][]any{
	{"id", "Họ và tên", "Chức vụ", "Mã đơn vị", "Số điện thoại"},
	{"N001", "Vũ Thị Mai", "Chuyên viên", "SNV", "0933000111"},
	{"N002", "Đinh Văn Nam", "Phó Giám đốc", "SNV", "abc"},
}

func TestImport(t *testing.T) {
	w := newWorld(t)
	c := w.signIn(t, "S001")
	before := len(w.dir.Load().People())

	// One bad row: the error is shown and nothing can be confirmed.
	resp := c.upload("people", "ds-moi.xlsx", xlsxFile(t, badPeople))
	body := read(t, resp)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("bad file: %d", resp.StatusCode)
	}
	mustContain(t, body, "ds-moi.xlsx", "<td class=\"n\">3</td>", "Số điện thoại", "“abc” không phải số điện thoại Việt Nam", "không thể nhập")
	mustNotContain(t, body, "not a Vietnamese phone number")
	mustNotContain(t, body, `id="confirm"`)
	if len(w.dir.Load().People()) != before {
		t.Error("bad file imported")
	}
	if d, _ := w.store.Directory(context.Background()); len(d.People()) != before {
		t.Error("bad file reached the database")
	}

	// A good file: preview, then nothing until confirmed.
	good := [][]any{badPeople[0], badPeople[1], {"P002", "Trần Thị Bình", "Chủ tịch", "UBND-YM", "0987654321"}}
	resp = c.upload("people", "ds-moi.xlsx", xlsxFile(t, good))
	body = read(t, resp)
	mustContain(t, body, "Vũ Thị Mai", "Mới", "Cập nhật", `id="confirm"`)
	id := regexFind(t, body, `action="/admin/import/(`)
	id = strings.TrimSuffix(id, "/confirm")
	if len(w.dir.Load().People()) != before {
		t.Error("imported before confirmation")
	}
	// Another session cannot confirm it.
	other := w.signIn(t, "S001")
	resp = other.post("/admin/import/"+id+"/confirm", nil)
	if read(t, resp); resp.StatusCode != 404 {
		t.Errorf("other session confirmed: %d", resp.StatusCode)
	}
	tok := w.person("P002").InviteToken
	resp = c.post("/admin/import/"+id+"/confirm", nil)
	if body := read(t, resp); resp.StatusCode != http.StatusOK {
		t.Fatalf("confirm: %d", resp.StatusCode)
	} else {
		mustContain(t, body, `id="import-done"`, "1 người mới, 1 được cập nhật, 0 không đổi")
	}
	if p := w.person("N001"); p.FullName != "Vũ Thị Mai" || p.InviteToken == "" {
		t.Errorf("imported: %+v", p)
	}
	if p := w.person("P002"); p.Position != "Chủ tịch" || p.InviteToken != tok {
		t.Errorf("updated: %+v", p)
	}
	resp = c.post("/admin/import/"+id+"/confirm", nil) // double click
	read(t, resp)

	// Assignments: a bad row refuses the file, a good one replaces them.
	resp = c.upload("assignments", "phan-cong.csv", []byte("indicator,agency,focal,deadline\n1.1.1,UBND-YM,P003,\n9.9.9,SNV,P004,\n"))
	body = read(t, resp)
	mustContain(t, body, "phan-cong.csv", "indicator")
	mustNotContain(t, body, `id="confirm"`)
	resp = c.upload("assignments", "phan-cong.csv", []byte("indicator,agency,focal,deadline\n1.1.1,UBND-YM,P003,25/08/2026 17:00\n"))
	body = read(t, resp)
	id = strings.TrimSuffix(regexFind(t, body, `action="/admin/import/(`), "/confirm")
	read(t, c.post("/admin/import/"+id+"/confirm", nil))
	as := w.cat.Load().Assignments()
	if len(as) != 1 || !as[0].Deadline.Equal(time.Date(2026, 8, 25, 17, 0, 0, 0, ict)) {
		t.Errorf("assignments: %+v", as)
	}
	_, body = c.get("/admin/")
	mustContain(t, body, "Nhập dữ liệu")
}

// The history reads like the chat: Vietnamese numbers with the unit, only
// the rows where something a reader can see changed, no version numbers.
func TestIndicatorHistoryReadsLikeTheChat(t *testing.T) {
	w := newWorld(t)
	draft := func(ver int, value string) {
		w.apply(t, domain.SaveSubmission{Action: "draft", ExpectVersion: ver, Submission: domain.Submission{
			Indicator: "2.1.1", Agency: "SNV", Value: value, By: "P004"}})
	}
	draft(0, "12.5")
	draft(1, "12.5") // saved again at the next question: nothing changed
	draft(2, "1250.75")
	w.apply(t, domain.SaveSubmission{Action: "submit", ExpectVersion: 3, Submission: domain.Submission{
		Indicator: "2.1.1", Agency: "SNV", Value: "1250.75", By: "P004"}})
	c := w.signIn(t, "S001")
	_, body := c.get("/admin/indicators/2.1.1/SNV")
	mustContain(t, body, "12,5% → 1.250,75%", "Gửi", "Lưu nháp", "Phạm")
	mustNotContain(t, body, "12.5", "Phiên bản", "1250.75 ")
	if n := strings.Count(body, "<tr><td>"); n != 3 {
		t.Errorf("history has %d rows, want 3 (first draft, changed draft, sent):\n%s", n, body)
	}
}

// otherToken is a token of the same shape as tok that is not tok (changing
// its first character to a fixed one would leave it unchanged when the token
// starts with that character).
func otherToken(tok string) string {
	first := "x"
	if strings.HasPrefix(tok, first) {
		first = "y"
	}
	return first + tok[1:]
}
