package storagetest

import (
	"context"
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
}
