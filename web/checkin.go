package web

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
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
	// For is the delegate a substitute comes in place of.
	For *domain.Person
}

type deskView struct {
	Headcount Counts
	Result    *checkinResult
	NotFound  string
	// Q is the name searched for, Found who matches it.
	Q     string
	Found []deskRow
	// WalkIn has the problems of a walk-in substitute's details, by field.
	WalkIn   map[string]string
	WalkInID string
	Sub      domain.Substitute
	// Event is the event people are checked in to; Events those the desk
	// can choose among (shown when there are several).
	Event  deskEvent
	Events []deskEvent
}

// deskRow is one guest the desk can check in with one tap: a delegate, or a
// substitute under their own name.
type deskRow struct {
	Person    domain.Person
	Agency    string
	Status    domain.RSVPStatus
	For       string // the delegate a substitute replaces
	CheckedAt time.Time
	// CanWalkIn: a delegate not yet here, for whom someone else may come.
	CanWalkIn bool
}

// guest reports whether the desk checks p in: a delegate, or a substitute
// while the delegate's answer names them.
func guest(p domain.Person) bool {
	return p.Has(domain.RoleDelegate) || (p.SubstituteFor != "" && p.Has(domain.RoleSubstitute))
}

// deskSearch finds guests by name (any case, with or without diacritics),
// position, agency or phone; at most 20.
func (c *Console) deskSearch(r *http.Request, q string, ev domain.EventRecord) ([]deskRow, error) {
	q = strings.TrimSpace(q)
	if q == "" || len(q) > 200 {
		return nil, nil
	}
	rsvps, checks, err := c.eventAnswers(r.Context(), ev.Event.ID)
	if err != nil {
		return nil, err
	}
	dir := c.cfg.Directory()
	var out []deskRow
	for _, p := range dir.People() {
		if !guest(p) || !invitedTo(ev, p) {
			continue
		}
		a, _ := dir.Agency(p.AgencyCode)
		if !matches(q, p.FullName, p.Position, a.NameVI, p.Phone) {
			continue
		}
		row := deskRow{Person: p, Agency: a.NameVI, Status: domain.RSVPPending}
		if rv, ok := rsvps[p.ID]; ok {
			row.Status = rv.Status
		}
		if p.SubstituteFor != "" {
			d, _ := dir.Person(p.SubstituteFor)
			row.For, row.Status = d.FullName, domain.RSVPAttend
		}
		if ci, ok := checks[p.ID]; ok {
			row.CheckedAt = ci.At
		}
		row.CanWalkIn = p.SubstituteFor == "" && row.CheckedAt.IsZero()
		out = append(out, row)
		if len(out) == 20 {
			break
		}
	}
	return out, nil
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
	ev, opts, err := c.deskChoice(r)
	if err != nil {
		c.oops(w, r, s, "events", err)
		return
	}
	h, err := c.eventCounts(r.Context(), ev)
	if err != nil {
		c.oops(w, r, s, "headcount", err)
		return
	}
	v := deskView{Headcount: h, Q: strings.TrimSpace(r.URL.Query().Get("q")), Events: opts,
		Event: deskEvent{ID: ev.Event.ID, Name: ev.Event.NameVI}}
	if v.Found, err = c.deskSearch(r, v.Q, ev); err != nil {
		c.oops(w, r, s, "desk search", err)
		return
	}
	c.render(w, r, s, http.StatusOK, "checkin", "Điểm danh", v)
}

