package domain

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// A directory changed by With finds people exactly as one indexed afresh
// from the changed list would, whatever the changes (substitutes named,
// renamed, given a new number, withdrawn; people edited), and the
// directories it was made from are left as they were.
func TestDirectoryWith(t *testing.T) {
	agencies := []Agency{{Code: "STC", NameVI: "Sở KH&CN"}}
	base := []Person{
		{ID: "A", FullName: "An", Phone: "0901000001", Roles: []Role{RoleDelegate}, InviteToken: "tokA", InviteCode: "CODEAA1", CheckinToken: "chkA"},
		{ID: "B", FullName: "Bình", Phone: "0901000002", Roles: []Role{RoleDelegate}, InviteToken: "tokB", InviteCode: "CODEBB1", CheckinToken: "chkB"},
		{ID: "C", FullName: "Châu", Phone: "0901000003", Roles: []Role{RoleDelegate}, InviteToken: "tokC", InviteCode: "CODECC1", CheckinToken: "chkC"},
		{ID: "D", FullName: "Dũng", Phone: "0901000002", Roles: []Role{RoleFocal}, InviteToken: "tokD", InviteCode: "CODEDD1", CheckinToken: "chkD"},
	}
	phones := []string{"0901000003", "0909999999", "0908888888", ""}
	for seed := range uint64(12) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			list := slices.Clone(base)
			if seed%2 == 1 {
				// Substitutes in the list from the start, two sharing a
				// number no one else has.
				for i, del := range []string{"C", "A"} {
					sub := Person{ID: SubstituteID(del), SubstituteFor: del, FullName: "sub " + del, Phone: "0909999999",
						InviteToken: "st" + del, InviteCode: "SUBCODE" + del, CheckinToken: "sc" + del}
					if i == 0 || seed%4 == 1 {
						sub.Roles = []Role{RoleSubstitute}
					}
					at := slices.IndexFunc(list, func(q Person) bool { return q.ID == del })
					list = slices.Insert(list, at+1, sub)
				}
			}
			dir := NewDirectory(slices.Clone(list), agencies) // it keeps pointers into the slice it is given
			var snaps []*Directory
			var wants [][]Person
			for step := range 200 {
				var changed []Person
				for range 1 + rng.IntN(3) {
					var p Person
					if rng.IntN(5) == 0 {
						p = list[rng.IntN(len(base))] // a person of the list edited
						p.FullName += "'"
						p.Phone = phones[rng.IntN(len(phones))]
					} else {
						del := base[rng.IntN(len(base))].ID
						p = Person{ID: SubstituteID(del), SubstituteFor: del, FullName: fmt.Sprint("sub ", step),
							Phone: phones[rng.IntN(len(phones))], InviteToken: fmt.Sprint("st", del, rng.IntN(3)),
							InviteCode: fmt.Sprint("SUBCODE", del, rng.IntN(3)), CheckinToken: fmt.Sprint("sc", del)}
						if rng.IntN(3) > 0 {
							p.Roles = []Role{RoleSubstitute}
						}
					}
					changed = append(changed, p)
				}
				list = layOver(list, changed)
				dir = dir.With(changed...)
				want := NewDirectory(slices.Clone(list), agencies)
				sameLookups(t, fmt.Sprint("step ", step), dir, want, list)
				if step%37 == 0 {
					snaps, wants = append(snaps, dir), append(wants, slices.Clone(list))
				}
			}
			for i, s := range snaps {
				sameLookups(t, fmt.Sprint("snapshot ", i), s, NewDirectory(wants[i], agencies), wants[i])
			}
		})
	}
}

