package web

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
	"github.com/dieuphoi/dieuphoi/storage/sqlstore"
)

// Counts is a headcount of invited delegates.
type Counts struct {
	Invited    int `json:"invited"`
	Attend     int `json:"attend"`
	Substitute int `json:"substitute"`
	Decline    int `json:"decline"`
	Pending    int `json:"pending"`
	Expected   int `json:"expected"` // attend + substitute
	CheckedIn  int `json:"checkedIn"`
}

func (n *Counts) add(st domain.RSVPStatus, checked bool) {
	n.Invited++
	switch st {
	case domain.RSVPAttend:
		n.Attend++
	case domain.RSVPSubstitute:
		n.Substitute++
	case domain.RSVPDecline:
		n.Decline++
	default:
		n.Pending++
	}
	n.Expected = n.Attend + n.Substitute
	if checked {
		n.CheckedIn++
	}
}

func countsOf(r flows.HeadcountRow) Counts {
	return Counts{Invited: r.Invited, Attend: r.Attend, Substitute: r.Substitute, Decline: r.Decline,
		Pending: r.Pending, Expected: r.Attend + r.Substitute, CheckedIn: r.CheckedIn}
}

type agencyCounts struct {
	Agency domain.Agency
	Counts
}

type dayCounts struct {
	Day time.Time
	Counts
}

type headcount struct {
	Total     Counts
	ByAgency  []agencyCounts
	Timeline  []dayCounts
	MaxPerDay int
}

// headcount counts the delegates (people with the delegate role) by answer
// and check-in, in total, by agency and by the day of their current answer.
func (c *Console) headcount(ctx context.Context) (headcount, map[string]domain.RSVP, map[string]sqlstore.CheckIn, error) {
	return c.headcountOf(ctx, domain.EventRecord{Event: *c.cfg.Event})
}

// headcountOf is headcount for one event: its answers and check-ins among
// its invitees.
func (c *Console) headcountOf(ctx context.Context, ev domain.EventRecord) (headcount, map[string]domain.RSVP, map[string]sqlstore.CheckIn, error) {
	var h headcount
	rsvps, checks, err := c.eventAnswers(ctx, ev.Event.ID)
	if err != nil {
		return h, nil, nil, err
	}
	dir := eventPeople(ev, c.cfg.Directory())
	// The counts are the chat's (/tonghop): one computation for both.
	checkedIn := make(map[string]bool, len(checks))
	for id := range checks {
		checkedIn[id] = true // a substitute's counts for their delegate (flows.CountHeadcount)
	}
	hc := flows.CountHeadcount(dir, rsvps, checkedIn)
	h.Total = countsOf(hc.Total)
	for _, r := range hc.ByAgency {
		h.ByAgency = append(h.ByAgency, agencyCounts{Agency: r.Agency, Counts: countsOf(r)})
	}
	days := map[string]*dayCounts{}
	for _, p := range dir.People() {
		r, answered := rsvps[p.ID]
		if !p.Has(domain.RoleDelegate) || !answered || r.Status == domain.RSVPPending {
			continue
		}
		t := r.At.In(c.loc)
		key := t.Format("2006-01-02")
		d := days[key]
		if d == nil {
			d = &dayCounts{Day: time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, c.loc)}
			days[key] = d
		}
		d.add(r.Status, false)
	}
	for _, d := range days {
		h.Timeline = append(h.Timeline, *d)
		if d.Invited > h.MaxPerDay {
			h.MaxPerDay = d.Invited
		}
	}
	sort.Slice(h.Timeline, func(i, j int) bool { return h.Timeline[i].Day.Before(h.Timeline[j].Day) })
	return h, rsvps, checks, nil
}

// progressCell is one agency × pillar cell of the indicator matrix.
type progressCell struct {
	Total, Empty, Draft, Submitted, Returned, Approved int
}

