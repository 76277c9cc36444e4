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
package redis

import (
	"context"
	cryptorand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

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
}

// Store is a storage.SessionStore on Redis. It is safe for concurrent use.
type Store struct {
	rdb        *goredis.Client
	prefix     string
	sessionTTL time.Duration
	doneTTL    time.Duration
	lockTTL    time.Duration
}

var _ storage.SessionStore = (*Store)(nil)

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
	s := &Store{
		rdb:        goredis.NewClient(opts),
		prefix:     o.Prefix,
		sessionTTL: o.SessionTTL,
		doneTTL:    o.DoneTTL,
		lockTTL:    o.LockTTL,
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
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		_ = s.rdb.Close()
		return nil, fmt.Errorf("redis: connect to %s: %w", opts.Addr, redact(err, opts.Password))
	}
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

const (
	minBackoff = 5 * time.Millisecond
	maxBackoff = 100 * time.Millisecond
	// unlockTimeout bounds the unlock call, which runs even when the
	// caller's ctx has ended.
	unlockTimeout = 5 * time.Second
)

// Lock takes chat's lock, waiting while another holder has it, until ctx
// ends: then the error wraps both storage.ErrLockTimeout and ctx.Err().
//
// While held, the lock is refreshed every LockTTL/3 for as long as ctx is
// live; once ctx ends (or the process dies) it lapses LockTTL later even if
// unlock is never called. unlock may be called more than once.
func (s *Store) Lock(ctx context.Context, chat string) (func(), error) {
	key := s.lockKey(chat)
	token := newToken()
	backoff := minBackoff
	for {
		ok, err := s.rdb.SetNX(ctx, key, token, s.lockTTL).Result()
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("%w: chat %q: %w", storage.ErrLockTimeout, chat, ctx.Err())
			}
			return nil, fmt.Errorf("redis: lock chat: %w", err)
		}
		if ok {
			break
		}
		// Full jitter keeps waiting processes from retrying in step.
		wait := backoff/2 + rand.N(backoff/2+1)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("%w: chat %q: %w", storage.ErrLockTimeout, chat, ctx.Err())
		case <-t.C:
		}
		backoff = min(backoff*2, maxBackoff)
	}

	stop := make(chan struct{})
	refreshed := make(chan struct{})
	go s.refresh(ctx, key, token, stop, refreshed)

	var once sync.Once
	unlock := func() {
		once.Do(func() {
			close(stop)
			<-refreshed // no refresh may run after the delete
			uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), unlockTimeout)
			defer cancel()
			// On failure the lock lapses by itself LockTTL later.
			_ = unlockScript.Run(uctx, s.rdb, []string{key}, token).Err()
		})
	}
	return unlock, nil
}

// refresh extends the lock every LockTTL/3 until stop is closed, ctx ends,
// or the lock is no longer ours.
func (s *Store) refresh(ctx context.Context, key, token string, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	every := s.lockTTL / 3
	if every <= 0 {
		every = time.Millisecond
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		n, err := refreshScript.Run(ctx, s.rdb, []string{key}, token, s.lockTTL.Milliseconds()).Int64()
		if err == nil && n == 0 {
			return // lost: it lapsed and someone else may hold it now
		}
		// On a transient error, try again next tick while the lock lasts.
	}
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
func (s *Store) Close() error { return s.rdb.Close() }

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
