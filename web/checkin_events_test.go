package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/dieuphoi/dieuphoi/domain"
)

// With two events on the same day, the desk checks people in to the one
// chosen (by default the one whose check-in is open now) and a person's
// self check-in goes to the event of the day they are invited to.
func TestCheckInPerEvent(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	hcm, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		t.Fatal(err)
	}
	council := domain.Event{ID: "council", NameVI: "Hội đồng thẩm định đề tài", Location: hcm,
		DoorsOpen: time.Date(2026, 8, 7, 13, 45, 0, 0, ict), Start: time.Date(2026, 8, 7, 14, 0, 0, 0, ict),
		End: time.Date(2026, 8, 7, 16, 0, 0, 0, ict), VenueVI: "Phòng họp tầng 3", RSVPCutoff: time.Date(2026, 8, 6, 12, 0, 0, 0, ict)}
	if _, err := w.store.ImportEvent(ctx, domain.EventRecord{Event: council, Code: "HD", Status: domain.StatusOpen,
		Invitees: []domain.Invitee{{PersonID: "P001"}, {PersonID: "P003"}}}, w.clock()); err != nil {
		t.Fatal(err)
	}
	w.apply(t, domain.SaveRSVP{RSVP: domain.RSVP{PersonID: "P003", Status: domain.RSVPDecline, Channel: domain.Telegram, EventID: "council"}})
	w.setClock(time.Date(2026, 8, 7, 13, 30, 0, 0, ict))
	checks := func(id string) map[string]bool {
		t.Helper()
		m, err := w.store.EventCheckIns(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for k := range m {
			out[k] = true
		}
		return out
	}
	main := func() map[string]bool {
		t.Helper()
		m, err := w.store.CheckIns(ctx)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for k := range m {
			out[k] = true
		}
		return out
	}

	// Self check-in: P001 is invited to the council, open now.
	a := w.anon(t)
	p1 := w.person("P001")
	_, body := a.get("/checkin/" + p1.CheckinToken)
	mustContain(t, body, "Hội đồng thẩm định đề tài", `id="confirm"`)
	form := regexFind(t, body, `name="form" value="([^"]+)"`)
	mustContain(t, read(t, a.post("/checkin/"+p1.CheckinToken, url.Values{"form": {form}})), "Điểm danh thành công lúc 13:30")
	if !checks("council")["P001"] || main()["P001"] {
		t.Errorf("P001 self check-in: council %v, main %v", checks("council"), main())
	}
	// P002 is not invited to the council: their page is the morning
	// conference's, over.
	b := w.anon(t)
	_, body = b.get("/checkin/" + w.person("P002").CheckinToken)
	mustContain(t, body, "đã kết thúc")
	mustNotContain(t, body, `id="confirm"`)

	// The desk: both events offered, the council (open now) chosen.
	c := w.signIn(t, "S001")
	_, body = c.get("/admin/checkin")
	mustContain(t, body, `id="event-pick"`, `<option value="council" selected>Hội đồng thẩm định đề tài (hôm nay)`,
		`<option value="hn2026">`, `id="desk-event">Sự kiện: <strong>Hội đồng thẩm định đề tài`, `id="h-checkedin">1<`)
	resp := c.post("/admin/checkin", url.Values{"code": {w.person("P003").InviteCode}, "event": {"council"}})
	mustContain(t, read(t, resp), "Điểm danh thành công", "Lê Minh Cường", "đại biểu đã báo không tham dự")
	if !checks("council")["P003"] || main()["P003"] {
		t.Errorf("P003 at the council desk: council %v, main %v", checks("council"), main())
	}
	// P004 is not invited to the council: not found there.
	resp = c.post("/admin/checkin", url.Values{"person": {"P004"}, "event": {"council"}})
	if read(t, resp); resp.StatusCode != http.StatusNotFound || checks("council")["P004"] {
		t.Errorf("P004 at the council: %d %v", resp.StatusCode, checks("council"))
	}
	// The desk chooses the conference: P004 is checked in there.
	_, body = c.get("/admin/checkin?event=hn2026&q=dung")
	mustContain(t, body, `<option value="hn2026" selected>`, "Phạm Đức Dũng", `name="event" value="hn2026"`)
	resp = c.post("/admin/checkin", url.Values{"person": {"P004"}, "event": {"hn2026"}})
	mustContain(t, read(t, resp), "Điểm danh thành công", `<option value="hn2026" selected>`)
	if !main()["P004"] || checks("council")["P004"] {
		t.Errorf("P004 at the conference: council %v, main %v", checks("council"), main())
	}
	// The live count follows the event chosen.
	for ev, want := range map[string]string{"council": `"checkedIn":2`, "hn2026": `"checkedIn":1`} {
		_, body = c.get("/admin/api/headcount?event=" + ev)
		mustContain(t, body, want)
	}
	// The desk's choice is remembered (the console's switcher); an
	// unknown event changes nothing.
	_, body = c.get("/admin/checkin?event=" + url.QueryEscape("<x>"))
	mustContain(t, body, `<option value="hn2026" selected>`)
}

