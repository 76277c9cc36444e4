package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"mime"
	"net/http"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/dieuphoi/dieuphoi/bot"
	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/export"
	"github.com/dieuphoi/dieuphoi/flows"
	"github.com/dieuphoi/dieuphoi/storage"
	"github.com/dieuphoi/dieuphoi/storage/files"
	"github.com/dieuphoi/dieuphoi/storage/sqlstore"
)

// The meeting's pages (issue 15): documents attached before, the live queue
// of questions and speaking requests for the chair's secretary (built for a
// projector or a tablet: large type, refreshed every few seconds), and votes.

// MeetingStore is what the meeting's pages read and change
// (storage/sqlstore/meeting.go).
type MeetingStore interface {
	AddMeetingDoc(ctx context.Context, d domain.MeetingDoc) (int64, error)
	MeetingDocs(ctx context.Context, eventID string, withInternal bool) ([]domain.MeetingDoc, error)
	MeetingDoc(ctx context.Context, eventID string, id int64) (domain.MeetingDoc, error)
	DeleteMeetingDoc(ctx context.Context, eventID string, id int64) error
	MarkDocOpened(ctx context.Context, eventID string, id int64, personID string, at time.Time) error
	MeetingDocStats(ctx context.Context, eventID string) (map[int64]sqlstore.DocStats, error)
	MeetingQuestions(ctx context.Context, eventID string) ([]domain.Question, error)
	FinishQuestion(ctx context.Context, eventID string, id int64, status, answer, by string, at time.Time) (domain.Question, error)
	MergeQuestion(ctx context.Context, eventID string, id, into int64, by string, at time.Time) error
	MoveQuestion(ctx context.Context, eventID string, id int64, up bool) error
	AllowAnonymous(ctx context.Context, eventID string) (bool, error)
	SetAllowAnonymous(ctx context.Context, eventID string, on bool) error
	OpenVote(ctx context.Context, v domain.Vote) (int64, error)
	CloseVote(ctx context.Context, eventID string, id int64, at time.Time) error
	Votes(ctx context.Context, eventID string) ([]domain.Vote, error)
	Vote(ctx context.Context, eventID string, id int64) (domain.Vote, error)
	VoteAnswers(ctx context.Context, voteID int64) ([]sqlstore.VoteAnswer, error)
}

// MeetingSender sends what the pages decide (the scheduler's outbox).
type MeetingSender interface {
	SendVote(ctx context.Context, v domain.Vote, personIDs []string) (int, error)
	NotifyQuestion(ctx context.Context, q domain.Question) (int, error)
}

// MeetingConfig is what the meeting's pages need.
type MeetingConfig struct {
	Store  MeetingStore
	Sender MeetingSender
	Files  interface {
		Put(r io.Reader, max int64) (string, int64, error)
		Open(sha256 string) (io.ReadCloser, error)
	}
	Links *bot.DocLinks // the delegates' personal document links
}

// Bounds on what staff type.
const (
	maxDocTitle    = 200
	maxVoteText    = 300
	maxVoteOptions = 10
	maxOptionLen   = 60
	maxAnswerLen   = 2000
)

func (c *Console) meetingRoutes(mux *http.ServeMux) {
	if c.cfg.Meeting == nil {
		return
	}
	mux.Handle("GET /admin/meeting", c.get(c.forEvent(c.serveMeeting)))
	mux.Handle("GET /admin/meeting/live", c.get(c.forEvent(c.serveMeetingLive)))
	mux.Handle("POST /admin/meeting/settings", c.post(c.forEvent(c.serveMeetingSettings)))
	mux.Handle("POST /admin/meeting/questions/{id}/{action}", c.post(c.forEvent(c.serveQuestionAction)))
	mux.Handle("GET /admin/meeting/docs", c.get(c.forEvent(c.serveMeetingDocs)))
	mux.Handle("POST /admin/meeting/docs", c.postLimit(c.forEvent(c.serveMeetingDocUpload), bot.MaxDocumentSize))
	mux.Handle("POST /admin/meeting/docs/{id}/delete", c.post(c.forEvent(c.serveMeetingDocDelete)))
	mux.Handle("GET /admin/meeting/docs/{id}", c.get(c.forEvent(c.serveMeetingDocFile)))
	mux.Handle("GET /admin/meeting/votes", c.get(c.forEvent(c.serveVotes)))
	mux.Handle("POST /admin/meeting/votes", c.post(c.forEvent(c.serveVoteOpen)))
	mux.Handle("POST /admin/meeting/votes/{id}/close", c.post(c.forEvent(c.serveVoteClose)))
	mux.Handle("GET /admin/meeting/export.xlsx", c.get(c.forEvent(c.serveMeetingExport)))
	mux.HandleFunc("GET /tailieu/{event}/{doc}/{person}/{sig}", c.serveDocLink)
}

