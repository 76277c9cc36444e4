package flows

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/dieuphoi/dieuphoi/domain"
)

// Indicator values as focal points type them on a phone, and as the bot reads
// them back. Everything here is pure: no I/O, no clock.
//
// Numbers follow Vietnamese usage first: "." groups thousands and "," marks
// decimals ("1.234,5"). English usage ("1,234.5") is accepted whenever it
// cannot be mistaken. One separator followed by exactly three digits
// ("1.234", "1,234") could be either; it is never guessed but asked back
// (ValueError Kind "ambiguous" with the readings as Choices), except for
// integer indicators, where a count has no decimals and "1.234" is 1234.

// Limits on what ParseValue accepts.
const (
	MaxValueInput  = 64   // runes, for numbers, dates and yes/no
	MaxTextRunes   = 2000 // runes, for text values
	maxSigDigits   = 15   // float64 keeps 15 significant digits exactly
	maxFracDigits  = 10
	maxIntDigits   = 18 // values below 1e18
	maxTextBytes   = 4 * MaxTextRunes * 4
	valNBSP        = '\u00a0'
	valThinSpace   = '\u2009'
	valNarrowNBSP  = '\u202f'
	valFigureSpace = '\u2007'
)

// ValueError says why an input is not a value for an indicator. Kind is one
// of "empty", "not_number", "ambiguous", "not_integer", "out_of_range",
// "too_large", "too_precise", "too_long", "unit_mismatch" (a "%" for an
// indicator that is not a percentage), "bad_unit" (a word after the number
// that is neither a scale word nor the indicator's unit), "bad_date",
// "bad_yesno" and "bad_char" (control or invisible characters in a text).
type ValueError struct {
	Kind  string
	Input string
	// Choices, for "ambiguous", are the readings to ask back, each already
	// checked against the indicator (type and range); typically the
	// thousands reading first (1234), then the decimal one (1.234).
	Choices  []domain.Value
	Min, Max *float64 // for "out_of_range": the indicator's bounds
}

func (e *ValueError) Error() string {
	return fmt.Sprintf("value %s: %q", e.Kind, e.Input)
}

func valErr(kind, input string) *ValueError { return &ValueError{Kind: kind, Input: input} }

// ParseValue reads what a focal point typed for indicator ind. On success
// the Value's Type is ind.Type and Canon its canonical text: numbers as the
// shortest decimal with '.' ("1234.5"), dates "2006-01-02", yes/no "yes" or
// "no", text as trimmed NFC text.
//
// Numbers may carry a scale word (nghìn/ngàn/k ×1000, triệu/tr ×10⁶, tỷ/tỉ
// ×10⁹, with or without diacritics), the indicator's unit ("3,5 người/vạn
// dân") and, for percentages, "%" or "phần trăm". A unit that itself starts
// with a scale word ("tỷ đồng") is honoured: "1,5 tỷ" then means 1,5 and
// "500 triệu" 0,5. Percentages are taken as typed: 0,125 is 0,125 %, never
// multiplied by 100. Scientific notation, hex, NaN and Inf are refused, as
// are non-ASCII digits.
func ParseValue(ind domain.Indicator, input string) (domain.Value, *ValueError) {
	switch ind.Type {
	case domain.TypeText:
		return parseTextValue(input)
	case domain.TypeDate:
		d, err := ParseDate(input)
		if err != nil {
			return domain.Value{}, err
		}
		return domain.Value{Type: domain.TypeDate, Date: d, Canon: d.Format("2006-01-02")}, nil
	case domain.TypeYesNo:
		return parseYesNo(input)
	}
	return parseNumberValue(ind, input)
}

// --- numbers -----------------------------------------------------------------

// valDecimal is an exact decimal: digits without leading (int) or trailing
// (frac) zeros.
type valDecimal struct {
	neg       bool
	int, frac string
}

func newValDecimal(neg bool, ip, fp string) valDecimal {
	ip = strings.TrimLeft(ip, "0")
	fp = strings.TrimRight(fp, "0")
	if ip == "" && fp == "" {
		neg = false
	}
	return valDecimal{neg: neg, int: ip, frac: fp}
}

// shift multiplies d by 10^k (k may be negative).
func (d valDecimal) shift(k int) valDecimal {
	ip, fp := d.int, d.frac
	for ; k > 0; k-- {
		if fp == "" {
			ip += "0"
		} else {
			ip, fp = ip+fp[:1], fp[1:]
		}
	}
	for ; k < 0; k++ {
		if ip == "" {
			fp = "0" + fp
		} else {
			ip, fp = ip[:len(ip)-1], ip[len(ip)-1:]+fp
		}
	}
	return newValDecimal(d.neg, ip, fp)
}

func (d valDecimal) String() string {
	s := d.int
	if s == "" {
		s = "0"
	}
	if d.frac != "" {
		s += "." + d.frac
	}
	if d.neg {
		s = "-" + s
	}
	return s
}

