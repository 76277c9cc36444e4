// Package sqlite is the embedded default: results, sessions and update
// marks in one local database file, in pure Go (modernc.org/sqlite). It is
// for one process; production runs on storage/postgres and storage/redis.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/dieuphoi/dieuphoi/storage"
	"github.com/dieuphoi/dieuphoi/storage/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// PruneDone forgets the "update handled" marks made before before (stamped
// with the wall clock when they were made).
func (s *Store) PruneDone(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM done_updates WHERE done_at < $1`, before.UTC())
	if err != nil {
		return 0, fmt.Errorf("prune done marks: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// Store is the embedded results and session store.
type Store struct {
	sqlstore.Queries
	db    *sql.DB
	locks keyedMutex
	brief briefCache // unidentified chats: in memory, bounded, short-lived
}

var (
	_ storage.Store        = (*Store)(nil)
	_ storage.SessionStore = (*Store)(nil)
)

// Open opens (creating when needed) the database file at path and applies
// pending migrations.
func Open(ctx context.Context, path string) (*Store, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
	}
	// WAL lets readers run beside the writer; synchronous=FULL makes every
	// committed answer survive a killed process or a power cut.
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open database file: %w", err)
	}
	// One writer at a time is SQLite's model; one connection keeps
	// "database is locked" away entirely.
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open database file %s: %w", path, err)
	}
	s := &Store{db: db}
	s.Queries = sqlstore.Queries{DB: conn{db}, Tx: s.tx}
	sub, _ := fs.Sub(migrations, "migrations")
	if err := sqlstore.Migrate(ctx, s.tx, sub, ""); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	if err := s.LoadCurrent(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("current event: %w", err)
	}
	return s, nil
}

// Ping implements storage.Store and storage.SessionStore.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Close implements storage.Store and storage.SessionStore. Closing twice is
// harmless: the same Store usually serves as both.
func (s *Store) Close() error {
	err := s.db.Close()
	if err != nil && errors.Is(err, sql.ErrConnDone) {
		return nil
	}
	return err
}

func (s *Store) tx(ctx context.Context, fn func(sqlstore.DB) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(conn{tx}); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// --- sessions -----------------------------------------------------------------

// Get implements storage.SessionStore.
func (s *Store) Get(ctx context.Context, chat string) ([]byte, error) {
	var data []byte
	err := s.db.QueryRowContext(ctx, `SELECT data FROM sessions WHERE chat = $1`, chat).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, storage.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get session: %w", err)
	}
	return data, nil
}

// Put implements storage.SessionStore.
func (s *Store) Put(ctx context.Context, chat string, session []byte) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO sessions (chat, data, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (chat) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at`, chat, session, time.Now().UTC())
	if err != nil {
		return fmt.Errorf("put session: %w", err)
	}
	return nil
}

// Lock implements storage.SessionStore. The embedded default runs in one
// process, so an in-process lock per chat is enough.
func (s *Store) Lock(ctx context.Context, chat string) (func(), error) {
	return s.locks.lock(ctx, chat)
}

// Done implements storage.SessionStore.
func (s *Store) Done(ctx context.Context, update string) (bool, error) {
	var k string
	err := s.db.QueryRowContext(ctx, `SELECT update_key FROM done_updates WHERE update_key = $1`, update).Scan(&k)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("check update: %w", err)
	}
	return true, nil
}

// MarkDone implements storage.SessionStore.
func (s *Store) MarkDone(ctx context.Context, update string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO done_updates (update_key, done_at) VALUES ($1, $2) ON CONFLICT DO NOTHING`, update, time.Now().UTC())
	if err != nil {
		return fmt.Errorf("mark update done: %w", err)
	}
	return nil
}

// Begin implements storage.SessionStore: the in-process chat lock, then the
// done mark and the session in one query. A done update is answered without
// waiting for the lock.
func (s *Store) Begin(ctx context.Context, chat, update string) (storage.Turn, error) {
	unlock, ok := s.locks.tryLock(chat)
	if !ok {
		done, err := s.Done(ctx, update)
		if err != nil {
			return storage.Turn{}, err
		}
		if done {
			return storage.Turn{Done: true}, nil
		}
		if unlock, err = s.locks.lock(ctx, chat); err != nil {
			return storage.Turn{}, err
		}
	}
	var done int
	var data []byte
	err := s.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM done_updates WHERE update_key = $1),
		(SELECT data FROM sessions WHERE chat = $2)`, update, chat).Scan(&done, &data)
	if err != nil {
		unlock()
		return storage.Turn{}, fmt.Errorf("begin update: %w", err)
	}
	if done == 0 && s.brief.done(update) {
		done = 1
	}
	if done != 0 {
		unlock()
		return storage.Turn{Done: true}, nil
	}
	if data == nil {
		data = s.brief.session(chat)
	}
	return storage.Turn{Session: data, Lease: &lease{s: s, chat: chat, update: update, unlock: unlock}}, nil
}

