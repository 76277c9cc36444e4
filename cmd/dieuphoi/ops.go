package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/dieuphoi/dieuphoi/internal/tick"
	"github.com/dieuphoi/dieuphoi/storage/sqlstore"
)

// httpsURL reports whether the bot is published over https: its cookies
// are then Secure and browsers are told to use https only (HSTS).
func (s settings) httpsURL() bool { return strings.HasPrefix(strings.ToLower(s.PublicURL), "https://") }

// HSTSMaxAge is how long browsers keep to https for the bot's host once told.
const HSTSMaxAge = 365 * 24 * time.Hour

// hsts adds Strict-Transport-Security to every answer when on is set.
func hsts(h http.Handler, on bool) http.Handler {
	if !on {
		return h
	}
	v := fmt.Sprintf("max-age=%d", int(HSTSMaxAge/time.Second))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", v)
		h.ServeHTTP(w, r)
	})
}

// How often the figures behind the database-derived gauges are read, and
// how long a readiness answer is reused.
const (
	gaugeRefresh = 15 * time.Second
	readyCache   = 5 * time.Second
)

// outboxGauges serves the outbox gauges from figures read in the
// background, so that a scrape, however frequent, never reaches the
// database.
type outboxGauges struct {
	read func(ctx context.Context) (sqlstore.OutboxStats, error)
	now  func() time.Time
	log  *slog.Logger
	cur  atomic.Pointer[sqlstore.OutboxStats] // nil until read once, or after a failed read
}

// register adds the gauges to reg.
func (g *outboxGauges) register(reg prometheus.Registerer) {
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "dieuphoi_outbox_depth", Help: "Messages waiting in the outbox (read every 15 s; -1 when unknown).",
	}, func() float64 {
		st := g.cur.Load()
		if st == nil {
			return -1
		}
		return float64(st.Depth())
	}), prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "dieuphoi_outbox_oldest_seconds", Help: "How late the oldest waiting outbox message is (-1 when unknown).",
	}, func() float64 {
		st := g.cur.Load()
		if st == nil {
			return -1
		}
		return st.OldestAge(g.now()).Seconds()
	}))
}

// refresh reads the figures once.
func (g *outboxGauges) refresh(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	st, err := g.read(ctx)
	if err != nil {
		if ctx.Err() == nil || errors.Is(err, context.DeadlineExceeded) {
			g.log.Warn("metrics: reading the outbox figures", "err", err)
		}
		g.cur.Store(nil)
		return
	}
	g.cur.Store(&st)
}

// run refreshes the figures every interval until ctx ends.
func (g *outboxGauges) run(ctx context.Context, every time.Duration) {
	tick.Every(ctx, every, g.refresh)
}

// readiness answers /readyz from a check made at most once per readyCache:
// probes and anyone else asking cannot turn it into database load.
type readiness struct {
	check func(ctx context.Context) []string
	now   func() time.Time

	mu       sync.Mutex
	at       time.Time
	problems []string
}

func (rd *readiness) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rd.mu.Lock()
	if now := rd.now(); rd.at.IsZero() || now.Sub(rd.at) >= readyCache {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		rd.problems, rd.at = rd.check(ctx), now
		cancel()
	}
	problems := rd.problems
	rd.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if len(problems) > 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, strings.Join(problems, "\n"))
		return
	}
	fmt.Fprintln(w, "ready")
}

// opsHandler is what the metrics listener serves: /metrics and, when
// enabled, the profiler. It is never on the public listener.
func opsHandler(reg *prometheus.Registry, withPprof bool) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	if withPprof {
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
	return mux
}

// serveOps starts the metrics listener on addr ("off": none). A listener
// that cannot start (the port taken by another replica on the host) is
// logged and the bot goes on without it: metrics are not worth an outage.
// The returned function stops it.
func serveOps(addr string, h http.Handler, log *slog.Logger) (stop func(context.Context)) {
	if addr == "" || strings.EqualFold(addr, "off") {
		return func(context.Context) {}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Error("metrics listener not started; the bot runs without /metrics", "addr", addr, "err", err)
		return func(context.Context) {}
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 2 * time.Minute, IdleTimeout: time.Minute}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener stopped", "err", err)
		}
	}()
	log.Info("metrics listener", "addr", ln.Addr().String())
	return func(ctx context.Context) { _ = srv.Shutdown(ctx) }
}

// ProcessedKeep is how long the ids of processed updates (and, in the
// embedded store, the "update handled" marks) are kept: far longer than
// Telegram (24 h) or Zalo (12 h) redeliver an update.
const ProcessedKeep = 7 * 24 * time.Hour

// pruneEvery is how often they are pruned.
const pruneEvery = time.Hour

type processedPruner interface {
	PruneProcessed(ctx context.Context, before time.Time) (int64, error)
}

type donePruner interface {
	PruneDone(ctx context.Context, before time.Time) (int64, error)
}

// pruneLoop prunes processed update ids older than ProcessedKeep now and
// every interval until ctx ends. Ids are stamped with the bot's clock (now),
// done marks with the wall clock. Every process may run it: a delete of old
// rows is harmless twice.
func pruneLoop(ctx context.Context, st, sessions any, now func() time.Time, every time.Duration, log *slog.Logger) {
	prune := func(ctx context.Context) {
		if p, ok := st.(processedPruner); ok {
			n, err := p.PruneProcessed(ctx, now().Add(-ProcessedKeep))
			switch {
			case err != nil && ctx.Err() == nil:
				log.Warn("pruning processed update ids", "err", err)
			case n > 0:
				log.Info("pruned processed update ids", "rows", n)
			}
		}
		if p, ok := sessions.(donePruner); ok {
			if _, err := p.PruneDone(ctx, time.Now().Add(-ProcessedKeep)); err != nil && ctx.Err() == nil {
				log.Warn("pruning done marks", "err", err)
			}
		}
	}
	prune(ctx)
	tick.Every(ctx, every, prune)
}
