package storage

import "time"

// InboxItem is one update in the inbox (bot/inbox): stored before the
// platform is told it arrived, deleted once handled.
type InboxItem struct {
	ID      int64  // the store's order of arrival
	Key     string // "channel:update id": a redelivery is dropped
	Part    int    // the chat's partition
	Chat    string // the chat, "channel:chat id"
	Owner   string // the process that must handle it while alive; "" any holder of Part
	Payload []byte // the update, JSON
	Created time.Time
	// Fence is the partition lease's fencing token when the item was read
	// (0 for an item read because of Owner).
	Fence int64
}

// InboxLease is who holds one inbox partition.
type InboxLease struct {
	Part    int
	Holder  string
	Fence   int64
	Expires time.Time
}
