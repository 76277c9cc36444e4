package redis

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/dieuphoi/dieuphoi/internal/testenv"
	"github.com/dieuphoi/dieuphoi/storage"
	"github.com/dieuphoi/dieuphoi/storage/storagetest"
)

// env is one test's view of the shared test Redis: a unique prefix, a raw
// client to look behind the store, and cleanup of every key under the prefix.
type env struct {
	url    string
	prefix string
	raw    *goredis.Client
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{url: testenv.RedisURL(t), prefix: testenv.Prefix(t)}
	opts, err := goredis.ParseURL(e.url)
	if err != nil {
		t.Fatalf("parse %s: %v", testenv.EnvRedis, err)
	}
	e.raw = goredis.NewClient(opts)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, k := range e.keys(t, ctx, e.prefix+"*") {
			if err := e.raw.Del(ctx, k).Err(); err != nil {
				t.Errorf("cleanup %s: %v", k, err)
			}
		}
		_ = e.raw.Close()
	})
	return e
}

func (e *env) keys(t *testing.T, ctx context.Context, match string) []string {
	t.Helper()
	var out []string
	iter := e.raw.Scan(ctx, 0, match, 100).Iterator()
	for iter.Next(ctx) {
		out = append(out, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Fatalf("scan %s: %v", match, err)
	}
	return out
}

// open opens a Store under the test's prefix; each call is a separate
// connection pool, as a separate bot process would have.
func (e *env) open(t *testing.T, o Options) *Store {
	t.Helper()
	o.URL = e.url
	if o.Prefix == "" {
		o.Prefix = e.prefix
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := Open(ctx, o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestGetPutRoundTrip(t *testing.T) {
	e := newEnv(t)
	s := e.open(t, Options{})
	ctx := ctxT(t, 10*time.Second)

	chat := "telegram:12345"
	want := []byte(`{"state":"ask_name","lang":"vi","note":"Sở Khoa học và Công nghệ"}`)
	if err := s.Put(ctx, chat, want); err != nil {
		t.Fatalf("Put: %v", err)
	}
	got, err := s.Get(ctx, chat)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Get = %q, want %q", got, want)
	}

	// Overwrite, including with binary and empty content.
	for _, v := range [][]byte{{0, 1, 2, 0xff}, {}} {
		if err := s.Put(ctx, chat, v); err != nil {
			t.Fatalf("Put %q: %v", v, err)
		}
		got, err := s.Get(ctx, chat)
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		if !bytes.Equal(got, v) {
			t.Fatalf("Get = %q, want %q", got, v)
		}
	}

	// Another process sees the same session.
	other := e.open(t, Options{})
	if got, err := other.Get(ctx, chat); err != nil || len(got) != 0 {
		t.Fatalf("other Get = %q, %v; want empty, nil", got, err)
	}
}

func TestGetMissing(t *testing.T) {
	e := newEnv(t)
	s := e.open(t, Options{})
	_, err := s.Get(ctxT(t, 10*time.Second), "zalo:nobody")
	if !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Get missing: err = %v, want ErrNotFound", err)
	}
}

func TestPutSetsTTL(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t, 10*time.Second)
	for _, tc := range []struct {
		name string
		ttl  time.Duration
		want time.Duration
	}{
		{"default", 0, 30 * 24 * time.Hour},
		{"custom", 90 * time.Minute, 90 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := e.open(t, Options{SessionTTL: tc.ttl})
			chat := "web:" + tc.name
			if err := s.Put(ctx, chat, []byte("x")); err != nil {
				t.Fatalf("Put: %v", err)
			}
			ttl, err := e.raw.TTL(ctx, e.prefix+"session:"+chat).Result()
			if err != nil {
				t.Fatalf("TTL: %v", err)
			}
			if ttl > tc.want || ttl < tc.want-10*time.Second {
				t.Fatalf("TTL = %v, want about %v", ttl, tc.want)
			}
		})
	}
}

