package bot

import (
	"context"
	"fmt"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
)

// PersonRSVPStore gives a person's current answer to every event.
type PersonRSVPStore interface {
	PersonRSVPs(ctx context.Context, personID string) (map[string]domain.RSVP, error)
}

// eventFacts adds the upcoming events personID is invited to, with their
// answer to each, when there is more to choose from than the dispatcher's
// event.
func (d *Dispatcher) eventFacts(ctx context.Context, f *flows.Facts, personID string) error {
	if d.events == nil {
		return nil
	}
	all, err := d.events(ctx)
	if err != nil {
		return fmt.Errorf("events: %w", err)
	}
	for _, r := range all {
		if d.event != nil && r.Event.ID == d.event.ID {
			f.EventCode = r.Code // its reminders' buttons carry it
		}
	}
	if p, ok := f.Directory.Person(personID); ok && p.Has(domain.RoleStaff) {
		f.AllEvents = nil
		for _, r := range all {
			if r.Status == domain.StatusOpen && f.Now.Before(r.Event.End) {
				f.AllEvents = append(f.AllEvents, r)
			}
		}
	}
	x := d.invitations(all)
	if n, one := x.Upcoming(personID, f.Now); n == 0 || (n == 1 && d.event != nil && one.Event.ID == d.event.ID) {
		return nil
	}
	up := x.UpcomingFor(personID, f.Now)
	ps, ok := d.store.(PersonRSVPStore)
	if !ok {
		return nil // a store without events: the one event, as before
	}
	answers, err := ps.PersonRSVPs(ctx, personID)
	if err != nil {
		return fmt.Errorf("answers: %w", err)
	}
	f.Events = up
	f.EventRSVPs = make(map[string]*domain.RSVP, len(answers))
	for id, a := range answers {
		f.EventRSVPs[id] = &a
	}
	return nil
}

// invitations is the index of all's invitees, made again only when the
// events' cache hands out another list (or its invitees changed): a walk of
// every invitee of every event was a few per cent of the bot's CPU at every
// update.
func (d *Dispatcher) invitations(all []domain.EventRecord) *domain.Invitations {
	if x := d.invited.Load(); x.Of(all) {
		return x
	}
	x := domain.IndexInvitations(all)
	d.invited.Store(x)
	return x
}
