package flows

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dieuphoi/dieuphoi/domain"
)

// The meeting itself (issue 15): documents (/tailieu), questions and
// comments (/cauhoi), speaking requests (/phatbieu) and votes (buttons on
// the message staff send from the console). The bot layer loads
// MeetingFacts only for these inputs (WantsMeeting).

// MeetingFacts are what the meeting steps read.
type MeetingFacts struct {
	// Docs are the event's documents this person may see: internal ones
	// only for staff.
	Docs []domain.MeetingDoc
	// AllowAnonymous: staff let delegates ask without their name.
	AllowAnonymous bool
	// RecentQuestions counts what the person sent in the last
	// QuestionRateWindow.
	RecentQuestions int
	// CheckedIn: the person checked in at the door (votes are theirs).
	CheckedIn bool
	// Vote is the vote a button names, nil when none (or another event's);
	// MyChoice the person's current answer to it, 0 when none.
	Vote     *domain.Vote
	MyChoice int

	// Event is the event the input is about, as the bot layer chose it
	// (MeetingEventCode, else MeetingCandidates); nil: Facts.Event.
	// EventCode is its code, carried by buttons and kept in the session
	// while a question is being written ("" for the served event alone).
	Event     *domain.Event
	EventCode string
	// Choices, when several of the person's events qualify and the input
	// names none, are those events: the step asks which.
	Choices []domain.EventRecord
	// FeedbackEvent is the event a feedback button names, when it exists.
	FeedbackEvent string
}

// Bounds on what a delegate can send.
const (
	MaxQuestionLen        = 1000
	MaxTopicLen           = 300
	MaxQuestionsPerWindow = 5
	QuestionRateWindow    = 10 * time.Minute
)

// Meeting states and button payloads.
const (
	stateMtSubject = "mt_subject" // which item or document the question is on
	stateMtText    = "mt_text"
	stateMtAnon    = "mt_anon"
	stateMtTopic   = "mt_topic" // what a speaking request is about

	btnMtPrefix  = "mt:"
	btnMtSubject = "mt:s:" // + "a<no>" (agenda item, 0: general) or "d<id>" (document)
	btnMtAnon    = "mt:anon:"
	btnMtVote    = "mt:v:" // + "<vote id>:<choice>" [+ ":<event code>"]
	btnMtDocs    = "mt:docs"
	btnMtEvent   = "mt:e:" // + "<event code>:<docs|ask|speak>": the event a command is about

	draftMtEvent = "mev" // Draft: the code of the event a question is for
)

var meetingCommands = map[string]string{
	"tailieu": "docs", "documents": "docs", "docs": "docs",
	"cauhoi": "ask", "question": "ask", "ask": "ask",
	"phatbieu": "speak", "speak": "speak",
}

// WantsMeeting says whether the step needs MeetingFacts for this input.
func WantsMeeting(s Session, in Input) bool {
	switch in.Kind {
	case InCommand:
		_, ok := meetingCommands[in.Command]
		return ok
	case InButton:
		return strings.HasPrefix(in.Data, btnMtPrefix) || (strings.HasPrefix(in.Data, btnFeedback) && in.Data != btnFeedbackSkip)
	}
	return strings.HasPrefix(s.State, "mt_")
}

// FeedbackButtonEvent is the event id a feedback button names, "" when
// the input is none: the bot layer checks it exists.
func FeedbackButtonEvent(in Input) string {
	if in.Kind != InButton || in.Data == btnFeedbackSkip {
		return ""
	}
	rest, ok := strings.CutPrefix(in.Data, btnFeedback)
	if !ok {
		return ""
	}
	_, ev, _ := strings.Cut(rest, ":")
	return ev
}

