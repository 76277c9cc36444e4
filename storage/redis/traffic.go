package redis

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"

	goredis "github.com/redis/go-redis/v9"
)

// Traffic is what this process asked of Redis: round trips (a pipeline is
// one) and commands, by name; a script run (EVALSHA) by the script's name
// where it is known (Name), else by its digest's first 8 characters. The
// benchmark reads them per update (metrics dieuphoi_redis_roundtrips_total
// and dieuphoi_redis_commands_total).
type Traffic struct {
	trips atomic.Uint64
	names sync.Map // script digest → name
	cmds  sync.Map // name → *atomic.Uint64
	// A script run's counter by its digest, one map per command
	// (evalsha, evalsha_ro): found without building its name.
	runs, runsRO sync.Map
}

// NewTraffic returns counters that know the session store's scripts by
// name.
func NewTraffic() *Traffic {
	c := &Traffic{}
	for name, s := range scripts() {
		c.Name(s, name)
	}
	for name, s := range inboxScripts() {
		c.Name(s, name)
	}
	return c
}

// Name labels script's runs name.
func (c *Traffic) Name(s *goredis.Script, name string) {
	c.names.Store(s.Hash(), name)
	// Runs counted before under its digest stay there.
	c.runs.Delete(s.Hash())
	c.runsRO.Delete(s.Hash())
}

// RoundTrips is the number of round trips so far.
func (c *Traffic) RoundTrips() uint64 { return c.trips.Load() }

// Commands returns the commands so far by name.
func (c *Traffic) Commands() map[string]uint64 {
	out := map[string]uint64{}
	c.cmds.Range(func(k, v any) bool {
		out[k.(string)] = v.(*atomic.Uint64).Load()
		return true
	})
	return out
}

func (c *Traffic) count(cmd goredis.Cmder) {
	name := cmd.Name()
	if name == "evalsha" || name == "evalsha_ro" {
		if args := cmd.Args(); len(args) > 1 {
			if sha, ok := args[1].(string); ok {
				c.run(name, sha, args).Add(1)
				return
			}
		}
	}
	c.counter(name).Add(1)
}

// run is the counter of a script's runs: under the script's name where it
// is known (Name), else its digest's first 8 characters.
func (c *Traffic) run(cmd, sha string, args []any) *atomic.Uint64 {
	m := &c.runs
	if cmd == "evalsha_ro" {
		m = &c.runsRO
	}
	if v, ok := m.Load(sha); ok {
		return v.(*atomic.Uint64)
	}
	label := sha[:min(len(sha), 8)]
	if n, known := c.names.Load(sha); known {
		label = n.(string)
	} else if len(args) > 3 && isRateKey(args[3]) {
		// github.com/go-redis/redis_rate's scripts (their source
		// is the library's own): its keys start with "rate:".
		label = "redis_rate"
	}
	v, _ := m.LoadOrStore(strings.Clone(sha), c.counter(cmd+":"+label))
	return v.(*atomic.Uint64)
}

func (c *Traffic) counter(name string) *atomic.Uint64 {
	v, ok := c.cmds.Load(name)
	if !ok {
		v, _ = c.cmds.LoadOrStore(strings.Clone(name), new(atomic.Uint64))
	}
	return v.(*atomic.Uint64)
}

func isRateKey(k any) bool {
	s, ok := k.(string)
	return ok && strings.HasPrefix(s, "rate:")
}

// Hook is a go-redis hook that counts (Client.AddHook).
func (c *Traffic) Hook() goredis.Hook { return countHook{c} }

type countHook struct{ c *Traffic }

func (h countHook) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (h countHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		h.c.trips.Add(1)
		h.c.count(cmd)
		return next(ctx, cmd)
	}
}

func (h countHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		h.c.trips.Add(1)
		for _, cmd := range cmds {
			h.c.count(cmd)
		}
		return next(ctx, cmds)
	}
}

// scripts are the session store's scripts by name.
func scripts() map[string]*goredis.Script {
	return map[string]*goredis.Script{"begin": beginScript, "save": saveScript, "finish": finishScript,
		"unlock": unlockScript, "refresh": refreshScript, "hit": hitScript}
}
