package bot_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dieuphoi/dieuphoi/bot"
	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
	"github.com/dieuphoi/dieuphoi/internal/testenv"
	"github.com/dieuphoi/dieuphoi/storage"
	"github.com/dieuphoi/dieuphoi/storage/postgres"
	"github.com/dieuphoi/dieuphoi/storage/redis"
	"github.com/dieuphoi/dieuphoi/storage/storagetest"
)

// inboxStore is the part of the inbox's store the facts cache rides on.
type inboxStore interface {
	AppendInbox(ctx context.Context, by string, items []storage.InboxItem) (int, error)
	ReadInbox(ctx context.Context, holder string, after int64, now time.Time, limit int) ([]storage.InboxItem, error)
	DeleteInbox(ctx context.Context, ids []int64) error
}

// factsRig is a dispatcher whose updates go through the inbox's append and
// read (which give each update the person and version its facts cache is
// checked against), with its metrics, and a second handle on the same
// database: another process, or the console.
type factsRig struct {
	*rig
	reg   *prometheus.Registry
	other storage.Store
	inbox inboxStore
	last  int64
}

func newFactsRig(t *testing.T, st, other storage.Store, ss storage.SessionStore) *factsRig {
	t.Helper()
	ctx := context.Background()
	if err := st.SyncDirectory(ctx, storagetest.Agencies(), storagetest.People()); err != nil {
		t.Fatal(err)
	}
	dir, err := st.Directory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	rec := &recorder{}
	d := bot.NewDispatcher(bot.Config{Store: st, Sessions: ss, Event: event(), Directory: dir,
		Now: func() time.Time { return clock }, Metrics: bot.NewMetrics(reg)})
	d.SetSender(domain.Telegram, rec)
	t.Cleanup(d.WaitAfter) // before the stores close
	p, _ := dir.Person("DB001")
	return &factsRig{rig: &rig{d: d, st: st, sent: rec, dir: dir, chat: "1001", token: p.InviteToken},
		reg: reg, other: other, inbox: st.(inboxStore)}
}

// send stores in through the inbox as the intake does and hands what a
// read gives back to the dispatcher, as the worker does; it returns the
// replies' text.
func (r *factsRig) send(t *testing.T, in flows.Input) string {
	t.Helper()
	return r.handle(t, r.store(t, in))
}

// store appends in to the inbox and reads it back, as the worker gets it.
func (r *factsRig) store(t *testing.T, in flows.Input) bot.Inbound {
	t.Helper()
	ctx := context.Background()
	ib := r.in(in)
	items := []storage.InboxItem{{Key: ib.Key.String(), Part: 1, Chat: ib.ChatKey(), Owner: "w", Payload: []byte(`{}`),
		Created: clock, Channel: string(ib.Key.Channel), User: ib.UserID}}
	if n, err := r.inbox.AppendInbox(ctx, "w", items); err != nil || n != 1 {
		t.Fatalf("append: %d, %v", n, err)
	}
	read, err := r.inbox.ReadInbox(ctx, "w", r.last, clock, 10)
	if err != nil || len(read) != 1 || read[0].ID != items[0].ID {
		t.Fatalf("read back: %+v, %v", read, err)
	}
	if read[0].Facts != items[0].Facts {
		t.Fatalf("the append gave facts %+v, the read %+v", items[0].Facts, read[0].Facts)
	}
	r.last = read[0].ID
	ib.FactsAt = read[0].Facts
	if err := r.inbox.DeleteInbox(ctx, []int64{read[0].ID}); err != nil {
		t.Fatal(err)
	}
	return ib
}

// handle runs ib and returns its replies' text.
func (r *factsRig) handle(t *testing.T, ib bot.Inbound) string {
	t.Helper()
	before := len(r.sent.texts(r.chat))
	if err := r.d.Handle(context.Background(), ib); err != nil {
		t.Fatalf("handle %+v: %v", ib.Input, err)
	}
	return strings.Join(r.sent.texts(r.chat)[before:], "\n")
}

// cache returns the facts cache's hits and misses so far.
func (r *factsRig) cache(t *testing.T) (hit, miss int) {
	t.Helper()
	return cacheCounts(t, r.reg, "dieuphoi_facts_cache_total", "")
}

func (r *factsRig) wantCache(t *testing.T, what string, hit, miss int) {
	t.Helper()
	if h, m := r.cache(t); h != hit || m != miss {
		t.Fatalf("%s: facts cache hits %d misses %d, want %d and %d", what, h, m, hit, miss)
	}
}

// status is the card's line for an answer.
func status(key string) string {
	return "Trạng thái của anh/chị: " + flows.Text(domain.Vietnamese, key) + "\n"
}