// lease is a chat's in-process lock held for one update.
type lease struct {
	s            *Store
	chat, update string
	unlock       func() // idempotent
	brief        bool
}

// Brief implements storage.Brief: an unidentified chat's session and done
// marks stay in memory (bounded, storage.BriefTTL), never in the file.
func (l *lease) Brief() { l.brief = true }

func (l *lease) Save(ctx context.Context, session []byte) error {
	if l.brief {
		l.s.brief.put(l.chat, session)
		return nil
	}
	l.s.brief.forget(l.chat)
	return l.s.Put(ctx, l.chat, session)
}

func (l *lease) MarkDone(ctx context.Context) error {
	if l.brief {
		l.s.brief.markDone(l.update)
		return nil
	}
	return l.s.MarkDone(ctx, l.update)
}

func (l *lease) Release() { l.unlock() }

func (l *lease) Finish(ctx context.Context) error {
	defer l.unlock()
	return l.MarkDone(ctx)
}

// briefCache keeps unidentified chats' sessions and done marks in memory:
// at most briefMax of each, each for storage.BriefTTL.
type briefCache struct {
	mu       sync.Mutex
	sessions map[string]briefItem
	dones    map[string]time.Time
}

type briefItem struct {
	data []byte
	at   time.Time
}

const briefMax = 10000

func (b *briefCache) put(chat string, data []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.sessions == nil {
		b.sessions = map[string]briefItem{}
	}
	now := time.Now()
	if len(b.sessions) >= briefMax {
		sweep(b.sessions, func(i briefItem) time.Time { return i.at }, now)
	}
	b.sessions[chat] = briefItem{data: data, at: now}
}

func (b *briefCache) session(chat string) []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	i, ok := b.sessions[chat]
	if !ok || time.Since(i.at) > storage.BriefTTL {
		return nil
	}
	return i.data
}

func (b *briefCache) forget(chat string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.sessions, chat)
}

func (b *briefCache) markDone(update string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.dones == nil {
		b.dones = map[string]time.Time{}
	}
	now := time.Now()
	if len(b.dones) >= briefMax {
		sweep(b.dones, func(t time.Time) time.Time { return t }, now)
	}
	b.dones[update] = now
}

func (b *briefCache) done(update string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	at, ok := b.dones[update]
	return ok && time.Since(at) <= storage.BriefTTL
}

// sweep drops expired entries, and when none had expired, the older half:
// the map never outgrows briefMax.
func sweep[V any](m map[string]V, at func(V) time.Time, now time.Time) {
	for k, v := range m {
		if now.Sub(at(v)) > storage.BriefTTL {
			delete(m, k)
		}
	}
	if len(m) < briefMax {
		return
	}
	ts := make([]time.Time, 0, len(m))
	for _, v := range m {
		ts = append(ts, at(v))
	}
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	cut := ts[len(ts)/2]
	for k, v := range m {
		if at(v).Before(cut) || at(v).Equal(cut) {
			delete(m, k)
		}
	}
}

// --- driver adapter -------------------------------------------------------------

type querier interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

type conn struct{ q querier }

func (c conn) Exec(ctx context.Context, q string, args ...any) (int64, error) {
	res, err := c.q.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (c conn) Query(ctx context.Context, q string, args ...any) (sqlstore.Rows, error) {
	r, err := c.q.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return rows{r}, nil
}

func (c conn) QueryRow(ctx context.Context, q string, args ...any) sqlstore.Row {
	return row{c.q.QueryRowContext(ctx, q, args...)}
}

type rows struct{ *sql.Rows }

func (r rows) Close() { _ = r.Rows.Close() }

type row struct{ r *sql.Row }

func (r row) Scan(dest ...any) error {
	err := r.r.Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return sqlstore.ErrNoRows
	}
	return err
}

// keyedMutex is a lock per key that waits with a context.
type keyedMutex struct {
	mu sync.Mutex
	m  map[string]chan struct{}
}

// tryLock takes key's lock when it is free.
func (k *keyedMutex) tryLock(key string) (func(), bool) {
	unlock, _ := k.take(key)
	return unlock, unlock != nil
}

// take takes key's lock when it is free, else returns what to wait on.
func (k *keyedMutex) take(key string) (unlock func(), held chan struct{}) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.m == nil {
		k.m = map[string]chan struct{}{}
	}
	if held, busy := k.m[key]; busy {
		return nil, held
	}
	ch := make(chan struct{})
	k.m[key] = ch
	var once sync.Once
	return func() {
		once.Do(func() {
			k.mu.Lock()
			delete(k.m, key)
			k.mu.Unlock()
			close(ch)
		})
	}, nil
}

func (k *keyedMutex) lock(ctx context.Context, key string) (func(), error) {
	for {
		unlock, held := k.take(key)
		if unlock != nil {
			return unlock, nil
		}
		select {
		case <-held:
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %v", storage.ErrLockTimeout, ctx.Err())
		}
	}
}
