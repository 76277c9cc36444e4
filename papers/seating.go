package papers

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/go-pdf/fpdf"

	"github.com/dieuphoi/dieuphoi/domain"
)

// Protocol order (thứ tự nghi thức) is read from a person's position, so
// that the people list needs no extra column. The rule, from the first
// words of the position (any case):
//
//	10  Bí thư, Chủ tịch of the province (the position names "UBND tỉnh",
//	    "Ủy ban nhân dân tỉnh", "HĐND tỉnh" or "Tỉnh ủy")
//	11  their deputies (Phó Bí thư, Phó Chủ tịch … tỉnh)
//	20  heads of a body: Giám đốc, Viện trưởng, Cục trưởng, Chánh Văn phòng,
//	    Trưởng ban, Chủ tịch, Bí thư, Hiệu trưởng, Tổng biên tập, Chánh
//	    Thanh tra
//	21  their deputies ("Phó " + one of those)
//	30  heads of a unit: Trưởng phòng, Trưởng khoa, Trưởng trung tâm…,
//	    and the heads of a Sở's own units (Chánh Văn phòng Sở, Chánh Thanh
//	    tra Sở, Giám đốc Trung tâm …)
//	31  their deputies (Phó Trưởng phòng…)
//	40  everyone else (chuyên viên, nghiên cứu viên, thống kê viên…)
//	50  the press (Phóng viên), seated apart
//
// Within a rank people keep the order of agencies in agencies.csv (which
// lists the province, the central bodies, the party, then the departments),
// then their name. A substitute is ranked by their own position.
const (
	RankProvince = 10
	RankHead     = 20
	RankUnit     = 30
	RankOther    = 40
	RankPress    = 50
)

var (
	provinceWords = []string{"ubnd tỉnh", "ủy ban nhân dân tỉnh", "uỷ ban nhân dân tỉnh", "hđnd tỉnh", "tỉnh ủy", "tỉnh uỷ"}
	provinceHeads = []string{"bí thư", "chủ tịch"}
	bodyHeads     = []string{"giám đốc", "viện trưởng", "cục trưởng", "chánh văn phòng", "trưởng ban", "chủ tịch", "bí thư", "hiệu trưởng", "tổng biên tập", "chánh thanh tra", "chủ nhiệm"}
	unitHeads     = []string{"trưởng phòng", "trưởng khoa", "trưởng trung tâm", "trưởng bộ môn", "trưởng đài", "trưởng chi cục"}
)

// Rank is the protocol rank of a position: lower sits nearer the front.
func Rank(position string) int {
	p := strings.ToLower(strings.Join(strings.Fields(position), " "))
	if strings.HasPrefix(p, "phóng viên") {
		return RankPress
	}
	deputy := 0
	if rest, ok := strings.CutPrefix(p, "phó "); ok {
		p, deputy = rest, 1
	}
	starts := func(list []string) bool {
		return slices.ContainsFunc(list, func(w string) bool { return strings.HasPrefix(p, w) })
	}
	switch {
	case starts(provinceHeads) && slices.ContainsFunc(provinceWords, func(w string) bool { return strings.Contains(p, w) }):
		return RankProvince + deputy
	case starts(unitHeads), strings.HasPrefix(p, "chánh ") && strings.HasSuffix(p, " sở"), strings.HasPrefix(p, "giám đốc trung tâm"):
		return RankUnit + deputy
	case starts(bodyHeads):
		return RankHead + deputy
	}
	return RankOther
}

// RankLabel names a rank's group for the seating list.
func RankLabel(rank int) string {
	switch rank {
	case RankProvince:
		return "Lãnh đạo tỉnh"
	case RankProvince + 1:
		return "Phó lãnh đạo tỉnh"
	case RankHead:
		return "Người đứng đầu cơ quan"
	case RankHead + 1:
		return "Cấp phó cơ quan"
	case RankUnit:
		return "Trưởng phòng, khoa"
	case RankUnit + 1:
		return "Phó trưởng phòng, khoa"
	case RankPress:
		return "Báo chí"
	}
	return "Chuyên viên, khác"
}

// Seat is one person on the seating list and a badge.
type Seat struct {
	Invitee
	Rank   int
	Status domain.RSVPStatus // the delegate's answer; a substitute's seat says RSVPSubstitute
}

