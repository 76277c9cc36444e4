package flows

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/dieuphoi/dieuphoi/domain"
)

// States of the indicator entry and review flows.
const (
	stateIndValue    = "ind_value"
	stateIndAmbig    = "ind_ambig"
	stateIndConfirm  = "ind_confirm"
	stateIndEvidence = "ind_evidence"
	stateIndDocNo    = "ind_docno"
	stateIndDocDate  = "ind_docdate"
	stateIndNote     = "ind_note"
	stateIndSummary  = "ind_summary"
	stateRevComment  = "rv_comment"
)

// Button payloads of the campaign flows.
const (
	btnIndicators = "menu:ind"
	btnReview     = "menu:review"
	btnExport     = "menu:export"
	btnIndPrefix  = "ind:"
	btnValPrefix  = "val:"
	btnValOK      = "iv:ok"
	btnValRedo    = "iv:redo"
	btnEvDone     = "ev:done"
	btnEvSkip     = "ev:skip"
	btnEvClear    = "ev:clear"
	btnDocSkip    = "dn:skip"
	btnNoteSkip   = "nt:skip"
	btnSend       = "sm:send"
	btnEdit       = "sm:edit"
	btnSaveDraft  = "sm:draft"
	btnEdPrefix   = "ed:"
	btnRvPrefix   = "rv:"
	btnRvApprove  = "ra:"
	btnRvReturn   = "rr:"
	btnRvFlag     = "rf:" // + a flag (flows.AllFlags), or "*" for the whole queue
	btnExPrefix   = "ex:"
	btnHistPrefix = "hs:"
)

// After this many wrong values in a row the bot offers to keep a draft.
const maxValueFails = 3

// work is the focal point's working copy of one indicator, kept in the
// session until it is sent.
type work struct {
	Code      string            `json:"c"`
	Value     string            `json:"v,omitempty"`
	Evidence  []domain.Evidence `json:"e,omitempty"`
	DocNumber string            `json:"n,omitempty"`
	DocDate   string            `json:"d,omitempty"` // 2006-01-02
	Note      string            `json:"o,omitempty"`
	NoteDone  bool              `json:"od,omitempty"`
	EvDone    bool              `json:"ed,omitempty"` // the evidence step is finished (or skipped when optional)
	DocDone   bool              `json:"dd,omitempty"` // the document number was given or skipped
	Pending   string            `json:"p,omitempty"`  // a parsed value awaiting confirmation
	Choices   []string          `json:"ch,omitempty"` // readings of an ambiguous value
	Back      bool              `json:"b,omitempty"`  // return to the summary after this field
	Group     string            `json:"g,omitempty"`  // album being received
	FoundNo   string            `json:"fn,omitempty"` // số/ký hiệu read in the evidence, proposed
	FoundDate string            `json:"fd,omitempty"` // its date (2006-01-02), proposed
	Warned    string            `json:"wv,omitempty"` // the value whose soft warnings were shown before sending
	Version   int               `json:"ver"`          // the stored version this copy started from
}

func (r *stepper) work() *work {
	var w work
	if raw := r.s.Draft["w"]; raw != "" {
		_ = json.Unmarshal([]byte(raw), &w)
	}
	return &w
}

func (r *stepper) keep(w *work) {
	raw, _ := json.Marshal(w)
	if r.s.Draft == nil {
		r.s.Draft = map[string]string{}
	}
	r.s.Draft["w"] = string(raw)
}

// --- listing ------------------------------------------------------------------

// isFocal and isStaff: the role from the people list, on a verified link
// (SECURITY.md); a typed code or invite link gives delegate functions only.
func (r *stepper) isFocal() bool {
	return r.f.Person != nil && r.verified() && r.hasFocalWork(*r.f.Person)
}

func (r *stepper) isStaff() bool {
	return r.f.Person != nil && r.verified() && r.f.Person.Has(domain.RoleStaff)
}

func (r *stepper) itemStatus(code string) domain.SubmissionStatus {
	if s, ok := r.f.Submissions[code]; ok {
		return s.Status
	}
	return domain.StatusEmpty
}

func statusLabel(lang domain.Lang, s domain.SubmissionStatus) string {
	if s == "" {
		s = domain.StatusEmpty
	}
	return t(lang, msg("ist_"+string(s)))
}

// StatusLabel names a submission's status as the chat does ("chưa nhập",
// "đã gửi"…), capitalised when it starts a cell or a line.
func StatusLabel(lang domain.Lang, s domain.SubmissionStatus, capital bool) string {
	l := statusLabel(lang, s)
	if !capital || l == "" {
		return l
	}
	r, n := utf8.DecodeRuneInString(l)
	return string(unicode.ToUpper(r)) + l[n:]
}

var statusIcon = map[domain.SubmissionStatus]string{
	domain.StatusEmpty: "⚪", domain.StatusDraft: "📝", domain.StatusSubmitted: "📨", domain.StatusReturned: "↩️", domain.StatusApproved: "✅",
}

// urgency orders what needs doing first: returned items, then the unfinished
// by deadline, then what is sent and approved.
var urgency = map[domain.SubmissionStatus]int{
	domain.StatusReturned: 0, domain.StatusEmpty: 1, domain.StatusDraft: 1, domain.StatusSubmitted: 2, domain.StatusApproved: 3,
}

func (r *stepper) indicatorList() {
	if r.needsProof(domain.RoleFocal) {
		return
	}
	if !r.isFocal() {
		r.say(r.t("not_focal", r.helpdesk()), r.menuButtons()...)
		return
	}
	if r.needsCampaign() {
		return
	}
	as := r.f.Catalog.ForAgency(r.f.Person.AgencyCode)
	sort.SliceStable(as, func(i, j int) bool {
		ui, uj := urgency[r.itemStatus(as[i].Indicator)], urgency[r.itemStatus(as[j].Indicator)]
		if ui != uj {
			return ui < uj
		}
		return as[i].Deadline.Before(as[j].Deadline)
	})
	var b strings.Builder
	if name := r.campaignName(); name != "" {
		b.WriteString(r.t("campaign_line", name) + "\n")
	}
	b.WriteString(r.t("ind_list_head", r.agencyName(r.f.Person.AgencyCode)))
	var rows [][]Button
	done, mine := 0, 0
	for i, a := range as {
		ind, _ := r.f.Catalog.Indicator(a.Indicator)
		st := r.itemStatus(a.Indicator)
		if st == domain.StatusSubmitted || st == domain.StatusApproved {
			done++
		}
		fmt.Fprintf(&b, "\n%d. %s %s — %s\n    %s · %s", i+1, statusIcon[st], ind.Code, clip(ind.Name(r.s.Lang), 70),
			statusLabel(r.s.Lang, st), r.deadlineText(a.Deadline))
		// Any focal point of the agency may enter its items; the one named
		// on the assignment is reminded and answers for it, so say who.
		if named(a, r.f.Person.ID) {
			mine++
		} else if who := r.focalNames(a); who != "" {
			fmt.Fprintf(&b, "\n    %s", r.t("ind_responsible", who))
		}
		rows = append(rows, []Button{{statusIcon[st] + " " + ind.Code + " " + clip(ind.Name(r.s.Lang), 28), btnIndPrefix + ind.Code}})
	}
	fmt.Fprintf(&b, "\n\n%s", r.t("ind_list_foot", done, len(as)))
	if mine < len(as) {
		fmt.Fprintf(&b, "\n%s", r.t("ind_list_shared", mine))
	}
	if r.multiCampaign() {
		rows = append(rows, []Button{{r.t("btn_campaigns"), btnCampaigns}})
	}
	r.say(b.String(), rows...)
}