// MeetingEventCode is the code of the event a meeting input names: its
// button's (choosing the event, a vote, the documents), or, while a
// question is being written, the one it was started for; "" when none.
func MeetingEventCode(s Session, in Input) string {
	if in.Kind == InButton {
		d := in.Data
		switch {
		case strings.HasPrefix(d, btnMtEvent):
			rest := strings.TrimPrefix(d, btnMtEvent)
			if i := strings.LastIndexByte(rest, ':'); i > 0 {
				return rest[:i]
			}
			return ""
		case strings.HasPrefix(d, btnMtDocs+":"):
			return strings.TrimPrefix(d, btnMtDocs+":")
		case strings.HasPrefix(d, btnMtVote):
			if parts := strings.SplitN(strings.TrimPrefix(d, btnMtVote), ":", 3); len(parts) == 3 {
				return parts[2]
			}
			return ""
		}
	}
	if in.Kind != InCommand && strings.HasPrefix(s.State, "mt_") {
		return s.Draft[draftMtEvent]
	}
	return ""
}

// MeetingCandidates are the events a meeting command that names none may
// be about (several: the step asks which; none: Facts.Event). For staff
// who chose an event with /sukien, that one. Otherwise among the events
// the person is invited to (Facts.Events): those on now (from midnight of
// their day until they end), else the next one and any other starting on
// the same day.
func MeetingCandidates(s Session, f Facts) []domain.EventRecord {
	if s.StaffEvent != "" && f.Person != nil && f.Person.Has(domain.RoleStaff) {
		for _, rec := range f.AllEvents {
			if rec.Code == s.StaffEvent {
				return []domain.EventRecord{rec}
			}
		}
	}
	day := func(rec domain.EventRecord) time.Time {
		loc := rec.Event.Location
		if loc == nil {
			loc = time.UTC
		}
		st := rec.Event.Start.In(loc)
		return time.Date(st.Year(), st.Month(), st.Day(), 0, 0, 0, 0, loc)
	}
	var now []domain.EventRecord
	for _, rec := range f.Events {
		if !f.Now.Before(day(rec)) && f.Now.Before(rec.Event.End) {
			now = append(now, rec)
		}
	}
	if len(now) > 0 || len(f.Events) == 0 {
		return now
	}
	next := day(f.Events[0]) // soonest first
	var out []domain.EventRecord
	for _, rec := range f.Events {
		if day(rec).Equal(next) {
			out = append(out, rec)
		}
	}
	return out
}

// VoteButtonID returns the vote a button names, 0 when none: the bot layer
// loads that vote.
func VoteButtonID(in Input) int64 {
	if in.Kind != InButton || !strings.HasPrefix(in.Data, btnMtVote) {
		return 0
	}
	id, _, _ := strings.Cut(strings.TrimPrefix(in.Data, btnMtVote), ":")
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		return 0
	}
	return n
}

// DiscussionItem is the agenda item questions are gathered for: the first
// whose title says "thảo luận" (or "discussion" in English). The seed's
// 9h45–10h45 "Trao đổi, thảo luận" is it.
func DiscussionItem(ev *domain.Event) (domain.AgendaItem, bool) {
	for _, it := range ev.Agenda {
		if strings.Contains(strings.ToLower(it.TitleVI), "thảo luận") || strings.Contains(strings.ToLower(it.TitleEN), "discussion") {
			return it, true
		}
	}
	return domain.AgendaItem{}, false
}

// QuestionWindow is when questions and speaking requests are taken: from
// midnight of the day before the event (its time zone) until the discussion
// item ends (the event's end when there is none).
func QuestionWindow(ev *domain.Event) (from, to time.Time) {
	loc := ev.Location
	if loc == nil {
		loc = time.UTC
	}
	s := ev.Start.In(loc)
	from = time.Date(s.Year(), s.Month(), s.Day()-1, 0, 0, 0, 0, loc)
	to = ev.End
	if it, ok := DiscussionItem(ev); ok {
		to = it.End
	}
	return from, to
}

// useMeetingEvent makes the facts about the event the bot layer chose
// for the meeting input.
func (r *stepper) useMeetingEvent() bool {
	if m := r.f.Meeting; m != nil && m.Event != nil {
		r.f.Event = m.Event
		return true
	}
	// A question started for an event that is no longer the person's (closed,
	// archived, over): not sent to another.
	return !(strings.HasPrefix(r.s.State, "mt_") && r.s.Draft[draftMtEvent] != "")
}

