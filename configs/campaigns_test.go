package configs_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/dieuphoi/dieuphoi/configs"
	"github.com/dieuphoi/dieuphoi/domain"
)

func TestLoadDeployment(t *testing.T) {
	agencies := []domain.Agency{{Code: "STC", NameVI: "Sở Tài chính"}, {Code: "SKHCN", NameVI: "Sở KH&CN"}}
	people := []domain.Person{{ID: "DB002", FullName: "Trần Thị Bình", AgencyCode: "STC", Roles: []domain.Role{domain.RoleFocal}},
		{ID: "DB003", FullName: "Lê Minh Châu", AgencyCode: "SKHCN", Roles: []domain.Role{domain.RoleFocal}}}
	catalog := "code,name_vi,value_type,agency\n2.2.2,Chi ngân sách,percent,STC\n"
	good := `campaigns:
  - id: pii-2025
    name: {vi: PII 2025, en: PII 2025}
    previous: pii-2024
    renamed: {"2.2.2b": "2.2.2"}
    opens: "2025-06-01"
    deadline: "2025-08-29 17:00"
    agency_deadlines: {STC: "2025-08-22 17:00"}
    assignments: campaigns/pii-2025.csv
`
	for _, tc := range []struct {
		name      string
		yaml, csv string
		want      []string // problems, "" for none
	}{
		{name: "good", yaml: good, csv: "indicator,agency,focal,deadline\n2.2.2,STC,DB002,\n"},
		{name: "a focal point of another agency", yaml: good, csv: "indicator,agency,focal,deadline\n2.2.2,STC,DB003,\n",
			want: []string{"campaigns/pii-2025.csv:2: focal"}},
		{name: "bad fields, each named", yaml: `campaigns:
  - id: "bad id!"
    name: ""
    status: finished
    deadline: 29/08/2025
    agency_deadlines: {XYZ: "2025-08-22 17:00"}
    colour: blue
`, want: []string{"campaigns.yaml:2: campaigns[1].id", "campaigns.yaml:3: campaigns[1].name", "campaigns.yaml:4: campaigns[1].status",
			"campaigns.yaml:5: campaigns[1].deadline", "campaigns.yaml:6: campaigns[1].agency_deadlines.XYZ", "campaigns.yaml:7: campaigns[1].colour"}},
		{name: "the same id twice", yaml: "campaigns:\n  - {id: a, name: A}\n  - {id: a, name: B}\n", want: []string{"campaigns.yaml:3: campaigns[2].id"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{"campaigns.yaml": {Data: []byte(tc.yaml)}, "indicators.csv": {Data: []byte(catalog)},
				"campaigns/pii-2025.csv": {Data: []byte(tc.csv)}}
			d, err := configs.LoadDeployment(fsys, agencies, people)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				c := d.Campaigns[0]
				if len(d.Campaigns) != 1 || c.PreviousCode("2.2.2b") != "2.2.2" || c.Opens.Format("2006-01-02 15:04 -0700") != "2025-06-01 00:00 +0700" ||
					len(c.Assignments) != 1 || !c.Assignments[0].Deadline.Equal(c.AgencyDeadlines["STC"]) || len(d.Indicators) != 1 || c.Status != domain.StatusOpen {
					t.Errorf("loaded %+v", d)
				}
				return
			}
			if err == nil {
				t.Fatalf("no problem, want %v", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("problems lack %q:\n%v", w, err)
				}
			}
		})
	}
}
