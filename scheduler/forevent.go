package scheduler

import (
	"context"

	"github.com/dieuphoi/dieuphoi/domain"
)

// ForEvent returns the scheduler of event id, for a staff member's manual
// reminders about the event they chose in chat: this one for its own event
// (or ""), else the open event's among Config.Events (read again when it
// is not known yet, e.g. created a moment ago); nil when the event is not
// open or is over.
func (s *Scheduler) ForEvent(ctx context.Context, id string) (*Scheduler, error) {
	if id == "" || id == s.c.Event.ID {
		return s, nil
	}
	find := func() *Scheduler {
		for _, o := range s.otherEvents() {
			if o.c.Event.ID == id {
				return o
			}
		}
		return nil
	}
	if o := find(); o != nil {
		return o, nil
	}
	if err := s.refreshEvents(ctx, s.c.Now()); err != nil {
		return nil, err
	}
	return find(), nil
}

// Event is the event this scheduler's jobs are about.
func (s *Scheduler) Event() *domain.Event { return s.c.Event }
