package web

import (
	"bytes"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/skip2/go-qrcode"
	"github.com/xuri/excelize/v2"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/export"
	"github.com/dieuphoi/dieuphoi/flows"
)

type exportView struct {
	NoCampaign bool
	Agencies   []domain.Agency // that have assignments: their sign-off workbooks
}

func (c *Console) serveExportPage(w http.ResponseWriter, r *http.Request, s *session) {
	ch, _, err := c.campaignFor(r)
	if err != nil {
		c.oops(w, r, s, "export", err)
		return
	}
	v := exportView{NoCampaign: c.cfg.Exporter == nil || ch.Catalog == nil}
	if !v.NoCampaign {
		dir, cat := c.cfg.Directory(), ch.Catalog
		for _, a := range dir.Agencies() {
			if len(cat.ForAgency(a.Code)) > 0 {
				v.Agencies = append(v.Agencies, a)
			}
		}
	}
	c.render(w, r, s, http.StatusOK, "export", "Xuất dữ liệu", v)
}

func (c *Console) serveExport(w http.ResponseWriter, r *http.Request, s *session) {
	kind := r.PathValue("kind")
	var f *flows.File
	var err error
	switch kind {
	case "attendees.xlsx":
		f, err = c.attendees(r)
	case "xlsx", "csv", "pdf", "zip", "agency":
		if c.cfg.Exporter == nil || c.cfg.Catalog() == nil {
			c.fail(w, r, s, http.StatusNotFound, "Không có dữ liệu", "Chưa có đợt thu thập chỉ số để xuất.")
			return
		}
		ch, _, err := c.campaignFor(r) // the campaign chosen in the switcher
		if err != nil {
			c.oops(w, r, s, "export", err)
			return
		}
		src := *c.cfg.Exporter
		src.Catalog, src.CurrentCatalog = ch.Catalog, nil // the current one, after imports
		if !ch.Served {
			src.Campaign, src.Title, src.FileTag = ch.Store, ch.Rec.NameVI, ch.Rec.ID
		}
		if kind == "zip" {
			c.streamZIP(w, r, s, src)
			return
		}
		if kind == "agency" {
			code := r.URL.Query().Get("agency")
			if _, ok := c.cfg.Directory().Agency(code); !ok {
				c.fail(w, r, s, http.StatusNotFound, "Không tìm thấy", "Không có đơn vị này.")
				return
			}
			f, err = src.ExportAgency(r.Context(), code)
		} else {
			f, err = src.Export(r.Context(), kind)
		}
	default:
		c.fail(w, r, s, http.StatusNotFound, "Không tìm thấy", "Không có kiểu xuất dữ liệu này.")
		return
	}
	if err != nil {
		c.oops(w, r, s, "export "+kind, err)
		return
	}
	c.audit(r.Context(), s.Person.ID, "export", kind+" "+f.Name)
	w.Header().Set("Content-Type", f.MIME)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": f.Name}))
	w.Header().Set("Content-Length", strconv.Itoa(len(f.Data)))
	_, _ = w.Write(f.Data)
}