// Attendees are the people expected at the event, in protocol order: every
// delegate who has not declined, and in place of one who sends a
// substitute, the substitute under their own name. link fills each one's
// links (NewInvitee's).
func Attendees(dir *domain.Directory, rsvps map[string]domain.RSVP, link func(p domain.Person, a domain.Agency, forName string) Invitee) []Seat {
	var out []Seat
	for _, p := range dir.People() {
		if !p.Has(domain.RoleDelegate) {
			continue
		}
		st := domain.RSVPPending
		if r, ok := rsvps[p.ID]; ok {
			st = r.Status
		}
		who, forName := p, ""
		switch st {
		case domain.RSVPDecline:
			continue
		case domain.RSVPSubstitute:
			sub, ok := dir.Person(domain.SubstituteID(p.ID))
			if !ok {
				continue // the substitute's record is made with the answer; nobody to seat yet
			}
			who, forName = sub, p.FullName
		}
		a, _ := dir.Agency(who.AgencyCode)
		out = append(out, Seat{Invitee: link(who, a, forName), Rank: Rank(who.Position), Status: st})
	}
	order := map[string]int{}
	for i, a := range dir.Agencies() {
		order[a.Code] = i
	}
	slices.SortStableFunc(out, func(a, b Seat) int {
		return cmp.Or(cmp.Compare(a.Rank, b.Rank),
			cmp.Compare(agencyOrder(order, a.Person.AgencyCode), agencyOrder(order, b.Person.AgencyCode)),
			strings.Compare(a.Person.FullName, b.Person.FullName))
	})
	return out
}

func agencyOrder(order map[string]int, code string) int {
	if i, ok := order[code]; ok {
		return i
	}
	return len(order)
}

// StatusLabel is how the seating list shows an answer.
func StatusLabel(s domain.RSVPStatus) string {
	switch s {
	case domain.RSVPAttend:
		return "Tham dự"
	case domain.RSVPSubstitute:
		return "Người dự thay"
	case domain.RSVPDecline:
		return "Không tham dự"
	}
	return "Chưa trả lời"
}

// SeatingList writes the seating list in protocol order: A4 portrait, a
// table of number, name, position, agency, group and answer, the header
// repeated on each page.
func SeatingList(ev domain.Event, seats []Seat) ([]byte, error) {
	if len(seats) == 0 {
		return nil, ErrNobody
	}
	pdf := newDoc("Danh sách xếp chỗ — " + ev.NameVI)
	pdf.SetMargins(12, 15, 12)
	pdf.SetAutoPageBreak(true, 15)
	titles := []string{"STT", "Họ và tên", "Chức vụ", "Đơn vị", "Nhóm", "Trả lời"}
	widths := []float64{10, 36, 46, 46, 26, 22}
	header := func() {
		pdf.SetFont(sans, "B", 8.5)
		pdf.SetFillColor(217, 225, 242)
		for i, c := range titles {
			pdf.CellFormat(widths[i], 6, c, "1", 0, "C", true, 0, "")
		}
		pdf.Ln(-1)
	}
	pdf.SetHeaderFunc(func() {
		if pdf.PageNo() > 1 {
			header()
		}
	})
	pdf.SetFooterFunc(func() {
		pdf.SetY(-10)
		pdf.SetFont(sans, "", 7.5)
		pdf.CellFormat(0, 4, fmt.Sprintf("Trang %d/{nb}", pdf.PageNo()), "", 0, "C", false, 0, "")
	})
	pdf.AliasNbPages("{nb}")
	pdf.AddPage()
	pdf.SetFont(serif, "B", 13)
	pdf.MultiCell(0, 6, "DANH SÁCH ĐẠI BIỂU THEO THỨ TỰ NGHI THỨC", "", "C", false)
	pdf.SetFont(serif, "I", 10.5)
	pdf.MultiCell(0, 5, ev.NameVI, "", "C", false)
	pdf.Ln(3)
	header()
	pdf.SetFont(sans, "", 8.5)
	for i, s := range seats {
		cells := []string{fmt.Sprint(i + 1), s.Person.FullName, s.Person.Position, s.Agency.NameVI, RankLabel(s.Rank), StatusLabel(s.Status)}
		if s.For != "" {
			cells[1] += " (thay " + s.For + ")"
		}
		Row(pdf, widths, cells, 4)
	}
	return finish(pdf)
}

