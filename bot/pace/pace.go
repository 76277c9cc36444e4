// Package pace keeps the messages to one platform within its limits for
// all the bot's processes together: at most PerSecond in any second in
// all, one a second to a chat, PerGroupPerMinute to a group. Redis holds
// the shared state, the embedded default (one process) keeps it in memory.
//
// The overall limit is checked at the moment each request goes out
// (Admit, called by the platform client right before it), against the
// sends themselves (budget.go: a sliding-window log), so that no second
// the platform may count ever gets more than the limit, however late a
// sender wakes. The per-chat and per-group limits are GCRA
// (github.com/go-redis/redis_rate in Redis, golang.org/x/time/rate in
// memory) with a margin, checked when the message is queued.
//
// Messages that can wait (reminders, broadcasts) Wait for their turn,
// spread one interval apart. Replies to a person who just wrote Take from
// the same budget and go first: at most replyWait behind the next opening,
// so that a broadcast running at the same time slows down instead of
// running into a 429, and a staff member in its audience is not sent a
// broadcast message in the same second as a reply. A 429 anywhere Pauses
// every process until its retry_after has passed.
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

// margin stretches the per-chat and per-group periods for jitter: they
// are checked when a message is queued, not when it goes out.
const margin = 1.025

// spacing stretches the interval between waiting messages a little beyond
// a second over PerSecond: the window (checked at the send) counts each
// send from its admission to one second after its answer, so a schedule
// at exactly the limit would meet a full window at every slot. 1 % keeps a
// broadcast at 99 % of the limit at most.
const spacing = 1.01

// replyBurst is how many replies to one chat are counted at once, ahead
// of the chat's budget of one a second: a conversation's short burst,
// which Telegram lets a private chat have. A waiting message (a broadcast)
// to that chat waits until the burst is paid off.
const replyBurst = 5

// horizon is how far ahead a waiting message books its slot (slots): far
// enough that several senders keep every slot used, near enough that the
// spacing follows a reply or a pause at once.
const horizon = 6

// replyWait is how long replies wait for room in the overall budget
// before they may go out anyway — only when replies alone fill the window
// (more than the platform allows: a load test), counted, the platform's
// 429 being the backstop. Beside a broadcast replies go before waiting
// messages and wait for their opening however long it takes.
const replyWait = 300 * time.Millisecond

// ticketTTL is how long a message admitted ahead (a step's replies while
// its session is saved, a broadcast message between Wait and its send)
// keeps its admission; one not sent by then is given back.
const ticketTTL = 5 * time.Second

// pendingHold is how long an admitted send counts before its answer is
// known: longer than a request may take (the client gives a document 60 s). A
// process killed mid-send leaves its few entries counted that long.
const pendingHold = 65 * time.Second

// settleDelay is how long a send's answer may wait to be told to Redis
// with the next request instead of a round trip of its own: an entry not
// settled counts as pending, which matters only to a wait computed from it
// (the oldest entries, a second old, are settled long before).
const settleDelay = 200 * time.Millisecond

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
	// Wait returns when one message to chat may go out, admitted in the
	// overall budget for its send (Admit); *BusyError at once when the
	// chat itself may not get one for longer than maxChatWait; another
	// error only when ctx ended or the shared state is unreachable.
	Wait(ctx context.Context, chat string) error
	// Take counts n replies to chat against the budget and admits them
	// for their sends: it waits for room in the overall budget (a pause
	// is waited out), at most replyWait, never for the chat's own budget.
	Take(ctx context.Context, chat string, n int) error
	// Admit is called right before each request that sends a message to
	// chat: it returns at once with a message admitted ahead (Wait,
	// Take), or when one may go out now (a reply when ctx is marked by
	// Sender, else a waiting message), and the func to call when the
	// platform answered.
	Admit(ctx context.Context, chat string) (done func(), err error)
	// Pause stops every process's messages until until (a 429).
	Pause(ctx context.Context, until time.Time) error
}

type replyKey struct{}

// asReply marks ctx: its sends are replies (or notices) to a person.
func asReply(ctx context.Context) context.Context { return context.WithValue(ctx, replyKey{}, true) }

func isReply(ctx context.Context) bool { v, _ := ctx.Value(replyKey{}).(bool); return v }

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
	// platform's own 429 is the backstop. Each request admits itself
	// (Admit) as a reply.
	return s.Next.Send(asReply(ctx), chatID, replies)
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
