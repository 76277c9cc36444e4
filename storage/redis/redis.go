// Package redis is the production SessionStore: conversation sessions,
// per-chat locks shared by every bot process, and the marks of fully handled
// updates, all in Redis under one key prefix.
//
// Keys (P is Options.Prefix):
//
//	P session:<chat>  the chat's session, expires SessionTTL after the last Put
//	P lock:<chat>     the chat's lock, a random token, expires LockTTL after
//	                  the last refresh
//	P done:<update>   "1" once the update was fully handled, expires DoneTTL
//	P inbox:…         the inbox, when it is kept here (Inbox, inbox.go)
//
// Handling one update costs three round trips (storage.SessionStore): Begin
// (done mark, lock and session in one script), Lease.Save and Lease.Finish
// (done mark and unlock in one script); the turns of updates handled at the
// same moment share their round trips (one pipeline, pipeline.go), and a
// Finish rides the next pipeline that goes for other calls (at most
// finishWait later), so under load it costs no round trip of its own. Get, Put, Lock, Done and MarkDone
// are the single operations, for tools and tests.
package redis

import (
	"context"
	cryptorand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/dieuphoi/dieuphoi/internal/coalesce"

	"github.com/dieuphoi/dieuphoi/storage"
)

// Defaults for the zero fields of Options.
const (
	DefaultPrefix     = "dieuphoi:"
	DefaultSessionTTL = 30 * 24 * time.Hour
	DefaultDoneTTL    = 48 * time.Hour
	DefaultLockTTL    = 30 * time.Second
)

// Options configures Open. Only URL is required.
type Options struct {
	// URL is a redis:// or rediss:// URL (see go-redis ParseURL), e.g.
	// redis://:password@host:6379/0.
	URL string
	// Prefix starts every key; default "dieuphoi:".
	Prefix string
	// SessionTTL is how long an untouched session is kept; default 30 days.
	SessionTTL time.Duration
	// DoneTTL is how long an update is remembered as handled; default 48h.
	// It must outlast the platforms' redelivery window.
	DoneTTL time.Duration
	// LockTTL is how long a chat lock outlives its holder when the holder
	// stops refreshing it (crashed, partitioned, or its ctx ended); default
	// 30s. While held and the ctx given to Lock is live, the lock is
	// refreshed every LockTTL/3.
	LockTTL time.Duration
	// Traffic counts this store's round trips and commands; nil: counters
	// of its own. A second store on another Redis (the inbox's) shares the
	// first's, so that the process's metrics count both.
	Traffic *Traffic
}

// defaultPoolSize is the connection pool size unless the URL sets
// pool_size.
const defaultPoolSize = 64

// Store is a storage.SessionStore on Redis. It is safe for concurrent use.
type Store struct {
	rdb        *goredis.Client
	prefix     string
	sessionTTL time.Duration
	doneTTL    time.Duration
	lockTTL    time.Duration
	pipe       *coalesce.Group[scriptCall, *goredis.Cmd]
	traffic    *Traffic
	finishWait time.Duration // Finish rides another call's pipeline this long at most
	// The TTLs in ms as script arguments, boxed once (not at every call).
	lockTTLArg, sessionTTLArg, doneTTLArg, briefSessionTTLArg, briefDoneTTLArg any
}

var (
	_ storage.SessionStore = (*Store)(nil)
	_ storage.ReadingBegin = (*Store)(nil)
)