func TestDone(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t, 10*time.Second)
	for _, tc := range []struct {
		name string
		ttl  time.Duration
		want time.Duration
	}{
		{"default", 0, 48 * time.Hour},
		{"custom", 3 * time.Hour, 3 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := e.open(t, Options{DoneTTL: tc.ttl})
			update := "telegram/" + tc.name + "/987654"
			done, err := s.Done(ctx, update)
			if err != nil || done {
				t.Fatalf("Done before MarkDone = %v, %v; want false, nil", done, err)
			}
			if err := s.MarkDone(ctx, update); err != nil {
				t.Fatalf("MarkDone: %v", err)
			}
			// Seen from another process too.
			for _, st := range []*Store{s, e.open(t, Options{})} {
				done, err := st.Done(ctx, update)
				if err != nil || !done {
					t.Fatalf("Done after MarkDone = %v, %v; want true, nil", done, err)
				}
			}
			// Marking again is harmless.
			if err := s.MarkDone(ctx, update); err != nil {
				t.Fatalf("MarkDone again: %v", err)
			}
			ttl, err := e.raw.TTL(ctx, e.prefix+"done:"+update).Result()
			if err != nil {
				t.Fatalf("TTL: %v", err)
			}
			if ttl > tc.want || ttl < tc.want-10*time.Second {
				t.Fatalf("TTL = %v, want about %v", ttl, tc.want)
			}
			if done, err := s.Done(ctx, update+"-other"); err != nil || done {
				t.Fatalf("Done(other) = %v, %v; want false, nil", done, err)
			}
		})
	}
}

func TestKeysUsePrefix(t *testing.T) {
	e := newEnv(t)
	s := e.open(t, Options{})
	ctx := ctxT(t, 10*time.Second)
	id := testenv.RandomHex(8)
	chat, update := "telegram:"+id, "telegram/"+id
	if err := s.Put(ctx, chat, []byte("s")); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkDone(ctx, update); err != nil {
		t.Fatal(err)
	}
	unlock, err := s.Lock(ctx, chat)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()

	got := e.keys(t, ctx, "*"+id+"*")
	want := map[string]bool{
		e.prefix + "session:" + chat: true,
		e.prefix + "done:" + update:  true,
		e.prefix + "lock:" + chat:    true,
	}
	if len(got) != len(want) {
		t.Fatalf("keys = %q, want %d keys", got, len(want))
	}
	for _, k := range got {
		if !want[k] {
			t.Errorf("unexpected key %q (prefix %q)", k, e.prefix)
		}
	}
	// Every key has a TTL: nothing here lives forever.
	for k := range want {
		if ttl, err := e.raw.TTL(ctx, k).Result(); err != nil || ttl <= 0 {
			t.Errorf("TTL(%s) = %v, %v; want > 0", k, ttl, err)
		}
	}
}

func TestDefaultPrefix(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t, 10*time.Second)
	s, err := Open(ctx, Options{URL: e.url})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	chat := "test-default-prefix:" + testenv.RandomHex(8)
	key := "dieuphoi:session:" + chat
	t.Cleanup(func() { _ = e.raw.Del(context.Background(), key).Err() })
	if err := s.Put(ctx, chat, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if n, err := e.raw.Exists(ctx, key).Result(); err != nil || n != 1 {
		t.Fatalf("EXISTS %s = %d, %v; want 1", key, n, err)
	}
}

func TestLockExcludesOtherProcess(t *testing.T) {
	e := newEnv(t)
	a, b := e.open(t, Options{}), e.open(t, Options{})
	chat := "telegram:42"

	unlockA, err := a.Lock(ctxT(t, 5*time.Second), chat)
	if err != nil {
		t.Fatalf("a.Lock: %v", err)
	}

	// b waits while a holds it.
	acquired := make(chan func(), 1)
	errc := make(chan error, 1)
	go func() {
		unlock, err := b.Lock(ctxT(t, 10*time.Second), chat)
		if err != nil {
			errc <- err
			return
		}
		acquired <- unlock
	}()
	select {
	case u := <-acquired:
		u()
		t.Fatal("b took the lock while a held it")
	case err := <-errc:
		t.Fatalf("b.Lock: %v", err)
	case <-time.After(300 * time.Millisecond):
	}

	// Another chat is independent.
	unlockOther, err := b.Lock(ctxT(t, time.Second), "telegram:43")
	if err != nil {
		t.Fatalf("b.Lock(other chat): %v", err)
	}
	unlockOther()

	start := time.Now()
	unlockA()
	select {
	case u := <-acquired:
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("b took %v to get the lock after unlock", d)
		}
		u()
	case err := <-errc:
		t.Fatalf("b.Lock: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("b did not get the lock after a unlocked")
	}
	if n, err := e.raw.Exists(context.Background(), e.prefix+"lock:"+chat).Result(); err != nil || n != 0 {
		t.Fatalf("lock key after both unlocked: exists=%d, %v", n, err)
	}
}