// named reports whether person id is named on assignment a.
func named(a domain.Assignment, id string) bool {
	for _, f := range a.Focal {
		if f == id {
			return true
		}
	}
	return false
}

// focalNames lists the full names of the focal points named on a.
func (r *stepper) focalNames(a domain.Assignment) string {
	var names []string
	for _, id := range a.Focal {
		if p, ok := r.f.Directory.Person(id); ok {
			names = append(names, p.FullName)
		}
	}
	return strings.Join(names, ", ")
}

func (r *stepper) deadlineText(d time.Time) string {
	days := domain.DaysUntil(r.f.Now, d, r.loc())
	switch {
	case !r.f.Now.Before(d):
		return r.t("deadline_over", r.dateTime(d))
	case days == 0:
		return r.t("deadline_today", r.dateTime(d))
	case days == 1:
		return r.t("deadline_tomorrow", r.dateTime(d))
	default:
		return r.t("deadline_in", r.dateTime(d), days)
	}
}

// --- choosing an indicator ------------------------------------------------------

// openIndicator starts (or resumes) entering an indicator, after checking
// that this person may.
func (r *stepper) openIndicator(code string) {
	if r.needsProof(domain.RoleFocal) || r.needsCampaign() {
		return
	}
	ind, ok := r.f.Catalog.Indicator(code)
	if !ok || !r.f.Catalog.MayEdit(*r.f.Person, code, r.f.Person.AgencyCode) {
		r.reset()
		r.refused = "indicator " + clip(code, 20) + " is not this person's agency's"
		r.say(r.t("not_your_indicator", clip(code, 20)))
		if r.isFocal() {
			r.indicatorList()
		}
		return
	}
	a, _ := r.f.Catalog.Assignment(code, r.f.Person.AgencyCode)
	sub, stored := r.f.Submissions[code]
	st := r.itemStatus(code)
	if st == domain.StatusApproved {
		r.reset()
		r.say(r.t("ind_approved", ind.Code, ValueWithUnit(r.s.Lang, ind, sub.Value)), []Button{{r.t("btn_indicators"), btnIndicators}})
		return
	}
	if st == domain.StatusSubmitted && !r.f.Now.Before(a.Deadline) {
		r.reset()
		r.say(r.t("ind_locked", ind.Code, r.dateTime(a.Deadline), r.helpdesk()), []Button{{r.t("btn_indicators"), btnIndicators}})
		return
	}
	// Resume the working copy of this indicator when there is one.
	w := r.work()
	if w.Code != code || r.s.State == stateIdle {
		w = &work{Code: code}
		if stored {
			w.Value, w.Evidence, w.DocNumber, w.Note, w.Version = sub.Value, sub.Evidence, sub.DocNumber, sub.Note, sub.Version
			w.NoteDone = sub.Note != "" || sub.Status != domain.StatusDraft
			// A draft resumes at the evidence question until the user moved
			// past it (gave the document number); sent items are complete.
			w.EvDone = sub.Status != domain.StatusDraft || sub.DocNumber != ""
			w.DocDone = sub.DocNumber != "" || (sub.Status != domain.StatusDraft && !ind.Evidence)
			if !sub.DocDate.IsZero() {
				w.DocDate = sub.DocDate.Format("2006-01-02")
			}
		}
	}
	r.s.Fails = 0
	r.keep(w)
	var hist [][]Button
	if stored {
		hist = [][]Button{{{r.t("btn_history"), btnHistPrefix + code + "|" + r.f.Person.AgencyCode}}}
	}
	r.say(r.indicatorCard(ind, a, sub, stored), hist...)
	r.next(w)
}

func (r *stepper) indicatorCard(ind domain.Indicator, a domain.Assignment, sub domain.Submission, stored bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "📊 %s — %s\n", ind.Code, ind.Name(r.s.Lang))
	if g := ind.Guidance(r.s.Lang); g != "" {
		fmt.Fprintf(&b, "%s\n", g)
	}
	fmt.Fprintf(&b, "\n%s", r.t("ind_facts", orDash(ind.Unit), ind.RefYear, r.deadlineText(a.Deadline)))
	if !named(a, r.f.Person.ID) {
		if who := r.focalNames(a); who != "" {
			fmt.Fprintf(&b, "\n%s", r.t("ind_responsible", who))
		}
	}
	if ind.LastYear != "" {
		fmt.Fprintf(&b, "\n%s", r.t("ind_last_year", ind.LastYear))
	}
	if stored {
		fmt.Fprintf(&b, "\n%s", r.t("ind_current", statusLabel(r.s.Lang, sub.Status), ValueWithUnit(r.s.Lang, ind, sub.Value)))
		if sub.Status == domain.StatusReturned && sub.ReviewNote != "" {
			fmt.Fprintf(&b, "\n%s", r.t("ind_returned_note", sub.ReviewNote))
		}
	}
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// next asks the first question the working copy has no answer to yet, or
// shows the summary.
func (r *stepper) next(w *work) {
	ind, _ := r.f.Catalog.Indicator(w.Code)
	switch {
	case w.Back:
		w.Back = false
		r.keep(w)
		r.summary(w)
	case w.Value == "":
		r.askValue(ind)
	case !w.EvDone:
		r.askEvidence(ind, w)
	case len(w.Evidence) > 0 && !w.DocDone:
		r.askDocNo(ind, w)
	case w.DocDate == "" && w.DocNumber != "":
		r.askDocDate(w)
	case !w.NoteDone:
		r.s.State = stateIndNote
		r.say(r.t("ask_note"), []Button{{r.t("btn_skip"), btnNoteSkip}})
	default:
		r.summary(w)
	}
}