// Open connects to Redis and checks the connection with PING. Errors never
// contain the URL's password.
func Open(ctx context.Context, o Options) (*Store, error) {
	if o.URL == "" {
		return nil, errors.New("redis: no URL")
	}
	opts, err := parseURL(o.URL)
	if err != nil {
		return nil, err
	}
	if !strings.Contains(o.URL, "pool_size") {
		// go-redis's default (10 per CPU: 20 here) left handlers queueing
		// for a connection: the worker runs up to 128 updates at once, each
		// with one command at a time in flight. pool_size in the URL
		// overrides.
		opts.PoolSize = max(opts.PoolSize, defaultPoolSize)
	}
	// go-redis gives every pooled connection 32 KiB to read and 32 KiB to
	// write (4 MB for 64); our commands and replies are a few hundred
	// bytes (a session ~550), so 8 KiB each is plenty, and the batches go
	// through the pipeline pool, which keeps its 128 KiB.
	if opts.ReadBufferSize == 0 {
		opts.ReadBufferSize = 8 << 10
	}
	if opts.WriteBufferSize == 0 {
		opts.WriteBufferSize = 8 << 10
	}
	s := &Store{
		rdb:        goredis.NewClient(opts),
		prefix:     o.Prefix,
		sessionTTL: o.SessionTTL,
		doneTTL:    o.DoneTTL,
		lockTTL:    o.LockTTL,
		finishWait: finishWait,
	}
	if s.prefix == "" {
		s.prefix = DefaultPrefix
	}
	if s.sessionTTL <= 0 {
		s.sessionTTL = DefaultSessionTTL
	}
	if s.doneTTL <= 0 {
		s.doneTTL = DefaultDoneTTL
	}
	if s.lockTTL <= 0 {
		s.lockTTL = DefaultLockTTL
	}
	s.lockTTLArg = s.lockTTL.Milliseconds()
	s.sessionTTLArg, s.doneTTLArg = s.sessionTTL.Milliseconds(), s.doneTTL.Milliseconds()
	s.briefSessionTTLArg = min(s.sessionTTL, storage.BriefTTL).Milliseconds()
	s.briefDoneTTLArg = min(s.doneTTL, storage.BriefTTL).Milliseconds()
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		_ = s.rdb.Close()
		return nil, fmt.Errorf("redis: connect to %s: %w", opts.Addr, redact(err, opts.Password))
	}
	s.traffic = o.Traffic
	if s.traffic == nil {
		s.traffic = NewTraffic()
	}
	s.rdb.AddHook(s.traffic.Hook())
	s.pipe = newPipeliner(s.rdb)
	return s, nil
}

// parseURL is goredis.ParseURL with errors that never show the password.
func parseURL(raw string) (*goredis.Options, error) {
	opts, err := goredis.ParseURL(raw)
	if err != nil {
		return nil, fmt.Errorf("redis: parse URL %s: %w", redactURL(raw), redact(err, password(raw)))
	}
	return opts, nil
}

func (s *Store) sessionKey(chat string) string { return s.prefix + "session:" + chat }
func (s *Store) lockKey(chat string) string    { return s.prefix + "lock:" + chat }
func (s *Store) doneKey(update string) string  { return s.prefix + "done:" + update }

// Get returns chat's session, or storage.ErrNotFound.
func (s *Store) Get(ctx context.Context, chat string) ([]byte, error) {
	b, err := s.rdb.Get(ctx, s.sessionKey(chat)).Bytes()
	if errors.Is(err, goredis.Nil) {
		return nil, fmt.Errorf("session %q: %w", chat, storage.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("redis: get session: %w", err)
	}
	return b, nil
}

// Put stores chat's session; it expires SessionTTL later unless put again.
func (s *Store) Put(ctx context.Context, chat string, session []byte) error {
	if err := s.rdb.Set(ctx, s.sessionKey(chat), session, s.sessionTTL).Err(); err != nil {
		return fmt.Errorf("redis: put session: %w", err)
	}
	return nil
}

// unlockScript deletes the lock only when it still holds our token: a holder
// whose lock expired and was taken by another never deletes the new lock.
var unlockScript = goredis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
	return redis.call("DEL", KEYS[1])
end
return 0
`)

// refreshScript extends the lock only while it still holds our token.
var refreshScript = goredis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
	return redis.call("PEXPIRE", KEYS[1], ARGV[2])
end
return 0
`)