// TestLockMutualExclusion runs many holders in two processes against one
// chat and checks that never two hold it at once.
func TestLockMutualExclusion(t *testing.T) {
	e := newEnv(t)
	stores := []*Store{e.open(t, Options{}), e.open(t, Options{})}
	const perStore, rounds = 4, 5
	var holders, maxHolders, total atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, len(stores)*perStore)
	for _, s := range stores {
		for range perStore {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range rounds {
					unlock, err := s.Lock(ctxT(t, 30*time.Second), "web:shared")
					if err != nil {
						errs <- err
						return
					}
					n := holders.Add(1)
					for {
						m := maxHolders.Load()
						if n <= m || maxHolders.CompareAndSwap(m, n) {
							break
						}
					}
					time.Sleep(2 * time.Millisecond)
					total.Add(1)
					holders.Add(-1)
					unlock()
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Lock: %v", err)
	}
	if m := maxHolders.Load(); m != 1 {
		t.Fatalf("max concurrent holders = %d, want 1", m)
	}
	if n := total.Load(); n != int64(len(stores)*perStore*rounds) {
		t.Fatalf("total = %d", n)
	}
}

func TestLockTimesOutWithCtx(t *testing.T) {
	e := newEnv(t)
	a, b := e.open(t, Options{}), e.open(t, Options{})
	chat := "zalo:7"
	unlock, err := a.Lock(ctxT(t, 10*time.Second), chat)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()

	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 250*time.Millisecond)
	defer cancel()
	u, err := b.Lock(ctx, chat)
	elapsed := time.Since(start)
	if err == nil {
		u()
		t.Fatal("b.Lock succeeded while a held the lock")
	}
	if !errors.Is(err, storage.ErrLockTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want ErrLockTimeout and DeadlineExceeded", err)
	}
	if elapsed < 200*time.Millisecond || elapsed > 3*time.Second {
		t.Fatalf("Lock returned after %v, want about 250ms", elapsed)
	}

	// A ctx already cancelled fails at once, also as a lock timeout.
	cctx, ccancel := context.WithCancel(context.Background())
	ccancel()
	if u, err := b.Lock(cctx, chat); err == nil {
		u()
		t.Fatal("Lock with cancelled ctx succeeded")
	} else if !errors.Is(err, storage.ErrLockTimeout) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want ErrLockTimeout and Canceled", err)
	}
}

// TestExpiredLockOwnerCannotUnlockNewOwner lets a's lock really expire in
// Redis, lets b take it, and checks a's late unlock leaves b's lock alone.
func TestExpiredLockOwnerCannotUnlockNewOwner(t *testing.T) {
	e := newEnv(t)
	const ttl = 300 * time.Millisecond
	a, b, c := e.open(t, Options{LockTTL: ttl}), e.open(t, Options{LockTTL: ttl}), e.open(t, Options{})
	chat := "telegram:expired"
	key := e.prefix + "lock:" + chat

	// a's ctx ends while it still "holds" the lock, as a stuck handler's
	// would: the refresh stops and the lock lapses after ttl.
	actx, acancel := context.WithCancel(context.Background())
	start := time.Now()
	unlockA, err := a.Lock(actx, chat)
	if err != nil {
		t.Fatal(err)
	}
	tokenA, err := e.raw.Get(context.Background(), key).Result()
	if err != nil {
		t.Fatal(err)
	}
	acancel()

	unlockB, err := b.Lock(ctxT(t, 10*time.Second), chat)
	if err != nil {
		t.Fatalf("b.Lock after a's lock expired: %v", err)
	}
	defer unlockB()
	if d := time.Since(start); d < ttl-50*time.Millisecond {
		t.Fatalf("b got the lock after %v, before a's lock (ttl %v) could expire", d, ttl)
	}
	tokenB, err := e.raw.Get(context.Background(), key).Result()
	if err != nil {
		t.Fatal(err)
	}
	if tokenA == tokenB {
		t.Fatal("a and b used the same lock token")
	}

	unlockA() // late: must not delete b's lock

	if got, err := e.raw.Get(context.Background(), key).Result(); err != nil || got != tokenB {
		t.Fatalf("lock after a's late unlock = %q, %v; want b's token", got, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if u, err := c.Lock(ctx, chat); err == nil {
		u()
		t.Fatal("c took the lock b holds")
	} else if !errors.Is(err, storage.ErrLockTimeout) {
		t.Fatalf("c.Lock: %v", err)
	}

	unlockB()
	unlockB() // twice is harmless
	if n, err := e.raw.Exists(context.Background(), key).Result(); err != nil || n != 0 {
		t.Fatalf("lock key after b unlocked: exists=%d, %v", n, err)
	}
}

// TestLockRefreshedWhileHeld holds a lock for several LockTTLs: the holder
// keeps it while its ctx is live.
func TestLockRefreshedWhileHeld(t *testing.T) {
	e := newEnv(t)
	const ttl = time.Second
	a, b := e.open(t, Options{LockTTL: ttl}), e.open(t, Options{LockTTL: ttl})
	chat := "web:long"
	key := e.prefix + "lock:" + chat

	unlock, err := a.Lock(ctxT(t, 30*time.Second), chat)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*ttl)
	defer cancel()
	if u, err := b.Lock(ctx, chat); err == nil {
		u()
		t.Fatal("b took a lock a was still holding")
	} else if !errors.Is(err, storage.ErrLockTimeout) {
		t.Fatalf("b.Lock: %v", err)
	}
	pttl, err := e.raw.PTTL(context.Background(), key).Result()
	if err != nil || pttl <= 0 || pttl > ttl {
		t.Fatalf("PTTL = %v, %v; want in (0, %v]", pttl, err, ttl)
	}
	unlock()
	if n, err := e.raw.Exists(context.Background(), key).Result(); err != nil || n != 0 {
		t.Fatalf("lock key after unlock: exists=%d, %v", n, err)
	}
}

func TestPingClose(t *testing.T) {
	e := newEnv(t)
	s := e.open(t, Options{})
	ctx := ctxT(t, 10*time.Second)
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Ping(ctx); err == nil {
		t.Fatal("Ping after Close succeeded")
	}
}

func TestOpenErrorsHidePassword(t *testing.T) {
	e := newEnv(t)
	const secret = "S3cr3t-pw-do-not-leak"
	real, err := url.Parse(e.url)
	if err != nil {
		t.Fatal(err)
	}
	withPW := *real
	// An ACL user that does not exist: AUTH fails whatever the server's
	// configuration (the default user of a password-less server accepts
	// any password).
	withPW.User = url.UserPassword("dieuphoi-no-such-user", secret)

	for _, tc := range []struct{ name, url string }{
		// Nothing listens on port 1.
		{"unreachable", "redis://:" + secret + "@127.0.0.1:1/0?dial_timeout=2s"},
		{"auth", withPW.String()},
		{"bad port", "redis://:" + secret + "@127.0.0.1:notaport/0"},
		{"bad db", "redis://:" + secret + "@127.0.0.1:6379/x"},
		{"bad scheme", "http://:" + secret + "@127.0.0.1:6379/0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := ctxT(t, 10*time.Second)
			s, err := Open(ctx, Options{URL: tc.url})
			if err == nil {
				s.Close()
				t.Fatalf("Open(%s) succeeded", tc.name)
			}
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("error leaks the password: %v", err)
			}
			t.Logf("error: %v", err)
		})
	}
	if _, err := Open(context.Background(), Options{}); err == nil {
		t.Fatal("Open without URL succeeded")
	}
}