func (c *Console) serveDeskCheckIn(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	input := r.FormValue("code")
	dir := c.cfg.Directory()
	var p domain.Person
	var ok bool
	if id := r.FormValue("person"); id != "" {
		// One tap on a search result.
		p, ok = dir.Person(id)
		ok = ok && guest(p)
		input = id
	} else {
		p, ok = findPerson(dir, input)
	}
	ev, _, err := c.deskChoice(r)
	if err != nil {
		c.oops(w, r, s, "events", err)
		return
	}
	ok = ok && invitedTo(ev, p)
	v := deskView{}
	status := http.StatusOK
	if !ok {
		v.NotFound = strings.TrimSpace(input)
		status = http.StatusNotFound
	} else {
		res, err := c.checkIn(r, p, s.Person.ID, "desk", ev.Event.ID)
		if err != nil {
			c.oops(w, r, s, "check in", err)
			return
		}
		v.Result = res
		if !res.Already {
			c.audit(ctx, s.Person.ID, "checkin.desk", c.checkinDetail(p.ID, ev.Event.ID))
		}
	}
	c.deskResult(w, r, s, status, v)
}

func (c *Console) deskResult(w http.ResponseWriter, r *http.Request, s *session, status int, v deskView) {
	ctx := r.Context()
	ev, opts, err := c.deskChoice(r)
	if err != nil {
		c.oops(w, r, s, "events", err)
		return
	}
	h, err := c.eventCounts(ctx, ev)
	if err != nil {
		c.oops(w, r, s, "headcount", err)
		return
	}
	v.Headcount, v.Events, v.Event = h, opts, deskEvent{ID: ev.Event.ID, Name: ev.Event.NameVI}
	c.renderView(w, s, status, "checkin", view{Title: "Điểm danh", Data: v})
}

// checkIn records p's arrival at the event eventID (the first one wins)
// and describes it with p's answer to that event.
func (c *Console) checkIn(r *http.Request, p domain.Person, by, method, eventID string) (*checkinResult, error) {
	ci, fresh, err := c.cfg.Console.CheckIn(r.Context(), sqlstore.CheckIn{PersonID: p.ID, At: c.cfg.Now(), By: by, Method: method, EventID: c.storedEventID(eventID)})
	if err != nil {
		return nil, err
	}
	rsvps, _, err := c.eventAnswers(r.Context(), eventID)
	if err != nil {
		return nil, err
	}
	res := &checkinResult{Person: p, At: ci.At, Already: !fresh, Status: domain.RSVPPending}
	dir := c.cfg.Directory()
	if a, ok := dir.Agency(p.AgencyCode); ok {
		res.Agency = a.NameVI
	}
	if rv, ok := rsvps[p.ID]; ok {
		res.Status, res.Substitute = rv.Status, rv.Substitute
	}
	if p.SubstituteFor != "" {
		if d, ok := dir.Person(p.SubstituteFor); ok {
			res.For, res.Status = &d, domain.RSVPAttend
		}
	}
	return res, nil
}

// serveDeskWalkIn records someone who came in place of a delegate (the
// delegate's answer becomes "substitute", through Config.Act, recorded by
// the desk) and checks them in under their own name.
func (c *Console) serveDeskWalkIn(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	d, ok := c.cfg.Directory().Person(r.FormValue("person"))
	if !ok || !d.Has(domain.RoleDelegate) {
		c.fail(w, r, s, http.StatusNotFound, "Không tìm thấy", "Không có đại biểu này trong danh sách.")
		return
	}
	ev, _, err := c.deskChoice(r)
	if err != nil {
		c.oops(w, r, s, "events", err)
		return
	}
	sub, errs := flows.CheckSubstitute(domain.Vietnamese, r.FormValue("sub_name"), r.FormValue("sub_position"), r.FormValue("sub_phone"))
	if len(errs) > 0 {
		v := deskView{Q: r.FormValue("q"), WalkIn: errs, WalkInID: d.ID, Sub: sub}
		var err error
		if v.Found, err = c.deskSearch(r, v.Q, ev); err != nil {
			c.oops(w, r, s, "desk search", err)
			return
		}
		c.deskResult(w, r, s, http.StatusUnprocessableEntity, v)
		return
	}
	rec := domain.RSVP{PersonID: d.ID, Status: domain.RSVPSubstitute, Substitute: &sub, Channel: consoleChannel, By: s.Person.ID, EventID: c.storedEventID(ev.Event.ID)}
	if err := c.cfg.Act(ctx, s.Person.ID, []domain.Effect{domain.SaveRSVP{RSVP: rec}}); err != nil {
		c.oops(w, r, s, "walk-in", err)
		return
	}
	c.audit(ctx, s.Person.ID, "rsvp.record", d.ID+": "+"người đến thay tại cửa ("+sub.Name+", "+sub.Position+", "+sub.Phone+")")
	p, ok := c.cfg.Directory().Person(domain.SubstituteID(d.ID))
	if !ok || !p.Has(domain.RoleSubstitute) {
		c.oops(w, r, s, "walk-in", errf("substitute of %s not in the people list after recording", d.ID))
		return
	}
	res, err := c.checkIn(r, p, s.Person.ID, "desk", ev.Event.ID)
	if err != nil {
		c.oops(w, r, s, "check in", err)
		return
	}
	if !res.Already {
		c.audit(ctx, s.Person.ID, "checkin.desk", c.checkinDetail(p.ID, ev.Event.ID))
	}
	c.deskResult(w, r, s, http.StatusOK, deskView{Result: res})
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
	// Ev is the event the check-in is for.
	Ev domain.Event
}