func (d valDecimal) sigDigits() int {
	return len(strings.TrimRight(strings.TrimLeft(d.int+d.frac, "0"), "0"))
}

func isValSpace(r rune) bool {
	return r == ' ' || r == valNBSP || r == valThinSpace || r == valNarrowNBSP || r == valFigureSpace
}

// splitNumber cuts s (trimmed) into the number in front and the words after.
func splitNumber(s string) (head, tail string) {
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9', r == '.', r == ',', isValSpace(r):
		case i == 0 && (r == '+' || r == '-' || r == '\u2212'):
		default:
			return strings.TrimSpace(s[:i]), strings.TrimSpace(s[i:])
		}
	}
	return strings.TrimSpace(s), ""
}

// readNumber reads a number without words: one reading, or two when it is
// ambiguous (thousands first, then decimal). ok is false when it is not a
// number at all.
func readNumber(s string) (readings []valDecimal, ok bool) {
	neg := false
	if r, size := utf8.DecodeRuneInString(s); r == '+' || r == '-' || r == '\u2212' {
		neg = r != '+'
		s = strings.TrimLeftFunc(s[size:], isValSpace)
	}
	var groups []string
	var seps []rune
	start := 0
	for i, r := range s {
		if r >= '0' && r <= '9' {
			continue
		}
		if !isValSpace(r) && r != '.' && r != ',' {
			return nil, false
		}
		groups = append(groups, s[start:i])
		start = i + utf8.RuneLen(r)
		if isValSpace(r) {
			r = ' '
		}
		seps = append(seps, r)
	}
	groups = append(groups, s[start:])
	for i, g := range groups {
		if g == "" && (i > 0 || len(groups) == 1) {
			return nil, false // no digits, doubled or trailing separator
		}
	}
	if len(seps) == 0 {
		return []valDecimal{newValDecimal(neg, groups[0], "")}, true
	}

	var nS, nD, nC int
	lastMark := -1 // index of the last '.' or ','
	for i, r := range seps {
		switch r {
		case ' ':
			nS++
		case '.':
			nD++
			lastMark = i
		case ',':
			nC++
			lastMark = i
		}
	}
	dec := -1 // index of the decimal separator
	var thou rune
	switch {
	case nD > 0 && nC > 0:
		mark := seps[lastMark]
		if strings.Count(string(seps), string(mark)) != 1 || lastMark != len(seps)-1 || nS > 0 {
			return nil, false
		}
		dec = lastMark
		thou = '.'
		if mark == '.' {
			thou = ','
		}
	case nD+nC == 0:
		thou = ' '
	case nS > 0:
		if nD+nC != 1 || lastMark != len(seps)-1 {
			return nil, false
		}
		dec, thou = lastMark, ' '
	case nD+nC >= 2:
		thou = seps[0]
	default: // a single '.' or ','
		if leadGroup(groups[0]) && len(groups[1]) == 3 {
			return []valDecimal{
				newValDecimal(neg, groups[0]+groups[1], ""),
				newValDecimal(neg, groups[0], groups[1]),
			}, true
		}
		dec = 0
	}
	intGroups, frac := groups, ""
	if dec >= 0 {
		intGroups, frac = groups[:dec+1], groups[dec+1]
	}
	for i := 0; i < len(intGroups)-1; i++ {
		if seps[i] != thou {
			return nil, false
		}
	}
	if len(intGroups) > 1 {
		if !leadGroup(intGroups[0]) {
			return nil, false
		}
		for _, g := range intGroups[1:] {
			if len(g) != 3 {
				return nil, false
			}
		}
	}
	return []valDecimal{newValDecimal(neg, strings.Join(intGroups, ""), frac)}, true
}

// leadGroup reports whether g can start a number grouped in thousands.
func leadGroup(g string) bool { return len(g) >= 1 && len(g) <= 3 && g[0] != '0' }

// valFold lower-cases s, removes diacritics (đ becomes d) and collapses white
// space, for matching words typed with or without accents.
func valFold(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(strings.ToLower(s)) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case r == 'đ':
			r = 'd'
		case unicode.IsSpace(r):
			r = ' '
		}
		b.WriteRune(r)
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// scaleWords are the multipliers typed after a number, folded.
var scaleWords = map[string]int{
	"k": 3, "nghin": 3, "ngan": 3, "thousand": 3,
	"tr": 6, "trieu": 6, "million": 6,
	"ty": 9, "ti": 9, "billion": 9,
}

var percentWords = []string{"%", "phan tram", "percent"}

// cutSuffix removes word w at the end of s (as the whole of s or after a
// space; "%" may also be glued to what is before it).
func cutSuffix(s, w string) (string, bool) {
	switch {
	case s == w:
		return "", true
	case strings.HasSuffix(s, " "+w):
		return strings.TrimSpace(s[:len(s)-len(w)-1]), true
	case w == "%" && strings.HasSuffix(s, "%"):
		return strings.TrimSpace(s[:len(s)-1]), true
	}
	return s, false
}

