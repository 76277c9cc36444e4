package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
	"github.com/dieuphoi/dieuphoi/papers"
	"github.com/dieuphoi/dieuphoi/storage/sqlstore"
)

type delegateRow struct {
	Person     domain.Person
	Agency     string
	Status     domain.RSVPStatus
	AnsweredAt string
	Substitute *domain.Substitute
	CheckIn    *sqlstore.CheckIn
	Roles      string
	// SubCheckedIn: the check-in is the substitute's; SubID is the
	// substitute's own record (their invitation), "" when none.
	SubCheckedIn bool
	SubID        string
}

type delegatesView struct {
	Q        string
	Status   string
	Agency   string
	Agencies []domain.Agency
	Rows     []delegateRow
	Total    int
	// Invited is how many are delegates (the overview's "được mời");
	// Others the rest of the list (staff, focal points not invited).
	Invited, Others int
}

var roleLabels = map[domain.Role]string{
	domain.RoleDelegate: "đại biểu",
	domain.RoleFocal:    "đầu mối",
	domain.RoleStaff:    "cán bộ",
}

func (c *Console) serveDelegates(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	ev, _, err := c.viewedEvent(nil, r)
	if err != nil {
		c.oops(w, r, s, "events", err)
		return
	}
	rsvps, checks, err := c.eventAnswers(ctx, ev.Event.ID)
	if err != nil {
		c.oops(w, r, s, "delegates", err)
		return
	}
	q := r.URL.Query()
	v := delegatesView{Q: strings.TrimSpace(q.Get("q")), Status: q.Get("status"), Agency: q.Get("agency")}
	dir := c.cfg.Directory()
	v.Agencies = dir.Agencies()
	for _, p := range eventPeople(ev, dir).People() {
		if p.SubstituteFor != "" {
			continue // shown with the delegate they replace
		}
		v.Total++
		if p.Has(domain.RoleDelegate) {
			v.Invited++
		} else {
			v.Others++
		}
		a, _ := dir.Agency(p.AgencyCode)
		row := delegateRow{Person: p, Agency: a.NameVI, Status: domain.RSVPPending}
		if row.Agency == "" {
			row.Agency = p.AgencyCode
		}
		if rv, ok := rsvps[p.ID]; ok {
			row.Status, row.Substitute, row.AnsweredAt = rv.Status, rv.Substitute, c.fmtTime(rv.At)
		}
		if ci, ok := checks[p.ID]; ok {
			row.CheckIn = &ci
		} else if ci, ok := checks[domain.SubstituteID(p.ID)]; ok && row.Status == domain.RSVPSubstitute {
			row.CheckIn, row.SubCheckedIn = &ci, true
		}
		if sp, ok := dir.Person(domain.SubstituteID(p.ID)); ok && sp.Has(domain.RoleSubstitute) {
			row.SubID = sp.ID
		}
		var roles []string
		for _, rl := range p.Roles {
			roles = append(roles, roleLabels[rl])
		}
		row.Roles = strings.Join(roles, ", ")
		if v.Agency != "" && p.AgencyCode != v.Agency {
			continue
		}
		switch v.Status {
		case "":
		case "checkedin":
			if row.CheckIn == nil {
				continue
			}
		default:
			if string(row.Status) != v.Status {
				continue
			}
		}
		sub := ""
		if row.Substitute != nil {
			sub = row.Substitute.Name + " " + row.Substitute.Position
		}
		if !matches(v.Q, p.FullName, p.Position, row.Agency, p.AgencyCode, p.ID, p.Phone, p.Email, p.InviteCode, sub) {
			continue
		}
		v.Rows = append(v.Rows, row)
	}
	c.render(w, r, s, http.StatusOK, "delegates", "Đại biểu", v)
}

type delegateForm struct {
	Person   domain.Person
	Agencies []domain.Agency
	Errors   map[string]string
	History  []rsvpLine
	// The answer form: the current answer, or what staff just typed.
	Answer     domain.RSVPStatus
	Sub        domain.Substitute
	SubErrors  map[string]string
	IsDelegate bool
	Agency     string
}

// rsvpLine is one answer in a person's history, told in words.
type rsvpLine struct {
	domain.RSVP
	How string // "qua Telegram", "do Đỗ Thu Hà ghi nhận tại bảng điều khiển"
}

// consoleChannel marks answers staff recorded in the console.
const consoleChannel = domain.Channel("console")

