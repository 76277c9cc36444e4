package web

import (
	"strings"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
)

func TestCampaignWhen(t *testing.T) {
	now := time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		label string
		rec   domain.CampaignRecord
		want  string
	}{
		{"open, no dates", domain.CampaignRecord{Status: domain.StatusOpen}, "running"},
		{"open, deadline ahead", domain.CampaignRecord{Status: domain.StatusOpen, Deadline: now.AddDate(0, 1, 0)}, "running"},
		{"open, opens later", domain.CampaignRecord{Status: domain.StatusOpen, Opens: now.AddDate(0, 0, 1), Deadline: now.AddDate(0, 2, 0)}, "coming"},
		{"open, deadline passed", domain.CampaignRecord{Status: domain.StatusOpen, Deadline: now.Add(-time.Minute)}, "past"},
		{"a zero deadline read back (1970)", domain.CampaignRecord{Status: domain.StatusOpen, Deadline: time.UnixMilli(0)}, "running"},
		{"closed before its deadline", domain.CampaignRecord{Status: domain.StatusClosed, Deadline: now.AddDate(0, 1, 0)}, "past"},
		{"archived", domain.CampaignRecord{Status: domain.StatusArchived}, "past"},
	} {
		if got := campaignWhen(tc.rec, now); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.label, got, tc.want)
		}
	}
}

func TestParseCodeMap(t *testing.T) {
	known := func(code string) bool { return code == "2.2.2b" || code == "1.1.1" }
	for _, tc := range []struct {
		label, text string
		want        map[string]string
		problem     string
	}{
		{"empty", "", map[string]string{}, ""},
		{"equals, arrow and colon, blank lines", "2.2.2b = 2.2.2\n\n1.1.1 → 1.1.0\n", map[string]string{"2.2.2b": "2.2.2", "1.1.1": "1.1.0"}, ""},
		{"no separator", "2.2.2b 2.2.2", nil, "dòng 1: viết «mã mới = mã cũ»"},
		{"old code missing", "2.2.2b =", nil, "dòng 1"},
		{"a code twice", "2.2.2b = 2.2.2\n2.2.2b = 2.2.1", nil, "dòng 2: mã 2.2.2b đã có"},
		{"new code not in the catalog", "9.9.9 = 9.9.8", nil, "mã mới 9.9.9 không có trong danh mục"},
		{"too long", strings.Repeat("x", 40) + " = 1", nil, "dòng 1"},
	} {
		got, errs := parseCodeMap(tc.text, known)
		if tc.problem == "" {
			if len(errs) > 0 || len(got) != len(tc.want) {
				t.Errorf("%s: %v %v", tc.label, got, errs)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s: %s → %q, want %q", tc.label, k, got[k], v)
				}
			}
			continue
		}
		if len(errs) != 1 || !strings.Contains(errs[0], tc.problem) {
			t.Errorf("%s: problems %q, want one with %q", tc.label, errs, tc.problem)
		}
	}
}

func TestCloneCampaignMovesEveryDate(t *testing.T) {
	d := time.Date(2024, 8, 30, 10, 0, 0, 0, time.UTC)
	from := domain.CampaignRecord{ID: "pii-2024", NameVI: "PII 2024", Status: domain.StatusArchived, SourceHash: "h", Opens: d.AddDate(0, -2, 0),
		Deadline: d, AgencyDeadlines: map[string]time.Time{"STC": d.AddDate(0, 0, -7)}, CodeMap: map[string]string{"a": "b"},
		Assignments: []domain.Assignment{{Indicator: "2.2.2", Agency: "STC", Focal: []string{"DB002"}, Deadline: d.AddDate(0, 0, -7)}}}
	got := cloneCampaign(from, "pii-2025", "PII 2025", "", 1, map[string]string{"2.2.2b": "2.2.2"})
	if got.ID != "pii-2025" || got.PreviousID != "pii-2024" || got.Status != domain.StatusOpen || got.SourceHash != "" ||
		!got.Deadline.Equal(d.AddDate(1, 0, 0)) || !got.Opens.Equal(d.AddDate(1, -2, 0)) || !got.AgencyDeadlines["STC"].Equal(d.AddDate(1, 0, -7)) ||
		!got.Assignments[0].Deadline.Equal(d.AddDate(1, 0, -7)) || got.CodeMap["2.2.2b"] != "2.2.2" || len(got.CodeMap) != 1 {
		t.Errorf("clone: %+v", got)
	}
	// The source is left as it was.
	got.Assignments[0].Focal[0] = "X"
	got.AgencyDeadlines["STC"] = time.Time{}
	if from.Assignments[0].Focal[0] != "DB002" || !from.Assignments[0].Deadline.Equal(d.AddDate(0, 0, -7)) || !from.AgencyDeadlines["STC"].Equal(d.AddDate(0, 0, -7)) {
		t.Errorf("the clone changed its source: %+v", from)
	}
}
