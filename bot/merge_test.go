package bot

import (
	"fmt"
	"sync"
	"testing"

	"github.com/dieuphoi/dieuphoi/domain"
)

// Many updates naming their substitutes at the same moment: each gets a
// list that holds its person (and everyone merged before it), and the
// final list holds them all.
func TestMergePeopleAtOnce(t *testing.T) {
	var people []domain.Person
	for i := range 50 {
		people = append(people, domain.Person{ID: fmt.Sprint("P", i), FullName: fmt.Sprint("Người ", i), Roles: []domain.Role{domain.RoleDelegate},
			Phone: fmt.Sprintf("09%08d", i), InviteToken: fmt.Sprint("tok", i)})
	}
	d := NewDispatcher(Config{Directory: domain.NewDirectory(people, nil)})
	const n = 300
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			del := fmt.Sprint("P", i%50)
			sub := domain.Person{ID: fmt.Sprint(domain.SubstituteID(del), "-", i), SubstituteFor: del, FullName: fmt.Sprint("Thay ", i),
				Roles: []domain.Role{domain.RoleSubstitute}, Phone: fmt.Sprintf("08%08d", i), InviteToken: fmt.Sprint("sub", i)}
			got := d.mergePeople(sub)
			if p, ok := got.ByToken(sub.InviteToken); !ok || p.ID != sub.ID {
				t.Errorf("the list merged for %s finds %v %v by its link", sub.ID, p, ok)
			}
		})
	}
	wg.Wait()
	dir := d.Directory()
	if got := len(dir.People()); got != 50+n {
		t.Fatalf("%d people in the list, want %d", got, 50+n)
	}
	for i := range n {
		if p, ok := dir.ByPhone(fmt.Sprintf("08%08d", i)); !ok || p.FullName != fmt.Sprint("Thay ", i) {
			t.Fatalf("substitute %d: %v %v", i, p, ok)
		}
	}
	// Merging what the list holds already changes nothing.
	p, _ := dir.Person("P7")
	if d.mergePeople(p) != dir {
		t.Fatal("an unchanged person made a new list")
	}
}