var parenRE = regexp.MustCompile(`\([^)]*\)`)

// unitForms are the ways the indicator's unit may be typed after a number,
// folded, longest first.
func unitForms(ind domain.Indicator) []string {
	var out []string
	add := func(s string) {
		s = valFold(s)
		if s != "" && !valContains(out, s) {
			out = append(out, s)
		}
	}
	add(ind.Unit)
	add(parenRE.ReplaceAllString(ind.Unit, " "))
	if ind.Type == domain.TypeScore {
		add("điểm")
		add("points")
		add("point")
	}
	return out
}

func valContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// unitScale is the power of ten of a unit that starts with a scale word:
// 6 for "triệu đồng".
func unitScale(ind domain.Indicator) int {
	f := strings.Fields(valFold(ind.Unit))
	if len(f) > 1 {
		return scaleWords[f[0]]
	}
	return 0
}

func hasDigit(s string) bool {
	return strings.IndexFunc(s, unicode.IsDigit) >= 0
}

// numberReadings parses a number with its words for ind.
func numberReadings(ind domain.Indicator, input string) (readings []valDecimal, scaled bool, err *ValueError) {
	s := strings.TrimSpace(input)
	if s == "" {
		return nil, false, valErr("empty", input)
	}
	if len(s) > 4*MaxValueInput || utf8.RuneCountInString(s) > MaxValueInput {
		return nil, false, valErr("too_long", input)
	}
	if !utf8.ValidString(s) {
		return nil, false, valErr("not_number", input)
	}
	head, tail := splitNumber(s)
	readings, ok := readNumber(head)
	if !ok {
		return nil, false, valErr("not_number", input)
	}
	if tail == "" {
		return readings, false, nil
	}
	rest := strings.TrimRight(valFold(tail), ".")
	if hasDigit(tail) && !hasDigit(ind.Unit) {
		return nil, false, valErr("not_number", input)
	}
	unit := false
	for _, u := range unitForms(ind) {
		if r, ok := cutSuffix(rest, u); ok {
			rest, unit = r, true
			break
		}
	}
	if !unit {
		for _, w := range percentWords {
			if r, ok := cutSuffix(rest, w); ok {
				if ind.Type != domain.TypePercent {
					return nil, false, valErr("unit_mismatch", input)
				}
				rest = r
				break
			}
		}
	}
	if rest == "" {
		return readings, false, nil
	}
	k, ok := scaleWords[rest]
	if !ok {
		wordy := strings.IndexFunc(rest, unicode.IsLetter) >= 0 && strings.IndexFunc(rest, func(r rune) bool {
			return !unicode.IsLetter(r) && r != ' ' && r != '/' && r != '.'
		}) < 0
		if !wordy {
			return nil, false, valErr("not_number", input)
		}
		return nil, false, valErr("bad_unit", input)
	}
	k -= unitScale(ind)
	for i := range readings {
		readings[i] = readings[i].shift(k)
	}
	return readings, true, nil
}

// numberValue checks one reading against ind.
func numberValue(ind domain.Indicator, input string, d valDecimal) (domain.Value, *ValueError) {
	switch {
	case len(d.int) > maxIntDigits:
		return domain.Value{}, valErr("too_large", input)
	case len(d.frac) > maxFracDigits || d.sigDigits() > maxSigDigits:
		return domain.Value{}, valErr("too_precise", input)
	case ind.Type == domain.TypeInteger && d.frac != "":
		return domain.Value{}, valErr("not_integer", input)
	}
	f, perr := strconv.ParseFloat(d.String(), 64)
	if perr != nil {
		return domain.Value{}, valErr("not_number", input)
	}
	if f == 0 {
		f = 0 // no negative zero
	}
	if (ind.Min != nil && f < *ind.Min) || (ind.Max != nil && f > *ind.Max) {
		return domain.Value{}, &ValueError{Kind: "out_of_range", Input: input, Min: ind.Min, Max: ind.Max}
	}
	return domain.Value{Type: ind.Type, Num: f, Canon: strconv.FormatFloat(f, 'f', -1, 64)}, nil
}

func parseNumberValue(ind domain.Indicator, input string) (domain.Value, *ValueError) {
	readings, scaled, err := numberReadings(ind, input)
	if err != nil {
		return domain.Value{}, err
	}
	if len(readings) == 1 || (ind.Type == domain.TypeInteger && !scaled) {
		// A count has no decimals: "1.234" of people is 1234.
		return numberValue(ind, input, readings[0])
	}
	var choices []domain.Value
	var first *ValueError
	for _, d := range readings {
		v, err := numberValue(ind, input, d)
		if err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		choices = append(choices, v)
	}
	switch {
	case len(choices) == 0:
		return domain.Value{}, first
	case len(choices) == 1 && ind.Type == domain.TypeInteger:
		return choices[0], nil
	}
	return domain.Value{}, &ValueError{Kind: "ambiguous", Input: input, Choices: choices}
}

