package export

import (
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"

	"golang.org/x/text/unicode/norm"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
)

type valueKind int

const (
	kindNone valueKind = iota
	kindNumber
	kindDate
	kindBool
	kindText
)

// value is a submission's canonical value read for display.
type value struct {
	kind     valueKind
	percent  bool
	num      float64
	decimals int // decimals as entered, for the display format
	date     time.Time
	b        bool
	text     string // kindText, and the canonical text of the others
}

// parseValue reads a canonical value (domain.Value.Canon) of type t. A value
// that does not parse as its type is kept as text, so nothing is lost.
func parseValue(t domain.ValueType, canon string) value {
	if canon == "" {
		return value{}
	}
	v := value{kind: kindText, text: canon}
	switch {
	case t.Numeric():
		s := strings.TrimSpace(canon)
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return v
		}
		v.kind, v.num, v.percent = kindNumber, f, t == domain.TypePercent
		v.text = plainNumber(s, f)
		if i := strings.IndexByte(v.text, '.'); i >= 0 {
			v.decimals = min(len(v.text)-i-1, 6)
		}
	case t == domain.TypeDate:
		d, err := time.Parse("2006-01-02", strings.TrimSpace(canon))
		if err != nil {
			return v
		}
		v.kind, v.date = kindDate, d
	case t == domain.TypeYesNo:
		switch strings.ToLower(strings.TrimSpace(canon)) {
		case "yes", "true", "1", "có", "co":
			v.kind, v.b = kindBool, true
		case "no", "false", "0", "không", "khong":
			v.kind, v.b = kindBool, false
		}
	}
	return v
}

// plainNumber returns s as a plain decimal ("1234.5"): the canonical text
// when it already is one, otherwise f written out without an exponent.
func plainNumber(s string, f float64) string {
	s = strings.TrimPrefix(s, "+")
	if strings.ContainsAny(s, "eEiInN") || strings.HasPrefix(s, ".") || strings.HasPrefix(s, "-.") {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return s
}

// display is the value as a Vietnamese reader writes it: "1.234,5",
// "12,5%", "02/08/2024", "Có".
func (v value) display() string {
	switch v.kind {
	case kindNumber:
		s := FormatNumberVI(v.text)
		if v.percent {
			s += "%"
		}
		return s
	case kindDate:
		return v.date.Format("02/01/2006")
	case kindBool:
		return yesNo(v.b)
	}
	return v.text
}

// canonical is the value as stored: dot decimal, ISO date, yes/no.
func (v value) canonical() string {
	switch v.kind {
	case kindBool:
		if v.b {
			return "yes"
		}
		return "no"
	case kindDate:
		return v.date.Format("2006-01-02")
	}
	return v.text
}

func yesNo(b bool) string {
	if b {
		return "Có"
	}
	return "Không"
}

// FormatNumberVI writes a plain decimal number ("-1234567.25") the
// Vietnamese way: "." groups thousands, "," marks decimals ("-1.234.567,25").
// Anything that is not a plain decimal is returned unchanged. It is
// flows.FormatDecimal, the one number formatter chat and console share.
func FormatNumberVI(s string) string { return flows.FormatDecimal(domain.Vietnamese, s) }

// numberFormat is the Excel number format for a value: thousands grouping,
// as many decimals as were entered, and Excel's percent for percent values
// (stored as the fraction: 12,5 % is 0.125). Excel shows the separators of
// the reader's locale: "1.234,5" and "12,5%" in vi-VN.
func numberFormat(decimals int, percent bool) string {
	f := "#,##0"
	if decimals > 0 {
		f += "." + strings.Repeat("0", decimals)
	}
	if percent {
		f += "%"
	}
	return f
}

// dateSerial is a date's Excel serial as a whole day: the calendar day the
// date names (dates are kept at midnight UTC), with no time of day.
func dateSerial(t time.Time) float64 {
	y, m, d := t.Date()
	return excelSerial(time.Date(y, m, d, 0, 0, 0, 0, time.UTC))
}

// Formats of dates and times, in Excel and as text.
const (
	xlDate     = "dd/mm/yyyy"
	xlDateTime = "dd/mm/yyyy hh:mm"
	isoDate    = "2006-01-02"
	isoMinute  = "2006-01-02 15:04"
)

// excelSerial is the Excel (1900 system) serial number of t's wall-clock
// date and time; t should already be in the zone it is shown in.
func excelSerial(t time.Time) float64 {
	y, m, d := t.Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	days := math.Round(day.Sub(time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)).Hours() / 24)
	h, mi, s := t.Clock()
	return days + float64(h*3600+mi*60+s)/86400
}

// guard defuses text a spreadsheet would run as a formula (or DDE): text
// starting with = + - @ tab or CR gets a leading single quote.
func guard(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

// cleanText makes text safe to store: NFC, line ends as "\n", no control
// characters XML 1.0 forbids, then guarded against formula injection. The
// guard runs last, on the text as it will be written: "\x01=HYPERLINK(…)"
// becomes a formula only once the control character is gone.
func cleanText(s string) string {
	if s == "" {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if r < 0x20 || r == 0x7f || r == 0xfffe || r == 0xffff {
			return -1
		}
		return r
	}, s)
	return guard(norm.NFC.String(s))
}

// sheetName makes an Excel sheet name from s: no []:*?/\ characters, no
// quote at either end, at most 31 characters (cut at a word, ending with
// "…"), and unique among used (compared without case, as Excel does). The
// chosen name is added to used.
func sheetName(s string, used map[string]bool) string {
	s = norm.NFC.String(s)
	s = strings.Map(func(r rune) rune {
		switch {
		case strings.ContainsRune(`[]:*?/\`, r):
			return ' '
		case unicode.IsControl(r):
			return -1
		}
		return r
	}, s)
	s = strings.Trim(strings.Join(strings.Fields(s), " "), "' ")
	if s == "" {
		s = "Trụ cột"
	}
	name := fitName(s, "", 31)
	for n := 2; used[strings.ToLower(name)] || strings.EqualFold(name, "History"); n++ {
		name = fitName(s, " ("+strconv.Itoa(n)+")", 31)
	}
	used[strings.ToLower(name)] = true
	return name
}

// fitName returns s+suffix within limit UTF-16 units, shortening s at a word
// boundary and marking the cut with "…".
func fitName(s, suffix string, limit int) string {
	if u16len(s)+u16len(suffix) <= limit {
		return s + suffix
	}
	room := limit - u16len(suffix) - 1 // 1 for "…"
	rs := []rune(s)
	cut := 0
	for n := 0; cut < len(rs); cut++ {
		n += utf16.RuneLen(rs[cut])
		if n > room {
			break
		}
	}
	head := string(rs[:cut])
	// Cut at the last space if that keeps at least half the room.
	if i := strings.LastIndexByte(head, ' '); i > 0 && u16len(head[:i]) >= room/2 && cut < len(rs) && rs[cut] != ' ' {
		head = head[:i]
	}
	head = strings.TrimRight(head, " ,;-&'")
	return head + "…" + suffix
}

func u16len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// CleanText is cleanText for the other exports (the meeting's questions and
// votes in the console): text people typed, safe in a spreadsheet cell.
func CleanText(s string) string { return cleanText(s) }