func (c *Console) mstore() MeetingStore { return c.cfg.Meeting.Store }

// --- which event ------------------------------------------------------------------

// The meeting's and the plan's pages are about the event chosen in the
// console's switcher (?event=ID, remembered in the dp_event cookie), among
// the served event and every event not archived: the after-meeting pages
// are needed once an event is over. forEvent puts the choice in the
// request's context; the pages read it with meetingEvent.

type meetingEventKey struct{}

type meetingChoice struct {
	rec  domain.EventRecord
	list []domain.EventRecord
}

// withMeetingEvent is ctx about rec.
func withMeetingEvent(ctx context.Context, rec domain.EventRecord) context.Context {
	return context.WithValue(ctx, meetingEventKey{}, meetingChoice{rec: rec})
}

// meetingEvent is the event a meeting or plan page is about: the one
// chosen (forEvent), else the served event.
func (c *Console) meetingEvent(ctx context.Context) *domain.Event {
	if ch, ok := ctx.Value(meetingEventKey{}).(meetingChoice); ok {
		ev := ch.rec.Event
		return &ev
	}
	return c.cfg.Event
}

// meetingRecord is the record of meetingEvent (the served event's has no
// invitee list: everyone is its guest).
func (c *Console) meetingRecord(ctx context.Context) domain.EventRecord {
	if ch, ok := ctx.Value(meetingEventKey{}).(meetingChoice); ok {
		return ch.rec
	}
	return domain.EventRecord{Event: *c.cfg.Event, Status: domain.StatusOpen}
}

// eventID is the id of meetingEvent.
func (c *Console) eventID(ctx context.Context) string { return c.meetingEvent(ctx).ID }

