package web

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dieuphoi/dieuphoi/configs"
	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/export"
	"github.com/dieuphoi/dieuphoi/storage"
	"github.com/dieuphoi/dieuphoi/storage/sqlstore"
)

// EventStore is what the events pages need: the events as records, each
// with its own answers.
type EventStore interface {
	Events(ctx context.Context) ([]domain.EventRecord, error)
	Event(ctx context.Context, id string) (domain.EventRecord, error)
	ImportEvent(ctx context.Context, r domain.EventRecord, at time.Time) (bool, error)
	SetEventStatus(ctx context.Context, id string, s domain.Status, by string, at time.Time) error
	CloneEvent(ctx context.Context, from, id, code string, day time.Time, at time.Time) (domain.EventRecord, error)
	EventRSVPs(ctx context.Context, eventID string) (map[string]domain.RSVP, error)
	EventAnswerHistory(ctx context.Context, eventID string) ([]domain.RSVP, error)
	EventCheckIns(ctx context.Context, eventID string) (map[string]sqlstore.CheckIn, error)
	ScopeAudit(ctx context.Context, scope string) ([]sqlstore.AuditEntry, error)
}

var (
	eventCodeRE = regexp.MustCompile(`^[A-Za-z0-9]{2,16}$`)
	agendaRE    = regexp.MustCompile(`^(\d{1,2}:\d{2})\s*[-–]\s*(\d{1,2}:\d{2})\s+(.+)$`)
)

// eventRow is one event in the list, with what needs doing.
type eventRow struct {
	domain.EventRecord
	When      string // "running", "coming", "past"
	Invited   int
	Answered  int
	Attending int
	Action    string // what needs action, "" when nothing
}

type eventsView struct {
	Rows     []eventRow
	Agencies []agencyPick
	Form     eventForm
	Errors   []string
}

// agencyPick is an agency in the invite-by-agency checkboxes.
type agencyPick struct {
	Code, Name string
	Checked    bool
}

func (c *Console) agencyPicks(checked []string) []agencyPick {
	var out []agencyPick
	for _, a := range c.cfg.Directory().Agencies() {
		out = append(out, agencyPick{Code: a.Code, Name: a.NameVI, Checked: slices.Contains(checked, a.Code)})
	}
	return out
}

// eventForm is the create-event form as typed, shown again with the
// problems when it is refused.
type eventForm struct {
	Code, NameVI, NameEN, Date, Doors, Start, End, VenueVI, Address, Cutoff, Agenda, Role string
	Agencies                                                                              []string
	// Issuer is who issues and signs the giấy mời: the served event's by
	// default, its number reduced to the ký hiệu (each letter gets its own
	// number when registered).
	Issuer domain.Issuer
}

// defaultIssuer is the served event's issuer for a new event: the same
// body and signer, the number left for the clerk, no fixed date.
func (c *Console) defaultIssuer() domain.Issuer {
	if c.cfg.Event == nil {
		return domain.Issuer{}
	}
	is := c.cfg.Event.Issuer
	is.Number = is.Symbol()
	is.Date = time.Time{}
	is.Recipients = slices.Clone(is.Recipients)
	return is
}

func (c *Console) eventRows(ctx context.Context) ([]eventRow, error) {
	list, err := c.cfg.Events.Events(ctx)
	if err != nil {
		return nil, err
	}
	now := c.now()
	var rows []eventRow
	for _, r := range list {
		row := eventRow{EventRecord: r, Invited: len(r.Invitees)}
		switch {
		case now.After(r.Event.End):
			row.When = "past"
		case !now.Before(r.Event.DoorsOpen):
			row.When = "running"
		default:
			row.When = "coming"
		}
		answers, err := c.cfg.Events.EventRSVPs(ctx, r.Event.ID)
		if err != nil {
			return nil, err
		}
		for _, i := range r.Invitees {
			if a, ok := answers[i.PersonID]; ok && a.Status != domain.RSVPPending {
				row.Answered++
				if a.Status != domain.RSVPDecline {
					row.Attending++
				}
			}
		}
		switch {
		case r.Status == domain.StatusArchived:
		case row.When == "past" && r.Status == domain.StatusOpen:
			row.Action = "Đã diễn ra: đóng xác nhận hoặc lưu trữ"
		case row.When == "coming" && row.Invited == 0:
			row.Action = "Chưa có người được mời"
		case row.When == "coming" && now.After(r.Event.RSVPCutoff) && row.Answered < row.Invited:
			row.Action = fmt.Sprintf("Hết hạn xác nhận, còn %d người chưa trả lời", row.Invited-row.Answered)
		}
		rows = append(rows, row)
	}
	order := map[string]int{"running": 0, "coming": 1, "past": 2}
	slices.SortStableFunc(rows, func(a, b eventRow) int { return order[a.When] - order[b.When] })
	return rows, nil
}

