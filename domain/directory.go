package domain

import (
	"maps"
	"math"
	"slices"
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
	// base, when set, is the directory these maps change (With): a key in
	// them, even one mapping to nil, hides base's. A change then copies a
	// few entries instead of the whole list. added are the people base
	// does not have, in the order they came.
	base  *Directory
	added []string
	// subsByPhone (a directory NewDirectory built) holds the substitutes
	// with each number, whom byPhone may not show: With finds who a
	// changed number belongs to from them, byPhone and its few changed
	// people, not from the whole list.
	subsByPhone map[string][]*Person
	pos         map[string]int // each person's place in order (NewDirectory)
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
		pos:      make(map[string]int, len(people)),
	}
	var subs []*Person
	// Most numbers are one person's: their entries share one array (an
	// append to one, for a second person, copies it out).
	ones := make([]*Person, len(people))
	for i := range people {
		p := &people[i]
		d.people[p.ID] = p
		d.pos[p.ID] = len(d.order)
		d.order = append(d.order, p.ID)
		if p.SubstituteFor != "" {
			subs = append(subs, p)
			if p.Phone != "" {
				if d.subsByPhone == nil {
					d.subsByPhone = map[string][]*Person{}
				}
				d.subsByPhone[p.Phone] = append(d.subsByPhone[p.Phone], p)
			}
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
			if l := d.byPhone[p.Phone]; len(l) > 0 {
				d.byPhone[p.Phone] = append(l, p)
			} else {
				ones[i] = p
				d.byPhone[p.Phone] = ones[i : i+1 : i+1]
			}
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
			d.byPhone[p.Phone] = []*Person{p}
		}
	}
	for _, a := range agencies {
		d.agencies[a.Code] = a
	}
	return d
}

// Person returns the person with id.
func (d *Directory) Person(id string) (Person, bool) {
	p := d.person(id)
	if p == nil {
		return Person{}, false
	}
	return *p, true
}

func (d *Directory) person(id string) *Person {
	if p, ok := d.people[id]; ok || d.base == nil {
		return p
	}
	return d.base.people[id]
}

// find looks key up in over, then (unless over has it) in base's.
func find(over, base map[string]*Person, key string) (Person, bool) {
	p, ok := over[key]
	if !ok {
		p = base[key]
	}
	if p == nil {
		return Person{}, false
	}
	return *p, true
}

// baseOf is the directory d changes, or an empty one.
func (d *Directory) baseOf() *Directory {
	if d.base == nil {
		return &Directory{}
	}
	return d.base
}

// ByToken finds the person a personal invite link belongs to.
func (d *Directory) ByToken(token string) (Person, bool) {
	return find(d.byToken, d.baseOf().byToken, strings.TrimSpace(token))
}

// ByCheckinToken finds the person a check-in QR code belongs to.
func (d *Directory) ByCheckinToken(token string) (Person, bool) {
	return find(d.byCheck, d.baseOf().byCheck, strings.TrimSpace(token))
}

// ByCode finds the person an invite code belongs to; case, spaces and dashes
// do not matter.
func (d *Directory) ByCode(code string) (Person, bool) {
	c := NormalizeCode(code)
	if c == "" {
		return Person{}, false
	}
	return find(d.byCode, d.baseOf().byCode, c)
}

// ByPhone finds the person with this phone number. Two people sharing one
// number (an office line) cannot be told apart, so that is no match.
func (d *Directory) ByPhone(phone string) (Person, bool) {
	ph := NormalizePhone(phone)
	ps, ok := d.byPhone[ph]
	if !ok {
		ps = d.baseOf().byPhone[ph]
	}
	if len(ps) != 1 {
		return Person{}, false
	}
	return *ps[0], true
}

// HasPhone reports whether anyone the phone look-up may find has this
// number (ByPhone may still refuse it as shared).
func (d *Directory) HasPhone(phone string) bool {
	ph := NormalizePhone(phone)
	ps, ok := d.byPhone[ph]
	if !ok {
		ps = d.baseOf().byPhone[ph]
	}
	return len(ps) > 0
}

// Agency returns the agency with code.
func (d *Directory) Agency(code string) (Agency, bool) {
	a, ok := d.agencies[code]
	return a, ok
}