// meetingEvents are the events the meeting's pages can be about: the
// served one first, then every other not archived.
func (c *Console) meetingEvents(ctx context.Context) ([]domain.EventRecord, error) {
	out := []domain.EventRecord{{Event: *c.cfg.Event, Status: domain.StatusOpen}}
	if c.cfg.Events == nil {
		return out, nil
	}
	list, err := c.cfg.Events.Events(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range list {
		switch {
		case r.Event.ID == c.cfg.Event.ID:
			out[0].Code = r.Code // everyone in the list is its guest
		case r.Status != domain.StatusArchived:
			out = append(out, r)
		}
	}
	return out, nil
}

// eventByID is the event id names, archived or not (a sent notice's
// link outlives its event).
func (c *Console) eventByID(ctx context.Context, id string) (*domain.Event, bool) {
	if id == c.cfg.Event.ID || c.cfg.Events == nil {
		return c.cfg.Event, id == c.cfg.Event.ID
	}
	list, err := c.cfg.Events.Events(ctx)
	if err != nil {
		c.cfg.Log.Error("console: events", "err", err)
		return nil, false
	}
	for _, r := range list {
		if r.Event.ID == id {
			ev := r.Event
			return &ev, true
		}
	}
	return nil, false
}

// forEvent runs h about the event chosen in the switcher.
func (c *Console) forEvent(h handler) handler {
	return func(w http.ResponseWriter, r *http.Request, s *session) {
		list, err := c.meetingEvents(r.Context())
		if err != nil {
			c.oops(w, r, s, "events", err)
			return
		}
		rec := c.pickEvent(w, r, list)
		h(w, r.WithContext(context.WithValue(r.Context(), meetingEventKey{}, meetingChoice{rec: rec, list: list})), s)
	}
}

// eventView puts the page's event, and the switcher's choices, in v.
func (c *Console) eventView(ctx context.Context, v *view) {
	ch, ok := ctx.Value(meetingEventKey{}).(meetingChoice)
	if !ok {
		return
	}
	ev := ch.rec.Event
	v.Event = &ev
	if len(ch.list) < 2 {
		return
	}
	now := c.cfg.Now()
	for _, e := range ch.list {
		v.Events = append(v.Events, deskEvent{ID: e.Event.ID, Name: e.Event.NameVI, Today: today(e.Event, now)})
	}
}

// --- the live queue ------------------------------------------------------------

type questionRow struct {
	domain.Question
	Who, Agency, Subject string
	Speak, Done          bool
}

type choiceRow struct {
	Label string
	N     int
	Pct   int
}

type voteRow struct {
	domain.Vote
	Results []choiceRow
	Total   int
	Average string // ratings: "4,2"
}

type meetingView struct {
	Open, Done []questionRow
	Anonymous  bool
	Window     string
	Votes      []voteRow
	Now        string
	// Version changes whenever what the queue shows changes: the page
	// replaces its list only then.
	Version string
}

func (c *Console) meetingData(ctx context.Context, openVotesOnly bool) (meetingView, error) {
	var v meetingView
	qs, err := c.mstore().MeetingQuestions(ctx, c.eventID(ctx))
	if err != nil {
		return v, err
	}
	docs, err := c.mstore().MeetingDocs(ctx, c.eventID(ctx), true)
	if err != nil {
		return v, err
	}
	titles := map[int64]string{}
	for _, d := range docs {
		titles[d.ID] = d.Title
	}
	dir := c.cfg.Directory()
	for _, q := range qs {
		row := questionRow{Question: q, Speak: q.Kind == domain.QuestionSpeak}
		if p, ok := dir.Person(q.PersonID); ok {
			row.Who = p.FullName
			if a, ok := dir.Agency(p.AgencyCode); ok {
				row.Agency = a.NameVI
			}
		}
		if q.Anonymous {
			row.Who, row.Agency = "Ẩn danh", ""
		}
		switch {
		case q.DocumentID > 0 && titles[q.DocumentID] != "":
			row.Subject = "📎 " + titles[q.DocumentID]
		default:
			row.Subject = "Chung"
			for _, it := range c.meetingEvent(ctx).Agenda {
				if it.No == q.AgendaNo {
					row.Subject = fmt.Sprintf("Mục %d: %s", it.No, it.TitleVI)
				}
			}
		}
		if q.Status == domain.QuestionOpen || q.Status == domain.QuestionCalled {
			v.Open = append(v.Open, row)
		} else {
			row.Done = true
			v.Done = append(v.Done, row)
		}
	}
	if v.Anonymous, err = c.mstore().AllowAnonymous(ctx, c.eventID(ctx)); err != nil {
		return v, err
	}
	from, to := flows.QuestionWindow(c.meetingEvent(ctx))
	v.Window = c.fmtTime(from) + " – " + c.fmtTime(to)
	v.Now = c.now().Format("15:04:05")
	votes, err := c.mstore().Votes(ctx, c.eventID(ctx))
	if err != nil {
		return v, err
	}
	for _, vt := range votes {
		if openVotesOnly && vt.Status != domain.VoteOpen {
			continue
		}
		row, err := c.voteResults(ctx, vt)
		if err != nil {
			return v, err
		}
		v.Votes = append(v.Votes, row)
	}
	h := fnv.New64a()
	fmt.Fprint(h, v.Anonymous)
	for _, list := range [][]questionRow{v.Open, v.Done} {
		for _, q := range list {
			fmt.Fprint(h, "|", q.ID, q.Status, q.Rank, q.MergedInto, q.Answer)
		}
	}
	for _, vt := range v.Votes {
		fmt.Fprint(h, "|v", vt.ID, vt.Status, vt.Total)
		for _, r := range vt.Results {
			fmt.Fprint(h, ",", r.N)
		}
	}
	v.Version = strconv.FormatUint(h.Sum64(), 36)
	return v, nil
}

func (c *Console) voteResults(ctx context.Context, vt domain.Vote) (voteRow, error) {
	answers, err := c.mstore().VoteAnswers(ctx, vt.ID)
	if err != nil {
		return voteRow{}, err
	}
	row := voteRow{Vote: vt, Total: len(answers)}
	counts := make([]int, len(vt.Choices())+1)
	sum := 0
	for _, a := range answers {
		if a.Choice >= 1 && a.Choice < len(counts) {
			counts[a.Choice]++
			sum += a.Choice
		}
	}
	for i, label := range vt.Choices() {
		row.Results = append(row.Results, choiceRow{Label: label, N: counts[i+1], Pct: pct(counts[i+1], row.Total)})
	}
	if vt.Kind == domain.VoteRating && row.Total > 0 {
		row.Average = strings.Replace(strconv.FormatFloat(float64(sum)/float64(row.Total), 'f', 1, 64), ".", ",", 1)
	}
	return row, nil
}

func (c *Console) serveMeeting(w http.ResponseWriter, r *http.Request, s *session) {
	v, err := c.meetingData(r.Context(), true)
	if err != nil {
		c.oops(w, r, s, "meeting", err)
		return
	}
	pv := view{Title: "Câu hỏi và phát biểu", Data: v, Flash: flash(r.URL.Query().Get("msg"))}
	c.eventView(r.Context(), &pv)
	c.renderView(w, s, http.StatusOK, "meeting", pv)
}

// serveMeetingLive is the queue alone, for the page's refresh.
func (c *Console) serveMeetingLive(w http.ResponseWriter, r *http.Request, s *session) {
	v, err := c.meetingData(r.Context(), true)
	if err != nil {
		c.cfg.Log.Error("console: meeting live", "err", err)
		http.Error(w, "", http.StatusInternalServerError)
		return
	}
	var b bytes.Buffer
	if err := c.pages["meeting"].ExecuteTemplate(&b, "live", view{Data: v, CSRF: s.CSRF, Event: c.meetingEvent(r.Context())}); err != nil {
		c.cfg.Log.Error("console: render meeting live", "err", err)
		http.Error(w, "", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(b.Bytes())
}

func (c *Console) serveMeetingSettings(w http.ResponseWriter, r *http.Request, s *session) {
	on := r.PostFormValue("anonymous") == "on"
	if err := c.mstore().SetAllowAnonymous(r.Context(), c.eventID(r.Context()), on); err != nil {
		c.oops(w, r, s, "meeting settings", err)
		return
	}
	c.audit(r.Context(), s.Person.ID, "meeting.anonymous", strconv.FormatBool(on))
	c.redirect(w, r, "/admin/meeting", "meeting_saved")
}

func (c *Console) serveQuestionAction(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		c.fail(w, r, s, http.StatusNotFound, "Không tìm thấy", "Không có câu hỏi này.")
		return
	}
	now := c.cfg.Now()
	action := r.PathValue("action")
	detail := strconv.FormatInt(id, 10)
	msgKey := "meeting_saved"
	switch action {
	case "answer", "call":
		status, answer := domain.QuestionAnswered, strings.TrimSpace(r.PostFormValue("answer"))
		if action == "call" {
			status, answer = domain.QuestionCalled, ""
		}
		if utf8.RuneCountInString(answer) > maxAnswerLen {
			c.redirect(w, r, "/admin/meeting", "meeting_long")
			return
		}
		q, err := c.mstore().FinishQuestion(ctx, c.eventID(ctx), id, status, answer, s.Person.ID, now)
		if errors.Is(err, sqlstore.ErrQuestionDone) {
			c.redirect(w, r, "/admin/meeting", "meeting_done")
			return
		}
		if err != nil {
			c.oops(w, r, s, "finish question", err)
			return
		}
		c.audit(ctx, s.Person.ID, "meeting.question."+action, detail)
		if err := c.tellAsker(ctx, q); err != nil {
			c.oops(w, r, s, "notify question", err)
			return
		}
		msgKey = "meeting_told"
	case "merge":
		into, err := strconv.ParseInt(strings.TrimPrefix(strings.TrimSpace(r.PostFormValue("into")), "#"), 10, 64)
		if err != nil || into <= 0 {
			c.redirect(w, r, "/admin/meeting", "meeting_badmerge")
			return
		}
		err = c.mstore().MergeQuestion(ctx, c.eventID(ctx), id, into, s.Person.ID, now)
		if errors.Is(err, sqlstore.ErrQuestionDone) || errors.Is(err, storage.ErrNotFound) {
			c.redirect(w, r, "/admin/meeting", "meeting_badmerge")
			return
		}
		if err != nil {
			c.oops(w, r, s, "merge question", err)
			return
		}
		c.audit(ctx, s.Person.ID, "meeting.question.merge", detail+" → "+strconv.FormatInt(into, 10))
	case "up", "down":
		if err := c.mstore().MoveQuestion(ctx, c.eventID(ctx), id, action == "up"); err != nil && !errors.Is(err, storage.ErrNotFound) {
			c.oops(w, r, s, "move question", err)
			return
		}
		msgKey = ""
	default:
		c.fail(w, r, s, http.StatusNotFound, "Không tìm thấy", "Không có thao tác này.")
		return
	}
	c.redirect(w, r, "/admin/meeting", msgKey)
}

// tellAsker tells the person who sent q (and those whose duplicates were
// merged into it, when it is answered) in their chat.
func (c *Console) tellAsker(ctx context.Context, q domain.Question) error {
	if c.cfg.Meeting.Sender == nil || (q.Kind == domain.QuestionSpeak && q.Status == domain.QuestionAnswered) {
		// A speaker marked as done has spoken: nothing to tell them.
		return nil
	}
	if _, err := c.cfg.Meeting.Sender.NotifyQuestion(ctx, q); err != nil {
		return err
	}
	if q.Status != domain.QuestionAnswered {
		return nil
	}
	all, err := c.mstore().MeetingQuestions(ctx, c.eventID(ctx))
	if err != nil {
		return err
	}
	for _, m := range all {
		if m.Status == domain.QuestionMerged && m.MergedInto == q.ID {
			m.Status, m.Answer = domain.QuestionAnswered, q.Answer
			if _, err := c.cfg.Meeting.Sender.NotifyQuestion(ctx, m); err != nil {
				return err
			}
		}
	}
	return nil
}

// --- documents -----------------------------------------------------------------

type docRow struct {
	domain.MeetingDoc
	Item  string
	Stats sqlstore.DocStats
}

type docsView struct {
	Docs     []docRow
	Agenda   []domain.AgendaItem
	Invited  int // delegates who will attend: whom the documents go to
	MaxMB    int
	SendWhen string
}

func (c *Console) serveMeetingDocs(w http.ResponseWriter, r *http.Request, s *session) {
	c.renderDocs(w, r, s, http.StatusOK, "")
}

func (c *Console) renderDocs(w http.ResponseWriter, r *http.Request, s *session, status int, problem string) {
	ctx := r.Context()
	docs, err := c.mstore().MeetingDocs(ctx, c.eventID(ctx), true)
	if err != nil {
		c.oops(w, r, s, "meeting documents", err)
		return
	}
	stats, err := c.mstore().MeetingDocStats(ctx, c.eventID(ctx))
	if err != nil {
		c.oops(w, r, s, "meeting document figures", err)
		return
	}
	h, _, _, err := c.headcountOf(ctx, c.meetingRecord(ctx))
	if err != nil {
		c.oops(w, r, s, "headcount", err)
		return
	}
	v := docsView{Agenda: c.meetingEvent(ctx).Agenda, Invited: h.Total.Expected, MaxMB: bot.MaxDocumentSize >> 20}
	for _, d := range docs {
		row := docRow{MeetingDoc: d, Stats: stats[d.ID], Item: "Chung"}
		for _, it := range c.meetingEvent(ctx).Agenda {
			if it.No == d.AgendaNo {
				row.Item = fmt.Sprintf("Mục %d: %s", it.No, it.TitleVI)
			}
		}
		v.Docs = append(v.Docs, row)
	}
	pv := view{Title: "Tài liệu Hội nghị", Nav: "meeting", Data: v,
		Error: problem, Flash: flash(r.URL.Query().Get("msg"))}
	c.eventView(r.Context(), &pv)
	c.renderView(w, s, status, "meeting_docs", pv)
}

// Slides, besides the evidence kinds (PDF, Word, Excel, pictures).
const (
	mimePPTX = files.MIMEPPTX
	mimePPT  = files.MIMEPPT
)

// classifyDocument decides whether a file is a document a meeting takes
// (files.ClassifyDocument).
func classifyDocument(name string, head []byte) (string, bool) {
	return files.ClassifyDocument(name, head)
}

func (c *Console) serveMeetingDocUpload(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	title := strings.Join(strings.Fields(r.PostFormValue("title")), " ")
	item, _ := strconv.Atoi(r.PostFormValue("item"))
	if _, ok := findItem(c.meetingEvent(ctx), item); !ok {
		item = 0
	}
	f, fh, err := r.FormFile("file")
	if err != nil {
		c.renderDocs(w, r, s, http.StatusBadRequest, "Xin chọn tệp tài liệu (PDF, Word, Excel, PowerPoint hoặc ảnh).")
		return
	}
	defer f.Close()
	if fh.Size > bot.MaxDocumentSize {
		c.renderDocs(w, r, s, http.StatusRequestEntityTooLarge, fmt.Sprintf("Tệp lớn hơn %d MB, chưa lưu.", bot.MaxDocumentSize>>20))
		return
	}
	head := make([]byte, 512)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		c.oops(w, r, s, "read document", err)
		return
	}
	head = head[:n]
	mt, ok := classifyDocument(fh.Filename, head)
	if !ok {
		c.renderDocs(w, r, s, http.StatusUnsupportedMediaType,
			"Tệp «"+clipName(fh.Filename)+"» không phải tài liệu (chỉ nhận PDF, Word, Excel, PowerPoint hoặc ảnh), chưa lưu.")
		return
	}
	name := files.SafeName(fh.Filename, mt)
	if name == "" {
		name = "tai-lieu" + map[string]string{mimePPTX: ".pptx", mimePPT: ".ppt"}[mt]
	}
	if title == "" {
		title = strings.TrimSuffix(name, filepath.Ext(name))
	}
	if utf8.RuneCountInString(title) > maxDocTitle {
		c.renderDocs(w, r, s, http.StatusBadRequest, fmt.Sprintf("Tên tài liệu dài quá %d ký tự, chưa lưu.", maxDocTitle))
		return
	}
	sum, size, err := c.cfg.Meeting.Files.Put(io.MultiReader(bytes.NewReader(head), f), bot.MaxDocumentSize)
	if errors.Is(err, files.ErrTooLarge) {
		c.renderDocs(w, r, s, http.StatusRequestEntityTooLarge, fmt.Sprintf("Tệp lớn hơn %d MB, chưa lưu.", bot.MaxDocumentSize>>20))
		return
	}
	if err != nil {
		c.oops(w, r, s, "store document", err)
		return
	}
	d := domain.MeetingDoc{EventID: c.eventID(ctx), AgendaNo: item, Title: title, FileName: name, MIME: mt, SHA256: sum, Size: size,
		Internal: r.PostFormValue("internal") == "on", CreatedBy: s.Person.ID, CreatedAt: c.cfg.Now()}
	id, err := c.mstore().AddMeetingDoc(ctx, d)
	if err != nil {
		c.oops(w, r, s, "add document", err)
		return
	}
	c.audit(ctx, s.Person.ID, "meeting.document.add", fmt.Sprintf("%d %s (%s)", id, name, map[bool]string{true: "nội bộ", false: "đại biểu"}[d.Internal]))
	c.redirect(w, r, "/admin/meeting/docs", "doc_added")
}

func clipName(s string) string {
	s = domain.CleanName(s)
	if utf8.RuneCountInString(s) > 60 {
		return string([]rune(s)[:60]) + "…"
	}
	return s
}

func findItem(ev *domain.Event, no int) (domain.AgendaItem, bool) {
	for _, it := range ev.Agenda {
		if it.No == no {
			return it, true
		}
	}
	return domain.AgendaItem{}, false
}

func (c *Console) docID(w http.ResponseWriter, r *http.Request, s *session) (domain.MeetingDoc, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	var d domain.MeetingDoc
	if err == nil {
		d, err = c.mstore().MeetingDoc(r.Context(), c.eventID(r.Context()), id)
	}
	if err != nil {
		if !errors.Is(err, storage.ErrNotFound) && !errors.Is(err, strconv.ErrSyntax) {
			c.cfg.Log.Warn("console: meeting document", "err", err)
		}
		c.fail(w, r, s, http.StatusNotFound, "Không tìm thấy tài liệu", "Không có tài liệu này.")
		return d, false
	}
	return d, true
}

func (c *Console) serveMeetingDocDelete(w http.ResponseWriter, r *http.Request, s *session) {
	d, ok := c.docID(w, r, s)
	if !ok {
		return
	}
	if err := c.mstore().DeleteMeetingDoc(r.Context(), c.eventID(r.Context()), d.ID); err != nil {
		c.oops(w, r, s, "delete document", err)
		return
	}
	c.audit(r.Context(), s.Person.ID, "meeting.document.delete", fmt.Sprintf("%d %s", d.ID, d.FileName))
	c.redirect(w, r, "/admin/meeting/docs", "doc_deleted")
}

func (c *Console) serveMeetingDocFile(w http.ResponseWriter, r *http.Request, s *session) {
	d, ok := c.docID(w, r, s)
	if !ok {
		return
	}
	c.sendDoc(w, r, d)
}

// sendDoc serves a document: PDFs and pictures shown in the browser under a
// sandbox (no script, no access to the console), the rest downloaded.
func (c *Console) sendDoc(w http.ResponseWriter, r *http.Request, d domain.MeetingDoc) {
	f, err := c.cfg.Meeting.Files.Open(d.SHA256)
	if err != nil {
		c.cfg.Log.Warn("console: document file missing", "sha256", d.SHA256, "err", err)
		http.Error(w, "Không tìm thấy tệp.", http.StatusNotFound)
		return
	}
	defer f.Close()
	h := w.Header()
	disposition, ctype := "attachment", "application/octet-stream"
	if inlineTypes[d.MIME] {
		disposition, ctype = "inline", d.MIME
	}
	h.Set("Content-Security-Policy", "sandbox")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "private, no-store")
	h.Set("Content-Type", ctype)
	h.Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": d.FileName}))
	if _, err := io.Copy(w, f); err != nil {
		c.cfg.Log.Warn("console: send document", "err", err)
	}
}

