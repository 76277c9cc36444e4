package papers

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-pdf/fpdf"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
)

// ErrNoIssuer is returned when the event has no invitation section: there
// is nobody to issue and sign the letter.
var ErrNoIssuer = errors.New("papers: the event has no issuer (invitation: in event.yaml)")

// ErrNobody is returned when there is no one to print a paper for.
var ErrNobody = errors.New("papers: no one to print for")

// Page geometry of an administrative document (Decree 30/2020/NĐ-CP,
// Appendix I): margins top and bottom 20 mm, left 30 mm, right 15 mm; the
// body in 13 pt.
const (
	marginTop    = 20.0
	marginLeft   = 30.0
	marginRight  = 15.0
	pageW, pageH = 210.0, 297.0
	textW        = pageW - marginLeft - marginRight
	bodyPt       = 13.0
)

// Invitations writes one giấy mời per invitee, each on its own A4 page, in
// the order given: one invitee for a person's letter, an agency's people
// for its merged file. printed is when it is printed: the date line's date
// unless the event's issuer sets one.
func Invitations(ev domain.Event, people []Invitee, printed time.Time) ([]byte, error) {
	if !ev.Issuer.Set() {
		return nil, ErrNoIssuer
	}
	if len(people) == 0 {
		return nil, ErrNobody
	}
	pdf := newDoc("Giấy mời — " + ev.NameVI)
	pdf.SetMargins(marginLeft, marginTop, marginRight)
	pdf.SetAutoPageBreak(false, 0) // one page each: the layout is measured to fit
	loc := ev.Location
	if loc == nil {
		loc = time.UTC
	}
	day := ev.Issuer.Date
	if day.IsZero() {
		day = printed
	}
	// A long agenda or address must not push the letter onto a second
	// page: each letter is laid out on a scratch document first, in smaller
	// type until its signature block ends above the QR codes.
	scratch := newDoc("")
	scratch.SetMargins(marginLeft, marginTop, marginRight)
	scratch.SetAutoPageBreak(false, 0)
	for _, iv := range people {
		size := bodyPt
		for size > 9 && invitationPage(scratch, ev, iv, day.In(loc), loc, size) > qrTop-2 {
			size -= 0.5
		}
		invitationPage(pdf, ev, iv, day.In(loc), loc, size)
	}
	return finish(pdf)
}

// qrW and qrTop place the QR codes along the foot of the letter.
const (
	qrW   = 27.0
	qrTop = pageH - 15 - qrW
)