// FuzzParseURLHidesPassword checks that no URL parse error shows the
// password, in plain or escaped form.
func FuzzParseURLHidesPassword(f *testing.F) {
	f.Add("S3cr3t-password", "127.0.0.1:6379", "0")
	f.Add("pa:ss@w/rd%zz", "host:notaport", "x")
	f.Add("long password with spaces", "[::1]:6379", "1/2")
	f.Add("\u00e2n-h\u00e0ng-1234", "", "")
	f.Fuzz(func(t *testing.T, pw, host, db string) {
		u := &url.URL{Scheme: "redis", User: url.UserPassword("u", pw), Host: host, Path: "/" + db}
		raw := u.String()
		_, err := parseURL(raw)
		if err == nil || len(pw) < 8 {
			return // short passwords match ordinary words by chance
		}
		shown := *u
		shown.User = url.UserPassword("u", "xxxxx")
		for _, form := range []string{pw, url.PathEscape(pw), url.QueryEscape(pw), url.UserPassword("", pw).String()[1:]} {
			// The non-secret parts carry it, as the error shows them
			// (seen: password "0000000/", host "0000000", database "A").
			if strings.Contains(host+db, form) || strings.Contains(shown.String(), form) {
				return
			}
			if strings.Contains(err.Error(), form) {
				t.Fatalf("parseURL(%q) error shows the password (%q): %v", raw, form, err)
			}
		}
	})
}

func TestSessionConformance(t *testing.T) {
	storagetest.RunSessions(t, func(t *testing.T) (storage.SessionStore, storage.SessionStore) {
		e := newEnv(t)
		return e.open(t, Options{}), e.open(t, Options{})
	})
}

