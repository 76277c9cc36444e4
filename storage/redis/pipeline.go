package redis

import (
	"context"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/dieuphoi/dieuphoi/internal/coalesce"
)

// A turn's scripts (begin, save, finish, unlock) of the updates handled at
// the same moment go to Redis in one pipeline: one write and one read for
// the lot instead of a round trip each, which on a busy machine was most
// of the session store's cost (system calls on both sides). One pipeline
// out at a time: Redis runs one command at a time anyway, and while one is
// out the next gathers. Four at once (before 2026-12-03) cost 0.45 round
// trips per update by webhook against 0.19, and ≈ 10 % more of Redis's
// CPU, for no lower latency (the benchmark's 500/s run: p99 6.1 against
// 5.4 ms).
const (
	pipeWorkers = 1   // pipelines out at once
	pipeMax     = 256 // commands in one pipeline
)

// scriptCall is one command in a pipeline: one of the store's scripts
// (script, and raw its EVALSHA as evalCmd builds it), any script by its
// digest (Scripts: script nil, and NOSCRIPT goes back to the caller), or
// another command (the throttle's MGET).
type scriptCall struct {
	script *goredis.Script
	raw    []any
}

// evalCmd is script's EVALSHA with keys and args, as the pipeline sends it
// (scriptCall.raw). The session turn's calls build it themselves from
// their keys boxed once per lease: go-redis's EvalSha boxes the digest and
// every key anew and copies keys and args into a slice of its own, seven
// allocations a script run that this saves.
func evalCmd(sha any, nkeys int, keysAndArgs ...any) []any {
	return append(evalHead(sha, nkeys, len(keysAndArgs)), keysAndArgs...)
}

// evalHead is the start of an EVALSHA command (name, digest, key count),
// with room for more keys and args after it.
func evalHead(sha any, nkeys, more int) []any {
	return append(make([]any, 0, 3+more), "evalsha", sha, nkeys)
}

func newPipeliner(rdb *goredis.Client) *coalesce.Group[scriptCall, *goredis.Cmd] {
	return coalesce.New(pipeWorkers, pipeMax, func(ctx context.Context, calls []scriptCall) ([]*goredis.Cmd, []error) {
		cmds := make([]*goredis.Cmd, len(calls))
		errs := make([]error, len(calls))
		// The pipeline's own error is each command's; they are read below.
		_, _ = rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
			for i, c := range calls {
				cmds[i] = p.Do(ctx, c.raw...)
			}
			return nil
		})
		for i, c := range calls {
			if err := cmds[i].Err(); c.script != nil && err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT") {
				// Redis restarted (or SCRIPT FLUSH) since the script was
				// loaded: Run sends its source and loads it again.
				keys, args := splitEval(c.raw)
				cmds[i] = c.script.Run(ctx, rdb, keys, args...)
			}
			errs[i] = cmds[i].Err()
		}
		return cmds, errs
	})
}

// splitEval is the keys and args of an EVALSHA that evalCmd built.
func splitEval(raw []any) ([]string, []any) {
	n, _ := raw[2].(int)
	keys := make([]string, n)
	for i := range keys {
		keys[i], _ = raw[3+i].(string)
	}
	return keys, raw[3+n:]
}

// finishWait bounds how long a turn's Finish (done mark and unlock) waits
// for a pipeline going out for other calls before it goes on its own. The
// update's replies are out by then; Finish still returns only once both
// are written, so what a crash leaves is as before (the worker deletes the
// update from the inbox after Finish), and only the chat's next update, if
// already queued behind it, waits that much longer.
const finishWait = 5 * time.Millisecond

// evalLater is eval for a call nobody waits on at once: it rides the next
// pipeline going out for other calls, or goes on its own after finishWait.
func (s *Store) evalLater(ctx context.Context, script *goredis.Script, raw []any) *goredis.Cmd {
	cmd, err := s.pipe.Later(ctx, scriptCall{script: script, raw: raw}, s.finishWait)
	if cmd == nil || (err != nil && cmd.Err() == nil) {
		return goredis.NewCmdResult(nil, err)
	}
	return cmd
}

// eval runs script (raw: its EVALSHA, evalCmd) in the next pipeline; the
// *Cmd carries its reply (nil with the error when the call was given up
// on).
//
// A ctx marked by coalesce.Ride makes it ride the next pipeline that goes
// for another call (at most the wait given there).
func (s *Store) eval(ctx context.Context, script *goredis.Script, raw []any) *goredis.Cmd {
	cmd, err := s.pipe.Call(ctx, scriptCall{script: script, raw: raw})
	if cmd == nil || (err != nil && cmd.Err() == nil) {
		return goredis.NewCmdResult(nil, err)
	}
	return cmd
}

// Scripts is a goredis.Scripter (and what github.com/go-redis/redis_rate
// asks of a client) whose script runs (EVALSHA) made at the same moment go
// out together in pipelines, the same as the session turns': the sending
// pace's per-chat limits (redis_rate) and overall budget of the updates
// handled together then share one round trip, and with a ctx marked by
// coalesce.Ride a call waits for the next pipeline another call makes (an
// update's reply count rides with its session save and budget step). A script Redis does not know yet
// answers NOSCRIPT, and goredis.Script.Run sends its source (EVAL, at
// once). The other commands go straight to the client.
type Scripts struct{ s *Store }

// Scripts returns the store's pipelined Scripter.
func (s *Store) Scripts() Scripts { return Scripts{s} }

func (x Scripts) EvalSha(ctx context.Context, sha string, keys []string, args ...any) *goredis.Cmd {
	// The command in one slice: go-redis's EvalSha copies keys and args
	// into a slice of its own.
	raw := evalHead(sha, len(keys), len(keys)+len(args))
	for _, k := range keys {
		raw = append(raw, k)
	}
	raw = append(raw, args...)
	cmd, err := x.s.pipe.Call(ctx, scriptCall{raw: raw})
	if cmd == nil || (err != nil && cmd.Err() == nil) {
		return goredis.NewCmdResult(nil, err)
	}
	return cmd
}

// EvalShaRO runs in the pipeline like EvalSha (read-only is only a hint
// for replicas, which this client does not read from).
func (x Scripts) EvalShaRO(ctx context.Context, sha string, keys []string, args ...any) *goredis.Cmd {
	return x.EvalSha(ctx, sha, keys, args...)
}

func (x Scripts) Eval(ctx context.Context, script string, keys []string, args ...any) *goredis.Cmd {
	return x.s.rdb.Eval(ctx, script, keys, args...)
}

func (x Scripts) EvalRO(ctx context.Context, script string, keys []string, args ...any) *goredis.Cmd {
	return x.s.rdb.EvalRO(ctx, script, keys, args...)
}

func (x Scripts) ScriptExists(ctx context.Context, hashes ...string) *goredis.BoolSliceCmd {
	return x.s.rdb.ScriptExists(ctx, hashes...)
}

func (x Scripts) ScriptLoad(ctx context.Context, script string) *goredis.StringCmd {
	return x.s.rdb.ScriptLoad(ctx, script)
}

func (x Scripts) Del(ctx context.Context, keys ...string) *goredis.IntCmd {
	return x.s.rdb.Del(ctx, keys...)
}

// Unpiped is the plain client, for scripts whose runs are batched
// already (bot/pace's budget).
func (x Scripts) Unpiped() *goredis.Client { return x.s.rdb }

func (x Scripts) Set(ctx context.Context, key string, value any, expiration time.Duration) *goredis.StatusCmd {
	return x.s.rdb.Set(ctx, key, value, expiration)
}
