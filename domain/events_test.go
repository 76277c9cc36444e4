package domain

import (
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
