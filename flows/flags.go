package flows

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
)

// Plausibility and review flags: pure checks of a value against last year,
// the catalog's soft range and the indicators a ratio is made of, and of a
// submission against what its evidence says. They warn; they never block.

// Flags a reviewer sees on an item.
const (
	FlagNoEvidence    = "no_evidence"     // required evidence missing
	FlagUnreadable    = "unreadable"      // an evidence file could not be read
	FlagValueNotFound = "value_not_found" // the value is in none of the files read
	FlagDocMismatch   = "doc_mismatch"    // số/ký hiệu or date differ from the document
	FlagBigChange     = "big_change"      // beyond the change limit from last year
	FlagOutOfRange    = "out_of_range"    // outside the soft range, over 100 %, or not its ratio
	FlagLate          = "late"            // sent after the deadline
)

// AllFlags lists the flags in the order they are shown.
var AllFlags = []string{FlagNoEvidence, FlagUnreadable, FlagValueNotFound, FlagDocMismatch, FlagBigChange, FlagOutOfRange, FlagLate}

// FlagLabel names a flag for people.
func FlagLabel(lang domain.Lang, flag string) string { return t(lang, msg("flag_"+flag)) }

// DefaultChangeLimit is the relative change from last year that warns
// when the catalog does not set one (±50 %).
const DefaultChangeLimit = 0.5

// warning is one soft warning about a value: its flag and its text.
type warning struct {
	flag string
	text string
}

// LastYearNumber reads an indicator's last-year value ("0,48", "7,12 (PCI
// 2022)"): the number it starts with.
func LastYearNumber(ind domain.Indicator) (float64, bool) {
	head, _ := splitNumber(strings.TrimSpace(ind.LastYear))
	if head == "" {
		return 0, false
	}
	readings, ok := readNumber(head)
	if !ok || len(readings) != 1 {
		return 0, false // ambiguous ("1.234"): no guess
	}
	f, err := strconv.ParseFloat(readings[0].String(), 64)
	return f, err == nil
}

// valueWarnings checks value canon of ind: change from last year, soft
// range, a percentage over 100, and the ratio of the catalog's numerator
// and denominator among subs (the agency's submissions by code).
func valueWarnings(lang domain.Lang, cat *domain.Catalog, ind domain.Indicator, canon string, subs map[string]domain.Submission) []warning {
	if !ind.Type.Numeric() {
		return nil
	}
	v, err := ParseCanon(ind, canon)
	if err != nil {
		return nil
	}
	num := func(f float64) string { return FormatValue(lang, ind, domain.Value{Type: ind.Type, Num: f}) }
	shown := num(v.Num)
	var out []warning
	if last, ok := LastYearNumber(ind); ok && last != 0 {
		limit := ind.ChangeLimit
		if limit <= 0 {
			limit = DefaultChangeLimit
		}
		ratio := v.Num / last
		change := math.Abs(v.Num-last) / math.Abs(last)
		if change > limit {
			var text string
			switch {
			case ratio >= 2:
				text = t(lang, "warn_times_up", shown, trimFloat(lang, ratio), num(last))
			case ratio > 0 && ratio <= 0.5:
				text = t(lang, "warn_times_down", shown, trimFloat(lang, 1/ratio), num(last))
			case v.Num > last:
				text = t(lang, "warn_up", shown, trimFloat(lang, change*100), num(last))
			default:
				text = t(lang, "warn_down", shown, trimFloat(lang, change*100), num(last))
			}
			out = append(out, warning{FlagBigChange, text})
		}
	}
	switch {
	case ind.Type == domain.TypePercent && v.Num > 100:
		out = append(out, warning{FlagOutOfRange, t(lang, "warn_over_100", shown)})
	case ind.SoftMin != nil && v.Num < *ind.SoftMin, ind.SoftMax != nil && v.Num > *ind.SoftMax:
		out = append(out, warning{FlagOutOfRange, t(lang, "warn_soft_range", shown, valBounds(lang, ind, ind.SoftMin, ind.SoftMax))})
	}
	if ind.Numerator != "" && ind.Denominator != "" {
		n, nok := subNumber(cat, ind.Numerator, subs)
		d, dok := subNumber(cat, ind.Denominator, subs)
		if nok && dok && d != 0 {
			want := n / d
			if ind.Type == domain.TypePercent {
				want *= 100
			}
			if math.Abs(v.Num-want) > 0.01*math.Max(math.Abs(want), 1e-9) {
				out = append(out, warning{FlagOutOfRange, t(lang, "warn_ratio", shown, ind.Numerator, ind.Denominator, num(want))})
			}
		}
	}
	return out
}

