package redis

import (
	"context"
	"strings"

	goredis "github.com/redis/go-redis/v9"

	"github.com/dieuphoi/dieuphoi/internal/coalesce"
)

// A turn's scripts (begin, save, finish, unlock) of the updates handled at
// the same moment go to Redis in one pipeline: one write and one read for
// the lot instead of a round trip each, which on a busy machine was most
// of the session store's cost (system calls on both sides).
const (
	pipeWorkers = 4   // pipelines out at once
	pipeMax     = 256 // commands in one pipeline
)

// scriptCall is one script evaluation in a pipeline.
type scriptCall struct {
	script *goredis.Script
	keys   []string
	args   []any
}

func newPipeliner(rdb *goredis.Client) *coalesce.Group[scriptCall, *goredis.Cmd] {
	return coalesce.New(pipeWorkers, pipeMax, func(ctx context.Context, calls []scriptCall) ([]*goredis.Cmd, []error) {
		cmds := make([]*goredis.Cmd, len(calls))
		errs := make([]error, len(calls))
		// The pipeline's own error is each command's; they are read below.
		_, _ = rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
			for i, c := range calls {
				cmds[i] = c.script.EvalSha(ctx, p, c.keys, c.args...)
			}
			return nil
		})
		for i, c := range calls {
			if err := cmds[i].Err(); err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT") {
				// Redis restarted (or SCRIPT FLUSH) since the script was
				// loaded: Run sends its source and loads it again.
				cmds[i] = c.script.Run(ctx, rdb, c.keys, c.args...)
			}
			errs[i] = cmds[i].Err()
		}
		return cmds, errs
	})
}

// eval runs script in the next pipeline; the *Cmd carries its reply (nil
// with the error when the call was given up on).
func (s *Store) eval(ctx context.Context, script *goredis.Script, keys []string, args ...any) *goredis.Cmd {
	cmd, err := s.pipe.Do(ctx, scriptCall{script: script, keys: keys, args: args})
	if cmd == nil || (err != nil && cmd.Err() == nil) {
		return goredis.NewCmdResult(nil, err)
	}
	return cmd
}
