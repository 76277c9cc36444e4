package flows

import (
	"maps"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/dieuphoi/dieuphoi/domain"
)

// States of a chat. The zero state is "idle": nothing asked.
const (
	stateIdle        = ""
	stateSubName     = "sub_name"
	stateSubPosition = "sub_position"
	stateSubPhone    = "sub_phone"
	stateSubConfirm  = "sub_confirm"
	stateSubEdit     = "sub_edit" // which detail to change
)

// Button payloads. Kept short: Telegram allows 64 bytes.
const (
	btnAttend     = "rsvp:attend"
	btnDecline    = "rsvp:decline"
	btnSub        = "rsvp:sub"
	btnSubOK      = "sub:ok"
	btnSubEdit    = "sub:edit"
	btnSubCancel  = "sub:cancel"
	btnSubField   = "sub:f:" // + name, position or phone: change that one
	btnAgenda     = "menu:agenda"
	btnHelp       = "menu:help"
	btnCard       = "menu:card"
	btnLangPrefix = "lang:"
)

// How many wrong identification attempts before a pause, and how long.
const (
	maxIdentifyFails = 5
	identifyLockout  = 15 * time.Minute
)

// Step advances one chat by one input. It is pure: the same session, input
// and facts always give the same result.
func Step(s Session, in Input, f Facts) Result {
	if s.Lang == "" {
		s.Lang = f.Lang
	}
	if s.Lang == "" {
		s.Lang = domain.Vietnamese
	}
	r := &stepper{s: s, f: f, in: in}
	if f.Event != nil {
		r.servedID = f.Event.ID // before selectEvent: task buttons name tasks against it
	}
	r.selectEvent()
	r.selectCampaign()
	r.run()
	if r.s.Draft != nil && len(r.s.Draft) == 0 {
		r.s.Draft = nil
	}
	for _, rep := range r.replies {
		if rep.AskContact {
			r.s.ContactAsked = true
		}
	}
	return Result{Session: r.s, Replies: r.replies, Effects: r.effects, Notices: r.notices, Tasks: r.tasks, Refused: r.refused}
}

type stepper struct {
	s        Session
	f        Facts
	servedID string // the deployment's served event (Facts.Event before selectEvent)
	in       Input
	replies  []Reply
	effects  []domain.Effect
	notices  []Notice
	tasks    []Task
	refused  string
}

func (r *stepper) say(text string, buttons ...[]Button) {
	r.replies = append(r.replies, Reply{Text: text, Buttons: buttons})
}

func (r *stepper) t(m msg, args ...any) string { return t(r.s.Lang, m, args...) }