// invitationPage lays out one letter with body text in size points and
// returns where its signature block and Nơi nhận end.
func invitationPage(pdf *fpdf.Fpdf, ev domain.Event, iv Invitee, day time.Time, loc *time.Location, size float64) float64 {
	is := ev.Issuer
	lh := size * 0.45 // line height, mm
	pdf.AddPage()

	// Left: the parent body, the issuing body in bold with a short rule
	// under it, and the số/ký hiệu.
	const leftX, leftW = marginLeft - 12, 76.0
	y := marginTop
	pdf.SetY(y)
	if is.Parent != "" {
		fitFont(pdf, serif, "", 12.5, 9, leftW, upper(is.Parent))
		centred(pdf, leftX, leftW, 6, upper(is.Parent))
	}
	fitFont(pdf, serif, "B", 12.5, 9, leftW, upper(is.Body))
	centred(pdf, leftX, leftW, 6, upper(is.Body))
	bodyW := pdf.GetStringWidth(upper(is.Body))
	rule(pdf, leftX+leftW/2, pdf.GetY()+0.3, bodyW/3)

	// Right: the national motto, the second line underlined its full width.
	const rightX, rightW = 96.0, pageW - marginRight - 96.0
	pdf.SetY(y)
	motto := "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
	fitFont(pdf, serif, "B", 12.5, 9, rightW, motto)
	centred(pdf, rightX, rightW, 6, motto)
	fitFont(pdf, serif, "B", 13, 9, rightW, "Độc lập - Tự do - Hạnh phúc")
	centred(pdf, rightX, rightW, 6, "Độc lập - Tự do - Hạnh phúc")
	rule(pdf, rightX+rightW/2, pdf.GetY()+0.3, pdf.GetStringWidth("Độc lập - Tự do - Hạnh phúc"))

	y += 18
	pdf.SetY(y)
	pdf.SetFont(serif, "", bodyPt)
	centred(pdf, leftX, leftW, 6, "Số: "+docNumber(is.Number))
	pdf.SetY(y)
	pdf.SetFont(serif, "I", bodyPt)
	centred(pdf, rightX, rightW, 6, DateLine(is.Place, day))

	// Title and trích yếu.
	pdf.SetY(y + 14)
	pdf.SetFont(serif, "B", 14)
	centred(pdf, marginLeft, textW, 7, "GIẤY MỜI")
	pdf.SetFont(serif, "B", bodyPt)
	pdf.SetX(marginLeft + 10)
	pdf.MultiCell(textW-20, 6, "Dự "+lowerFirst(ev.NameVI), "", "C", false)
	rule(pdf, marginLeft+textW/2, pdf.GetY()+0.5, 30)

	// Addressee.
	pdf.SetY(pdf.GetY() + 4)
	pdf.SetFont(serif, "", bodyPt)
	kg := "Kính gửi: "
	name := "Đồng chí " + iv.Person.FullName
	pdf.SetFont(serif, "B", bodyPt)
	nameW := pdf.GetStringWidth(name)
	pdf.SetFont(serif, "", bodyPt)
	startX := marginLeft + (textW-pdf.GetStringWidth(kg)-nameW)/2
	if startX < marginLeft {
		startX = marginLeft
	}
	pdf.SetX(startX)
	pdf.Write(6.5, kg)
	pdf.SetFont(serif, "B", bodyPt)
	pdf.Write(6.5, name)
	pdf.Ln(6.5)
	pdf.SetFont(serif, "", size-0.5)
	var who []string
	if iv.Person.Position != "" {
		who = append(who, iv.Person.Position)
	}
	if iv.Agency.NameVI != "" {
		who = append(who, iv.Agency.NameVI)
	}
	if len(who) > 0 {
		pdf.SetX(marginLeft + 10)
		pdf.MultiCell(textW-20, lh, strings.Join(who, ", "), "", "C", false)
	}
	if iv.For != "" {
		pdf.SetFont(serif, "I", size-0.5)
		centred(pdf, marginLeft, textW, lh, "(dự thay đồng chí "+iv.For+")")
	}

	// Body.
	pdf.SetY(pdf.GetY() + 3)
	para := func(style string, size float64, s string) {
		pdf.SetFont(serif, style, size)
		pdf.SetX(marginLeft)
		pdf.MultiCell(textW, size*0.45, s, "", "J", false)
	}
	para("", size, "Trân trọng kính mời đồng chí tới dự "+ev.NameVI+".")
	start, doors := ev.Start.In(loc), ev.DoorsOpen.In(loc)
	when := "- Thời gian: " + clockVI(start) + ", " + flows.FormatDate(domain.Vietnamese, start)
	if !doors.IsZero() && doors.Before(start) {
		when += " (đón tiếp đại biểu từ " + clockVI(doors) + ")"
	}
	para("", size, when+".")
	where := "- Địa điểm: " + ev.VenueVI
	if ev.Address != "" {
		where += " (" + ev.Address + ")"
	}
	para("", size, where+".")
	if len(ev.Agenda) > 0 {
		para("", size, "- Nội dung chính:")
		as := size - 2.5
		pdf.SetFont(serif, "", as)
		tw := pdf.GetStringWidth("00:00–00:00") + 2
		for i, it := range ev.Agenda {
			if i == 12 {
				break // a summary: the full agenda is in the chat (/chuongtrinh)
			}
			pdf.SetX(marginLeft + 4)
			pdf.CellFormat(tw, as*0.42, flows.FormatClock(it.Start.In(loc))+"–"+flows.FormatClock(it.End.In(loc)), "", 0, "L", false, 0, "")
			pdf.MultiCell(textW-4-tw, as*0.42, clip(it.TitleVI, 120), "", "L", false)
		}
		pdf.SetY(pdf.GetY() + 1)
	}
	reply := "Đề nghị đồng chí xác nhận tham dự"
	if !ev.RSVPCutoff.IsZero() {
		c := ev.RSVPCutoff.In(loc)
		reply += " trước " + clockVI(c) + " ngày " + shortDate(c)
	}
	reply += " bằng cách quét mã «Trợ lý hội nghị» dưới đây"
	if ev.Organizer.Phone != "" {
		reply += " hoặc gọi " + ev.Organizer.Name + ", điện thoại " + ev.Organizer.Phone
	}
	reply += "; khi đến, xin đưa mã «Điểm danh» tại bàn đón tiếp."
	para("", size-1, reply)
	para("", size, "Rất mong đồng chí tham dự đúng thời gian./.")

	// Nơi nhận (left) and the signature block (right), side by side.
	y = pdf.GetY() + 3
	pdf.SetY(y)
	pdf.SetFont(serif, "BI", 12)
	pdf.SetX(marginLeft)
	pdf.CellFormat(80, 5.5, "Nơi nhận:", "", 1, "L", false, 0, "")
	pdf.SetFont(serif, "", 11)
	recipients := is.Recipients
	if len(recipients) == 0 {
		recipients = []string{"Như trên", "Lưu: VT"} // what every letter's Nơi nhận holds at least
	}
	for i, r := range recipients {
		end := ";"
		if i == len(recipients)-1 {
			end = "."
		}
		pdf.SetX(marginLeft)
		pdf.MultiCell(75, 4.8, "- "+strings.TrimRight(r, ";.")+end, "", "L", false)
	}
	recipientsEnd := pdf.GetY()
	const signX, signW = 110.0, pageW - marginRight - 110.0
	pdf.SetY(y)
	pdf.SetFont(serif, "B", bodyPt)
	if is.SignerAuthority != "" {
		centred(pdf, signX, signW, 6, upper(is.SignerAuthority))
	}
	centred(pdf, signX, signW, 6, upper(is.SignerTitle))
	pdf.SetY(pdf.GetY() + 20) // room for the signature and the seal
	centred(pdf, signX, signW, 6, is.SignerName)
	bottom := max(pdf.GetY(), recipientsEnd)

	// The person's two QR codes along the foot of the page.
	qy := qrTop
	codes := []struct{ payload, caption, sub string }{
		{iv.CheckIn, "Điểm danh", iv.Person.InviteCode},
		{iv.Chat, "Trợ lý hội nghị", "xác nhận tham dự"},
	}
	x := marginLeft
	for _, c := range codes {
		if c.payload == "" {
			continue
		}
		qr(pdf, c.payload, x, qy, qrW)
		pdf.SetXY(x+qrW+1, qy+6)
		pdf.SetFont(sans, "B", 9)
		pdf.CellFormat(38, 4.5, c.caption, "", 2, "L", false, 0, "")
		pdf.SetFont(sans, "", 8.5)
		pdf.CellFormat(38, 4.5, c.sub, "", 2, "L", false, 0, "")
		x += qrW + 42
	}
	return bottom
}

