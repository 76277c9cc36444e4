package bot

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
	"github.com/dieuphoi/dieuphoi/storage"
)

// MeetingStore is what the meeting's chat steps read and record
// (storage/sqlstore/meeting.go).
type MeetingStore interface {
	MeetingDocs(ctx context.Context, eventID string, withInternal bool) ([]domain.MeetingDoc, error)
	AllowAnonymous(ctx context.Context, eventID string) (bool, error)
	QuestionsSince(ctx context.Context, personID string, since time.Time) (int, error)
	CheckedIn(ctx context.Context, eventID, personID string) (bool, error)
	Vote(ctx context.Context, eventID string, id int64) (domain.Vote, error)
	MyVote(ctx context.Context, voteID int64, personID string) (int, error)
	MarkDocReceived(ctx context.Context, eventID string, id int64, personID string, at time.Time) error
}

// BlobOpener reads stored files by SHA-256 (storage/files).
type BlobOpener interface {
	Open(sha256 string) (io.ReadCloser, error)
}

// Meeting is the dispatcher's part of the meeting: the store, the stored
// documents and their signed web links. Set with SetMeeting.
type Meeting struct {
	Store MeetingStore
	Files BlobOpener
	Links *DocLinks // nil: documents go without a web link
}

// SetMeeting turns the meeting's commands on (/tailieu, /cauhoi, /phatbieu,
// votes).
func (d *Dispatcher) SetMeeting(m *Meeting) {
	d.mu.Lock()
	d.meeting = m
	d.tasks["meeting_docs"] = d.meetingDocsTask
	d.mu.Unlock()
}

func (d *Dispatcher) meetingConf() *Meeting {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.meeting
}

// loadMeeting fills f.Meeting for the meeting's inputs, about the event
// the input names or the person's event on now or next (after eventFacts).
func (d *Dispatcher) loadMeeting(ctx context.Context, in Inbound, s flows.Session, f *flows.Facts) error {
	m := d.meetingConf()
	if m == nil || f.Person == nil || !flows.WantsMeeting(s, in.Input) {
		return nil
	}
	p := f.Person
	mf := &flows.MeetingFacts{}
	if id := flows.FeedbackButtonEvent(in.Input); id != "" {
		// A feedback form comes after its event: any event on record.
		recs, err := d.eventRecords(ctx)
		if err != nil {
			return fmt.Errorf("meeting facts: %w", err)
		}
		for _, r := range recs {
			if r.Event.ID == id && r.Status != domain.StatusArchived {
				mf.FeedbackEvent = id
			}
		}
		f.Meeting = mf
		return nil
	}
	ev, err := d.meetingEvent(ctx, s, in, f, mf)
	if err != nil {
		return fmt.Errorf("meeting facts: %w", err)
	}
	if ev == nil {
		f.Meeting = mf // nothing named that the person may use, or a choice to make
		return nil
	}
	staff := p.Has(domain.RoleStaff) && f.Proof.Verified()
	if mf.Docs, err = m.Store.MeetingDocs(ctx, ev.ID, staff); err != nil {
		return fmt.Errorf("meeting facts: %w", err)
	}
	if mf.AllowAnonymous, err = m.Store.AllowAnonymous(ctx, ev.ID); err != nil {
		return fmt.Errorf("meeting facts: %w", err)
	}
	if mf.RecentQuestions, err = m.Store.QuestionsSince(ctx, p.ID, f.Now.Add(-flows.QuestionRateWindow)); err != nil {
		return fmt.Errorf("meeting facts: %w", err)
	}
	if id := flows.VoteButtonID(in.Input); id > 0 {
		v, err := m.Store.Vote(ctx, ev.ID, id)
		switch {
		case errors.Is(err, storage.ErrNotFound):
		case err != nil:
			return fmt.Errorf("meeting facts: %w", err)
		default:
			mf.Vote = &v
			if mf.MyChoice, err = m.Store.MyVote(ctx, id, p.ID); err != nil {
				return fmt.Errorf("meeting facts: %w", err)
			}
			if mf.CheckedIn, err = m.Store.CheckedIn(ctx, ev.ID, p.ID); err != nil {
				return fmt.Errorf("meeting facts: %w", err)
			}
		}
	}
	f.Meeting = mf
	return nil
}

// tasksOf are p's tasks in every event not archived, the served event's
// first (/congviec; flows.TaskRef tells them apart).
func (d *Dispatcher) tasksOf(ctx context.Context, p domain.Person) ([]domain.Task, error) {
	out, err := d.taskStore.TasksOf(ctx, d.event.ID, p.ID, p.AgencyCode, p.Has(domain.RoleFocal))
	if err != nil {
		return nil, err
	}
	recs, err := d.eventRecords(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		if r.Event.ID == d.event.ID || r.Status == domain.StatusArchived {
			continue
		}
		ts, err := d.taskStore.TasksOf(ctx, r.Event.ID, p.ID, p.AgencyCode, p.Has(domain.RoleFocal))
		if err != nil {
			return nil, err
		}
		out = append(out, ts...)
	}
	return out, nil
}

// eventRecords are the deployment's events (none with a single event).
func (d *Dispatcher) eventRecords(ctx context.Context) ([]domain.EventRecord, error) {
	if d.events == nil {
		return nil, nil
	}
	return d.events(ctx)
}