func (r *stepper) run() {
	// Commands that work whoever you are and wherever you are.
	if r.in.Kind == InCommand {
		switch r.in.Command {
		case "ngonngu", "language", "lang":
			r.say(r.t("lang_ask"), []Button{{"Tiếng Việt", btnLangPrefix + "vi"}, {"English", btnLangPrefix + "en"}})
			return
		case "huy", "cancel":
			if r.inEntry() && r.f.Person != nil && r.isFocal() {
				r.cancelEntry()
				return
			}
			if r.s.State == stateIdle {
				r.say(r.t("nothing_cancel"))
			} else {
				r.reset()
				r.say(r.t("cancelled"))
			}
			if r.f.Person != nil {
				r.menu()
			}
			return
		}
	}
	if r.in.Kind == InButton && strings.HasPrefix(r.in.Data, btnLangPrefix) {
		r.setLang(domain.ParseLang(strings.TrimPrefix(r.in.Data, btnLangPrefix)))
		return
	}
	// /start with a payload always (re)identifies: a forwarded invite link
	// is the way to switch to the person it belongs to.
	if r.in.Kind == InCommand && r.in.Command == "start" && strings.TrimSpace(r.in.Text) != "" {
		r.identifyByToken(strings.TrimSpace(r.in.Text))
		return
	}
	if r.in.Kind == InReading {
		r.readingArrived() // never from an unknown person: the bot reads only their files
		return
	}
	if r.f.Person == nil {
		r.unknown()
		return
	}
	switch {
	case r.in.Kind == InCommand && (r.in.Command == "dangxuat" || r.in.Command == "signout" || r.in.Command == "logout"):
		r.signOut()
		return
	case r.in.Kind == InButton && strings.HasPrefix(r.in.Data, btnUnlinkPrefix):
		r.unlinkButton()
		return
	case r.in.Kind == InContact:
		r.contactKnown()
		return
	}
	if r.in.Kind == InCommand {
		r.command()
		return
	}
	if r.in.Kind == InButton {
		r.button()
		return
	}
	switch r.s.State {
	case stateSubName, stateSubPosition, stateSubPhone:
		r.substituteAnswer()
	case stateSubConfirm:
		r.say(r.t("use_buttons"), r.confirmButtons())
	case stateSubEdit:
		r.say(r.t("sub_edit_which"), r.fieldButtons()...)
	case stateIndValue, stateIndAmbig, stateIndConfirm, stateIndEvidence, stateIndDocNo, stateIndDocDate, stateIndNote, stateIndSummary:
		r.indicatorAnswer()
	case stateRevComment:
		r.reviewComment()
	case stateTaskNote, stateTaskFile:
		r.taskAnswer()
	case stateFeedback:
		r.feedbackComment()
	case stateBcText:
		r.broadcastText()
	case stateMtSubject, stateMtText, stateMtAnon, stateMtTopic:
		r.meetingAnswer()
	case stateBcConfirm:
		r.say(r.t("use_buttons"), BroadcastButtons(string(r.s.Lang), r.s.Draft["cid"])...)
	default:
		if r.in.Kind == InFile {
			r.say(r.t("file_unexpected", r.t("idle_hint")), r.menuButtons()...)
			return
		}
		r.say(r.t("idle_hint"), r.menuButtons()...)
	}
}

func (r *stepper) reset() {
	r.s.State = stateIdle
	r.s.Draft = nil
	r.s.Fails = 0
}

func (r *stepper) setLang(l domain.Lang) {
	r.s.Lang = l
	if r.f.Person != nil {
		r.effects = append(r.effects, domain.SetLanguage{PersonID: r.f.Person.ID, Lang: l})
	}
	r.say(r.t("lang_set"))
	if r.f.Person != nil {
		r.menu()
	} else {
		r.welcome()
	}
}

// --- identifying an unknown person ---------------------------------------

// Candidate returns the person this input would identify the chat as, ""
// when none: the bot layer loads that person's state before the step, so
// that the first answer after identification is already right.
func Candidate(in Input, dir *domain.Directory) string {
	switch in.Kind {
	case InCommand:
		if in.Command == "start" {
			if p, ok := dir.ByToken(strings.TrimSpace(in.Text)); ok {
				return p.ID
			}
		}
	case InContact:
		if p, ok := dir.ByPhone(in.Phone); ok && in.ContactIsSelf {
			return p.ID
		}
	case InText:
		if p, ok := dir.ByCode(in.Text); ok {
			return p.ID
		}
	}
	return ""
}

func (r *stepper) welcome() {
	r.replies = append(r.replies, Reply{Text: r.t("welcome_unknown"), AskContact: true})
}