// beginScript is Begin's one round trip. KEYS: done mark, lock, session,
// then any counters to read (BeginReading); ARGV: token, lock TTL in ms.
// It returns {1} when the update is done, {2} when another holder has the
// lock, else {0, session or false, each counter or false}.
var beginScript = goredis.NewScript(`
if redis.call("EXISTS", KEYS[1]) == 1 then
	return {1}
end
if not redis.call("SET", KEYS[2], ARGV[1], "NX", "PX", ARGV[2]) then
	return {2}
end
local out = {0, redis.call("GET", KEYS[3])}
for i = 4, #KEYS do
	out[i - 1] = redis.call("GET", KEYS[i])
end
return out
`)

// saveScript stores the session while the lock is ours. A lock that lapsed
// with nobody taking it (Redis restarted, or a long pause) is taken again;
// a lock another holder took is not touched, and nothing is saved. KEYS:
// lock, session; ARGV: token, session, session TTL in ms, lock TTL in ms.
var saveScript = goredis.NewScript(`
local holder = redis.call("GET", KEYS[1])
if holder ~= ARGV[1] then
	if holder then
		return 0
	end
	redis.call("SET", KEYS[1], ARGV[1], "PX", ARGV[4])
end
redis.call("SET", KEYS[2], ARGV[2], "PX", ARGV[3])
return 1
`)

// finishScript marks the update done and deletes the lock when it is still
// ours. KEYS: done mark, lock; ARGV: token, done TTL in ms.
var finishScript = goredis.NewScript(`
redis.call("SET", KEYS[1], "1", "PX", ARGV[2])
if redis.call("GET", KEYS[2]) == ARGV[1] then
	redis.call("DEL", KEYS[2])
end
return 1
`)

// The scripts' digests, boxed once for evalCmd.
var (
	beginSHA, saveSHA, finishSHA, unlockSHA, hitSHA any = beginScript.Hash(), saveScript.Hash(), finishScript.Hash(), unlockScript.Hash(), hitScript.Hash()
)

const (
	minBackoff = 5 * time.Millisecond
	maxBackoff = 100 * time.Millisecond
	// unlockTimeout bounds the unlock call, which runs even when the
	// caller's ctx has ended.
	unlockTimeout = 5 * time.Second
)

// acquire runs try until it reports done, backing off with jitter while it
// reports the lock busy, until ctx ends: then the error wraps both
// storage.ErrLockTimeout and ctx.Err().
func acquire(ctx context.Context, chat string, try func() (busy bool, err error)) error {
	backoff := minBackoff
	for {
		busy, err := try()
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("%w: chat %q: %w", storage.ErrLockTimeout, chat, ctx.Err())
			}
			return err
		}
		if !busy {
			return nil
		}
		// Full jitter keeps waiting processes from retrying in step.
		wait := backoff/2 + rand.N(backoff/2+1)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w: chat %q: %w", storage.ErrLockTimeout, chat, ctx.Err())
		case <-t.C:
		}
		backoff = min(backoff*2, maxBackoff)
	}
}

// Lock takes chat's lock, waiting while another holder has it, until ctx
// ends: then the error wraps both storage.ErrLockTimeout and ctx.Err().
//
// While held, the lock is refreshed every LockTTL/3 for as long as ctx is
// live; once ctx ends (or the process dies) it lapses LockTTL later even if
// unlock is never called. unlock may be called more than once.
func (s *Store) Lock(ctx context.Context, chat string) (func(), error) {
	key := s.lockKey(chat)
	token := newToken()
	err := acquire(ctx, chat, func() (bool, error) {
		ok, err := s.rdb.SetNX(ctx, key, token, s.lockTTL).Result()
		if err != nil {
			return false, fmt.Errorf("redis: lock chat: %w", err)
		}
		return !ok, nil
	})
	if err != nil {
		return nil, err
	}
	return s.newLease(ctx, chat, "", token, nil, key, nil).Release, nil // only Release reached: no done mark, no session
}

// Begin implements storage.SessionStore in one round trip (a script that
// checks the done mark, takes the lock and reads the session), repeated
// with backoff while another holder has the lock. The lease is refreshed
// like Lock's.
func (s *Store) Begin(ctx context.Context, chat, update string) (storage.Turn, error) {
	turn, _, err := s.BeginReading(ctx, chat, update)
	return turn, err
}

