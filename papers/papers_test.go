package papers_test

import (
	"flag"
	"testing"

	"github.com/dieuphoi/dieuphoi/configs"
	"github.com/dieuphoi/dieuphoi/domain"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// example is the built-in campaign: its event and people.
func example(t *testing.T) (domain.Event, *domain.Directory) {
	t.Helper()
	c, err := configs.Load(configs.Example())
	if err != nil {
		t.Fatal(err)
	}
	people := c.People
	for i := range people {
		people[i].InviteToken = "tok" + people[i].ID
		people[i].CheckinToken = "chk" + people[i].ID
		people[i].InviteCode = "HY" + people[i].ID
	}
	return c.Event, domain.NewDirectory(people, c.Agencies)
}
