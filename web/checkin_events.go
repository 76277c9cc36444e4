package web

import (
	"context"
	"net/http"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
	"github.com/dieuphoi/dieuphoi/storage/sqlstore"
)

// deskEvent is an event the reception desk can check people in to.
type deskEvent struct {
	ID, Name string
	Today    bool
}

// checkinEvents lists the events people can be checked in to: the served
// one and every other open event not over. With no event records, the
// served one only.
func (c *Console) checkinEvents(ctx context.Context) ([]domain.EventRecord, error) {
	main := domain.EventRecord{Event: *c.cfg.Event, Status: domain.StatusOpen}
	if c.cfg.Events == nil {
		return []domain.EventRecord{main}, nil
	}
	list, err := c.cfg.Events.Events(ctx)
	if err != nil {
		return nil, err
	}
	now := c.cfg.Now()
	out := []domain.EventRecord{main}
	for _, r := range list {
		if r.Event.ID == c.cfg.Event.ID {
			// The served event keeps its people as before: everyone
			// in the list is its guest.
			out[0].Code = r.Code
			continue
		}
		if r.Status == domain.StatusOpen && now.Before(r.Event.End) {
			out = append(out, r)
		}
	}
	return out, nil
}

// today reports whether ev takes place on now's day (in its own time zone).
func today(ev domain.Event, now time.Time) bool {
	loc := ev.Location
	if loc == nil {
		loc = time.UTC
	}
	return ev.Start.In(loc).Format("2006-01-02") == now.In(loc).Format("2006-01-02")
}

// deskChoice is the event the desk checks people in to: the one chosen
// (form or query "event") when it can be, else the one chosen in the
// console's switcher, else the one whose check-in is
// open now, else the first happening today, else the served event.
func (c *Console) deskChoice(r *http.Request) (domain.EventRecord, []deskEvent, error) {
	list, err := c.checkinEvents(r.Context())
	if err != nil {
		return domain.EventRecord{}, nil, err
	}
	now := c.cfg.Now()
	chosen := -1
	want := r.FormValue("event")
	var opts []deskEvent
	for i, e := range list {
		opts = append(opts, deskEvent{ID: e.Event.ID, Name: e.Event.NameVI, Today: today(e.Event, now)})
		if want != "" && e.Event.ID == want {
			chosen = i
		}
	}
	if ck, err := r.Cookie(eventCookie); chosen < 0 && err == nil {
		for i, e := range list {
			if e.Event.ID == ck.Value {
				chosen = i // the console's switcher
			}
		}
	}
	if chosen < 0 {
		chosen = 0
		for i, o := range opts {
			if !o.Today {
				continue
			}
			if from, until := checkinWindow(list[i].Event); !now.Before(from) && now.Before(until) {
				chosen = i // happening now
				break
			}
			if !opts[chosen].Today {
				chosen = i
			}
		}
	}
	return list[chosen], opts, nil
}

// invitedTo reports whether p is a guest of r: invited, or the substitute
// of an invited delegate. An event with no invitee list invites everyone.
func invitedTo(r domain.EventRecord, p domain.Person) bool {
	if len(r.Invitees) == 0 {
		return true
	}
	return r.Invited(p.ID) || (p.SubstituteFor != "" && r.Invited(p.SubstituteFor))
}

// selfEvent is the event a person's self check-in is for: among the events
// happening today they are invited to, the one whose check-in is open now
// (else the first); with none, the served event.
func (c *Console) selfEvent(ctx context.Context, p domain.Person) (domain.Event, error) {
	list, err := c.checkinEvents(ctx)
	if err != nil {
		return domain.Event{}, err
	}
	now := c.cfg.Now()
	var todays []domain.Event
	for _, r := range list {
		if today(r.Event, now) && invitedTo(r, p) {
			todays = append(todays, r.Event)
		}
	}
	for _, ev := range todays {
		if from, until := checkinWindow(ev); !now.Before(from) && now.Before(until) {
			return ev, nil
		}
	}
	if len(todays) > 0 {
		return todays[0], nil
	}
	return *c.cfg.Event, nil
}

