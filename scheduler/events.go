package scheduler

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
)

// EventRecords is what OpenEvents reads: the deployment's events and each
// one's current answers.
type EventRecords interface {
	Events(ctx context.Context) ([]domain.EventRecord, error)
	EventRSVPs(ctx context.Context, eventID string) (map[string]domain.RSVP, error)
}

// AfterMeeting is how long after its end an event's follow-up ladder and
// feedback form still run (the served event's always do).
const AfterMeeting = 180 * 24 * time.Hour

// OpenEvents is a Config.Events: every open event in es but primary (the
// scheduler's own) that is not over at now, each with its own schedule,
// answers and invitees; and, with their meeting jobs only (AfterOnly),
// the closed ones and those over for less than AfterMeeting. An event whose schedule text does not parse is
// left out and named in the error; the others are still returned.
func OpenEvents(es EventRecords, primary string) func(ctx context.Context, now time.Time) ([]Config, error) {
	return func(ctx context.Context, now time.Time) ([]Config, error) {
		events, err := es.Events(ctx)
		if err != nil {
			return nil, err
		}
		var out []Config
		var bad error
		for _, r := range events {
			if r.Event.ID == primary || r.Status == domain.StatusArchived || now.After(r.Event.End.Add(AfterMeeting)) {
				continue
			}
			// An event whose answers are closed, or that is over, keeps
			// its meeting jobs (documents, the plan's and follow-ups'
			// ladder, the feedback form) and no others.
			after := r.Status != domain.StatusOpen || !now.Before(r.Event.End)
			var sc *Schedule
			if r.Schedule != "" {
				if sc, err = ParseSchedule("schedule.yaml", []byte(r.Schedule)); err != nil {
					bad = fmt.Errorf("event %s: %w", r.Event.ID, err)
					continue
				}
			}
			ev, id := r.Event, r.Event.ID
			invited := map[string]bool{}
			for _, i := range r.Invitees {
				invited[i.PersonID] = true
			}
			out = append(out, Config{Event: &ev, EventKey: id, EventCode: r.Code, Schedule: sc,
				// The record's update time moves with every edit in the
				// console; invitees added are counted in.
				EventVersion: strconv.FormatInt(r.UpdatedAt.UnixMilli(), 10) + "/" + strconv.Itoa(len(r.Invitees)) + "/" + r.SourceHash + "/" + strconv.FormatBool(after),
				AfterOnly:    after,
				RSVPs:        func(ctx context.Context) (map[string]domain.RSVP, error) { return es.EventRSVPs(ctx, id) },
				Invited:      func(personID string) bool { return invited[personID] }})
		}
		return out, bad
	}
}