func (r *stepper) skipRow(ind domain.Indicator, data string) [][]Button {
	if ind.Evidence {
		return nil
	}
	return [][]Button{{{r.t("btn_skip"), data}}}
}

func (r *stepper) askValue(ind domain.Indicator) {
	r.s.State = stateIndValue
	r.say(r.askValueText(ind), []Button{{r.t("btn_save_draft"), btnSaveDraft}})
}

// askValueText asks for the value with an example chosen by the
// indicator's type, unit and range.
func (r *stepper) askValueText(ind domain.Indicator) string {
	text := r.t("ask_value", ind.Code, orDash(ind.Unit))
	if ex := valExample(r.s.Lang, ind); ex != "" {
		text += " " + r.t("ask_value_example", ex)
	}
	return text
}

// cancelEntry leaves the indicator being entered, saying truthfully what
// is kept, and shows the list again.
func (r *stepper) cancelEntry() {
	w := r.work()
	ind, ok := r.f.Catalog.Indicator(w.Code)
	r.reset()
	switch {
	case !ok:
		r.say(r.t("cancelled"))
	case r.itemStatus(w.Code) == domain.StatusSubmitted:
		r.say(r.t("entry_left_sent", ind.Code))
	case w.Value != "" || len(w.Evidence) > 0:
		r.say(r.t("entry_left_draft", ind.Code))
	default:
		r.say(r.t("entry_left_empty", ind.Code))
	}
	r.indicatorList()
}

func (r *stepper) askEvidence(ind domain.Indicator, w *work) {
	r.s.State = stateIndEvidence
	key := msg("ask_evidence")
	if !ind.Evidence {
		key = "ask_evidence_optional"
	}
	text := r.t(key)
	if len(w.Evidence) > 0 {
		// Resuming: say what is already kept, so nothing is sent twice.
		text = r.t("evidence_kept", len(w.Evidence), r.evidenceList(w.Evidence, w.Code, r.f.Person.AgencyCode)) + "\n\n" + r.t("evidence_more")
	}
	r.say(text, r.evidenceButtons(ind, w)...)
}

func (r *stepper) evidenceButtons(ind domain.Indicator, w *work) [][]Button {
	var row []Button
	if len(w.Evidence) > 0 {
		row = append(row, Button{r.t("btn_ev_done"), btnEvDone}, Button{r.t("btn_ev_clear"), btnEvClear})
	} else if !ind.Evidence {
		row = append(row, Button{r.t("btn_skip"), btnEvSkip})
	}
	if len(row) == 0 {
		return nil
	}
	return [][]Button{row}
}

// --- answers -----------------------------------------------------------------------

func (r *stepper) indicatorAnswer() {
	if !r.isFocal() {
		// A form left open by a chat that no longer may (its link was
		// unverified or its role removed since).
		if !r.needsProof(domain.RoleFocal) {
			r.reset()
			r.menu()
		}
		return
	}
	w := r.work()
	ind, ok := r.f.Catalog.Indicator(w.Code)
	if !ok {
		r.reset()
		r.indicatorList()
		return
	}
	switch r.s.State {
	case stateIndValue, stateIndAmbig, stateIndConfirm:
		// A typed "đúng"/"không" at the read-back of a number or date is
		// the answer to the question, as the buttons would be.
		if r.s.State == stateIndConfirm && r.in.Kind == InText && (ind.Type.Numeric() || ind.Type == domain.TypeDate) && !hasDigit(r.in.Text) {
			if yn, err := parseYesNo(r.in.Text); err == nil {
				r.in = Input{Kind: InButton, Data: btnValRedo}
				if yn.Bool {
					r.in.Data = btnValOK
				}
				r.entryButton(r.in.Data)
				return
			}
		}
		// While a reading is asked back or confirmed, a newly typed value
		// replaces it: nobody has to scroll up to an earlier message.
		r.valueAnswer(ind, w)
	case stateIndSummary:
		r.say(r.t("use_buttons"), r.summaryButtons())
	case stateIndEvidence:
		r.evidenceAnswer(ind, w)
	case stateIndDocNo:
		if r.in.Kind != InText {
			r.say(r.t("text_expected", r.t("ask_docno")))
			return
		}
		no := strings.Join(strings.Fields(r.in.Text), " ")
		if utf8.RuneCountInString(no) < 2 || utf8.RuneCountInString(no) > 60 {
			r.say(r.t("bad_docno"))
			return
		}
		w.DocNumber, w.DocDone = no, true
		r.saveWork(ind, w)
		r.next(w)
	case stateIndDocDate:
		if r.in.Kind != InText {
			r.say(r.t("text_expected", r.t("ask_docdate")))
			return
		}
		v, verr := ParseValue(domain.Indicator{Type: domain.TypeDate}, r.in.Text)
		if verr != nil {
			r.say(verr.Message(r.s.Lang, domain.Indicator{Type: domain.TypeDate}))
			return
		}
		if v.Date.After(r.f.Now) {
			r.say(r.t("docdate_future"))
			return
		}
		w.DocDate = v.Date.Format("2006-01-02")
		r.saveWork(ind, w)
		r.next(w)
	case stateIndNote:
		if r.in.Kind != InText {
			r.say(r.t("text_expected", r.t("ask_note")))
			return
		}
		note := strings.TrimSpace(r.in.Text)
		if utf8.RuneCountInString(note) > 1000 {
			r.say(r.t("note_too_long"))
			return
		}
		w.Note, w.NoteDone = note, true
		r.saveWork(ind, w)
		r.next(w)
	}
}