func subNumber(cat *domain.Catalog, code string, subs map[string]domain.Submission) (float64, bool) {
	s, ok := subs[code]
	ind, iok := cat.Indicator(code)
	if !ok || !iok || s.Value == "" {
		return 0, false
	}
	v, err := ParseCanon(ind, s.Value)
	return v.Num, err == nil && ind.Type.Numeric()
}

func trimFloat(lang domain.Lang, f float64) string {
	if f >= 10 {
		f = math.Round(f)
	} else {
		f = math.Round(f*10) / 10
	}
	return plainNumber(lang, f)
}

// ReviewFlags are the flags of a submission for the reviewer. texts holds
// what was read in its evidence files (by SHA256; files not read yet are
// absent); subs are the agency's submissions by code (for ratios).
func ReviewFlags(cat *domain.Catalog, s domain.Submission, texts map[string]domain.EvidenceText, subs map[string]domain.Submission) []string {
	ind, ok := cat.Indicator(s.Indicator)
	if !ok {
		return nil
	}
	set := map[string]bool{}
	if ind.Evidence && len(s.Evidence) == 0 {
		set[FlagNoEvidence] = true
	}
	var read [][]string
	for _, e := range s.Evidence {
		tx, ok := texts[e.SHA256]
		switch {
		case e.SHA256 == "" || !ok:
		case tx.Status != "ok":
			set[FlagUnreadable] = true
		default:
			read = append(read, tx.PageTexts())
		}
	}
	if len(read) > 0 {
		if ind.Type.Numeric() && s.Value != "" {
			found := false
			for _, pages := range read {
				if _, ok := FindValue(ind, s.Value, pages); ok {
					found = true
					break
				}
			}
			set[FlagValueNotFound] = !found
		}
		if s.DocNumber != "" || !s.DocDate.IsZero() {
			var nums []Found
			var dates []FoundDate
			for _, pages := range read {
				nums = append(nums, DocNumbers(pages)...)
				dates = append(dates, DocDates(pages)...)
			}
			if s.DocNumber != "" && len(nums) > 0 && !sameSymbol(s.DocNumber, nums) {
				set[FlagDocMismatch] = true
			}
			if !s.DocDate.IsZero() && len(dates) > 0 && !sameDate(s.DocDate, dates) {
				set[FlagDocMismatch] = true
			}
		}
	}
	if s.Value != "" {
		for _, w := range valueWarnings(domain.Vietnamese, cat, ind, s.Value, subs) {
			set[w.flag] = true
		}
	}
	if a, ok := cat.Assignment(s.Indicator, s.Agency); ok && !s.SubmittedAt.IsZero() && s.SubmittedAt.After(a.Deadline) {
		set[FlagLate] = true
	}
	var out []string
	for _, f := range AllFlags {
		if set[f] {
			out = append(out, f)
		}
	}
	return out
}

func sameSymbol(typed string, found []Found) bool {
	key := func(s string) string {
		return strings.ToUpper(normSymbol(strings.TrimPrefix(strings.TrimSpace(s), "Số:")))
	}
	for _, f := range found {
		if key(f.Text) == key(typed) {
			return true
		}
	}
	return false
}

