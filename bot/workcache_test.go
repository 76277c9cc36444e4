package bot_test

import (
	"context"
	"path/filepath"
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
	"github.com/dieuphoi/dieuphoi/storage/sqlite"
	"github.com/dieuphoi/dieuphoi/storage/storagetest"
)

// workStore is a results store with the data campaign.
type workStore interface {
	storage.Store
	storage.CampaignStore
}

// cacheStore is how the cache tests open their stores: one to handle
// updates with, another handle on the same database (another process, or
// the console), and the sessions.
type cacheStore struct {
	name string
	open func(t *testing.T) (st, other workStore, ss storage.SessionStore)
}

// cacheStores are the embedded default (one process: the console shares
// its store) and PostgreSQL with Redis (two connections to one database).
func cacheStores(ctx context.Context) []cacheStore {
	return []cacheStore{
		{"sqlite", func(t *testing.T) (workStore, workStore, storage.SessionStore) {
			s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "d.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s, s, s
		}},
		{"postgres+redis", func(t *testing.T) (workStore, workStore, storage.SessionStore) {
			url := testenv.PostgresURL(t)
			var pgs []workStore
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
			return pgs[0], pgs[1], ss
		}},
	}
}

// A focal point's submissions and the review queue are read from the
// database only when their version moved: a step that changes nothing
// reads neither, yet a value another focal point of the agency sends, or a
// review, is seen at the very next update; a value of another agency
// leaves the focal point's list as it was. On both databases.
func TestWorkListsReadOnlyWhenTheirVersionMoves(t *testing.T) {
	ctx := context.Background()
	stores := cacheStores(ctx)
	for _, tc := range stores {
		t.Run(tc.name, func(t *testing.T) {
			st, other, ss := tc.open(t)
			if err := st.SyncDirectory(ctx, storagetest.Agencies(), storagetest.People()); err != nil {
				t.Fatal(err)
			}
			if err := st.SyncCatalog(ctx, storagetest.Indicators(), storagetest.Assignments()); err != nil {
				t.Fatal(err)
			}
			dir, err := st.Directory(ctx)
			if err != nil {
				t.Fatal(err)
			}
			reg := prometheus.NewRegistry()
			rec := &recorder{}
			d := bot.NewDispatcher(bot.Config{Store: st, Sessions: ss, Event: event(), Directory: dir, Campaign: st,
				Catalog: domain.NewCatalog(storagetest.Indicators(), storagetest.Assignments()),
				Now:     func() time.Time { return clock }, Metrics: bot.NewMetrics(reg)})
			d.SetSender(domain.Telegram, rec)
			t.Cleanup(d.WaitAfter)
			chats := 0
			chat := func(chat, person string) *factsRig {
				p, _ := dir.Person(person)
				chats++ // each chat's update ids apart from the others'
				r := &factsRig{rig: &rig{d: d, st: st, sent: rec, dir: dir, chat: chat, token: p.InviteToken, seq: 1000 * chats}, reg: reg, inbox: st.(inboxStore)}
				// Acting for the agency or reviewing needs a verified link
				// (SECURITY.md): the person's own number, shared.
				if got := r.send(t, flows.Input{Kind: flows.InContact, Phone: p.Phone, ContactIsSelf: true, ContactVerified: true}); !strings.Contains(got, "Đã xác thực") {
					t.Fatalf("%s linked: %q", person, got)
				}
				return r
			}
			work := func(what, list string, hit, miss int) {
				t.Helper()
				h, m := cacheCounts(t, reg, "dieuphoi_work_cache_total", list)
				if h != hit || m != miss {
					t.Fatalf("%s: %s read from the list kept %d times and from the database %d, want %d and %d", what, list, h, m, hit, miss)
				}
			}
			save := func(key, agency, value string, version int) {
				t.Helper()
				if _, err := other.Apply(ctx, domain.UpdateKey{Channel: domain.Web, UpdateID: key}, clock, []domain.Effect{domain.SaveSubmission{
					Submission: domain.Submission{Indicator: "2.2.2", Agency: agency, Value: value, By: "DB002"}, Action: "submit", ExpectVersion: version}}); err != nil {
					t.Fatal(err)
				}
			}
			list := flows.Input{Kind: flows.InButton, Data: "menu:ind"}
			focal := chat("2002", "DB002")
			empty := focal.send(t, list) // read after the link (an effect): at the version the look-up read
			work("the list after the link", "submissions", 0, 1)
			if again := focal.send(t, list); again != empty {
				t.Fatalf("the same list read from the cache differs:\n%s\n---\n%s", again, empty)
			}
			work("the list again", "submissions", 1, 1)

			// Another focal point of the agency sends a value (another
			// process): seen at once.
			save("other-1", "STC", "0.5", 0)
			sent := focal.send(t, list)
			if sent == empty || !strings.Contains(sent, "📨 2.2.2") {
				t.Fatalf("the list after another focal point's value does not show it:\n%s", sent)
			}
			work("after the agency's value", "submissions", 1, 2)
			focal.send(t, list)
			work("the list again", "submissions", 2, 2)
			// Another agency's value: not theirs, the list kept serves.
			save("other-2", "SKHCN", "7", 0)
			if got := focal.send(t, list); got != sent {
				t.Fatalf("another agency's value changed the list:\n%s\n---\n%s", got, sent)
			}
			work("after another agency's value", "submissions", 3, 2)

			// Staff: the review queue, read again when any submission moves.
			staff := chat("3003", "DB003")
			review := flows.Input{Kind: flows.InButton, Data: "menu:review"}
			queue := staff.send(t, review)
			if !strings.Contains(queue, "2.2.2") {
				t.Fatalf("the review queue lacks the value sent:\n%s", queue)
			}
			work("the queue after the link", "review_queue", 0, 1)
			staff.send(t, review)
			work("the queue again", "review_queue", 1, 1)
			save("other-3", "STC", "0.6", 1)
			if got := staff.send(t, review); got == queue || !strings.Contains(got, "0,6") {
				t.Fatalf("the queue after a new value does not show it:\n%s", got)
			}
			work("the queue after a new value", "review_queue", 1, 2)
			// The focal point's own agency moved too (the list reads the
			// same: sent either way).
			focal.send(t, list)
			work("the list after the new value", "submissions", 3, 3)
		})
	}
}

// cacheCounts returns the hits and misses so far of the cache counter
// name, of one list (its "list" label; "" for a counter without lists).
func cacheCounts(t *testing.T, reg *prometheus.Registry, name, list string) (hit, miss int) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["list"] != list {
				continue
			}
			switch labels["result"] {
			case "hit":
				hit = int(m.GetCounter().GetValue())
			case "miss":
				miss = int(m.GetCounter().GetValue())
			}
		}
	}
	return hit, miss
}