// Past withMax changed people, With indexes the list as one directory of
// its own again (flat): it finds people exactly as one indexed afresh, at
// every step before, at and after that, with the tokens, codes and numbers
// people had before, and the directories it was made from unchanged.
func TestDirectoryWithPastItsBase(t *testing.T) {
	var base []Person
	for i := range 150 {
		base = append(base, Person{ID: fmt.Sprint("P", i), FullName: "Người", Phone: fmt.Sprintf("090%07d", i%120),
			Roles: []Role{RoleDelegate}, InviteToken: fmt.Sprint("tok", i), InviteCode: fmt.Sprint("CODE", 100000+i),
			CheckinToken: fmt.Sprint("chk", i)})
	}
	phones := []string{"0900000003", "0911222333", "0908888888", ""}
	for seed := range uint64(2) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 11))
			list := slices.Clone(base)
			dir := NewDirectory(slices.Clone(list), nil)
			keys := slices.Clone(list) // every token, code and number anyone had
			seen := map[string]bool{}
			var snaps []*Directory
			var wants [][]Person
			flats := 0
			for step := range 400 {
				var changed []Person
				for range 1 + rng.IntN(4) {
					var p Person
					if rng.IntN(4) == 0 {
						p = list[rng.IntN(len(base))] // someone of the list edited
						p.FullName += "'"
						p.Phone = phones[rng.IntN(len(phones))]
						p.CheckinToken = fmt.Sprint("chk", p.ID, rng.IntN(2))
					} else {
						del := base[rng.IntN(len(base))].ID
						p = Person{ID: SubstituteID(del), SubstituteFor: del, FullName: fmt.Sprint("sub ", step),
							Phone: phones[rng.IntN(len(phones))], InviteToken: fmt.Sprint("st", del, rng.IntN(2)),
							InviteCode: fmt.Sprint("SUBCODE", del, rng.IntN(2))}
						if rng.IntN(4) > 0 {
							p.Roles = []Role{RoleSubstitute}
						}
					}
					changed = append(changed, p)
					if k := p.InviteToken + " " + p.InviteCode + " " + p.CheckinToken; !seen[k] {
						seen[k] = true
						keys = append(keys, p)
					}
				}
				list = layOver(list, changed)
				prev := dir
				dir = dir.With(changed...)
				if dir.base == nil {
					flats++
				}
				// Every step around a flat one, else now and then (each
				// look-up of every key ever had is slow).
				if dir.base == nil || prev.base == nil || step%25 == 0 {
					sameLookups(t, fmt.Sprint("step ", step), dir, NewDirectory(slices.Clone(list), nil), keys)
				}
				if step%29 == 0 {
					snaps, wants = append(snaps, dir), append(wants, slices.Clone(list))
				}
			}
			if flats < 2 {
				t.Fatalf("the list was indexed afresh %d times; the test wants it at least twice", flats)
			}
			if testing.Verbose() {
				t.Logf("indexed afresh %d times, %d keys", flats, len(keys))
			}
			for i, s := range snaps {
				sameLookups(t, fmt.Sprint("snapshot ", i), s, NewDirectory(wants[i], nil), keys)
			}
		})
	}
}

// Substitutes sharing one number, more of them than With keeps over its
// base: once the list is indexed afresh, the first of them found by the
// number changes it or is withdrawn, and the next one in the list is found.
func TestDirectoryWithPastItsBaseSharedNumber(t *testing.T) {
	var list []Person
	for i := range withMax + 20 {
		list = append(list, Person{ID: fmt.Sprint("P", i), FullName: "Người", Phone: fmt.Sprintf("090%07d", i), Roles: []Role{RoleDelegate}})
	}
	dir := NewDirectory(slices.Clone(list), nil)
	const shared = "0911222333"
	for i := range withMax + 5 {
		del := list[2*i].ID
		if i >= len(list)/2 {
			break
		}
		sub := Person{ID: SubstituteID(del), SubstituteFor: del, FullName: "Sub", Phone: shared, Roles: []Role{RoleSubstitute},
			InviteToken: "st" + del}
		list = slices.Insert(list, 2*i+1, sub)
		dir = dir.With(sub)
	}
	if dir.base != nil {
		dir = dir.With(list[0]) // one more: indexed afresh now at the latest
	}
	for i, change := range []func(p *Person){
		func(p *Person) { p.Phone = "0911000000" },
		func(p *Person) { p.Roles = nil },
	} {
		// The first substitute with the number, changed.
		at := slices.IndexFunc(list, func(p Person) bool { return p.Phone == shared && p.Has(RoleSubstitute) })
		first := list[at]
		change(&first)
		list[at] = first
		dir = dir.With(first)
		sameLookups(t, fmt.Sprint("change ", i), dir, NewDirectory(slices.Clone(list), nil), list)
		if p, ok := dir.ByPhone(shared); !ok || p.ID != list[at+2].ID {
			t.Fatalf("change %d: ByPhone = %s %v; want %s", i, p.ID, ok, list[at+2].ID)
		}
	}
}

func sameLookups(t *testing.T, label string, got, want *Directory, list []Person) {
	t.Helper()
	if g, w := fmt.Sprint(got.People()), fmt.Sprint(want.People()); g != w {
		t.Fatalf("%s: People()\n got %s\nwant %s", label, g, w)
	}
	var keys []string
	for _, p := range list {
		keys = append(keys, p.ID, p.InviteToken, p.InviteCode, p.CheckinToken, p.Phone)
	}
	keys = append(keys, "0901000001", "0901000002", "0909999999", "0908888888", "nobody")
	for _, k := range keys {
		for _, f := range []struct {
			name string
			fn   func(d *Directory, k string) (Person, bool)
		}{
			{"Person", (*Directory).Person}, {"ByToken", (*Directory).ByToken}, {"ByCode", (*Directory).ByCode},
			{"ByCheckinToken", (*Directory).ByCheckinToken}, {"ByPhone", (*Directory).ByPhone},
		} {
			g, gok := f.fn(got, k)
			w, wok := f.fn(want, k)
			if gok != wok || fmt.Sprint(g) != fmt.Sprint(w) {
				t.Fatalf("%s: %s(%q) = %v %v; want %v %v", label, f.name, k, g, gok, w, wok)
			}
		}
		if got.HasPhone(k) != want.HasPhone(k) {
			t.Fatalf("%s: HasPhone(%q) = %v", label, k, got.HasPhone(k))
		}
	}
}