func (r *stepper) unknown() {
	if r.f.Now.Before(r.s.LockedUntil) {
		mins := int(r.s.LockedUntil.Sub(r.f.Now).Minutes()) + 1
		r.say(r.t("too_many_tries", mins, r.organizer()))
		return
	}
	switch r.in.Kind {
	case InContact:
		if r.in.PhoneForm && !r.s.ContactAsked {
			// A phone form the bot never sent (a crafted Zalo event):
			// not taken as anything.
			r.refused = "unrequested phone form"
			r.say(r.t("contact_unasked"))
			return
		}
		if !r.in.ContactIsSelf {
			r.replies = append(r.replies, Reply{Text: r.t("not_own_contact"), AskContact: true})
			return
		}
		p, ok := r.f.Directory.ByPhone(r.in.Phone)
		if !ok {
			r.fail()
			r.replies = append(r.replies, Reply{Text: r.t("phone_unknown", r.organizer()), AskContact: true})
			return
		}
		proof := domain.ProofPhoneClaimed
		if r.in.ContactVerified {
			proof = domain.ProofPhone
		}
		r.link(p, proof, "")
	case InText:
		code := strings.TrimSpace(r.in.Text)
		if p, ok := r.f.Directory.ByCode(code); ok {
			r.link(p, domain.ProofCode, "")
			return
		}
		if domain.NormalizeCode(code) == "" {
			// Not shaped like a code at all: greet rather than scold.
			r.welcome()
			return
		}
		r.fail()
		if r.f.Now.Before(r.s.LockedUntil) {
			r.say(r.t("too_many_tries", int(identifyLockout.Minutes()), r.organizer()))
			return
		}
		r.replies = append(r.replies, Reply{Text: r.t("code_unknown", clip(code, 20)), AskContact: true})
	case InCommand:
		switch r.in.Command {
		case "trogiup", "help":
			r.say(r.t("identify_hint"))
		default:
			r.welcome()
		}
	case InButton:
		r.replies = append(r.replies, Reply{Text: r.t("identify_hint"), AskContact: true})
	default:
		r.replies = append(r.replies, Reply{Text: r.t("identify_hint"), AskContact: true})
	}
}

func (r *stepper) fail() {
	r.s.Fails++
	if r.s.Fails >= maxIdentifyFails {
		r.s.Fails = 0
		r.s.LockedUntil = r.f.Now.Add(identifyLockout)
	}
}

func (r *stepper) identifyByToken(token string) {
	if strings.HasPrefix(token, EnrolPrefix) {
		r.enrol()
		return
	}
	p, ok := r.f.Directory.ByToken(token)
	if !ok {
		if r.f.Person != nil {
			r.say(r.t("bad_token"))
			r.menu()
			return
		}
		r.replies = append(r.replies, Reply{Text: r.t("bad_token"), AskContact: true})
		return
	}
	proof := domain.ProofLink
	if r.in.DemoPick {
		proof = domain.ProofDemo
	}
	r.link(p, proof, "")
}

// link binds this chat to p on proof (enrolHash: the enrolment link that
// proved it). A chat already linked to p never loses a verified proof by
// being linked again. A new link is announced in p's other chats.
func (r *stepper) link(p domain.Person, proof domain.Proof, enrolHash string) {
	same := r.f.Person != nil && r.f.Person.ID == p.ID
	if same && r.verified() && !proof.Verified() {
		proof = r.f.Proof
	}
	r.effects = append(r.effects, domain.LinkIdentity{Identity: domain.Identity{
		Channel: r.f.Channel, UserID: r.f.UserID, ChatID: r.f.ChatID, PersonID: p.ID, Proof: proof,
	}, Enrolment: enrolHash})
	upgraded := proof.Verified() && !(same && r.verified())
	r.s.PersonID = p.ID
	r.reset()
	r.s.LockedUntil = time.Time{}
	r.s.ContactAsked = false
	pp := p
	r.f.Person, r.f.Proof = &pp, proof
	if !same {
		lang := r.f.Lang
		if r.f.StateOf != p.ID {
			lang = ""
		}
		if lang == "" {
			lang = domain.Vietnamese
		}
		r.announce(p, lang)
	}
	if r.f.StateOf != p.ID {
		// The person-specific facts were someone else's (or nobody's).
		r.f.RSVP, r.f.Submissions, r.f.ReviewQueue, r.f.Lang = nil, nil, nil, ""
	}
	agency := p.AgencyCode
	if a, ok := r.f.Directory.Agency(p.AgencyCode); ok {
		agency = a.Name(r.s.Lang)
	}
	// One greeting, whatever the proof: what the link opens is said in it.
	greet := Reply{Text: r.t("greet", p.FullName, p.Position, agency)}
	switch {
	case upgraded && (p.Has(domain.RoleStaff) || p.Has(domain.RoleFocal)):
		greet.Text += "\n" + r.t("verified_ok")
	case !proof.Verified() && (p.Has(domain.RoleStaff) || r.hasFocalWork(p)):
		greet.Text += "\n\n" + r.t("verify_needed", r.helpdesk())
		greet.AskContact = r.f.Channel == domain.Telegram
	}
	r.replies = append(r.replies, greet)
	r.menu()
}

