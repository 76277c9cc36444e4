package inbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	goredis "github.com/redis/go-redis/v9"

	"github.com/dieuphoi/dieuphoi/bot"
	"github.com/dieuphoi/dieuphoi/bot/bottest"
	"github.com/dieuphoi/dieuphoi/bot/inbox"
	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
	"github.com/dieuphoi/dieuphoi/internal/testenv"
	"github.com/dieuphoi/dieuphoi/storage"
	"github.com/dieuphoi/dieuphoi/storage/postgres"
	"github.com/dieuphoi/dieuphoi/storage/redis"
	"github.com/dieuphoi/dieuphoi/storage/sqlite"
)

// ledger stands in for the dispatcher across processes: it keeps, per chat,
// the update numbers in the order they were first handled (a repeat of a
// handled key is dropped, as the dispatcher drops it by its update mark),
// and notices two processes handling one chat at the same time.
type ledger struct {
	mu      sync.Mutex
	seen    map[string]bool
	order   map[string][]int
	active  map[string]int
	overlap []string
}

func newLedger() *ledger {
	return &ledger{seen: map[string]bool{}, order: map[string][]int{}, active: map[string]int{}}
}

// process is one simulated bot process's handler; kill makes it stop dead:
// nothing it handles from then on counts.
type process struct {
	l    *ledger
	dead atomic.Bool
}

func (p *process) Handle(ctx context.Context, in bot.Inbound) error {
	if p.dead.Load() {
		return bot.ErrNotSaved
	}
	chat := in.ChatKey()
	p.l.mu.Lock()
	p.l.active[chat]++
	if p.l.active[chat] > 1 {
		p.l.overlap = append(p.l.overlap, chat)
	}
	p.l.mu.Unlock()
	time.Sleep(time.Duration(rand.IntN(3)) * time.Millisecond)
	p.l.mu.Lock()
	defer p.l.mu.Unlock()
	p.l.active[chat]--
	if p.dead.Load() {
		return bot.ErrNotSaved
	}
	if !p.l.seen[in.Key.String()] {
		p.l.seen[in.Key.String()] = true
		var n int
		fmt.Sscanf(in.Input.Text, "%d", &n)
		p.l.order[chat] = append(p.l.order[chat], n)
	}
	return nil
}

// deadStore fails every call once its process is killed, as a store
// unreachable from a dead process: it renews nothing and leaves nothing.
type deadStore struct {
	inbox.Store
	p *process
}

var errDead = errors.New("process killed")

func (d deadStore) ReadInbox(ctx context.Context, h string, after int64, now time.Time, limit int) ([]storage.InboxItem, error) {
	if d.p.dead.Load() {
		return nil, errDead
	}
	return d.Store.ReadInbox(ctx, h, after, now, limit)
}
func (d deadStore) DeleteInbox(ctx context.Context, ids []int64) error {
	if d.p.dead.Load() {
		return errDead
	}
	return d.Store.DeleteInbox(ctx, ids)
}
func (d deadStore) InboxHeartbeat(ctx context.Context, h string, now time.Time, ttl time.Duration) (int, error) {
	if d.p.dead.Load() {
		return 0, errDead
	}
	return d.Store.InboxHeartbeat(ctx, h, now, ttl)
}
func (d deadStore) RenewInboxParts(ctx context.Context, h string, now time.Time, ttl time.Duration) ([]storage.InboxLease, error) {
	if d.p.dead.Load() {
		return nil, errDead
	}
	return d.Store.RenewInboxParts(ctx, h, now, ttl)
}
func (d deadStore) AcquireInboxPart(ctx context.Context, part int, h string, now time.Time, ttl time.Duration) (int64, bool, error) {
	if d.p.dead.Load() {
		return 0, false, errDead
	}
	return d.Store.AcquireInboxPart(ctx, part, h, now, ttl)
}
func (d deadStore) LeaveInbox(ctx context.Context, h string) error {
	if d.p.dead.Load() {
		return errDead
	}
	return d.Store.LeaveInbox(ctx, h)
}

func update(chat, n int) bot.Inbound {
	return bot.Inbound{
		Key:    domain.UpdateKey{Channel: domain.Telegram, UpdateID: fmt.Sprintf("%d-%d", chat, n)},
		UserID: fmt.Sprint(chat), ChatID: fmt.Sprint(chat),
		Input: flows.Input{Kind: flows.InText, Text: fmt.Sprint(n)},
	}
}