// TestTurnKeysAndTTLs checks what one turn leaves in Redis.
func TestTurnKeysAndTTLs(t *testing.T) {
	e := newEnv(t)
	s := e.open(t, Options{SessionTTL: 90 * time.Minute, DoneTTL: 3 * time.Hour, LockTTL: 10 * time.Second})
	ctx := ctxT(t, 10*time.Second)
	chat, update := "telegram:ttl", "telegram/ttl1"
	turn, err := s.Begin(ctx, chat, update)
	if err != nil || turn.Lease == nil {
		t.Fatalf("Begin = %+v, %v", turn, err)
	}
	if pttl, err := e.raw.PTTL(ctx, e.prefix+"lock:"+chat).Result(); err != nil || pttl <= 0 || pttl > 10*time.Second {
		t.Fatalf("lock PTTL = %v, %v", pttl, err)
	}
	if err := turn.Lease.Save(ctx, []byte{0, 1, 0xff}); err != nil {
		t.Fatal(err)
	}
	if err := turn.Lease.Finish(ctx); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]time.Duration{
		e.prefix + "session:" + chat: 90 * time.Minute,
		e.prefix + "done:" + update:  3 * time.Hour,
	} {
		ttl, err := e.raw.TTL(ctx, k).Result()
		if err != nil || ttl > want || ttl < want-10*time.Second {
			t.Errorf("TTL(%s) = %v, %v; want about %v", k, ttl, err, want)
		}
	}
	if n, err := e.raw.Exists(ctx, e.prefix+"lock:"+chat).Result(); err != nil || n != 0 {
		t.Fatalf("lock after Finish: exists=%d, %v", n, err)
	}
	if got, err := s.Get(ctx, chat); err != nil || !bytes.Equal(got, []byte{0, 1, 0xff}) {
		t.Fatalf("session = %q, %v", got, err)
	}
}

// TestExpiredLeaseCannotTouchNewOwner lets a's lease lapse, lets b take the
// chat, and checks that a can neither save over b's session nor release
// b's lock.
func TestExpiredLeaseCannotTouchNewOwner(t *testing.T) {
	e := newEnv(t)
	const ttl = 300 * time.Millisecond
	a, b := e.open(t, Options{LockTTL: ttl}), e.open(t, Options{LockTTL: ttl})
	chat := "telegram:lapsed"
	key := e.prefix + "lock:" + chat

	actx, acancel := context.WithCancel(context.Background())
	ta, err := a.Begin(actx, chat, "telegram/a")
	if err != nil {
		t.Fatal(err)
	}
	acancel() // a's refreshes stop: its lock lapses after ttl

	tb, err := b.Begin(ctxT(t, 10*time.Second), chat, "telegram/b")
	if err != nil {
		t.Fatalf("b.Begin after a's lease lapsed: %v", err)
	}
	tokenB, err := e.raw.Get(context.Background(), key).Result()
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t, 10*time.Second)
	if err := ta.Lease.Save(ctx, []byte("a's")); err == nil {
		t.Fatal("a saved a session while b held the chat")
	}
	if err := ta.Lease.Finish(ctx); err != nil {
		t.Fatalf("a.Finish: %v", err)
	}
	ta.Lease.Release()
	if got, err := e.raw.Get(ctx, key).Result(); err != nil || got != tokenB {
		t.Fatalf("lock after a's late finish = %q, %v; want b's token", got, err)
	}
	if err := tb.Lease.Save(ctx, []byte("b's")); err != nil {
		t.Fatalf("b.Save: %v", err)
	}
	tb.Lease.Release()
	if got, err := a.Get(ctx, chat); err != nil || string(got) != "b's" {
		t.Fatalf("session = %q, %v; want b's", got, err)
	}
	// A lock that lapsed with nobody taking it is taken again by Save.
	tc, err := a.Begin(ctx, chat, "telegram/c")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.raw.Del(ctx, key).Err(); err != nil {
		t.Fatal(err)
	}
	if err := tc.Lease.Save(ctx, []byte("c's")); err != nil {
		t.Fatalf("Save after the lock vanished: %v", err)
	}
	if n, err := e.raw.Exists(ctx, key).Result(); err != nil || n != 1 {
		t.Fatalf("lock after Save retook it: exists=%d, %v", n, err)
	}
	if err := tc.Lease.Finish(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := e.raw.Exists(ctx, key).Result(); err != nil || n != 0 {
		t.Fatalf("lock after Finish: exists=%d, %v", n, err)
	}
}

// TestBeginLeaseRefreshedWhileHeld holds a Begin lease for several TTLs.
func TestBeginLeaseRefreshedWhileHeld(t *testing.T) {
	e := newEnv(t)
	const ttl = 600 * time.Millisecond
	a, b := e.open(t, Options{LockTTL: ttl}), e.open(t, Options{LockTTL: ttl})
	turn, err := a.Begin(ctxT(t, 30*time.Second), "web:held", "web/h1")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*ttl)
	defer cancel()
	if _, err := b.Begin(ctx, "web:held", "web/h2"); !errors.Is(err, storage.ErrLockTimeout) {
		t.Fatalf("b.Begin while a holds: %v; want ErrLockTimeout", err)
	}
	turn.Lease.Release()
}

