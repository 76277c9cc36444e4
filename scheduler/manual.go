package scheduler

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
)

// Audience is who a broadcast goes to.
type Audience string

const (
	AudienceDelegates Audience = "delegates" // every delegate
	AudienceAccepted  Audience = "accepted"  // delegates who will attend (and reachable substitutes)
	AudiencePending   Audience = "pending"   // delegates who have not answered
	AudienceFocal     Audience = "focal"     // focal points
	AudienceStaff     Audience = "staff"     // staff
)

// Valid reports whether a is a known audience.
func (a Audience) Valid() bool {
	switch a {
	case AudienceDelegates, AudienceAccepted, AudiencePending, AudienceFocal, AudienceStaff:
		return true
	}
	return false
}

// Confirmed is what a confirmed manual send did: how many messages it
// enqueued, or, when the confirmation was used before, that nothing was sent
// now (Already) and what the first use sent and when.
type Confirmed struct {
	Sent    int
	Already bool
	At      time.Time
}

// RemindPendingOnce sends the RSVP chaser to every delegate who has not
// answered, once per confirmation: confirmID names the preview staff member
// by confirmed, and a second confirmation with the same id (a double tap, a
// stale button, a redelivered update) sends nothing.
func (s *Scheduler) RemindPendingOnce(ctx context.Context, confirmID, by string) (Confirmed, error) {
	return s.once(ctx, "remind", confirmID, by, func(occ string) (int, error) { return s.remindPending(ctx, occ) })
}

// BroadcastOnce is Broadcast once per confirmation (see RemindPendingOnce).
func (s *Scheduler) BroadcastOnce(ctx context.Context, confirmID, by, text string, audience Audience) (Confirmed, error) {
	return s.once(ctx, "broadcast", confirmID, by, func(occ string) (int, error) { return s.Broadcast(ctx, occ, text, audience) })
}

// once runs send for the confirmation (kind, by, confirmID) unless an
// earlier run finished it. The confirmation is recorded first: a run cut
// short is completed by the next (the outbox keys, derived from the same
// occurrence id, keep every recipient's message single).
func (s *Scheduler) once(ctx context.Context, kind, confirmID, by string, send func(occ string) (int, error)) (Confirmed, error) {
	if confirmID == "" || strings.ContainsAny(confirmID, "|\n") || utf8.RuneCountInString(confirmID)+utf8.RuneCountInString(by) > 80 {
		return Confirmed{}, fmt.Errorf("%s: bad confirmation id %q", kind, confirmID)
	}
	occ := "confirm-" + by + "-" + confirmID
	m, err := s.c.Outbox.BeginManualSend(ctx, kind+"|"+by+"|"+confirmID, kind, by, s.c.Now())
	if err != nil {
		return Confirmed{}, err
	}
	if m.Done {
		s.log.Info("manual send confirmed again: nothing sent", "kind", kind, "by", by, "confirmation", confirmID)
		return Confirmed{Sent: m.Sent, Already: true, At: m.At}, nil
	}
	n, err := send(occ)
	if err != nil {
		return Confirmed{Sent: n}, err
	}
	if err := s.c.Outbox.FinishManualSend(ctx, m.ID, n); err != nil {
		return Confirmed{Sent: n}, err
	}
	return Confirmed{Sent: n, At: m.At}, nil
}

func (s *Scheduler) remindPending(ctx context.Context, occID string) (int, error) {
	now := s.c.Now()
	w := s.newWorld()
	o := occurrence{
		id: occID, at: now, grace: forever,
		build: s.pendingDeliveries,
	}
	n, err := s.enqueueOccurrence(ctx, w, JobManualChaser, o, now)
	if n > 0 {
		s.kick()
	}
	return n, err
}

// ResendInvite sends one person the invitation again, on the channel they
// use, now: its text follows their answer and the date (flows.Invitation),
// with answer buttons only before the RSVP cut-off. by (the staff member)
// and the time go into the run's id. It returns how many messages were
// enqueued: 0 when the person has never opened a chat with the bot.
func (s *Scheduler) ResendInvite(ctx context.Context, personID, by string) (int, error) {
	now := s.c.Now()
	w := s.newWorld()
	o := occurrence{
		id: fmt.Sprintf("invite-%d-%s", now.UnixMilli(), by), at: now, grace: forever,
		build: func(ctx context.Context, w *world) ([]delivery, error) {
			rsvps, err := w.currentRSVPs(ctx)
			if err != nil {
				return nil, err
			}
			p, ok := w.dir.Person(personID)
			if !ok {
				return nil, fmt.Errorf("resend invitation: no person %q", personID)
			}
			var answer *domain.RSVP
			if a, ok := rsvps[personID]; ok {
				answer = &a
			}
			return []delivery{{personID: personID, render: func(lang domain.Lang) []flows.Reply {
				return flows.Invitation(lang, s.c.Event, p, answer, now)
			}}}, nil
		},
	}
	n, err := s.enqueueOccurrence(ctx, w, JobManualChaser, o, now)
	if n > 0 {
		s.kick()
	}
	return n, err
}