// checkinWindow is when self check-in to ev is open: two hours before the
// doors open until the end of the event.
func checkinWindow(ev domain.Event) (time.Time, time.Time) {
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

func (c *Console) selfView(p domain.Person, ev domain.Event) selfView {
	v := selfView{Person: p, Token: p.CheckinToken, ChatURL: "/chat", Ev: ev}
	if a, ok := c.cfg.Directory().Agency(p.AgencyCode); ok {
		v.Agency = a.NameVI
	}
	from, until := checkinWindow(ev)
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
	ev, err := c.selfEvent(r.Context(), p)
	if err != nil {
		c.cfg.Log.Error("console: self check-in event", "err", err)
		c.renderView(w, nil, http.StatusInternalServerError, "error", view{Title: "Có lỗi xảy ra", Nav: "-",
			Data: "Chưa mở được trang điểm danh. Xin thử lại, hoặc đến bàn đón tiếp để được hỗ trợ."})
		return
	}
	v := c.selfView(p, ev)
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
	ev, err := c.selfEvent(r.Context(), p)
	if err != nil {
		c.cfg.Log.Error("console: self check-in event", "err", err)
		c.renderView(w, nil, http.StatusInternalServerError, "error", view{Title: "Có lỗi xảy ra", Nav: "-",
			Data: "Chưa điểm danh được. Xin thử lại, hoặc đến bàn đón tiếp để được hỗ trợ."})
		return
	}
	v := c.selfView(p, ev)
	if v.State != "open" {
		c.renderView(w, nil, http.StatusForbidden, "self", view{Title: "Điểm danh", Nav: "-", Data: v})
		return
	}
	res, err := c.checkIn(r, p, "", "self", ev.ID)
	if err != nil {
		c.cfg.Log.Error("console: self check-in", "err", err)
		c.renderView(w, nil, http.StatusInternalServerError, "error", view{Title: "Có lỗi xảy ra", Nav: "-",
			Data: "Chưa điểm danh được. Xin thử lại, hoặc đến bàn đón tiếp để được hỗ trợ."})
		return
	}
	if !res.Already {
		c.audit(r.Context(), p.ID, "checkin.self", c.checkinDetail(p.ID, ev.ID))
	}
	http.SetCookie(w, &http.Cookie{Name: selfCookieName, Value: "", Path: "/checkin", MaxAge: -1, HttpOnly: true,
		Secure: c.secure(r), SameSite: http.SameSiteStrictMode})
	v.State, v.Result = "done", res
	c.renderView(w, nil, http.StatusOK, "self", view{Title: "Điểm danh", Nav: "-", Data: v})
}