// meetingEventGone ends a meeting form whose event is gone.
func (r *stepper) meetingEventGone() {
	r.refused = "meeting event gone"
	r.reset()
	r.say(r.t("event_gone"))
	r.menu()
}

// withMeetingEvent is a button payload carrying the meeting's event code.
func (r *stepper) withMeetingEvent(data string) string {
	if code := r.meeting().EventCode; code != "" {
		return data + ":" + code
	}
	return data
}

// pickMeetingEvent asks which event a command is about.
func (r *stepper) pickMeetingEvent(kind string) {
	var rows [][]Button
	for _, rec := range r.meeting().Choices {
		ev := rec.Event
		rows = append(rows, []Button{{clip(FormatDate(r.s.Lang, ev.Start.In(r.locOf(ev)))+" · "+ev.Name(r.s.Lang), 48), btnMtEvent + rec.Code + ":" + kind}})
	}
	r.say(r.t("mt_pick_event"), rows...)
}

func (r *stepper) meetingCommand(kind string) {
	r.reset()
	if m := r.meeting(); m.Event == nil && len(m.Choices) > 1 {
		r.pickMeetingEvent(kind)
		return
	}
	r.useMeetingEvent()
	switch kind {
	case "docs":
		r.meetingDocs()
	case "ask":
		r.startQuestion()
	case "speak":
		r.startSpeak()
	}
}

func (r *stepper) meeting() *MeetingFacts {
	if r.f.Meeting == nil {
		return &MeetingFacts{}
	}
	return r.f.Meeting
}

func (r *stepper) isDelegate() bool {
	p := r.f.Person
	return p != nil && (p.Has(domain.RoleDelegate) || p.Has(domain.RoleSubstitute))
}

func (r *stepper) meetingDocs() {
	if !r.isDelegate() && !r.isStaff() {
		r.refused = "documents by a non-delegate"
		r.say(r.t("mt_not_delegate"), r.menuButtons()...)
		return
	}
	docs := r.meeting().Docs
	if len(docs) == 0 {
		r.say(r.t("mt_docs_none"), r.menuButtons()...)
		return
	}
	var b strings.Builder
	b.WriteString(r.t("mt_docs_head", len(docs)))
	ids := make([]string, 0, len(docs))
	for _, d := range docs {
		b.WriteString("\n• " + r.docLabel(d))
		ids = append(ids, strconv.FormatInt(d.ID, 10))
	}
	r.say(b.String())
	r.tasks = append(r.tasks, Task{Name: "meeting_docs", Arg: r.f.Event.ID + "|" + strings.Join(ids, ",")})
}

// docLabel names a document with its agenda item.
func (r *stepper) docLabel(d domain.MeetingDoc) string {
	label := d.Title
	if d.Internal {
		label = "🔒 " + label
	}
	if it, ok := agendaItem(r.f.Event, d.AgendaNo); ok {
		label += " — " + r.t("mt_item", it.No, clip(it.Title(r.s.Lang), 60))
	}
	return label
}

func agendaItem(ev *domain.Event, no int) (domain.AgendaItem, bool) {
	for _, it := range ev.Agenda {
		if it.No == no && no > 0 {
			return it, true
		}
	}
	return domain.AgendaItem{}, false
}

// mayAsk checks who and when, and tells the person why not.
func (r *stepper) mayAsk() bool {
	if !r.isDelegate() {
		r.refused = "question by a non-delegate"
		r.say(r.t("mt_not_delegate"), r.menuButtons()...)
		return false
	}
	from, to := QuestionWindow(r.f.Event)
	switch {
	case r.f.Now.Before(from):
		r.say(r.t("mt_q_before", r.dateTime(from), r.dateTime(to)), r.menuButtons()...)
		return false
	case !r.f.Now.Before(to):
		r.say(r.t("mt_q_after", r.dateTime(to), r.organizer()), r.menuButtons()...)
		return false
	case r.meeting().RecentQuestions >= MaxQuestionsPerWindow:
		r.say(r.t("mt_q_rate", r.meeting().RecentQuestions, int(QuestionRateWindow.Minutes())), r.menuButtons()...)
		return false
	}
	return true
}