// Broadcast sends text, as written, to audience. id names the broadcast: a
// second call with the same id sends nothing new (the staff's confirmation
// tapped twice), so the caller makes one id per broadcast. It returns how
// many messages were enqueued.
func (s *Scheduler) Broadcast(ctx context.Context, id, text string, audience Audience) (int, error) {
	if strings.TrimSpace(id) == "" || strings.Contains(id, "|") || utf8.RuneCountInString(id) > 100 {
		return 0, errors.New("broadcast: id must be 1-100 characters without '|'")
	}
	if strings.TrimSpace(text) == "" {
		return 0, errors.New("broadcast: empty text")
	}
	if !audience.Valid() {
		return 0, fmt.Errorf("broadcast: unknown audience %q", audience)
	}
	now := s.c.Now()
	w := s.newWorld()
	o := occurrence{
		id: id, at: now, grace: forever,
		build: func(ctx context.Context, w *world) ([]delivery, error) {
			return w.audience(ctx, audience, func(domain.Lang) []flows.Reply { return []flows.Reply{{Text: text}} })
		},
	}
	n, err := s.enqueueOccurrence(ctx, w, JobBroadcast, o, now)
	if n > 0 {
		s.kick()
	}
	return n, err
}

// Preview tells staff, before they confirm a broadcast, how many people it
// would reach and a sample of who, in Vietnamese: "Nguyễn Văn An (Sở Tài
// chính), …; 3 người chưa kết nối với bot sẽ không nhận được."
func (s *Scheduler) Preview(ctx context.Context, audience Audience) (count int, sample string, err error) {
	w := s.newWorld()
	count, missed, names, err := s.reach(ctx, w, audience)
	if err != nil {
		return 0, "", err
	}
	sample = strings.Join(names, ", ")
	if count > len(names) {
		sample += " " + t(domain.Vietnamese, "more", count-len(names))
	}
	if missed > 0 {
		sample += fmt.Sprintf("; %d người chưa kết nối với bot hoặc đã chặn bot sẽ không nhận được.", missed)
	}
	return count, strings.TrimPrefix(sample, "; "), nil
}

// Reach says how many members of audience a message would reach in chat,
// and how many it would not (never connected to the bot, or unreachable on
// every channel they have): staff are told both before they confirm.
func (s *Scheduler) Reach(ctx context.Context, audience Audience) (reached, unreached int, err error) {
	reached, unreached, _, err = s.reach(ctx, s.newWorld(), audience)
	return reached, unreached, err
}

// reach counts who of audience can be reached, with the first few names.
func (s *Scheduler) reach(ctx context.Context, w *world, audience Audience) (count, missed int, names []string, err error) {
	if !audience.Valid() {
		return 0, 0, nil, fmt.Errorf("preview: unknown audience %q", audience)
	}
	ds, err := w.audience(ctx, audience, func(domain.Lang) []flows.Reply { return nil })
	if err != nil {
		return 0, 0, nil, err
	}
	for _, d := range ds {
		if d.skip != "" {
			missed++
			continue
		}
		r, err := w.recipient(ctx, d.personID)
		if err != nil {
			return 0, 0, nil, err
		}
		if r.channel == "" {
			missed++
			continue
		}
		count++
		if len(names) < 5 {
			name := w.personName(d.personID)
			if p, ok := w.dir.Person(d.personID); ok {
				name += " (" + w.agencyName(p.AgencyCode, domain.Vietnamese) + ")"
			}
			names = append(names, name)
		}
	}
	return count, missed, names, nil
}

// audience returns a delivery per member of a.
func (w *world) audience(ctx context.Context, a Audience, render func(domain.Lang) []flows.Reply) ([]delivery, error) {
	switch a {
	case AudienceAccepted:
		return w.attendees(ctx, func(_ domain.Person, lang domain.Lang) []flows.Reply { return render(lang) },
			func(_, _ domain.Person, lang domain.Lang) []flows.Reply { return render(lang) })
	case AudiencePending:
		if _, err := w.currentRSVPs(ctx); err != nil {
			return nil, err
		}
	}
	role := map[Audience]domain.Role{
		AudienceDelegates: domain.RoleDelegate, AudiencePending: domain.RoleDelegate,
		AudienceFocal: domain.RoleFocal, AudienceStaff: domain.RoleStaff,
	}[a]
	var out []delivery
	for _, p := range w.withRole(role) {
		if a == AudiencePending && w.status(p.ID) != domain.RSVPPending {
			continue
		}
		out = append(out, delivery{personID: p.ID, render: render})
	}
	return out, nil
}
