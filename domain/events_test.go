package domain

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"
)

func TestWithLastYear(t *testing.T) {
	approved := map[[2]string]string{{"A.1", "STC"}: "0.62", {"B.2", "SYT"}: "12", {"C.3", "STC"}: "có", {"D.4", "X"}: "5", {"D.4", "Y"}: "6"}
	c := CampaignRecord{CodeMap: map[string]string{"A.1-new": "A.1"}}
	for _, tc := range []struct {
		label string
		ind   Indicator
		want  string
	}{
		{"renamed code finds the old one's value, decimal comma", Indicator{Code: "A.1-new", Agency: "STC", LastYear: "0,5"}, "0,62 (PII 2024)"},
		{"same code, same agency", Indicator{Code: "B.2", Agency: "SYT"}, "12 (PII 2024)"},
		{"text value kept as it is", Indicator{Code: "C.3", Agency: "STC"}, "có (PII 2024)"},
		{"other agency's value is not this one's: the file's stays", Indicator{Code: "B.2", Agency: "STC", LastYear: "9"}, "9"},
		{"no agency, one value", Indicator{Code: "C.3"}, "có (PII 2024)"},
		{"no agency, two values: the file's stays", Indicator{Code: "D.4", LastYear: "4"}, "4"},
		{"old code under its old name only via the map", Indicator{Code: "A.1-new", Agency: "SYT"}, ""},
	} {
		got := WithLastYear([]Indicator{tc.ind}, c, "PII 2024", approved)[0].LastYear
		if got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.label, got, tc.want)
		}
	}
}

func TestUpcomingFor(t *testing.T) {
	now := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	ev := func(id string, days int, st Status, who ...string) EventRecord {
		r := EventRecord{Event: Event{ID: id, Start: now.AddDate(0, 0, days), End: now.AddDate(0, 0, days).Add(3 * time.Hour)}, Status: st}
		for _, w := range who {
			r.Invitees = append(r.Invitees, Invitee{PersonID: w})
		}
		return r
	}
	list := []EventRecord{ev("later", 10, StatusOpen, "A"), ev("past", -2, StatusOpen, "A"), ev("soon", 2, StatusOpen, "A", "B"),
		ev("closed", 3, StatusClosed, "A"), ev("other", 1, StatusOpen, "B")}
	got := UpcomingFor(list, "A", now)
	if len(got) != 2 || got[0].Event.ID != "soon" || got[1].Event.ID != "later" {
		t.Errorf("upcoming for A: %+v", got)
	}
}

// The index answers exactly as the walk of the list, for anyone, and only
// for the list it was made from.
func TestInvitationsAnswerAsUpcomingFor(t *testing.T) {
	now := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(1, 2))
	people := []string{"A", "B", "C", "D", "E", "F"}
	for round := 0; round < 200; round++ {
		var list []EventRecord
		for i := range rng.IntN(6) {
			st := []Status{StatusOpen, StatusOpen, StatusClosed, StatusArchived}[rng.IntN(4)]
			start := now.AddDate(0, 0, rng.IntN(7)-3) // some over, some the same day
			r := EventRecord{Event: Event{ID: fmt.Sprint("E", i), Start: start, End: start.Add(time.Duration(rng.IntN(48)) * time.Hour)}, Status: st}
			for range rng.IntN(5) {
				r.Invitees = append(r.Invitees, Invitee{PersonID: people[rng.IntN(len(people))]}) // duplicates too
			}
			list = append(list, r)
		}
		x := IndexInvitations(list)
		if !x.Of(list) {
			t.Fatal("index does not know its own list")
		}
		for _, p := range append(people, "nobody") {
			want, got := UpcomingFor(list, p, now), x.UpcomingFor(p, now)
			if !reflect.DeepEqual(want, got) {
				t.Fatalf("round %d, %s: index %+v, walk %+v", round, p, got, want)
			}
			if n, one := x.Upcoming(p, now); n != len(want) || (n > 0) != (one != nil) ||
				(one != nil && !slices.ContainsFunc(want, func(r EventRecord) bool { return r.Event.ID == one.Event.ID })) {
				t.Fatalf("round %d, %s: Upcoming %d %v, want %d of %+v", round, p, n, one, len(want), want)
			}
		}
		if len(list) > 0 {
			if x.Of(slices.Clone(list)) {
				t.Fatal("index taken for a copy of its list")
			}
			list[0].Invitees = append(list[0].Invitees, Invitee{PersonID: "new"})
			if x.Of(list) {
				t.Fatal("index taken for a list whose invitees changed")
			}
		}
	}
}
