package scheduler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/dieuphoi/dieuphoi/bot"
	"github.com/dieuphoi/dieuphoi/bot/pace"
	"github.com/dieuphoi/dieuphoi/bot/telegram"
	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
	"github.com/dieuphoi/dieuphoi/storage/sqlstore"
)

// ErrUnreachable is what a channel's Sender wraps when the platform refused
// the recipient for good (as telegram.ErrBlocked does for Telegram): the
// row is marked unreachable and not retried.
var ErrUnreachable = bot.ErrUnreachable

// Stats reports the outbox: depth per status and the oldest waiting row.
func (s *Scheduler) Stats(ctx context.Context) (sqlstore.OutboxStats, error) {
	return s.c.Outbox.OutboxStats(ctx)
}

func (s *Scheduler) senderLoop(ctx context.Context) {
	tick := time.NewTicker(s.c.PollInterval)
	defer tick.Stop()
	for {
		if _, err := s.Drain(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("sending the outbox", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-s.wake:
		}
	}
}

// Drain sends the outbox rows due now, at each channel's pace, until none is
// due, and returns how many it sent. Rows that failed and wait for a retry
// stay for a later Drain. When ctx ends, the rows claimed but not sent are
// given back at once; a send in flight at that moment may have gone out and
// is sent again by the next Drain (at most once more).
//
// The next batch is claimed as soon as the last of the current one has
// started (at most MaxInFlight sends in flight in all), not when it has
// finished: the claim's round trip would otherwise leave the pace's next
// slots unused at every batch.
func (s *Scheduler) Drain(ctx context.Context) (int, error) {
	var wg sync.WaitGroup
	var sent atomic.Int64
	sem := make(chan struct{}, s.c.MaxInFlight)
	defer wg.Wait()
	for ctx.Err() == nil {
		items, err := s.c.Outbox.Claim(ctx, s.c.WorkerID, s.c.Now(), s.c.Batch, s.c.ClaimLease)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			wg.Wait()
			return int(sent.Load()), err
		}
		if len(items) == 0 {
			// Rows in flight may end in a retry due at once: look again
			// when they are done.
			wg.Wait()
			if items, err = s.c.Outbox.Claim(ctx, s.c.WorkerID, s.c.Now(), s.c.Batch, s.c.ClaimLease); err != nil || len(items) == 0 {
				return int(sent.Load()), err
			}
		}
		s.sendBatch(ctx, items, sem, &wg, &sent)
	}
	wg.Wait()
	return int(sent.Load()), ctx.Err()
}

// sendBatch starts sending claimed rows in order, each at a slot its
// channel's pacer gives it; sem bounds the sends waiting for their slot or
// sending, wg and sent follow them.
func (s *Scheduler) sendBatch(ctx context.Context, items []sqlstore.OutboxItem, sem chan struct{}, wg *sync.WaitGroup, sent *atomic.Int64) {
	todo := items
	for len(todo) > 0 {
		var later []sqlstore.OutboxItem
		var held map[string]bool // chats with a row in later
		wait := time.Duration(0)
		for _, it := range todo {
			chat := string(it.Channel) + ":" + it.ChatID
			if held[chat] {
				// Its chat's earlier row waits: this one goes after it,
				// though the pace would let it go now.
				later = append(later, it)
				continue
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
			}
			if ctx.Err() != nil {
				// Give back what was not started.
				s.giveBack(ctx, it, "stopped before sending")
				continue
			}
			msgs := 1
			var replies []flows.Reply
			if json.Unmarshal(it.Payload, &replies) == nil && len(replies) > 1 {
				msgs = len(replies)
			}
			slot, ready := time.Duration(0), true
			if s.c.Pace[it.Channel] == nil {
				slot, ready = s.pacer(it.Channel).reserve(chat, msgs)
			}
			if !ready {
				// This chat had a message moments ago: others go first.
				<-sem
				later = append(later, it)
				if held == nil {
					held = map[string]bool{}
				}
				held[chat] = true
				if wait == 0 || slot < wait {
					wait = slot
				}
				continue
			}
			// Taken here, in the rows' order, so that one chat's rows go
			// out in the order they were queued even when an earlier one's
			// send is slow.
			prev, done := s.turns.take(chat)
			wg.Add(1)
			go func(it sqlstore.OutboxItem, at time.Time) {
				defer wg.Done()
				defer done()
				sl := &sendSlot{s: s, sem: sem, held: true}
				defer func() {
					if sl.held {
						<-sem
					}
				}()
				if !sl.after(ctx, prev) {
					s.giveBackLater(ctx, it, "waiting for the chat's previous message")
					return
				}
				if s.deliver(ctx, it, at, sl) {
					sent.Add(1)
				}
			}(it, time.Now().Add(slot))
		}
		todo = later
		if len(todo) > 0 && !sleep(ctx, wait) {
			for _, it := range todo {
				s.giveBack(ctx, it, "stopped before sending")
			}
			todo = nil
		}
	}
}