// What the flows need about a person is cached with the session and checked
// by version: a step that changes nothing reads nothing from the database,
// yet a change made by another process or in the console — an answer
// recorded at the door, the person edited, the chat unlinked — is seen at
// the very next update, on both databases.
func TestCachedFactsSeeOtherChangesAtTheNextUpdate(t *testing.T) {
	ctx := context.Background()
	stores := cacheStores(ctx)
	for _, tc := range stores {
		t.Run(tc.name, func(t *testing.T) {
			st, other, ss := tc.open(t)
			r := newFactsRig(t, st, other, ss)
			card := flows.Input{Kind: flows.InButton, Data: "menu:card"}
			// The invite link names the person: read, never cached.
			if got := r.send(t, flows.Input{Kind: flows.InCommand, Command: "start", Text: r.token}); !strings.Contains(got, "Xin chào") {
				t.Fatalf("greeting: %q", got)
			}
			r.wantCache(t, "after the link", 0, 0)
			// Linked by the last step (an effect): read once, then cached.
			r.send(t, card)
			r.wantCache(t, "first card", 0, 1)
			if got := r.send(t, card); !strings.Contains(got, status("st_pending")) {
				t.Fatalf("card before any answer: %q", got)
			}
			r.wantCache(t, "second card", 1, 1)

			// Staff record «không tham dự» at the door (another process).
			if _, err := r.other.Apply(ctx, domain.UpdateKey{Channel: "console", UpdateID: "door-1"}, clock,
				[]domain.Effect{domain.SaveRSVP{RSVP: domain.RSVP{PersonID: "DB001", Status: domain.RSVPDecline, Channel: "console", At: clock, By: "ST001"}}}); err != nil {
				t.Fatal(err)
			}
			if got := r.send(t, card); !strings.Contains(got, status("st_decline")) {
				t.Fatalf("the card after the door's answer does not say so: %q", got)
			}
			r.wantCache(t, "card after the door's answer", 1, 2)
			r.send(t, card)
			r.wantCache(t, "card again", 2, 2)

			// Two updates stored before either is handled: the first
			// answers, so the second must not use what was cached before
			// the answer (its version was read before the answer existed).
			attend, after := r.store(t, flows.Input{Kind: flows.InButton, Data: "rsvp:attend"}), r.store(t, card)
			r.handle(t, attend)
			if got := r.handle(t, after); !strings.Contains(got, status("st_attend")) {
				t.Fatalf("the card right after the chat's own answer: %q", got)
			}
			r.wantCache(t, "the answer (cached) and the card stored with it (read)", 3, 3)
			r.send(t, card)
			r.wantCache(t, "card after", 4, 3)

			// Their language set to English elsewhere (another chat of
			// theirs; the chat keeps its own): read again, once.
			if _, err := r.other.Apply(ctx, domain.UpdateKey{Channel: domain.Zalo, UpdateID: "lang-1"}, clock,
				[]domain.Effect{domain.SetLanguage{PersonID: "DB001", Lang: domain.English}}); err != nil {
				t.Fatal(err)
			}
			r.send(t, card)
			r.wantCache(t, "card after the language changed elsewhere", 4, 4)
			r.send(t, card)
			r.wantCache(t, "card after that", 5, 4)

			// The person's name corrected in another process's import.
			people := storagetest.People()
			for i := range people {
				if people[i].ID == "DB001" {
					people[i].FullName = "Nguyễn Văn Ân"
				}
			}
			if err := r.other.SyncDirectory(ctx, storagetest.Agencies(), people); err != nil {
				t.Fatal(err)
			}
			r.send(t, card)
			r.wantCache(t, "after the rename", 5, 5)
			// The flows' person is this process's list's row, mended by the read.
			if p, _ := r.d.Directory().Person("DB001"); p.FullName != "Nguyễn Văn Ân" {
				t.Fatalf("the person the flows see after the rename: %+v", p)
			}

			// Unlinked in the console: the chat is nobody at its next update.
			if _, err := r.other.Apply(ctx, domain.UpdateKey{Channel: "console", UpdateID: "unlink-1"}, clock,
				[]domain.Effect{domain.UnlinkIdentity{Channel: domain.Telegram, UserID: r.chat, PersonID: "DB001", By: "ST001", From: "console"}}); err != nil {
				t.Fatal(err)
			}
			if got := r.send(t, card); strings.Contains(got, status("st_attend")) || strings.Contains(got, "Ân") {
				t.Fatalf("an unlinked chat still sees the person's card: %q", got)
			}
			if h, m := r.cache(t); h != 5 || m != 5 {
				t.Fatalf("an unlinked chat used the cache: hits %d misses %d", h, m)
			}
		})
	}
}

// An update whose inbox gave no facts version (the Redis inbox reads no
// database in its append) is never a hit: the facts cached with the
// session by the steps before are not trusted, who the chat is is read at
// every update, and a change made elsewhere is seen at once.
func TestNoFactsVersionIsNeverAHit(t *testing.T) {
	ctx := context.Background()
	url := testenv.PostgresURL(t)
	var pgs []storage.Store
	for range 2 {
		st, err := postgres.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		pgs = append(pgs, st)
	}
	ss, err := redis.Open(ctx, redis.Options{URL: testenv.RedisURL(t), Prefix: testenv.Prefix(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ss.Close() })
	r := newFactsRig(t, pgs[0], pgs[1], ss)
	r.inbox = ss.Inbox()
	card := flows.Input{Kind: flows.InButton, Data: "menu:card"}
	if got := r.send(t, flows.Input{Kind: flows.InCommand, Command: "start", Text: r.token}); !strings.Contains(got, "Xin chào") {
		t.Fatalf("greeting: %q", got)
	}
	for i := range 3 {
		ib := r.store(t, card)
		if ib.FactsAt != (storage.FactsVersion{}) {
			t.Fatalf("the Redis inbox gave a facts version %+v", ib.FactsAt)
		}
		if got := r.handle(t, ib); !strings.Contains(got, status("st_pending")) {
			t.Fatalf("card %d: %q", i, got)
		}
	}
	if _, err := r.other.Apply(ctx, domain.UpdateKey{Channel: "console", UpdateID: "door-1"}, clock,
		[]domain.Effect{domain.SaveRSVP{RSVP: domain.RSVP{PersonID: "DB001", Status: domain.RSVPDecline, Channel: "console", At: clock, By: "ST001"}}}); err != nil {
		t.Fatal(err)
	}
	if got := r.send(t, card); !strings.Contains(got, status("st_decline")) {
		t.Fatalf("the card after the door's answer does not say so: %q", got)
	}
	r.wantCache(t, "cards without a facts version", 0, 0)
}
