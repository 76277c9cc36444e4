package domain

import (
	"sort"
	"strconv"
	"strings"
	"time"
)

// Status is where an event or a data campaign stands: open (answers and
// data are taken), closed (nothing new is taken; results stay), archived
// (kept for the record, hidden from chat). Deleting is archiving: nothing
// confirmed is ever removed.
type Status string

const (
	StatusOpen     Status = "open"
	StatusClosed   Status = "closed"
	StatusArchived Status = "archived"
)

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	return s == StatusOpen || s == StatusClosed || s == StatusArchived
}

// Invitee is one person invited to an event; Role is what they come as
// ("" for the roles on their person record).
type Invitee struct {
	PersonID string
	Role     string
}

// EventRecord is an event as the deployment keeps it: the event itself and
// what is needed to run it among others.
type EventRecord struct {
	Event Event
	// Code is the event's short code, unique in the deployment: staff
	// switch to an event by it and two events never share it.
	Code       string
	Status     Status
	CampaignID string
	// Schedule is the reminder schedule's text (schedule.yaml), "" for the
	// default reminders.
	Schedule   string
	Invitees   []Invitee
	SourceHash string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Invited reports whether personID is invited to the event.
func (r EventRecord) Invited(personID string) bool {
	for _, i := range r.Invitees {
		if i.PersonID == personID {
			return true
		}
	}
	return false
}

// CampaignRecord is a data campaign: a round of indicator values with its
// catalog version, deadlines and the campaign before it (where last year's
// values come from).
type CampaignRecord struct {
	ID             string
	NameVI         string
	NameEN         string
	CatalogVersion string
	PreviousID     string
	// CodeMap maps an indicator code of this campaign to the code the same
	// indicator had in the previous campaign, where it was renamed.
	CodeMap         map[string]string
	Deadline        time.Time
	AgencyDeadlines map[string]time.Time
	StaffContact    Contact
	Status          Status
	SourceHash      string
	CreatedAt       time.Time
	UpdatedAt       time.Time

	// Opens is when focal points may start entering data (zero: from its
	// creation).
	Opens time.Time
	// Assignments are the campaign's own, for a campaign made in the
	// console; nil for one whose assignments are the catalog files' (the
	// assignments table).
	Assignments []Assignment
}

// Name returns the campaign's name in lang.
func (c CampaignRecord) Name(lang Lang) string {
	return inLang(lang, c.NameVI, c.NameEN)
}

// PreviousCode returns the code indicator code had in the previous
// campaign.
func (c CampaignRecord) PreviousCode(code string) string {
	if old, ok := c.CodeMap[code]; ok && old != "" {
		return old
	}
	return code
}

// UpcomingFor returns the events personID is invited to that are open and
// not over at now, soonest first: what their card shows and what
// /xacnhan asks about.
func UpcomingFor(events []EventRecord, personID string, now time.Time) []EventRecord {
	var out []EventRecord
	for _, r := range events {
		if r.upcoming(now) && r.Invited(personID) {
			out = append(out, r)
		}
	}
	return soonestFirst(out)
}

// upcoming reports whether r is open and not over at now.
func (r *EventRecord) upcoming(now time.Time) bool {
	return r.Status == StatusOpen && now.Before(r.Event.End)
}

// soonestFirst sorts events by their start, keeping the order of those
// starting together.
func soonestFirst(events []EventRecord) []EventRecord {
	sort.SliceStable(events, func(i, j int) bool { return events[i].Event.Start.Before(events[j].Event.Start) })
	return events
}

// Invitations indexes a list of events by invitee: UpcomingFor without
// walking every event's invitees (thousands each) at every update. It
// holds the list it was made from and answers only for that one (Of).
type Invitations struct {
	events []EventRecord
	counts []int // each event's invitee count when indexed
	by     map[string][]int32
}

// IndexInvitations indexes events (not copied: the list must not change
// while the index is in use; Of tells a changed list).
func IndexInvitations(events []EventRecord) *Invitations {
	x := &Invitations{events: events, counts: make([]int, len(events)), by: map[string][]int32{}}
	for i, r := range events {
		x.counts[i] = len(r.Invitees)
		for _, inv := range r.Invitees {
			// An invitee listed twice in one event counts once.
			if l := x.by[inv.PersonID]; len(l) == 0 || l[len(l)-1] != int32(i) {
				x.by[inv.PersonID] = append(l, int32(i))
			}
		}
	}
	return x
}

// Of reports whether x indexes events: the same list (the same array, as
// a cache hands it out again) with the same invitee counts.
func (x *Invitations) Of(events []EventRecord) bool {
	if x == nil || len(events) != len(x.events) {
		return false
	}
	if len(events) == 0 {
		return true
	}
	if &events[0] != &x.events[0] {
		return false
	}
	for i := range events {
		if len(events[i].Invitees) != x.counts[i] {
			return false
		}
	}
	return true
}

// Upcoming counts the events UpcomingFor would return and gives one of
// them (nil when none), without copying any: most people are invited to
// one event, the one a dispatcher serves.
func (x *Invitations) Upcoming(personID string, now time.Time) (n int, one *EventRecord) {
	for _, i := range x.by[personID] {
		if r := &x.events[i]; r.upcoming(now) {
			n, one = n+1, r
		}
	}
	return n, one
}

// UpcomingFor is UpcomingFor over the indexed list.
func (x *Invitations) UpcomingFor(personID string, now time.Time) []EventRecord {
	var out []EventRecord
	for _, i := range x.by[personID] {
		if r := &x.events[i]; r.upcoming(now) {
			out = append(out, *r)
		}
	}
	return soonestFirst(out)
}

// WithLastYear returns inds with last year's values taken from the
// previous campaign's approved values (approved, by indicator code and
// agency; prevName names that campaign), each indicator matched by its
// code in that campaign (c.PreviousCode, for renamed codes). An indicator
// with no approved value there keeps the value of the catalog file.
func WithLastYear(inds []Indicator, c CampaignRecord, prevName string, approved map[[2]string]string) []Indicator {
	out := make([]Indicator, len(inds))
	for i, ind := range inds {
		out[i] = ind
		code := c.PreviousCode(ind.Code)
		v, ok := approved[[2]string{code, ind.Agency}]
		if !ok && ind.Agency == "" {
			// An indicator without a supplying agency: last year's value
			// when exactly one agency had one.
			n := 0
			for k, val := range approved {
				if k[0] == code {
					v, n = val, n+1
				}
			}
			ok = n == 1
		}
		if !ok || v == "" {
			continue
		}
		if _, err := strconv.ParseFloat(v, 64); err == nil {
			v = strings.Replace(v, ".", ",", 1) // the decimal comma people read and flows parse
		}
		if prevName != "" {
			v += " (" + prevName + ")"
		}
		out[i].LastYear = v
	}
	return out
}