func (r *stepper) valueAnswer(ind domain.Indicator, w *work) {
	if r.in.Kind != InText {
		r.say(r.t("text_expected", r.askValueText(ind)), r.pendingButtons(ind, w)...)
		return
	}
	v, verr := ParseValue(ind, r.in.Text)
	if verr != nil {
		if verr.Kind == "ambiguous" && len(verr.Choices) > 0 {
			w.Choices, w.Pending = nil, ""
			for _, c := range verr.Choices {
				w.Choices = append(w.Choices, c.Canon)
			}
			r.keep(w)
			r.s.State = stateIndAmbig
			text := r.t("value_ambiguous", valEcho(r.in.Text)) + "\n" + r.t("value_ambiguous_hint")
			if len(verr.Choices) == 1 { // the other reading is out of range
				text = verr.Message(r.s.Lang, ind)
			}
			r.say(text, r.choiceButtons(ind, w)...)
			return
		}
		r.s.Fails++
		text := verr.Message(r.s.Lang, ind)
		if r.s.Fails >= maxValueFails {
			r.say(text+"\n\n"+r.t("value_help", r.helpdesk()),
				[]Button{{r.t("btn_save_draft"), btnSaveDraft}, {r.t("btn_cancel"), btnSubCancel}})
			return
		}
		// The question still stands: its buttons come with the answer.
		r.say(text, r.pendingButtons(ind, w)...)
		return
	}
	r.s.Fails = 0
	r.confirmValue(ind, w, v)
}

// choiceButtons are the readings of an ambiguous value, one button each.
func (r *stepper) choiceButtons(ind domain.Indicator, w *work) [][]Button {
	var row []Button
	for i, c := range w.Choices {
		v, err := ParseCanon(ind, c)
		if err != nil {
			continue
		}
		row = append(row, Button{choiceLabel(r.s.Lang, v), btnValPrefix + strconv.Itoa(i)})
	}
	if len(row) == 0 {
		return nil
	}
	return [][]Button{row}
}

// pendingButtons repeat the buttons of the question still open: the
// readings of an ambiguous value, or the read-back's confirm buttons.
func (r *stepper) pendingButtons(ind domain.Indicator, w *work) [][]Button {
	switch {
	case r.s.State == stateIndAmbig:
		return r.choiceButtons(ind, w)
	case r.s.State == stateIndConfirm && w.Pending != "":
		return [][]Button{{{r.t("btn_value_ok"), btnValOK}, {r.t("btn_value_redo"), btnValRedo}}}
	}
	return [][]Button{{{r.t("btn_save_draft"), btnSaveDraft}}}
}

func (r *stepper) confirmValue(ind domain.Indicator, w *work, v domain.Value) {
	w.Pending, w.Choices = v.Canon, nil
	r.keep(w)
	r.s.State = stateIndConfirm
	r.say(r.t("value_readback", valueUnit(r.s.Lang, ind, v)),
		[]Button{{r.t("btn_value_ok"), btnValOK}, {r.t("btn_value_redo"), btnValRedo}})
}

// maxEvidence is how many files and links one indicator keeps.
const maxEvidence = 20

// hasEvidence reports whether list already holds e: the same file (by
// SHA-256) or the same link.
func hasEvidence(list []domain.Evidence, e domain.Evidence) bool {
	for _, x := range list {
		if (e.SHA256 != "" && x.SHA256 == e.SHA256) || (e.Link != "" && x.Link == e.Link) {
			return true
		}
	}
	return false
}

func (r *stepper) evidenceAnswer(ind domain.Indicator, w *work) {
	switch r.in.Kind {
	case InFile:
		var bad []string
		added := 0
		for _, f := range r.in.Files {
			if f.Problem != "" || f.SHA256 == "" {
				problem := f.Problem
				if problem == "" {
					problem = "fetch_failed"
				}
				bad = append(bad, r.t(msg("file_"+problem), clip(f.Name, 40)))
				continue
			}
			if hasEvidence(w.Evidence, domain.Evidence{SHA256: f.SHA256}) {
				bad = append(bad, r.t("evidence_duplicate", clip(f.Name, 40)))
				continue
			}
			if len(w.Evidence) >= maxEvidence {
				bad = append(bad, r.t("file_too_many"))
				break
			}
			w.Evidence = append(w.Evidence, domain.Evidence{SHA256: f.SHA256, Name: evidenceName(f), MIME: f.MIME, Size: f.Size, Group: f.GroupID})
			added++
		}
		sameAlbum := added > 0 && len(bad) == 0 && r.in.Files[0].GroupID != "" && r.in.Files[0].GroupID == w.Group
		if added > 0 {
			w.Group = r.in.Files[0].GroupID
			r.saveWork(ind, w)
		}
		if sameAlbum {
			return // the rest of an album: one answer for the whole set
		}
		text := strings.Join(bad, "\n")
		if added > 0 {
			text = strings.TrimSpace(r.t("evidence_added", len(w.Evidence)) + "\n" + text)
		}
		r.say(text, r.evidenceButtons(ind, w)...)
	case InText:
		link := strings.TrimSpace(r.in.Text)
		u, err := url.Parse(link)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(link) > 500 || strings.ContainsAny(link, " \n") {
			r.say(r.t("evidence_expected"), r.evidenceButtons(ind, w)...)
			return
		}
		// A link sent twice is kept once, and links count against the same
		// limit as files: the draft stays small whatever is pasted.
		if hasEvidence(w.Evidence, domain.Evidence{Link: link}) {
			r.say(r.t("evidence_duplicate", clip(link, 60)), r.evidenceButtons(ind, w)...)
			return
		}
		if len(w.Evidence) >= maxEvidence {
			r.say(r.t("file_too_many"), r.evidenceButtons(ind, w)...)
			return
		}
		w.Evidence = append(w.Evidence, domain.Evidence{Link: link})
		r.saveWork(ind, w)
		r.say(r.t("evidence_added", len(w.Evidence)), r.evidenceButtons(ind, w)...)
	default:
		r.say(r.t("evidence_expected"), r.evidenceButtons(ind, w)...)
	}
}

// WantsFiles reports whether the chat is waiting for evidence files from a
// focal point. The bot layer downloads and stores files only then: any
// other file gets the flow's "no file is needed" answer and costs no disk.
func WantsFiles(s Session, f Facts) bool {
	return f.Person != nil && f.Person.Has(domain.RoleFocal) && s.State == stateIndEvidence || wantsTaskFile(s, f)
}

func evidenceName(f FileRef) string {
	if f.Name != "" {
		return f.Name
	}
	ext := ".jpg"
	switch f.MIME {
	case "image/png":
		ext = ".png"
	case "application/pdf":
		ext = ".pdf"
	}
	return "anh-" + f.SHA256[:8] + ext
}