// ParseDecimal reads a plain number written the Vietnamese or the English
// way ("1.234,5", "1,234.5", "12,5", "-3"), with no unit or scale word. An
// ambiguous number ("1.000") is an error of Kind "ambiguous" whose Choices
// hold both readings.
func ParseDecimal(s string) (float64, *ValueError) {
	ind := domain.Indicator{Type: domain.TypeDecimal}
	head, tail := splitNumber(strings.TrimSpace(s))
	if tail != "" || head == "" {
		if strings.TrimSpace(s) == "" {
			return 0, valErr("empty", s)
		}
		return 0, valErr("not_number", s)
	}
	v, err := parseNumberValue(ind, s)
	if err != nil {
		return 0, err
	}
	return v.Num, nil
}

// --- dates -------------------------------------------------------------------

var (
	dmyRE     = regexp.MustCompile(`^([0-9]{1,2})([/.-])([0-9]{1,2})([/.-])([0-9]{4})$`)
	isoDateRE = regexp.MustCompile(`^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})$`)
	viDateRE  = regexp.MustCompile(`^(?:ngay )?([0-9]{1,2}) thang ([0-9]{1,2})(?: nam|,)? ([0-9]{4})$`)
	enDMYRE   = regexp.MustCompile(`^([0-9]{1,2}) ([a-z]+),? ([0-9]{4})$`)
	enMDYRE   = regexp.MustCompile(`^([a-z]+) ([0-9]{1,2}),? ([0-9]{4})$`)
)

var enMonths = map[string]int{
	"january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
	"august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
	"jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9,
	"oct": 10, "nov": 11, "dec": 12,
}

// ParseDate reads a calendar date, day first as in Việt Nam: "02/08/2024",
// "2/8/2024", "02-08-2024", "02.08.2024", "ngày 2 tháng 8 năm 2024", and
// also "2024-08-02" and "2 August 2024". Two-digit years are refused. The
// date is returned at midnight UTC; years outside 1900..2100 are refused.
func ParseDate(s string) (time.Time, *ValueError) {
	t := strings.TrimSpace(s)
	switch {
	case t == "":
		return time.Time{}, valErr("empty", s)
	case len(t) > 4*MaxValueInput || utf8.RuneCountInString(t) > MaxValueInput:
		return time.Time{}, valErr("too_long", s)
	}
	f := valFold(t)
	var y, m, d string
	if sm := dmyRE.FindStringSubmatch(f); sm != nil && sm[2] == sm[4] {
		d, m, y = sm[1], sm[3], sm[5]
	} else if sm := isoDateRE.FindStringSubmatch(f); sm != nil {
		y, m, d = sm[1], sm[2], sm[3]
	} else if sm := viDateRE.FindStringSubmatch(f); sm != nil {
		d, m, y = sm[1], sm[2], sm[3]
	} else if sm := enDMYRE.FindStringSubmatch(f); sm != nil && enMonths[sm[2]] != 0 {
		d, m, y = sm[1], strconv.Itoa(enMonths[sm[2]]), sm[3]
	} else if sm := enMDYRE.FindStringSubmatch(f); sm != nil && enMonths[sm[1]] != 0 {
		m, d, y = strconv.Itoa(enMonths[sm[1]]), sm[2], sm[3]
	} else {
		return time.Time{}, valErr("bad_date", s)
	}
	yy, _ := strconv.Atoi(y)
	mm, _ := strconv.Atoi(m)
	dd, _ := strconv.Atoi(d)
	date := time.Date(yy, time.Month(mm), dd, 0, 0, 0, 0, time.UTC)
	if yy < 1900 || yy > 2100 || date.Year() != yy || int(date.Month()) != mm || date.Day() != dd {
		return time.Time{}, valErr("bad_date", s)
	}
	return date, nil
}

// --- yes/no and text ---------------------------------------------------------

var (
	yesWords = []string{"co", "yes", "y", "x", "da", "roi", "da co", "co roi", "vang", "dung", "ok", "1", "true", "✓", "✔", "☑"}
	noWords  = []string{"khong", "ko", "k", "kh", "kg", "no", "n", "chua", "chua co", "khong co", "0", "false"}
)