// Counts and Hits (one round trip for several keys) count as Count and Hit
// do, each key in its own window; a key never hit counts 0.
func TestCountsAndHitsAsOne(t *testing.T) {
	e := newEnv(t)
	s := e.open(t, Options{})
	ctx := ctxT(t, 10*time.Second)
	if _, err := s.Hit(ctx, "a", time.Minute); err != nil {
		t.Fatal(err)
	}
	got, err := s.Hits(ctx, []string{"a", "b"}, []time.Duration{time.Minute, 300 * time.Millisecond})
	if err != nil || len(got) != 2 || got[0] != 2 || got[1] != 1 {
		t.Fatalf("hits = %v, %v; want [2 1]", got, err)
	}
	n, err := s.Counts(ctx, "a", "b", "never")
	if err != nil || len(n) != 3 || n[0] != 2 || n[1] != 1 || n[2] != 0 {
		t.Fatalf("counts = %v, %v; want [2 1 0]", n, err)
	}
	for i, k := range []string{"a", "b"} {
		if c, err := s.Count(ctx, k); err != nil || c != n[i] {
			t.Errorf("Count(%q) = %d, %v; Counts said %d", k, c, err, n[i])
		}
	}
	// b's window was its own: it ends while a's goes on.
	time.Sleep(400 * time.Millisecond)
	if n, err := s.Counts(ctx, "a", "b"); err != nil || n[0] != 2 || n[1] != 0 {
		t.Fatalf("counts after b's window = %v, %v; want [2 0]", n, err)
	}
}