// People returns everyone, in list order.
func (d *Directory) People() []Person {
	out := make([]Person, 0, len(d.order)+len(d.baseOf().order)+len(d.added))
	d.each(func(p *Person) { out = append(out, *p) })
	return out
}

// each calls fn with everyone, in list order: a substitute With added
// right after the delegate they replace, anyone else added at the end.
func (d *Directory) each(fn func(p *Person)) {
	if d.base == nil {
		for _, id := range d.order {
			fn(d.people[id])
		}
		return
	}
	after := map[string][]string{}
	var tail []string
	for _, id := range d.added {
		if s := d.people[id].SubstituteFor; s != "" && d.base.people[s] != nil {
			after[s] = append(after[s], id)
		} else {
			tail = append(tail, id)
		}
	}
	for _, id := range d.base.order {
		fn(d.person(id))
		for _, a := range after[id] {
			fn(d.people[a])
		}
	}
	for _, id := range tail {
		fn(d.people[id])
	}
}

// withMax is how many changed people a directory made by With keeps over
// its base before it is indexed afresh.
const withMax = 128

// With returns a directory in which people replace those with their ids,
// or join the list (a substitute right after the delegate they replace);
// d itself is not changed, so readers holding it stay safe. It looks
// people up exactly as NewDirectory over the whole changed list would.
func (d *Directory) With(people ...Person) *Directory {
	if len(people) == 0 {
		return d
	}
	n := &Directory{base: d, agencies: d.agencies}
	if d.base != nil {
		// Clones copy the maps' tables as they are, without hashing every
		// key again.
		n.base = d.base
		n.people, n.byToken, n.byCheck = maps.Clone(d.people), maps.Clone(d.byToken), maps.Clone(d.byCheck)
		n.byCode, n.byPhone = maps.Clone(d.byCode), maps.Clone(d.byPhone)
		n.added = slices.Clone(d.added)
	} else {
		n.people, n.byToken, n.byCheck = map[string]*Person{}, map[string]*Person{}, map[string]*Person{}
		n.byCode, n.byPhone = map[string]*Person{}, map[string][]*Person{}
	}
	phones := map[string]bool{}
	for _, c := range people {
		p := &c
		if old := n.person(p.ID); old != nil {
			n.unindex(old)
			phones[old.Phone] = true
		} else {
			n.added = append(n.added, p.ID)
		}
		n.people[p.ID] = p
		n.index(p)
		phones[p.Phone] = true
	}
	delete(phones, "")
	for ph := range phones {
		n.byPhone[ph] = n.phoneEntry(ph)
	}
	if len(n.people) > withMax {
		return n.flat()
	}
	return n
}

// flat returns d as a directory of its own (no base) that finds people
// exactly as d does, and so as NewDirectory over d.People() would: base's
// look-ups, cloned (their tables copied, not every key hashed again), with
// d's changes laid over them, and the same people rather than copies. Only
// the list order, its places and the substitutes by number are walked
// afresh.
func (d *Directory) flat() *Directory {
	b := d.base
	n := &Directory{
		people: maps.Clone(b.people), byToken: over(b.byToken, d.byToken), byCheck: over(b.byCheck, d.byCheck),
		byCode: over(b.byCode, d.byCode), byPhone: maps.Clone(b.byPhone), agencies: d.agencies,
		order: make([]string, 0, len(b.order)+len(d.added)),
		pos:   make(map[string]int, len(b.order)+len(d.added)),
	}
	maps.Copy(n.people, d.people)
	for ph, l := range d.byPhone {
		if len(l) == 0 {
			delete(n.byPhone, ph) // no key: as NewDirectory leaves a number no one has
		} else {
			n.byPhone[ph] = l
		}
	}
	d.each(func(p *Person) {
		n.pos[p.ID] = len(n.order)
		n.order = append(n.order, p.ID)
		if p.SubstituteFor != "" && p.Phone != "" {
			if n.subsByPhone == nil {
				n.subsByPhone = map[string][]*Person{}
			}
			n.subsByPhone[p.Phone] = append(n.subsByPhone[p.Phone], p)
		}
	})
	return n
}