// busyHold is the longest a claimed row whose chat is busy (a group's 20
// a minute, a chat that just got replies) waits in this process for its
// chat's turn, all its waits together. Given back to the outbox it would be due behind every row
// queued before it — a broadcast's other rows — and a group's messages
// would pile up at the broadcast's end, each seconds after the last, the
// rest of the budget unused meanwhile. Far shorter than the claim's lease.
const busyHold = 5 * time.Second

// sendSlot is one send's place among the MaxInFlight: a row waiting for
// its busy chat gives it up meanwhile (away), so that other chats'
// messages go on.
type sendSlot struct {
	s      *Scheduler
	sem    chan struct{}
	held   bool
	waited time.Duration // away so far
}

// away waits d without the slot and takes it again. It reports false
// (sl.held tells whether the slot is still held) when ctx ended, when the
// row would wait more than busyHold in all (a group with many rows: the
// claim's lease must not run out), or when more rows than 4 × MaxInFlight
// already wait so (memory stays bounded); the row then goes back to the
// outbox.
func (sl *sendSlot) away(ctx context.Context, d time.Duration) bool {
	if sl == nil || sl.waited+d > busyHold {
		return false
	}
	sl.waited += d
	return sl.without(ctx, func() bool { return sleep(ctx, d) })
}

// after waits, without the slot, until prev is closed: the chat's previous
// row in this process is done. It reports false as away does.
func (sl *sendSlot) after(ctx context.Context, prev <-chan struct{}) bool {
	if prev == nil {
		return true
	}
	select {
	case <-prev:
		return true
	default:
	}
	return sl.without(ctx, func() bool {
		select {
		case <-prev:
			return true
		case <-ctx.Done():
			return false
		}
	})
}

// without gives up the slot while wait runs and takes it again; at most 4 ×
// MaxInFlight rows wait so at once.
func (sl *sendSlot) without(ctx context.Context, wait func() bool) bool {
	if sl.s.away.Add(1) > int64(4*sl.s.c.MaxInFlight) {
		sl.s.away.Add(-1)
		return false
	}
	defer sl.s.away.Add(-1)
	<-sl.sem
	sl.held = false
	if !wait() {
		return false
	}
	select {
	case sl.sem <- struct{}{}:
		sl.held = true
		return true
	case <-ctx.Done():
		return false
	}
}

// chatTurns keeps one chat's sends in this process in their order: each
// waits for the one taken before it.
type chatTurns struct {
	mu   sync.Mutex
	last map[string]chan struct{} // the latest send's done, while it runs
}

// take returns what the new send to chat waits for (nil: nothing) and done,
// to call when it is over.
func (c *chatTurns) take(chat string) (prev <-chan struct{}, done func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.last == nil {
		c.last = map[string]chan struct{}{}
	}
	if p, ok := c.last[chat]; ok {
		prev = p
	}
	mine := make(chan struct{})
	c.last[chat] = mine
	return prev, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		close(mine)
		// The map holds only chats with a send running.
		if c.last[chat] == mine {
			delete(c.last, chat)
		}
	}
}

// markCtx survives the sender's cancellation, so that a stopping process
// still records what it did.
func markCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
}

func (s *Scheduler) giveBack(ctx context.Context, it sqlstore.OutboxItem, note string) {
	s.release(ctx, it, s.c.Now(), note)
}

// giveBackLater gives a row back due a moment from now, so that a sender
// with too many rows waiting does not claim it again at once.
func (s *Scheduler) giveBackLater(ctx context.Context, it sqlstore.OutboxItem, note string) {
	s.release(ctx, it, s.c.Now().Add(time.Second), note)
}

func (s *Scheduler) release(ctx context.Context, it sqlstore.OutboxItem, next time.Time, note string) {
	mctx, cancel := markCtx(ctx)
	defer cancel()
	if err := s.c.Outbox.Release(mctx, it.ID, s.c.WorkerID, next, note); err != nil {
		s.log.Warn("give back outbox row", "key", it.Key, "err", err)
	}
}