// A turn is three round trips, each counted by name (the session store's
// scripts); Traffic is what the benchmark reports per update.
func TestTrafficCountsTurns(t *testing.T) {
	e := newEnv(t)
	s := e.open(t, Options{})
	ctx := ctxT(t, 10*time.Second)
	turn := func(update string) {
		t.Helper()
		turn, err := s.Begin(ctx, "c1", update)
		if err != nil {
			t.Fatal(err)
		}
		if err := turn.Lease.Save(ctx, []byte("s")); err != nil {
			t.Fatal(err)
		}
		if err := turn.Lease.Finish(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// The first turn may load the scripts (a Redis that did not know them
	// answers NOSCRIPT: their source goes again).
	turn("u0")
	trips, cmds := s.Traffic().RoundTrips(), s.Traffic().Commands()
	turn("u1")
	if d := s.Traffic().RoundTrips() - trips; d != 3 {
		t.Errorf("a turn took %d round trips, want 3", d)
	}
	after := s.Traffic().Commands()
	for _, name := range []string{"evalsha:begin", "evalsha:save", "evalsha:finish"} {
		if d := after[name] - cmds[name]; d != 1 {
			t.Errorf("%s ran %d times, want 1 (all: %v)", name, d, after)
		}
	}
}

// A turn's Finish rides the pipeline of another update's call made within
// finishWait: one round trip for both, and when Finish returns the update
// is marked done and its chat unlocked (another process may take it).
func TestFinishRidesAnotherTurnsPipeline(t *testing.T) {
	e := newEnv(t)
	s := e.open(t, Options{})
	other := e.open(t, Options{})
	ctx := ctxT(t, 10*time.Second)
	// A first turn loads the scripts (a Redis that did not know them
	// answers NOSCRIPT: their source goes again).
	w, err := s.Begin(ctx, "c0", "u0")
	if err != nil {
		t.Fatal(err)
	}
	s.finishWait = 0
	if err := w.Lease.Finish(ctx); err != nil {
		t.Fatal(err)
	}
	s.finishWait = time.Hour // it goes only with another call
	a, err := s.Begin(ctx, "c1", "u1")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Lease.Save(ctx, []byte("s1")); err != nil {
		t.Fatal(err)
	}
	trips := s.Traffic().RoundTrips()
	finished := make(chan error, 1)
	go func() { finished <- a.Lease.Finish(ctx) }()
	time.Sleep(50 * time.Millisecond)
	select {
	case err := <-finished:
		t.Fatalf("Finish returned (%v) before any pipeline went", err)
	default:
	}
	if d, err := other.Done(ctx, "u1"); err != nil || d {
		t.Fatalf("done before its pipeline: %v, %v", d, err)
	}
	b, err := s.Begin(ctx, "c2", "u2") // another chat's turn: Finish goes with it
	if err != nil {
		t.Fatal(err)
	}
	if err := <-finished; err != nil {
		t.Fatal(err)
	}
	if d := s.Traffic().RoundTrips() - trips; d != 1 {
		t.Errorf("Finish and another Begin took %d round trips, want 1", d)
	}
	if d, err := other.Done(ctx, "u1"); err != nil || !d {
		t.Errorf("after Finish: done %v, %v", d, err)
	}
	c, err := other.Begin(ctx, "c1", "u3") // the lock is free for another process
	if err != nil || c.Lease == nil || string(c.Session) != "s1" {
		t.Fatalf("other process's Begin after Finish = %+v, %v", c, err)
	}
	c.Lease.Release()
	b.Lease.Release()

	// Alone, Finish goes after finishWait, in a round trip of its own.
	s.finishWait = 20 * time.Millisecond
	d, err := s.Begin(ctx, "c3", "u4")
	if err != nil {
		t.Fatal(err)
	}
	trips = s.Traffic().RoundTrips()
	start := time.Now()
	if err := d.Lease.Finish(ctx); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 15*time.Millisecond {
		t.Errorf("a lone Finish went after %v; want its wait", took)
	}
	if n := s.Traffic().RoundTrips() - trips; n != 1 {
		t.Errorf("a lone Finish took %d round trips, want 1", n)
	}
	if dn, err := other.Done(ctx, "u4"); err != nil || !dn {
		t.Errorf("lone Finish: done %v, %v", dn, err)
	}
}

// Scripts runs any script in pipelines: one Redis does not know yet goes
// by its source (goredis.Script.Run falls back on NOSCRIPT), and scripts
// run at the same moment share round trips, each with its own answer.
func TestScriptsRunInPipelines(t *testing.T) {
	e := newEnv(t)
	s := e.open(t, Options{})
	ctx := ctxT(t, 20*time.Second)
	// A script no other run has loaded: its source is new to Redis.
	script := goredis.NewScript("-- " + testenv.RandomHex(8) + "\nreturn redis.call('INCRBY', KEYS[1], ARGV[1])")
	key := e.prefix + "scripts"
	if n, err := script.Run(ctx, s.Scripts(), []string{key}, 2).Int64(); err != nil || n != 2 {
		t.Fatalf("first run (NOSCRIPT, then by source) = %d, %v; want 2", n, err)
	}
	const calls = 64
	trips := s.Traffic().RoundTrips()
	start := make(chan struct{})
	var wg sync.WaitGroup
	var sum atomic.Int64
	for range calls {
		wg.Go(func() {
			<-start
			n, err := script.Run(ctx, s.Scripts(), []string{key}, 1).Int64()
			if err != nil {
				t.Error(err)
			}
			sum.Add(n)
		})
	}
	close(start)
	wg.Wait()
	// Each got its own count: 3..66 once each.
	if want := int64((3 + 2 + calls) * calls / 2); sum.Load() != want {
		t.Errorf("the answers sum to %d, want %d", sum.Load(), want)
	}
	if d := s.Traffic().RoundTrips() - trips; d >= calls {
		t.Errorf("%d concurrent scripts took %d round trips", calls, d)
	}
	t.Logf("%d concurrent scripts in %d round trips", calls, s.Traffic().RoundTrips()-trips)
}

// A brief turn's session and done mark expire after storage.BriefTTL;
// the next turn without Brief keeps the session the store's usual time.
func TestBriefTurnTTLs(t *testing.T) {
	e := newEnv(t)
	s := e.open(t, Options{})
	ctx := ctxT(t, 10*time.Second)
	turn, err := s.Begin(ctx, "c1", "u1")
	if err != nil || turn.Lease == nil {
		t.Fatalf("Begin = %+v, %v", turn, err)
	}
	turn.Lease.(storage.Brief).Brief()
	if err := turn.Lease.Save(ctx, []byte("s")); err != nil {
		t.Fatal(err)
	}
	if err := turn.Lease.Finish(ctx); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"session:c1", "done:u1"} {
		if ttl, err := e.raw.TTL(ctx, e.prefix+k).Result(); err != nil || ttl <= storage.BriefTTL-time.Minute || ttl > storage.BriefTTL {
			t.Errorf("TTL(%s) of a brief turn = %v, %v; want %v", k, ttl, err, storage.BriefTTL)
		}
	}
	turn, err = s.Begin(ctx, "c1", "u2")
	if err != nil || turn.Lease == nil {
		t.Fatalf("Begin = %+v, %v", turn, err)
	}
	if err := turn.Lease.Save(ctx, []byte("s2")); err != nil {
		t.Fatal(err)
	}
	turn.Lease.Release()
	if ttl, err := e.raw.TTL(ctx, e.prefix+"session:c1").Result(); err != nil || ttl < DefaultSessionTTL-time.Minute {
		t.Errorf("TTL(session) after a turn that was not brief = %v, %v; want %v", ttl, err, DefaultSessionTTL)
	}
}

// BeginReading reads counters (Count's keys) with the turn's begin: their
// counts (0 for one never hit), none for an update already done.
func TestBeginReadingCounters(t *testing.T) {
	e := newEnv(t)
	s := e.open(t, Options{})
	ctx := ctxT(t, 10*time.Second)
	for range 3 {
		if _, err := s.Hit(ctx, "guess:a", time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	turn, n, err := s.BeginReading(ctx, "c1", "u1", "guess:a", "guess:b")
	if err != nil || turn.Lease == nil {
		t.Fatalf("BeginReading = %+v, %v", turn, err)
	}
	if len(n) != 2 || n[0] != 3 || n[1] != 0 {
		t.Errorf("counts %v, want [3 0]", n)
	}
	if err := turn.Lease.Save(ctx, []byte("s")); err != nil {
		t.Fatal(err)
	}
	if err := turn.Lease.Finish(ctx); err != nil {
		t.Fatal(err)
	}
	turn, n, err = s.BeginReading(ctx, "c1", "u1", "guess:a")
	if err != nil || !turn.Done || n != nil {
		t.Errorf("BeginReading of a done update = %+v, %v, %v; want done, no counts", turn, n, err)
	}
	turn, n, err = s.BeginReading(ctx, "c1", "u2")
	if err != nil || turn.Lease == nil || string(turn.Session) != "s" || n != nil {
		t.Fatalf("BeginReading without counters = %+v, %v, %v", turn, n, err)
	}
	turn.Lease.Release()
}

// The turn's scripts go as commands built once per lease (evalCmd): after
// SCRIPT FLUSH (a Redis restarted without its scripts) each answers
// NOSCRIPT and goes again by its source with the same keys and arguments —
// begin with its counters, save, finish, unlock and the throttle's hits —
// and does its work.
func TestTurnScriptsAfterScriptFlush(t *testing.T) {
	url, _ := privateRedis(t, t.TempDir(), 0, "--appendonly", "no")
	ctx := ctxT(t, 10*time.Second)
	s, err := Open(ctx, Options{URL: url, Prefix: "p:"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	flush := func() {
		t.Helper()
		if err := s.rdb.ScriptFlush(ctx).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.rdb.Set(ctx, "p:limit:guess:a", "7", 0).Err(); err != nil {
		t.Fatal(err)
	}
	for i, update := range []string{"u1", "u2"} {
		flush()
		turn, counts, err := s.BeginReading(ctx, "c1", update, "guess:a", "guess:none")
		if err != nil || turn.Done || turn.Lease == nil {
			t.Fatalf("begin %s: %+v, %v", update, turn, err)
		}
		if len(counts) != 2 || counts[0] != 7 || counts[1] != 0 {
			t.Errorf("begin %s: counts %v, want [7 0]", update, counts)
		}
		if i == 1 && string(turn.Session) != "s-u1" {
			t.Errorf("begin %s: session %q, want s-u1", update, turn.Session)
		}
		if lock, _ := s.rdb.Get(ctx, "p:lock:c1").Result(); lock == "" {
			t.Errorf("begin %s: lock not taken", update)
		}
		flush()
		if err := turn.Lease.Save(ctx, []byte("s-"+update)); err != nil {
			t.Fatalf("save %s: %v", update, err)
		}
		flush()
		if i == 0 {
			if err := turn.Lease.Finish(ctx); err != nil {
				t.Fatalf("finish %s: %v", update, err)
			}
			if done, err := s.Done(ctx, update); err != nil || !done {
				t.Errorf("finish %s: done %v, %v", update, done, err)
			}
		} else {
			turn.Lease.Release() // the unlock script
		}
		if n, err := s.rdb.Exists(ctx, "p:lock:c1").Result(); err != nil || n != 0 {
			t.Errorf("after %s: lock still there (%d, %v)", update, n, err)
		}
	}
	if b, err := s.Get(ctx, "c1"); err != nil || string(b) != "s-u2" {
		t.Errorf("session %q, %v; want s-u2", b, err)
	}
	// The throttle's hits (a script of the store's, in the pipelines) too.
	flush()
	if n, err := s.Hits(ctx, []string{"guess:a", "guess:b"}, []time.Duration{time.Minute, time.Minute}); err != nil || len(n) != 2 || n[0] != 8 || n[1] != 1 {
		t.Errorf("hits after a flush: %v, %v; want [8 1]", n, err)
	}
	// A done update is told so after a flush too.
	flush()
	if turn, err := s.Begin(ctx, "c1", "u1"); err != nil || !turn.Done {
		t.Errorf("begin of a done update: %+v, %v", turn, err)
	}
}
