package web

import (
	"fmt"
	"html/template"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/export"
)

// fold lower-cases s and drops its diacritics, so that "nguyen" finds
// "Nguyễn" and "dang" finds "Đặng".
func fold(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(strings.ToLower(s)) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case r == 'đ':
			b.WriteRune('d')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// matches reports whether every word of query appears in one of fields,
// ignoring case and diacritics.
func matches(query string, fields ...string) bool {
	words := strings.Fields(fold(query))
	if len(words) == 0 {
		return true
	}
	hay := fold(strings.Join(fields, " \x00 "))
	for _, w := range words {
		if !strings.Contains(hay, w) {
			return false
		}
	}
	return true
}

// rsvpLabel is a delegate's answer in Vietnamese.
func rsvpLabel(s domain.RSVPStatus) string {
	switch s {
	case domain.RSVPAttend:
		return "Tham dự"
	case domain.RSVPDecline:
		return "Không tham dự"
	case domain.RSVPSubstitute:
		return "Cử người dự thay"
	}
	return "Chưa trả lời"
}

// pct is n of total as a whole percent, 0..100.
func pct(n, total int) int {
	if total <= 0 || n <= 0 {
		return 0
	}
	p := (n*100 + total/2) / total
	if p == 0 {
		p = 1 // something, however little, shows
	}
	if p > 100 {
		p = 100
	}
	return p
}

var weekdays = [...]string{"Chủ nhật", "Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy"}

func (c *Console) funcs() template.FuncMap {
	return template.FuncMap{
		"time": c.fmtTime,
		"hm": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.In(c.loc).Format("15:04")
		},
		"date": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.In(c.loc).Format("02/01/2006")
		},
		"longdate": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			t = t.In(c.loc)
			return fmt.Sprintf("%s, ngày %02d/%02d/%d", weekdays[t.Weekday()], t.Day(), int(t.Month()), t.Year())
		},
		"rsvp":   rsvpLabel,
		"status": export.StatusLabel,
		// w is the CSS class of a bar n/total wide (style attributes are
		// not allowed by the page's CSP).
		"w": func(n, total int) string { return "w" + strconv.Itoa(pct(n, total)) },
		"size": func(n int64) string {
			switch {
			case n >= 1<<20:
				return strings.Replace(fmt.Sprintf("%.1f MB", float64(n)/(1<<20)), ".", ",", 1)
			case n >= 1<<10:
				return fmt.Sprintf("%d KB", (n+512)>>10)
			}
			return fmt.Sprintf("%d byte", n)
		},
		"num": export.FormatNumberVI,
		"add": func(a, b int) int { return a + b },
		// viewable: evidence the browser can show (sent with its detected
		// type on /view; a file whose content is not what it claims is
		// downloaded instead).
		"viewable": EvidenceViewable,
		"isImage":  func(m string) bool { return EvidenceViewable(m) && strings.HasPrefix(m, "image/") },
	}
}

func sortStable[T any](s []T, less func(a, b T) bool) {
	sort.SliceStable(s, func(i, j int) bool { return less(s[i], s[j]) })
}