func sameDate(d time.Time, found []FoundDate) bool {
	for _, f := range found {
		if f.Date.Equal(d.UTC().Truncate(24 * time.Hour)) {
			return true
		}
	}
	return false
}

// FlagsText lists flags for a chat message ("⚠️ thay đổi lớn; nộp muộn").
func FlagsText(lang domain.Lang, flags []string) string {
	if len(flags) == 0 {
		return ""
	}
	labels := make([]string, len(flags))
	for i, f := range flags {
		labels[i] = FlagLabel(lang, f)
	}
	return "⚠️ " + strings.Join(labels, "; ")
}

// warnBeforeSend shows the value's soft warnings once before it is sent,
// with "Đúng, vẫn gửi" (send as it is) and "Sửa"; true when it did.
func (r *stepper) warnBeforeSend(ind domain.Indicator, w *work) bool {
	if w.Warned == w.Value {
		return false
	}
	ws := valueWarnings(r.s.Lang, r.f.Catalog, ind, w.Value, r.f.Submissions)
	if len(ws) == 0 {
		return false
	}
	w.Warned = w.Value
	r.keep(w)
	lines := make([]string, 0, len(ws)+1)
	for _, x := range ws {
		lines = append(lines, x.text)
	}
	lines = append(lines, r.t("warn_check"))
	r.say(strings.Join(lines, "\n"), []Button{{r.t("btn_send_anyway"), btnSend}, {r.t("btn_fix"), btnEdit}})
	return true
}

// WantsReview says the step shows the review queue or an item of it: the
// only steps that show the flags read from evidence (Facts.EvidenceTexts),
// so the bot layer reads those texts for them alone.
func WantsReview(s Session, in Input) bool {
	switch in.Kind {
	case InCommand:
		return in.Command == "duyet" || in.Command == "review"
	case InButton:
		d := in.Data
		return d == btnReview || strings.HasPrefix(d, btnRvFlag) || strings.HasPrefix(d, btnRvPrefix) ||
			strings.HasPrefix(d, btnRvApprove) || strings.HasPrefix(d, btnRvReturn)
	}
	return s.State == stateRevComment
}

// queueFlags are the review flags of a queued item; ratios are checked
// against the same agency's items in the queue.
func (r *stepper) queueFlags(s domain.Submission) []string {
	subs := map[string]domain.Submission{}
	for _, q := range r.f.ReviewQueue {
		if q.Agency == s.Agency {
			subs[q.Indicator] = q
		}
	}
	return ReviewFlags(r.f.Catalog, s, r.f.EvidenceTexts, subs)
}

func (r *stepper) flagSuffix(s domain.Submission) string {
	if f := r.queueFlags(s); len(f) > 0 {
		return " " + FlagsText(r.s.Lang, f)
	}
	return ""
}

// evidenceNote tells the reviewer where the value is in the evidence (or
// that it is not) and the item's flags, under the review card.
func (r *stepper) evidenceNote(ind domain.Indicator, s domain.Submission) string {
	var lines []string
	if ind.Type.Numeric() && s.Value != "" {
		for _, e := range s.Evidence {
			tx, ok := r.f.EvidenceTexts[e.SHA256]
			if !ok || tx.Status != "ok" {
				continue
			}
			if f, ok := FindValue(ind, s.Value, tx.PageTexts()); ok {
				lines = append(lines, r.t("review_value_found", clip(e.Name, 40), f.Page, f.Line, clip(f.In, 80)))
				break
			}
		}
	}
	if f := r.queueFlags(s); len(f) > 0 {
		lines = append(lines, FlagsText(r.s.Lang, f))
	}
	if len(lines) == 0 {
		return ""
	}
	return "\n\n" + strings.Join(lines, "\n")
}

// flagNames lists the flags' names for a message ("thiếu minh chứng, …").
func (r *stepper) flagNames() string {
	names := make([]string, len(AllFlags))
	for i, f := range AllFlags {
		names[i] = FlagLabel(r.s.Lang, f)
	}
	return strings.Join(names, ", ")
}