var channelNames = map[domain.Channel]string{
	domain.Telegram: "qua Telegram", domain.Zalo: "qua Zalo", domain.Web: "qua trò chuyện trên web",
	consoleChannel: "tại bảng điều khiển",
}

func (c *Console) rsvpLines(hist []domain.RSVP) []rsvpLine {
	dir := c.cfg.Directory()
	out := make([]rsvpLine, 0, len(hist))
	for i := len(hist) - 1; i >= 0; i-- { // newest first
		h := hist[i]
		how := channelNames[h.Channel]
		if how == "" {
			how = "qua " + string(h.Channel)
		}
		if h.By != "" {
			who := h.By
			if p, ok := dir.Person(h.By); ok {
				who = p.FullName
			}
			how = "do " + who + " ghi nhận " + how
		}
		out = append(out, rsvpLine{RSVP: h, How: how})
	}
	return out
}

func (c *Console) serveDelegate(w http.ResponseWriter, r *http.Request, s *session) {
	p, ok := c.pathPerson(w, r, s)
	if !ok {
		return
	}
	f, err := c.delegateForm(r, p)
	if err != nil {
		c.oops(w, r, s, "answer history", err)
		return
	}
	c.renderView(w, s, http.StatusOK, "delegate", view{Title: "Đại biểu " + p.FullName, Nav: "delegates",
		Flash: flash(r.URL.Query().Get("msg")), Data: f})
}

// delegateForm is the person's page with their answer and its history.
func (c *Console) delegateForm(r *http.Request, p domain.Person) (delegateForm, error) {
	dir := c.cfg.Directory()
	hist, err := c.cfg.Store.RSVPHistory(r.Context(), p.ID)
	if err != nil {
		return delegateForm{}, err
	}
	f := delegateForm{Person: p, Agencies: dir.Agencies(), History: c.rsvpLines(hist), Answer: domain.RSVPPending,
		IsDelegate: p.Has(domain.RoleDelegate)}
	if a, ok := dir.Agency(p.AgencyCode); ok {
		f.Agency = a.NameVI
	}
	if n := len(hist); n > 0 {
		f.Answer = hist[n-1].Status
		if sub := hist[n-1].Substitute; sub != nil {
			f.Sub = *sub
		}
	}
	return f, nil
}

// serveDelegateRSVP records an answer staff took by phone or at the door,
// with the same effect the chat emits (through Config.Act); the history
// keeps who recorded it. The RSVP cut-off does not apply: it is what the
// chat sends people to the organisers for.
func (c *Console) serveDelegateRSVP(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	p, ok := c.cfg.Directory().Person(r.PathValue("id"))
	if !ok || !p.Has(domain.RoleDelegate) {
		c.fail(w, r, s, http.StatusNotFound, "Không tìm thấy", "Không có đại biểu này trong danh sách.")
		return
	}
	f, err := c.delegateForm(r, p)
	if err != nil {
		c.oops(w, r, s, "answer history", err)
		return
	}
	before, beforeSub := f.Answer, f.Sub
	st := domain.RSVPStatus(r.FormValue("status"))
	rec := domain.RSVP{PersonID: p.ID, Status: st, Channel: consoleChannel, By: s.Person.ID}
	switch st {
	case domain.RSVPAttend, domain.RSVPDecline, domain.RSVPPending:
	case domain.RSVPSubstitute:
		sub, errs := flows.CheckSubstitute(domain.Vietnamese, r.FormValue("sub_name"), r.FormValue("sub_position"), r.FormValue("sub_phone"))
		if len(errs) > 0 {
			f.Answer, f.Sub, f.SubErrors = st, sub, errs
			c.renderView(w, s, http.StatusUnprocessableEntity, "delegate", view{Title: "Đại biểu " + p.FullName, Nav: "delegates",
				Error: "Thông tin người dự thay chưa hợp lệ, chưa lưu. Xin sửa các ô được đánh dấu.", Data: f})
			return
		}
		rec.Substitute = &sub
	default:
		c.fail(w, r, s, http.StatusBadRequest, "Yêu cầu không hợp lệ", "Xin chọn một câu trả lời.")
		return
	}
	if st == before && (st != domain.RSVPSubstitute || *rec.Substitute == beforeSub) {
		c.redirect(w, r, "/admin/delegates/"+url.PathEscape(p.ID), "rsvp_same")
		return
	}
	if err := c.cfg.Act(ctx, s.Person.ID, []domain.Effect{domain.SaveRSVP{RSVP: rec}}); err != nil {
		c.oops(w, r, s, "record answer", err)
		return
	}
	detail := p.ID + ": " + rsvpLabel(before) + " → " + rsvpLabel(st)
	if rec.Substitute != nil {
		detail += " (" + rec.Substitute.Name + ", " + rec.Substitute.Position + ", " + rec.Substitute.Phone + ")"
	}
	c.audit(ctx, s.Person.ID, "rsvp.record", detail)
	c.redirect(w, r, "/admin/delegates/"+url.PathEscape(p.ID), "rsvp_saved")
}