// serveDocLink serves a delegate's personal link to a document and counts
// the opening. A wrong signature, an internal or removed document: 404.
func (c *Console) serveDocLink(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w)
	notFound := func() {
		http.Error(w, "Không tìm thấy tài liệu, hoặc liên kết không đúng.", http.StatusNotFound)
	}
	links := c.cfg.Meeting.Links
	ev, person, sig := r.PathValue("event"), r.PathValue("person"), r.PathValue("sig")
	id, err := strconv.ParseInt(r.PathValue("doc"), 10, 64)
	if links == nil || err != nil || len(sig) > 64 || len(person) > 100 || len(ev) > 100 || !links.Valid(ev, id, person, sig) {
		notFound()
		return
	}
	d, err := c.mstore().MeetingDoc(r.Context(), ev, id)
	if err != nil || d.Internal {
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			c.cfg.Log.Warn("document link", "err", err)
		}
		notFound()
		return
	}
	if err := c.mstore().MarkDocOpened(r.Context(), ev, id, person, c.cfg.Now()); err != nil {
		c.cfg.Log.Warn("document link: count opening", "err", err)
	}
	c.sendDoc(w, r, d)
}

// --- votes ---------------------------------------------------------------------

type votesView struct {
	Votes     []voteRow
	CheckedIn int
}

