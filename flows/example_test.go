package flows_test

import (
	"strings"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/configs"
	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
)

// The README's demo focal point, Lê Văn Khải of Sở KH&CN, on the built-in
// example campaign: every indicator /chiso offers opens (none is refused
// with "not your agency's"), and each value prompt's example is accepted
// as a value of its indicator.
func TestExampleFocalPointOpensEveryOfferedItem(t *testing.T) {
	c, err := configs.Load(configs.Example())
	if err != nil {
		t.Fatal(err)
	}
	dir := domain.NewDirectory(c.People, c.Agencies)
	cat := domain.NewCatalog(c.Indicators, c.Assignments)
	var khai domain.Person
	for _, p := range c.People {
		if p.FullName == "Lê Văn Khải" {
			khai = p
		}
	}
	if khai.ID == "" {
		t.Fatal("no Lê Văn Khải in the example")
	}
	facts := flows.Facts{Now: time.Date(2024, 8, 10, 9, 0, 0, 0, c.Event.Location), Channel: domain.Web, UserID: "u", ChatID: "u",
		Event: &c.Event, Directory: dir, Person: &khai, Proof: domain.ProofPhone, Catalog: cat, Submissions: map[string]domain.Submission{}}
	list := flows.Step(flows.Session{PersonID: khai.ID}, flows.Input{Kind: flows.InCommand, Command: "chiso"}, facts)
	var offered []string
	for _, rep := range list.Replies {
		for _, row := range rep.Buttons {
			for _, b := range row {
				if strings.HasPrefix(b.Data, "ind:") {
					offered = append(offered, b.Data)
				}
			}
		}
	}
	if len(offered) != len(cat.ForAgency(khai.AgencyCode)) || len(offered) == 0 {
		t.Fatalf("offered %d items, the agency has %d", len(offered), len(cat.ForAgency(khai.AgencyCode)))
	}
	if !strings.Contains(list.Replies[0].Text, "Người phụ trách:") {
		t.Errorf("the list does not say who is responsible for colleagues' items:\n%s", list.Replies[0].Text)
	}
	for _, data := range offered {
		r := flows.Step(flows.Session{PersonID: khai.ID}, flows.Input{Kind: flows.InButton, Data: data}, facts)
		if r.Refused != "" || len(r.Replies) < 2 {
			t.Errorf("%s offered but refused: %q", data, r.Replies[0].Text)
			continue
		}
		ask := r.Replies[len(r.Replies)-1].Text
		_, ex, ok := strings.Cut(ask, "Ví dụ: ")
		if !ok {
			t.Errorf("%s: no example in %q", data, ask)
			continue
		}
		ind, _ := cat.Indicator(strings.TrimPrefix(data, "ind:"))
		for _, x := range strings.Split(strings.TrimSuffix(ex, "."), " hoặc ") {
			if _, verr := flows.ParseValue(ind, x); verr != nil {
				t.Errorf("%s (%s): the example %q is refused: %s", ind.Code, ind.Unit, x, verr.Message(domain.Vietnamese, ind))
			}
		}
	}
}
