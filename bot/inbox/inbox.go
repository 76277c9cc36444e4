// Package inbox is the durable queue between the platforms and the
// dispatcher. The path of an update reads, one job per file:
//
//	intake.go  an adapter hands an update to the Intake, which appends it
//	           to the inbox (a batch of concurrent updates in one
//	           statement) and only then lets the adapter acknowledge it
//	           (polling offset advanced, webhook answered 200);
//	lease.go   the inbox is partitioned by chat; each partition is
//	           consumed by one process at a time under a lease with a
//	           fencing token, taken over when that process dies;
//	worker.go  the Worker reads its partitions, runs each chat's updates in
//	           arrival order (different chats in parallel) through the
//	           Handler, and deletes what was handled;
//
// then bot.Dispatcher.Handle applies the step (effects, session, update
// mark) and the channel Senders send the replies.
//
// An update is acknowledged only once the store holds it, so a process
// killed after the acknowledgement loses nothing: the partition's next
// holder (the same process restarted, or another) handles it. A handled
// update whose deletion was lost is handled again and dropped by the
// dispatcher as a duplicate (its update key).
package inbox

import (
	"context"
	"hash/fnv"
	"time"

	"github.com/dieuphoi/dieuphoi/bot"
	"github.com/dieuphoi/dieuphoi/storage"
)

// Store keeps the inbox. storage/postgres and storage/sqlite implement it
// (storage/sqlstore); storage/storagetest.RunInbox is its conformance suite.
type Store interface {
	// AppendInbox stores items in one round trip, skipping keys already
	// there, sets the ID and Prev of each new item and returns how many
	// were new. by is the appending process's worker (Holder), "" if none.
	AppendInbox(ctx context.Context, by string, items []storage.InboxItem) (int, error)
	// ReadInbox returns, oldest first, up to limit items after id after
	// that holder may handle at now.
	ReadInbox(ctx context.Context, holder string, after int64, now time.Time, limit int) ([]storage.InboxItem, error)
	// DeleteInbox removes handled items.
	DeleteInbox(ctx context.Context, ids []int64) error
	// InboxHeartbeat records holder alive until now+ttl and returns how
	// many consumers are alive.
	InboxHeartbeat(ctx context.Context, holder string, now time.Time, ttl time.Duration) (int, error)
	// InboxLeases returns every partition lease.
	InboxLeases(ctx context.Context) ([]storage.InboxLease, error)
	// AcquireInboxPart takes a free or lapsed partition; the fence grows.
	AcquireInboxPart(ctx context.Context, part int, holder string, now time.Time, ttl time.Duration) (fence int64, ok bool, err error)
	// RenewInboxParts extends holder's live leases and returns them.
	RenewInboxParts(ctx context.Context, holder string, now time.Time, ttl time.Duration) ([]storage.InboxLease, error)
	// ReleaseInboxPart gives a partition up.
	ReleaseInboxPart(ctx context.Context, part int, holder string) error
	// LeaveInbox releases holder's partitions and forgets it.
	LeaveInbox(ctx context.Context, holder string) error
}

// Listener is a Store that tells of every append, by any process, as it
// commits (PostgreSQL LISTEN/NOTIFY): a worker then reads at once rather
// than polling. ListenInbox calls wake with the appending worker's Holder
// ("" if unknown) at each append and listening(true) while the
// notifications are coming, until ctx ends.
type Listener interface {
	ListenInbox(ctx context.Context, listening func(bool), wake func(by string))
}

// Handler handles one update; *bot.Dispatcher is one. A nil error means
// it is done; bot.ErrNotSaved means it must be tried again.
type Handler interface {
	Handle(ctx context.Context, in bot.Inbound) error
}

// Parts is the number of partitions. Every process must use the same
// number: a chat's partition is where its order is kept.
const Parts = 64

// Partition returns the partition of a chat ("channel:chat id").
func Partition(chat string) int {
	h := fnv.New32a()
	h.Write([]byte(chat))
	return int(h.Sum32() % Parts)
}
