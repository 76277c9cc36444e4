package telegram

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/dieuphoi/dieuphoi/bot"
)

// MaxWebhookBody bounds a webhook request body.
const MaxWebhookBody = 1 << 20

// SecretHeader carries the webhook secret_token.
const SecretHeader = "X-Telegram-Bot-Api-Secret-Token"

// SetWebhook registers Config.WebhookURL with Telegram, with the secret and
// the update kinds the adapter handles. Pending updates are kept.
func (a *Adapter) SetWebhook(ctx context.Context) error {
	if a.webhookURL == "" {
		return errors.New("telegram: SetWebhook: no WebhookURL configured")
	}
	_, err := a.request(ctx, "setWebhook", tgbotapi.Params{
		"url":             a.webhookURL,
		"secret_token":    a.webhookSecret,
		"allowed_updates": allowedUpdates,
	}, a.callTimeout)
	if err != nil {
		return fmt.Errorf("telegram: setWebhook: %w", err)
	}
	a.log.Info("webhook set")
	return nil
}

// WebhookHandler receives updates Telegram POSTs to WebhookURL. It checks
// the secret, hands the update to the handler (which stores it in the inbox)
// and answers 200 when it may be acknowledged — with answerCallbackQuery
// for a button press — and 500 when Telegram should deliver it again.
func (a *Adapter) WebhookHandler() http.Handler {
	want := sha256.Sum256([]byte(a.webhookSecret))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		// Compare digests, so neither content nor length leaks through timing.
		got := sha256.Sum256([]byte(r.Header.Get(SecretHeader)))
		if a.webhookSecret == "" || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			a.log.Warn("webhook request with a wrong or missing secret", "remote", r.RemoteAddr)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		// The body is read into a pooled buffer: decoding copies out what
		// is kept of it.
		bp := getAnswerBuf()
		body, ok := bot.ReadWebhookBodyInto(w, r, MaxWebhookBody, a.log, (*bp)[:0])
		var u update
		var err error
		if ok {
			err = json.Unmarshal(body, &u)
		}
		putAnswerBuf(bp, body)
		if !ok {
			return
		}
		if err != nil || u.UpdateID == 0 {
			a.log.Warn("malformed webhook update", "err", err)
			http.Error(w, "malformed update", http.StatusBadRequest)
			return
		}
		// A button press is answered with the delivery's response (Telegram
		// runs a method given there): one request to the platform fewer
		// per press. Only a delivery refused needs its own request, so that
		// the button stops spinning all the same.
		if err := a.processOnce(r.Context(), u, false); err != nil {
			log := a.log.With("update", u.UpdateID)
			if c, ok := chatOf(u); ok {
				log = log.With("chat", c)
			}
			if q := u.CallbackQuery; q != nil {
				a.answerCallback(r.Context(), u.UpdateID, q.ID)
			}
			log.Warn("update not handled; asking Telegram to redeliver", "err", err)
			http.Error(w, "update not handled", http.StatusInternalServerError)
			return
		}
		if q := u.CallbackQuery; q != nil {
			// Written in one piece, with its length: the server sends
			// headers and body in one write.
			const method = "method=answerCallbackQuery"
			answer := make(form, 0, len(method)+formSize("callback_query_id", q.ID))
			answer = append(answer, method...)
			answer = answer.add("callback_query_id", q.ID)
			h := w.Header()
			h["Content-Type"] = formContentType
			h["Content-Length"] = []string{strconv.Itoa(len(answer))}
			if _, err := w.Write(answer); err != nil {
				a.log.Debug("answer callback in the webhook response", "update", u.UpdateID, "err", err)
			}
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}