// serveEvents lists every event — running, coming, past — with what needs
// action, and the form that creates one.
func (c *Console) serveEvents(w http.ResponseWriter, r *http.Request, s *session) {
	c.showEvents(w, r, s, http.StatusOK, eventForm{Role: "delegate", Issuer: c.defaultIssuer()}, nil)
}

func (c *Console) showEvents(w http.ResponseWriter, r *http.Request, s *session, status int, f eventForm, errs []string) {
	rows, err := c.eventRows(r.Context())
	if err != nil {
		c.oops(w, r, s, "events", err)
		return
	}
	c.render(w, r, s, status, "events", "Sự kiện", eventsView{Rows: rows, Agencies: c.agencyPicks(f.Agencies), Form: f, Errors: errs})
}

// serveEventCreate makes an event from the form. A form with problems
// changes nothing and comes back with every problem named.
func (c *Console) serveEventCreate(w http.ResponseWriter, r *http.Request, s *session) {
	f := eventForm{Code: strings.ToUpper(strings.TrimSpace(r.FormValue("code"))), NameVI: clean(r.FormValue("name_vi")),
		NameEN: clean(r.FormValue("name_en")), Date: strings.TrimSpace(r.FormValue("date")), Doors: strings.TrimSpace(r.FormValue("doors")),
		Start: strings.TrimSpace(r.FormValue("start")), End: strings.TrimSpace(r.FormValue("end")), VenueVI: clean(r.FormValue("venue")),
		Address: clean(r.FormValue("address")), Cutoff: strings.TrimSpace(r.FormValue("cutoff")), Agenda: r.FormValue("agenda"),
		Role: r.FormValue("role"), Agencies: r.Form["agency"]}
	f.Issuer = c.defaultIssuer() // what the form does not edit: the Nơi nhận lines
	f.Issuer.Parent, f.Issuer.Body = clean(r.FormValue("issuer_parent")), clean(r.FormValue("issuer_body"))
	f.Issuer.Number, f.Issuer.Place = strings.TrimSpace(r.FormValue("issuer_number")), clean(r.FormValue("issuer_place"))
	f.Issuer.SignerName, f.Issuer.SignerTitle = clean(r.FormValue("signer_name")), clean(r.FormValue("signer_title"))
	f.Issuer.SignerAuthority = clean(r.FormValue("signer_authority"))
	rec, errs := c.eventFromForm(f)
	if len(errs) == 0 {
		if _, err := c.cfg.Events.Event(r.Context(), rec.Event.ID); err == nil {
			errs = append(errs, fmt.Sprintf("Mã %s đã được dùng cho một sự kiện khác.", f.Code))
		}
	}
	if len(errs) == 0 {
		_, err := c.cfg.Events.ImportEvent(r.Context(), rec, c.cfg.Now())
		switch {
		case errors.Is(err, sqlstore.ErrCodeTaken):
			errs = append(errs, fmt.Sprintf("Mã %s đã được dùng cho một sự kiện khác.", f.Code))
		case err != nil:
			c.oops(w, r, s, "create event", err)
			return
		default:
			c.eventsChanged()
		}
	}
	if len(errs) > 0 {
		c.showEvents(w, r, s, http.StatusUnprocessableEntity, f, errs)
		return
	}
	c.audit(r.Context(), s.Person.ID, "event.create", "event:"+rec.Event.ID+" "+rec.Event.NameVI)
	c.redirect(w, r, "/admin/events/"+rec.Event.ID, "event_created")
}