// hasFocalWork reports whether p is a focal point with indicators to supply.
func (r *stepper) hasFocalWork(p domain.Person) bool {
	return p.Has(domain.RoleFocal) && len(r.f.Catalog.ForAgency(p.AgencyCode)) > 0
}

// --- a known person ---------------------------------------------------------

func (r *stepper) command() {
	switch r.in.Command {
	case "sukien", "event":
		if r.isStaff() && (len(r.f.AllEvents) > 1 || (len(r.f.AllEvents) == 1 && r.f.AllEvents[0].Event.ID != r.f.Event.ID)) {
			r.reset()
			r.staffEvents()
			return
		}
		r.reset()
		r.unselectEvent()
		r.menu()
	case "start", "xacnhan", "thamdu", "rsvp":
		r.reset()
		r.unselectEvent() // with several events: which one?
		r.menu()
	case "chuongtrinh", "agenda":
		if r.multi() && r.s.Event == "" {
			r.eventsCard()
			return
		}
		r.say(r.agenda(), r.menuButtons()...)
	case "chiso", "indicators":
		r.reset()
		r.indicatorList()
	case "chiendich", "campaign":
		r.campaignCommand()
	case "duyet", "review":
		r.reset()
		if f, ok := ParseReviewFlag(r.in.Text); ok {
			r.reviewQueueFlag(f)
		} else {
			r.say(r.t("review_flag_unknown", clip(strings.TrimSpace(r.in.Text), 40), r.flagNames()))
			r.reviewQueueFlag("")
		}
	case "xuat", "export":
		r.reset()
		r.exportMenu()
	case "tonghop", "headcount", "diemdanh", "attendance", "chuanop", "missing", "dangnhap", "signin", "nhacnho", "remind", "thongbao", "broadcast":
		r.staffCommand(r.in.Command)
	case "congviec", "tasks":
		r.taskCommand()
	case "trogiup", "help":
		r.say(r.helpText())
	default:
		if kind, ok := meetingCommands[r.in.Command]; ok {
			r.meetingCommand(kind)
			return
		}
		r.say(r.t("unknown_command", clip(r.in.Command, 30)))
	}
}