func quietLog(t *testing.T) (*slog.Logger, *bottest.SyncBuffer) {
	buf := &bottest.SyncBuffer{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelWarn})), buf
}

// Three processes on one PostgreSQL (or one Redis) take updates of many chats, each
// chat's updates arriving in turn at any of them (round-robin webhooks);
// one process dies half-way with updates acknowledged but not handled.
// Every chat's updates are handled once, in order, never two at a time.
func TestThreeProcessesKeepPerChatOrder(t *testing.T) {
	for _, tc := range sharedStores {
		t.Run(tc.name, func(t *testing.T) { threeProcessesKeepPerChatOrder(t, tc.open(t)) })
	}
}

func threeProcessesKeepPerChatOrder(t *testing.T, open func() inbox.Store) {
	const procs, chats, perChat = 3, 60, 30
	l := newLedger()
	log, _ := quietLog(t)
	type proc struct {
		p      *process
		intake *inbox.Intake
		stop   context.CancelFunc
		done   chan struct{}
	}
	var ps []*proc
	for i := range procs {
		st := open()
		p := &process{l: l}
		store := deadStore{Store: st, p: p}
		// The lease outlives a live process's stall on a busy machine (a
		// shorter one let another process take a chat from a process that
		// was only slow: an overlap no fencing guards in this ledger); the
		// dead process's chats move after it.
		w := inbox.NewWorker(inbox.WorkerConfig{Store: store, Handler: p, Log: log.With("proc", i),
			LeaseTTL: 3 * time.Second, Poll: 10 * time.Millisecond})
		ctx, cancel := context.WithCancel(context.Background())
		pr := &proc{p: p, intake: inbox.NewIntake(store, w, log), stop: cancel, done: make(chan struct{})}
		go func() { defer close(pr.done); w.Run(ctx) }()
		ps = append(ps, pr)
	}
	t.Cleanup(func() {
		for _, pr := range ps {
			pr.intake.Close()
			pr.stop()
			<-pr.done
		}
	})

	var sent sync.WaitGroup
	var acked atomic.Int64
	for c := range chats {
		sent.Add(1)
		go func() {
			defer sent.Done()
			for n := range perChat {
				// A delivery to a dead process fails; the platform
				// delivers it again, here to the next process.
				for k := c + n; ; k++ {
					pr := ps[k%procs]
					if pr.p.dead.Load() {
						continue
					}
					if err := pr.intake.Handle(context.Background(), update(c, n)); err == nil {
						acked.Add(1)
						break
					}
				}
			}
		}()
	}
	// Kill process 1 once a third of the updates are acknowledged.
	for acked.Load() < chats*perChat/3 {
		time.Sleep(time.Millisecond)
	}
	ps[1].p.dead.Store(true)
	sent.Wait()

	deadline := time.Now().Add(30 * time.Second)
	for {
		l.mu.Lock()
		n := len(l.seen)
		l.mu.Unlock()
		if n == chats*perChat {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("handled %d of %d acknowledged updates", n, chats*perChat)
		}
		time.Sleep(20 * time.Millisecond)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.overlap) > 0 {
		t.Errorf("chats handled by two processes at once: %v", l.overlap[:min(5, len(l.overlap))])
	}
	for c := range chats {
		got := l.order[fmt.Sprintf("telegram:%d", c)]
		for i, n := range got {
			if n != i {
				t.Fatalf("chat %d handled out of order: %v", c, got)
			}
		}
	}
}

// allStores are the inbox's stores: the embedded default, PostgreSQL and
// Redis.
var allStores = []struct {
	name string
	open func(t *testing.T) inbox.Store
}{
	{"sqlite", openSQLite},
	{"postgres", func(t *testing.T) inbox.Store { return openPostgres(t, testenv.PostgresURL(t)) }},
	{"redis", func(t *testing.T) inbox.Store { return sharedRedis(t)() }},
}

// sharedStores are the stores several processes share: each returns a
// func opening one more process's store on the same inbox.
var sharedStores = []struct {
	name string
	open func(t *testing.T) func() inbox.Store
}{
	{"postgres", func(t *testing.T) func() inbox.Store {
		url := testenv.PostgresURL(t)
		return func() inbox.Store { return openPostgres(t, url) }
	}},
	{"redis", sharedRedis},
}