// storableLoc is loc as an event record keeps it, by name: a zone that
// cannot be loaded again by its name (a fixed offset) would make the
// record unreadable, so it becomes the project's own zone.
func storableLoc(loc *time.Location) *time.Location {
	if _, err := time.LoadLocation(loc.String()); err == nil {
		return loc
	}
	if hcm, err := time.LoadLocation("Asia/Ho_Chi_Minh"); err == nil {
		return hcm
	}
	return loc
}

func clean(s string) string { return strings.Join(strings.Fields(s), " ") }

func (c *Console) eventFromForm(f eventForm) (domain.EventRecord, []string) {
	var errs []string
	if !eventCodeRE.MatchString(f.Code) {
		errs = append(errs, "Mã sự kiện: 2 đến 16 chữ cái hoặc chữ số, ví dụ HD2025.")
	}
	if f.NameVI == "" {
		errs = append(errs, "Tên sự kiện: chưa nhập.")
	}
	if f.VenueVI == "" {
		errs = append(errs, "Địa điểm: chưa nhập.")
	}
	day, err := time.ParseInLocation("2006-01-02", f.Date, c.loc)
	if err != nil {
		errs = append(errs, "Ngày: chưa chọn hoặc không đúng.")
	}
	at := func(label, hm string, required bool) time.Time {
		if hm == "" && !required {
			return time.Time{}
		}
		t, err := time.ParseInLocation("2006-01-02 15:04", f.Date+" "+hm, c.loc)
		if err != nil {
			errs = append(errs, label+": giờ không đúng (HH:MM).")
		}
		return t
	}
	start, end, doors := at("Bắt đầu", f.Start, true), at("Kết thúc", f.End, true), at("Đón tiếp", f.Doors, false)
	if doors.IsZero() {
		doors = start
	}
	if !start.IsZero() && !end.IsZero() && !end.After(start) {
		errs = append(errs, "Kết thúc phải sau giờ bắt đầu.")
	}
	cutoff, err := time.ParseInLocation("2006-01-02T15:04", f.Cutoff, c.loc)
	switch {
	case err != nil:
		errs = append(errs, "Hạn xác nhận: chưa chọn hoặc không đúng.")
	case !start.IsZero() && cutoff.After(start):
		errs = append(errs, "Hạn xác nhận phải trước giờ bắt đầu.")
	}
	var agenda []domain.AgendaItem
	for i, line := range strings.Split(f.Agenda, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		m := agendaRE.FindStringSubmatch(line)
		if m == nil {
			errs = append(errs, fmt.Sprintf("Chương trình, dòng %d: viết «08:00-08:30 Tiêu đề | Người trình bày».", i+1))
			continue
		}
		title, speaker, _ := strings.Cut(m[3], "|")
		it := domain.AgendaItem{No: len(agenda) + 1, Start: at(fmt.Sprintf("Chương trình, dòng %d", i+1), m[1], true),
			End: at(fmt.Sprintf("Chương trình, dòng %d", i+1), m[2], true), TitleVI: clean(title), SpeakerVI: clean(speaker)}
		agenda = append(agenda, it)
	}
	if len(agenda) == 0 {
		errs = append(errs, "Chương trình: cần ít nhất một mục.")
	}
	rec := domain.EventRecord{Code: f.Code, Status: domain.StatusOpen, Event: domain.Event{
		ID: strings.ToLower(f.Code), NameVI: f.NameVI, NameEN: f.NameEN, Location: storableLoc(c.loc), DoorsOpen: doors, Start: start, End: end,
		VenueVI: f.VenueVI, Address: f.Address, RSVPCutoff: cutoff, Agenda: agenda}}
	if c.cfg.Event != nil {
		rec.Event.Organizer = c.cfg.Event.Organizer
	}
	errs = append(errs, issuerProblems(f.Issuer)...)
	rec.Event.Issuer = f.Issuer
	rec.Invitees = c.inviteesBy(f.Agencies, f.Role, nil)
	if len(errs) == 0 && day.IsZero() {
		errs = append(errs, "Ngày: chưa chọn.")
	}
	return rec, errs
}

