package web_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
)

// Staff record a phoned-in answer and correct a misspelt substitute after
// the cut-off, through Act; the history says who recorded each.
func TestStaffRecordsRSVP(t *testing.T) {
	w := newWorld(t)
	w.rsvp(t, "P002", domain.RSVPSubstitute, time.Date(2026, 7, 15, 9, 0, 0, 0, ict),
		&domain.Substitute{Name: "Hoàng Văn Emm", Position: "Phó Chánh Văn phòng", Phone: "0900000001"})
	w.setClock(time.Date(2026, 8, 5, 10, 0, 0, 0, ict)) // after the cut-off
	c := w.signIn(t, "S001")
	ctx := context.Background()

	// A phoned-in answer.
	resp := c.post("/admin/delegates/P001/rsvp", url.Values{"status": {"attend"}})
	read(t, resp)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("record: %d", resp.StatusCode)
	}
	st, err := w.store.PersonState(ctx, "P001")
	if err != nil || st.RSVP == nil || st.RSVP.Status != domain.RSVPAttend {
		t.Fatalf("P001 state: %+v %v", st.RSVP, err)
	}

	// A bad phone: refused in Vietnamese, nothing recorded.
	resp = c.post("/admin/delegates/P002/rsvp", url.Values{"status": {"substitute"}, "sub_name": {"hoàng văn em"},
		"sub_position": {"phó chánh văn phòng"}, "sub_phone": {"abc123"}})
	body := read(t, resp)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad phone: %d", resp.StatusCode)
	}
	mustContain(t, body, "không phải số điện thoại Việt Nam hợp lệ", `value="Hoàng Văn Em"`)
	// The misspelt name corrected, written properly.
	resp = c.post("/admin/delegates/P002/rsvp", url.Values{"status": {"substitute"}, "sub_name": {"hoàng văn em"},
		"sub_position": {"phó chánh văn phòng"}, "sub_phone": {"0900 000 001"}})
	read(t, resp)
	hist, err := w.store.RSVPHistory(ctx, "P002")
	if err != nil || len(hist) != 2 {
		t.Fatalf("history: %+v %v", hist, err)
	}
	got := hist[1]
	if got.Substitute == nil || got.Substitute.Name != "Hoàng Văn Em" || got.Substitute.Position != "Phó chánh văn phòng" ||
		got.Substitute.Phone != "0900000001" || got.By != "S001" || got.Channel != "console" {
		t.Errorf("recorded %+v %+v", got, got.Substitute)
	}
	if hist[0].By != "" {
		t.Errorf("the delegate's own answer has an author: %+v", hist[0])
	}
	_, body = c.get("/admin/delegates/P002")
	mustContain(t, body, "Hoàng Văn Em, Phó chánh văn phòng (do Đỗ Thu Hà ghi nhận tại bảng điều khiển)",
		"Hoàng Văn Emm, Phó Chánh Văn phòng (qua trò chuyện trên web)", `id="rsvp"`)
	_, body = c.get("/admin/")
	mustContain(t, body, "Ghi nhận trả lời thay đại biểu")

	// The same answer again records nothing.
	read(t, c.post("/admin/delegates/P001/rsvp", url.Values{"status": {"attend"}}))
	if h, _ := w.store.RSVPHistory(ctx, "P001"); len(h) != 1 {
		t.Errorf("a repeated answer was recorded: %d rows", len(h))
	}
	// Without the CSRF token, nothing.
	read(t, c.post("/admin/delegates/P001/rsvp", url.Values{"status": {"decline"}, "csrf": {"x"}}))
	if st, _ := w.store.PersonState(ctx, "P001"); st.RSVP.Status != domain.RSVPAttend {
		t.Error("a forged form recorded an answer")
	}
}
