package scheduler

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dieuphoi/dieuphoi/bot"
	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
	"github.com/dieuphoi/dieuphoi/storage/sqlstore"
)

// The meeting itself (issue 15): the documents sent a configurable time
// before the event (job meeting_documents), the votes staff open, and the
// delegates told their question was answered or their turn to speak came.

// JobMeetingDocs delivers the event's documents to the delegates who
// accepted, once per person and document; JobMeetingVote and
// JobMeetingNotice are the console's sends.
const (
	JobMeetingDocs   = sqlstore.JobMeetingDocs
	JobMeetingVote   = "meeting_vote"
	JobMeetingNotice = "meeting_notice"
)

// MeetingDocs lists an event's documents (storage/sqlstore).
type MeetingDocs interface {
	MeetingDocs(ctx context.Context, eventID string, withInternal bool) ([]domain.MeetingDoc, error)
}

// docsOverlap is how far back each evaluation looks again for documents
// whose moment came: one attached while a run was being recorded is not
// missed (the outbox keys keep each delivery single).
const docsOverlap = 10 * time.Minute

func (s *Scheduler) meetingDocsJob(spec JobSpec) occFunc {
	ev := s.c.Event
	offsets := spec.At
	if len(offsets) == 0 {
		o, _ := ParseOffset("-1d 16:00")
		offsets = []Offset{o}
	}
	return func(ctx context.Context, w *world, from, to time.Time) ([]occurrence, error) {
		if s.c.Meeting == nil || !to.Before(ev.End) {
			return nil, nil
		}
		docs, err := s.c.Meeting.MeetingDocs(ctx, ev.ID, false)
		if err != nil {
			return nil, fmt.Errorf("meeting documents: %w", err)
		}
		// The earliest offset is the moment; a document attached later goes
		// out when it is attached.
		lead := offsets[0].From(ev.Start, s.loc)
		for _, o := range offsets[1:] {
			if at := o.From(ev.Start, s.loc); at.Before(lead) {
				lead = at
			}
		}
		var out []occurrence
		for _, d := range docs {
			d := d
			at := lead
			if d.CreatedAt.After(at) {
				at = d.CreatedAt
			}
			if at.After(to) {
				continue
			}
			render := func(p domain.Person, lang domain.Lang) []flows.Reply {
				link := ""
				if s.c.DocLinks != nil {
					link = s.c.DocLinks.URL(ev.ID, d.ID, p.ID)
				}
				return []flows.Reply{flows.DocumentMessage(lang, ev, d, link)}
			}
			renderSub := func(sub, _ domain.Person, lang domain.Lang) []flows.Reply { return render(sub, lang) }
			// The same occurrence id as the delivery itself: whoever had the
			// document is not sent it again.
			id := ev.ID + ".doc" + strconv.FormatInt(d.ID, 10)
			if at.After(from.Add(-docsOverlap)) {
				out = append(out, occurrence{
					id: id, at: at, grace: ev.End.Sub(at), expires: ev.End,
					build: func(ctx context.Context, w *world) ([]delivery, error) {
						return w.attendees(ctx, render, renderSub)
					},
				})
				continue
			}
			// The documents went out already: who accepted (or named a
			// substitute) since the last evaluation receives them now.
			since := from.Add(-docsOverlap)
			out = append(out, occurrence{
				id: id, at: to, grace: ev.End.Sub(to), expires: ev.End,
				build: func(ctx context.Context, w *world) ([]delivery, error) {
					rs, err := w.currentRSVPs(ctx)
					if err != nil {
						return nil, err
					}
					all, err := w.attendees(ctx, render, renderSub)
					if err != nil {
						return nil, err
					}
					var late []delivery
					for _, dl := range all {
						who := dl.personID // the delegate whose answer it follows
						if dl.recipient != "" {
							who = strings.TrimPrefix(dl.recipient, "sub:")
						}
						if r, ok := rs[who]; ok && r.At.After(since) {
							late = append(late, dl)
						}
					}
					return late, nil
				},
			})
		}
		return out, nil
	}
}

// SendVote sends an open vote to the people given (those who checked in),
// once per vote and person. It returns how many messages were enqueued.
func (s *Scheduler) SendVote(ctx context.Context, v domain.Vote, personIDs []string) (int, error) {
	now := s.c.Now()
	w := s.newWorld()
	o := occurrence{
		id: v.EventID + ".vote" + strconv.FormatInt(v.ID, 10), at: now, grace: forever,
		build: func(ctx context.Context, w *world) ([]delivery, error) {
			out := make([]delivery, 0, len(personIDs))
			for _, id := range personIDs {
				out = append(out, delivery{personID: id, render: func(lang domain.Lang) []flows.Reply {
					return []flows.Reply{flows.VoteMessage(lang, v, s.c.EventCode)}
				}})
			}
			return out, nil
		},
	}
	n, err := s.enqueueOccurrence(ctx, w, JobMeetingVote, o, now)
	if n > 0 {
		s.kick()
	}
	return n, err
}

// NotifyQuestion tells the delegate who sent q that it was answered or
// their turn to speak came, once per item and status.
func (s *Scheduler) NotifyQuestion(ctx context.Context, q domain.Question) (int, error) {
	now := s.c.Now()
	w := s.newWorld()
	o := occurrence{
		id: q.EventID + ".q" + strconv.FormatInt(q.ID, 10) + "." + q.Status, at: now, grace: forever,
		build: func(ctx context.Context, w *world) ([]delivery, error) {
			return []delivery{{personID: q.PersonID, render: func(lang domain.Lang) []flows.Reply {
				return []flows.Reply{flows.QuestionDone(lang, q)}
			}}}, nil
		},
	}
	n, err := s.enqueueOccurrence(ctx, w, JobMeetingNotice, o, now)
	if n > 0 {
		s.kick()
	}
	return n, err
}

// resolveFiles reads the stored documents a queued message names.
func (s *Scheduler) resolveFiles(replies []flows.Reply) error {
	for i := range replies {
		if err := bot.ResolveBlob(s.c.Files, replies[i].File); err != nil {
			return err
		}
	}
	return nil
}
