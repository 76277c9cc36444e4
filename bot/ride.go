package bot

import (
	"context"
	"time"

	"github.com/dieuphoi/dieuphoi/internal/coalesce"
)

// countWithSave starts counting n replies to in's chat (countReplies) and
// returns the ctx to save the session with meanwhile, so that the save
// rides the count's round trip (coalesce.Ride: storage/redis and bot/pace
// share pipelines) instead of each going alone: the count starts once the
// save is queued. Call counted.saved once the save returned (a store that does
// not ride lets the count start then).
func (d *Dispatcher) countWithSave(ctx context.Context, in Inbound, n int) (saveCtx context.Context, counted *replyCount) {
	sd, err := d.sender(in.Key.Channel)
	if _, ok := sd.(Counter); err != nil || !ok || n <= 0 {
		return ctx, nil
	}
	sctx, queued := coalesce.Ride(ctx, saveRideWait)
	return sctx, d.countAfter(ctx, in, n, queued)
}

// saveRideWait bounds how long a session save waits for its replies'
// count to go (countWithSave). The count's budget step is asked as soon as
// the save is queued, so the wait only matters when it is not (an error
// before it): long enough that a loaded machine does not send them apart.
const saveRideWait = 20 * time.Millisecond