func (r *stepper) startQuestion() {
	if !r.mayAsk() {
		return
	}
	r.s.Draft = map[string]string{draftMtEvent: r.meeting().EventCode}
	if text := strings.TrimSpace(r.in.Text); text != "" {
		if !r.questionText(text, MaxQuestionLen) {
			return
		}
		r.s.Draft["text"] = text
	}
	r.s.State = stateMtSubject
	r.say(r.t("mt_q_subject"), r.subjectButtons()...)
}

// questionText checks a question's (or topic's) length; too long is
// refused with nothing stored and the state kept.
func (r *stepper) questionText(text string, limit int) bool {
	n := utf8.RuneCountInString(text)
	if n == 0 {
		r.say(r.t("mt_q_empty"))
		return false
	}
	if n > limit {
		r.say(r.t("mt_q_long", n, limit))
		return false
	}
	return true
}

func (r *stepper) subjectButtons() [][]Button {
	rows := [][]Button{{{r.t("btn_mt_general"), btnMtSubject + "a0"}}}
	for _, it := range r.f.Event.Agenda {
		rows = append(rows, []Button{{r.t("mt_item", it.No, clip(it.Title(r.s.Lang), 40)), btnMtSubject + "a" + strconv.Itoa(it.No)}})
	}
	for _, d := range r.meeting().Docs {
		if d.Internal {
			continue
		}
		rows = append(rows, []Button{{"📎 " + clip(d.Title, 45), btnMtSubject + "d" + strconv.FormatInt(d.ID, 10)}})
	}
	return rows
}

// subjectName is what the chosen subject is called in messages.
func (r *stepper) subjectName() string {
	if id, err := strconv.ParseInt(r.s.Draft["doc"], 10, 64); err == nil && id > 0 {
		for _, d := range r.meeting().Docs {
			if d.ID == id {
				return d.Title
			}
		}
	}
	no, _ := strconv.Atoi(r.s.Draft["item"])
	if it, ok := agendaItem(r.f.Event, no); ok {
		return r.t("mt_item", it.No, it.Title(r.s.Lang))
	}
	return r.t("btn_mt_general")
}

func (r *stepper) startSpeak() {
	if !r.mayAsk() {
		return
	}
	r.s.Draft = map[string]string{draftMtEvent: r.meeting().EventCode}
	if it, ok := DiscussionItem(r.f.Event); ok {
		r.s.Draft["item"] = strconv.Itoa(it.No)
	}
	if topic := strings.TrimSpace(r.in.Text); topic != "" {
		if !r.questionText(topic, MaxTopicLen) {
			r.s.State = stateMtTopic
			return
		}
		r.saveQuestion(domain.QuestionSpeak, topic, false)
		return
	}
	r.s.State = stateMtTopic
	r.say(r.t("mt_sp_topic", MaxTopicLen))
}

// meetingAnswer takes typed text in a meeting state.
func (r *stepper) meetingAnswer() {
	if !r.useMeetingEvent() {
		r.meetingEventGone()
		return
	}
	switch r.s.State {
	case stateMtSubject:
		r.say(r.t("use_buttons"), r.subjectButtons()...)
	case stateMtAnon:
		r.say(r.t("use_buttons"), r.anonButtons())
	case stateMtText, stateMtTopic:
		if r.in.Kind != InText {
			r.say(r.t("mt_q_empty"))
			return
		}
		text := strings.TrimSpace(r.in.Text)
		if r.s.State == stateMtTopic {
			if r.questionText(text, MaxTopicLen) {
				r.saveQuestion(domain.QuestionSpeak, text, false)
			}
			return
		}
		if !r.questionText(text, MaxQuestionLen) {
			return
		}
		r.s.Draft = cloneDraft(r.s.Draft)
		r.s.Draft["text"] = text
		r.afterQuestionText()
	}
}

func cloneDraft(d map[string]string) map[string]string {
	out := make(map[string]string, len(d)+1)
	for k, v := range d {
		out[k] = v
	}
	return out
}

func (r *stepper) afterQuestionText() {
	if r.meeting().AllowAnonymous {
		r.s.State = stateMtAnon
		r.say(r.t("mt_q_anon"), r.anonButtons())
		return
	}
	r.saveQuestion(domain.QuestionAsk, r.s.Draft["text"], false)
}

