package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/papers/paperstest"
)

// The invitations page and the printed invitations follow the event chosen
// in the console's switcher: its invitees only, its name, time and venue.
func TestInvitationsFollowChosenEvent(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	hcm, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		t.Fatal(err)
	}
	issuer := domain.Issuer{Parent: "UBND TỈNH HƯNG YÊN", Body: "SỞ KHOA HỌC VÀ CÔNG NGHỆ", Number: "12/GM-SKHCN",
		Place: "Hưng Yên", SignerTitle: "GIÁM ĐỐC", SignerName: "Trần Tùng Chuẩn"}
	council := domain.Event{ID: "council", NameVI: "Hội đồng thẩm định đề tài", Location: hcm, Issuer: issuer,
		DoorsOpen: time.Date(2026, 8, 12, 13, 45, 0, 0, ict), Start: time.Date(2026, 8, 12, 14, 0, 0, 0, ict),
		End: time.Date(2026, 8, 12, 16, 0, 0, 0, ict), VenueVI: "Phòng họp tầng 3", RSVPCutoff: time.Date(2026, 8, 10, 12, 0, 0, 0, ict)}
	if _, err := w.store.ImportEvent(ctx, domain.EventRecord{Event: council, Code: "HD", Status: domain.StatusOpen,
		Invitees: []domain.Invitee{{PersonID: "P001"}, {PersonID: "P003"}}}, w.clock()); err != nil {
		t.Fatal(err)
	}
	w.ev.Issuer = issuer
	w.apply(t, domain.SaveRSVP{RSVP: domain.RSVP{PersonID: "P003", Status: domain.RSVPAttend, Channel: domain.Telegram, EventID: "council"}})
	c := w.signIn(t, "S001")

	// By default the served event: every agency with guests.
	_, body := c.get("/admin/invitations")
	mustContain(t, body, `id="switcher"`, `<option value="hn2026" selected>`, "?agency=SNV")
	// Chosen: the council's invitees' agencies only.
	_, body = c.get("/admin/invitations?event=council")
	mustContain(t, body, `<option value="council" selected>`, "?agency=SKHCN", "?agency=UBND-YM")
	mustNotContain(t, body, "?agency=SNV")
	// Remembered: an agency's cards are the council's, for its invitees.
	_, body = c.get("/admin/invitations?agency=UBND-YM")
	mustContain(t, body, "Lê Minh Cường", "tới dự <strong>Hội đồng thẩm định đề tài", "Phòng họp tầng 3",
		"invitation.pdf?person=P003&event=council", "invitations.pdf?agency=UBND-YM&event=council")
	mustNotContain(t, body, "Trần Thị Bình")

	pdf := func(path string) string {
		t.Helper()
		resp := c.do("GET", path, nil, "")
		data := read(t, resp)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pdf" {
			t.Fatalf("%s: %d\n%.300s", path, resp.StatusCode, data)
		}
		return paperstest.Write(t, []byte(data))
	}
	text := paperstest.Collapse(strings.Join(paperstest.Text(t, pdf("/admin/papers/invitations.pdf?agency=UBND-YM&event=council")), " "))
	mustContain(t, text, "Đồng chí Lê Minh Cường", "Phòng họp tầng 3", "Số: 12/GM-SKHCN")
	if strings.Contains(text, "Trần Thị Bình") {
		t.Errorf("the council's invitations print someone not invited: %s", text)
	}
	// Someone not invited to the council has no invitation to it.
	if code, _ := c.get("/admin/papers/invitation.pdf?person=P004&event=council"); code != http.StatusNotFound {
		t.Errorf("P004's council invitation: %d, want 404", code)
	}
	// The seating list is the council's: its invitees, with their answers
	// to it.
	seat := paperstest.Collapse(strings.Join(paperstest.Text(t, pdf("/admin/papers/seating.pdf?event=council")), " "))
	mustContain(t, seat, "Hội đồng thẩm định đề tài", "Lê Minh Cường", "Nguyễn Văn An")
	if strings.Contains(seat, "Trần Thị Bình") || strings.Contains(seat, "Phạm Đức Dũng") {
		t.Errorf("the council's seating lists someone not invited: %s", seat)
	}
	// Back to the served event: everyone again.
	_, body = c.get("/admin/invitations?event=hn2026")
	mustContain(t, body, `<option value="hn2026" selected>`, "?agency=SNV")
}