// sharedRedis returns a func opening one more process's Redis inbox under
// this test's key prefix of the test Redis; the keys go when the test ends.
func sharedRedis(t *testing.T) func() inbox.Store {
	url, prefix := testenv.RedisURL(t), testenv.Prefix(t)
	t.Cleanup(func() {
		opts, err := goredis.ParseURL(url)
		if err != nil {
			return
		}
		c := goredis.NewClient(opts)
		defer c.Close()
		ctx := context.Background()
		iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
	})
	return func() inbox.Store {
		st, err := redis.Open(context.Background(), redis.Options{URL: url, Prefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st.Inbox()
	}
}

// openPostgres opens a store on url (one database may have several, as
// several processes), closed when the test ends.
func openPostgres(t *testing.T, url string) *postgres.Store {
	t.Helper()
	st, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func openSQLite(t *testing.T) inbox.Store {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// One process (the embedded default): retries what was not saved, gives a
// poisoned update up after its attempts, tells a waiting caller (the web
// chat) the outcome of the first try, and leaves the inbox empty.
func TestWorkerRetriesAndWaits(t *testing.T) {
	for _, tc := range allStores {
		t.Run(tc.name, func(t *testing.T) {
			st := tc.open(t)
			rec := bottest.NewRecorder()
			rec.Fail = func(in bot.Inbound, n int) error {
				switch in.Input.Text {
				case "1": // the database was down twice
					if n <= 2 {
						return fmt.Errorf("%w: down", bot.ErrNotSaved)
					}
				case "2": // a bug: never works
					return errors.New("cannot render")
				case "3":
					return fmt.Errorf("send: %w", bot.ErrUnreachable)
				}
				return nil
			}
			log, _ := quietLog(t)
			w := inbox.NewWorker(inbox.WorkerConfig{Store: st, Handler: rec, Log: log, MaxAttempts: 3, Poll: 10 * time.Millisecond})
			in := inbox.NewIntake(st, w, log)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { defer close(done); w.Run(ctx) }()
			defer func() { in.Close(); cancel(); <-done }()

			for n := range 5 {
				if err := in.Handle(ctx, update(1, n)); err != nil {
					t.Fatal(err)
				}
			}
			// A repeat while the first copy may still wait: dropped.
			if err := in.Handle(ctx, update(1, 4)); err != nil {
				t.Fatal(err)
			}
			err := in.HandleAndWait(ctx, update(2, 1))
			if !errors.Is(err, bot.ErrNotSaved) {
				t.Fatalf("waiting for a first try that was not saved = %v", err)
			}
			if err := in.HandleAndWait(ctx, update(2, 0)); err != nil {
				t.Fatalf("waiting for a handled update = %v", err)
			}
			deadline := time.Now().Add(20 * time.Second)
			for {
				depth, _, err := st.(interface {
					InboxDepth(context.Context) (int, time.Time, error)
				}).InboxDepth(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if depth == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%d updates left in the inbox", depth)
				}
				time.Sleep(20 * time.Millisecond)
			}
			var order []string
			for _, g := range rec.All() {
				if g.ChatID == "1" {
					order = append(order, g.Input.Text)
				}
			}
			// Chat 1 in order: 1 tried three times before 2, 2 three times
			// (its attempts) before 3, 4 once.
			want := "[0 1 1 1 2 2 2 3 4]"
			if fmt.Sprint(order) != want {
				t.Fatalf("chat 1 handled %v, want %s", order, want)
			}
		})
	}
}

// A worker hears of another process's append as it is stored (PostgreSQL's
// LISTEN/NOTIFY at its commit, Redis's PUBLISH): with polling all but off, the update is still handled
// at once.
func TestWorkerHearsOtherProcessesAppend(t *testing.T) {
	for _, tc := range sharedStores {
		t.Run(tc.name, func(t *testing.T) { workerHearsOtherProcessesAppend(t, tc.open(t)) })
	}
}

func workerHearsOtherProcessesAppend(t *testing.T, open func() inbox.Store) {
	log, _ := quietLog(t)
	l := newLedger()
	w := inbox.NewWorker(inbox.WorkerConfig{Store: open(), Handler: &process{l: l}, Log: log, Poll: time.Hour, IdlePoll: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	other := inbox.NewIntake(open(), nil, log) // another process: no worker of its own here
	t.Cleanup(other.Close)

	handled := func(n int) bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return len(l.seen) == n
	}
	for i := range 3 {
		time.Sleep(300 * time.Millisecond) // the worker is idle, waiting
		start := time.Now()
		if err := other.Handle(context.Background(), update(7, i)); err != nil {
			t.Fatal(err)
		}
		for !handled(i + 1) {
			if time.Since(start) > 5*time.Second {
				t.Fatalf("update %d appended by another process not handled after %v (the worker polls hourly)", i, time.Since(start))
			}
			time.Sleep(5 * time.Millisecond)
		}
		t.Logf("update %d handled %v after its append returned", i, time.Since(start))
	}
}

// An update this process appends goes straight to its own worker (the
// in-process handoff): with reads all but off, every one is handled,
// none read from the store.
func TestHandoffTakesOwnAppends(t *testing.T) {
	for _, tc := range allStores {
		t.Run(tc.name, func(t *testing.T) {
			st := tc.open(t)
			log, _ := quietLog(t)
			l := newLedger()
			w := inbox.NewWorker(inbox.WorkerConfig{Store: st, Handler: &process{l: l}, Log: log, Poll: time.Hour, IdlePoll: time.Hour})
			in := inbox.NewIntake(st, w, log)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { defer close(done); w.Run(ctx) }()
			defer func() { in.Close(); cancel(); <-done }()
			handled := func(n int) {
				t.Helper()
				deadline := time.Now().Add(10 * time.Second)
				for {
					l.mu.Lock()
					got := len(l.seen)
					l.mu.Unlock()
					if got == n {
						return
					}
					if time.Now().After(deadline) {
						h, r := w.Stats()
						t.Fatalf("handled %d of %d (handed %d, read %d)", got, n, h, r)
					}
					time.Sleep(2 * time.Millisecond)
				}
			}
			// The first may come before the worker holds its partitions,
			// and the worker takes them one by one: an update appended to
			// one not yet taken is left for a read, and so is every later
			// update of its chat.
			if err := in.Handle(ctx, update(1, 0)); err != nil {
				t.Fatal(err)
			}
			handled(1)
			holdsAll(t, w)
			h0, r0 := w.Stats()
			const chats, perChat = 10, 20
			var wg sync.WaitGroup
			for c := range chats {
				wg.Go(func() {
					for n := range perChat {
						if err := in.Handle(ctx, update(100+c, n)); err != nil {
							t.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			handled(1 + chats*perChat)
			// A read started by something else (the notifications'
			// connection coming up, a partition taken) may pick an update
			// up between its append and the handoff: harmless, it is taken
			// once. None may be left waiting for a read.
			h1, r1 := w.Stats()
			if refused := w.Refused(); refused != 0 || h1-h0+r1-r0 != chats*perChat || h1-h0 < chats*perChat/2 {
				t.Fatalf("handed %d, read %d and left %d for a read of %d updates appended here; want all handed or already read, none left", h1-h0, r1-r0, refused, chats*perChat)
			}
			l.mu.Lock()
			defer l.mu.Unlock()
			for c := range chats {
				if got := l.order[fmt.Sprintf("telegram:%d", 100+c)]; len(got) != perChat || !sort.IntsAreSorted(got) {
					t.Fatalf("chat %d handled %v", 100+c, got)
				}
			}
		})
	}
}

// Updates of one chat arrive at two processes in turn; only one of them
// consumes the inbox. Those it appended itself are handed to its worker,
// those of the other process are read from the store (heard of by their
// notification), and the worker hands them to the chat in order either
// way: an update is handed over only when the worker holds everything of
// its chat before it.
func TestHandoffAndStoreReadsKeepChatOrder(t *testing.T) {
	for _, tc := range sharedStores {
		t.Run(tc.name, func(t *testing.T) { handoffAndStoreReadsKeepChatOrder(t, tc.open(t)) })
	}
}

func handoffAndStoreReadsKeepChatOrder(t *testing.T, open func() inbox.Store) {
	log, _ := quietLog(t)
	l := newLedger()
	st := open()
	// Reads only when woken: by the other process's appends, or by an
	// append of its own that could not be handed over.
	w := inbox.NewWorker(inbox.WorkerConfig{Store: st, Handler: &process{l: l}, Log: log, Poll: time.Hour, IdlePoll: time.Hour})
	here := inbox.NewIntake(st, w, log)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	other := inbox.NewIntake(open(), nil, log)
	t.Cleanup(func() { here.Close(); other.Close(); cancel(); <-done })

	const chats, perChat = 20, 40
	var wg sync.WaitGroup
	for c := range chats {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(c), 7))
			for n := range perChat {
				in := here
				if r.IntN(2) == 0 {
					in = other
				}
				if err := in.Handle(context.Background(), update(c, n)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	deadline := time.Now().Add(30 * time.Second)
	for {
		l.mu.Lock()
		n := len(l.seen)
		l.mu.Unlock()
		if n == chats*perChat {
			break
		}
		if time.Now().After(deadline) {
			h, r := w.Stats()
			t.Fatalf("handled %d of %d (handed %d, read %d)", n, chats*perChat, h, r)
		}
		time.Sleep(10 * time.Millisecond)
	}
	handed, read := w.Stats()
	t.Logf("handed over %d, read %d", handed, read)
	if handed == 0 || read == 0 {
		t.Fatalf("handed over %d, read %d: want both", handed, read)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.overlap) > 0 {
		t.Errorf("chats handled twice at once: %v", l.overlap)
	}
	for c := range chats {
		got := l.order[fmt.Sprintf("telegram:%d", c)]
		for i, n := range got {
			if n != i {
				t.Fatalf("chat %d handled out of order: %v", c, got)
			}
		}
	}
}

// An update handed over by this process's intake reaches the handler as
// it would have been read back from the inbox: the same value as its
// payload decoded (the decoding is skipped, not the result changed), text
// that is not valid UTF-8 included (the encoding replaced it; such an
// update is decoded from its payload).
func TestHandoffGivesTheUpdateAsStored(t *testing.T) {
	for _, tc := range allStores {
		t.Run(tc.name, func(t *testing.T) {
			st := tc.open(t)
			log, _ := quietLog(t)
			rec := bottest.NewRecorder()
			w := inbox.NewWorker(inbox.WorkerConfig{Store: st, Handler: rec, Log: log, Poll: time.Hour, IdlePoll: time.Hour})
			in := inbox.NewIntake(st, w, log)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { defer close(done); w.Run(ctx) }()
			defer func() { in.Close(); cancel(); <-done }()
			// The first may come before the worker holds its partitions.
			if err := in.Handle(ctx, update(1, 0)); err != nil {
				t.Fatal(err)
			}
			rec.Wait(t, 1)
			holdsAll(t, w)
			rich := update(2, 1)
			rich.Source = "203.0.113.7"
			rich.Input = flows.Input{Kind: flows.InFile, Text: "Báo cáo <quý> & \u2028 \ufffd", Phone: "+84901234567", ContactIsSelf: true,
				Files:   []flows.FileRef{{ID: "f1", Name: "minh chứng.pdf", MIME: "application/pdf", Size: 12345, Download: "tg:f1"}},
				Reading: &flows.Reading{SHA256: "ab", Pages: []string{"trang 1"}}}
			broken := update(3, 1)
			broken.Input.Text = "sai \xff\xfe mã"
			want := []bot.Inbound{rich, broken}
			h0, r0 := w.Stats()
			for _, u := range want {
				if err := in.Handle(ctx, u); err != nil {
					t.Fatal(err)
				}
			}
			// Two chats: handled in parallel, in either order.
			got := rec.Wait(t, 3)[1:]
			if len(got) == 2 && got[0].Key != rich.Key {
				got[0], got[1] = got[1], got[0]
			}
			h1, r1 := w.Stats()
			if h1-h0+r1-r0 != 2 || h1-h0 == 0 {
				t.Fatalf("handed %d, read %d of 2 updates appended here; want them handed", h1-h0, r1-r0)
			}
			for i, u := range want {
				b, err := json.Marshal(u)
				if err != nil {
					t.Fatal(err)
				}
				var stored bot.Inbound
				if err := json.Unmarshal(b, &stored); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got[i], stored) {
					t.Errorf("update %d handled as\n%+v\nwant as stored\n%+v", i, got[i], stored)
				}
			}
			if got[1].Input.Text != "sai \ufffd\ufffd mã" {
				t.Errorf("invalid UTF-8 reached the handler as %q", got[1].Input.Text)
			}
		})
	}
}

// gate holds every update until opened, counting how many are held at once.
type gate struct {
	open    chan struct{}
	l       *ledger
	mu      sync.Mutex
	now     int
	most    int
	started atomic.Int64
}

func (g *gate) Handle(ctx context.Context, in bot.Inbound) error {
	g.mu.Lock()
	g.now++
	g.most = max(g.most, g.now)
	g.mu.Unlock()
	g.started.Add(1)
	<-g.open
	g.mu.Lock()
	g.now--
	g.mu.Unlock()
	return (&process{l: g.l}).Handle(ctx, in)
}

// Many chats waiting for their turn hold no goroutine each: the worker
// runs at most Concurrency of them at once, the rest wait in a list, and
// each chat's updates still run one at a time, in order.
func TestWaitingChatsHoldNoGoroutines(t *testing.T) {
	st := openSQLite(t)
	log, _ := quietLog(t)
	g := &gate{open: make(chan struct{}), l: newLedger()}
	const conc, chats, perChat = 4, 300, 3
	w := inbox.NewWorker(inbox.WorkerConfig{Store: st, Handler: g, Log: log, Concurrency: conc, Poll: 10 * time.Millisecond})
	in := inbox.NewIntake(st, w, log)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	defer func() { in.Close(); cancel(); <-done }()
	for n := range perChat {
		for c := range chats {
			if err := in.Handle(ctx, update(100+c, n)); err != nil {
				t.Fatal(err)
			}
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for g.started.Load() < conc {
		if time.Now().After(deadline) {
			t.Fatalf("%d updates started, want %d", g.started.Load(), conc)
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // let the rest be read and queued
	// 900 updates of 300 chats in memory: with a goroutine per waiting
	// chat there were 300 more.
	if n := runtime.NumGoroutine(); n > 60 {
		t.Errorf("%d goroutines with %d chats waiting behind %d running", n, chats, conc)
	}
	close(g.open)
	for {
		g.l.mu.Lock()
		got := len(g.l.seen)
		g.l.mu.Unlock()
		if got == chats*perChat {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("handled %d of %d", got, chats*perChat)
		}
		time.Sleep(5 * time.Millisecond)
	}
	g.mu.Lock()
	most := g.most
	g.mu.Unlock()
	if most > conc {
		t.Errorf("%d updates handled at once, want at most %d", most, conc)
	}
	g.l.mu.Lock()
	defer g.l.mu.Unlock()
	if len(g.l.overlap) > 0 {
		t.Errorf("chats handled twice at once: %v", g.l.overlap[:min(5, len(g.l.overlap))])
	}
	for c := range chats {
		if got := g.l.order[fmt.Sprintf("telegram:%d", 100+c)]; len(got) != perChat || !sort.IntsAreSorted(got) {
			t.Fatalf("chat %d handled %v", 100+c, got)
		}
	}
}

// An append wakes other processes only for updates that are theirs: one
// of two processes appends updates of many chats one by one; those of
// partitions it leases itself commit without a notification, the others
// notify, and the other process, polling hourly, handles them at once.
func TestAppendNotifiesOnlyForOtherProcesses(t *testing.T) {
	url := testenv.PostgresURL(t)
	log, _ := quietLog(t)
	ctx, cancel := context.WithCancel(context.Background())
	l := newLedger()
	var workers []*inbox.Worker
	var done []chan struct{}
	for range 2 {
		w := inbox.NewWorker(inbox.WorkerConfig{Store: openPostgres(t, url), Handler: &process{l: l}, Log: log,
			LeaseTTL: time.Second, Poll: time.Hour, IdlePoll: time.Hour})
		workers = append(workers, w)
		d := make(chan struct{})
		done = append(done, d)
		go func() { defer close(d); w.Run(ctx) }()
	}
	t.Cleanup(func() {
		cancel()
		for _, d := range done {
			<-d
		}
	})
	a := workers[0]
	st := openPostgres(t, url)
	holders := func() map[int]string {
		ls, err := st.InboxLeases(ctx)
		if err != nil {
			t.Fatal(err)
		}
		out := map[int]string{}
		for _, l := range ls {
			if l.Expires.After(time.Now()) {
				out[l.Part] = l.Holder
			}
		}
		return out
	}
	// Wait until each holds its half.
	var by map[int]string
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		by = holders()
		n := 0
		for _, h := range by {
			if h == a.Holder() {
				n++
			}
		}
		if len(by) == inbox.Parts && n == inbox.Parts/2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("partitions not shared after 20 s: %d leased, %d of them to the first process", len(by), n)
		}
	}
	lc, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer lc.Close(context.Background())
	if _, err := lc.Exec(ctx, "LISTEN dieuphoi_inbox"); err != nil {
		t.Fatal(err)
	}
	in := inbox.NewIntake(st, a, log)
	defer in.Close()
	const n = 40
	others := 0
	for c := range n {
		u := update(1000+c, 0)
		if by[inbox.Partition(u.ChatKey())] != a.Holder() {
			others++
		}
		if err := in.Handle(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	// A last append by a process with no worker notifies ("" names no
	// one); notifications arrive in commit order, so every one of the
	// first process's came before it.
	marker := inbox.NewIntake(openPostgres(t, url), nil, log)
	defer marker.Close()
	if err := marker.Handle(ctx, update(1000+n, 0)); err != nil {
		t.Fatal(err)
	}
	heard := 0
	for {
		wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
		msg, err := lc.WaitForNotification(wctx)
		wcancel()
		if err != nil {
			t.Fatalf("waiting for the notifications: %v (heard %d)", err, heard)
		}
		if msg.Payload == "" {
			break
		}
		if msg.Payload == a.Holder() {
			heard++
		}
	}
	if others == 0 || others == n {
		t.Fatalf("%d of %d chats in the other process's partitions: the test needs both kinds", others, n)
	}
	if heard != others {
		t.Errorf("the first process's appends notified %d times; want %d, once for each update of the other process's partitions", heard, others)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		l.mu.Lock()
		got := len(l.seen)
		l.mu.Unlock()
		if got == n+1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("handled %d of %d updates after 10 s (the workers poll hourly: the other process's were not heard of)", got, n+1)
		}
	}
}

// Updates arriving one at a time reuse a waiting runner instead of each
// starting a goroutine (and growing its stack) of its own; the runners left
// waiting end with Run.
func TestLoneUpdatesReuseARunner(t *testing.T) {
	st := openSQLite(t)
	log, _ := quietLog(t)
	h := &goroutines{process: process{l: newLedger()}, ids: map[string]bool{}}
	w := inbox.NewWorker(inbox.WorkerConfig{Store: st, Handler: h, Log: log, Poll: time.Hour})
	in := inbox.NewIntake(st, w, log)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	const n = 50
	for i := range n {
		if err := in.HandleAndWait(ctx, update(7, i)); err != nil {
			t.Fatal(err)
		}
	}
	h.mu.Lock()
	if len(h.ids) > 2 {
		t.Errorf("%d updates one after another ran on %d goroutines", n, len(h.ids))
	}
	h.mu.Unlock()
	in.Close()
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return: a waiting runner was not ended")
	}
	h.l.mu.Lock()
	defer h.l.mu.Unlock()
	if got := h.l.order["telegram:7"]; len(got) != n || !sort.IntsAreSorted(got) {
		t.Errorf("handled %v", got)
	}
}

// goroutines is a process that notes which goroutines handled updates.
type goroutines struct {
	process
	mu  sync.Mutex
	ids map[string]bool
}

func (g *goroutines) Handle(ctx context.Context, in bot.Inbound) error {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	id, _, _ := strings.Cut(string(buf), " [") // "goroutine 42"
	g.mu.Lock()
	g.ids[id] = true
	g.mu.Unlock()
	return g.process.Handle(ctx, in)
}

// holdsAll waits until w, the only consumer, leases every partition.
func holdsAll(t *testing.T, w *inbox.Worker) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for w.Held() < inbox.Parts {
		if time.Now().After(deadline) {
			t.Fatalf("the worker holds %d of %d partitions", w.Held(), inbox.Parts)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
