// Package pace keeps the messages to one platform within its limits for
// all the bot's processes together: at most PerSecond in all, one per
// second to a chat, PerGroupPerMinute to a group. Redis holds the shared
// state (github.com/go-redis/redis_rate, GCRA); the embedded default, one
// process, keeps it in memory (golang.org/x/time/rate).
//
// Messages that can wait (reminders, broadcasts) Wait for their slot.
// Replies to a person who just wrote never wait: they Take from the same
// budget (up to one second ahead), so that a broadcast running at the same
// time slows down instead of running into a 429, and a staff member in its
// audience who is talking to the bot is not sent a broadcast message in
// the same second as a reply. A 429 anywhere Pauses every process until
// its retry_after has passed.
package pace

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/dieuphoi/dieuphoi/bot"
	"github.com/dieuphoi/dieuphoi/flows"
)

// Limits are a platform's sending limits.
type Limits struct {
	PerSecond         int // all messages; Telegram: 30
	PerChatPerSecond  int // to one chat; Telegram: 1
	PerGroupPerMinute int // to one group chat; Telegram: 20
}

// Telegram's documented limits for bots.
var Telegram = Limits{PerSecond: 30, PerChatPerSecond: 1, PerGroupPerMinute: 20}

// margin stretches each period for jitter: messages let out one interval
// apart may arrive a little closer (up to 25 ms over a second's 30
// messages). 2.5 % keeps a broadcast at 97.6 % of the limit.
const margin = 1.025

// replyBurst is how many replies to one chat are counted at once, ahead
// of the chat's budget of one a second: a conversation's short burst,
// which Telegram lets a private chat have. A waiting message (a broadcast)
// to that chat waits until the burst is paid off.
const replyBurst = 5

// horizon is how far ahead a waiting message books its slot in the
// overall budget: far enough that the booking round trip never costs a
// slot (the first tick is not wasted), near enough that a reply arriving
// during a broadcast gets the next slot after at most this wait.
const horizon = 6 // slots, about 200 ms at 30 a second

// replyWait is the longest a reply waits for its slot in the overall
// budget. While a broadcast runs the next free slot is at most horizon
// away, so the reply is sent at its own slot and the platform sees no
// more than its limit; beyond that the budget is already overbooked by
// replies alone (more than the platform allows, a load test), and the
// reply goes out at once, the platform's 429 being the backstop.
const replyWait = 300 * time.Millisecond

// maxLate is how late a waiting message may wake for its slot without
// paying for it. One woken later (a busy machine) goes out at once but
// books as many more slots as it is late: sent late, it lands among the
// messages of the next slots, and the slots after them move on by that
// much, so no second gets more than the limit; the slots paid cost little
// next to a 429, which costs a whole second of every process's messages.
const maxLate = 10 * time.Millisecond

// lateSlots is how many slots a message woken late by late pays for.
func lateSlots(late, interval time.Duration) int {
	if late <= maxLate {
		return 0
	}
	return int((late + interval - 1) / interval)
}

// maxChatWait is the longest Wait holds a message for its chat's budget;
// a chat busier than that (a group's 20 a minute, a chat that just got a
// reply) gets BusyError, so that the caller sends other chats' messages
// meanwhile instead of holding a sender.
const maxChatWait = 250 * time.Millisecond

// BusyError is Wait's answer for a chat that may not get a message for
// Wait yet; nothing was booked.
type BusyError struct{ Wait time.Duration }

func (e *BusyError) Error() string { return fmt.Sprintf("pace: chat busy for %v", e.Wait) }

// Limiter paces one platform's messages.
type Limiter interface {
	// Wait returns when one message to chat may go out, after any pause;
	// *BusyError at once when the chat itself may not get one for longer
	// than maxChatWait; another error only when ctx ended or the shared
	// state is unreachable.
	Wait(ctx context.Context, chat string) error
	// Take counts n replies to chat against the budget: it waits for
	// their slot in the overall budget when that is at most replyWait
	// away (a pause is waited out), never for the chat's own budget.
	Take(ctx context.Context, chat string, n int) error
	// Pause stops every process's messages until until (a 429).
	Pause(ctx context.Context, until time.Time) error
}

// slotWait is how long replies booked from first to last (their slots'
// offsets from now) wait before going out, one after the other: until the
// last slot, so that none goes out ahead of its slot (next to a
// broadcast's messages of the same second), when that is at most
// replyWait away; nothing when even the first is further (the budget is
// overbooked by replies alone: more than the platform allows, a load
// test), or when the last is within half an interval.
func slotWait(first, last, interval time.Duration) time.Duration {
	if first > replyWait || last <= interval/2 {
		return 0
	}
	return min(last, replyWait)
}

// group reports a Telegram group chat (negative ids).
func group(chat string) bool { return strings.HasPrefix(chat, "-") }

func period(d time.Duration) time.Duration { return time.Duration(float64(d) * margin) }

// Sender is a bot.Sender whose replies take from the limiter's budget.
type Sender struct {
	Next    bot.Sender
	Limiter Limiter
}

// Send implements bot.Sender.
func (s Sender) Send(ctx context.Context, chatID string, replies []flows.Reply) error {
	if !bot.IsCounted(ctx) {
		if err := s.Count(ctx, chatID, max(len(replies), 1)); err != nil {
			return err
		}
	}
	// A limiter that cannot be reached does not stop the replies: the
	// platform's own 429 is the backstop.
	return s.Next.Send(ctx, chatID, replies)
}

// Count implements bot.Counter: n replies to chatID are taken from the
// budget. Only an ended ctx is an error.
func (s Sender) Count(ctx context.Context, chatID string, n int) error {
	if err := s.Limiter.Take(ctx, chatID, n); err != nil && ctx.Err() != nil {
		return err
	}
	return nil
}

// Fetch passes through to the wrapped sender's file fetching, when it has
// one.
func (s Sender) Fetch(ctx context.Context, f flows.FileRef, maxBytes int64) ([]byte, error) {
	if fe, ok := s.Next.(bot.Fetcher); ok {
		return fe.Fetch(ctx, f, maxBytes)
	}
	return nil, bot.ErrRefused
}