// eventAnswers returns one event's answers and check-ins.
func (c *Console) eventAnswers(ctx context.Context, id string) (map[string]domain.RSVP, map[string]sqlstore.CheckIn, error) {
	if c.cfg.Events == nil || id == c.cfg.Event.ID {
		rsvps, err := c.cfg.Store.CurrentRSVPs(ctx)
		if err != nil {
			return nil, nil, err
		}
		checks, err := c.cfg.Console.CheckIns(ctx)
		return rsvps, checks, err
	}
	rsvps, err := c.cfg.Events.EventRSVPs(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	checks, err := c.cfg.Events.EventCheckIns(ctx, id)
	return rsvps, checks, err
}

// checkinDetail is the audit detail of a check-in: the person, and the
// event when it is not the served one.
func (c *Console) checkinDetail(personID, eventID string) string {
	if eventID == c.cfg.Event.ID {
		return personID
	}
	return personID + " @ " + eventID
}

// eventCounts is the desk's headcount for one event: among its invitees
// (everyone for the served event), the chat's counting.
func (c *Console) eventCounts(ctx context.Context, r domain.EventRecord) (Counts, error) {
	if r.Event.ID == c.cfg.Event.ID {
		h, _, _, err := c.headcount(ctx)
		return h.Total, err
	}
	rsvps, checks, err := c.eventAnswers(ctx, r.Event.ID)
	if err != nil {
		return Counts{}, err
	}
	checkedIn := make(map[string]bool, len(checks))
	for id := range checks {
		checkedIn[id] = true
	}
	return countsOf(flows.CountHeadcount(eventPeople(r, c.cfg.Directory()), rsvps, checkedIn).Total), nil
}

// storedEventID is the event id written with an answer or a check-in: ""
// for the served event, which the store fills in with the event it serves.
func (c *Console) storedEventID(id string) string {
	if id == c.cfg.Event.ID {
		return ""
	}
	return id
}

// eventCookie remembers the event chosen in the console's switcher.
const eventCookie = "dp_event"

// followsEvent are the console pages that show the event chosen in the
// switcher; the others are about the served event or the campaign.
var followsEvent = map[string]bool{"overview": true, "delegates": true, "checkin": true, "invitations": true, "seating": true}

// viewedEvent is the event the console's overview, delegates list and
// attendee export show: ?event=ID when it is an open event (remembered
// in a cookie), else the cookie's, else the served event. The console is
// for staff only (every session is a staff member's).
func (c *Console) viewedEvent(w http.ResponseWriter, r *http.Request) (domain.EventRecord, []domain.EventRecord, error) {
	list, err := c.checkinEvents(r.Context())
	if err != nil {
		return domain.EventRecord{}, nil, err
	}
	return c.pickEvent(w, r, list), list, nil
}

// pickEvent is the event of list (the served one first) chosen by
// ?event=ID (remembered in the cookie when w is not nil), else by the
// cookie, else the first.
func (c *Console) pickEvent(w http.ResponseWriter, r *http.Request, list []domain.EventRecord) domain.EventRecord {
	find := func(id string) int {
		for i, e := range list {
			if id != "" && e.Event.ID == id {
				return i
			}
		}
		return -1
	}
	if i := find(r.URL.Query().Get("event")); i >= 0 {
		if w != nil {
			http.SetCookie(w, &http.Cookie{Name: eventCookie, Value: list[i].Event.ID, Path: "/admin", HttpOnly: true,
				Secure: c.secure(r), SameSite: http.SameSiteLaxMode, MaxAge: 30 * 24 * 3600})
		}
		return list[i]
	}
	if ck, err := r.Cookie(eventCookie); err == nil {
		if i := find(ck.Value); i >= 0 {
			return list[i]
		}
	}
	return list[0]
}

// eventPeople is who an event's pages list: its invitees (everyone for an
// event without a list), and their substitutes.
func eventPeople(r domain.EventRecord, dir *domain.Directory) *domain.Directory {
	if len(r.Invitees) == 0 {
		return dir
	}
	var people []domain.Person
	for _, p := range dir.People() {
		if invitedTo(r, p) {
			people = append(people, p)
		}
	}
	return domain.NewDirectory(people, dir.Agencies())
}

// switcher puts the event chosen in the console's switcher, and the
// choices, in v (and remembers a choice made with ?event=).
func (c *Console) switcher(w http.ResponseWriter, r *http.Request, v *view) {
	rec, list, err := c.viewedEvent(w, r)
	if err != nil {
		c.cfg.Log.Error("console: events", "err", err)
		return
	}
	ev := rec.Event
	v.Event = &ev
	if len(list) < 2 {
		return
	}
	now := c.cfg.Now()
	for _, e := range list {
		v.Events = append(v.Events, deskEvent{ID: e.Event.ID, Name: e.Event.NameVI, Today: today(e.Event, now)})
	}
}