// Class colours the cell by what needs doing first.
func (p progressCell) Class() string {
	switch {
	case p.Total == 0:
		return "none"
	case p.Approved == p.Total:
		return "approved"
	case p.Returned > 0:
		return "returned"
	case p.Submitted > 0:
		return "submitted"
	case p.Draft > 0 || p.Approved > 0:
		return "draft"
	}
	return "empty"
}

type progressRow struct {
	Agency domain.Agency
	Cells  []progressCell
	Sum    progressCell
}

type progress struct {
	Pillars   []string
	Rows      []progressRow
	Total     progressCell
	Deadline  time.Time
	Countdown string // "còn 20 ngày", "ngày mai", "hôm nay", "3 ngày trước"
	Overdue   bool
	Flags     []flagCount // items by review flag
}

func (p *progressCell) add(st domain.SubmissionStatus) {
	p.Total++
	switch st {
	case domain.StatusDraft:
		p.Draft++
	case domain.StatusSubmitted:
		p.Submitted++
	case domain.StatusReturned:
		p.Returned++
	case domain.StatusApproved:
		p.Approved++
	default:
		p.Empty++
	}
}

// deadline is the campaign's deadline: the configured one, else the latest
// assignment deadline.
func (c *Console) deadline() time.Time {
	if !c.cfg.Deadline.IsZero() {
		return c.cfg.Deadline
	}
	var d time.Time
	for _, a := range c.cfg.Catalog().Assignments() {
		if a.Deadline.After(d) {
			d = a.Deadline
		}
	}
	return d
}

func (c *Console) progress(ctx context.Context, ch chosenCampaign) (*progress, error) {
	cat := ch.Catalog
	if cat == nil || ch.Store == nil {
		return nil, nil
	}
	subs, err := ch.Store.Submissions(ctx, "")
	if err != nil {
		return nil, err
	}
	status := map[[2]string]domain.SubmissionStatus{}
	for _, s := range subs {
		status[[2]string{s.Indicator, s.Agency}] = s.Status
	}
	p := &progress{}
	flags, err := c.flagsOf(ctx, cat, subs, nil)
	if err != nil {
		return nil, err
	}
	p.Flags = countFlags(flags)
	col := map[string]int{}
	for _, ind := range cat.Indicators() {
		if _, ok := col[ind.Pillar]; !ok {
			col[ind.Pillar] = len(p.Pillars)
			p.Pillars = append(p.Pillars, ind.Pillar)
		}
	}
	dir := c.cfg.Directory()
	rows := map[string]*progressRow{}
	var order []string
	for _, a := range cat.Assignments() {
		ind, ok := cat.Indicator(a.Indicator)
		if !ok {
			continue
		}
		r := rows[a.Agency]
		if r == nil {
			ag, ok := dir.Agency(a.Agency)
			if !ok {
				ag = domain.Agency{Code: a.Agency, NameVI: a.Agency}
			}
			r = &progressRow{Agency: ag, Cells: make([]progressCell, len(p.Pillars))}
			rows[a.Agency] = r
			order = append(order, a.Agency)
		}
		st := status[[2]string{a.Indicator, a.Agency}]
		r.Cells[col[ind.Pillar]].add(st)
		r.Sum.add(st)
		p.Total.add(st)
	}
	for _, code := range order {
		p.Rows = append(p.Rows, *rows[code])
	}
	d := c.deadline()
	if !ch.Served {
		d = ch.Rec.Deadline
	}
	if !d.IsZero() {
		p.Deadline = d
		p.Overdue = c.cfg.Now().After(d)
		p.Countdown = c.countdown(d)
	}
	return p, nil
}

type overviewView struct {
	Headcount headcount
	Progress  *progress
	// EventDays is the calendar days to the event (domain.DaysUntil),
	// EventWhen the same in words.
	EventDays int
	EventWhen string
	// Others are the people in the list who are not delegates (staff,
	// focal points): why the delegates page counts more people.
	Others int
	Audit  []auditLine
	// LateTasks counts the plan's and follow-up tasks past their deadline
	// (-1: no plan kept).
	LateTasks int
	// Calendar is what is running, coming and needing action across
	// every event and data campaign.
	Calendar []calendarRow
}

