package web_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
)

// The desk finds guests by name without diacritics and checks them in with
// one tap; a substitute is checked in under their own name; someone who
// comes in place of a delegate unannounced is recorded and checked in.
func TestDeskSearchSubstituteWalkIn(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.rsvp(t, "P002", domain.RSVPSubstitute, w.clock(), &domain.Substitute{Name: "Hoàng Văn Em", Position: "Phó Chánh Văn phòng", Phone: "0900000001"})
	w.setClock(time.Date(2026, 8, 7, 7, 45, 0, 0, ict))
	c := w.signIn(t, "S001")
	subID := domain.SubstituteID("P002")

	_, body := c.get("/admin/checkin?q=" + url.QueryEscape("hoang van em"))
	mustContain(t, body, `id="found"`, "Hoàng Văn Em", "Dự thay cho Trần Thị Bình", `name="person" value="`+subID+`"`)
	mustNotContain(t, body, `value="P001"`)

	read(t, c.post("/admin/checkin", url.Values{"person": {subID}}))
	checks, err := w.store.CheckIns(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := checks[subID]; !ok {
		t.Fatalf("the substitute was not checked in under their own record: %v", checks)
	}
	if _, ok := checks["P002"]; ok {
		t.Error("the absent delegate was checked in")
	}
	_, body = c.get("/admin/checkin")
	mustContain(t, body, `id="h-checkedin">1<`)

	// The substitute's printed invitation works at the desk too.
	sub := w.person(subID)
	resp := c.post("/admin/checkin", url.Values{"code": {sub.InviteCode}})
	mustContain(t, read(t, resp), "Đã điểm danh trước đó lúc 07:45", "Hoàng Văn Em", "Dự thay cho: <strong>Trần Thị Bình</strong>")
	_, body = c.get("/admin/invitations?agency=UBND-YM")
	mustContain(t, body, "Hoàng Văn Em", "dự thay Trần Thị Bình", "/admin/qr/"+url.PathEscape(subID)+".png", sub.InviteCode)

	// A walk-in for P001: a bad phone first, then right.
	resp = c.post("/admin/checkin/walkin", url.Values{"person": {"P001"}, "q": {"an"}, "sub_name": {"đinh thị hoa"}, "sub_position": {"chuyên viên"}, "sub_phone": {"12"}})
	if body := read(t, resp); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("bad walk-in: %d", resp.StatusCode)
	} else {
		mustContain(t, body, "không phải số điện thoại Việt Nam hợp lệ", `value="Đinh Thị Hoa"`)
	}
	resp = c.post("/admin/checkin/walkin", url.Values{"person": {"P001"}, "sub_name": {"đinh thị hoa"}, "sub_position": {"chuyên viên"}, "sub_phone": {"0933 444 555"}})
	mustContain(t, read(t, resp), "Điểm danh thành công", "Đinh Thị Hoa", "Dự thay cho: <strong>Nguyễn Văn An</strong>", `id="h-checkedin">2<`)
	st, _ := w.store.PersonState(ctx, "P001")
	if st.RSVP == nil || st.RSVP.Status != domain.RSVPSubstitute || st.RSVP.Substitute.Name != "Đinh Thị Hoa" {
		t.Errorf("walk-in answer: %+v", st.RSVP)
	}
	if h, _ := w.store.RSVPHistory(ctx, "P001"); len(h) != 1 || h[0].By != "S001" {
		t.Errorf("walk-in history: %+v", h)
	}
	_, body = c.get("/admin/delegates?status=checkedin")
	mustContain(t, body, "Nguyễn Văn An", "Trần Thị Bình", "(người dự thay)")
}
