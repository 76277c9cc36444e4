package telegram

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dieuphoi/dieuphoi/bot"
	"github.com/dieuphoi/dieuphoi/bot/telegram/telegramtest"
)

const testSecret = "s3cret_Webhook-Token"

func TestSetWebhook(t *testing.T) {
	s := newSetup(t, func(c *Config) {
		c.WebhookURL = "https://bot.sokhcn.example.vn/telegram/hook"
		c.WebhookSecret = testSecret
	})
	if err := s.a.SetWebhook(context.Background()); err != nil {
		t.Fatal(err)
	}
	w := s.srv.Webhook()
	if w.URL != "https://bot.sokhcn.example.vn/telegram/hook" || w.SecretToken != testSecret ||
		strings.Join(w.AllowedUpdates, ",") != "message,callback_query" || w.DropPendingUpdates {
		t.Errorf("webhook: %+v", w)
	}
}

func TestWebhookHandler(t *testing.T) {
	s := newSetup(t, func(c *Config) {
		c.WebhookURL = "https://bot.example/hook"
		c.WebhookSecret = testSecret
	})
	hook := httptest.NewServer(s.a.WebhookHandler())
	defer hook.Close()

	post := func(secret string, body []byte) int {
		t.Helper()
		code, err := telegramtest.DeliverRaw(hook.URL, secret, body)
		if err != nil {
			t.Fatal(err)
		}
		return code
	}
	upd := s.srv.NewText(801, "/start tok_1")

	if c := post("wrong-secret", upd.JSON()); c != http.StatusUnauthorized {
		t.Errorf("wrong secret: %d", c)
	}
	if c := post("", upd.JSON()); c != http.StatusUnauthorized {
		t.Errorf("missing secret: %d", c)
	}
	if c := post(testSecret+"x", upd.JSON()); c != http.StatusUnauthorized {
		t.Errorf("secret with a suffix: %d", c)
	}
	if n := len(s.h.All()); n != 0 {
		t.Fatalf("handler called %d times before authentication", n)
	}
	if c := post(testSecret, upd.JSON()); c != http.StatusOK {
		t.Errorf("good delivery: %d", c)
	}
	if got := s.h.All(); len(got) != 1 || got[0].Input.Command != "start" || got[0].Input.Text != "tok_1" {
		t.Errorf("handler got %+v", got)
	}

	big := s.srv.NewText(801, strings.Repeat("a", MaxWebhookBody))
	if c := post(testSecret, big.JSON()); c != http.StatusRequestEntityTooLarge {
		t.Errorf("oversize: %d", c)
	}
	if c := post(testSecret, []byte(`{"update_id": 12, "message": `)); c != http.StatusBadRequest {
		t.Errorf("malformed: %d", c)
	}
	if c := post(testSecret, []byte(`[1,2]`)); c != http.StatusBadRequest {
		t.Errorf("not an object: %d", c)
	}

	s.h.Fail = func(bot.Inbound, int) error { return fmt.Errorf("apply: %w", bot.ErrNotSaved) }
	if c := post(testSecret, s.srv.NewText(801, "x").JSON()); c != http.StatusInternalServerError {
		t.Errorf("handler error: %d", c)
	}
	s.h.Fail = func(bot.Inbound, int) error { return fmt.Errorf("send: %w", ErrBlocked) }
	if c := post(testSecret, s.srv.NewText(801, "y").JSON()); c != http.StatusOK {
		t.Errorf("blocked user: %d", c)
	}
	s.h.Fail = nil

	before := len(s.h.All())
	edited := s.srv.NewUpdate("edited_message", map[string]any{"message_id": 1, "date": 1,
		"chat": map[string]any{"id": 801, "type": "private"}, "text": "sửa"})
	if c := post(testSecret, edited.JSON()); c != http.StatusOK {
		t.Errorf("ignored kind: %d", c)
	}
	if len(s.h.All()) != before {
		t.Errorf("an edited message reached the handler")
	}

	// A button pressed through the webhook is answered even when the
	// handler fails.
	s.h.Fail = func(bot.Inbound, int) error { return errors.New("boom") }
	press := s.srv.NewButtonPress(801, 42, "lang:en")
	if c := post(testSecret, press.JSON()); c != http.StatusInternalServerError {
		t.Errorf("failing button: %d", c)
	}
	if a := s.srv.CallbackAnswers(); len(a) != 1 {
		t.Errorf("callback answers: %v", a)
	}

	res, err := http.Get(hook.URL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", res.StatusCode)
	}
}

func TestWebhookHandlerWithoutSecretRefusesAll(t *testing.T) {
	s := newSetup(t) // polling config: no secret
	hook := httptest.NewServer(s.a.WebhookHandler())
	defer hook.Close()
	code, err := telegramtest.DeliverWebhook(hook.URL, "", s.srv.NewText(1, "x"))
	if err != nil || code != http.StatusUnauthorized {
		t.Errorf("no secret configured: %d %v", code, err)
	}
}

// A button press delivered by webhook and stored is answered in the
// delivery's response (Telegram runs that method): the bot makes no request
// of its own for it. One whose delivery fails is answered by a request.
func TestWebhookAnswersButtonPressInTheResponse(t *testing.T) {
	s := newSetup(t, func(c *Config) {
		c.WebhookURL = "https://bot.example/hook"
		c.WebhookSecret = testSecret
	})
	hook := httptest.NewServer(s.a.WebhookHandler())
	defer hook.Close()

	first := s.srv.NewButtonPress(801, 42, "lang:en")
	// The response dropped: nobody answers the press.
	if code, err := telegramtest.DeliverRaw(hook.URL, testSecret, first.JSON()); err != nil || code != http.StatusOK {
		t.Fatalf("delivery: %d %v", code, err)
	}
	if a := s.srv.CallbackAnswers(); len(a) != 0 {
		t.Fatalf("the bot answered %v with a request of its own", a)
	}
	// The response run as Telegram runs it.
	second := s.srv.NewButtonPress(801, 42, "lang:vi")
	if code, err := s.srv.Deliver(hook.URL, testSecret, second); err != nil || code != http.StatusOK {
		t.Fatalf("delivery: %d %v", code, err)
	}
	if a := s.srv.CallbackAnswers(); len(a) != 1 || a[0] != queryID(second) {
		t.Errorf("callback answers %v, want the second press's %q", a, queryID(second))
	}
	if n := len(s.h.All()); n != 2 {
		t.Errorf("handler got %d updates, want 2", n)
	}
	// Not stored: answered by a request, and Telegram asked to redeliver.
	s.h.Fail = func(bot.Inbound, int) error { return fmt.Errorf("append: %w", bot.ErrNotSaved) }
	third := s.srv.NewButtonPress(801, 42, "lang:en")
	if code, err := s.srv.Deliver(hook.URL, testSecret, third); err != nil || code != http.StatusInternalServerError {
		t.Fatalf("failing delivery: %d %v", code, err)
	}
	if a := s.srv.CallbackAnswers(); len(a) != 2 || a[1] != queryID(third) {
		t.Errorf("callback answers %v, want the third press's too", a)
	}
}

func queryID(u telegramtest.Update) string {
	return u["callback_query"].(map[string]any)["id"].(string)
}