// saveWork keeps the working copy and, unless the item was already sent,
// stores it as a draft: what the user confirmed survives a lost session.
func (r *stepper) saveWork(ind domain.Indicator, w *work) {
	r.keep(w)
	if r.itemStatus(w.Code) == domain.StatusSubmitted {
		return // a sent value stays sent until the change is sent too
	}
	if r.changedMeanwhile(w) {
		// Not stored: say so; the entry goes on from what is stored now.
		r.conflict(ind, w, nil)
		return
	}
	r.effects = append(r.effects, domain.SaveSubmission{Submission: r.submission(w), Action: "draft", ExpectVersion: w.Version, CampaignID: r.f.CampaignID})
	w.Version++
	r.keep(w)
}

// changedMeanwhile reports whether the stored item moved on since the
// working copy was taken from it (another focal point of the agency saved or
// sent it, or staff reviewed it): storing the copy now would overwrite that
// unseen, so the store would refuse it.
func (r *stepper) changedMeanwhile(w *work) bool {
	return r.f.Submissions[w.Code].Version != w.Version
}

// conflict tells the user plainly that what they just did was not stored
// because the item changed meanwhile, shows what is stored now and by whom,
// and offers to redo it on top of that (redo: the button that does it again;
// nil when the entry simply goes on). The working copy keeps their answers
// and now starts from the stored version, so redoing is a choice made
// knowing what it replaces.
func (r *stepper) conflict(ind domain.Indicator, w *work, redo *Button) {
	sub := r.f.Submissions[w.Code]
	who := sub.By
	if (sub.Status == domain.StatusReturned || sub.Status == domain.StatusApproved) && sub.ReviewedBy != "" {
		who = sub.ReviewedBy
	}
	name := r.t("someone_else")
	if p, ok := r.f.Directory.Person(who); ok {
		name = p.FullName
	}
	yours := w.Value
	if w.Pending != "" {
		yours = w.Pending
	}
	r.say(r.t("conflict", ind.Code, name, ValueWithUnit(r.s.Lang, ind, sub.Value), statusLabel(r.s.Lang, sub.Status), ValueWithUnit(r.s.Lang, ind, yours)))
	a, _ := r.f.Catalog.Assignment(ind.Code, r.f.Person.AgencyCode)
	switch {
	case sub.Status == domain.StatusApproved:
		r.reset()
		r.say(r.t("ind_approved", ind.Code, ValueWithUnit(r.s.Lang, ind, sub.Value)), []Button{{r.t("btn_indicators"), btnIndicators}})
		return
	case sub.Status == domain.StatusSubmitted && !r.f.Now.Before(a.Deadline):
		r.reset()
		r.say(r.t("ind_locked", ind.Code, r.dateTime(a.Deadline), r.helpdesk()), []Button{{r.t("btn_indicators"), btnIndicators}})
		return
	}
	w.Version = sub.Version
	r.keep(w)
	keep := Button{r.t("btn_keep_stored"), btnIndicators}
	if redo == nil {
		r.say(r.t("conflict_continue"), []Button{keep})
		return
	}
	r.say(r.t("conflict_redo", redo.Label), []Button{*redo, keep})
}

func (r *stepper) submission(w *work) domain.Submission {
	s := domain.Submission{Indicator: w.Code, Agency: r.f.Person.AgencyCode, Value: w.Value, Note: w.Note,
		DocNumber: w.DocNumber, Evidence: w.Evidence, By: r.f.Person.ID}
	if d, err := time.Parse("2006-01-02", w.DocDate); err == nil {
		s.DocDate = d
	}
	return s
}

// --- buttons of the campaign flows ----------------------------------------------------

// campaignButton handles the campaign's buttons; false when data is not one.
func (r *stepper) campaignButton() bool {
	d := r.in.Data
	switch {
	case d == btnIndicators:
		r.reset()
		r.indicatorList()
	case strings.HasPrefix(d, btnIndPrefix):
		if r.s.State == stateIdle || r.work().Code != strings.TrimPrefix(d, btnIndPrefix) {
			r.reset()
		}
		r.openIndicator(strings.TrimPrefix(d, btnIndPrefix))
	case d == btnReview:
		r.reset()
		r.reviewQueue()
	case strings.HasPrefix(d, btnRvFlag):
		r.reset()
		r.reviewQueueFlag(strings.TrimPrefix(d, btnRvFlag))
	case d == btnExport:
		r.exportMenu()
	case strings.HasPrefix(d, btnExPrefix):
		r.export(strings.TrimPrefix(d, btnExPrefix))
	case strings.HasPrefix(d, btnHistPrefix):
		r.history(strings.TrimPrefix(d, btnHistPrefix))
	case strings.HasPrefix(d, btnRvPrefix), strings.HasPrefix(d, btnRvApprove), strings.HasPrefix(d, btnRvReturn):
		r.reviewButton(d)
	case strings.HasPrefix(d, btnValPrefix), d == btnValOK, d == btnValRedo, d == btnEvDone, d == btnEvSkip, d == btnEvClear,
		d == btnDocSkip, d == btnDocFound, d == btnDateFound, d == btnNoteSkip, d == btnSend, d == btnEdit, d == btnSaveDraft, strings.HasPrefix(d, btnEdPrefix):
		r.entryButton(d)
	default:
		return false
	}
	return true
}

func (r *stepper) inEntry() bool { return strings.HasPrefix(r.s.State, "ind_") }