func parseYesNo(input string) (domain.Value, *ValueError) {
	s := strings.TrimSpace(input)
	switch {
	case s == "":
		return domain.Value{}, valErr("empty", input)
	case len(s) > 4*MaxValueInput || utf8.RuneCountInString(s) > MaxValueInput:
		return domain.Value{}, valErr("too_long", input)
	}
	words := strings.Fields(strings.TrimRight(valFold(s), ".!"))
	// Politeness: "Dạ có ạ", "Vâng, có".
	if len(words) > 1 && (words[0] == "da" || words[0] == "vang" || words[0] == "vang,") {
		words = words[1:]
	}
	if len(words) > 1 && words[len(words)-1] == "a" {
		words = words[:len(words)-1]
	}
	w := strings.TrimRight(strings.Join(words, " "), ".!,")
	switch {
	case valContains(yesWords, w):
		return domain.Value{Type: domain.TypeYesNo, Bool: true, Canon: "yes"}, nil
	case valContains(noWords, w):
		return domain.Value{Type: domain.TypeYesNo, Bool: false, Canon: "no"}, nil
	}
	return domain.Value{}, valErr("bad_yesno", input)
}

// parseTextValue keeps a text as typed, trimmed and NFC-normalised; line
// breaks are kept (CR LF becomes LF), tabs become spaces, other control and
// invisible formatting characters (such as bidirectional overrides) are
// refused.
func parseTextValue(input string) (domain.Value, *ValueError) {
	if len(input) > maxTextBytes {
		return domain.Value{}, valErr("too_long", input)
	}
	if !utf8.ValidString(input) {
		return domain.Value{}, valErr("bad_char", input)
	}
	s := strings.NewReplacer("\r\n", "\n", "\r", "\n", "\t", " ", "\uFEFF", "").Replace(input)
	s = strings.TrimSpace(norm.NFC.String(s))
	if s == "" {
		return domain.Value{}, valErr("empty", input)
	}
	for _, r := range s {
		if r == '\n' || r == '\u200c' || r == '\u200d' {
			continue
		}
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return domain.Value{}, valErr("bad_char", input)
		}
	}
	if utf8.RuneCountInString(s) > MaxTextRunes {
		return domain.Value{}, valErr("too_long", input)
	}
	return domain.Value{Type: domain.TypeText, Text: s, Canon: s}, nil
}

// --- formatting --------------------------------------------------------------

// FormatValue writes v for reading back: Vietnamese style in vi ("1.234,5",
// "12,5%", "1.500.000.000", "02/08/2024", "Có"), English style in en
// ("1,234.5", "12.5%", "2 August 2024", "Yes"). The unit is not added
// (ValueWithUnit does that), except "%".
//
// Numbers are written by FormatDecimal, the one number formatter of the
// project (chat, console, exports): every whole number is grouped
// ("1.000", "10.000") and decimals are written as they were entered
// ("1,234" stays "1,234"). Typed back, such a number may be asked back
// as ambiguous (it is one of the two readings), never misread.
func FormatValue(lang domain.Lang, ind domain.Indicator, v domain.Value) string {
	typ := v.Type
	if typ == "" {
		typ = ind.Type
	}
	switch typ {
	case domain.TypeText:
		if v.Text == "" {
			return v.Canon
		}
		return v.Text
	case domain.TypeDate:
		d := v.Date
		if d.IsZero() {
			if p, err := time.Parse("2006-01-02", v.Canon); err == nil {
				d = p
			}
		}
		if lang == domain.English {
			return d.Format("2 January 2006")
		}
		return d.Format("02/01/2006")
	case domain.TypeYesNo:
		switch {
		case lang == domain.English && v.Bool:
			return "Yes"
		case lang == domain.English:
			return "No"
		case v.Bool:
			return "Có"
		}
		return "Không"
	}
	s := formatNumber(lang, v.Num)
	if typ == domain.TypePercent {
		return s + "%"
	}
	return s
}

// ValueWithUnit writes a stored value (its Canon) with the indicator's unit,
// once: "12,5%" (never "12,5% (%)"), "1.250 triệu đồng", "7,5 điểm (0-10)";
// "—" when there is no value. Chat read-backs, summaries, review cards and
// the console all use it.
func ValueWithUnit(lang domain.Lang, ind domain.Indicator, canon string) string {
	if canon == "" {
		return "—"
	}
	v, err := ParseCanon(ind, canon)
	if err != nil {
		return canon
	}
	return valueUnit(lang, ind, v)
}

func valueUnit(lang domain.Lang, ind domain.Indicator, v domain.Value) string {
	s := FormatValue(lang, ind, v)
	u := strings.TrimSpace(ind.Unit)
	switch {
	case u == "" || u == "%" || !ind.Type.Numeric():
		return s
	case ind.Type == domain.TypePercent && strings.HasSuffix(u, "%"):
		// "điểm %": the "%" is already written after the number.
		if w := strings.TrimSpace(strings.TrimSuffix(u, "%")); w != "" {
			return s + " (" + w + ")"
		}
		return s
	}
	return s + " " + u
}

// formatNumber writes f with the language's separators (FormatDecimal).
func formatNumber(lang domain.Lang, f float64) string {
	if f == 0 {
		f = 0 // no negative zero
	}
	return FormatDecimal(lang, strconv.FormatFloat(f, 'f', -1, 64))
}

