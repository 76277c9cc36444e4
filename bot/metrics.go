package bot

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are what an operator watches: updates by channel and outcome,
// handling latency, outgoing messages by result, store errors, active chats.
type Metrics struct {
	updates  children[prometheus.Counter]
	latency  children[prometheus.Observer]
	stage    children[prometheus.Observer]
	sent     children[prometheus.Counter]
	storeErr children[prometheus.Counter]
	flood    children[prometheus.Counter]
	// factsCache counts updates that could use the session's cached facts
	// (an account linked when the update was stored, naming nobody new):
	// hit, or miss (read from the database).
	factsCache children[prometheus.Counter]
	// workCache counts the reads of a focal point's submissions and of
	// the review queue that had a version to check (workcache.go), by
	// list and result: hit, or miss (read from the database).
	workCache children[prometheus.Counter]

	mu     sync.Mutex
	active map[string]time.Time
	pruned time.Time // the last prune by seen
}

// children keeps a metric vector's children by their label values: every
// update asks for the same few (a channel, an outcome, a stage) a dozen
// times, and the vector's own lookup checks and hashes the values each time.
// A vector's children are never deleted here, so one looked up stays the
// vector's.
type children[T any] struct {
	get func(lvs ...string) T
	mu  sync.RWMutex
	m   map[[2]string]T
}

func childrenOf[T any](get func(lvs ...string) T) children[T] {
	return children[T]{get: get, m: map[[2]string]T{}}
}

// WithLabelValues returns the child for one or two label values. It keeps
// no reference to lvs (the vector gets a copy), so a caller's variadic
// slice stays on its stack: a lookup that finds the child allocates
// nothing.
func (c *children[T]) WithLabelValues(lvs ...string) T {
	var k [2]string
	if len(lvs) > len(k) {
		return c.get(append([]string(nil), lvs...)...)
	}
	copy(k[:], lvs)
	c.mu.RLock()
	v, ok := c.m[k]
	c.mu.RUnlock()
	if ok {
		return v
	}
	v = c.get(append([]string(nil), lvs...)...)
	c.mu.Lock()
	c.m[k] = v
	c.mu.Unlock()
	return v
}

// activeWindow is how recently a chat must have written to count as active.
const activeWindow = 30 * time.Minute

// NewMetrics registers the bot's metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	updates := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "dieuphoi_updates_total", Help: "Inbound updates by channel and outcome (handled, duplicate, not_saved, busy, flood, error).",
	}, []string{"channel", "outcome"})
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "dieuphoi_update_seconds", Help: "Time to handle one update, from arrival to replies sent.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"channel"})
	stage := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "dieuphoi_update_stage_seconds",
		Help:    "Where an update's time goes: inbox_wait (taken by the intake to handler start; chat_queue: the part of it queued in the worker behind the chat's earlier updates), begin (session and chat lock), facts, apply (database), save (session), send (replies), finish (done mark), after (notices, substitutes).",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"stage"})
	sent := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "dieuphoi_messages_sent_total", Help: "Outgoing message batches by channel and result (ok, blocked, error).",
	}, []string{"channel", "result"})
	storeErr := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "dieuphoi_store_errors_total", Help: "Errors from the stores (database, sessions).",
	}, []string{"store"})
	flood := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "dieuphoi_flood_dropped_total", Help: "Updates dropped because a chat sent too many too fast.",
	}, []string{"channel"})
	factsCache := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "dieuphoi_facts_cache_total", Help: "Updates of a linked chat naming nobody new, by whether the facts cached with the session were current (hit) or read from the database (miss).",
	}, []string{"result"})
	workCache := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "dieuphoi_work_cache_total", Help: "Reads of a focal point's submissions (list=submissions) and of the review queue (list=review_queue) that had a version to check, by whether the list kept in this process was current (hit) or read from the database (miss).",
	}, []string{"list", "result"})
	m := &Metrics{
		updates: childrenOf(updates.WithLabelValues), latency: childrenOf(latency.WithLabelValues),
		stage: childrenOf(stage.WithLabelValues), sent: childrenOf(sent.WithLabelValues),
		storeErr: childrenOf(storeErr.WithLabelValues), flood: childrenOf(flood.WithLabelValues),
		factsCache: childrenOf(factsCache.WithLabelValues), workCache: childrenOf(workCache.WithLabelValues),
		active: map[string]time.Time{},
	}
	reg.MustRegister(updates, latency, stage, sent, storeErr, flood, factsCache, workCache,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "dieuphoi_active_sessions", Help: "Chats that wrote to this process in the last 30 minutes.",
		}, m.activeCount))
	return m
}

// maxActive bounds the chats counted as active: past it the gauge reads
// maxActive, so that anyone opening chats by the hundred thousand (web
// chat) cannot grow the map without end.
const maxActive = 100000

func (m *Metrics) seen(chat string, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.active[chat]; !ok && len(m.active) >= maxActive {
		// Nobody scrapes /metrics: forget the inactive here instead, at
		// most once a minute (a full map of recent chats would otherwise
		// be walked at every update).
		if now.Sub(m.pruned) >= time.Minute {
			m.pruned = now
			m.prune(now)
		}
		if len(m.active) >= maxActive {
			return
		}
	}
	m.active[chat] = now
}

func (m *Metrics) activeCount() float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.prune(time.Now())
	return float64(len(m.active))
}

func (m *Metrics) prune(now time.Time) {
	cutoff := now.Add(-activeWindow)
	for k, t := range m.active {
		if t.Before(cutoff) {
			delete(m.active, k)
		}
	}
}

// floodGuard slows a chat that sends too much too fast: each chat has a
// bucket of burst tokens refilled at rate per second; an update that finds
// the bucket empty is dropped, and the first dropped one in a row is
// answered with one polite notice.
type floodGuard struct {
	mu      sync.Mutex
	rate    float64
	burst   float64
	buckets map[string]*bucket
}

type bucket struct {
	tokens   float64
	last     time.Time
	notified bool
}

func newFloodGuard(rate, burst float64) *floodGuard {
	return &floodGuard{rate: rate, burst: burst, buckets: map[string]*bucket{}}
}

// allow reports whether chat may send now, and whether to tell the user
// they were slowed (only the first refusal in a row).
func (g *floodGuard) allow(chat string, now time.Time) (ok, notify bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	b := g.buckets[chat]
	if b == nil {
		b = &bucket{tokens: g.burst, last: now}
		g.buckets[chat] = b
		if len(g.buckets) > 100000 {
			g.prune(now)
		}
	}
	b.tokens = min(g.burst, b.tokens+now.Sub(b.last).Seconds()*g.rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		b.notified = false
		return true, false
	}
	notify = !b.notified
	b.notified = true
	return false, notify
}

// prune forgets chats whose buckets are full again.
func (g *floodGuard) prune(now time.Time) {
	for k, b := range g.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*g.rate >= g.burst {
			delete(g.buckets, k)
		}
	}
}

// stages times the stages of one update into the stage histogram.
type stages struct {
	m *Metrics
	t time.Time
}

func (m *Metrics) stages() stages { return stages{m: m, t: time.Now()} }

// mark records the time since the previous mark as stage name.
func (s *stages) mark(name string) {
	now := time.Now()
	s.m.stage.WithLabelValues(name).Observe(now.Sub(s.t).Seconds())
	s.t = now
}

// countWork counts one read of a work list (workCache) that had a version
// to check.
func (m *Metrics) countWork(list, version string, hit bool) {
	if version == "" {
		return
	}
	result := "miss"
	if hit {
		result = "hit"
	}
	m.workCache.WithLabelValues(list, result).Inc()
}
