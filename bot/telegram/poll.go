package telegram

import (
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

// Poll receives updates by long polling until ctx ends, then returns nil.
// It deletes any webhook first (Telegram refuses getUpdates while one is
// set). It returns an error only when the token is rejected.
//
// Each getUpdates batch is handled with different chats in parallel and
// each chat's updates in order. The offset advances only past updates the
// handler accepted: when one fails, that chat's later updates wait, and the
// next getUpdates (after a backoff) starts again from the failed one.
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

	st := &pollState{handled: map[int]bool{}, attempts: map[int]int{}}
	var fetchFails, batchFails int
	for ctx.Err() == nil {
		updates, err := a.getUpdates(ctx, st.offset)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			if isFatal(err) {
				return fmt.Errorf("telegram: getUpdates: %w", err)
			}
			fetchFails++
			wait := a.retryDelay(err, fetchFails)
			a.log.Warn("getUpdates failed", "err", err, "offset", st.offset, "retry_in", wait.String())
			if !sleep(ctx, wait) {
				break
			}
			continue
		}
		fetchFails = 0
		if len(updates) == 0 {
			continue
		}
		if a.runBatch(ctx, st, updates) {
			batchFails = 0
			continue
		}
		if ctx.Err() != nil {
			break
		}
		batchFails++
		wait := a.backoff(batchFails)
		a.log.Warn("updates not handled; will fetch them again", "offset", st.offset, "retry_in", wait.String())
		if !sleep(ctx, wait) {
			break
		}
	}
	a.log.Info("polling stopped", "offset", st.offset)
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

// polled is one update from getUpdates; u is nil when it could not be
// decoded (a shape this library version does not know).
type polled struct {
	id int
	u  *tgbotapi.Update
}

func (a *Adapter) getUpdates(ctx context.Context, offset int) ([]polled, error) {
	p := tgbotapi.Params{
		"limit":           "100",
		"timeout":         strconv.Itoa(int(a.pollTimeout / time.Second)),
		"allowed_updates": allowedUpdates,
	}
	p.AddNonZero("offset", offset)
	resp, err := a.request(ctx, "getUpdates", p, a.pollTimeout+15*time.Second)
	if err != nil {
		return nil, err
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(resp.Result, &raws); err != nil {
		return nil, fmt.Errorf("decode getUpdates result: %w", err)
	}
	out := make([]polled, 0, len(raws))
	for _, raw := range raws {
		var u tgbotapi.Update
		if err := json.Unmarshal(raw, &u); err != nil {
			var id struct {
				UpdateID int `json:"update_id"`
			}
			if json.Unmarshal(raw, &id) != nil {
				return nil, fmt.Errorf("decode update: %w", err)
			}
			a.log.Warn("skipping undecodable update", "update", id.UpdateID, "err", err)
			out = append(out, polled{id: id.UpdateID})
			continue
		}
		out = append(out, polled{id: u.UpdateID, u: &u})
	}
	return out, nil
}

// pollState is what Poll remembers between batches.
type pollState struct {
	offset int
	// handled holds ids at or above offset that were already handled, so a
	// refetch after a failure does not handle them twice.
	handled map[int]bool
	// attempts counts failures per update, for MaxAttempts.
	attempts map[int]int
}

// runBatch handles updates and moves st.offset past the leading run of
// acknowledged ones. It reports whether all were acknowledged.
func (a *Adapter) runBatch(ctx context.Context, st *pollState, updates []polled) bool {
	type chatQueue struct{ items []polled }
	queues := map[string]*chatQueue{}
	var order []string
	for _, p := range updates {
		if st.handled[p.id] {
			continue
		}
		key := "update:" + strconv.Itoa(p.id)
		if p.u != nil {
			if c, ok := chatOf(*p.u); ok {
				key = "chat:" + strconv.FormatInt(c, 10)
			}
		}
		q := queues[key]
		if q == nil {
			q = &chatQueue{}
			queues[key] = q
			order = append(order, key)
		}
		q.items = append(q.items, p)
	}

	var mu sync.Mutex
	acked := map[int]bool{}
	var wg sync.WaitGroup
	for _, key := range order {
		q := queues[key]
		wg.Go(func() {
			for _, p := range q.items {
				ok := true
				if p.u != nil {
					ok = a.pollOne(ctx, st, &mu, *p.u)
				}
				mu.Lock()
				acked[p.id] = ok
				mu.Unlock()
				if !ok {
					return // this chat's later updates wait for this one
				}
			}
		})
	}
	wg.Wait()

	all := true
	next := st.offset
	for _, p := range updates {
		if acked[p.id] || st.handled[p.id] {
			if all {
				next = p.id + 1
			} else {
				st.handled[p.id] = true
			}
			continue
		}
		all = false
	}
	st.offset = next
	for id := range st.handled {
		if id < next {
			delete(st.handled, id)
		}
	}
	for id := range st.attempts {
		if id < next {
			delete(st.attempts, id)
		}
	}
	return all
}

// pollOne handles one polled update and decides whether to acknowledge it.
func (a *Adapter) pollOne(ctx context.Context, st *pollState, mu *sync.Mutex, u tgbotapi.Update) bool {
	err := a.process(ctx, u)
	if err == nil {
		return true
	}
	log := a.log.With("update", u.UpdateID)
	if c, ok := chatOf(u); ok {
		log = log.With("chat", c)
	}
	switch {
	case ctx.Err() != nil:
		return false
	case errors.Is(err, bot.ErrNotSaved):
		log.Warn("update not saved; will retry", "err", err)
		return false
	}
	mu.Lock()
	st.attempts[u.UpdateID]++
	n := st.attempts[u.UpdateID]
	mu.Unlock()
	if n >= a.maxAttempts {
		log.Error("dropping update that keeps failing", "attempts", n, "err", err)
		return true
	}
	log.Warn("update failed; will retry", "attempt", n, "err", err)
	return false
}

// chatOf returns the chat an update belongs to.
func chatOf(u tgbotapi.Update) (int64, bool) {
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
func (a *Adapter) process(ctx context.Context, u tgbotapi.Update) error {
	if q := u.CallbackQuery; q != nil {
		a.answerCallback(ctx, u.UpdateID, q.ID)
	}
	in, ok := toInbound(u, a.Username())
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
	if err == nil {
		a.log.Debug("update handled", "update", u.UpdateID, "chat", in.ChatID, "kind", in.Input.Kind,
			"took", time.Since(start))
	}
	return err
}

func (a *Adapter) answerCallback(ctx context.Context, updateID int, id string) {
	_, err := a.request(ctx, "answerCallbackQuery", tgbotapi.Params{"callback_query_id": id}, 10*time.Second)
	if err == nil {
		return
	}
	level := slog.LevelWarn
	if pe, ok := apiError(err); ok && pe.Code == 400 {
		level = slog.LevelDebug // already answered (a redelivery) or too old
	}
	a.log.Log(ctx, level, "answerCallbackQuery failed", "update", updateID, "err", err)
}