func (r *stepper) anonButtons() []Button {
	return []Button{{r.t("btn_mt_named"), btnMtAnon + "0"}, {r.t("btn_mt_anon"), btnMtAnon + "1"}}
}

func (r *stepper) saveQuestion(kind, text string, anonymous bool) {
	// The window and the rate are checked again at the last step: a form
	// started before the end is not sent after it.
	if !r.mayAsk() {
		r.reset()
		return
	}
	no, _ := strconv.Atoi(r.s.Draft["item"])
	doc, _ := strconv.ParseInt(r.s.Draft["doc"], 10, 64)
	subject := r.subjectName()
	r.effects = append(r.effects, domain.AskQuestion{Question: domain.Question{
		EventID: r.f.Event.ID, PersonID: r.f.Person.ID, Kind: kind, AgendaNo: no, DocumentID: doc,
		Body: text, Anonymous: anonymous,
	}})
	if anonymous {
		// Shown without a name, still audited: who asked stays on record.
		r.effects = append(r.effects, domain.Audit{PersonID: r.f.Person.ID, Action: "meeting.question.anonymous",
			Detail: clip(text, 80), Channel: r.f.Channel})
	}
	r.reset()
	if kind == domain.QuestionSpeak {
		r.say(r.t("mt_sp_saved", clip(text, 80)), r.menuButtons()...)
		return
	}
	r.say(r.t("mt_q_saved", subject), r.menuButtons()...)
}

// meetingButton handles the meeting's buttons; false when d is not one.
func (r *stepper) meetingButton(d string) bool {
	if !strings.HasPrefix(d, btnMtPrefix) {
		return false
	}
	switch {
	case strings.HasPrefix(d, btnMtEvent):
		kind := d[strings.LastIndexByte(d, ':')+1:]
		if m := r.meeting(); m.Event == nil || (kind != "docs" && kind != "ask" && kind != "speak") {
			r.refused = "unknown meeting event"
			r.reset()
			r.say(r.t("event_gone"))
			r.menu()
			return true
		}
		r.meetingCommand(kind)
		return true
	}
	if !r.useMeetingEvent() {
		r.meetingEventGone()
		return true
	}
	switch {
	case d == btnMtDocs || strings.HasPrefix(d, btnMtDocs+":"):
		r.reset()
		r.meetingDocs()
	case strings.HasPrefix(d, btnMtSubject):
		if r.s.State != stateMtSubject {
			r.say(r.t("stale_button"))
			r.menu()
			return true
		}
		v := strings.TrimPrefix(d, btnMtSubject)
		r.s.Draft = cloneDraft(r.s.Draft)
		switch {
		case strings.HasPrefix(v, "a"):
			no, err := strconv.Atoi(v[1:])
			if _, ok := agendaItem(r.f.Event, no); err != nil || (no != 0 && !ok) {
				r.refused = "unknown agenda item"
				r.say(r.t("use_buttons"), r.subjectButtons()...)
				return true
			}
			r.s.Draft["item"] = strconv.Itoa(no)
		case strings.HasPrefix(v, "d"):
			id, err := strconv.ParseInt(v[1:], 10, 64)
			found := false
			for _, doc := range r.meeting().Docs {
				if err == nil && doc.ID == id && !doc.Internal {
					found = true
					r.s.Draft["doc"] = strconv.FormatInt(id, 10)
					r.s.Draft["item"] = strconv.Itoa(doc.AgendaNo)
				}
			}
			if !found {
				r.refused = "unknown document"
				r.say(r.t("use_buttons"), r.subjectButtons()...)
				return true
			}
		default:
			r.say(r.t("use_buttons"), r.subjectButtons()...)
			return true
		}
		if r.s.Draft["text"] != "" {
			r.afterQuestionText()
			return true
		}
		r.s.State = stateMtText
		r.say(r.t("mt_q_text", r.subjectName(), MaxQuestionLen))
	case strings.HasPrefix(d, btnMtAnon):
		if r.s.State != stateMtAnon || !r.meeting().AllowAnonymous {
			// Staff turned anonymity off meanwhile: the question is not
			// sent with a name the person chose to hide.
			r.reset()
			r.say(r.t("stale_button"))
			r.menu()
			return true
		}
		r.saveQuestion(domain.QuestionAsk, r.s.Draft["text"], d == btnMtAnon+"1")
	case strings.HasPrefix(d, btnMtVote):
		r.vote(d)
	default:
		r.say(r.t("stale_button"))
		r.menu()
	}
	return true
}