func (c *Console) serveDelegateSave(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	dir := c.cfg.Directory()
	old, ok := dir.Person(r.PathValue("id"))
	if !ok {
		c.fail(w, r, s, http.StatusNotFound, "Không tìm thấy", "Không có người này trong danh sách.")
		return
	}
	p := old
	p.FullName = strings.Join(strings.Fields(r.FormValue("full_name")), " ")
	p.Position = strings.Join(strings.Fields(r.FormValue("position")), " ")
	phone := strings.TrimSpace(r.FormValue("phone"))
	p.AgencyCode = r.FormValue("agency")
	errs := map[string]string{}
	switch {
	case p.FullName == "":
		errs["full_name"] = "Xin nhập họ và tên."
	case utf8.RuneCountInString(p.FullName) > 200:
		errs["full_name"] = "Họ và tên quá dài (tối đa 200 ký tự)."
	}
	if utf8.RuneCountInString(p.Position) > 300 {
		errs["position"] = "Chức vụ quá dài (tối đa 300 ký tự)."
	}
	p.Phone = domain.NormalizePhone(phone)
	if p.Phone == "" {
		errs["phone"] = "Số điện thoại không hợp lệ. Xin nhập số Việt Nam, ví dụ 0912 345 678."
		p.Phone = phone
	}
	if _, ok := dir.Agency(p.AgencyCode); !ok {
		errs["agency"] = "Xin chọn một đơn vị trong danh sách."
	}
	if len(errs) > 0 {
		f, err := c.delegateForm(r, old)
		if err != nil {
			c.oops(w, r, s, "answer history", err)
			return
		}
		f.Person, f.Errors = p, errs
		c.renderView(w, s, http.StatusUnprocessableEntity, "delegate", view{Title: "Đại biểu " + old.FullName, Nav: "delegates",
			Error: "Thông tin chưa hợp lệ, chưa lưu. Xin sửa các ô được đánh dấu.", Data: f})
		return
	}
	// SyncDirectory takes the whole list (its order is the list order);
	// everyone keeps their token and code, given back as they are.
	people := dir.People()
	for i := range people {
		if people[i].ID == p.ID {
			people[i] = p
		}
	}
	if err := c.cfg.Store.SyncDirectory(ctx, dir.Agencies(), people); err != nil {
		c.oops(w, r, s, "save delegate", err)
		return
	}
	if err := c.cfg.Reload(ctx); err != nil {
		c.oops(w, r, s, "reload", err)
		return
	}
	c.audit(ctx, s.Person.ID, "delegate.edit", p.ID+": "+changes(dir, old, p))
	c.redirect(w, r, "/admin/delegates", "saved")
}

// changes describes an edit for the audit trail.
func changes(dir *domain.Directory, a, b domain.Person) string {
	var out []string
	if a.FullName != b.FullName {
		out = append(out, "họ tên «"+a.FullName+"» → «"+b.FullName+"»")
	}
	if a.Position != b.Position {
		out = append(out, "chức vụ «"+a.Position+"» → «"+b.Position+"»")
	}
	if a.Phone != b.Phone {
		out = append(out, "điện thoại "+a.Phone+" → "+b.Phone)
	}
	if a.AgencyCode != b.AgencyCode {
		an, _ := dir.Agency(a.AgencyCode)
		bn, _ := dir.Agency(b.AgencyCode)
		out = append(out, "đơn vị «"+an.NameVI+"» → «"+bn.NameVI+"»")
	}
	if len(out) == 0 {
		return "không đổi"
	}
	return strings.Join(out, "; ")
}

// links are a person's personal invitation links.
type links struct {
	Web      string
	Telegram string
	Zalo     string // the OA's follow link: follow, then send the invite code
	CheckIn  string
	Code     string
}

