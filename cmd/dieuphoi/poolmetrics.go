package main

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	goredis "github.com/redis/go-redis/v9"
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
}