// attendees is the list for badges and seating: every delegate, with their
// answer, substitute and check-in.
func (c *Console) attendees(r *http.Request) (*flows.File, error) {
	ev, _, err := c.viewedEvent(nil, r)
	if err != nil {
		return nil, err
	}
	_, rsvps, checks, err := c.headcountOf(r.Context(), ev)
	if err != nil {
		return nil, err
	}
	x := excelize.NewFile()
	defer x.Close()
	const sheet = "Đại biểu"
	if err := x.SetSheetName("Sheet1", sheet); err != nil {
		return nil, err
	}
	head := []any{"STT", "Mã", "Họ và tên", "Chức vụ", "Đơn vị", "Trạng thái", "Người dự thay", "Chức vụ người dự thay",
		"Điện thoại người dự thay", "Điểm danh lúc", "Mã thư mời"}
	if err := x.SetSheetRow(sheet, "A1", &head); err != nil {
		return nil, err
	}
	bold, _ := x.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDEBF7"}}})
	_ = x.SetCellStyle(sheet, "A1", "K1", bold)
	dir := c.cfg.Directory()
	// The list names its event: in the workbook's title and the file name.
	_ = x.SetDocProps(&excelize.DocProperties{Title: ev.Event.NameVI, Subject: ev.Event.NameVI, Creator: "dieuphoi"})
	n := 0
	for _, p := range eventPeople(ev, dir).People() {
		if !p.Has(domain.RoleDelegate) {
			continue
		}
		n++
		a, _ := dir.Agency(p.AgencyCode)
		st := domain.RSVPPending
		var sub domain.Substitute
		if rv, ok := rsvps[p.ID]; ok {
			st = rv.Status
			if rv.Substitute != nil {
				sub = *rv.Substitute
			}
		}
		checked := ""
		if ci, ok := checks[p.ID]; ok {
			checked = c.fmtTime(ci.At)
		} else if ci, ok := checks[domain.SubstituteID(p.ID)]; ok && st == domain.RSVPSubstitute {
			checked = c.fmtTime(ci.At) + " (người dự thay)"
		}
		// The badge list travels (printers, reception): it carries no
		// secret of anyone who acts for a body (SECURITY.md).
		code := p.InviteCode
		if p.Has(domain.RoleFocal) || p.Has(domain.RoleStaff) {
			code = ""
		}
		row := []any{n, p.ID, p.FullName, p.Position, a.NameVI, rsvpLabel(st), sub.Name, sub.Position, sub.Phone, checked, code}
		cell, _ := excelize.CoordinatesToCellName(1, n+1)
		if err := x.SetSheetRow(sheet, cell, &row); err != nil {
			return nil, err
		}
	}
	for col, width := range map[string]float64{"A": 5, "B": 9, "C": 26, "D": 36, "E": 36, "F": 16, "G": 24, "H": 28, "I": 14, "J": 17, "K": 12} {
		_ = x.SetColWidth(sheet, col, col, width)
	}
	_ = x.SetPanes(sheet, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"})
	_ = x.AutoFilter(sheet, "A1:K"+strconv.Itoa(n+1), nil)
	var buf bytes.Buffer
	if err := x.Write(&buf); err != nil {
		return nil, err
	}
	stamp := c.now().Format("20060102-1504")
	name := "dai-bieu-"
	if code := fileSafe(ev.Code); code != "" {
		name += code + "-"
	} else if id := fileSafe(ev.Event.ID); id != "" {
		name += id + "-"
	}
	return &flows.File{Name: name + stamp + ".xlsx", MIME: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", Data: buf.Bytes()}, nil
}

// --- invitations and QR codes ----------------------------------------------------

type card struct {
	Person domain.Person
	Agency string
	Links  links
	For    string // a substitute's card: the delegate they replace
}

type invitationsView struct {
	Agency   domain.Agency
	Agencies []agencyCount
	Cards    []card
}

type agencyCount struct {
	Agency domain.Agency
	N      int
}

// serveInvitations lists the invitations of the event chosen in the
// console's switcher: its invitees (and their substitutes), with its name,
// time and venue on each card.
func (c *Console) serveInvitations(w http.ResponseWriter, r *http.Request, s *session) {
	rec, _, err := c.viewedEvent(w, r)
	if err != nil {
		c.oops(w, r, s, "invitations", err)
		return
	}
	dir := eventPeople(rec, c.cfg.Directory())
	code := r.URL.Query().Get("agency")
	v := invitationsView{}
	counts := map[string]int{}
	for _, p := range dir.People() {
		if guest(p) {
			counts[p.AgencyCode]++
		}
	}
	for _, a := range dir.Agencies() {
		if counts[a.Code] > 0 {
			v.Agencies = append(v.Agencies, agencyCount{Agency: a, N: counts[a.Code]})
		}
	}
	if code != "" {
		a, ok := dir.Agency(code)
		if !ok {
			c.fail(w, r, s, http.StatusNotFound, "Không tìm thấy", "Không có đơn vị này.")
			return
		}
		v.Agency = a
		for _, p := range dir.People() {
			if p.AgencyCode == code && guest(p) {
				cd := card{Person: p, Agency: a.NameVI, Links: c.links(p)}
				if d, ok := dir.Person(p.SubstituteFor); ok {
					cd.For = d.FullName
				}
				v.Cards = append(v.Cards, cd)
			}
		}
	}
	c.render(w, r, s, http.StatusOK, "invitations", "Giấy mời", v)
}

// serveQR draws the QR code of a person's check-in link: scanned by the
// desk it checks them in; opened on their phone it offers self check-in on
// the day and the chat before.
func (c *Console) serveQR(w http.ResponseWriter, r *http.Request, s *session) {
	file := r.PathValue("file")
	id, ok := trimSuffix(file, ".png")
	p, found := c.cfg.Directory().Person(id)
	if !ok || !found {
		c.fail(w, r, s, http.StatusNotFound, "Không tìm thấy", "Không có người này trong danh sách.")
		return
	}
	png, err := qrcode.Encode(c.links(p).CheckIn, qrcode.Medium, 320)
	if err != nil {
		c.oops(w, r, s, "qr", err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "private, max-age=300")
	_, _ = w.Write(png)
}

func trimSuffix(s, suffix string) (string, bool) {
	if len(s) <= len(suffix) || s[len(s)-len(suffix):] != suffix {
		return s, false
	}
	return s[:len(s)-len(suffix)], true
}

// streamZIP writes the evidence ZIP straight into the response: memory stays
// flat whatever the evidence weighs. Headers go first, so a failure midway
// can only cut the download short (the browser reports it incomplete).
func (c *Console) streamZIP(w http.ResponseWriter, r *http.Request, s *session, src export.Source) {
	// A large archive may take longer than the server's write timeout.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(30 * time.Minute))
	name := "PII-minh-chung-" + c.cfg.Now().In(c.loc).Format("20060102-1504") + ".zip"
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	c.audit(r.Context(), s.Person.ID, "export", "zip "+name)
	if _, err := src.WriteZIP(r.Context(), w); err != nil {
		c.cfg.Log.Error("console: evidence ZIP cut short", "err", err)
	}
}

// fileSafe keeps the letters, digits and dashes of s (an event's code or
// id) for a file name; at most 40.
func fileSafe(s string) string {
	var b strings.Builder
	for _, r := range s {
		if (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') || r == '-' {
			b.WriteRune(r)
		}
		if b.Len() >= 40 {
			break
		}
	}
	return b.String()
}