// DateLine is the place and date line, "Hưng Yên, ngày 05 tháng 02 năm
// 2024": the day below 10 and the months January and February written with
// a leading zero, as Decree 30/2020/NĐ-CP asks.
func DateLine(place string, d time.Time) string {
	day := fmt.Sprint(d.Day())
	if d.Day() < 10 {
		day = "0" + day
	}
	month := fmt.Sprint(int(d.Month()))
	if d.Month() < 3 {
		month = "0" + month
	}
	return fmt.Sprintf("%s, ngày %s tháng %s năm %d", place, day, month, d.Year())
}

// docNumber leaves room for the clerk's number when it is not given yet.
func docNumber(n string) string {
	if strings.HasPrefix(n, "/") {
		return "      " + n
	}
	return n
}

// clockVI writes 08:00 as "08 giờ 00", the way letters give times.
func clockVI(t time.Time) string {
	return fmt.Sprintf("%02d giờ %02d", t.Hour(), t.Minute())
}

func shortDate(t time.Time) string {
	return fmt.Sprintf("%02d/%02d/%d", t.Day(), int(t.Month()), t.Year())
}

// rule draws a horizontal line of length w centred on cx.
func rule(pdf *fpdf.Fpdf, cx, y, w float64) {
	pdf.SetLineWidth(0.3)
	pdf.Line(cx-w/2, y, cx+w/2, y)
}

func upper(s string) string { return strings.ToUpper(s) }

// lowerFirst lower-cases the first letter ("Hội nghị…" → "hội nghị…") to
// follow "Dự" in the title's trích yếu, unless the first word is an
// abbreviation such as "PII".
func lowerFirst(s string) string {
	first := strings.Fields(s)
	if len(first) > 0 && strings.ToUpper(first[0]) == first[0] {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToLower(r)) + s[n:]
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return strings.TrimSpace(string([]rune(s)[:n-1])) + "…"
}