func (r *stepper) button() {
	if r.campaignChoice() || r.taskButton() || r.feedbackButton() || r.campaignButton() || r.staffButton(r.in.Data) || r.eventButton() || r.meetingButton(r.in.Data) {
		return
	}
	switch r.in.Data {
	case btnAttend:
		r.answer(domain.RSVPAttend, nil)
	case btnDecline:
		r.answer(domain.RSVPDecline, nil)
	case btnSub:
		if !r.mayAnswer() {
			return
		}
		r.reset()
		r.s.State = stateSubName
		r.s.Draft = map[string]string{}
		r.say(r.t("sub_ask_name"))
	case btnSubField + "name", btnSubField + "position", btnSubField + "phone":
		if r.s.State != stateSubEdit {
			r.say(r.t("stale_button"))
			r.menu()
			return
		}
		// Only the chosen detail is asked again; the others are kept and
		// the confirmation comes straight back.
		r.s.State = map[string]string{"name": stateSubName, "position": stateSubPosition, "phone": stateSubPhone}[strings.TrimPrefix(r.in.Data, btnSubField)]
		r.s.Draft = maps.Clone(r.s.Draft)
		r.s.Draft["editing"] = "1"
		r.say(r.currentQuestion())
	case btnSubOK, btnSubEdit, btnSubCancel:
		if r.s.State != stateSubConfirm && !(r.s.State == stateSubEdit && r.in.Data == btnSubCancel) {
			r.say(r.t("stale_button"))
			r.menu()
			return
		}
		switch r.in.Data {
		case btnSubOK:
			d := r.s.Draft
			r.answer(domain.RSVPSubstitute, &domain.Substitute{Name: d["name"], Position: d["position"], Phone: d["phone"]})
		case btnSubEdit:
			r.s.State = stateSubEdit
			r.say(r.t("sub_edit_which"), r.fieldButtons()...)
		default:
			r.reset()
			r.say(r.t("cancelled"))
			r.menu()
		}
	case btnAgenda:
		r.say(r.agenda(), r.menuButtons()...)
	case btnHelp:
		r.say(r.helpText())
	case btnCard:
		r.reset()
		r.card()
	default:
		r.say(r.t("stale_button"))
		r.menu()
	}
}

func (r *stepper) helpText() string {
	text := r.t("help", r.organizer())
	var extra []string
	if r.isDelegate() {
		extra = append(extra, r.t("help_meeting"))
	}
	if r.isFocal() {
		extra = append(extra, r.t("help_focal"))
	}
	if r.isStaff() {
		extra = append(extra, r.t("help_staff"), r.t("help_attend"))
	}
	if r.isStaff() || r.isFocal() {
		extra = append(extra, r.t("help_tasks"))
	}
	if r.multiCampaign() && (r.isStaff() || r.isFocal()) {
		extra = append(extra, r.t("help_campaign"))
	}
	if len(extra) > 0 {
		text += "\n\n" + strings.Join(extra, "\n")
	}
	return text
}

// mayAnswer says whether this person may record an answer now, and tells
// them why not when they may not.
func (r *stepper) mayAnswer() bool {
	if !r.f.Person.Has(domain.RoleDelegate) {
		r.refused = "rsvp by a non-delegate"
		r.say(r.t("not_delegate"), r.menuButtons()...)
		return false
	}
	if r.rsvpClosed() {
		r.reset()
		r.say(r.t("rsvp_closed", r.dateTime(r.f.Event.RSVPCutoff), r.organizer()), r.menuButtons()...)
		return false
	}
	return true
}

func (r *stepper) answer(st domain.RSVPStatus, sub *domain.Substitute) {
	if !r.mayAnswer() {
		return
	}
	r.reset()
	if cur := r.f.RSVP; cur != nil && cur.Status == st && sameSubstitute(cur.Substitute, sub) {
		r.say(r.t("same_answer"), r.afterAnswerButtons())
		return
	}
	rec := domain.RSVP{PersonID: r.f.Person.ID, Status: st, Substitute: sub, Channel: r.f.Channel, At: r.f.Now, EventID: r.eventID()}
	r.effects = append(r.effects, domain.SaveRSVP{RSVP: rec})
	r.f.RSVP = &rec
	ev := r.f.Event
	switch st {
	case domain.RSVPAttend:
		r.say(r.t("saved_attend", r.clock(ev.DoorsOpen), r.date(ev.Start), ev.Venue(r.s.Lang)), r.afterAnswerButtons())
		r.replies = append(r.replies, Reply{Text: r.t("ics_caption"), Optional: true,
			File: &File{Name: ev.ID + ".ics", MIME: "text/calendar; charset=utf-8", Data: icsOf(ev, r.s.Lang)}})
	case domain.RSVPDecline:
		r.say(r.t("saved_decline", r.dateTime(ev.RSVPCutoff)), r.afterAnswerButtons())
	case domain.RSVPSubstitute:
		r.say(r.t("saved_sub", sub.Name, sub.Position, FormatPhone(sub.Phone), r.clock(ev.DoorsOpen), r.date(ev.Start)), r.afterAnswerButtons())
	}
}

