package storagetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/storage"
	"github.com/dieuphoi/dieuphoi/storage/sqlstore"
)

// FactsStore is what the facts version suite needs: the inbox append,
// which reads each sender's person and facts version, the chat look-up,
// which reads them with the facts, and the outbox's unreachable marks.
type FactsStore interface {
	storage.Store
	AppendInbox(ctx context.Context, by string, items []storage.InboxItem) (int, error)
	ChatFacts(ctx context.Context, l storage.ChatLookup) (storage.ChatFacts, error)
	Enqueue(ctx context.Context, it sqlstore.OutboxItem) (bool, error)
	Claim(ctx context.Context, worker string, now time.Time, limit int, lease time.Duration) ([]sqlstore.OutboxItem, error)
	MarkUnreachable(ctx context.Context, id int64, worker string, at time.Time, reason string) error
	ClearUnreachable(ctx context.Context, personID string, ch domain.Channel) error
}

// RunFactsVersion: the facts version the inbox append reads for an
// account is the one the chat look-up reads with the facts, and it changes
// with every write to what is cached — an answer, the language, the
// person's row (an import), an unreachable mark and its clearing, the
// link — and with nothing else (another person's answer), whichever
// statement reads it (bot/factscache.go: a cached fact is used only when
// its version is the append's).
func RunFactsVersion(t *testing.T, open func(t *testing.T) FactsStore) {
	ctx := context.Background()
	at := time.Date(2024, 7, 25, 9, 0, 0, 0, time.UTC)
	s := open(t)
	if err := s.SyncDirectory(ctx, Agencies(), People()); err != nil {
		t.Fatal(err)
	}
	n := 0
	apply := func(effects ...domain.Effect) {
		t.Helper()
		n++
		if _, err := s.Apply(ctx, domain.UpdateKey{Channel: domain.Telegram, UpdateID: fmt.Sprint("facts-", n)}, at, effects); err != nil {
			t.Fatal(err)
		}
	}
	link := func(person string) domain.Effect {
		return domain.LinkIdentity{Identity: domain.Identity{Channel: domain.Telegram, UserID: "u1", ChatID: "u1", PersonID: person, Proof: domain.ProofPhone}}
	}
	// version appends an update of the account and looks the account up,
	// and returns the version both read.
	version := func(what string) storage.FactsVersion {
		t.Helper()
		n++
		items := []storage.InboxItem{{Key: fmt.Sprint("telegram:f", n), Part: 1, Chat: "telegram:u1", Payload: []byte(`{}`), Created: at,
			Channel: "telegram", User: "u1"}}
		if got, err := s.AppendInbox(ctx, "w", items); err != nil || got != 1 {
			t.Fatalf("%s: append = %d, %v", what, got, err)
		}
		res, err := s.ChatFacts(ctx, storage.ChatLookup{Channel: domain.Telegram, UserID: "u1"})
		if err != nil || res.Err != nil || !res.Found {
			t.Fatalf("%s: look-up = %+v, %v", what, res, err)
		}
		if items[0].Facts != res.Version || res.Version.V == "" || res.Version.Person != res.Person.ID {
			t.Fatalf("%s: the append read version %+v, the look-up %+v of %s", what, items[0].Facts, res.Version, res.Person.ID)
		}
		return res.Version
	}
	var last storage.FactsVersion
	changed := func(what string) storage.FactsVersion {
		t.Helper()
		v := version(what)
		if v == last {
			t.Fatalf("%s: the version stayed %+v", what, v)
		}
		last = v
		return v
	}

	apply(link("DB001"))
	v := changed("linked")
	if v.Person != "DB001" {
		t.Fatalf("linked to %s, want DB001", v.Person)
	}
	if again := version("nothing changed"); again != last {
		t.Fatalf("nothing changed, yet the version went from %+v to %+v", last, again)
	}
	apply(domain.SaveRSVP{RSVP: domain.RSVP{PersonID: "DB003", Status: domain.RSVPAttend, Channel: domain.Telegram, At: at}})
	if other := version("another person's answer"); other != last {
		t.Fatalf("another person's answer changed the version from %+v to %+v", last, other)
	}
	apply(domain.SaveRSVP{RSVP: domain.RSVP{PersonID: "DB001", Status: domain.RSVPAttend, Channel: domain.Telegram, At: at}})
	changed("their answer")
	apply(domain.SaveRSVP{RSVP: domain.RSVP{PersonID: "DB001", Status: domain.RSVPDecline, Channel: "console", At: at, By: "ST001"}})
	changed("their answer recorded by staff")
	apply(domain.SetLanguage{PersonID: "DB001", Lang: domain.English})
	changed("their language")

	if _, err := s.Enqueue(ctx, sqlstore.OutboxItem{Key: "facts|1|DB001", Job: "facts", PersonID: "DB001", Channel: domain.Telegram, ChatID: "u1",
		Payload: []byte(`{}`), DueAt: at, CreatedAt: at}); err != nil {
		t.Fatal(err)
	}
	claimed, err := s.Claim(ctx, "w", at.Add(time.Second), 1, time.Minute)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %+v, %v", claimed, err)
	}
	if err := s.MarkUnreachable(ctx, claimed[0].ID, "w", at, "Forbidden: bot was blocked by the user"); err != nil {
		t.Fatal(err)
	}
	changed("marked unreachable")
	if err := s.ClearUnreachable(ctx, "DB001", domain.Telegram); err != nil {
		t.Fatal(err)
	}
	changed("the mark cleared")

	people := People()
	for i := range people {
		if people[i].ID == "DB001" {
			people[i].Position = "Phó Giám đốc"
		}
	}
	if err := s.SyncDirectory(ctx, Agencies(), people); err != nil {
		t.Fatal(err)
	}
	changed("their row imported anew")

	apply(link("DB002"))
	if v := changed("linked to another person"); v.Person != "DB002" {
		t.Fatalf("relinked to %s, want DB002", v.Person)
	}

	// A focal point's version carries their agency's submissions, of
	// every campaign; a staff member's every submission (their review
	// queue): the cached lists are used only at the version they were
	// read at (bot/workcache.go).
	work := func(what, review, agency string) {
		t.Helper()
		if r, a := last.Work(); r != review || a != agency {
			t.Fatalf("%s: work versions %q, %q, want %q, %q (%+v)", what, r, a, review, agency, last)
		}
	}
	work("a focal point of STC, no submission yet", "", "0.0")
	save := func(agency, value string, version int) domain.Effect {
		return domain.SaveSubmission{Submission: domain.Submission{Indicator: "2.2.2", Agency: agency, Value: value, By: "DB002"},
			Action: "submit", ExpectVersion: version}
	}
	apply(save("STC", "0,5", 0))
	changed("their agency's first value")
	work("one value", "", "1.1")
	apply(save("STC", "0,6", 1))
	changed("their agency's value corrected")
	work("corrected", "", "1.2")
	apply(save("SKHCN", "1", 0))
	if other := version("another agency's value"); other != last {
		t.Fatalf("another agency's value changed the version from %+v to %+v", last, other)
	}
	apply(domain.ReviewSubmission{Indicator: "2.2.2", Agency: "STC", Approve: false, Comment: "thiếu văn bản", By: "DB003", ExpectVersion: 2})
	changed("their agency's value returned by staff")
	work("returned", "", "1.3")

	apply(link("DB003"))
	changed("linked to a staff member")
	work("staff", "2.4", "")
	apply(save("SKHCN", "2", 1))
	changed("any agency's value, for staff")
	work("staff, after a change", "2.5", "")
}

