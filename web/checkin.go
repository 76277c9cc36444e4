package web

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/storage/sqlstore"
)

// checkinResult is what the desk or the delegate sees after a check-in.
type checkinResult struct {
	Person     domain.Person
	Agency     string
	Status     domain.RSVPStatus
	Substitute *domain.Substitute
	At         time.Time
	Already    bool
}

type deskView struct {
	Headcount Counts
	Result    *checkinResult
	NotFound  string
}

// findPerson reads what the desk typed or scanned: an invite code, a token,
// or a link carrying a token (/checkin/…, /chat/i/…, t.me/…?start=…).
func findPerson(dir *domain.Directory, input string) (domain.Person, bool) {
	in := strings.TrimSpace(input)
	if in == "" || len(in) > 500 {
		return domain.Person{}, false
	}
	if p, ok := dir.ByCode(in); ok {
		return p, true
	}
	if p, ok := dir.ByToken(in); ok {
		return p, true
	}
	if u, err := url.Parse(in); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		if st := u.Query().Get("start"); st != "" {
			if p, ok := dir.ByToken(st); ok {
				return p, true
			}
		}
		seg := u.Path[strings.LastIndex(u.Path, "/")+1:]
		if tok, err := url.PathUnescape(seg); err == nil {
			if p, ok := dir.ByToken(tok); ok {
				return p, true
			}
		}
	}
	return domain.Person{}, false
}

func (c *Console) serveDesk(w http.ResponseWriter, r *http.Request, s *session) {
	h, _, _, err := c.headcount(r.Context())
	if err != nil {
		c.oops(w, r, s, "headcount", err)
		return
	}
	c.render(w, r, s, http.StatusOK, "checkin", "Điểm danh", deskView{Headcount: h.Total})
}

func (c *Console) serveDeskCheckIn(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	input := r.FormValue("code")
	dir := c.cfg.Directory()
	p, ok := findPerson(dir, input)
	v := deskView{}
	status := http.StatusOK
	if !ok {
		v.NotFound = strings.TrimSpace(input)
		status = http.StatusNotFound
	} else {
		res, err := c.checkIn(r, p, s.Person.ID, "desk")
		if err != nil {
			c.oops(w, r, s, "check in", err)
			return
		}
		v.Result = res
		if !res.Already {
			c.audit(ctx, s.Person.ID, "checkin.desk", p.ID)
		}
	}
	h, _, _, err := c.headcount(ctx)
	if err != nil {
		c.oops(w, r, s, "headcount", err)
		return
	}
	v.Headcount = h.Total
	c.renderView(w, s, status, "checkin", view{Title: "Điểm danh", Data: v})
}

// checkIn records p's arrival (the first one wins) and describes it.
func (c *Console) checkIn(r *http.Request, p domain.Person, by, method string) (*checkinResult, error) {
	ci, fresh, err := c.cfg.Console.CheckIn(r.Context(), sqlstore.CheckIn{PersonID: p.ID, At: c.cfg.Now(), By: by, Method: method})
	if err != nil {
		return nil, err
	}
	st, err := c.cfg.Store.PersonState(r.Context(), p.ID)
	if err != nil {
		return nil, err
	}
	res := &checkinResult{Person: p, At: ci.At, Already: !fresh, Status: domain.RSVPPending}
	if a, ok := c.cfg.Directory().Agency(p.AgencyCode); ok {
		res.Agency = a.NameVI
	}
	if st.RSVP != nil {
		res.Status, res.Substitute = st.RSVP.Status, st.RSVP.Substitute
	}
	return res, nil
}

// --- self check-in -----------------------------------------------------------

type selfView struct {
	Person  domain.Person
	Agency  string
	Token   string
	Form    string // the per-page token, also in a cookie
	State   string // "open", "early", "late", "done"
	Opens   time.Time
	Result  *checkinResult
	ChatURL string
}

// window is when self check-in is open: two hours before the doors open
// until the end of the event.
func (c *Console) window() (time.Time, time.Time) {
	ev := c.cfg.Event
	open := ev.DoorsOpen
	if open.IsZero() {
		open = ev.Start
	}
	return open.Add(-2 * time.Hour), ev.End
}

func (c *Console) selfPerson(w http.ResponseWriter, r *http.Request) (domain.Person, bool) {
	securityHeaders(w)
	w.Header().Set("Cache-Control", "no-store")
	// The QR code carries the check-in token only: it opens this page and
	// nothing else (not the person's chat).
	p, ok := c.cfg.Directory().ByCheckinToken(r.PathValue("token"))
	if !ok || r.PathValue("token") == "" {
		c.renderView(w, nil, http.StatusNotFound, "self", view{Title: "Điểm danh", Nav: "-", Data: selfView{State: "unknown"}})
		return p, false
	}
	return p, true
}

func (c *Console) selfView(p domain.Person) selfView {
	v := selfView{Person: p, Token: p.CheckinToken, ChatURL: "/chat"}
	if a, ok := c.cfg.Directory().Agency(p.AgencyCode); ok {
		v.Agency = a.NameVI
	}
	from, until := c.window()
	now := c.cfg.Now()
	v.Opens = from
	switch {
	case now.Before(from):
		v.State = "early"
	case !now.Before(until):
		v.State = "late"
	default:
		v.State = "open"
	}
	return v
}

func (c *Console) serveSelfPage(w http.ResponseWriter, r *http.Request) {
	p, ok := c.selfPerson(w, r)
	if !ok {
		return
	}
	v := c.selfView(p)
	if v.State == "open" {
		v.Form = randomSecret()
		http.SetCookie(w, &http.Cookie{Name: selfCookieName, Value: v.Form, Path: "/checkin", HttpOnly: true,
			Secure: c.secure(r), SameSite: http.SameSiteStrictMode, MaxAge: 3600})
	}
	c.renderView(w, nil, http.StatusOK, "self", view{Title: "Điểm danh", Nav: "-", Data: v})
}

func (c *Console) serveSelfCheckIn(w http.ResponseWriter, r *http.Request) {
	p, ok := c.selfPerson(w, r)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	ck, err := r.Cookie(selfCookieName)
	form := r.FormValue("form")
	if err != nil || form == "" || !sameOrigin(r) || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(form)) != 1 {
		c.renderView(w, nil, http.StatusForbidden, "error", view{Title: "Yêu cầu bị từ chối", Nav: "-",
			Data: "Trang đã cũ hoặc không hợp lệ. Xin mở lại đường dẫn điểm danh rồi bấm nút xác nhận."})
		return
	}
	v := c.selfView(p)
	if v.State != "open" {
		c.renderView(w, nil, http.StatusForbidden, "self", view{Title: "Điểm danh", Nav: "-", Data: v})
		return
	}
	res, err := c.checkIn(r, p, "", "self")
	if err != nil {
		c.cfg.Log.Error("console: self check-in", "err", err)
		c.renderView(w, nil, http.StatusInternalServerError, "error", view{Title: "Có lỗi xảy ra", Nav: "-",
			Data: "Chưa điểm danh được. Xin thử lại, hoặc đến bàn đón tiếp để được hỗ trợ."})
		return
	}
	if !res.Already {
		c.audit(r.Context(), p.ID, "checkin.self", p.ID)
	}
	http.SetCookie(w, &http.Cookie{Name: selfCookieName, Value: "", Path: "/checkin", MaxAge: -1, HttpOnly: true,
		Secure: c.secure(r), SameSite: http.SameSiteStrictMode})
	v.State, v.Result = "done", res
	c.renderView(w, nil, http.StatusOK, "self", view{Title: "Điểm danh", Nav: "-", Data: v})
}