func sameSubstitute(a, b *domain.Substitute) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

func (r *stepper) substituteAnswer() {
	if r.in.Kind != InText {
		r.say(r.t("text_expected", r.currentQuestion()))
		return
	}
	text := strings.Join(strings.Fields(r.in.Text), " ")
	r.s.Draft = maps.Clone(r.s.Draft) // the session passed in stays as it was: Step is pure
	if r.s.Draft == nil {
		r.s.Draft = map[string]string{}
	}
	switch r.s.State {
	case stateSubName:
		text = domain.ProperName(text) // as it will be printed on the badge
		if !validName(text) {
			r.s.Fails++
			r.say(r.t("sub_bad_name"))
			return
		}
		r.s.Draft["name"] = text
		r.s.State, r.s.Fails = stateSubPosition, 0
	case stateSubPosition:
		if !validPosition(text) {
			r.s.Fails++
			r.say(r.t("sub_bad_pos"))
			return
		}
		r.s.Draft["position"] = domain.ProperPosition(text)
		r.s.State, r.s.Fails = stateSubPhone, 0
	case stateSubPhone:
		phone := domain.NormalizePhone(text)
		if phone == "" {
			r.s.Fails++
			r.say(r.t("sub_bad_phone", clip(text, 30)))
			return
		}
		r.s.Draft["phone"] = phone
		r.s.State, r.s.Fails = stateSubConfirm, 0
	}
	if r.s.Draft["editing"] != "" {
		delete(r.s.Draft, "editing")
		r.s.State = stateSubConfirm
	}
	r.say(r.currentQuestion(), r.questionButtons()...)
}

func (r *stepper) currentQuestion() string {
	d := r.s.Draft
	switch r.s.State {
	case stateSubName:
		return r.t("sub_ask_name")
	case stateSubPosition:
		return r.t("sub_ask_pos", d["name"])
	case stateSubPhone:
		return r.t("sub_ask_phone", d["name"])
	case stateSubConfirm:
		return r.t("sub_confirm", d["name"], d["position"], FormatPhone(d["phone"]))
	}
	return r.t("idle_hint")
}

func (r *stepper) questionButtons() [][]Button {
	if r.s.State == stateSubConfirm {
		return [][]Button{r.confirmButtons()}
	}
	return nil
}

func (r *stepper) fieldButtons() [][]Button {
	return [][]Button{
		{{r.t("btn_sub_name"), btnSubField + "name"}, {r.t("btn_sub_position"), btnSubField + "position"}, {r.t("btn_sub_phone"), btnSubField + "phone"}},
		{{r.t("btn_cancel"), btnSubCancel}},
	}
}

func (r *stepper) confirmButtons() []Button {
	return []Button{{r.t("btn_confirm"), btnSubOK}, {r.t("btn_edit"), btnSubEdit}, {r.t("btn_cancel"), btnSubCancel}}
}

// validName accepts a full name: two or more words of letters (any script,
// with Vietnamese diacritics), at most 80 characters.
func validName(s string) bool {
	n := utf8.RuneCountInString(s)
	if n < 4 || n > 80 || len(strings.Fields(s)) < 2 {
		return false
	}
	for _, c := range s {
		if !unicode.IsLetter(c) && !unicode.Is(unicode.Mn, c) && c != ' ' && c != '.' && c != '-' && c != '\'' {
			return false
		}
	}
	return true
}

func validPosition(s string) bool {
	n := utf8.RuneCountInString(s)
	if n < 2 || n > 120 {
		return false
	}
	for _, c := range s {
		if unicode.IsLetter(c) {
			return true
		}
	}
	return false
}

// --- what a known person sees -----------------------------------------------

