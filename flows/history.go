package flows

import (
	"strconv"
	"strings"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
)

// HistoryEntry is one real change of a submission, written for people:
// values formatted for the reader's language with their unit, never an
// internal version number. The chat and the staff console both show these.
type HistoryEntry struct {
	At       time.Time
	Who      string // the person's full name
	Action   string // "Lưu nháp", "Gửi", "Duyệt", "Trả lại"
	Change   string // "12,5% → 13%", or the value when only the status changed
	Evidence string // "2 minh chứng", with what changed: "2 minh chứng (+1)"
	Comment  string
}

// History turns an indicator's stored changes (oldest first) into the
// entries to show, newest first. A row that changed nothing a reader can
// see — a draft saved again with the same value and the same evidence, as
// each answered question of the chat saves one — is left out; submitting,
// approving and returning always count.
func History(lang domain.Lang, ind domain.Indicator, changes []domain.SubmissionChange, dir *domain.Directory) []HistoryEntry {
	var out []HistoryEntry
	prevEvidence := 0
	for i, c := range changes {
		evChanged := c.Evidence != prevEvidence
		delta := c.Evidence - prevEvidence
		prevEvidence = c.Evidence
		valueChanged := c.OldValue != c.NewValue
		if c.Action == "draft" && !valueChanged && !evChanged && c.Comment == "" && i > 0 {
			continue
		}
		e := HistoryEntry{At: c.At, Who: c.By, Action: t(lang, msg("hist_"+historyAction(c.Action))), Comment: c.Comment}
		if p, ok := dir.Person(c.By); ok {
			e.Who = p.FullName
		}
		switch {
		case valueChanged && c.OldValue == "":
			e.Change = ValueWithUnit(lang, ind, c.NewValue)
		case valueChanged:
			e.Change = ValueWithUnit(lang, ind, c.OldValue) + " → " + ValueWithUnit(lang, ind, c.NewValue)
		default:
			e.Change = ValueWithUnit(lang, ind, c.NewValue)
		}
		e.Evidence = t(lang, "hist_evidence", c.Evidence)
		if evChanged && i > 0 {
			sign := "+"
			if delta < 0 {
				sign = "−"
				delta = -delta
			}
			e.Evidence += " (" + sign + strconv.Itoa(delta) + ")"
		}
		out = append(out, e)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

func historyAction(a string) string {
	switch a {
	case "draft", "submit", "approve", "return":
		return a
	}
	return "other"
}

// RenderHistory writes an indicator's history for a chat, newest first, at
// most max entries.
func RenderHistory(lang domain.Lang, ind domain.Indicator, agency string, entries []HistoryEntry, loc *time.Location, max int) string {
	if len(entries) == 0 {
		return t(lang, "hist_none", ind.Code, agency)
	}
	var b strings.Builder
	b.WriteString(t(lang, "hist_head", ind.Code, agency))
	for i, e := range entries {
		if i == max {
			b.WriteString("\n" + t(lang, "review_more", len(entries)-max))
			break
		}
		at := e.At.In(loc)
		line := t(lang, "hist_line", FormatClock(at)+" "+at.Format("02/01/2006"), e.Action, e.Who, e.Change, e.Evidence)
		if e.Comment != "" {
			line += "\n    " + t(lang, "hist_comment", e.Comment)
		}
		b.WriteString("\n" + line)
	}
	return b.String()
}