// over is base with the keys of changes laid over it: a key mapping to nil
// there is one no one has any more.
func over(base, changes map[string]*Person) map[string]*Person {
	m := maps.Clone(base)
	for k, p := range changes {
		if p == nil {
			delete(m, k)
		} else {
			m[k] = p
		}
	}
	return m
}

// unindex hides old's token, check-in token and code.
func (d *Directory) unindex(old *Person) {
	base := d.baseOf()
	for _, k := range []struct {
		m   map[string]*Person
		b   map[string]*Person
		key string
	}{{d.byToken, base.byToken, old.InviteToken}, {d.byCheck, base.byCheck, old.CheckinToken}, {d.byCode, base.byCode, NormalizeCode(old.InviteCode)}} {
		if k.key == "" {
			continue
		}
		p, ok := k.m[k.key]
		if !ok {
			p = k.b[k.key]
		}
		if p == old {
			k.m[k.key] = nil
		}
	}
}

// index makes p's token, check-in token and code find p, as NewDirectory
// does (a substitute's only while they are one, and no check-in token).
func (d *Directory) index(p *Person) {
	if p.SubstituteFor != "" && !p.Has(RoleSubstitute) {
		return
	}
	if p.InviteToken != "" {
		d.byToken[p.InviteToken] = p
	}
	if p.InviteCode != "" {
		d.byCode[NormalizeCode(p.InviteCode)] = p
	}
	if p.SubstituteFor == "" && p.CheckinToken != "" {
		d.byCheck[p.CheckinToken] = p
	}
}

// phoneEntry is who the phone look-up finds for ph, as NewDirectory
// decides: everyone in the list with the number, else the first
// substitute with it (in the order People gives). It is worked out from
// what base found by ph (byPhone, subsByPhone: the earliest substitute
// there still one stands for all of them) and the few people changed
// since, by their place in the list (base's pos), not by walking the list.
func (d *Directory) phoneEntry(ph string) []*Person {
	base := d.baseOf()
	changed := func(id string) bool {
		_, ok := d.people[id]
		return ok && d.base != nil
	}
	var list []*Person
	var first *Person
	firstAt := [2]int{math.MaxInt, 0}
	sub := func(p *Person, at [2]int) {
		if p.Has(RoleSubstitute) && (at[0] < firstAt[0] || at[0] == firstAt[0] && at[1] < firstAt[1]) {
			first, firstAt = p, at
		}
	}
	for _, p := range base.byPhone[ph] {
		if p.SubstituteFor == "" && !changed(p.ID) {
			list = append(list, p)
		}
	}
	for _, p := range base.subsByPhone[ph] { // in list order
		if !changed(p.ID) && p.Has(RoleSubstitute) {
			sub(p, [2]int{base.pos[p.ID], 0})
			break
		}
	}
	if d.base != nil {
		for id, p := range d.people {
			if p.Phone != ph {
				continue
			}
			if i, inBase := base.pos[id]; inBase {
				if p.SubstituteFor == "" {
					list = append(list, p)
				} else {
					sub(p, [2]int{i, 0})
				}
			}
		}
		// Those base lacks come, as in each, right after whom they
		// stand for (else at the end), in the order they came.
		for j, id := range d.added {
			p := d.people[id]
			switch {
			case p.Phone != ph:
			case p.SubstituteFor == "":
				list = append(list, p)
			default:
				at := [2]int{len(base.order), j + 1}
				if i, ok := base.pos[p.SubstituteFor]; ok {
					at[0] = i
				}
				sub(p, at)
			}
		}
	}
	if len(list) == 0 && first != nil {
		list = []*Person{first}
	}
	return list
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
	if normalCode(s) {
		return s // already the normal form: nothing to copy
	}
	var buf [17]byte // on the stack: one over the longest code
	b := buf[:0]
	for _, r := range strings.ToUpper(strings.TrimSpace(s)) {
		switch {
		case r == ' ' || r == '-':
		case (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9'):
			if len(b) == len(buf) {
				return "" // too long
			}
			b = append(b, byte(r))
		default:
			return ""
		}
	}
	if len(b) < 6 || len(b) > 16 {
		return ""
	}
	return string(b)
}

// normalCode reports whether s is a code in its normal form (NormalizeCode
// would return it unchanged).
func normalCode(s string) bool {
	if len(s) < 6 || len(s) > 16 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
