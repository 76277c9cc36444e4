package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/dieuphoi/dieuphoi/bot"
)

// Pipelining bounds for Poll. While updates are in flight, getUpdates is
// called without a long-poll timeout (it would return the in-flight updates
// at once anyway): as soon as one is acknowledged, but no sooner than
// pollMinGap after the previous call, and at least every pollMaxGap so that
// new updates are seen while slow ones run; with many in flight, only once
// a quarter of them are done (see waitForProgress).
const (
	pollLimit     = 100 // getUpdates limit, the most Telegram allows
	pollMinGap    = 5 * time.Millisecond
	pollMaxGap    = 25 * time.Millisecond
	pollMaxWindow = 1000 // most fetched updates kept in memory at once
)

// Poll receives updates by long polling until ctx ends, then returns nil
// once the running handlers have returned. It deletes any webhook first
// (Telegram refuses getUpdates while one is set). It returns an error only
// when the token is rejected.
//
// Polling is pipelined: fetched updates are handed to one worker per busy
// chat, so each chat's updates run in order and different chats in
// parallel, and the next getUpdates does not wait for a slow update. The
// offset passed to getUpdates is the lowest fetched update not yet
// acknowledged, so Telegram keeps redelivering that one and every later one
// until the handler accepted it (a restart handles it again); ids already
// seen are skipped without decoding. An update whose handler fails is
// retried after a backoff by its chat's worker, holding that chat's later
// updates meanwhile; other chats go on.
func (a *Adapter) Poll(ctx context.Context) error {
	for n := 1; ; n++ {
		_, err := a.request(ctx, "deleteWebhook", tgbotapi.Params{}, a.callTimeout)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		if isFatal(err) {
			return fmt.Errorf("telegram: deleteWebhook: %w", err)
		}
		wait := a.retryDelay(err, n)
		a.log.Warn("deleteWebhook failed", "err", err, "retry_in", wait.String())
		if !sleep(ctx, wait) {
			return nil
		}
	}
	a.log.Info("polling for updates", "timeout", a.pollTimeout)

	p := &poller{a: a, ctx: ctx, chats: map[chatKey]*chatQueue{}, acked: make(chan struct{}, 1),
		handoff: make(chan chatWork), quit: make(chan struct{})}
	err := p.run()
	close(p.quit) // idle workers return; busy ones once their queues are empty
	p.wg.Wait()   // the workers see ctx ended: handlers return, backoffs end
	p.mu.Lock()
	offset := p.offset
	p.mu.Unlock()
	if err != nil {
		return err
	}
	a.log.Info("polling stopped", "offset", offset)
	return nil
}

// isFatal reports errors retrying cannot fix: the token was revoked.
func isFatal(err error) bool {
	pe, ok := apiError(err)
	return ok && (pe.Code == 401 || pe.Code == 404)
}

// retryDelay honours Telegram's retry_after, else backs off exponentially.
func (a *Adapter) retryDelay(err error, failures int) time.Duration {
	if pe, ok := apiError(err); ok && pe.RetryAfter > 0 {
		return time.Duration(pe.RetryAfter) * time.Second
	}
	return a.backoff(failures)
}

// pollItem is one fetched update. u is nil when it could not be decoded (a
// shape this library version does not know): it is acknowledged at once.
type pollItem struct {
	id    int
	u     update // decoded in the item: one allocation per update
	acked bool   // guarded by poller.mu
}

// chatKey groups the updates that must run in order: those of one chat, or
// an update on its own when it has no chat.
type chatKey struct {
	chat   int64
	update int // set only for updates without a chat
}

// chatQueue is one chat's fetched updates not yet acknowledged; the first
// is running (or waiting to be retried). A queue is in poller.chats exactly
// while a worker runs it.
type chatQueue struct {
	items []*pollItem
	first [1]*pollItem // items' first array: a chat has one update at a time, mostly
}

// chatWork is a chat's queue handed to a worker.
type chatWork struct {
	key chatKey
	q   *chatQueue
}

// workerIdle is how long a worker with no chat to run waits for one before
// it returns. Workers live on between batches so that an update does not
// start a goroutine (and grow its stack again: the handler's JSON and
// encoding need more than a new goroutine's) for every chat of every batch.
const workerIdle = 2 * time.Second