func (c *Console) serveVotes(w http.ResponseWriter, r *http.Request, s *session) {
	c.renderVotes(w, r, s, http.StatusOK, "")
}

func (c *Console) renderVotes(w http.ResponseWriter, r *http.Request, s *session, status int, problem string) {
	v, err := c.meetingData(r.Context(), false)
	if err != nil {
		c.oops(w, r, s, "votes", err)
		return
	}
	ids, err := c.checkedInDelegates(r.Context())
	if err != nil {
		c.oops(w, r, s, "check-ins", err)
		return
	}
	pv := view{Title: "Biểu quyết, lấy ý kiến", Nav: "meeting",
		Data: votesView{Votes: v.Votes, CheckedIn: len(ids)}, Error: problem, Flash: flash(r.URL.Query().Get("msg"))}
	c.eventView(r.Context(), &pv)
	c.renderView(w, s, status, "meeting_votes", pv)
}

// checkedInDelegates are who a vote goes to: delegates and substitutes who
// checked in.
func (c *Console) checkedInDelegates(ctx context.Context) ([]string, error) {
	_, checks, err := c.eventAnswers(ctx, c.eventID(ctx))
	if err != nil {
		return nil, err
	}
	dir := c.cfg.Directory()
	var ids []string
	for id := range checks {
		if p, ok := dir.Person(id); ok && (p.Has(domain.RoleDelegate) || p.Has(domain.RoleSubstitute)) {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids, nil
}

func (c *Console) serveVoteOpen(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	question := strings.Join(strings.Fields(r.PostFormValue("question")), " ")
	kind := r.PostFormValue("kind")
	var options []string
	switch {
	case question == "":
		c.renderVotes(w, r, s, http.StatusBadRequest, "Xin nhập câu hỏi biểu quyết.")
		return
	case utf8.RuneCountInString(question) > maxVoteText:
		c.renderVotes(w, r, s, http.StatusBadRequest, fmt.Sprintf("Câu hỏi dài quá %d ký tự.", maxVoteText))
		return
	case kind == domain.VoteRating:
	case kind == domain.VoteOptions:
		options = domain.SplitOptions(r.PostFormValue("options"))
		if len(options) < 2 || len(options) > maxVoteOptions {
			c.renderVotes(w, r, s, http.StatusBadRequest, fmt.Sprintf("Xin nhập từ 2 đến %d phương án, mỗi dòng một phương án.", maxVoteOptions))
			return
		}
		for _, o := range options {
			if utf8.RuneCountInString(o) > maxOptionLen {
				c.renderVotes(w, r, s, http.StatusBadRequest, fmt.Sprintf("Mỗi phương án tối đa %d ký tự.", maxOptionLen))
				return
			}
		}
	default:
		c.renderVotes(w, r, s, http.StatusBadRequest, "Xin chọn kiểu biểu quyết.")
		return
	}
	v := domain.Vote{EventID: c.eventID(ctx), Question: question, Kind: kind, Options: options, Status: domain.VoteOpen,
		CreatedBy: s.Person.ID, OpenedAt: c.cfg.Now()}
	id, err := c.mstore().OpenVote(ctx, v)
	if err != nil {
		c.oops(w, r, s, "open vote", err)
		return
	}
	v.ID = id
	c.audit(ctx, s.Person.ID, "meeting.vote.open", fmt.Sprintf("%d %s", id, question))
	ids, err := c.checkedInDelegates(ctx)
	if err != nil {
		c.oops(w, r, s, "check-ins", err)
		return
	}
	if c.cfg.Meeting.Sender != nil && len(ids) > 0 {
		if _, err := c.cfg.Meeting.Sender.SendVote(ctx, v, ids); err != nil {
			c.oops(w, r, s, "send vote", err)
			return
		}
	}
	c.redirect(w, r, "/admin/meeting/votes", "vote_opened")
}

func (c *Console) serveVoteClose(w http.ResponseWriter, r *http.Request, s *session) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		c.fail(w, r, s, http.StatusNotFound, "Không tìm thấy", "Không có biểu quyết này.")
		return
	}
	if err := c.mstore().CloseVote(r.Context(), c.eventID(r.Context()), id, c.cfg.Now()); err != nil {
		c.oops(w, r, s, "close vote", err)
		return
	}
	c.audit(r.Context(), s.Person.ID, "meeting.vote.close", strconv.FormatInt(id, 10))
	c.redirect(w, r, "/admin/meeting/votes", "vote_closed")
}