func (r *stepper) entryButton(d string) {
	if !r.inEntry() || !r.isFocal() {
		r.say(r.t("stale_button"))
		r.menu()
		return
	}
	w := r.work()
	ind, ok := r.f.Catalog.Indicator(w.Code)
	if !ok || !r.f.Catalog.MayEdit(*r.f.Person, w.Code, r.f.Person.AgencyCode) {
		r.reset()
		r.refused = "indicator " + clip(w.Code, 20) + " is not this person's agency's"
		r.say(r.t("not_your_indicator", clip(w.Code, 20)))
		return
	}
	switch {
	case strings.HasPrefix(d, btnValPrefix):
		i, err := strconv.Atoi(strings.TrimPrefix(d, btnValPrefix))
		if r.s.State != stateIndAmbig || err != nil || i < 0 || i >= len(w.Choices) {
			r.say(r.t("stale_button"))
			r.next(w)
			return
		}
		v, err := ParseCanon(ind, w.Choices[i])
		if err != nil {
			r.askValue(ind)
			return
		}
		r.confirmValue(ind, w, v)
	case d == btnValOK:
		if r.s.State != stateIndConfirm || w.Pending == "" {
			r.say(r.t("stale_button"))
			r.next(w)
			return
		}
		w.Value, w.Pending = w.Pending, ""
		r.saveWork(ind, w)
		r.next(w)
	case d == btnValRedo:
		w.Pending = ""
		r.keep(w)
		r.askValue(ind)
	case d == btnEvDone:
		if len(w.Evidence) == 0 {
			r.say(r.t("evidence_required"))
			return
		}
		w.EvDone, w.Group = true, ""
		r.keep(w)
		r.next(w)
	case d == btnEvSkip:
		if ind.Evidence {
			r.say(r.t("evidence_required"))
			return
		}
		w.EvDone, w.DocDone, w.Evidence, w.DocNumber, w.DocDate = true, true, nil, "", ""
		r.saveWork(ind, w)
		r.next(w)
	case d == btnEvClear:
		w.Evidence, w.Group, w.EvDone, w.FoundNo, w.FoundDate = nil, "", false, "", ""
		r.saveWork(ind, w)
		r.askEvidence(ind, w)
	case d == btnDocSkip:
		if ind.Evidence {
			r.say(r.t("ask_docno"))
			return
		}
		w.DocDone, w.DocNumber, w.DocDate = true, "", ""
		r.saveWork(ind, w)
		r.next(w)
	case d == btnDocFound, d == btnDateFound:
		r.useFound(ind, w, d)
	case d == btnNoteSkip:
		w.NoteDone = true
		r.saveWork(ind, w)
		r.next(w)
	case d == btnEdit:
		r.s.State = stateIndSummary
		r.say(r.t("edit_which"), [][]Button{
			{{r.t("btn_ed_value"), btnEdPrefix + "value"}, {r.t("btn_ed_evidence"), btnEdPrefix + "evidence"}},
			{{r.t("btn_ed_doc"), btnEdPrefix + "doc"}, {r.t("btn_ed_note"), btnEdPrefix + "note"}},
		}...)
	case strings.HasPrefix(d, btnEdPrefix):
		w.Back = true
		r.keep(w)
		switch strings.TrimPrefix(d, btnEdPrefix) {
		case "value":
			r.askValue(ind)
		case "evidence":
			w.EvDone = false
			r.keep(w)
			r.askEvidence(ind, w)
		case "doc":
			r.askDocNo(ind, w)
		default:
			r.s.State = stateIndNote
			r.say(r.t("ask_note"), []Button{{r.t("btn_skip"), btnNoteSkip}})
		}
	case d == btnSaveDraft:
		if r.itemStatus(w.Code) != domain.StatusSubmitted && r.changedMeanwhile(w) {
			r.conflict(ind, w, &Button{r.t("btn_draft_mine"), btnSaveDraft})
			return
		}
		if r.itemStatus(w.Code) != domain.StatusSubmitted { // a sent value is not turned back into a draft
			r.effects = append(r.effects, domain.SaveSubmission{Submission: r.submission(w), Action: "draft", ExpectVersion: w.Version, CampaignID: r.f.CampaignID})
		}
		r.reset()
		r.say(r.t("draft_saved", ind.Code), []Button{{r.t("btn_indicators"), btnIndicators}})
	case d == btnSend:
		r.send(ind, w)
	}
}

func (r *stepper) summary(w *work) {
	ind, _ := r.f.Catalog.Indicator(w.Code)
	r.s.State = stateIndSummary
	evText := orDash(r.evidenceList(w.Evidence, w.Code, r.f.Person.AgencyCode))
	if len(w.Evidence) > 0 {
		evText = "\n" + evText
	}
	docDate := "—"
	if d, err := time.Parse("2006-01-02", w.DocDate); err == nil {
		docDate = d.Format("02/01/2006")
	}
	r.say(r.t("summary", ind.Code, ind.Name(r.s.Lang), ValueWithUnit(r.s.Lang, ind, w.Value), evText, orDash(w.DocNumber), docDate, orDash(w.Note)),
		r.summaryButtons())
}

func (r *stepper) summaryButtons() []Button {
	return []Button{{r.t("btn_send"), btnSend}, {r.t("btn_edit"), btnEdit}, {r.t("btn_save_draft"), btnSaveDraft}}
}

func (r *stepper) send(ind domain.Indicator, w *work) {
	if r.s.State != stateIndSummary {
		r.say(r.t("stale_button"))
		r.next(w)
		return
	}
	if w.Value == "" || (ind.Evidence && len(w.Evidence) == 0) {
		r.next(w)
		return
	}
	a, _ := r.f.Catalog.Assignment(ind.Code, r.f.Person.AgencyCode)
	if r.itemStatus(w.Code) == domain.StatusSubmitted && !r.f.Now.Before(a.Deadline) {
		r.reset()
		r.say(r.t("ind_locked", ind.Code, r.dateTime(a.Deadline), r.helpdesk()))
		return
	}
	if r.changedMeanwhile(w) {
		r.conflict(ind, w, &Button{r.t("btn_send_mine"), btnSend})
		if r.inEntry() {
			r.s.State = stateIndSummary // where the redo button is valid
		}
		return
	}
	if r.warnBeforeSend(ind, w) {
		return
	}
	r.effects = append(r.effects, domain.SaveSubmission{Submission: r.submission(w), Action: "submit", ExpectVersion: w.Version, CampaignID: r.f.CampaignID})
	r.reset()
	late := ""
	if !r.f.Now.Before(a.Deadline) {
		late = "\n" + r.t("sent_late")
	}
	r.say(r.t("sent", ind.Code, ValueWithUnit(r.s.Lang, ind, w.Value))+late, []Button{{r.t("btn_indicators"), btnIndicators}})
}