func (s *Scheduler) pausedUntil(ch domain.Channel) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.paused[ch]
}

func (s *Scheduler) pause(ch domain.Channel, until time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if until.After(s.paused[ch]) {
		s.paused[ch] = until
	}
}

// deliver sends one claimed row at the real time at, and records the
// outcome. It reports whether the message was sent. A row whose chat is
// busy for a moment waits for it away from sl (nil: given back at once).
func (s *Scheduler) deliver(ctx context.Context, it sqlstore.OutboxItem, at time.Time, sl *sendSlot) bool {
	mctx, cancel := markCtx(ctx)
	defer cancel()
	log := s.log.With("key", it.Key, "channel", it.Channel)
	w, now := s.c.WorkerID, s.c.Now()
	record := func(what string, err error) {
		if err != nil {
			log.Warn("record outbox outcome", "outcome", what, "err", err)
		}
	}
	if !it.ExpiresAt.IsZero() && now.After(it.ExpiresAt) {
		reason := t(domain.Vietnamese, "skip_expired", it.ExpiresAt.In(s.loc).Format("15:04 02/01/2006"))
		log.Info("outbox row expired", "due", it.DueAt)
		record("skipped", s.c.Outbox.MarkSkipped(mctx, it.ID, w, reason))
		return false
	}
	snd := s.c.Senders[it.Channel]
	if snd == nil {
		record("failed", s.c.Outbox.MarkFailed(mctx, it.ID, w, fmt.Sprintf("no sender for channel %q", it.Channel)))
		return false
	}
	var replies []flows.Reply
	if err := json.Unmarshal(it.Payload, &replies); err != nil {
		record("failed", s.c.Outbox.MarkFailed(mctx, it.ID, w, "unreadable payload: "+err.Error()))
		return false
	}
	if err := s.resolveFiles(replies); err != nil {
		// A document removed since it was queued: nothing to send.
		record("failed", s.c.Outbox.MarkFailed(mctx, it.ID, w, err.Error()))
		return false
	}
	if !sleep(ctx, time.Until(at)) {
		record("released", s.c.Outbox.Release(mctx, it.ID, w, now, "stopped before sending"))
		return false
	}
	for {
		// A flood wait another send ran into while this one waited its turn.
		if p := s.pausedUntil(it.Channel); s.c.Now().Before(p) {
			record("released", s.c.Outbox.Release(mctx, it.ID, w, p, "flood wait"))
			return false
		}
		ok, busy := s.admit(ctx, it, max(len(replies), 1))
		if busy > 0 && sl.away(ctx, busy) {
			continue
		}
		if busy > 0 {
			// The chat (a group's 20 a minute) may not get it for long: it
			// waits in the outbox, not in a sender other chats' messages
			// need.
			record("released", s.c.Outbox.Release(mctx, it.ID, w, s.c.Now().Add(busy), "chat busy"))
			return false
		} else if !ok {
			record("released", s.c.Outbox.Release(mctx, it.ID, w, now, "stopped before sending"))
			return false
		}
		break
	}
	err := snd.Send(ctx, it.ChatID, replies)
	now = s.c.Now()
	if err == nil {
		record("sent", s.c.Outbox.MarkSent(mctx, it.ID, w, now))
		return true
	}
	msg := err.Error()
	if len(msg) > 500 {
		msg = msg[:500]
	}
	switch {
	case ctx.Err() != nil:
		// It may have gone out: the next worker sends it again.
		record("released", s.c.Outbox.Release(mctx, it.ID, w, now, "stopped while sending: "+msg))
	case errors.Is(err, telegram.ErrBlocked) || errors.Is(err, ErrUnreachable):
		log.Info("recipient unreachable", "person", it.PersonID, "err", msg)
		record("unreachable", s.c.Outbox.MarkUnreachable(mctx, it.ID, w, now, unreachableKind(err)+": "+msg))
		s.reroute(mctx, it, log)
	case retryAfter(err) > 0:
		until := now.Add(retryAfter(err))
		log.Warn("flood limit: pausing the channel", "until", until)
		s.pause(it.Channel, until)
		if p := s.c.Pace[it.Channel]; p != nil {
			if err := p.Pause(mctx, until); err != nil {
				log.Warn("pause the other processes", "err", err)
			}
		}
		record("released", s.c.Outbox.Release(mctx, it.ID, w, until, msg))
	case permanent(err):
		log.Warn("message refused", "err", msg)
		record("failed", s.c.Outbox.MarkFailed(mctx, it.ID, w, msg))
	case it.Attempts+1 >= s.sched.Rate.MaxAttempts:
		log.Warn("message failed for good", "attempts", it.Attempts+1, "err", msg)
		record("failed", s.c.Outbox.MarkFailed(mctx, it.ID, w, msg))
	default:
		next := now.Add(s.backoff(it.Attempts + 1))
		log.Info("send failed; will retry", "attempt", it.Attempts+1, "next", next, "err", msg)
		record("retry", s.c.Outbox.MarkRetry(mctx, it.ID, w, next, msg))
	}
	return false
}

