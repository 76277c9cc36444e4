package redis

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/dieuphoi/dieuphoi/bot/inbox"
	"github.com/dieuphoi/dieuphoi/internal/loadtest"
	"github.com/dieuphoi/dieuphoi/internal/testenv"
	"github.com/dieuphoi/dieuphoi/storage"
	"github.com/dieuphoi/dieuphoi/storage/storagetest"
)

func TestInboxConformance(t *testing.T) {
	storagetest.RunInbox(t, func(t *testing.T) inbox.Store {
		return newEnv(t).open(t, Options{}).Inbox()
	})
}

// Handled updates leave nothing behind: once every item is deleted, only
// the counter, the leases and the live consumers remain (memory stays
// bounded however many updates went through), and a key can come again
// (a redelivery after its first copy was handled is the dispatcher's to
// drop, as on PostgreSQL).
func TestInboxDeleteLeavesNothing(t *testing.T) {
	e := newEnv(t)
	b := e.open(t, Options{}).Inbox()
	ctx := ctxT(t, 10*time.Second)
	t0 := time.UnixMilli(1_700_000_000_000)
	var items []storage.InboxItem
	for i := range 50 {
		items = append(items, storage.InboxItem{Key: fmt.Sprint("k", i), Part: i % 7, Chat: fmt.Sprint("telegram:", i%5),
			Owner: []string{"", "web1"}[i%2], Payload: []byte(`{}`), Created: t0})
	}
	if n, err := b.AppendInbox(ctx, "p", items); err != nil || n != 50 {
		t.Fatalf("append = %d, %v", n, err)
	}
	if n, oldest, err := b.InboxDepth(ctx); err != nil || n != 50 || !oldest.Equal(t0) {
		t.Fatalf("depth = %d, %v, %v; want 50, %v", n, oldest, err, t0)
	}
	if _, err := b.InboxHeartbeat(ctx, "p", t0, time.Second); err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, it := range items {
		ids = append(ids, it.ID)
	}
	if err := b.DeleteInbox(ctx, ids); err != nil {
		t.Fatal(err)
	}
	if n, _, err := b.InboxDepth(ctx); err != nil || n != 0 {
		t.Fatalf("depth after deleting all = %d, %v", n, err)
	}
	left := e.keys(t, ctx, e.prefix+"*")
	for _, k := range left {
		if s := strings.TrimPrefix(k, e.prefix+"inbox:"); s != "seq" && s != "workers" {
			t.Errorf("key %s left after every item was deleted", k)
		}
	}
	again := []storage.InboxItem{items[0]}
	if n, err := b.AppendInbox(ctx, "p", again); err != nil || n != 1 || again[0].ID <= ids[len(ids)-1] || again[0].Prev != 0 {
		t.Fatalf("append of a handled key again = %d %+v, %v", n, again[0], err)
	}
}

// A worker hears of every append, with the appending worker named, as
// soon as it is stored.
func TestInboxListenerNamesTheAppender(t *testing.T) {
	e := newEnv(t)
	b := e.open(t, Options{}).Inbox()
	other := e.open(t, Options{}).Inbox()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	listening := make(chan bool, 10)
	woke := make(chan string, 10)
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		b.ListenInbox(ctx, func(on bool) { listening <- on }, func(by string) { woke <- by })
	}()
	select {
	case on := <-listening:
		if !on {
			t.Fatal("listening(false) first")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("not listening after 5 s")
	}
	if by := <-woke; by != "" {
		t.Fatalf("first wake = %q, want \"\" (whatever came before the subscription)", by)
	}
	it := []storage.InboxItem{{Key: "x", Part: 1, Chat: "telegram:1", Payload: []byte(`{}`), Created: time.Now()}}
	if _, err := other.AppendInbox(ctx, "worker-b", it); err != nil {
		t.Fatal(err)
	}
	select {
	case by := <-woke:
		if by != "worker-b" {
			t.Fatalf("woke by %q, want worker-b", by)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no wake after another process's append")
	}
	// A redelivery alone stores nothing: nobody is woken.
	if n, err := other.AppendInbox(ctx, "worker-b", it); err != nil || n != 0 {
		t.Fatalf("redelivery = %d, %v", n, err)
	}
	select {
	case by := <-woke:
		t.Fatalf("woken by %q for a duplicate", by)
	case <-time.After(200 * time.Millisecond):
	}
	// It ends with its ctx (a worker's Run waits for it).
	cancel()
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Fatal("ListenInbox still waiting 5 s after its ctx ended")
	}
}