// evidenceList writes the evidence kept, one numbered line each: the
// summary, the review card and a resumed evidence step share it.
func (r *stepper) evidenceList(evidence []domain.Evidence, indicator, agency string) string {
	var ev []string
	for i, e := range evidence {
		if e.Link != "" {
			ev = append(ev, fmt.Sprintf("  %d. 🔗 %s", i+1, e.Link))
			continue
		}
		line := fmt.Sprintf("  %d. 📎 %s (%s)", i+1, e.Name, humanSize(e.Size))
		if r.f.PublicURL != "" && e.SHA256 != "" {
			// Chat apps cannot show the file itself; the console can (after
			// signing in), safely sandboxed. The link names the submission,
			// since the same file may be evidence of several.
			q := url.Values{"i": {indicator}, "a": {agency}}.Encode()
			line += "\n     " + r.t("evidence_open", r.f.PublicURL+"/admin/evidence/"+e.SHA256+"/view?"+q)
		}
		ev = append(ev, line)
	}
	return strings.Join(ev, "\n")
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<20:
		return strings.Replace(fmt.Sprintf("%.1f MB", float64(n)/(1<<20)), ".", ",", 1)
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

func (r *stepper) helpdesk() string {
	if r.f.Helpdesk.Name == "" && r.f.Helpdesk.Phone == "" {
		return r.organizer()
	}
	return ContactText(r.f.Helpdesk)
}

// --- staff: review and exports ------------------------------------------------------

func (r *stepper) staffOnly() bool {
	if r.isStaff() {
		return true
	}
	if r.needsProof(domain.RoleStaff) {
		return false
	}
	r.reset()
	r.refused = "staff action by a non-staff person"
	r.say(r.t("staff_only"), r.menuButtons()...)
	return false
}

func (r *stepper) reviewQueue() { r.reviewQueueFlag("") }

// ParseReviewFlag reads the argument of /duyet: a flag's code
// ("big_change") or words of its name in either language, with or without
// accents ("muộn", "thay doi lon", "late"); "" and "tất cả"/"all" mean the
// whole queue. ok is false when the words name no flag.
func ParseReviewFlag(arg string) (flag string, ok bool) {
	a := valFold(arg)
	switch a {
	case "", "tat ca", "all", "*":
		return "", true
	}
	for _, f := range AllFlags {
		if a == f || a == strings.ReplaceAll(f, "_", " ") {
			return f, true
		}
	}
	for _, f := range AllFlags {
		for _, lang := range []domain.Lang{domain.Vietnamese, domain.English} {
			if strings.Contains(valFold(FlagLabel(lang, f)), a) {
				return f, true
			}
		}
	}
	return "", false
}

// reviewQueueFlag lists the review queue, only the items with flag when
// it is set, and offers the flags present as filter buttons (as the
// console's filter does).
func (r *stepper) reviewQueueFlag(flag string) {
	if !r.staffOnly() {
		return
	}
	if flag == "*" {
		flag = ""
	}
	if flag != "" && !slices.Contains(AllFlags, flag) {
		r.say(r.t("stale_button"))
		flag = ""
	}
	all := r.f.ReviewQueue
	head := ""
	if name := r.campaignName(); name != "" {
		head = r.t("campaign_line", name) + "\n" // which campaign, when there are several
	}
	if len(all) == 0 {
		r.say(head+r.t("review_empty"), r.menuButtons()...)
		return
	}
	counts := map[string]int{}
	var q []domain.Submission
	for _, s := range all {
		fs := r.queueFlags(s)
		for _, f := range fs {
			counts[f]++
		}
		if flag == "" || slices.Contains(fs, flag) {
			q = append(q, s)
		}
	}
	var filters [][]Button
	var line []Button
	if flag != "" {
		line = append(line, Button{r.t("btn_review_all", len(all)), btnRvFlag + "*"})
	}
	for _, f := range AllFlags {
		if counts[f] == 0 || f == flag {
			continue
		}
		line = append(line, Button{clip("⚠️ "+FlagLabel(r.s.Lang, f), 34) + fmt.Sprintf(" (%d)", counts[f]), btnRvFlag + f})
		if len(line) == 2 {
			filters, line = append(filters, line), nil
		}
	}
	if len(line) > 0 {
		filters = append(filters, line)
	}
	if len(q) == 0 {
		r.say(r.t("review_flag_none", FlagLabel(r.s.Lang, flag)), filters...)
		return
	}
	var b strings.Builder
	b.WriteString(head)
	if flag != "" {
		b.WriteString(r.t("review_head_flag", len(q), len(all), FlagLabel(r.s.Lang, flag)))
	} else {
		b.WriteString(r.t("review_head", len(q)))
	}
	var rows [][]Button
	for i, s := range q {
		if i == 20 {
			b.WriteString("\n" + r.t("review_more", len(q)-20))
			break
		}
		ind, _ := r.f.Catalog.Indicator(s.Indicator)
		agency := r.agencyName(s.Agency)
		fmt.Fprintf(&b, "\n%d. %s — %s: %s", i+1, s.Indicator, agency, ValueWithUnit(r.s.Lang, ind, s.Value)+r.flagSuffix(s))
		rows = append(rows, []Button{{clip(s.Indicator+" — "+agency, 40), btnRvPrefix + s.Indicator + "|" + s.Agency}})
	}
	r.say(b.String(), append(rows, filters...)...)
}

// agencyName names an agency in the user's language; people are never shown
// an internal code ("SKHCN") where a name exists.
func (r *stepper) agencyName(code string) string {
	if a, ok := r.f.Directory.Agency(code); ok {
		if n := a.Name(r.s.Lang); n != "" {
			return n
		}
	}
	return code
}

func (r *stepper) findQueued(code, agency string) (domain.Submission, bool) {
	for _, s := range r.f.ReviewQueue {
		if s.Indicator == code && s.Agency == agency {
			return s, true
		}
	}
	return domain.Submission{}, false
}

func (r *stepper) reviewButton(d string) {
	if !r.staffOnly() {
		return
	}
	prefix := d[:3]
	parts := strings.Split(d[3:], "|")
	if len(parts) < 2 {
		r.say(r.t("stale_button"))
		r.reviewQueue()
		return
	}
	code, agency := parts[0], parts[1]
	sub, ok := r.findQueued(code, agency)
	if !ok {
		r.reset()
		r.say(r.t("review_gone", clip(code, 20), clip(r.agencyName(agency), 80)))
		r.reviewQueue()
		return
	}
	ind, _ := r.f.Catalog.Indicator(code)
	switch prefix {
	case btnRvPrefix:
		r.reviewCard(ind, sub)
	case btnRvApprove, btnRvReturn:
		if len(parts) != 3 || parts[2] != strconv.Itoa(sub.Version) {
			r.say(r.t("review_changed"))
			r.reviewCard(ind, sub)
			return
		}
		if prefix == btnRvApprove {
			e := domain.ReviewSubmission{Indicator: code, Agency: agency, Approve: true, By: r.f.Person.ID, ExpectVersion: sub.Version, CampaignID: r.f.CampaignID}
			r.effects = append(r.effects, e)
			r.notices = append(r.notices, ReviewNotices(r.f.Catalog, e, sub.By)...)
			r.reset()
			r.say(r.t("review_approved", code, r.agencyName(agency)), []Button{{r.t("btn_review"), btnReview}})
			return
		}
		r.reset()
		r.s.State = stateRevComment
		r.s.Draft = map[string]string{"code": code, "agency": agency, "ver": strconv.Itoa(sub.Version)}
		r.say(r.t("review_ask_comment", code, r.agencyName(agency)))
	}
}

func (r *stepper) reviewCard(ind domain.Indicator, s domain.Submission) {
	agency := r.agencyName(s.Agency)
	by := s.By
	if p, ok := r.f.Directory.Person(s.By); ok {
		by = p.FullName
	}
	docDate := "—"
	if !s.DocDate.IsZero() {
		docDate = s.DocDate.Format("02/01/2006")
	}
	ver := "|" + strconv.Itoa(s.Version)
	r.say(r.t("review_card", ind.Code, ind.Name(r.s.Lang), agency, ValueWithUnit(r.s.Lang, ind, s.Value),
		"\n"+orDash(r.evidenceList(s.Evidence, s.Indicator, s.Agency)), orDash(s.DocNumber), docDate, orDash(s.Note), by, r.dateTime(s.SubmittedAt))+r.evidenceNote(ind, s),
		[]Button{{r.t("btn_approve"), btnRvApprove + s.Indicator + "|" + s.Agency + ver}, {r.t("btn_return"), btnRvReturn + s.Indicator + "|" + s.Agency + ver}},
		[]Button{{r.t("btn_history"), btnHistPrefix + s.Indicator + "|" + s.Agency}, {r.t("btn_review"), btnReview}})
}

// history asks the bot layer for an indicator's history (what changed,
// by whom, when), for staff or a focal point of that agency; the
// conversation stays where it is.
func (r *stepper) history(arg string) {
	code, agency, ok := strings.Cut(arg, "|")
	_, assigned := r.f.Catalog.Assignment(code, agency)
	mine := r.f.Person.Has(domain.RoleFocal) && r.f.Person.AgencyCode == agency
	if !ok || !assigned || !(r.isStaff() || mine) {
		r.refused = "history of " + clip(code, 20) + "/" + clip(agency, 20) + " by someone not allowed"
		r.say(r.t("not_your_indicator", clip(code, 20)))
		return
	}
	r.tasks = append(r.tasks, Task{Name: "history", Arg: code + "|" + agency})
}

func (r *stepper) reviewComment() {
	if !r.staffOnly() {
		return
	}
	if r.in.Kind != InText {
		r.say(r.t("text_expected", r.t("review_ask_comment", r.s.Draft["code"], r.agencyName(r.s.Draft["agency"]))))
		return
	}
	comment := strings.TrimSpace(r.in.Text)
	if n := utf8.RuneCountInString(comment); n < 3 || n > 500 {
		r.say(r.t("review_bad_comment"))
		return
	}
	code, agency := r.s.Draft["code"], r.s.Draft["agency"]
	ver, _ := strconv.Atoi(r.s.Draft["ver"])
	sub, ok := r.findQueued(code, agency)
	if !ok || sub.Version != ver {
		r.reset()
		r.say(r.t("review_changed"))
		r.reviewQueue()
		return
	}
	e := domain.ReviewSubmission{Indicator: code, Agency: agency, Comment: comment, By: r.f.Person.ID, ExpectVersion: ver, CampaignID: r.f.CampaignID}
	r.effects = append(r.effects, e)
	r.notices = append(r.notices, ReviewNotices(r.f.Catalog, e, sub.By)...)
	r.reset()
	r.say(r.t("review_returned", code, r.agencyName(agency)), []Button{{r.t("btn_review"), btnReview}})
}

// ReviewNotices are the messages a review sends: to each focal point of the
// assignment, in Vietnamese (their language preference is not among a
// step's facts), with a button to open the indicator. Chat and the staff
// console both use it.
//
// also names others to tell — the focal point who sent the item, when a
// colleague entered it for the one named — each told once.
func ReviewNotices(cat *domain.Catalog, e domain.ReviewSubmission, also ...string) []Notice {
	a, ok := cat.Assignment(e.Indicator, e.Agency)
	if !ok {
		return nil
	}
	ind, _ := cat.Indicator(e.Indicator)
	text := t(domain.Vietnamese, "notice_approved", ind.Code, ind.NameVI)
	if !e.Approve {
		text = t(domain.Vietnamese, "notice_returned", ind.Code, ind.NameVI, e.Comment)
	}
	// An approved item can no longer be changed: its notice offers the
	// list, not an edit button that would only say so.
	buttons := [][]Button{{{t(domain.Vietnamese, "btn_indicators"), btnIndicators}}}
	if !e.Approve {
		buttons = [][]Button{{{t(domain.Vietnamese, "btn_open_indicator"), btnIndPrefix + e.Indicator}}}
	}
	if e.CampaignID != "" {
		// Reviewed in a chosen campaign (several are open): the button
		// opens that campaign's list, whichever the focal point is on.
		buttons = [][]Button{{{t(domain.Vietnamese, "btn_indicators"), btnCampaignPrefix + e.CampaignID}}}
	}
	var out []Notice
	seen := map[string]bool{}
	for _, id := range append(append([]string(nil), a.Focal...), also...) {
		if id == "" || seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, Notice{PersonID: id, Replies: []Reply{{Text: text, Buttons: buttons}}})
	}
	return out
}

