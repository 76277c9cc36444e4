package flows

import (
	"regexp"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/dieuphoi/dieuphoi/domain"
)

// Finding fields in an evidence document's text (read by package evidence,
// outside the flows): pure functions over the pages.

// Found is where something was found: 1-based page and line, and the line
// itself (trimmed, at most maxLine runes) for the reviewer.
type Found struct {
	Text string // what was found, normalised ("125/BC-SKHCN", "1.234,5 triệu đồng")
	Page int
	Line int
	In   string // the line it is on
}

// FoundDate is a date found in a document.
type FoundDate struct {
	Found
	Date time.Time
}

const maxLine = 160

var (
	// "Số: 125/BC-SKHCN", "Số 12/2024/QĐ-UBND", "Số/Ký hiệu: 7/KH-SKHCN";
	// OCR sometimes reads "Số" as "Sô", "S6" or "Sồ".
	labelledNumRE = regexp.MustCompile(`(?i)(?:^|[^\p{L}])s[ốôồổơóo06]\s*(?:/\s*k[ýy]\s*hi[ệe]u)?\s*[:.]\s*(\d{1,6}(?:\s*/\s*[\p{L}\d]+(?:\s*[-–]\s*[\p{L}\d]+)*)+)`)
	// A bare symbol: digits, a slash and an upper-case type with a dash.
	bareNumRE = regexp.MustCompile(`(?:^|[^\p{L}\d/])(\d{1,6}/(?:\d{4}/)?[\p{Lu}]+(?:-[\p{Lu}\d]+)+)`)
	// "ngày 15 tháng 3 năm 2024"; OCR may drop diacritics.
	docViDateRE = regexp.MustCompile(`(?i)ng[àa]y\s+(\d{1,2})\s+th[áa]ng\s+(\d{1,2})\s+n[ăa]m\s+(\d{4})`)
	// "15/03/2024", "15-3-2024", "15.03.2024"
	docNumDateRE = regexp.MustCompile(`(?:^|[^\d])(\d{1,2}[/.-]\d{1,2}[/.-]\d{4})(?:[^\d]|$)`)
	// A place before the date: "Hưng Yên, ngày …" is the document's own date.
	docPlaceRE = regexp.MustCompile(`\p{L}\s*,\s*$`)
	// Numbers as printed: "1.234,5", "1234,5", "1 234,5", "12,5%".
	docNumberRE = regexp.MustCompile(`\d[\d.,]*(?:[ \x{00a0}]\d{3}(?:[.,]\d+)*)*`)
)

// lines calls fn with each line of each page, 1-based, NFC-normalised.
func docLines(pages []string, fn func(page, line int, s string) bool) {
	for p, text := range pages {
		for l, s := range strings.Split(text, "\n") {
			if strings.TrimSpace(s) == "" {
				continue
			}
			if !fn(p+1, l+1, norm.NFC.String(s)) {
				return
			}
		}
	}
}

func clipLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > maxLine {
		s = string(r[:maxLine-1]) + "…"
	}
	return s
}

// DocNumbers finds the document's số/ký hiệu: labelled ones ("Số: …")
// first, then bare symbols, each once, in reading order.
func DocNumbers(pages []string) []Found {
	var labelled, bare []Found
	seen := map[string]bool{}
	docLines(pages, func(p, l int, s string) bool {
		for _, m := range labelledNumRE.FindAllStringSubmatch(s, -1) {
			if n := normSymbol(m[1]); !seen[n] {
				seen[n] = true
				labelled = append(labelled, Found{Text: n, Page: p, Line: l, In: clipLine(s)})
			}
		}
		for _, m := range bareNumRE.FindAllStringSubmatch(s, -1) {
			if n := normSymbol(m[1]); !seen[n] {
				seen[n] = true
				bare = append(bare, Found{Text: n, Page: p, Line: l, In: clipLine(s)})
			}
		}
		return len(labelled)+len(bare) < 20
	})
	return append(labelled, bare...)
}

func normSymbol(s string) string {
	s = strings.Join(strings.Fields(s), "")
	s = strings.ReplaceAll(s, "–", "-")
	return strings.Trim(s, "-/.")
}

// DocDates finds dates: those after a place name ("Hưng Yên, ngày 15
// tháng 3 năm 2024", the document's own date) first, then the others, in
// reading order, each once. Dates are checked by ParseDate.
func DocDates(pages []string) []FoundDate {
	var placed, other []FoundDate
	seen := map[time.Time]bool{}
	docLines(pages, func(p, l int, s string) bool {
		add := func(text string, first bool) {
			d, err := ParseDate(text)
			if err != nil || seen[d] {
				return
			}
			seen[d] = true
			f := FoundDate{Found: Found{Text: text, Page: p, Line: l, In: clipLine(s)}, Date: d}
			if first {
				placed = append(placed, f)
			} else {
				other = append(other, f)
			}
		}
		for _, m := range docViDateRE.FindAllStringSubmatchIndex(s, -1) {
			add("ngày "+s[m[2]:m[3]]+" tháng "+s[m[4]:m[5]]+" năm "+s[m[6]:m[7]], docPlaceRE.MatchString(s[:m[0]]))
		}
		for _, m := range docNumDateRE.FindAllStringSubmatch(s, -1) {
			add(m[1], false)
		}
		return len(placed)+len(other) < 20
	})
	return append(placed, other...)
}

// FindValue looks for the value canon of ind in the pages, in any way a
// document may print it (see WrittenAs). A match with words after
// the number (a unit: "1.234,5 triệu đồng") is preferred to a bare one.
func FindValue(ind domain.Indicator, canon string, pages []string) (Found, bool) {
	if !ind.Type.Numeric() || canon == "" {
		return Found{}, false
	}
	var bare *Found
	var withUnit *Found
	docLines(pages, func(p, l int, s string) bool {
		for _, loc := range docNumberRE.FindAllStringIndex(s, -1) {
			if (loc[0] > 0 && strings.ContainsRune("/-", rune(s[loc[0]-1]))) || (loc[1] < len(s) && strings.ContainsRune("/-", rune(s[loc[1]]))) {
				continue // part of a symbol or a date, not an amount
			}
			num := strings.TrimRight(s[loc[0]:loc[1]], ".,")
			words := strings.Fields(s[loc[1]:])
			for k := min(3, len(words)); k >= 0; k-- {
				cand := strings.TrimRight(strings.Join(append([]string{num}, words[:k]...), " "), ".,;:)")
				if !WrittenAs(ind, canon, cand) {
					continue
				}
				f := Found{Text: cand, Page: p, Line: l, In: clipLine(s)}
				if k > 0 {
					withUnit = &f
					return false
				}
				if bare == nil {
					bare = &f
				}
				break
			}
		}
		return true
	})
	if withUnit != nil {
		return *withUnit, true
	}
	if bare != nil {
		return *bare, true
	}
	return Found{}, false
}
