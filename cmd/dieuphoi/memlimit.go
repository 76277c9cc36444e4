package main

import (
	"regexp"
	"runtime/debug"
	"strconv"

	"github.com/prometheus/client_golang/prometheus/collectors"
)

// defaultMemoryLimitMB is the Go runtime's soft memory limit unless
// GOMEMLIMIT or DIEUPHOI_MEMORY_LIMIT_MB says otherwise. Without one the
// heap may grow to twice what is live before a collection (GOGC=100), so
// a burst of work (thousands of conversations open at once, hundreds of
// updates being handled) leaves the process twice as large as it needs.
// Near the limit the collector runs sooner instead (the runtime caps the
// CPU it spends so: if more is really live, the limit is exceeded rather
// than the bot stalled).
const defaultMemoryLimitMB = 100

// setMemoryLimit applies the limit; it returns it in MB, 0 when the
// environment's GOMEMLIMIT is in force or the limit is off ("0").
func setMemoryLimit(getenv func(string) string) int64 {
	if getenv("GOMEMLIMIT") != "" {
		return 0
	}
	mb := int64(defaultMemoryLimitMB)
	if v := getenv("DIEUPHOI_MEMORY_LIMIT_MB"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return 0
		}
		mb = n
	}
	if mb == 0 {
		return 0
	}
	debug.SetMemoryLimit(mb << 20)
	return mb
}

// limitedGCPercent is the collector's GOGC while the soft limit is on and
// GOGC is not set: the limit bounds the process, so between collections the
// heap may grow to three times what is live instead of twice. In the
// benchmark's closed loop (live heap ≈ 30 MB) that halved the collections
// (60 → 32 in a run) and took ≈ 5 % off the bot's CPU per update; with more
// live (10,000 conversations open) the limit, not GOGC, decides anyway.
const limitedGCPercent = 200

// setGCPercent applies limitedGCPercent when limitMB (setMemoryLimit's
// answer) is on and the environment has no GOGC.
func setGCPercent(getenv func(string) string, limitMB int64) {
	if limitMB != 0 && getenv("GOGC") == "" {
		debug.SetGCPercent(limitedGCPercent)
	}
}

// goroutinesStarted adds the runtime's count of goroutines started to the
// Go collector's default metrics (go_sched_goroutines_created_goroutines_total):
// per update, the hand-offs an update costs (the benchmark prints it).
var goroutinesStarted = collectors.GoRuntimeMetricsRule{Matcher: regexp.MustCompile(`^/sched/goroutines-created:goroutines$`)}