// poller is the state of one Poll.
type poller struct {
	a   *Adapter
	ctx context.Context
	wg  sync.WaitGroup

	mu sync.Mutex
	// offset is the lowest fetched id not acknowledged, or past the last
	// fetched one: what getUpdates confirms.
	offset int
	// window holds the fetched updates from offset on, in id order; its
	// head is never acknowledged.
	window []*pollItem
	// maxSeen is the highest id fetched: getUpdates returns ids in order,
	// so an id up to it was seen before.
	maxSeen int
	// freed counts the updates the offset has moved past.
	freed int
	chats map[chatKey]*chatQueue

	// acked is signalled (without blocking) when an update is acknowledged.
	acked chan struct{}
	// handoff passes a chat to an idle worker (unbuffered: a send
	// succeeds only when one is waiting); quit is closed once run returned.
	handoff chan chatWork
	quit    chan struct{}
}

// run fetches and dispatches updates until ctx ends or the token is
// rejected.
func (p *poller) run() error {
	a, ctx := p.a, p.ctx
	var fetchFails int
	var last time.Time // start of the last getUpdates
	for ctx.Err() == nil {
		p.mu.Lock()
		offset, inFlight := p.offset, len(p.window)
		p.mu.Unlock()
		// Never call sooner than pollMinGap after the last call when
		// something is in flight (a burst of acks would otherwise refetch
		// the same window over and over).
		if inFlight > 0 {
			if gap := time.Since(last); gap < pollMinGap && !sleep(ctx, pollMinGap-gap) {
				break
			}
		}
		timeout := a.pollTimeout
		if inFlight > 0 {
			timeout = 0
		}
		last = time.Now()
		raws, err := a.getUpdates(ctx, offset, timeout)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			if isFatal(err) {
				return fmt.Errorf("telegram: getUpdates: %w", err)
			}
			fetchFails++
			wait := a.retryDelay(err, fetchFails)
			a.log.Warn("getUpdates failed", "err", err, "offset", offset, "retry_in", wait.String())
			if !sleep(ctx, wait) {
				break
			}
			continue
		}
		fetchFails = 0
		if err := p.dispatch(raws); err != nil {
			// A result that is not a list of updates: try again later.
			fetchFails++
			wait := a.backoff(fetchFails)
			a.log.Warn("getUpdates result unusable", "err", err, "offset", offset, "retry_in", wait.String())
			if !sleep(ctx, wait) {
				break
			}
			continue
		}
		p.waitForProgress(len(raws))
	}
	return nil
}

// waitForProgress returns when another getUpdates is worth making, the last
// one having returned n updates: at once when nothing is in flight (the
// next call long-polls); else once a quarter of those n were acknowledged
// off the head of the window (so that the same in-flight updates are not
// fetched again for every acknowledgement), or after pollMaxGap when
// anything was, or when the last call was not full (new updates may be
// waiting).
func (p *poller) waitForProgress(n int) {
	full := n >= pollLimit
	need := max(1, n/4)
	p.mu.Lock()
	start := p.freed
	p.mu.Unlock()
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		p.mu.Lock()
		freed, inFlight := p.freed-start, len(p.window)
		p.mu.Unlock()
		if inFlight == 0 || freed >= need {
			return
		}
		if timer == nil {
			timer = time.NewTimer(pollMaxGap)
		}
		select {
		case <-p.ctx.Done():
			return
		case <-p.acked:
		case <-timer.C:
			if (!full && inFlight < pollMaxWindow) || freed > 0 {
				return
			}
			timer.Reset(pollMaxGap)
		}
	}
}