// The console's overview, delegates list and desk follow the event chosen
// in the switcher (?event=, then remembered); the attendee export names it.
func TestConsoleFollowsChosenEvent(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	hcm, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		t.Fatal(err)
	}
	council := domain.Event{ID: "council", NameVI: "Hội đồng thẩm định đề tài", Location: hcm,
		DoorsOpen: time.Date(2026, 8, 12, 13, 45, 0, 0, ict), Start: time.Date(2026, 8, 12, 14, 0, 0, 0, ict),
		End: time.Date(2026, 8, 12, 16, 0, 0, 0, ict), VenueVI: "Phòng họp tầng 3", RSVPCutoff: time.Date(2026, 8, 10, 12, 0, 0, 0, ict)}
	if _, err := w.store.ImportEvent(ctx, domain.EventRecord{Event: council, Code: "HD", Status: domain.StatusOpen,
		Invitees: []domain.Invitee{{PersonID: "P001"}, {PersonID: "P003"}}}, w.clock()); err != nil {
		t.Fatal(err)
	}
	w.rsvp(t, "P002", domain.RSVPAttend, w.clock(), nil)
	w.apply(t, domain.SaveRSVP{RSVP: domain.RSVP{PersonID: "P003", Status: domain.RSVPDecline, Channel: domain.Telegram, EventID: "council"}})
	c := w.signIn(t, "S001")

	// By default the served event.
	_, body := c.get("/admin/delegates")
	mustContain(t, body, `id="switcher"`, `<option value="hn2026" selected>`, "Trần Thị Bình", "Phạm Đức Dũng")
	// Chosen: the council's invitees and answers, its name in the header.
	_, body = c.get("/admin/delegates?event=council")
	mustContain(t, body, `<option value="council" selected>`, "Hội đồng thẩm định đề tài · ", "Nguyễn Văn An", "Lê Minh Cường")
	mustNotContain(t, body, "Trần Thị Bình", "Phạm Đức Dũng")
	// Remembered on the other pages.
	_, body = c.get("/admin/")
	mustContain(t, body, `<option value="council" selected>`, "Hội đồng thẩm định đề tài · ",
		`id="c-invited">2<`, `id="c-decline">1<`, `id="c-attend">0<`, "12/08/2026")
	_, body = c.get("/admin/checkin")
	mustContain(t, body, `id="desk-event">Sự kiện: <strong>Hội đồng thẩm định đề tài`, `id="h-invited">2<`)
	// The attendee list is the council's and says so.
	resp := c.do("GET", "/admin/export/attendees.xlsx", nil, "")
	data := read(t, resp)
	if cd := resp.Header.Get("Content-Disposition"); !strings.Contains(cd, "HD") {
		t.Errorf("attendees file name: %q, want the event's code", cd)
	}
	x, err := excelize.OpenReader(strings.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := x.GetRows("Đại biểu")
	props, _ := x.GetDocProps()
	if props == nil || props.Title != "Hội đồng thẩm định đề tài" {
		t.Errorf("workbook title: %+v", props)
	}
	var names []string
	for _, r := range rows[1:] {
		names = append(names, r[2])
	}
	if strings.Join(names, ",") != "Nguyễn Văn An,Lê Minh Cường" {
		t.Errorf("council attendees: %q", names)
	}
	// Back to the served event.
	_, body = c.get("/admin/?event=hn2026")
	mustContain(t, body, `<option value="hn2026" selected>`, `id="c-invited">4<`, `id="c-attend">1<`)
}
