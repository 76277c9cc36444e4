package inbox

import (
	"context"
	"math/rand/v2"
	"time"
)

// partLease is this process's lease on one partition.
type partLease struct {
	fence int64
	// until is when this process stops handing the partition's updates
	// out unless renewed: a margin before the store's expiry, so that the
	// next holder never starts while this one still starts updates.
	until    time.Time
	draining bool // being given up: nothing new is read from it
	// scanned is set once a read from the start of the inbox included the
	// partition: before that, reading after the cursor would skip its
	// earlier updates.
	scanned  bool
	inFlight int // its updates read and not yet finished
}

// tickLeases renews this process's leases, takes its fair share of the
// partitions (Parts divided by the live consumers) among those free or
// lapsed, and gives up any above the share once their updates in flight
// are finished.
func (w *Worker) tickLeases(ctx context.Context) {
	start := time.Now()
	live, err := w.store.InboxHeartbeat(ctx, w.holder, start, w.ttl)
	if err != nil {
		w.log.Warn("inbox: heartbeat failed", "err", err)
		return
	}
	renewed, err := w.store.RenewInboxParts(ctx, w.holder, start, w.ttl)
	if err != nil {
		w.log.Warn("inbox: renewing leases failed", "err", err)
		return
	}
	until := start.Add(w.ttl - w.ttl/4)
	w.mu.Lock()
	kept := make(map[int]bool, len(renewed))
	for _, l := range renewed {
		if pl := w.leases[l.Part]; pl != nil && pl.fence == l.Fence {
			pl.until = until
			kept[l.Part] = true
		}
	}
	for p := range w.leases {
		if !kept[p] {
			w.log.Warn("inbox: lost a partition lease", "part", p)
			delete(w.leases, p)
		}
	}
	held := 0
	for _, pl := range w.leases {
		if !pl.draining {
			held++
		}
	}
	fair := (Parts + max(live, 1) - 1) / max(live, 1)
	var release []int
	if held > fair {
		// Give up the highest-numbered partitions beyond the share.
		for p := Parts - 1; p >= 0 && held > fair; p-- {
			if pl := w.leases[p]; pl != nil && !pl.draining {
				pl.draining = true
				held--
			}
		}
	}
	for p, pl := range w.leases {
		if pl.draining && pl.inFlight == 0 {
			release = append(release, p)
			delete(w.leases, p)
		}
	}
	w.mu.Unlock()
	for _, p := range release {
		if err := w.store.ReleaseInboxPart(ctx, p, w.holder); err != nil {
			w.log.Warn("inbox: releasing a partition failed", "part", p, "err", err)
		}
	}
	if held >= fair {
		return
	}
	all, err := w.store.InboxLeases(ctx)
	if err != nil {
		w.log.Warn("inbox: reading leases failed", "err", err)
		return
	}
	now := time.Now()
	taken := make(map[int]bool, len(all))
	for _, l := range all {
		if l.Expires.After(now) {
			taken[l.Part] = true
		}
	}
	// Random order: processes starting together try different partitions.
	acquired := false
	for _, p := range rand.Perm(Parts) {
		if held >= fair {
			break
		}
		if taken[p] {
			continue
		}
		t0 := time.Now()
		fence, ok, err := w.store.AcquireInboxPart(ctx, p, w.holder, t0, w.ttl)
		if err != nil {
			w.log.Warn("inbox: taking a partition failed", "part", p, "err", err)
			return
		}
		if !ok {
			continue
		}
		w.mu.Lock()
		w.leases[p] = &partLease{fence: fence, until: t0.Add(w.ttl - w.ttl/4)}
		w.mu.Unlock()
		held++
		acquired = true
	}
	if acquired {
		w.mu.Lock()
		w.rescan = true
		w.mu.Unlock()
		w.Wake()
	}
}

// mayHandle reports whether an item read with fence from partition part
// may be handed out now: pinned to this process (fence 0), or its
// partition still leased to this process under the same fence.
func (w *Worker) mayHandleLocked(part int, fence int64) bool {
	if fence == 0 {
		return true
	}
	pl := w.leases[part]
	return pl != nil && pl.fence == fence && time.Now().Before(pl.until)
}