// meetingEvent chooses the event a meeting input is about and puts it in
// mf (Event, EventCode), or the events to choose from (Choices). An event
// code from a button or the session counts only for an event the person
// may use: one of theirs (Facts.Events), any open one for staff, the
// served one; a vote's, any event (who voted is checked by the check-in).
// Nil with no choices: the code named none of those.
func (d *Dispatcher) meetingEvent(ctx context.Context, s flows.Session, in Inbound, f *flows.Facts, mf *flows.MeetingFacts) (*domain.Event, error) {
	served := func() *domain.Event {
		ev := f.Event
		if ev == nil {
			ev = d.event
		}
		return ev
	}
	code := flows.MeetingEventCode(s, in.Input)
	if code == "" && flows.VoteButtonID(in.Input) > 0 {
		// The served event's votes carry no code.
		ev := served()
		mf.Event = ev
		return ev, nil
	}
	if code == "" {
		cands := flows.MeetingCandidates(s, *f)
		switch {
		case len(cands) > 1:
			mf.Choices = cands
			return nil, nil
		case len(cands) == 1:
			ev := cands[0].Event
			mf.Event, mf.EventCode = &ev, cands[0].Code
			return &ev, nil
		}
		ev := served()
		mf.Event = ev
		return ev, nil
	}
	allowed := append(append([]domain.EventRecord{}, f.Events...), f.AllEvents...)
	if flows.VoteButtonID(in.Input) > 0 {
		recs, err := d.eventRecords(ctx)
		if err != nil {
			return nil, err
		}
		allowed = append(allowed, recs...)
	}
	for _, r := range allowed {
		if r.Code == code {
			ev := r.Event
			mf.Event, mf.EventCode = &ev, r.Code
			return &ev, nil
		}
	}
	// The served event's own code (its record), when the person has no
	// other events listed.
	recs, err := d.eventRecords(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		if r.Code == code && served() != nil && r.Event.ID == served().ID {
			ev := served()
			mf.Event, mf.EventCode = ev, r.Code
			return ev, nil
		}
	}
	return nil, nil
}

// meetingDocsTask sends the documents /tailieu listed, each as a file with
// its web link, and records them as received.
func (d *Dispatcher) meetingDocsTask(ctx context.Context, tc TaskContext) ([]flows.Reply, error) {
	m := d.meetingConf()
	p, ok := d.Directory().Person(tc.PersonID)
	if !ok {
		return nil, fmt.Errorf("documents: no person %q", tc.PersonID)
	}
	// The argument is "<event id>|<document ids>" (older sessions: the
	// ids, for the served event).
	ev := d.event
	evID, list, ok := strings.Cut(tc.Task.Arg, "|")
	if !ok {
		evID, list = ev.ID, tc.Task.Arg
	}
	if evID != ev.ID {
		recs, err := d.eventRecords(ctx)
		if err != nil {
			return nil, fmt.Errorf("documents: %w", err)
		}
		ev = nil
		for _, r := range recs {
			if r.Event.ID == evID && (r.Invited(p.ID) || p.Has(domain.RoleStaff)) {
				e := r.Event
				ev = &e
			}
		}
		if ev == nil {
			return nil, fmt.Errorf("documents: %s may not have event %s's", p.ID, evID)
		}
	}
	// The list is read again: what the person may see is decided here too,
	// not only by the task's argument.
	docs, err := m.Store.MeetingDocs(ctx, ev.ID, p.Has(domain.RoleStaff) && tc.Verified)
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, id := range strings.Split(list, ",") {
		want[id] = true
	}
	var replies []flows.Reply
	for _, doc := range docs {
		if !want[strconv.FormatInt(doc.ID, 10)] {
			continue
		}
		link := ""
		if m.Links != nil && !doc.Internal {
			link = m.Links.URL(ev.ID, doc.ID, p.ID)
		}
		rep := flows.DocumentMessage(tc.Lang, ev, doc, link)
		if err := ResolveBlob(m.Files, rep.File); err != nil {
			return nil, err
		}
		replies = append(replies, rep)
		if err := m.Store.MarkDocReceived(ctx, ev.ID, doc.ID, p.ID, d.now()); err != nil {
			return nil, err
		}
	}
	return replies, nil
}

// MaxDocumentSize bounds a meeting document, as an evidence file.
const MaxDocumentSize = MaxEvidenceSize

// ResolveBlob reads a file given by its stored SHA-256 (flows.File.Blob)
// into Data, at most MaxDocumentSize bytes.
func ResolveBlob(files BlobOpener, f *flows.File) error {
	if f == nil || f.Blob == "" || f.Data != nil || f.Path != "" {
		return nil
	}
	if files == nil {
		return errors.New("read document: no file store")
	}
	rc, err := files.Open(f.Blob)
	if err != nil {
		return fmt.Errorf("read document: %w", err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, MaxDocumentSize+1))
	if err != nil {
		return fmt.Errorf("read document: %w", err)
	}
	if len(data) > MaxDocumentSize {
		return errors.New("read document: larger than the limit")
	}
	f.Data = data
	return nil
}

// DocLinks makes and checks the personal web links of meeting documents:
// /tailieu/<event>/<doc>/<person>/<signature>, HMAC-SHA-256 under a key kept
// in the database. Opening one is counted for that person.
type DocLinks struct {
	Key  []byte
	Base string // the public URL, without a trailing /
}

func (l *DocLinks) sign(eventID string, docID int64, personID string) string {
	m := hmac.New(sha256.New, l.Key)
	fmt.Fprintf(m, "doc|%s|%d|%s", eventID, docID, personID)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

// URL is person's link to a document.
func (l *DocLinks) URL(eventID string, docID int64, personID string) string {
	return fmt.Sprintf("%s/tailieu/%s/%d/%s/%s", strings.TrimRight(l.Base, "/"), url.PathEscape(eventID), docID,
		url.PathEscape(personID), l.sign(eventID, docID, personID))
}

// Valid checks a link's signature in constant time.
func (l *DocLinks) Valid(eventID string, docID int64, personID, sig string) bool {
	return hmac.Equal([]byte(sig), []byte(l.sign(eventID, docID, personID)))
}
