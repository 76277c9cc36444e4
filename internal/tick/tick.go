// Package tick runs periodic background work (pruning, lease renewal,
// cached gauges, token refresh) the same way everywhere.
package tick

import (
	"context"
	"time"
)

// Every calls fn every interval until ctx ends. It does not call fn at
// once: callers that want a first run do it themselves, so that they see
// its result before going on.
func Every(ctx context.Context, interval time.Duration, fn func(context.Context)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn(ctx)
		}
	}
}