type auditLine struct {
	At     time.Time
	Who    string
	Action string
	Detail string
}

var auditNames = map[string]string{
	"signin.issue":      "Cấp đường dẫn đăng nhập",
	"signin":            "Đăng nhập",
	"signout":           "Đăng xuất",
	"delegate.edit":     "Sửa thông tin đại biểu",
	"rsvp.record":       "Ghi nhận trả lời thay đại biểu",
	"invite.view":       "Xem lại thư mời",
	"review.approve":    "Duyệt chỉ số",
	"review.return":     "Trả lại chỉ số",
	"evidence.download": "Tải minh chứng",
	"evidence.view":     "Xem minh chứng",
	"import.preview":    "Tải lên tệp để nhập",
	"import.confirm":    "Nhập dữ liệu",
	"import.cancel":     "Hủy nhập dữ liệu",
	"export":            "Xuất dữ liệu",
	"checkin.desk":      "Điểm danh tại bàn",
	"checkin.self":      "Tự điểm danh",
	"task.add":          "Thêm công việc",
	"task.edit":         "Sửa công việc",
	"conclusion.save":   "Lưu thông báo kết luận",
	"conclusion.send":   "Gửi thông báo kết luận",
	"feedback.export":   "Xuất góp ý",
}

func (c *Console) serveOverview(w http.ResponseWriter, r *http.Request, s *session) {
	rec, _, err := c.viewedEvent(nil, r)
	if err != nil {
		c.oops(w, r, s, "events", err)
		return
	}
	ev := rec.Event
	h, _, _, err := c.headcountOf(r.Context(), rec)
	if err != nil {
		c.oops(w, r, s, "headcount", err)
		return
	}
	ch, _, err := c.campaignFor(r)
	if err != nil {
		c.oops(w, r, s, "campaigns", err)
		return
	}
	p, err := c.progress(r.Context(), ch)
	if err != nil {
		c.oops(w, r, s, "progress", err)
		return
	}
	cal, err := c.calendar(r.Context())
	if err != nil {
		c.oops(w, r, s, "calendar", err)
		return
	}
	v := overviewView{Headcount: h, Progress: p, LateTasks: c.LateTasks(withMeetingEvent(r.Context(), rec)), Calendar: cal}
	for _, p := range c.cfg.Directory().People() {
		if !p.Has(domain.RoleDelegate) {
			v.Others++
		}
	}
	if !ev.Start.IsZero() {
		v.EventDays = domain.DaysUntil(c.cfg.Now(), ev.Start, c.loc)
		v.EventWhen = c.countdown(ev.Start)
	}
	if log, err := c.cfg.Console.AuditLog(r.Context(), 8); err == nil {
		for _, e := range log {
			v.Audit = append(v.Audit, c.auditLine(e))
		}
	}
	c.render(w, r, s, http.StatusOK, "overview", "Tổng quan", v)
}

// serveHeadcount is the check-in desk's live count, for the event the desk
// checks people in to ("event" as on the desk page).
func (c *Console) serveHeadcount(w http.ResponseWriter, r *http.Request, s *session) {
	ev, _, err := c.deskChoice(r)
	var h Counts
	if err == nil {
		h, err = c.eventCounts(r.Context(), ev)
	}
	if err != nil {
		c.cfg.Log.Error("console: headcount", "err", err)
		http.Error(w, `{"error":"unavailable"}`, http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(h)
}

// countdown is the one countdown rule (domain.DaysUntil, flows.Countdown),
// the same the chat and the reminders use.
func (c *Console) countdown(t time.Time) string {
	return flows.Countdown(domain.Vietnamese, domain.DaysUntil(c.cfg.Now(), t, c.loc))
}