func (c *Console) links(p domain.Person) links {
	l := links{
		Web:      papers.WebChatURL(c.cfg.PublicURL, p),
		CheckIn:  papers.CheckInURL(c.cfg.PublicURL, p),
		Code:     p.InviteCode,
		Telegram: papers.TelegramURL(c.cfg.BotUsername(), p),
	}
	if c.cfg.ZaloOA != "" {
		l.Zalo = "https://zalo.me/" + url.PathEscape(c.cfg.ZaloOA)
	}
	return l
}

type inviteView struct {
	Person     domain.Person
	Agency     string
	Links      links
	Identities []identityRow
	CanSend    bool
	// Enrol is a fresh enrolment link's ways in, shown once.
	Enrol *enrolLinks
}

// identityRow is a linked chat as the console lists it.
type identityRow struct {
	domain.Identity
	Name     string
	Proof    string
	Verified bool
	Linked   string
}

// proofLabels say in an official's words how a chat was linked.
var proofLabels = map[domain.Proof]string{
	domain.ProofCode:         "gõ mã thư mời",
	domain.ProofLink:         "mở đường dẫn mời",
	domain.ProofPhoneClaimed: "số điện thoại tự khai (chưa xác thực)",
	domain.ProofPhone:        "số điện thoại đã xác thực",
	domain.ProofEnrol:        "liên kết xác thực do cán bộ cấp",
	domain.ProofDemo:         "chế độ dùng thử",
}

type enrolLinks struct {
	Web      string
	Telegram string
	Command  string // to send to the bot on Zalo (or Telegram)
	Expires  string
}

func (c *Console) serveInvite(w http.ResponseWriter, r *http.Request, s *session) {
	dir := c.cfg.Directory()
	p, ok := dir.Person(r.PathValue("id"))
	if !ok {
		c.fail(w, r, s, http.StatusNotFound, "Không tìm thấy", "Không có người này trong danh sách.")
		return
	}
	v, err := c.inviteView(r.Context(), p)
	if err != nil {
		c.oops(w, r, s, "identities", err)
		return
	}
	c.audit(r.Context(), s.Person.ID, "invite.view", p.ID)
	c.renderView(w, s, http.StatusOK, "invite", view{Title: "Thư mời của " + p.FullName, Nav: "delegates",
		Flash: flash(r.URL.Query().Get("msg")), Data: v})
}

func (c *Console) inviteView(ctx context.Context, p domain.Person) (inviteView, error) {
	ids, err := c.cfg.Store.Identities(ctx, p.ID)
	if err != nil {
		return inviteView{}, err
	}
	a, _ := c.cfg.Directory().Agency(p.AgencyCode)
	v := inviteView{Person: p, Agency: a.NameVI, Links: c.links(p), CanSend: c.cfg.ResendInvite != nil && p.SubstituteFor == ""}
	// A substitute's invitation goes out when they answer or open their
	// link (the delegate's card would offer them the RSVP).
	for _, id := range ids {
		v.Identities = append(v.Identities, identityRow{Identity: id, Name: flows.ChannelName(domain.Vietnamese, id.Channel),
			Proof: proofLabels[id.Proof], Verified: id.Proof.Verified(), Linked: c.fmtTime(id.LinkedAt)})
	}
	return v, nil
}

// serveUnlink removes one of a person's linked chats.
func (c *Console) serveUnlink(w http.ResponseWriter, r *http.Request, s *session) {
	p, ok := c.pathPerson(w, r, s)
	if !ok {
		return
	}
	ctx := r.Context()
	ids, err := c.cfg.Store.Identities(ctx, p.ID)
	if err != nil {
		c.oops(w, r, s, "identities", err)
		return
	}
	ref := r.FormValue("link")
	msg := "unlink_gone"
	for _, id := range ids {
		if id.LinkRef() != ref {
			continue
		}
		// Through the chat's own path: one transaction, audited there.
		if err := c.cfg.Act(ctx, s.Person.ID, []domain.Effect{domain.UnlinkIdentity{Channel: id.Channel, UserID: id.UserID,
			PersonID: p.ID, By: s.Person.ID, From: "console"}}); err != nil {
			c.oops(w, r, s, "unlink", err)
			return
		}
		msg = "unlinked"
	}
	http.Redirect(w, r, "/admin/delegates/"+url.PathEscape(p.ID)+"/invite?msg="+msg, http.StatusSeeOther)
}