// A substitute whose number someone in the list has is not found by it (that
// person is);
// once that person's number changes, the substitute is — from the indexed
// list, without walking it — and of two such substitutes the first in the
// list.
func TestDirectoryWithFindsSubstituteBehindChangedNumber(t *testing.T) {
	const shared = "0901000009"
	list := []Person{
		{ID: "A", FullName: "An", Phone: shared, Roles: []Role{RoleDelegate}},
		{ID: "B", FullName: "Bình", Phone: "0901000002", Roles: []Role{RoleDelegate}},
		{ID: SubstituteID("B"), SubstituteFor: "B", FullName: "Sub B", Phone: shared, Roles: []Role{RoleSubstitute}},
		{ID: "C", FullName: "Châu", Phone: "0901000003", Roles: []Role{RoleDelegate}},
		{ID: SubstituteID("C"), SubstituteFor: "C", FullName: "Sub C", Phone: shared, Roles: []Role{RoleSubstitute}},
	}
	for _, tc := range []struct {
		name string
		drop string // a substitute left out of the list
		want string
	}{
		{"one substitute", SubstituteID("C"), SubstituteID("B")},
		{"two substitutes: the first", "", SubstituteID("B")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := slices.DeleteFunc(slices.Clone(list), func(p Person) bool { return p.ID == tc.drop })
			dir := NewDirectory(slices.Clone(l), nil)
			if p, ok := dir.ByPhone(shared); !ok || p.ID != "A" {
				t.Fatalf("before the change ByPhone(%s) = %s, %v; want A", shared, p.ID, ok)
			}
			a := l[0]
			a.Phone = "0901000001"
			l[0] = a
			got := dir.With(a)
			sameLookups(t, tc.name, got, NewDirectory(slices.Clone(l), nil), l)
			if p, ok := got.ByPhone(shared); !ok || p.ID != tc.want {
				t.Errorf("ByPhone(%s) = %s, %v; want %s", shared, p.ID, ok, tc.want)
			}
		})
	}
}

// BenchmarkDirectoryWith: a substitute named in a list of 5,000, one after
// another as the bench's chats do: each with a number of their own, or all
// with one number (the bench's load gives every substitute the same).
func BenchmarkDirectoryWith(b *testing.B) {
	var list []Person
	for i := range 5000 {
		list = append(list, Person{ID: fmt.Sprint("P", i), FullName: "Người", Phone: fmt.Sprintf("090%07d", i),
			Roles: []Role{RoleDelegate}, InviteToken: fmt.Sprint("tok", i), InviteCode: fmt.Sprint("CODE", 100000+i)})
	}
	for _, shared := range []bool{false, true} {
		b.Run(fmt.Sprint("shared number ", shared), func(b *testing.B) {
			dir := NewDirectory(slices.Clone(list), nil)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				del := list[i%len(list)].ID
				phone := fmt.Sprintf("091%07d", i)
				if shared {
					phone = "0911222333"
				}
				dir = dir.With(Person{ID: SubstituteID(del), SubstituteFor: del, FullName: "Sub", Phone: phone,
					Roles: []Role{RoleSubstitute}, InviteToken: fmt.Sprint("st", i), InviteCode: fmt.Sprint("SUBCODE", i)})
				i++
			}
		})
	}
}

// A code already in its normal form comes back as it is (no copy); any
// other is normalised or refused as before.
func TestNormalizeCode(t *testing.T) {
	for in, want := range map[string]string{
		"HY7K3M9Q": "HY7K3M9Q", "hy-7k3m 9q": "HY7K3M9Q", " HY7K3M9Q ": "HY7K3M9Q", "ABC123": "ABC123",
		"ABC12": "", "ABCDEFGHIJKLMNOPQ": "", "ABCDEFGHIJKLMNOP": "ABCDEFGHIJKLMNOP", "ABC_123": "", "ĐÀ12345": "",
		"abc123": "ABC123", "": "", "AB-CD-EF": "ABCDEF", "ABCDEF\n": "ABCDEF",
	} {
		if got := NormalizeCode(in); got != want {
			t.Errorf("NormalizeCode(%q) = %q, want %q", in, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { NormalizeCode("HY7K3M9Q") }); n != 0 {
		t.Errorf("a normal code cost %v allocations", n)
	}
}

// layOver is list with changed laid over it, as a fresh load would read
// it: a changed person in their place, a new substitute right after the
// person they stand in for.
func layOver(list, changed []Person) []Person {
	for _, p := range changed {
		if i := slices.IndexFunc(list, func(q Person) bool { return q.ID == p.ID }); i >= 0 {
			list[i] = p
		} else {
			i := slices.IndexFunc(list, func(q Person) bool { return q.ID == p.SubstituteFor })
			list = slices.Insert(list, i+1, p)
		}
	}
	return list
}
