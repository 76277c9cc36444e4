package bot

import (
	"strings"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
	"github.com/dieuphoi/dieuphoi/storage"
)

// What the flows need about the person a chat is linked to — the link and
// its proof, their row, their answer, language and unreachable marks — is
// cached with the chat's session and checked by version instead of read
// from the database on every update.
//
// Invalidation: a person's facts version (storage.FactsVersion) changes in
// the transaction of every change to those rows, whoever makes it (this or
// another process, the console, the scheduler, an import): on PostgreSQL it
// is read from the rows themselves (their xmin, the newest answer's id), on
// SQLite a counter bumped by triggers (migration 0020), so no writer can
// forget it. The inbox append that stores an update reads, in its own
// snapshot, the person the sender's account is linked to and that version
// (Inbound.FactsAt). The cache is used only when it was read at that very
// person and version: every change committed before the update was stored —
// and so before its sender could have sent it after seeing the change — is
// seen. A change committed after the update was stored and before it is
// handled was concurrent with it and is seen by the next one. The cache is
// read in one snapshot with its version (sqlstore.IdentityStates), dropped
// when a step has effects or tasks (they may change these rows after the
// next update was stored), and not used for an update naming someone (link,
// code, number) or from an account that was linked to nobody.
//
// The person's row is not stored in the session (its tokens are secrets):
// only a digest, compared with this process's people list, whose row is
// used when they agree (else the facts are read, and the list mended).
type cachedFacts struct {
	Version  storage.FactsVersion `json:"v"`
	Event    string               `json:"e,omitempty"`
	Identity domain.Identity      `json:"i"`
	Digest   uint64               `json:"d"`
	State    storage.PersonState  `json:"s"`
}

// factsCache is what to cache with the session after a step that read
// id (a hit or a read at a known version) about person p.
func (d *Dispatcher) factsCache(in Inbound, id identityResult, p *domain.Person) *cachedFacts {
	if id.err != nil || id.version.Person == "" || id.version.V == "" || id.who == nil || id.state == nil || p == nil ||
		p.ID != id.version.Person || id.who.ID != p.ID || id.id.PersonID != p.ID ||
		id.id.Channel != in.Key.Channel || id.id.UserID != in.UserID {
		return nil
	}
	return &cachedFacts{Version: id.version, Event: d.eventID(), Identity: id.id, Digest: personDigest(*id.who), State: *id.state}
}

// cachedIdentity fills id from c when c is current for in (see above) and
// reports whether it did.
func (d *Dispatcher) cachedIdentity(in Inbound, c *cachedFacts, id *identityResult) bool {
	if c == nil || c.Version.Person == "" || c.Version.V == "" || c.Version != in.FactsAt || c.Event != d.eventID() ||
		c.Identity.Channel != in.Key.Channel || c.Identity.UserID != in.UserID || c.Identity.PersonID != c.Version.Person {
		return false
	}
	p, ok := d.dir.Load().Person(c.Version.Person)
	if !ok || personDigest(p) != c.Digest {
		return false
	}
	st := c.State
	*id = identityResult{id: c.Identity, who: &p, state: &st, version: c.Version}
	return true
}

func (d *Dispatcher) eventID() string {
	if d.event == nil {
		return ""
	}
	return d.event.ID
}

// personDigest is a digest (FNV-1a) of every field of p.
func personDigest(p domain.Person) uint64 {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	add := func(s string, end byte) {
		for i := 0; i < len(s); i++ {
			h = (h ^ uint64(s[i])) * prime
		}
		h = (h ^ uint64(end)) * prime
	}
	for _, s := range [...]string{p.ID, p.FullName, p.Position, p.AgencyCode, p.Phone, p.Email,
		p.InviteToken, p.InviteCode, p.CheckinToken, p.SubstituteFor} {
		add(s, 0)
	}
	for _, r := range p.Roles {
		add(string(r), 1)
	}
	return h
}

// CachesFacts reports whether in may use the facts cached with its chat's
// session: not in a group, nor when it names someone (an invite link, a
// shared number; a typed code is told apart by the people list only, at
// handling). The inbox reads the sender's person and version only for
// these.
func (in Inbound) CachesFacts() bool {
	if in.Group {
		return false
	}
	switch in.Input.Kind {
	case flows.InContact:
		return false
	case flows.InCommand:
		return in.Input.Command != "start" || strings.TrimSpace(in.Input.Text) == ""
	}
	return true
}