func (r *stepper) vote(d string) {
	m := r.meeting()
	parts := strings.SplitN(strings.TrimPrefix(d, btnMtVote), ":", 3)
	v := m.Vote
	if v == nil || len(parts) < 2 || v.EventID != r.f.Event.ID || strconv.FormatInt(v.ID, 10) != parts[0] {
		r.refused = "unknown vote"
		r.say(r.t("mt_v_gone"))
		return
	}
	choice, err := strconv.Atoi(parts[1])
	choices := v.Choices()
	if err != nil || choice < 1 || choice > len(choices) {
		r.refused = "bad vote choice"
		r.say(r.t("mt_v_gone"))
		return
	}
	switch {
	case !r.isDelegate():
		r.refused = "vote by a non-delegate"
		r.say(r.t("mt_not_delegate"))
	case !m.CheckedIn:
		r.say(r.t("mt_v_not_checked"))
	case v.Status != domain.VoteOpen:
		r.say(r.t("mt_v_closed", v.Question))
	case m.MyChoice == choice:
		r.say(r.t("mt_v_same", choices[choice-1]))
	default:
		r.effects = append(r.effects, domain.CastVote{EventID: v.EventID, VoteID: v.ID, PersonID: r.f.Person.ID, Choice: choice})
		r.say(r.t("mt_v_saved", choices[choice-1], v.Question))
	}
}

// --- messages the bot layer sends for the meeting ------------------------------

// VoteMessage is a vote as delegates get it: the question and one button
// per choice.
func VoteMessage(lang domain.Lang, v domain.Vote, eventCode string) Reply {
	key := msg("mt_vote_ask")
	if v.Kind == domain.VoteRating {
		key = "mt_vote_rating"
	}
	var rows [][]Button
	var row []Button
	for i, c := range v.Choices() {
		b := Button{Label: clip(c, 40), Data: btnMtVote + strconv.FormatInt(v.ID, 10) + ":" + strconv.Itoa(i+1)}
		if eventCode != "" {
			b.Data += ":" + eventCode // the vote's event, among the person's several
		}
		if v.Kind == domain.VoteRating {
			row = append(row, b)
			continue
		}
		rows = append(rows, []Button{b})
	}
	if len(row) > 0 {
		rows = append(rows, row)
	}
	return Reply{Text: t(lang, key, v.Question), Buttons: rows}
}

// QuestionDone tells a delegate their question was answered (with staff's
// answer when written) or their turn to speak has come.
func QuestionDone(lang domain.Lang, q domain.Question) Reply {
	switch {
	case q.Status == domain.QuestionCalled:
		return Reply{Text: t(lang, "mt_turn", clip(q.Body, 120))}
	case strings.TrimSpace(q.Answer) != "":
		return Reply{Text: t(lang, "mt_answered", clip(q.Body, 300), q.Answer)}
	}
	return Reply{Text: t(lang, "mt_answered_live", clip(q.Body, 300))}
}

// DocumentMessage is one document sent to a delegate: the file, and a
// button opening it on the web (link "" leaves it out).
func DocumentMessage(lang domain.Lang, ev *domain.Event, d domain.MeetingDoc, link string) Reply {
	r := &stepper{s: Session{Lang: lang}, f: Facts{Event: ev}}
	rep := Reply{Text: t(lang, "mt_doc", r.docLabel(d)), File: &File{Name: d.FileName, MIME: d.MIME, Blob: d.SHA256}}
	if link != "" {
		rep.Link = &LinkButton{Label: t(lang, "btn_mt_open"), URL: link}
	}
	return rep
}

