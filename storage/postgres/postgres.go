// Package postgres is the production results store, on PostgreSQL through
// pgx v5. Migrations are embedded and applied at start-up.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dieuphoi/dieuphoi/internal/coalesce"
	"github.com/dieuphoi/dieuphoi/storage"
	"github.com/dieuphoi/dieuphoi/storage/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is the PostgreSQL results store.
type Store struct {
	sqlstore.Queries
	pool    *pgxpool.Pool
	applies *coalesce.Group[sqlstore.ApplyReq, bool]
	// reads batches the look-ups of who chats are and the reads made
	// after a commit (Identities, People, NoticeTargets).
	reads *coalesce.Group[readReq, readRes]
}

var _ storage.Store = (*Store)(nil)

// defaultMaxConns is the pool size unless the URL sets pool_max_conns.
const defaultMaxConns = 32

// planCacheMode is the connections' plan_cache_mode unless the URL sets
// one. Every statement text is prepared on each connection (pgx's
// statement cache) and, with PostgreSQL's default (auto), planned afresh
// with the values at hand on its first five runs there before the
// generic plan is kept: with 32 connections and a text per row count of
// the batched statements, most runs of a multi-row text and many of the
// others were planned anew — a chat's look-up (IdentityStates) 0.6–0.9
// ms of planning for 0.1–0.2 ms of execution (EXPLAIN (ANALYZE, SUMMARY)
// EXECUTE, 5,000 people). The hot statements' generic plans are the
// plans the values give (index scans on keys; TestGenericPlans), so
// each text is planned once per connection instead.
const planCacheMode = "force_generic_plan"

// enableMemoize is the connections' enable_memoize unless the URL sets
// one. The generic plans cache look-ups that never repeat in a run: the
// chat look-up (IdentityStates) got two Memoize nodes, each building a
// memory context and a hash table at every execution and hashing every
// row into it with no hit (each account is a different person) — 2.3 %
// of the server's CPU in the benchmark's webhook run (perf). Without it
// the same look-ups are the plain nested index look-ups below them.
const enableMemoize = "off"

// Option changes how Open connects.
type Option func(*pgxpool.Config)

// WithTracer has every connection report its statements to t (a
// pgx.BatchTracer too, if t is one): what the tests count statements
// with.
func WithTracer(t pgx.QueryTracer) Option {
	return func(c *pgxpool.Config) { c.ConnConfig.Tracer = t }
}

// Open connects, checks the connection and applies pending migrations.
func Open(ctx context.Context, url string, opts ...Option) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// The parse error can quote the URL, password included.
		return nil, errors.New("parse DATABASE_URL: not a valid PostgreSQL URL")
	}
	if !strings.Contains(url, "pool_max_conns") {
		// pgxpool's default (the number of CPUs, at least 4) made updates
		// queue for a connection while others waited on their commit's
		// fsync: 4 connections × ~8 ms of database time per update capped
		// a process near 500 updates/s with the CPUs half idle. Commits of
		// concurrent connections share WAL flushes, so more connections
		// mean more updates per flush. pool_max_conns in the URL overrides.
		cfg.MaxConns = defaultMaxConns
	}
	if _, set := cfg.ConnConfig.RuntimeParams["plan_cache_mode"]; !set {
		cfg.ConnConfig.RuntimeParams["plan_cache_mode"] = planCacheMode
	}
	if _, set := cfg.ConnConfig.RuntimeParams["enable_memoize"]; !set {
		cfg.ConnConfig.RuntimeParams["enable_memoize"] = enableMemoize
	}
	for _, o := range opts {
		o(cfg)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	s := &Store{pool: pool}
	s.Queries = sqlstore.Queries{DB: conn{pool}, Tx: s.tx, Pipe: s.pipeTx}
	sub, _ := fs.Sub(migrations, "migrations")
	if err := sqlstore.Migrate(ctx, s.tx, sub, `SELECT pg_advisory_xact_lock(7347110001)`); err != nil {
		pool.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	if err := s.LoadCurrent(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("current event: %w", err)
	}
	s.applies = newApplier(&s.Queries)
	s.reads = newReads(s)
	return s, nil
}

// Pool exposes the pool to other stores of this package family.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Ping implements storage.Store.
func (s *Store) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }

// Close implements storage.Store.
func (s *Store) Close() error {
	s.applies.Close()
	s.reads.Close()
	s.pool.Close()
	return nil
}

func (s *Store) tx(ctx context.Context, fn func(sqlstore.DB) error) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return fn(conn{tx}) })
}

type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

type conn struct{ q querier }

func (c conn) Exec(ctx context.Context, q string, args ...any) (int64, error) {
	tag, err := c.q.Exec(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

func (c conn) Query(ctx context.Context, q string, args ...any) (sqlstore.Rows, error) {
	r, err := c.q.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return r, nil
}

func (c conn) QueryRow(ctx context.Context, q string, args ...any) sqlstore.Row {
	return row{c.q.QueryRow(ctx, q, args...)}
}

type row struct{ r pgx.Row }

func (r row) Scan(dest ...any) error {
	err := r.r.Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return sqlstore.ErrNoRows
	}
	return err
}
