package main

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	goredis "github.com/redis/go-redis/v9"

	"github.com/dieuphoi/dieuphoi/bot/pace"
	"github.com/dieuphoi/dieuphoi/storage/redis"
)

// registerPoolMetrics exports how often an update's work waited for a
// connection of the PostgreSQL and Redis pools, and how long in all: a
// pool too small for the work shows here as queueing (the benchmark
// reports it per update).
func registerPoolMetrics(reg prometheus.Registerer, st, sessions any) {
	if p, ok := st.(interface{ Pool() *pgxpool.Pool }); ok {
		pool := p.Pool()
		reg.MustRegister(
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "dieuphoi_db_pool_waits_total",
				Help: "PostgreSQL connections asked for when none was idle (the caller waited)."},
				func() float64 { return float64(pool.Stat().EmptyAcquireCount()) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "dieuphoi_db_pool_wait_seconds_total",
				Help: "Time spent waiting for a PostgreSQL connection when none was idle."},
				func() float64 { return pool.Stat().EmptyAcquireWaitTime().Seconds() }),
		)
	}
	if c, ok := sessions.(interface{ Client() *goredis.Client }); ok {
		rdb := c.Client()
		reg.MustRegister(
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "dieuphoi_redis_pool_waits_total",
				Help: "Redis connections waited for (none idle)."},
				func() float64 { return float64(rdb.PoolStats().WaitCount) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "dieuphoi_redis_pool_wait_seconds_total",
				Help: "Time spent waiting for a Redis connection."},
				func() float64 { return float64(rdb.PoolStats().WaitDurationNs) / 1e9 }),
		)
	}
	if t, ok := sessions.(interface{ Traffic() *redis.Traffic }); ok {
		tr := t.Traffic()
		for name, s := range pace.Scripts() {
			tr.Name(s, name)
		}
		reg.MustRegister(
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "dieuphoi_redis_roundtrips_total",
				Help: "Round trips to Redis (a pipeline counts once)."},
				func() float64 { return float64(tr.RoundTrips()) }),
			redisCommands{tr},
		)
	}
}

// redisCommands exports the commands sent to Redis by name (a script run
// by the script's name), read from the counters at each scrape.
type redisCommands struct{ tr *redis.Traffic }

var redisCommandsDesc = prometheus.NewDesc("dieuphoi_redis_commands_total",
	"Commands sent to Redis, by command (evalsha:<script>).", []string{"command"}, nil)

func (c redisCommands) Describe(ch chan<- *prometheus.Desc) { ch <- redisCommandsDesc }

func (c redisCommands) Collect(ch chan<- prometheus.Metric) {
	for name, n := range c.tr.Commands() {
		ch <- prometheus.MustNewConstMetric(redisCommandsDesc, prometheus.CounterValue, float64(n), name)
	}
}