func (r *stepper) exportMenu() {
	if !r.staffOnly() {
		return
	}
	r.say(r.t("export_ask"), []Button{{"Excel (.xlsx)", btnExPrefix + "xlsx"}, {"CSV", btnExPrefix + "csv"}},
		[]Button{{r.t("btn_export_pdf"), btnExPrefix + "pdf"}, {r.t("btn_export_zip"), btnExPrefix + "zip"}})
}

func (r *stepper) export(kind string) {
	if !r.staffOnly() {
		return
	}
	switch kind {
	case "xlsx", "csv", "pdf", "zip":
		r.tasks = append(r.tasks, Task{Name: "export", Arg: kind})
		r.say(r.t("export_preparing"))
	default:
		r.say(r.t("stale_button"))
		r.exportMenu()
	}
}

// choiceLabel writes one reading of an ambiguous number plainly, without
// thousands separators, so the two buttons cannot be confused: "1234" and
// "1,234" (Vietnamese decimal comma) or "1.234" (English).
func choiceLabel(lang domain.Lang, v domain.Value) string {
	s := strconv.FormatFloat(v.Num, 'f', -1, 64)
	if lang != domain.English {
		s = strings.Replace(s, ".", ",", 1)
	}
	if v.Type == domain.TypePercent {
		s += "%"
	}
	return s
}
