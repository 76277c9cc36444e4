package flows

import (
	"strings"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
)

// Reading is what the bot layer read in one evidence file, in the
// background after it was sent (package evidence). It reaches the flow as
// an input of kind InReading in the same chat; its text is not kept in the
// session.
type Reading struct {
	SHA256 string
	// Problem is why the file could not be read ("" when it was): one of
	// evidence.Unreadable's reasons.
	Problem string
	Pages   []string
}

// Buttons proposing what was read in the evidence.
const (
	btnDocFound  = "dn:found"
	btnDateFound = "dd:found"
)

// readingArrived tells the focal point what their evidence says and keeps
// the số/ký hiệu and date found to propose them. A reading for a file that
// is no longer in the working copy (they moved on, cleared it) says
// nothing: the reviewer still sees what was read.
func (r *stepper) readingArrived() {
	rd := r.in.Reading
	if rd == nil || r.f.Person == nil || !r.inEntry() || !r.isFocal() {
		return
	}
	w := r.work()
	ind, ok := r.f.Catalog.Indicator(w.Code)
	if !ok {
		return
	}
	name := ""
	for _, e := range w.Evidence {
		if e.SHA256 == rd.SHA256 && rd.SHA256 != "" {
			name = e.Name
		}
	}
	if name == "" {
		return
	}
	if rd.Problem != "" {
		key := msg("read_failed")
		if rd.Problem == "unavailable" {
			key = "read_unavailable"
		}
		r.say(r.t(key, clip(name, 40)))
		return
	}
	lines := []string{r.t("read_done", clip(name, 40))}
	if nums := DocNumbers(rd.Pages); len(nums) > 0 && w.FoundNo == "" {
		w.FoundNo = nums[0].Text
		lines = append(lines, r.t("read_docno", w.FoundNo, nums[0].Page))
	}
	if dates := DocDates(rd.Pages); len(dates) > 0 && w.FoundDate == "" {
		w.FoundDate = dates[0].Date.Format("2006-01-02")
		lines = append(lines, r.t("read_docdate", dates[0].Date.Format("02/01/2006"), dates[0].Page))
	}
	if w.Value != "" && ind.Type.Numeric() {
		if f, ok := FindValue(ind, w.Value, rd.Pages); ok {
			lines = append(lines, r.t("read_value_found", ValueWithUnit(r.s.Lang, ind, w.Value), f.Page, f.Line, clip(f.In, 80)))
		} else {
			lines = append(lines, r.t("read_value_missing", ValueWithUnit(r.s.Lang, ind, w.Value)))
		}
	}
	r.keep(w)
	r.say(strings.Join(lines, "\n"))
	// The question on screen gets its proposal now.
	switch {
	case r.s.State == stateIndDocNo && w.FoundNo != "":
		r.askDocNo(ind, w)
	case r.s.State == stateIndDocDate && w.FoundDate != "":
		r.askDocDate(w)
	}
}

func (r *stepper) askDocNo(ind domain.Indicator, w *work) {
	r.s.State = stateIndDocNo
	rows := r.skipRow(ind, btnDocSkip)
	text := r.t("ask_docno")
	if w.FoundNo != "" {
		text = r.t("docno_found", w.FoundNo)
		rows = append([][]Button{{{r.t("btn_use_found", clip(w.FoundNo, 40)), btnDocFound}}}, rows...)
	}
	r.say(text, rows...)
}

func (r *stepper) askDocDate(w *work) {
	r.s.State = stateIndDocDate
	if d, err := time.Parse("2006-01-02", w.FoundDate); err == nil && w.FoundDate != "" {
		shown := d.Format("02/01/2006")
		r.say(r.t("docdate_found", shown), []Button{{r.t("btn_use_found", shown), btnDateFound}})
		return
	}
	r.say(r.t("ask_docdate"))
}

// useFound takes the số/ký hiệu or date read in the evidence as the answer.
func (r *stepper) useFound(ind domain.Indicator, w *work, d string) {
	switch {
	case d == btnDocFound && r.s.State == stateIndDocNo && w.FoundNo != "":
		w.DocNumber, w.DocDone = w.FoundNo, true
	case d == btnDateFound && r.s.State == stateIndDocDate && w.FoundDate != "":
		date, err := time.Parse("2006-01-02", w.FoundDate)
		if err != nil || date.After(r.f.Now) {
			r.say(r.t("docdate_future"))
			return
		}
		w.DocDate = w.FoundDate
	default:
		r.say(r.t("stale_button"))
		r.next(w)
		return
	}
	r.saveWork(ind, w)
	r.next(w)
}