// FormatDecimal writes a plain decimal number ("-1234567.25", as stored)
// the way readers of lang write it: in Vietnamese "." groups thousands and
// "," marks decimals ("-1.234.567,25"); in English "1,234,567.25". Whole
// numbers are always grouped ("1.000"); the decimals are kept as given.
// Anything that is not a plain decimal is returned unchanged.
func FormatDecimal(lang domain.Lang, s string) string {
	sign := ""
	body := s
	if strings.HasPrefix(body, "-") || strings.HasPrefix(body, "+") {
		if body[0] == '-' {
			sign = "-"
		}
		body = body[1:]
	}
	ip, fp, hasFrac := strings.Cut(body, ".")
	if ip == "" && hasFrac {
		ip = "0"
	}
	if ip == "" || (hasFrac && fp == "") {
		return s
	}
	for _, part := range []string{ip, fp} {
		for _, r := range part {
			if r < '0' || r > '9' {
				return s
			}
		}
	}
	thou, dec := ".", ","
	if lang == domain.English {
		thou, dec = ",", "."
	}
	var b strings.Builder
	b.WriteString(sign)
	for i, c := range ip {
		if i > 0 && (len(ip)-i)%3 == 0 {
			b.WriteString(thou)
		}
		b.WriteRune(c)
	}
	if fp != "" {
		b.WriteString(dec)
		b.WriteString(fp)
	}
	return b.String()
}