// Why a channel refused a person, the first word of the reason recorded:
// staff are told "blocked the bot" only when that is what happened.
const (
	reasonBlocked = "blocked" // Telegram 403, Zalo: no longer follows the OA
	reasonWindow  = "window"  // Zalo: no message from them for 48 hours
)

func unreachableKind(err error) string {
	if errors.Is(err, bot.ErrMessagingWindow) {
		return reasonWindow
	}
	return reasonBlocked
}

// reasonText is how a recorded reason reads to staff.
func reasonText(lang domain.Lang, reason string) string {
	if strings.HasPrefix(reason, reasonWindow+":") {
		return t(lang, "why_window")
	}
	return t(lang, "why_blocked")
}

// backoff is the wait after the n-th failed attempt: RetryBase doubling,
// up to RetryMax.
func (s *Scheduler) backoff(n int) time.Duration {
	d := s.c.RetryBase
	for i := 1; i < n && d < s.c.RetryMax; i++ {
		d *= 2
	}
	return min(d, s.c.RetryMax)
}

func apiErr(err error) *tgbotapi.Error {
	var pe *tgbotapi.Error
	if errors.As(err, &pe) {
		return pe
	}
	var ve tgbotapi.Error
	if errors.As(err, &ve) {
		return &ve
	}
	return nil
}

// retryAfter is the wait a 429 asks for, 0 for other errors.
func retryAfter(err error) time.Duration {
	pe := apiErr(err)
	if pe == nil || pe.Code != http.StatusTooManyRequests {
		return 0
	}
	return max(time.Duration(pe.RetryAfter)*time.Second, time.Second)
}

// permanent reports a refusal that retrying cannot fix (400 Bad Request:
// chat not found, message invalid).
func permanent(err error) bool {
	if errors.Is(err, bot.ErrRefused) {
		return true
	}
	pe := apiErr(err)
	return pe != nil && pe.Code == http.StatusBadRequest
}

func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// ---------------------------------------------------------------- pacing

// pacer keeps sends within the platform's limits in real time: at most
// perSecond sends in any window in all and perChat to one chat, the window
// being a second plus a 5% margin for network jitter. reserve spreads the
// sends evenly (one every interval, one every chatInterval per chat); admit,
// called right before each send, checks the actual send times, so that a
// stalled process whose overdue sends all wake at once still keeps the
// limits.
type pacer struct {
	mu           sync.Mutex
	perSecond    int
	perChat      int
	window       time.Duration
	interval     time.Duration
	chatInterval time.Duration
	next         time.Time
	chats        map[string]time.Time
	sent         []time.Time            // actual sends within the window
	chatSent     map[string][]time.Time // the same per chat
}

const pacingWindow = time.Second * 21 / 20

func newPacer(perSecond, perChat int) *pacer {
	return &pacer{
		perSecond: perSecond, perChat: perChat, window: pacingWindow,
		interval:     pacingWindow / time.Duration(perSecond),
		chatInterval: pacingWindow / time.Duration(perChat),
		chats:        map[string]time.Time{},
		chatSent:     map[string][]time.Time{},
	}
}

// admit waits until n more sends to chat keep within the limits and records
// them; it returns false when ctx ends first.
func (p *pacer) admit(ctx context.Context, chat string, n int) bool {
	for {
		p.mu.Lock()
		now := time.Now()
		p.sent = within(p.sent, now, p.window)
		cs := within(p.chatSent[chat], now, p.window)
		var wait time.Duration
		if k := len(p.sent) + n - p.perSecond; k > 0 {
			wait = p.sent[min(k, len(p.sent))-1].Add(p.window).Sub(now)
		}
		if k := len(cs) + n - p.perChat; k > 0 {
			wait = max(wait, cs[min(k, len(cs))-1].Add(p.window).Sub(now))
		}
		if wait <= 0 {
			for range n {
				p.sent = append(p.sent, now)
				cs = append(cs, now)
			}
			p.chatSent[chat] = cs
			if len(p.chatSent) > 10000 {
				for c, ts := range p.chatSent {
					if len(within(ts, now, p.window)) == 0 {
						delete(p.chatSent, c)
					}
				}
			}
			p.mu.Unlock()
			return true
		}
		p.chatSent[chat] = cs
		p.mu.Unlock()
		if !sleep(ctx, wait) {
			return false
		}
	}
}