// Row writes one table row whose cells wrap: every cell as tall as the
// tallest, a new page first when it would not fit.
func Row(pdf *fpdf.Fpdf, widths []float64, cells []string, lh float64) {
	lines := 1
	for i, c := range cells {
		if n := len(pdf.SplitText(c, widths[i]-2)); n > lines {
			lines = n
		}
	}
	h := float64(lines)*lh + 1
	_, pageHt := pdf.GetPageSize()
	_, _, _, bottom := pdf.GetMargins()
	if pdf.GetY()+h > pageHt-bottom {
		pdf.AddPage()
	}
	x, y := pdf.GetXY()
	for i, c := range cells {
		pdf.Rect(x, y, widths[i], h, "D")
		pdf.SetXY(x+1, y+0.5)
		pdf.MultiCell(widths[i]-2, lh, c, "", "L", false)
		x += widths[i]
	}
	left, _, _, _ := pdf.GetMargins()
	pdf.SetXY(left, y+h)
}

// Badges writes name badges, eight to an A4 sheet (2 × 4, 95 × 69 mm, cut
// along the grey lines): the name large, position, agency, and the
// check-in QR code; a substitute's badge carries their own name.
func Badges(ev domain.Event, seats []Seat) ([]byte, error) {
	if len(seats) == 0 {
		return nil, ErrNobody
	}
	pdf := newDoc("Thẻ đại biểu — " + ev.NameVI)
	pdf.SetMargins(0, 0, 0)
	pdf.SetAutoPageBreak(false, 0)
	const (
		cols, rows = 2, 4
		bw, bh     = 95.0, 69.0
		ox, oy     = (pageW - cols*bw) / 2, (pageH - rows*bh) / 2
		pad        = 5.0
		qrSide     = 26.0
	)
	for i, s := range seats {
		if i%(cols*rows) == 0 {
			pdf.AddPage()
		}
		k := i % (cols * rows)
		x, y := ox+float64(k%cols)*bw, oy+float64(k/cols)*bh
		pdf.SetDrawColor(170, 170, 170)
		pdf.SetLineWidth(0.2)
		pdf.Rect(x, y, bw, bh, "D")
		pdf.SetDrawColor(0, 0, 0)
		// The event's name across the top.
		pdf.SetFillColor(31, 78, 121)
		pdf.Rect(x, y, bw, 11, "F")
		pdf.SetTextColor(255, 255, 255)
		pdf.SetFont(sans, "B", 7)
		pdf.SetXY(x+pad, y+1.2)
		pdf.MultiCell(bw-2*pad, 3, clip(ev.NameVI, 140), "", "C", false)
		pdf.SetTextColor(0, 0, 0)
		// Name, position, agency.
		w := bw - 2*pad
		fitFont(pdf, sans, "B", 17, 10, w, s.Person.FullName)
		pdf.SetXY(x+pad, y+15)
		pdf.CellFormat(w, 8, s.Person.FullName, "", 2, "C", false, 0, "")
		tw := bw - 2*pad - qrSide - 3
		pdf.SetFont(sans, "", 9)
		pdf.SetXY(x+pad, y+27)
		pdf.MultiCell(tw, 4, clip(s.Person.Position, 90), "", "L", false)
		pdf.SetFont(sans, "B", 9)
		pdf.SetX(x + pad)
		pdf.MultiCell(tw, 4, clip(s.Agency.NameVI, 90), "", "L", false)
		if s.For != "" {
			pdf.SetFont(sans, "", 7.5)
			pdf.SetX(x + pad)
			pdf.MultiCell(tw, 3.5, "Dự thay "+s.For, "", "L", false)
		}
		qr(pdf, s.CheckIn, x+bw-pad-qrSide, y+bh-pad-qrSide-3, qrSide)
		pdf.SetFont(sans, "", 6.5)
		pdf.SetXY(x+bw-pad-qrSide, y+bh-pad-3)
		pdf.CellFormat(qrSide, 3, "Điểm danh "+s.Person.InviteCode, "", 0, "C", false, 0, "")
	}
	return finish(pdf)
}
