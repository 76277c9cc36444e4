package web_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/dieuphoi/dieuphoi/domain"
)

// The person page lists linked chats with how each was proved; staff can
// unlink any, rotate the person's secrets and issue an enrolment link, and
// every one of these is audited.
func TestConsoleLinkedChats(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.apply(t,
		domain.LinkIdentity{Identity: domain.Identity{Channel: domain.Telegram, UserID: "501", ChatID: "501", PersonID: "P003", Proof: domain.ProofPhone}},
		domain.LinkIdentity{Identity: domain.Identity{Channel: domain.Web, UserID: "abc", ChatID: "abc", PersonID: "P003", Proof: domain.ProofCode}})
	c := w.signIn(t, "S001")
	page := "/admin/delegates/P003/invite"
	_, body := c.get(page)
	mustContain(t, body, "Telegram", "số điện thoại đã xác thực", "trang trò chuyện (web)", "gõ mã thư mời", "Hủy liên kết",
		"Cấp liên kết xác thực", "Đổi mã thư mời")
	p := w.person("P003")
	// The QR code's link carries the check-in token, not the chat token.
	mustContain(t, body, "/checkin/"+p.CheckinToken)
	mustNotContain(t, body, "/checkin/"+p.InviteToken)

	// Unlink the web chat.
	web := domain.Identity{Channel: domain.Web, UserID: "abc"}
	resp := c.post("/admin/delegates/P003/unlink", url.Values{"link": {web.LinkRef()}})
	if read(t, resp); resp.StatusCode != http.StatusSeeOther || !strings.HasSuffix(resp.Header.Get("Location"), "msg=unlinked") {
		t.Fatalf("unlink answered %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, body = c.get(page + "?msg=unlinked")
	mustContain(t, body, "Đã hủy liên kết.")
	ids, _ := w.store.Identities(ctx, "P003")
	if len(ids) != 1 || ids[0].Channel != domain.Telegram {
		t.Fatalf("identities after unlink: %+v", ids)
	}

	// Rotate: the old code, link and check-in token stop working.
	resp = c.post("/admin/delegates/P003/rotate", nil)
	if read(t, resp); resp.StatusCode != http.StatusSeeOther || !strings.HasSuffix(resp.Header.Get("Location"), "msg=rotated") {
		t.Fatalf("rotate answered %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	np := w.person("P003")
	if np.InviteCode == p.InviteCode || np.InviteToken == p.InviteToken || np.CheckinToken == p.CheckinToken || np.CheckinToken == "" {
		t.Fatalf("secrets not rotated: %+v → %+v", p, np)
	}
	if _, ok := w.dir.Load().ByCode(p.InviteCode); ok {
		t.Error("the old code still identifies")
	}

	// An enrolment link, shown once.
	resp = c.post("/admin/delegates/P003/enrol", nil)
	b := read(t, resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("enrol: %d", resp.StatusCode)
	}
	secret := regexp.MustCompile(`/chat/i/(enrol_[A-Za-z0-9_-]+)`).FindStringSubmatch(b)
	if secret == nil || !strings.Contains(b, "https://t.me/dieuphoi_bot?start="+secret[1]) || !strings.Contains(b, "/start "+secret[1]) {
		t.Fatalf("enrolment page lacks the links: %s", b)
	}
	if pid, err := w.store.Enrolment(ctx, hashHex(secret[1]), w.clock()); err != nil || pid != "P003" {
		t.Fatalf("enrolment stored as %q, %v", pid, err)
	}
	_, again := c.get(page)
	mustNotContain(t, again, secret[1])

	log, _ := w.store.AuditLog(ctx, 50)
	for _, want := range []string{"identity.unlink", "secrets.rotate", "enrol.issue"} {
		found := false
		for _, e := range log {
			found = found || (e.Action == want && e.PersonID == "S001" && e.Channel == "console")
		}
		if !found {
			t.Errorf("no audit %s by S001 from the console: %+v", want, log)
		}
	}
}

// The attendee list (badges, reception) carries no secret of anyone who
// acts for a body.
func TestAttendeeExportHasNoSecretOfFocalPointsOrStaff(t *testing.T) {
	w := newWorld(t)
	c := w.signIn(t, "S001")
	resp := c.do("GET", "/admin/export/attendees.xlsx", nil, "")
	x, err := excelize.OpenReader(strings.NewReader(read(t, resp)))
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := x.GetRows("Đại biểu")
	data := ""
	for _, r := range rows {
		data += strings.Join(r, "|") + "\n"
	}
	for _, id := range []string{"S001", "P003", "P004"} {
		p := w.person(id)
		for _, s := range []string{p.InviteCode, p.InviteToken, p.CheckinToken} {
			if strings.Contains(data, s) {
				t.Errorf("the attendee list carries a secret of %s (%s)", id, p.Roles)
			}
		}
	}
	if !strings.Contains(data, w.person("P001").InviteCode) {
		t.Error("a delegate's code is missing from the badge list")
	}
}

func hashHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