// admit waits until n messages of it may go out: by the shared pacer of
// its channel when there is one, else by this process's. busy is how long
// the chat must wait when the shared pacer says it is busy (nothing sent).
func (s *Scheduler) admit(ctx context.Context, it sqlstore.OutboxItem, n int) (ok bool, busy time.Duration) {
	p := s.c.Pace[it.Channel]
	if p == nil {
		return s.pacer(it.Channel).admit(ctx, string(it.Channel)+":"+it.ChatID, n), 0
	}
	for i := 0; i < n; {
		err := p.Wait(ctx, it.ChatID)
		var be *pace.BusyError
		switch {
		case err == nil:
			i++
		case errors.As(err, &be) && i == 0:
			return false, be.Wait
		case errors.As(err, &be):
			// The chat's own budget ran out within the row (several
			// messages to a group): what is booked goes, the rest a
			// little late rather than split.
			if !sleep(ctx, be.Wait) {
				return false, 0
			}
		case ctx.Err() == nil:
			s.log.Warn("shared pacing unavailable; sending at this process's pace", "err", err)
			return s.pacer(it.Channel).admit(ctx, string(it.Channel)+":"+it.ChatID, n), 0
		default:
			return false, 0
		}
	}
	return true, 0
}

// within drops the times before now-window from ts (ascending).
func within(ts []time.Time, now time.Time, window time.Duration) []time.Time {
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= window {
		i++
	}
	return ts[i:]
}

func (s *Scheduler) pacer(ch domain.Channel) *pacer {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pacers == nil {
		s.pacers = map[domain.Channel]*pacer{}
	}
	p := s.pacers[ch]
	if p == nil {
		p = newPacer(s.sched.Rate.PerSecond, s.sched.Rate.PerChatPerSecond)
		s.pacers[ch] = p
	}
	return p
}

// reserve books n messages to chat. It returns the wait until the slot and
// true, or, when chat is not free by the next global slot, the wait until
// it is and false (nothing booked).
func (p *pacer) reserve(chat string, n int) (time.Duration, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	slot := p.next
	if slot.Before(now) {
		slot = now
	}
	// Forget chats long idle.
	if len(p.chats) > 10000 {
		for c, t := range p.chats {
			if t.Before(now) {
				delete(p.chats, c)
			}
		}
	}
	if free := p.chats[chat]; free.After(slot) {
		return free.Sub(now), false
	}
	p.next = slot.Add(time.Duration(n) * p.interval)
	p.chats[chat] = slot.Add(time.Duration(n) * p.chatInterval)
	return slot.Sub(now), true
}

// reroute sends a message the channel refused (blocked, or outside Zalo's
// messaging window) through the next channel the person has, once, under a
// key derived from the original so that it too is delivered at most once.
// With no other channel it stays recorded as unreachable for the staff
// digest.
func (s *Scheduler) reroute(ctx context.Context, it sqlstore.OutboxItem, log *slog.Logger) {
	if it.PersonID == "" {
		return
	}
	r, err := s.newWorld().recipient(ctx, it.PersonID)
	if err != nil {
		log.Warn("reroute: find another channel", "err", err)
		return
	}
	if r.channel == "" || r.channel == it.Channel {
		log.Info("no other channel for an unreachable recipient", "person", it.PersonID, "channel", it.Channel)
		return
	}
	next := it
	next.ID, next.Key, next.Channel, next.ChatID = 0, it.Key+"|via:"+string(r.channel), r.channel, r.chatID
	next.Status, next.Attempts, next.LastError = "", 0, ""
	next.NextAttemptAt = time.Time{}
	if _, err := s.c.Outbox.Enqueue(ctx, next); err != nil {
		log.Warn("reroute: enqueue", "err", err)
		return
	}
	log.Info("message rerouted", "person", it.PersonID, "from", it.Channel, "to", r.channel)
}