// BeginReading is Begin that also reads counters (Count's keys) in the
// same script run (storage.ReadingBegin): their counts once the lock is
// taken, nil when the update was done.
func (s *Store) BeginReading(ctx context.Context, chat, update string, counters ...string) (storage.Turn, []int64, error) {
	// The keys are boxed once: the lease's save and finish send them too.
	token := any(newToken())
	done, lock, sess := any(s.doneKey(update)), any(s.lockKey(chat)), any(s.sessionKey(chat))
	raw := append(evalHead(beginSHA, 3+len(counters), 5+len(counters)), done, lock, sess)
	for _, k := range counters {
		raw = append(raw, s.limitKey(k))
	}
	raw = append(raw, token, s.lockTTLArg)
	var turn storage.Turn
	var counts []int64
	err := acquire(ctx, chat, func() (bool, error) {
		res, err := s.eval(ctx, beginScript, raw).Slice()
		if err != nil {
			return false, fmt.Errorf("redis: begin: %w", err)
		}
		if len(res) == 0 {
			return false, errors.New("redis: begin: empty reply")
		}
		switch code, _ := res[0].(int64); code {
		case 1:
			turn.Done = true
		case 2:
			return true, nil
		default:
			if len(res) > 1 {
				if v, ok := res[1].(string); ok {
					turn.Session = []byte(v)
				}
			}
			if len(counters) > 0 {
				counts = make([]int64, len(counters))
				for i := range counters {
					if len(res) <= 2+i {
						break
					}
					if v, ok := res[2+i].(string); ok {
						counts[i], _ = strconv.ParseInt(v, 10, 64)
					}
				}
			}
		}
		return false, nil
	})
	if err != nil || turn.Done {
		return storage.Turn{Done: turn.Done}, nil, err
	}
	turn.Lease = s.newLease(ctx, chat, update, token, done, lock, sess)
	return turn, counts, nil
}

// lease is a held chat lock, refreshed every LockTTL/3 while the ctx it was
// taken with is live.
type lease struct {
	s            *Store
	ctx          context.Context
	chat, update string
	token        string
	// token and the keys (done mark, lock, session), boxed once for the
	// scripts' commands (evalCmd)
	tokenArg, doneKey, lockKey, sessionKey any

	brief    bool       // an unidentified chat: keys last storage.BriefTTL
	mu       sync.Mutex // held while refreshing, so none runs after release
	timer    *time.Timer
	stopped  bool // no more refreshes
	released bool
}

// newLease: token is a string, and so are the keys.
func (s *Store) newLease(ctx context.Context, chat, update string, token, doneKey, lockKey, sessionKey any) *lease {
	l := &lease{s: s, ctx: ctx, chat: chat, update: update, token: token.(string), tokenArg: token,
		doneKey: doneKey, lockKey: lockKey, sessionKey: sessionKey}
	l.mu.Lock()
	l.timer = time.AfterFunc(s.refreshEvery(), l.refresh)
	l.mu.Unlock()
	return l
}

func (s *Store) refreshEvery() time.Duration {
	if every := s.lockTTL / 3; every > 0 {
		return every
	}
	return time.Millisecond
}

// refresh extends the lock, and plans the next refresh unless the lease
// was released, its ctx ended, or the lock is no longer ours.
func (l *lease) refresh() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopped || l.ctx.Err() != nil {
		return
	}
	n, err := refreshScript.Run(l.ctx, l.s.rdb, []string{l.s.lockKey(l.chat)}, l.token, l.s.lockTTL.Milliseconds()).Int64()
	if err == nil && n == 0 {
		l.stopped = true // lost: it lapsed and someone else may hold it now
		return
	}
	// On a transient error, try again next time while the lock lasts.
	l.timer.Reset(l.s.refreshEvery())
}