// privateRedis runs a redis-server of the test's own with args, in dir,
// and returns its URL; skipped when redis-server is not installed (failed
// when the services are required).
func privateRedis(t testing.TB, dir string, port int, args ...string) (url string, stop func()) {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv(testenv.EnvRequire) == "1" {
			t.Fatalf("redis-server is required (%s=1) but not installed", testenv.EnvRequire)
		}
		t.Skip("redis-server not installed: the durability check needs a Redis of the test's own")
	}
	if port == 0 {
		// Below the ephemeral range: a port :0 gave and then freed can be
		// taken as a connection's source port before the server binds it.
		addr, err := loadtest.FreeAddr()
		if err != nil {
			t.Fatal(err)
		}
		_, p, _ := net.SplitHostPort(addr)
		if port, err = strconv.Atoi(p); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(path, append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--dir", dir}, args...)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	stop = func() { _ = cmd.Process.Kill(); <-done }
	t.Cleanup(stop)
	url = fmt.Sprintf("redis://127.0.0.1:%d/0", port)
	opts, _ := goredis.ParseURL(url)
	c := goredis.NewClient(opts)
	defer c.Close()
	for deadline := time.Now().Add(10 * time.Second); c.Ping(context.Background()).Err() != nil; {
		if time.Now().After(deadline) {
			t.Fatal("private redis-server not answering after 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return url, stop
}

// The Redis inbox is accepted only on a Redis that syncs every command to
// its append-only file before answering.
func TestInboxCheckDurable(t *testing.T) {
	ctx := ctxT(t, 20*time.Second)
	for _, tc := range []struct {
		name string
		args []string
		ok   bool
	}{
		{"no append-only file", []string{"--appendonly", "no"}, false},
		{"append-only file synced every second", []string{"--appendonly", "yes", "--appendfsync", "everysec"}, false},
		{"append-only file synced at every write", []string{"--appendonly", "yes", "--appendfsync", "always"}, true},
		{"CONFIG refused", []string{"--appendonly", "yes", "--appendfsync", "always", "--rename-command", "CONFIG", ""}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url, _ := privateRedis(t, t.TempDir(), 0, tc.args...)
			s, err := Open(ctx, Options{URL: url})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			err = s.Inbox().CheckDurable(ctx)
			if (err == nil) != tc.ok {
				t.Fatalf("CheckDurable = %v, want ok %v", err, tc.ok)
			}
			if err != nil && !strings.Contains(err.Error(), "appendfsync always") {
				t.Fatalf("the refusal does not say what to set: %v", err)
			}
			t.Logf("%v", err)
		})
	}
}

// An appended update is still there after Redis is killed (-9) and
// started again from its append-only file.
func TestInboxSurvivesRedisKill(t *testing.T) {
	dir := t.TempDir()
	args := []string{"--appendonly", "yes", "--appendfsync", "always"}
	url, stop := privateRedis(t, dir, 0, args...)
	ctx := ctxT(t, 30*time.Second)
	s, err := Open(ctx, Options{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	items := []storage.InboxItem{{Key: "k1", Part: 2, Chat: "telegram:1", Payload: []byte(`{"a":1}`), Created: time.UnixMilli(1_700_000_000_000)}}
	if _, err := s.Inbox().AppendInbox(ctx, "p", items); err != nil {
		t.Fatal(err)
	}
	s.Close()
	stop() // SIGKILL: no shutdown, no rewrite
	// The same port and directory again.
	port, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(url, "redis://127.0.0.1:"), "/0"))
	url2, _ := privateRedis(t, dir, port, args...)
	s2, err := Open(ctx, Options{URL: url2})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	b := s2.Inbox()
	t0 := time.UnixMilli(1_700_000_000_000)
	if _, ok, err := b.AcquireInboxPart(ctx, 2, "q", t0, time.Minute); !ok || err != nil {
		t.Fatalf("acquire after the restart: %v %v", ok, err)
	}
	got, err := b.ReadInbox(ctx, "q", 0, t0, 10)
	if err != nil || len(got) != 1 || got[0].Key != "k1" || string(got[0].Payload) != `{"a":1}` {
		t.Fatalf("after kill -9 and restart the inbox reads %+v, %v", got, err)
	}
}
