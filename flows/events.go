package flows

import (
	"strings"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
)

// Several events (Facts.Events): a person invited to more than one upcoming
// event sees them all on their card and answers each. The event a chat is
// about is in the session (Session.Event, by code); buttons that answer
// carry the event's code too, so that a reminder of one event answered
// while the chat is about another still answers the right one.
const (
	btnEventPrefix = "ev:"         // + code: show that event's card
	btnEvents      = "menu:events" // the list of upcoming events
	btnStaffEvent  = "sev:"        // + code: staff commands are about that event
)

// multi reports whether the person has several upcoming events to choose
// from.
func (r *stepper) multi() bool { return len(r.f.Events) > 1 }

// selectEvent makes the facts about the chosen event: Event and RSVP are
// then that event's for the whole step. With a single upcoming event that
// is not Event, that one is chosen.
func (r *stepper) selectEvent() {
	switch {
	case len(r.f.Events) == 1 && (r.f.Event == nil || r.f.Events[0].Event.ID != r.f.Event.ID):
		r.use(r.f.Events[0])
	case r.multi() && r.s.Event != "":
		if rec, ok := r.eventByCode(r.s.Event); ok {
			r.use(rec)
		} else {
			r.s.Event = "" // over, closed or no longer theirs: choose again
		}
	}
}

func (r *stepper) use(rec domain.EventRecord) {
	ev := rec.Event
	r.f.Event = &ev
	r.f.RSVP = r.f.EventRSVPs[ev.ID]
}

func (r *stepper) unselectEvent() {
	if r.multi() {
		r.s.Event = ""
	}
}

func (r *stepper) eventByCode(code string) (domain.EventRecord, bool) {
	for _, rec := range r.f.Events {
		if strings.EqualFold(rec.Code, code) {
			return rec, true
		}
	}
	return domain.EventRecord{}, false
}

// eventID is the event an answer is for: "" for Facts.Event when the
// person has no other (the store's current event).
func (r *stepper) eventID() string {
	if len(r.f.Events) == 0 {
		return ""
	}
	return r.f.Event.ID
}

// answerSuffix is what answer buttons carry after their payload: ":" and
// the event's code when there are several events.
func (r *stepper) answerSuffix() string {
	if r.multi() && r.s.Event != "" {
		return ":" + r.s.Event
	}
	return ""
}

// eventButton handles choosing an event and the answer buttons that name
// one ("rsvp:attend:CODE"); it reports whether the input was one of those.
func (r *stepper) eventButton() bool {
	d := r.in.Data
	switch {
	case strings.HasPrefix(d, btnStaffEvent):
		if !r.staffOnly() {
			return true
		}
		r.reset()
		code := strings.TrimPrefix(d, btnStaffEvent)
		for _, rec := range r.f.AllEvents {
			if rec.Code == code {
				r.s.StaffEvent = rec.Code
				r.say(r.t("staff_event_set", rec.Event.Name(r.s.Lang)), r.menuButtons()...)
				return true
			}
		}
		r.say(r.t("event_gone"))
		r.s.StaffEvent = ""
		r.staffEvents()
		return true
	case d == btnEvents:
		r.reset()
		r.s.Event = ""
		r.eventsCard()
		return true
	case strings.HasPrefix(d, btnEventPrefix):
		rec, ok := r.eventByCode(strings.TrimPrefix(d, btnEventPrefix))
		if !ok {
			r.say(r.t("event_gone"))
			r.s.Event = ""
			r.eventsCard()
			return true
		}
		r.reset()
		r.s.Event = rec.Code
		r.use(rec)
		r.card()
		return true
	}
	for _, b := range []string{btnAttend, btnDecline, btnSub} {
		code, ok := strings.CutPrefix(d, b+":")
		if !ok {
			continue
		}
		rec, ok := r.eventByCode(code)
		if !ok && len(r.f.Events) == 0 && code != "" && strings.EqualFold(code, r.f.EventCode) {
			// The served event's own reminder, to someone invited to it
			// alone: the plain answer.
			r.in.Data = b
			return false
		}
		if !ok {
			r.say(r.t("event_gone"))
			r.s.Event = ""
			r.menu()
			return true
		}
		r.s.Event = rec.Code
		r.use(rec)
		r.in.Data = b // then as the plain button, for this event
		return false
	}
	if r.multi() && r.s.Event == "" && (d == btnAttend || d == btnDecline || d == btnSub || d == btnAgenda) {
		// An answer without an event while there are several: ask which.
		r.eventsCard()
		return true
	}
	return false
}

// eventsCard lists the upcoming events with the person's answer to each,
// one button per event.
func (r *stepper) eventsCard() {
	lines := []string{r.t("events_head", len(r.f.Events))}
	var rows [][]Button
	for i, rec := range r.f.Events {
		ev := rec.Event
		st := r.statusOf(r.f.EventRSVPs[ev.ID])
		lines = append(lines, r.t("events_line", i+1, ev.Name(r.s.Lang), FormatClock(ev.Start.In(r.locOf(ev))),
			FormatDate(r.s.Lang, ev.Start.In(r.locOf(ev))), ev.Venue(r.s.Lang), st))
		rows = append(rows, []Button{{clip(ev.Name(r.s.Lang), 40), btnEventPrefix + rec.Code}})
	}
	lines = append(lines, "", r.t("events_pick"))
	r.say(strings.Join(lines, "\n"), rows...)
}

func (r *stepper) locOf(ev domain.Event) *time.Location {
	if ev.Location != nil {
		return ev.Location
	}
	return r.loc()
}

// statusOf is status for an answer other than Facts.RSVP.
func (r *stepper) statusOf(a *domain.RSVP) string {
	saved := r.f.RSVP
	r.f.RSVP = a
	defer func() { r.f.RSVP = saved }()
	return r.status()
}

// staffEventID is the id of the event a staff member's commands are about:
// the one chosen with /sukien while it is open, else "" (Facts.Event).
func (r *stepper) staffEventID() string {
	if rec, ok := r.staffEventRec(); ok {
		return rec.Event.ID
	}
	return ""
}

// staffEventCode is the code of the event chosen with /sukien, "" when
// none is (or it is no longer open).
func (r *stepper) staffEventCode() string {
	if rec, ok := r.staffEventRec(); ok {
		return rec.Code
	}
	return ""
}

func (r *stepper) staffEventRec() (domain.EventRecord, bool) {
	for _, rec := range r.f.AllEvents {
		if r.s.StaffEvent != "" && rec.Code == r.s.StaffEvent {
			return rec, true
		}
	}
	return domain.EventRecord{}, false
}

// staffEvents lets a staff member choose the event their commands
// (/tonghop) are about.
func (r *stepper) staffEvents() {
	cur := r.f.Event.Name(r.s.Lang)
	if id := r.staffEventID(); id != "" {
		for _, rec := range r.f.AllEvents {
			if rec.Event.ID == id {
				cur = rec.Event.Name(r.s.Lang)
			}
		}
	}
	var rows [][]Button
	for _, rec := range r.f.AllEvents {
		ev := rec.Event
		rows = append(rows, []Button{{clip(FormatDate(r.s.Lang, ev.Start.In(r.locOf(ev)))+" · "+ev.Name(r.s.Lang), 48), btnStaffEvent + rec.Code}})
	}
	r.say(r.t("staff_events", cur), rows...)
}