// claim ends the refreshes and takes the release on itself; it returns
// false when the lease was released already.
func (l *lease) claim() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stopped = true
	l.timer.Stop()
	if l.released {
		return false
	}
	l.released = true
	return true
}

// Brief implements storage.Brief: the session and done mark this lease
// writes expire after storage.BriefTTL (or sooner, when the store's own
// TTLs are shorter).
func (l *lease) Brief() { l.brief = true }

func (l *lease) ttl(normal time.Duration) time.Duration {
	if l.brief {
		return min(normal, storage.BriefTTL)
	}
	return normal
}

// ttlArg is a script's TTL argument: normal's, or brief's for a brief
// turn (both boxed once by Open).
func (l *lease) ttlArg(normal, brief any) any {
	if l.brief {
		return brief
	}
	return normal
}

func (l *lease) Save(ctx context.Context, session []byte) error {
	n, err := l.s.eval(ctx, saveScript, evalCmd(saveSHA, 2, l.lockKey, l.sessionKey,
		l.tokenArg, session, l.ttlArg(l.s.sessionTTLArg, l.s.briefSessionTTLArg), l.s.lockTTLArg)).Int64()
	if err != nil {
		return fmt.Errorf("redis: put session: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("redis: put session: chat %q: lock lost to another holder", l.chat)
	}
	return nil
}

func (l *lease) MarkDone(ctx context.Context) error { return l.markDone(ctx) }

func (l *lease) markDone(ctx context.Context) error {
	if err := l.s.rdb.Set(ctx, l.s.doneKey(l.update), "1", l.ttl(l.s.doneTTL)).Err(); err != nil {
		return fmt.Errorf("redis: mark done: %w", err)
	}
	return nil
}

func (l *lease) Finish(ctx context.Context) error {
	if !l.claim() {
		return l.markDone(ctx)
	}
	err := l.s.evalLater(ctx, finishScript, evalCmd(finishSHA, 2, l.doneKey, l.lockKey,
		l.tokenArg, l.ttlArg(l.s.doneTTLArg, l.s.briefDoneTTLArg))).Err()
	if err != nil {
		// Let Release try the unlock again; else the lock lapses by itself.
		l.mu.Lock()
		l.released = false
		l.mu.Unlock()
		return fmt.Errorf("redis: finish update: %w", err)
	}
	return nil
}

func (l *lease) Release() {
	if !l.claim() {
		return
	}
	uctx, cancel := context.WithTimeout(context.WithoutCancel(l.ctx), unlockTimeout)
	defer cancel()
	// On failure the lock lapses by itself LockTTL later.
	_ = l.s.eval(uctx, unlockScript, evalCmd(unlockSHA, 1, l.lockKey, l.tokenArg)).Err()
}

// Done reports whether update was marked done within the last DoneTTL.
func (s *Store) Done(ctx context.Context, update string) (bool, error) {
	n, err := s.rdb.Exists(ctx, s.doneKey(update)).Result()
	if err != nil {
		return false, fmt.Errorf("redis: done: %w", err)
	}
	return n > 0, nil
}

// MarkDone records update as fully handled for DoneTTL.
func (s *Store) MarkDone(ctx context.Context, update string) error {
	if err := s.rdb.Set(ctx, s.doneKey(update), "1", s.doneTTL).Err(); err != nil {
		return fmt.Errorf("redis: mark done: %w", err)
	}
	return nil
}

// Ping checks the connection.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis: ping: %w", err)
	}
	return nil
}

// Close closes the connection pool.
func (s *Store) Close() error {
	s.pipe.Close()
	return s.rdb.Close()
}

// Client is the connection, for other users of the same Redis (the shared
// sending pace), and Prefix the store's key prefix.
func (s *Store) Client() *goredis.Client { return s.rdb }

// Traffic is what this process asked of Redis through the store's client.
func (s *Store) Traffic() *Traffic { return s.traffic }

// Prefix is the key prefix every key of this store starts with.
func (s *Store) Prefix() string { return s.prefix }