// serveRotate gives a person a new invite code, invite link and check-in
// code: for a lost or photographed invitation.
func (c *Console) serveRotate(w http.ResponseWriter, r *http.Request, s *session) {
	p, ok := c.pathPerson(w, r, s)
	if !ok {
		return
	}
	ctx := r.Context()
	if err := c.cfg.Console.RotateSecrets(ctx, p.ID, s.Person.ID, "console", c.cfg.Now()); err != nil {
		c.oops(w, r, s, "rotate", err)
		return
	}
	if err := c.cfg.Reload(ctx); err != nil {
		c.oops(w, r, s, "reload", err)
		return
	}
	http.Redirect(w, r, "/admin/delegates/"+url.PathEscape(p.ID)+"/invite?msg=rotated", http.StatusSeeOther)
}

// EnrolTTL is how long an enrolment link works (once).
const EnrolTTL = 72 * time.Hour

// IssueEnrolment records a single-use enrolment link for personID, issued
// by by from where (console or cli), and returns its secret.
func IssueEnrolment(ctx context.Context, st interface {
	CreateEnrolment(ctx context.Context, tokenHash, personID, by string, from domain.Channel, now, expires time.Time) error
}, personID, by string, from domain.Channel, now time.Time) (secret string, expires time.Time, err error) {
	secret = flows.EnrolPrefix + randomSecret()
	expires = now.Add(EnrolTTL)
	if err := st.CreateEnrolment(ctx, hashSecret(secret), personID, by, from, now, expires); err != nil {
		return "", time.Time{}, err
	}
	return secret, expires, nil
}

// EnrolURLs are the ways an enrolment secret is opened: the web chat link,
// the Telegram deep link (when the bot's username is known) and the text
// to send to the bot (Zalo has no deep link with an argument).
func EnrolURLs(publicURL, botUsername, secret string) (web, telegram, command string) {
	web = strings.TrimRight(publicURL, "/") + "/chat/i/" + url.PathEscape(secret)
	if botUsername != "" {
		telegram = "https://t.me/" + url.PathEscape(botUsername) + "?start=" + url.QueryEscape(secret)
	}
	return web, telegram, "/start " + secret
}

// serveEnrol issues an enrolment link and shows it once, for staff to hand
// over privately.
func (c *Console) serveEnrol(w http.ResponseWriter, r *http.Request, s *session) {
	p, ok := c.pathPerson(w, r, s)
	if !ok {
		return
	}
	ctx := r.Context()
	secret, exp, err := IssueEnrolment(ctx, c.cfg.Console, p.ID, s.Person.ID, "console", c.cfg.Now())
	if err != nil {
		c.oops(w, r, s, "enrol", err)
		return
	}
	v, err := c.inviteView(ctx, p)
	if err != nil {
		c.oops(w, r, s, "identities", err)
		return
	}
	web, tg, cmd := EnrolURLs(c.cfg.PublicURL, c.cfg.BotUsername(), secret)
	v.Enrol = &enrolLinks{Web: web, Telegram: tg, Command: cmd, Expires: c.fmtTime(exp)}
	c.renderView(w, s, http.StatusOK, "invite", view{Title: "Thư mời của " + p.FullName, Nav: "delegates", Data: v})
}

// serveInviteSend sends the invitation again in the person's chat.
func (c *Console) serveInviteSend(w http.ResponseWriter, r *http.Request, s *session) {
	p, ok := c.cfg.Directory().Person(r.PathValue("id"))
	if !ok || c.cfg.ResendInvite == nil {
		c.fail(w, r, s, http.StatusNotFound, "Không tìm thấy", "Không có người này trong danh sách.")
		return
	}
	n, err := c.cfg.ResendInvite(r.Context(), p.ID, s.Person.ID)
	if err != nil {
		c.oops(w, r, s, "resend invite", err)
		return
	}
	c.audit(r.Context(), s.Person.ID, "invite.send", p.ID)
	msg := "invite_sent"
	if n == 0 {
		msg = "invite_nochat"
	}
	http.Redirect(w, r, "/admin/delegates/"+url.PathEscape(p.ID)+"/invite?msg="+msg, http.StatusSeeOther)
}

// pathPerson is the person the path's {id} names; when there is none it
// answers "not found" and returns false.
func (c *Console) pathPerson(w http.ResponseWriter, r *http.Request, s *session) (domain.Person, bool) {
	p, ok := c.cfg.Directory().Person(r.PathValue("id"))
	if !ok {
		c.fail(w, r, s, http.StatusNotFound, "Không tìm thấy", "Không có người này trong danh sách.")
	}
	return p, ok
}