// DocumentsIntro heads the scheduled delivery of the documents.
func DocumentsIntro(lang domain.Lang, ev *domain.Event) Reply {
	return Reply{Text: t(lang, "mt_docs_intro", ev.Name(lang))}
}

var meetingCatalogs = map[domain.Lang]map[msg]string{
	domain.Vietnamese: {
		"mt_item":          "Mục %d: %s",
		"mt_not_delegate":  "Chức năng này dành cho đại biểu được mời dự Hội nghị.",
		"mt_docs_none":     "Chưa có tài liệu nào cho Hội nghị. Khi Ban tổ chức đăng tài liệu, anh/chị sẽ nhận được trong cuộc trò chuyện này.",
		"mt_docs_head":     "📎 Tài liệu Hội nghị (%d), gửi ngay sau đây:",
		"mt_docs_intro":    "📎 Tài liệu của %s, gửi để anh/chị đọc trước. Gõ /tailieu để nhận lại bất cứ lúc nào.",
		"mt_doc":           "📎 %s",
		"btn_mt_open":      "🌐 Mở trên web",
		"mt_q_before":      "Ban tổ chức nhận câu hỏi và đăng ký phát biểu từ %s đến %s. Xin anh/chị gửi lại khi đó.",
		"mt_q_after":       "Phần trao đổi, thảo luận đã kết thúc lúc %s nên không nhận thêm câu hỏi hay đăng ký phát biểu. Cần trao đổi thêm, xin liên hệ Ban tổ chức: %s.",
		"mt_q_rate":        "Anh/chị đã gửi %d câu hỏi, đăng ký trong %d phút qua. Xin đợi ít phút rồi gửi tiếp.",
		"mt_q_subject":     "Câu hỏi hoặc ý kiến của anh/chị về nội dung nào?",
		"btn_mt_general":   "Chung cho Hội nghị",
		"mt_q_text":        "Xin gõ câu hỏi hoặc ý kiến về «%s» (tối đa %d ký tự). Gõ /huy để thôi.",
		"mt_q_long":        "Nội dung dài %d ký tự, quá giới hạn %d ký tự nên chưa được gửi. Xin rút gọn rồi gửi lại.",
		"mt_q_empty":       "Xin gõ nội dung bằng chữ (hoặc /huy để thôi).",
		"mt_q_anon":        "Gửi câu hỏi kèm tên anh/chị hay ẩn danh? Ẩn danh: màn hình của chủ tọa không hiện tên; Ban tổ chức vẫn lưu lại để đối chiếu khi cần.",
		"btn_mt_named":     "👤 Gửi kèm tên",
		"btn_mt_anon":      "🕶 Gửi ẩn danh",
		"mt_q_saved":       "✅ Đã gửi câu hỏi về «%s» tới thư ký Hội nghị. Anh/chị sẽ được báo khi câu hỏi được trả lời.",
		"mt_sp_topic":      "Anh/chị muốn phát biểu về nội dung gì? Xin gõ ngắn gọn (tối đa %d ký tự). Gõ /huy để thôi.",
		"mt_sp_saved":      "✅ Đã đăng ký phát biểu về «%s». Thư ký Hội nghị sẽ báo khi đến lượt anh/chị.",
		"mt_v_not_checked": "Chỉ đại biểu đã điểm danh tại Hội nghị mới biểu quyết được. Xin điểm danh tại bàn đón tiếp.",
		"mt_v_closed":      "Biểu quyết «%s» đã kết thúc; lựa chọn này không được ghi nhận.",
		"mt_v_saved":       "✅ Đã ghi nhận lựa chọn «%s» cho «%s». Anh/chị có thể đổi đến khi biểu quyết kết thúc.",
		"mt_v_same":        "Anh/chị đã chọn «%s»; không có gì thay đổi.",
		"mt_v_gone":        "Biểu quyết này không còn. Xin dùng tin nhắn biểu quyết mới nhất.",
		"mt_vote_ask":      "🗳 Biểu quyết: %s\nXin chọn một phương án (có thể đổi đến khi kết thúc).",
		"mt_vote_rating":   "🗳 Xin cho ý kiến: %s\nChấm từ 1 (thấp nhất) đến 5 (cao nhất); có thể đổi đến khi kết thúc.",
		"mt_answered":      "💬 Câu hỏi của anh/chị đã được trả lời:\n«%s»\n\nTrả lời: %s",
		"mt_answered_live": "💬 Câu hỏi của anh/chị «%s» đã được trả lời tại Hội nghị. Cảm ơn anh/chị.",
		"mt_turn":          "🎤 Đến lượt anh/chị phát biểu về «%s». Xin anh/chị chuẩn bị; thư ký sẽ mời lên.",
		"help_meeting":     "/tailieu — tài liệu Hội nghị\n/cauhoi — gửi câu hỏi, ý kiến\n/phatbieu — đăng ký phát biểu",
		"mt_pick_event":    "Anh/chị được mời dự nhiều sự kiện trong thời gian này. Xin chọn sự kiện:",
	},
	domain.English: {
		"mt_item":          "Item %d: %s",
		"mt_not_delegate":  "This is for the delegates invited to the conference.",
		"mt_docs_none":     "There are no conference documents yet. When the organisers post them, you will get them in this chat.",
		"mt_docs_head":     "📎 Conference documents (%d), sent right after this:",
		"mt_docs_intro":    "📎 The documents of %s, for you to read beforehand. Type /documents to get them again at any time.",
		"mt_doc":           "📎 %s",
		"btn_mt_open":      "🌐 Open on the web",
		"mt_q_before":      "The organisers take questions and requests to speak from %s to %s. Please send yours then.",
		"mt_q_after":       "The discussion ended at %s, so no more questions or requests to speak are taken. To discuss further, please contact the organisers: %s.",
		"mt_q_rate":        "You have sent %d questions or requests in the last %d minutes. Please wait a few minutes before sending more.",
		"mt_q_subject":     "What is your question or comment about?",
		"btn_mt_general":   "The conference in general",
		"mt_q_text":        "Please type your question or comment about «%s» (at most %d characters). Type /cancel to stop.",
		"mt_q_long":        "Your text is %d characters long, over the limit of %d, so it was not sent. Please shorten it and send it again.",
		"mt_q_empty":       "Please type the text (or /cancel to stop).",
		"mt_q_anon":        "Send your question with your name, or anonymously? Anonymous: the chair's screen shows no name; the organisers still keep it on record.",
		"btn_mt_named":     "👤 With my name",
		"btn_mt_anon":      "🕶 Anonymously",
		"mt_q_saved":       "✅ Your question about «%s» was sent to the conference secretary. You will be told when it is answered.",
		"mt_sp_topic":      "What would you like to speak about? Please type it briefly (at most %d characters). Type /cancel to stop.",
		"mt_sp_saved":      "✅ Your request to speak about «%s» is registered. The secretary will tell you when it is your turn.",
		"mt_v_not_checked": "Only delegates who checked in at the conference can vote. Please check in at the reception desk.",
		"mt_v_closed":      "The vote «%s» is closed; this choice was not recorded.",
		"mt_v_saved":       "✅ Your choice «%s» for «%s» is recorded. You can change it until the vote closes.",
		"mt_v_same":        "You already chose «%s»; nothing changed.",
		"mt_v_gone":        "This vote no longer exists. Please use the latest vote message.",
		"mt_vote_ask":      "🗳 Vote: %s\nPlease choose one option (you can change it until the vote closes).",
		"mt_vote_rating":   "🗳 Your opinion please: %s\nRate from 1 (lowest) to 5 (highest); you can change it until the vote closes.",
		"mt_answered":      "💬 Your question was answered:\n«%s»\n\nAnswer: %s",
		"mt_answered_live": "💬 Your question «%s» was answered at the conference. Thank you.",
		"mt_turn":          "🎤 It is your turn to speak about «%s». Please get ready; the secretary will invite you.",
		"help_meeting":     "/documents — the conference documents\n/question — send a question or comment\n/speak — ask to speak",
		"mt_pick_event":    "You are invited to several events at this time. Please choose the event:",
	},
}

func init() {
	for lang, m := range meetingCatalogs {
		for k, v := range m {
			catalogs[lang][k] = v
		}
	}
}