func newToken() string {
	b := make([]byte, 16)
	if _, err := cryptorand.Read(b); err != nil {
		panic(fmt.Sprintf("redis: random lock token: %v", err))
	}
	return hex.EncodeToString(b)
}

// password returns the URL's password, "" when none or unparsable.
func password(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return ""
	}
	p, _ := u.User.Password()
	return p
}

// redactURL returns raw with any password replaced, or a placeholder when it
// cannot be parsed (it might hold a password we cannot find).
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// redactedError hides a secret in an error's text but keeps its chain.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

func redact(err error, secret string) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		// url.Error quotes the whole URL; keep only the reason.
		err = &redactedError{msg: ue.Op + " URL: " + ue.Err.Error(), err: ue.Err}
	}
	if secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return &redactedError{msg: strings.ReplaceAll(err.Error(), secret, "xxxxx"), err: err}
}

// hitScript counts one event in a fixed window that starts with the first
// event. KEYS: the counter; ARGV: window in ms.
var hitScript = goredis.NewScript(`
local n = redis.call("INCR", KEYS[1])
if n == 1 then
	redis.call("PEXPIRE", KEYS[1], ARGV[1])
end
return n
`)

func (s *Store) limitKey(key string) string { return s.prefix + "limit:" + key }

// Count returns the events counted under key in its current window
// (bot.Limiter), shared by every process.
func (s *Store) Count(ctx context.Context, key string) (int64, error) {
	n, err := s.rdb.Get(ctx, s.limitKey(key)).Int64()
	if errors.Is(err, goredis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("redis: count: %w", err)
	}
	return n, nil
}

// Hit counts one event under key and returns the count in the window.
func (s *Store) Hit(ctx context.Context, key string, window time.Duration) (int64, error) {
	n, err := hitScript.Run(ctx, s.rdb, []string{s.limitKey(key)}, window.Milliseconds()).Int64()
	if err != nil {
		return 0, fmt.Errorf("redis: hit: %w", err)
	}
	return n, nil
}

// Counts is Count for several keys in one command (MGET), sent in the
// next shared pipeline (Scripts) rather than a round trip of its own (with
// a ctx marked by coalesce.Ride, the next one another call makes).
func (s *Store) Counts(ctx context.Context, keys ...string) ([]int64, error) {
	raw := make([]any, 1, len(keys)+1)
	raw[0] = "mget"
	for _, k := range keys {
		raw = append(raw, s.limitKey(k))
	}
	cmd, err := s.pipe.Call(ctx, scriptCall{raw: raw})
	if err == nil {
		err = cmd.Err()
	}
	if err != nil {
		return nil, fmt.Errorf("redis: count: %w", err)
	}
	vals, err := cmd.Slice()
	if err != nil {
		return nil, fmt.Errorf("redis: count: %w", err)
	}
	if len(vals) != len(keys) {
		return nil, fmt.Errorf("redis: count: %d values for %d keys", len(vals), len(keys))
	}
	out := make([]int64, len(keys))
	for i, v := range vals {
		str, ok := v.(string)
		if !ok {
			continue // none counted in the current window
		}
		n, err := strconv.ParseInt(str, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("redis: count %q: %w", keys[i], err)
		}
		out[i] = n
	}
	return out, nil
}

// Hits is Hit for several keys, each with its window: the scripts are
// sent at once, into the next shared pipeline (Scripts), so they share a
// round trip with each other and with other updates' calls.
func (s *Store) Hits(ctx context.Context, keys []string, windows []time.Duration) ([]int64, error) {
	out := make([]int64, len(keys))
	errs := make([]error, len(keys))
	var wg sync.WaitGroup
	for i, k := range keys {
		wg.Go(func() {
			cmd, err := s.pipe.Call(ctx, scriptCall{script: hitScript, raw: evalCmd(hitSHA, 1, s.limitKey(k), windows[i].Milliseconds())})
			if err == nil {
				out[i], err = cmd.Int64()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("redis: hit: %w", err)
	}
	return out, nil
}