// issuerProblems checks the giấy mời's issuer as the invitation section of
// event.yaml is checked. An issuer left wholly empty is allowed: the event
// then prints no invitations until it has one.
func issuerProblems(is domain.Issuer) []string {
	if is.Parent+is.Body+is.Number+is.Place+is.SignerName+is.SignerTitle+is.SignerAuthority == "" {
		return nil
	}
	var errs []string
	for _, f := range []struct{ label, v string }{{"Cơ quan chủ quản", is.Parent}, {"Cơ quan ban hành", is.Body},
		{"Nơi ghi ngày", is.Place}, {"Người ký", is.SignerName}, {"Chức vụ người ký", is.SignerTitle}, {"Thẩm quyền ký", is.SignerAuthority}} {
		if utf8.RuneCountInString(f.v) > configs.MaxPaperText {
			errs = append(errs, fmt.Sprintf("Giấy mời — %s: dài quá, tối đa %d ký tự.", f.label, configs.MaxPaperText))
		}
	}
	for _, f := range []struct{ label, v string }{{"Cơ quan ban hành", is.Body}, {"Nơi ghi ngày", is.Place},
		{"Người ký", is.SignerName}, {"Chức vụ người ký", is.SignerTitle}} {
		if f.v == "" {
			errs = append(errs, "Giấy mời — "+f.label+": chưa nhập (hoặc để trống mọi ô của giấy mời).")
		}
	}
	if !configs.IssuerNumberOK(is.Number) {
		errs = append(errs, "Giấy mời — Số/ký hiệu: viết ví dụ /GM-SKHCN (để văn thư ghi số) hoặc 125/GM-SKHCN.")
	}
	return errs
}

// inviteesBy adds to have the people of the agencies with role ("" or
// "all": everyone in them).
func (c *Console) inviteesBy(agencies []string, role string, have []domain.Invitee) []domain.Invitee {
	seen := map[string]bool{}
	for _, i := range have {
		seen[i.PersonID] = true
	}
	out := slices.Clone(have)
	in := map[string]bool{}
	for _, a := range agencies {
		in[a] = true
	}
	for _, p := range c.cfg.Directory().People() {
		if !in[p.AgencyCode] || seen[p.ID] || p.Has(domain.RoleSubstitute) {
			continue
		}
		if role != "" && role != "all" && !p.Has(domain.Role(role)) {
			continue
		}
		seen[p.ID] = true
		out = append(out, domain.Invitee{PersonID: p.ID})
	}
	return out
}

type inviteeRow struct {
	Person domain.Person
	Agency string
	Answer *domain.RSVP
}

type eventView struct {
	Rec      domain.EventRecord
	Rows     []inviteeRow
	Agencies []agencyPick
	Counts   map[string]int
}

func (c *Console) serveEvent(w http.ResponseWriter, r *http.Request, s *session) {
	rec, err := c.cfg.Events.Event(r.Context(), r.PathValue("id"))
	if errors.Is(err, storage.ErrNotFound) {
		c.fail(w, r, s, http.StatusNotFound, "Không có sự kiện này", "Không tìm thấy sự kiện. Xin chọn lại trong danh sách sự kiện.")
		return
	}
	if err != nil {
		c.oops(w, r, s, "event", err)
		return
	}
	answers, err := c.cfg.Events.EventRSVPs(r.Context(), rec.Event.ID)
	if err != nil {
		c.oops(w, r, s, "event answers", err)
		return
	}
	dir := c.cfg.Directory()
	v := eventView{Rec: rec, Agencies: c.agencyPicks(nil), Counts: map[string]int{}}
	for _, i := range rec.Invitees {
		p, ok := dir.Person(i.PersonID)
		if !ok {
			continue
		}
		row := inviteeRow{Person: p, Agency: p.AgencyCode}
		if a, ok := dir.Agency(p.AgencyCode); ok {
			row.Agency = a.NameVI
		}
		if a, ok := answers[p.ID]; ok {
			row.Answer = &a
			v.Counts[string(a.Status)]++
		} else {
			v.Counts[string(domain.RSVPPending)]++
		}
		v.Rows = append(v.Rows, row)
	}
	c.render(w, r, s, http.StatusOK, "event", rec.Event.NameVI, v)
}

