package domain

import (
	"sort"
	"strings"
)

// Directory is a read-only, in-memory snapshot of the people and agencies a
// campaign knows, indexed for the look-ups onboarding needs. Flows read it as
// a fact; it is rebuilt (not mutated) when the lists change.
type Directory struct {
	people   map[string]*Person
	byToken  map[string]*Person
	byCheck  map[string]*Person
	byCode   map[string]*Person
	byPhone  map[string][]*Person
	agencies map[string]Agency
	order    []string
}

// NewDirectory indexes people and agencies.
func NewDirectory(people []Person, agencies []Agency) *Directory {
	d := &Directory{
		people:   make(map[string]*Person, len(people)),
		byToken:  make(map[string]*Person, len(people)),
		byCheck:  make(map[string]*Person, len(people)),
		byCode:   make(map[string]*Person, len(people)),
		byPhone:  make(map[string][]*Person, len(people)),
		agencies: make(map[string]Agency, len(agencies)),
	}
	var subs []*Person
	for i := range people {
		p := &people[i]
		d.people[p.ID] = p
		d.order = append(d.order, p.ID)
		if p.SubstituteFor != "" {
			subs = append(subs, p)
			continue
		}
		if p.InviteToken != "" {
			d.byToken[p.InviteToken] = p
		}
		if p.CheckinToken != "" {
			d.byCheck[p.CheckinToken] = p
		}
		if p.InviteCode != "" {
			d.byCode[NormalizeCode(p.InviteCode)] = p
		}
		if p.Phone != "" {
			d.byPhone[p.Phone] = append(d.byPhone[p.Phone], p)
		}
	}
	// Substitutes: only while they are one (a withdrawn substitute's link
	// and code no longer work), and found by phone only when no one in the
	// list has that number, so that a colleague sent as a substitute does
	// not make their own number ambiguous.
	for _, p := range subs {
		if !p.Has(RoleSubstitute) {
			continue
		}
		if p.InviteToken != "" {
			d.byToken[p.InviteToken] = p
		}
		if p.InviteCode != "" {
			d.byCode[NormalizeCode(p.InviteCode)] = p
		}
		if p.Phone != "" && len(d.byPhone[p.Phone]) == 0 {
			d.byPhone[p.Phone] = append(d.byPhone[p.Phone], p)
		}
	}
	for _, a := range agencies {
		d.agencies[a.Code] = a
	}
	return d
}

// Person returns the person with id.
func (d *Directory) Person(id string) (Person, bool) {
	p, ok := d.people[id]
	if !ok {
		return Person{}, false
	}
	return *p, true
}

// ByToken finds the person a personal invite link belongs to.
func (d *Directory) ByToken(token string) (Person, bool) {
	p, ok := d.byToken[strings.TrimSpace(token)]
	if !ok {
		return Person{}, false
	}
	return *p, true
}

// ByCheckinToken finds the person a check-in QR code belongs to.
func (d *Directory) ByCheckinToken(token string) (Person, bool) {
	p, ok := d.byCheck[strings.TrimSpace(token)]
	if !ok {
		return Person{}, false
	}
	return *p, true
}

// ByCode finds the person an invite code belongs to; case, spaces and dashes
// do not matter.
func (d *Directory) ByCode(code string) (Person, bool) {
	c := NormalizeCode(code)
	if c == "" {
		return Person{}, false
	}
	p, ok := d.byCode[c]
	if !ok {
		return Person{}, false
	}
	return *p, true
}

// ByPhone finds the person with this phone number. Two people sharing one
// number (an office line) cannot be told apart, so that is no match.
func (d *Directory) ByPhone(phone string) (Person, bool) {
	ps := d.byPhone[NormalizePhone(phone)]
	if len(ps) != 1 {
		return Person{}, false
	}
	return *ps[0], true
}

// Agency returns the agency with code.
func (d *Directory) Agency(code string) (Agency, bool) {
	a, ok := d.agencies[code]
	return a, ok
}

// People returns everyone, in list order.
func (d *Directory) People() []Person {
	out := make([]Person, 0, len(d.order))
	for _, id := range d.order {
		out = append(out, *d.people[id])
	}
	return out
}

// Agencies returns every agency, sorted by code.
func (d *Directory) Agencies() []Agency {
	out := make([]Agency, 0, len(d.agencies))
	for _, a := range d.agencies {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}

// NormalizeCode upper-cases an invite code and drops spaces and dashes, so
// "hy-7k3m 9q" and "HY7K3M9Q" are the same code.
func NormalizeCode(s string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(strings.TrimSpace(s)) {
		switch {
		case r == ' ' || r == '-':
		case (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9'):
			b.WriteRune(r)
		default:
			return ""
		}
	}
	if b.Len() < 6 || b.Len() > 16 {
		return ""
	}
	return b.String()
}