// serveMeetingExport writes the votes (results and each answer) and the
// questions to an Excel file.
func (c *Console) serveMeetingExport(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	v, err := c.meetingData(ctx, false)
	if err != nil {
		c.oops(w, r, s, "meeting export", err)
		return
	}
	x := excelize.NewFile()
	defer x.Close()
	bold, _ := x.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDEBF7"}}})
	dir := c.cfg.Directory()
	sheets := []struct {
		name string
		head []any
		rows [][]any
	}{
		{name: "Kết quả", head: []any{"Mã", "Câu hỏi", "Trạng thái", "Phương án", "Số phiếu", "Tỷ lệ (%)"}},
		{name: "Phiếu", head: []any{"Mã biểu quyết", "Câu hỏi", "Mã người", "Họ và tên", "Đơn vị", "Lựa chọn", "Lúc", "Số lần đổi"}},
		{name: "Câu hỏi", head: []any{"Mã", "Loại", "Người gửi", "Đơn vị", "Nội dung về", "Nội dung", "Trạng thái", "Trả lời", "Gửi lúc"}},
	}
	for _, vr := range v.Votes {
		status := map[string]string{domain.VoteOpen: "đang mở", domain.VoteClosed: "đã kết thúc"}[vr.Status]
		for _, res := range vr.Results {
			sheets[0].rows = append(sheets[0].rows, []any{vr.ID, export.CleanText(vr.Question), status, export.CleanText(res.Label), res.N, pct(res.N, vr.Total)})
		}
		answers, err := c.mstore().VoteAnswers(ctx, vr.ID)
		if err != nil {
			c.oops(w, r, s, "meeting export", err)
			return
		}
		choices := vr.Choices()
		for _, a := range answers {
			p, _ := dir.Person(a.PersonID)
			ag, _ := dir.Agency(p.AgencyCode)
			label := ""
			if a.Choice >= 1 && a.Choice <= len(choices) {
				label = choices[a.Choice-1]
			}
			sheets[1].rows = append(sheets[1].rows, []any{vr.ID, export.CleanText(vr.Question), a.PersonID, p.FullName, ag.NameVI,
				export.CleanText(label), c.fmtTime(a.At), a.Changes})
		}
	}
	for _, list := range [][]questionRow{v.Open, v.Done} {
		for _, q := range list {
			kind := map[bool]string{true: "Đăng ký phát biểu", false: "Câu hỏi, ý kiến"}[q.Speak]
			sheets[2].rows = append(sheets[2].rows, []any{q.ID, kind, q.Who, q.Agency, export.CleanText(q.Subject), export.CleanText(q.Body),
				questionStatus[q.Status], export.CleanText(q.Answer), c.fmtTime(q.CreatedAt)})
		}
	}
	for i, sh := range sheets {
		if i == 0 {
			_ = x.SetSheetName("Sheet1", sh.name)
		} else if _, err := x.NewSheet(sh.name); err != nil {
			c.oops(w, r, s, "meeting export", err)
			return
		}
		if err := x.SetSheetRow(sh.name, "A1", &sh.head); err != nil {
			c.oops(w, r, s, "meeting export", err)
			return
		}
		last, _ := excelize.CoordinatesToCellName(len(sh.head), 1)
		_ = x.SetCellStyle(sh.name, "A1", last, bold)
		for n, row := range sh.rows {
			cell, _ := excelize.CoordinatesToCellName(1, n+2)
			if err := x.SetSheetRow(sh.name, cell, &row); err != nil {
				c.oops(w, r, s, "meeting export", err)
				return
			}
		}
		_ = x.SetPanes(sh.name, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"})
	}
	var buf bytes.Buffer
	if err := x.Write(&buf); err != nil {
		c.oops(w, r, s, "meeting export", err)
		return
	}
	c.audit(ctx, s.Person.ID, "export", "meeting.xlsx")
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": "hoi-nghi-" + c.eventID(ctx) + ".xlsx"}))
	_, _ = w.Write(buf.Bytes())
}

var questionStatus = map[string]string{
	domain.QuestionOpen: "chờ", domain.QuestionCalled: "đã mời phát biểu", domain.QuestionAnswered: "đã trả lời", domain.QuestionMerged: "đã gộp",
}

func init() {
	for k, v := range map[string]string{
		"meeting_saved":    "Đã lưu.",
		"meeting_told":     "Đã ghi nhận; đại biểu được báo trong trò chuyện.",
		"meeting_done":     "Mục này đã được xử lý trước đó.",
		"meeting_long":     "Câu trả lời quá dài (tối đa 2.000 ký tự), chưa lưu.",
		"meeting_badmerge": "Không gộp được: xin nhập số (#) của một câu hỏi khác còn đang chờ.",
		"doc_added":        "Đã đăng tài liệu.",
		"doc_deleted":      "Đã gỡ tài liệu. Những bản đã gửi vẫn ở chỗ đại biểu.",
		"vote_opened":      "Đã mở biểu quyết và gửi tới đại biểu đã điểm danh.",
		"vote_closed":      "Đã kết thúc biểu quyết; lựa chọn gửi sau đó không được ghi nhận.",
	} {
		flashes[k] = v
	}
}