// menu shows what this person came for: the event card with the answer
// buttons for delegates, the indicator list for focal points, the staff
// menu for staff.
func (r *stepper) menu() {
	switch {
	case r.f.Person.Has(domain.RoleSubstitute):
		r.say(SubstituteInvite(r.s.Lang, r.f.Event, r.f.Directory, *r.f.Person, r.f.PublicURL), r.menuButtons()...)
	case r.f.Person.Has(domain.RoleDelegate):
		r.card()
	case r.isFocal():
		r.indicatorList()
	case r.isStaff():
		r.say(r.t("staff_menu"), r.menuButtons()...)
	default:
		r.say(r.t("idle_hint"), r.menuButtons()...)
	}
}

func (r *stepper) card() {
	if r.multi() && r.s.Event == "" {
		r.eventsCard()
		return
	}
	ev := r.f.Event
	key := msg("card")
	if r.rsvpClosed() {
		key = "card_closed"
	}
	text := r.t(key, ev.Name(r.s.Lang), r.clock(ev.Start), r.date(ev.Start), r.clock(ev.DoorsOpen),
		ev.Venue(r.s.Lang), ev.Address, r.status(), r.dateTime(ev.RSVPCutoff))
	r.say(text, r.menuButtons()...)
}

// rsvpClosed says the RSVP cut-off has passed: answers can no longer be
// changed in chat, so no answer buttons are offered.
func (r *stepper) rsvpClosed() bool {
	return !r.f.Event.RSVPCutoff.IsZero() && !r.f.Now.Before(r.f.Event.RSVPCutoff)
}

func (r *stepper) menuButtons() [][]Button {
	rows := [][]Button{}
	if r.f.Person != nil && r.f.Person.Has(domain.RoleDelegate) && !r.rsvpClosed() {
		sfx := r.answerSuffix()
		rows = append(rows,
			[]Button{{r.t("btn_attend"), btnAttend + sfx}, {r.t("btn_decline"), btnDecline + sfx}},
			[]Button{{r.t("btn_sub"), btnSub + sfx}})
	}
	if r.multi() {
		rows = append(rows, []Button{{r.t("btn_events"), btnEvents}})
	}
	if r.isFocal() {
		rows = append(rows, []Button{{r.t("btn_indicators"), btnIndicators}})
	}
	if r.multiCampaign() && (r.isFocal() || r.isStaff()) {
		rows = append(rows, []Button{{r.t("btn_campaigns"), btnCampaigns}})
	}
	if r.isStaff() {
		rows = append(rows, []Button{{r.t("btn_headcount"), btnHeadcount}, {r.t("btn_missing"), btnMissing}},
			[]Button{{r.t("btn_review"), btnReview}, {r.t("btn_export"), btnExport}})
	}
	rows = append(rows, []Button{{r.t("btn_agenda"), btnAgenda}, {r.t("btn_help"), btnHelp}})
	return rows
}

func (r *stepper) afterAnswerButtons() []Button {
	return []Button{{r.t("btn_agenda"), btnAgenda}, {r.t("btn_card"), btnCard}}
}

func (r *stepper) status() string {
	a := r.f.RSVP
	if a == nil {
		return r.t("st_pending")
	}
	switch a.Status {
	case domain.RSVPAttend:
		return r.t("st_attend")
	case domain.RSVPDecline:
		return r.t("st_decline")
	case domain.RSVPSubstitute:
		if a.Substitute != nil {
			return r.t("st_sub", a.Substitute.Name, a.Substitute.Position, FormatPhone(a.Substitute.Phone))
		}
	}
	return r.t("st_pending")
}

func (r *stepper) agenda() string {
	ev := r.f.Event
	var b strings.Builder
	b.WriteString(r.t("agenda_head", ev.Name(r.s.Lang), capitalize(r.date(ev.Start)), ev.Venue(r.s.Lang)))
	for _, it := range ev.Agenda {
		b.WriteString("\n")
		b.WriteString(r.t("agenda_line", it.No, r.clock(it.Start), r.clock(it.End), it.Title(r.s.Lang), it.Speaker(r.s.Lang)))
	}
	return b.String()
}