// dispatch queues the updates not seen before to their chats' workers.
func (p *poller) dispatch(raws []json.RawMessage) error {
	p.mu.Lock()
	maxSeen := p.maxSeen
	p.mu.Unlock()
	var fresh []*pollItem
	for _, raw := range raws {
		id, err := rawUpdateID(raw)
		if err != nil {
			return err
		}
		if id <= maxSeen {
			continue // in flight or acknowledged already
		}
		maxSeen = id
		it := &pollItem{id: id}
		if err := json.Unmarshal(raw, &it.u); err != nil {
			p.a.log.Warn("skipping undecodable update", "update", id, "err", err)
			it.acked = true
		}
		fresh = append(fresh, it)
	}
	if len(fresh) == 0 {
		return nil
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	p.maxSeen = maxSeen
	for _, it := range fresh {
		p.window = append(p.window, it)
		if it.acked {
			continue
		}
		key := chatKey{update: it.id}
		if c, ok := chatOf(it.u); ok {
			key = chatKey{chat: c}
		}
		q := p.chats[key]
		if q == nil {
			q = &chatQueue{}
			q.items = q.first[:0]
			p.chats[key] = q
			select {
			case p.handoff <- chatWork{key: key, q: q}:
			default:
				p.wg.Add(1)
				go p.worker(chatWork{key: key, q: q})
			}
		}
		q.items = append(q.items, it)
	}
	p.advanceLocked()
	return nil
}

// advanceLocked moves the offset past the acknowledged head of the window.
func (p *poller) advanceLocked() {
	i := 0
	for i < len(p.window) && p.window[i].acked {
		i++
	}
	if i == 0 {
		return
	}
	p.offset = p.window[i-1].id + 1
	p.freed += i
	clear(p.window[:i])
	p.window = p.window[i:]
	if len(p.window) == 0 {
		p.window = nil // let the backing array go
	}
}

// worker runs w, then any chat handed to it, until it has waited
// workerIdle for one or the poll is over.
func (p *poller) worker(w chatWork) {
	defer p.wg.Done()
	var idle *time.Timer
	for {
		p.work(w.key, w.q)
		if p.ctx.Err() != nil {
			return
		}
		if idle == nil {
			idle = time.NewTimer(workerIdle)
			defer idle.Stop()
		} else {
			idle.Reset(workerIdle)
		}
		select {
		case w = <-p.handoff:
		case <-idle.C:
			return
		case <-p.quit:
			return
		case <-p.ctx.Done():
			return
		}
	}
}

// work runs one chat's queued updates in order until the queue is empty or
// ctx ends.
func (p *poller) work(key chatKey, q *chatQueue) {
	for {
		p.mu.Lock()
		if len(q.items) == 0 || p.ctx.Err() != nil {
			delete(p.chats, key)
			p.mu.Unlock()
			return
		}
		it := q.items[0]
		p.mu.Unlock()

		if !p.a.pollOne(p.ctx, it.u) {
			continue // ctx ended
		}

		p.mu.Lock()
		it.acked = true
		q.items[0] = nil
		q.items = q.items[1:]
		p.advanceLocked()
		p.mu.Unlock()
		select {
		case p.acked <- struct{}{}:
		default:
		}
	}
}

// pollOne handles one update, retrying it after a backoff while it fails,
// and reports whether it may be acknowledged: false only when ctx ended
// first. An update failing with an error other than bot.ErrNotSaved is
// given up (and acknowledged) after MaxAttempts tries.
func (a *Adapter) pollOne(ctx context.Context, u update) bool {
	var tries, fails int
	for {
		err := a.processOnce(ctx, u, tries == 0)
		if err == nil {
			return true
		}
		tries++
		log := a.log.With("update", u.UpdateID)
		if c, ok := chatOf(u); ok {
			log = log.With("chat", c)
		}
		switch {
		case ctx.Err() != nil:
			return false
		case errors.Is(err, bot.ErrNotSaved):
			log.Warn("update not saved; will retry", "err", err)
		default:
			fails++
			if fails >= a.maxAttempts {
				log.Error("dropping update that keeps failing", "attempts", fails, "err", err)
				return true
			}
			log.Warn("update failed; will retry", "attempt", fails, "err", err)
		}
		if !sleep(ctx, a.backoff(tries)) {
			return false
		}
	}
}

// rawUpdateID reads an update's update_id without decoding the rest: at
// the front, where Telegram puts it, or else by decoding just that field.
func rawUpdateID(raw json.RawMessage) (int, error) {
	const prefix = `{"update_id":`
	if rest, ok := bytes.CutPrefix(raw, []byte(prefix)); ok {
		n, i := 0, 0
		for i < len(rest) && i < 18 && rest[i] >= '0' && rest[i] <= '9' {
			n = n*10 + int(rest[i]-'0')
			i++
		}
		if i > 0 && i < len(rest) && (rest[i] == ',' || rest[i] == '}') {
			return n, nil
		}
	}
	var id struct {
		UpdateID *int `json:"update_id"`
	}
	if err := json.Unmarshal(raw, &id); err != nil {
		return 0, fmt.Errorf("decode update: %w", err)
	}
	if id.UpdateID == nil {
		return 0, errors.New("decode update: no update_id")
	}
	return *id.UpdateID, nil
}

// getUpdates returns the raw updates from offset on, long-polling for up to
// timeout when there are none.
func (a *Adapter) getUpdates(ctx context.Context, offset int, timeout time.Duration) ([]json.RawMessage, error) {
	body := make(form, 0, 128)
	body = body.add("allowed_updates", allowedUpdates).add("limit", strconv.Itoa(pollLimit))
	if offset != 0 {
		body = body.add("offset", strconv.Itoa(offset))
	}
	body = body.add("timeout", strconv.Itoa(int(timeout/time.Second)))
	var raws []json.RawMessage
	err := a.call(ctx, "getUpdates", body, timeout+15*time.Second, func(result []byte) (err error) {
		raws, err = splitUpdates(result)
		return err
	})
	return raws, err
}

// splitUpdates splits a getUpdates result, a JSON array of objects, into
// its elements without decoding them: most are in flight already and only
// their update_id is read. Anything but an array of objects goes through
// encoding/json for its error.
func splitUpdates(b []byte) ([]json.RawMessage, error) {
	b = bytes.TrimSpace(b)
	var out []json.RawMessage
	ok := len(b) >= 2 && b[0] == '[' && b[len(b)-1] == ']'
	depth, start, inStr := 0, 0, false
	for i := 1; ok && i < len(b)-1; i++ {
		c := b[i]
		if inStr {
			switch c {
			case '\\':
				i++
			case '"':
				inStr = false
			}
			continue
		}
		switch c {
		case '"':
			inStr = depth > 0
			ok = inStr
		case '{', '[':
			if depth == 0 {
				start = i
				ok = c == '{'
			}
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				out = append(out, json.RawMessage(b[start:i+1]))
			}
			ok = depth >= 0
		case ' ', '\t', '\n', '\r', ',':
		default:
			ok = depth > 0
		}
	}
	if ok && depth == 0 && !inStr {
		return out, nil
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(b, &raws); err != nil {
		return nil, fmt.Errorf("decode getUpdates result: %w", err)
	}
	for _, r := range raws {
		if len(r) == 0 || r[0] != '{' {
			return nil, fmt.Errorf("decode getUpdates result: an update is %.20s", r)
		}
	}
	return raws, nil
}

// chatOf returns the chat an update belongs to.
func chatOf(u update) (int64, bool) {
	switch {
	case u.Message != nil && u.Message.Chat != nil:
		return u.Message.Chat.ID, true
	case u.CallbackQuery != nil && u.CallbackQuery.Message != nil && u.CallbackQuery.Message.Chat != nil:
		return u.CallbackQuery.Message.Chat.ID, true
	}
	return 0, false
}

// process maps one update and runs the handler. A nil error means the update
// may be acknowledged: it was handled, it is of a kind the bot ignores, or
// its replies could not be delivered because the user blocked the bot.
// Button presses are always answered, first, so the button stops spinning
// whatever happens next.
func (a *Adapter) process(ctx context.Context, u update) error {
	return a.processOnce(ctx, u, true)
}

// processOnce is process; answer false skips answering a button press (a
// retry: it was answered on the first try).
func (a *Adapter) processOnce(ctx context.Context, u update, answer bool) error {
	in, ok := toInbound(u, a.Username())
	if q := u.CallbackQuery; q != nil && answer {
		if !ok {
			a.answerCallback(ctx, u.UpdateID, q.ID)
		} else {
			// Answered while the update is stored: the press's reply does
			// not wait for this round trip to the platform as well.
			done := make(chan struct{})
			go func() { defer close(done); a.answerCallback(ctx, u.UpdateID, q.ID) }()
			defer func() { <-done }()
		}
	}
	if !ok {
		a.log.Debug("update ignored", "update", u.UpdateID)
		return nil
	}
	start := time.Now()
	err := a.handler.Handle(ctx, in)
	if errors.Is(err, ErrBlocked) {
		a.log.Info("user has blocked the bot; update acknowledged", "update", u.UpdateID, "chat", in.ChatID)
		return nil
	}
	if err == nil && a.log.Enabled(ctx, slog.LevelDebug) {
		// Checked first: the arguments would be boxed (allocated) even
		// when the line is not written.
		a.log.Debug("update handled", "update", u.UpdateID, "chat", in.ChatID, "kind", in.Input.Kind,
			"took", time.Since(start))
	}
	return err
}

func (a *Adapter) answerCallback(ctx context.Context, updateID int, id string) {
	body := make(form, 0, formSize("callback_query_id", id))
	err := a.call(ctx, "answerCallbackQuery", body.add("callback_query_id", id), 10*time.Second, nil)
	if err == nil {
		return
	}
	level := slog.LevelWarn
	if pe, ok := apiError(err); ok && pe.Code == 400 {
		level = slog.LevelDebug // already answered (a redelivery) or too old
	}
	a.log.Log(ctx, level, "answerCallbackQuery failed", "update", updateID, "err", err)
}