// serveEventInvitees adds the people of the chosen agencies (with the
// chosen role) to the event; nobody is removed.
func (c *Console) serveEventInvitees(w http.ResponseWriter, r *http.Request, s *session) {
	rec, err := c.cfg.Events.Event(r.Context(), r.PathValue("id"))
	if err != nil {
		c.fail(w, r, s, http.StatusNotFound, "Không có sự kiện này", "Không tìm thấy sự kiện. Xin chọn lại trong danh sách sự kiện.")
		return
	}
	before := len(rec.Invitees)
	rec.Invitees = c.inviteesBy(r.Form["agency"], r.FormValue("role"), rec.Invitees)
	rec.SourceHash = "" // edited in the console: an import of the same files no longer matches
	if _, err := c.cfg.Events.ImportEvent(r.Context(), rec, c.cfg.Now()); err != nil {
		c.oops(w, r, s, "add invitees", err)
		return
	}
	c.eventsChanged()
	c.audit(r.Context(), s.Person.ID, "event.invite", fmt.Sprintf("event:%s +%d", rec.Event.ID, len(rec.Invitees)-before))
	c.redirect(w, r, "/admin/events/"+rec.Event.ID, "invitees_added")
}

// serveEventStatus opens or closes answers, or archives the event.
func (c *Console) serveEventStatus(w http.ResponseWriter, r *http.Request, s *session) {
	st := domain.Status(r.FormValue("status"))
	if !st.Valid() {
		c.fail(w, r, s, http.StatusBadRequest, "Yêu cầu không hợp lệ", "Trạng thái không hợp lệ.")
		return
	}
	id := r.PathValue("id")
	if err := c.cfg.Events.SetEventStatus(r.Context(), id, st, s.Person.ID, c.cfg.Now()); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			c.fail(w, r, s, http.StatusNotFound, "Không có sự kiện này", "Không tìm thấy sự kiện.")
			return
		}
		c.oops(w, r, s, "event status", err)
		return
	}
	c.eventsChanged()
	c.redirect(w, r, "/admin/events/"+id, "event_"+string(st))
}

// serveEventClone makes a new event from this one on another day.
func (c *Console) serveEventClone(w http.ResponseWriter, r *http.Request, s *session) {
	code := strings.ToUpper(strings.TrimSpace(r.FormValue("code")))
	day, err := time.ParseInLocation("2006-01-02", r.FormValue("date"), c.loc)
	if !eventCodeRE.MatchString(code) || err != nil {
		c.fail(w, r, s, http.StatusUnprocessableEntity, "Chưa nhân bản được", "Xin nhập mã mới (2 đến 16 chữ cái hoặc chữ số) và chọn ngày.")
		return
	}
	rec, err := c.cfg.Events.CloneEvent(r.Context(), r.PathValue("id"), strings.ToLower(code), code, day, c.cfg.Now())
	if err != nil {
		if errors.Is(err, sqlstore.ErrCodeTaken) || strings.Contains(err.Error(), "already an event") {
			c.fail(w, r, s, http.StatusConflict, "Chưa nhân bản được", "Mã "+code+" đã được dùng cho một sự kiện khác.")
			return
		}
		c.oops(w, r, s, "clone event", err)
		return
	}
	if !rec.Event.Issuer.Set() {
		// A source made before events had an issuer: the clone takes the
		// served event's, as a new event does, so its invitations print.
		if rec.Event.Issuer = c.defaultIssuer(); rec.Event.Issuer.Set() {
			if _, err := c.cfg.Events.ImportEvent(r.Context(), rec, c.cfg.Now()); err != nil {
				c.oops(w, r, s, "clone event issuer", err)
				return
			}
		}
	}
	c.eventsChanged()
	c.audit(r.Context(), s.Person.ID, "event.clone", "event:"+rec.Event.ID+" from event:"+r.PathValue("id"))
	c.redirect(w, r, "/admin/events/"+rec.Event.ID, "event_cloned")
}