func (r *stepper) organizer() string { return ContactText(r.f.Event.Organizer) }

// ContactText writes a contact as "name, 0221 3862 538, email".
func ContactText(c domain.Contact) string {
	parts := []string{}
	for _, s := range []string{c.Name, FormatPhone(c.Phone), c.Email} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, ", ")
}

func (r *stepper) clock(t time.Time) string { return FormatClock(t.In(r.loc())) }
func (r *stepper) date(t time.Time) string  { return FormatDate(r.s.Lang, t.In(r.loc())) }
func (r *stepper) dateTime(t time.Time) string {
	t = t.In(r.loc())
	if r.s.Lang == domain.English {
		return FormatClock(t) + ", " + FormatDate(domain.English, t)
	}
	return FormatClock(t) + " ngày " + t.Format("02/01/2006")
}

func (r *stepper) loc() *time.Location {
	if r.f.Event.Location != nil {
		return r.f.Event.Location
	}
	return time.UTC
}

// capitalize upper-cases the first letter: a date that starts a line is
// "Thứ Sáu, 02/08/2024", not "thứ Sáu".
func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// --- formatting shared with other packages -----------------------------------

var viWeekdays = [...]string{"Chủ nhật", "thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy"}

// FormatDate writes a date the way each language's officials expect:
// "thứ Sáu, 02/08/2024" or "Friday 2 August 2024".
func FormatDate(lang domain.Lang, t time.Time) string {
	if lang == domain.English {
		return t.Format("Monday 2 January 2006")
	}
	// "thứ Sáu, " then 02/08/2024, in a buffer on the stack: the result is
	// the one allocation (fmt.Sprintf made three; every card shows dates).
	var buf [32]byte
	b := append(append(buf[:0], viWeekdays[t.Weekday()]...), ", "...)
	return string(t.AppendFormat(b, "02/01/2006"))
}

// FormatClock writes a time of day as 07:30.
func FormatClock(t time.Time) string { return t.Format("15:04") }

// FormatPhone groups a normalised 10-digit mobile number as 0912 345 678.
func FormatPhone(p string) string {
	if len(p) == 10 {
		return p[:4] + " " + p[4:7] + " " + p[7:]
	}
	return p
}

// Invitation is the invitation sent again to one person (staff's "resend"
// in the console): a first line chosen by their answer and the date, then
// the event card as the chat shows it — with the answer buttons only
// before the RSVP cut-off.
func Invitation(lang domain.Lang, ev *domain.Event, p domain.Person, rsvp *domain.RSVP, now time.Time) []Reply {
	r := &stepper{s: Session{Lang: lang, PersonID: p.ID}, f: Facts{Now: now, Event: ev, Person: &p, RSVP: rsvp, Lang: lang}}
	if r.s.Lang == "" {
		r.s.Lang = domain.Vietnamese
	}
	status := domain.RSVPPending
	if rsvp != nil {
		status = rsvp.Status
	}
	closed := r.rsvpClosed()
	cutoff := r.dateTime(ev.RSVPCutoff)
	var lead string
	switch {
	case status == domain.RSVPAttend:
		lead = r.t("invite_attend")
	case status == domain.RSVPSubstitute && rsvp.Substitute != nil:
		lead = r.t("invite_sub", rsvp.Substitute.Name)
	case status == domain.RSVPDecline && closed:
		lead = r.t("invite_decline_closed")
	case status == domain.RSVPDecline:
		lead = r.t("invite_decline", cutoff)
	case closed:
		lead = r.t("invite_pending_closed", cutoff, r.organizer())
	default:
		lead = r.t("invite_pending", cutoff)
	}
	r.card()
	r.replies[0].Text = lead + "\n\n" + r.replies[0].Text
	return r.replies
}