// LookupStore is what RunIdentityStates needs: the batched chat look-up.
type LookupStore interface {
	storage.Store
	IdentityStates(ctx context.Context, reqs []sqlstore.IdentityReq) ([]sqlstore.IdentityResult, error)
}

// RunIdentityStates: one look-up of several accounts answers each with its
// own identity, person and state, in the order asked — a linked account
// with an answer beside one without, an unlinked one naming a candidate,
// an unknown one — nothing of one row showing in the next.
func RunIdentityStates(t *testing.T, open func(t *testing.T) LookupStore) {
	ctx := context.Background()
	at := time.Date(2024, 7, 25, 9, 0, 0, 0, time.UTC)
	s := open(t)
	if err := s.SyncDirectory(ctx, Agencies(), People()); err != nil {
		t.Fatal(err)
	}
	link := func(user, person string) domain.Effect {
		return domain.LinkIdentity{Identity: domain.Identity{Channel: domain.Telegram, UserID: user, ChatID: "c" + user, PersonID: person, Proof: domain.ProofPhone}}
	}
	sub := domain.RSVP{PersonID: "DB001", Status: domain.RSVPSubstitute, Channel: domain.Telegram, At: at,
		Substitute: &domain.Substitute{Name: "Phạm Văn Dũng", Position: "Chuyên viên", Phone: "0911111111"}}
	if _, err := s.Apply(ctx, domain.UpdateKey{Channel: domain.Telegram, UpdateID: "lookup-1"}, at,
		[]domain.Effect{link("u1", "DB001"), link("u2", "DB002"), domain.SaveRSVP{RSVP: sub}}); err != nil {
		t.Fatal(err)
	}
	reqs := []sqlstore.IdentityReq{
		{Channel: domain.Telegram, UserID: "nobody"},
		{Channel: domain.Telegram, UserID: "u1"},
		{Channel: domain.Telegram, UserID: "u2"},
		{Channel: domain.Telegram, UserID: "new", Candidate: "DB003"},
		{Channel: domain.Telegram, UserID: "u1"},
	}
	res, err := s.IdentityStates(ctx, reqs)
	if err != nil || len(res) != len(reqs) {
		t.Fatalf("look-up: %+v, %v", res, err)
	}
	for i, r := range res {
		if r.Identity.Channel != domain.Telegram || r.Identity.UserID != reqs[i].UserID {
			t.Errorf("%d: identity %+v, want %s", i, r.Identity, reqs[i].UserID)
		}
	}
	if r := res[0]; r.Found || !errors.Is(r.Err, sqlstore.ErrNoRows) || r.Identity.PersonID != "" {
		t.Errorf("unknown account: %+v", r)
	}
	for _, i := range []int{1, 4} {
		r := res[i]
		if r.Err != nil || !r.Found || r.Identity.PersonID != "DB001" || r.Identity.ChatID != "cu1" || r.Identity.Proof != domain.ProofPhone ||
			r.Person.ID != "DB001" || r.State.RSVP == nil || r.State.RSVP.Status != domain.RSVPSubstitute ||
			r.State.RSVP.Substitute == nil || r.State.RSVP.Substitute.Name != "Phạm Văn Dũng" || r.Version.Person != "DB001" {
			t.Errorf("%d: linked account with an answer: %+v", i, r)
		}
	}
	if r := res[2]; r.Err != nil || !r.Found || r.Identity.PersonID != "DB002" || r.Person.ID != "DB002" || r.State.RSVP != nil ||
		len(r.Person.Roles) != 2 || r.Version.Person != "DB002" {
		t.Errorf("linked account without an answer: %+v", r)
	}
	if r := res[3]; !errors.Is(r.Err, sqlstore.ErrNoRows) || !r.Found || r.Identity.PersonID != "" || !r.Identity.LinkedAt.IsZero() || r.Person.ID != "DB003" ||
		r.State.RSVP != nil || r.Version != (storage.FactsVersion{}) {
		t.Errorf("unlinked account naming a candidate: %+v", r)
	}
}
