// Package papers makes what the Sở prints, signs and sends, as PDF: the
// invitation (giấy mời) laid out as Decree 30/2020/NĐ-CP prescribes, name
// badges, and the seating list in protocol order.
//
// Everything is pure Go (github.com/go-pdf/fpdf) with DejaVu Serif and Sans
// embedded (fonts/, under their licence), so a static binary on a machine
// without fonts prints every Vietnamese letter. QR codes are drawn with
// github.com/skip2/go-qrcode, the same as the console's.
package papers

import (
	"bytes"
	"embed"
	"fmt"
	"net/url"
	"strings"
	"sync"

	"github.com/go-pdf/fpdf"
	"github.com/skip2/go-qrcode"

	"github.com/dieuphoi/dieuphoi/domain"
)

//go:embed fonts/*.ttf fonts/LICENSE
var fonts embed.FS

// Font families registered on every document.
const (
	serif = "serif"
	sans  = "sans"
)

var fontFiles = []struct{ family, style, file string }{
	{serif, "", "DejaVuSerif.ttf"},
	{serif, "B", "DejaVuSerif-Bold.ttf"},
	{serif, "I", "DejaVuSerif-Italic.ttf"},
	{serif, "BI", "DejaVuSerif-BoldItalic.ttf"},
	{sans, "", "DejaVuSans.ttf"},
	{sans, "B", "DejaVuSans-Bold.ttf"},
}

// fontData is read from the embedded files once.
var fontData = sync.OnceValue(func() map[string][]byte {
	m := map[string][]byte{}
	for _, f := range fontFiles {
		b, err := fonts.ReadFile("fonts/" + f.file)
		if err != nil {
			panic(fmt.Sprintf("papers: embedded font %s: %v", f.file, err)) // the build embeds them
		}
		m[f.file] = b
	}
	return m
})

// newDoc is an A4 portrait document with the fonts registered, no header
// or footer, and the creation date fixed so that the same input gives the
// same bytes.
func newDoc(title string) *fpdf.Fpdf {
	return newDocOrient("P", title)
}

func newDocOrient(orient, title string) *fpdf.Fpdf {
	pdf := fpdf.New(orient, "mm", "A4", "")
	data := fontData()
	for _, f := range fontFiles {
		pdf.AddUTF8FontFromBytes(f.family, f.style, data[f.file])
	}
	pdf.SetTitle(title, true)
	pdf.SetCreator("dieuphoi", true)
	pdf.SetCatalogSort(true)
	pdf.SetCompression(true)
	return pdf
}

// NewDocument is an A4 document ("P" portrait or "L" landscape) with the
// embedded fonts as families "serif" (regular, B, I, BI) and "sans"
// (regular, B), for other packages' PDFs (the data report).
func NewDocument(orient, title string) *fpdf.Fpdf { return newDocOrient(orient, title) }

// finish writes the document out, or its first error.
func finish(pdf *fpdf.Fpdf) ([]byte, error) {
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, fmt.Errorf("write pdf: %w", err)
	}
	return buf.Bytes(), nil
}

// QRSize is the side, in pixels, of the QR images the papers embed; tests
// regenerate the same image to check the payload.
const QRSize = 256

// QRPNG draws payload as the QR image the papers embed.
func QRPNG(payload string) ([]byte, error) {
	png, err := qrcode.Encode(payload, qrcode.Medium, QRSize)
	if err != nil {
		return nil, fmt.Errorf("qr code: %w", err)
	}
	return png, nil
}

// qr places payload's QR code at (x, y), side w millimetres.
func qr(pdf *fpdf.Fpdf, payload string, x, y, w float64) {
	if payload == "" || pdf.Err() {
		return
	}
	png, err := QRPNG(payload)
	if err != nil {
		pdf.SetError(err)
		return
	}
	name := "qr:" + payload
	opt := fpdf.ImageOptions{ImageType: "PNG"}
	if info := pdf.GetImageInfo(name); info == nil {
		pdf.RegisterImageOptionsReader(name, opt, bytes.NewReader(png))
	}
	pdf.ImageOptions(name, x, y, w, w, false, opt, 0, "")
}

// Invitee is one person a paper is printed for.
type Invitee struct {
	Person domain.Person
	Agency domain.Agency
	// For is, on a substitute's paper, the name of the delegate they
	// replace.
	For string
	// CheckIn is the URL in the check-in QR code (CheckInURL), Chat the
	// personal chat link (ChatURL).
	CheckIn, Chat string
}

// CheckInURL is a person's check-in link: scanned by the desk it checks
// them in; opened on their phone it offers self check-in.
func CheckInURL(publicURL string, p domain.Person) string {
	return strings.TrimRight(publicURL, "/") + "/checkin/" + url.PathEscape(p.CheckinToken)
}

// WebChatURL is a person's personal link to the web chat.
func WebChatURL(publicURL string, p domain.Person) string {
	return strings.TrimRight(publicURL, "/") + "/chat/i/" + url.PathEscape(p.InviteToken)
}

// TelegramURL is a person's personal link to the bot on Telegram, "" when
// the bot's username is unknown.
func TelegramURL(botUsername string, p domain.Person) string {
	if botUsername == "" {
		return ""
	}
	return "https://t.me/" + url.PathEscape(botUsername) + "?start=" + url.QueryEscape(p.InviteToken)
}

// ChatURL is the personal chat link a paper prints: Telegram's when the
// bot is on Telegram (most officials have it on their phone), else the web
// chat's.
func ChatURL(publicURL, botUsername string, p domain.Person) string {
	if u := TelegramURL(botUsername, p); u != "" {
		return u
	}
	return WebChatURL(publicURL, p)
}

// NewInvitee fills an Invitee's links.
func NewInvitee(p domain.Person, a domain.Agency, forName, publicURL, botUsername string) Invitee {
	return Invitee{Person: p, Agency: a, For: forName, CheckIn: CheckInURL(publicURL, p), Chat: ChatURL(publicURL, botUsername, p)}
}

// centred writes s centred in the band [x, x+w] at the current y.
func centred(pdf *fpdf.Fpdf, x, w, h float64, s string) {
	pdf.SetX(x)
	pdf.CellFormat(w, h, s, "", 1, "C", false, 0, "")
}

// fitFont lowers the font size from size until s fits in w (down to min).
func fitFont(pdf *fpdf.Fpdf, family, style string, size, min, w float64, s string) float64 {
	for ; size > min; size -= 0.5 {
		pdf.SetFont(family, style, size)
		if pdf.GetStringWidth(s) <= w {
			return size
		}
	}
	pdf.SetFont(family, style, min)
	return min
}