// plainNumber writes f without grouping, with the language's decimal mark:
// how the readings of an ambiguous number are shown.
func plainNumber(lang domain.Lang, f float64) string {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if lang != domain.English {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

// ParseCanon rebuilds a Value from its canonical text (Value.Canon), as
// stored. It checks the form only, not the indicator's range.
func ParseCanon(ind domain.Indicator, canon string) (domain.Value, error) {
	switch ind.Type {
	case domain.TypeText:
		return domain.Value{Type: ind.Type, Text: canon, Canon: canon}, nil
	case domain.TypeDate:
		d, err := time.Parse("2006-01-02", canon)
		if err != nil {
			return domain.Value{}, fmt.Errorf("canonical date %q: %w", canon, err)
		}
		return domain.Value{Type: ind.Type, Date: d, Canon: canon}, nil
	case domain.TypeYesNo:
		switch canon {
		case "yes":
			return domain.Value{Type: ind.Type, Bool: true, Canon: canon}, nil
		case "no":
			return domain.Value{Type: ind.Type, Canon: canon}, nil
		}
		return domain.Value{}, fmt.Errorf("canonical yes/no %q is not yes or no", canon)
	}
	if !canonNumRE.MatchString(canon) {
		return domain.Value{}, fmt.Errorf("canonical number %q is not a plain decimal", canon)
	}
	f, err := strconv.ParseFloat(canon, 64)
	if err != nil {
		return domain.Value{}, fmt.Errorf("canonical number %q: %w", canon, err)
	}
	return domain.Value{Type: ind.Type, Num: f, Canon: canon}, nil
}

var canonNumRE = regexp.MustCompile(`^-?[0-9]{1,18}(\.[0-9]{1,17})?$`)

// --- messages ----------------------------------------------------------------

var valueMsgs = map[domain.Lang]map[string]string{
	domain.Vietnamese: {
		"empty":         "Anh/chị chưa nhập giá trị.%s",
		"not_number":    "“%s” không phải là một số hợp lệ. Xin nhập bằng chữ số, dùng dấu phẩy cho phần thập phân và dấu chấm để phân cách hàng nghìn.%s",
		"ambiguous_one": "“%s” có phải là %s không? Xin bấm xác nhận nếu đúng, hoặc gõ lại cho rõ: số nguyên không cần dấu phân cách (ví dụ 1234), phần thập phân dùng dấu phẩy (ví dụ 1,5).",
		"ambiguous":     "“%s” có thể hiểu là %s. Xin bấm chọn giá trị đúng, hoặc gõ lại cho rõ: số nguyên không cần dấu phân cách (ví dụ 1234), phần thập phân dùng dấu phẩy (ví dụ 1,5).",
		"not_integer":   "Chỉ số này là số nguyên (đếm được), không có phần thập phân; “%s” không dùng được.%s",
		"out_of_range":  "“%s” nằm ngoài khoảng cho phép của chỉ số này (%s). Xin kiểm tra lại số liệu và đơn vị tính.%s",
		"too_large":     "Số “%s” quá lớn. Xin kiểm tra lại đơn vị tính.%s",
		"too_precise":   "“%s” có quá nhiều chữ số: tối đa 15 chữ số có nghĩa và 10 chữ số sau dấu phẩy. Xin làm tròn.%s",
		"too_long":      "Nội dung quá dài (tối đa %d ký tự). Xin chỉ nhập giá trị.%s",
		"too_long_text": "Nội dung quá dài (tối đa %s ký tự). Xin rút gọn; tài liệu dài xin gửi kèm làm minh chứng.",
		"unit_mismatch": "Chỉ số này không tính bằng phần trăm%s. Xin nhập số không kèm dấu %%.%s",
		"bad_unit":      "Chưa hiểu “%s”%s. Xin chỉ nhập số, có thể kèm nghìn, triệu, tỷ.%s",
		"bad_date":      "“%s” không phải là ngày hợp lệ. Xin nhập theo dạng ngày/tháng/năm, ví dụ: 02/08/2024.",
		"bad_yesno":     "Chưa hiểu “%s”. Xin trả lời “Có” hoặc “Không”.",
		"bad_char":      "Nội dung có ký tự điều khiển hoặc ký tự ẩn không dùng được. Xin gõ lại bằng chữ thông thường.",
		"unknown":       "Giá trị “%s” không dùng được.%s",
		"example":       " Ví dụ: %s.",
		"unit":          " (đơn vị tính: %s)",
		"or":            " hoặc ",
		"between":       "từ %s đến %s",
		"at_least":      "từ %s trở lên",
		"at_most":       "không lớn hơn %s",
	},
	domain.English: {
		"empty":         "Nothing was entered.%s",
		"not_number":    "“%s” is not a valid number. Please type digits, with a comma or a point for decimals.%s",
		"ambiguous_one": "Did you mean %[2]s by “%[1]s”? Please confirm, or type it again unambiguously: whole numbers without separators (e.g. 1234), decimals with one decimal mark (e.g. 1.5).",
		"ambiguous":     "“%s” can be read as %s. Please choose the right value, or type it again unambiguously: whole numbers without separators (e.g. 1234), decimals with one decimal mark (e.g. 1.5).",
		"not_integer":   "This indicator is a whole number (a count), with no decimals; “%s” cannot be used.%s",
		"out_of_range":  "“%s” is outside the range allowed for this indicator (%s). Please check the figure and its unit.%s",
		"too_large":     "The number “%s” is too large. Please check the unit.%s",
		"too_precise":   "“%s” has too many digits: at most 15 significant digits and 10 decimals. Please round it.%s",
		"too_long":      "That is too long (at most %d characters). Please type only the value.%s",
		"too_long_text": "That is too long (at most %s characters). Please shorten it; send long documents as evidence files.",
		"unit_mismatch": "This indicator is not a percentage%s. Please type the number without %%.%s",
		"bad_unit":      "The unit in “%s” is not understood%s. Please type only the number, optionally with thousand, million or billion.%s",
		"bad_date":      "“%s” is not a valid date. Please type day/month/year, e.g. 02/08/2024.",
		"bad_yesno":     "“%s” is not understood. Please answer “Yes” or “No”.",
		"bad_char":      "The text has control or invisible characters that cannot be used. Please type it again as plain text.",
		"unknown":       "The value “%s” cannot be used.%s",
		"example":       " For example: %s.",
		"unit":          " (unit: %s)",
		"or":            " or ",
		"between":       "from %s to %s",
		"at_least":      "%s or more",
		"at_most":       "at most %s",
	},
}

// Message explains the error to the focal point in lang, politely and
// precisely, with an example of a valid entry for ind.
func (e *ValueError) Message(lang domain.Lang, ind domain.Indicator) string {
	if lang != domain.English {
		lang = domain.Vietnamese
	}
	m := valueMsgs[lang]
	in := valEcho(e.Input)
	ex := ""
	if x := valExample(lang, ind); x != "" {
		ex = fmt.Sprintf(m["example"], x)
	}
	unit := ""
	if ind.Unit != "" {
		unit = fmt.Sprintf(m["unit"], valEcho(ind.Unit))
	}
	switch e.Kind {
	case "empty":
		return fmt.Sprintf(m["empty"], ex)
	case "not_number", "not_integer", "too_large", "too_precise":
		return fmt.Sprintf(m[e.Kind], in, ex)
	case "ambiguous":
		var cs []string
		for _, c := range e.Choices {
			cs = append(cs, choiceLabel(lang, c))
		}
		if len(cs) == 1 {
			return fmt.Sprintf(m["ambiguous_one"], in, cs[0])
		}
		return fmt.Sprintf(m["ambiguous"], in, strings.Join(cs, m["or"]))
	case "out_of_range":
		return fmt.Sprintf(m["out_of_range"], in, valBounds(lang, ind, e.Min, e.Max), ex)
	case "too_long":
		if ind.Type == domain.TypeText {
			return fmt.Sprintf(m["too_long_text"], formatNumber(lang, MaxTextRunes))
		}
		return fmt.Sprintf(m["too_long"], MaxValueInput, ex)
	case "unit_mismatch":
		return fmt.Sprintf(m["unit_mismatch"], unit, ex)
	case "bad_unit":
		return fmt.Sprintf(m["bad_unit"], in, unit, ex)
	case "bad_date", "bad_yesno":
		return fmt.Sprintf(m[e.Kind], in)
	case "bad_char":
		return m["bad_char"]
	}
	return fmt.Sprintf(m["unknown"], in, ex)
}

// valBounds writes an indicator's range: "từ 0 đến 100 %".
func valBounds(lang domain.Lang, ind domain.Indicator, lo, hi *float64) string {
	m := valueMsgs[lang]
	f := func(x float64) string {
		return FormatValue(lang, ind, domain.Value{Type: ind.Type, Num: x})
	}
	switch {
	case lo != nil && hi != nil:
		return fmt.Sprintf(m["between"], f(*lo), f(*hi))
	case lo != nil:
		return fmt.Sprintf(m["at_least"], f(*lo))
	case hi != nil:
		return fmt.Sprintf(m["at_most"], f(*hi))
	}
	return ""
}

// valExample is a valid entry for ind, chosen by its type, unit and range
// ("7,5" for a 0–10 score, "12,5%", "850 hoặc 1,5 tỷ" for an amount in
// triệu đồng, "25" for a count); every example parses as a value of ind.
func valExample(lang domain.Lang, ind domain.Indicator) string {
	var x float64
	switch ind.Type {
	case domain.TypeInteger:
		x = 25
	case domain.TypeDecimal:
		x = 3.5
	case domain.TypePercent:
		x = 12.5
	case domain.TypeScore:
		x = 7.5
		if ind.Max != nil && *ind.Max > 10 {
			x = 65.5
		}
	case domain.TypeDate:
		return "02/08/2024"
	case domain.TypeYesNo:
		if lang == domain.English {
			return "Yes"
		}
		return "Có"
	default:
		return ""
	}
	// Amounts of money: an example in the unit's own scale, and one with a
	// scale word, which officials type as often.
	var alt []string
	if f := strings.Fields(valFold(ind.Unit)); len(f) > 0 && f[len(f)-1] == "dong" {
		switch unitScale(ind) {
		case 0:
			x, alt = 250000000, []string{"250 triệu", "1,5 tỷ"}
		case 3:
			x, alt = 850000, []string{"1,5 tỷ"}
		case 6:
			x, alt = 850, []string{"1,5 tỷ"}
		case 9:
			x, alt = 12.5, []string{"500 triệu"}
		}
		if lang == domain.English {
			for i := range alt {
				alt[i] = strings.NewReplacer(",", ".", "triệu", "million", "tỷ", "billion").Replace(alt[i])
			}
		}
	}
	if (ind.Min != nil && x < *ind.Min) || (ind.Max != nil && x > *ind.Max) {
		alt = nil
		lo, hi := 0.0, 0.0
		switch {
		case ind.Min != nil && ind.Max != nil:
			lo, hi = *ind.Min, *ind.Max
		case ind.Min != nil:
			lo, hi = *ind.Min, *ind.Min+10
		default:
			lo, hi = *ind.Max-10, *ind.Max
		}
		x = (lo + hi) / 2
		if ind.Type == domain.TypeInteger {
			x = float64(int64(x))
			if x < lo {
				x++
			}
		} else {
			x = float64(int64(x*100)) / 100
		}
	}
	ex := FormatValue(lang, ind, domain.Value{Type: ind.Type, Num: x})
	if alt != nil && ind.Type == domain.TypeInteger {
		return strings.Join(alt, valueMsgs[lang]["or"])
	}
	return strings.Join(append([]string{ex}, alt...), valueMsgs[lang]["or"])
}

// valEcho shows what the user typed inside a reply: invisible and control
// characters removed, white space collapsed, shortened.
func valEcho(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 30 {
		s = string(r[:30]) + "…"
	}
	return s
}

// WrittenAs reports whether written — a number as a document prints it,
// with the words after it ("1.234,5 triệu đồng", "1.234.500.000 đồng",
// "12,5%") — is the value canon of ind in one of its readings: either
// reading of an ambiguous number, and also in the unit's base when the unit
// starts with a scale word (đồng for "triệu đồng"). The range is not
// checked: the question is what the document says, not whether it is valid.
func WrittenAs(ind domain.Indicator, canon, written string) bool {
	if !ind.Type.Numeric() || !canonNumRE.MatchString(canon) {
		return false
	}
	neg := strings.HasPrefix(canon, "-")
	ip, fp, _ := strings.Cut(strings.TrimPrefix(canon, "-"), ".")
	want := newValDecimal(neg, ip, fp)
	ind.Min, ind.Max = nil, nil
	match := func(ind domain.Indicator, shift int) bool {
		readings, _, err := numberReadings(ind, written)
		if err != nil {
			return false
		}
		for _, d := range readings {
			if d.shift(shift) == want {
				return true
			}
		}
		return false
	}
	if match(ind, 0) {
		return true
	}
	if k := unitScale(ind); k > 0 {
		base := ind
		base.Unit = strings.Join(strings.Fields(ind.Unit)[1:], " ")
		return match(base, -k)
	}
	return false
}
