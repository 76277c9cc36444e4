package bot_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/bot"
	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
	"github.com/dieuphoi/dieuphoi/internal/testenv"
	"github.com/dieuphoi/dieuphoi/storage"
	"github.com/dieuphoi/dieuphoi/storage/postgres"
	"github.com/dieuphoi/dieuphoi/storage/redis"
	"github.com/dieuphoi/dieuphoi/storage/storagetest"
)

// Two processes on one PostgreSQL and one Redis, each with the people list
// it read at start-up. A delegate names a substitute in process A; in
// process B, which never read the list again, the substitute's link, their
// code and their linked chat work at once; when the delegate withdraws the
// substitute in A, the link and code stop working in B too.
func TestSubstituteAcrossProcesses(t *testing.T) {
	ctx := context.Background()
	url := testenv.PostgresURL(t)
	open := func() *postgres.Store {
		pg, err := postgres.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { pg.Close() })
		return pg
	}
	pgA, pgB := open(), open()
	if err := pgA.SyncDirectory(ctx, storagetest.Agencies(), storagetest.People()); err != nil {
		t.Fatal(err)
	}
	ss, err := redis.Open(ctx, redis.Options{URL: testenv.RedisURL(t), Prefix: testenv.Prefix(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ss.Close() })
	dispatcher := func(pg *postgres.Store) (*bot.Dispatcher, *recorder) {
		dir, err := pg.Directory(ctx)
		if err != nil {
			t.Fatal(err)
		}
		rec := &recorder{}
		d := bot.NewDispatcher(bot.Config{Store: pg, Sessions: ss, Event: event(), Directory: dir, Now: func() time.Time { return clock }})
		d.SetSender(domain.Telegram, rec)
		return d, rec
	}
	a, _ := dispatcher(pgA)
	b, recB := dispatcher(pgB)
	seq := 0
	send := func(d *bot.Dispatcher, chat string, in flows.Input) {
		t.Helper()
		seq++
		if err := d.Handle(ctx, bot.Inbound{Key: domain.UpdateKey{Channel: domain.Telegram, UpdateID: fmt.Sprint("x", seq)},
			UserID: chat, ChatID: chat, Input: in}); err != nil {
			t.Fatal(err)
		}
	}
	delegate, _ := a.Directory().Person("DB001")
	for _, in := range substituteSteps(delegate.InviteToken) {
		send(a, "1001", in)
	}
	sub, ok := a.Directory().Person(domain.SubstituteID("DB001"))
	if !ok || !sub.Has(domain.RoleSubstitute) || sub.FullName != "Phạm Thu Hà" {
		t.Fatalf("process A's list: substitute %+v %v", sub, ok)
	}
	if _, ok := b.Directory().Person(sub.ID); ok {
		t.Fatal("process B read the list again; the test no longer shows it needs not")
	}

	// The substitute opens their link in B: recognised, by name.
	send(b, "3003", flows.Input{Kind: flows.InCommand, Command: "start", Text: sub.InviteToken})
	if got := strings.Join(recB.texts("3003"), "\n"); !strings.Contains(got, "Phạm Thu Hà") {
		t.Fatalf("B answered the substitute's link with:\n%s", got)
	}
	if p, ok := b.Directory().ByToken(sub.InviteToken); !ok || p.ID != sub.ID {
		t.Error("B's list did not take the substitute in")
	}
	// Another chat types the substitute's code in B (a third process
	// would not have them either): found in the database.
	c, _ := dispatcher(pgB)
	send(c, "4004", flows.Input{Kind: flows.InText, Text: strings.ToLower(sub.InviteCode)})
	if p, ok := c.Directory().ByCode(sub.InviteCode); !ok || p.ID != sub.ID {
		t.Error("a typed substitute's code is not found in a process that had not seen them")
	}
	// A process that never saw them handles the linked chat's next update:
	// the chat is still the substitute.
	e, recE := dispatcher(pgB)
	send(e, "3003", flows.Input{Kind: flows.InCommand, Command: "start"})
	if got := strings.Join(recE.texts("3003"), "\n"); !strings.Contains(got, "Phạm Thu Hà") {
		t.Errorf("the linked substitute is not known in another process:\n%s", got)
	}

	// The delegate attends after all, in A: the substitute's link and code
	// stop working in B at once.
	send(a, "1001", flows.Input{Kind: flows.InButton, Data: "rsvp:attend"})
	send(b, "5005", flows.Input{Kind: flows.InCommand, Command: "start", Text: sub.InviteToken})
	if got := strings.Join(recB.texts("5005"), "\n"); strings.Contains(got, "Phạm Thu Hà") {
		t.Errorf("a withdrawn substitute's link still works in B:\n%s", got)
	}
	if _, ok := b.Directory().ByToken(sub.InviteToken); ok {
		t.Error("B's list still finds the withdrawn substitute's link")
	}
	send(c, "6006", flows.Input{Kind: flows.InText, Text: sub.InviteCode})
	if _, ok := c.Directory().ByCode(sub.InviteCode); ok {
		t.Error("C's list still finds the withdrawn substitute's code")
	}
}

// What no chat brings to a process (a substitute named through another
// one, for the console and the reminders) reaches its people list with the
// periodic read.
func TestKeepPeople(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := sqliteRig(t)
	other := bot.NewDispatcher(bot.Config{Store: r.st, Sessions: r.st.(storage.SessionStore), Event: event(), Directory: r.d.Directory(), Now: func() time.Time { return clock }})
	other.SetSender(domain.Telegram, &recorder{})
	go other.KeepPeople(ctx, 20*time.Millisecond)
	for _, in := range substituteSteps(r.token) {
		if err := r.d.Handle(ctx, r.in(in)); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if p, ok := other.Directory().Person(domain.SubstituteID("DB001")); ok && p.Has(domain.RoleSubstitute) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the other process's list never took the substitute in")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