// serveEventArchive downloads one event as a ZIP: the event itself
// (event.json: times, venue, agenda, invitees, status), every answer ever
// given with who recorded it, the check-ins, and the audit entries about
// it. It reads only; nothing is removed.
func (c *Console) serveEventArchive(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	rec, err := c.cfg.Events.Event(ctx, r.PathValue("id"))
	if err != nil {
		c.fail(w, r, s, http.StatusNotFound, "Không có sự kiện này", "Không tìm thấy sự kiện.")
		return
	}
	id := rec.Event.ID
	history, err := c.cfg.Events.EventAnswerHistory(ctx, id)
	if err != nil {
		c.oops(w, r, s, "event archive", err)
		return
	}
	checks, err := c.cfg.Events.EventCheckIns(ctx, id)
	if err != nil {
		c.oops(w, r, s, "event archive", err)
		return
	}
	audit, err := c.cfg.Events.ScopeAudit(ctx, "event:"+id)
	if err != nil {
		c.oops(w, r, s, "event archive", err)
		return
	}
	dir := c.cfg.Directory()
	name := func(pid string) string {
		if p, ok := dir.Person(pid); ok {
			return p.FullName
		}
		return pid
	}
	ev := rec.Event
	ev.Location = nil
	meta, err := json.MarshalIndent(struct {
		Event    domain.Event
		Timezone string
		Code     string
		Status   domain.Status
		Invitees []domain.Invitee
	}{ev, rec.Event.Location.String(), rec.Code, rec.Status, rec.Invitees}, "", "  ")
	if err != nil {
		c.oops(w, r, s, "event archive", err)
		return
	}
	files := []struct {
		name string
		rows [][]string
	}{{name: "tra-loi.csv", rows: [][]string{{"Mã", "Họ tên", "Trả lời", "Người thay", "Chức vụ người thay", "Kênh", "Lúc", "Người ghi nhận"}}},
		{name: "diem-danh.csv", rows: [][]string{{"Mã", "Họ tên", "Lúc", "Cách", "Người điểm danh"}}},
		{name: "nhat-ky.csv", rows: [][]string{{"Lúc", "Người", "Việc", "Chi tiết", "Kênh"}}}}
	for _, a := range history {
		var sub domain.Substitute
		if a.Substitute != nil {
			sub = *a.Substitute
		}
		files[0].rows = append(files[0].rows, []string{a.PersonID, name(a.PersonID), rsvpLabel(a.Status), sub.Name, sub.Position,
			string(a.Channel), c.fmtTime(a.At), a.By})
	}
	ids := make([]string, 0, len(checks))
	for pid := range checks {
		ids = append(ids, pid)
	}
	slices.Sort(ids)
	for _, pid := range ids {
		ck := checks[pid]
		files[1].rows = append(files[1].rows, []string{pid, name(pid), c.fmtTime(ck.At), ck.Method, ck.By})
	}
	for _, e := range audit {
		files[2].rows = append(files[2].rows, []string{c.fmtTime(e.At), e.PersonID, e.Action, e.Detail, e.Channel})
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="su-kien-`+id+`.zip"`)
	zw := zip.NewWriter(w)
	add := func(name string, data []byte) error {
		f, err := zw.Create(name)
		if err != nil {
			return err
		}
		_, err = f.Write(data)
		return err
	}
	err = add("su-kien.json", meta)
	for _, f := range files {
		if err != nil {
			break
		}
		// Names, substitutes' details and audit details are typed by
		// people: guarded against formula injection, as the campaign
		// archive's cells are.
		var b bytes.Buffer
		if err = export.WriteTableCSV(&b, f.rows[0], f.rows[1:]); err == nil {
			err = add(f.name, b.Bytes())
		}
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		c.cfg.Log.Error("console: event archive", "err", err, "event", id)
		return
	}
	c.audit(ctx, s.Person.ID, "event.archive_download", "event:"+id)
}

func (c *Console) eventsChanged() {
	if c.cfg.EventsChanged != nil {
		c.cfg.EventsChanged()
	}
}
