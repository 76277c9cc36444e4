package storage

import (
	"context"
	"log/slog"
	"strings"
	"time"
)

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
	// Prev is set by an append: the id of the same chat's latest earlier
	// item still in the inbox at that moment (0 if none). A process may
	// hand an update it appended straight to its own worker only when it
	// already holds that earlier item: nothing of the chat lies unread
	// before it (bot/inbox).
	Prev int64
	// Channel and User name the sender's account, given to an append.
	Channel, User string
	// Facts is set by an append (and read back with the item): the person
	// the sender's account was linked to in the append's snapshot and that
	// person's facts version (FactsVersion).
	Facts FactsVersion
	// Local, given to an append, says that the appending process's worker
	// takes the item itself (its partition is leased to that worker, or it
	// is pinned to it): no other process need be woken for it. An append
	// of only such items does not notify (PostgreSQL).
	Local bool
}

// FactsVersion names the state of what the flows read about a person —
// their row, their chat links, their answers, their unreachable marks, and
// for staff and focal points the submissions they work on (Work): V
// changes whenever those rows change (migration 0020; "" when unknown).
// Person is "" for an account linked to nobody.
type FactsVersion struct {
	Person string `json:"p,omitempty"`
	V      string `json:"v,omitempty"`
}

// Work returns the parts of V that version a staff member's review queue
// and a focal point's agency's submissions (sqlstore.workVersionSQL), each
// "" when V keeps none: the person is not staff, not a focal point, or V
// is from before these were kept.
func (v FactsVersion) Work() (review, agency string) {
	_, rest, ok := strings.Cut(v.V, "|")
	if !ok {
		return "", ""
	}
	review, agency, _ = strings.Cut(rest, "|")
	agency, _, _ = strings.Cut(agency, ":") // the parts of V after it
	return review, agency
}

// ParseFactsVersion reads "person/version" as the inbox stores it; the
// version never holds a '/', a person id may.
func ParseFactsVersion(s string) FactsVersion {
	i := strings.LastIndexByte(s, '/')
	if i < 0 {
		return FactsVersion{}
	}
	return FactsVersion{Person: s[:i], V: s[i+1:]}
}

// InboxLease is who holds one inbox partition.
type InboxLease struct {
	Part    int
	Holder  string
	Fence   int64
	Expires time.Time
}

// KeepListening runs listen until ctx ends, again after each failure (1 s
// more each time, at most 30 s): an inbox store's ListenInbox. listening
// is told false whenever the notifications stop, so that the worker polls
// meanwhile.
func KeepListening(ctx context.Context, listening func(bool), listen func() error) {
	for attempt := 0; ctx.Err() == nil; attempt++ {
		err := listen()
		listening(false)
		if ctx.Err() != nil {
			return
		}
		slog.Warn("inbox notifications lost; polling until listening again", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(min(time.Duration(attempt+1)*time.Second, 30*time.Second)):
		}
	}
}
