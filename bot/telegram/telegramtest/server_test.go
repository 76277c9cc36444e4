package telegramtest

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

const token = "42:fake-token"

func newBot(t *testing.T) (*Server, *tgbotapi.BotAPI) {
	t.Helper()
	s := New(t, token)
	b, err := tgbotapi.NewBotAPIWithClient(token, s.APIEndpoint(), &http.Client{})
	if err != nil {
		t.Fatal(err)
	}
	if b.Self.UserName != BotUsername || b.Self.ID != BotID {
		t.Errorf("getMe: %+v", b.Self)
	}
	return s, b
}

func TestWrongToken(t *testing.T) {
	s := New(t, token)
	_, err := tgbotapi.NewBotAPIWithClient("42:other", s.APIEndpoint(), &http.Client{})
	var e *tgbotapi.Error
	if !errors.As(err, &e) || e.Code != 401 || e.Message != "Unauthorized" {
		t.Errorf("wrong token: %v", err)
	}
}

func TestGetUpdatesOffsetsAndLongPoll(t *testing.T) {
	s, b := newBot(t)
	u1 := s.SendText(1, "/start abc")
	u2 := s.SendText(2, "hi")

	got, err := b.GetUpdates(tgbotapi.UpdateConfig{})
	if err != nil || len(got) != 2 || got[0].UpdateID != u1 || got[1].UpdateID != u2 {
		t.Fatalf("first fetch: %v %+v", err, got)
	}
	if !got[0].Message.IsCommand() || got[0].Message.Command() != "start" || got[0].Message.CommandArguments() != "abc" {
		t.Errorf("command entity: %+v", got[0].Message)
	}
	// Unconfirmed updates come again; limit applies.
	got, _ = b.GetUpdates(tgbotapi.UpdateConfig{Limit: 1})
	if len(got) != 1 || got[0].UpdateID != u1 {
		t.Errorf("refetch: %+v", got)
	}
	// offset confirms everything below it.
	got, _ = b.GetUpdates(tgbotapi.UpdateConfig{Offset: u2})
	if len(got) != 1 || got[0].UpdateID != u2 || s.LastConfirmedOffset() != u2 || s.Pending() != 1 {
		t.Errorf("offset: %+v, confirmed %d", got, s.LastConfirmedOffset())
	}
	// A long poll is woken by a new update.
	go func() {
		time.Sleep(100 * time.Millisecond)
		s.SendText(3, "late")
	}()
	start := time.Now()
	got, err = b.GetUpdates(tgbotapi.UpdateConfig{Offset: u2 + 1, Timeout: 5})
	if err != nil || len(got) != 1 || got[0].Message.Text != "late" || time.Since(start) > 2*time.Second {
		t.Errorf("long poll: %v %+v after %v", err, got, time.Since(start))
	}
	// An empty long poll returns after its timeout.
	start = time.Now()
	got, err = b.GetUpdates(tgbotapi.UpdateConfig{Offset: got[0].UpdateID + 1, Timeout: 1})
	if err != nil || len(got) != 0 || time.Since(start) < 900*time.Millisecond {
		t.Errorf("empty long poll: %v %+v after %v", err, got, time.Since(start))
	}
}

func TestFaultsAndWebhookConflict(t *testing.T) {
	s, b := newBot(t)
	s.FailNext("getUpdates", 1, 429, 7)
	_, err := b.GetUpdates(tgbotapi.UpdateConfig{})
	var e *tgbotapi.Error
	if !errors.As(err, &e) || e.Code != 429 || e.RetryAfter != 7 || !strings.Contains(e.Message, "retry after 7") {
		t.Errorf("429: %#v", err)
	}
	if _, err := b.Request(tgbotapi.DeleteWebhookConfig{}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.MakeRequest("setWebhook", tgbotapi.Params{"url": "https://x.example/h", "secret_token": "abc_DEF-1",
		"allowed_updates": `["message"]`}); err != nil {
		t.Fatal(err)
	}
	if w := s.Webhook(); w.URL != "https://x.example/h" || w.SecretToken != "abc_DEF-1" || w.AllowedUpdates[0] != "message" {
		t.Errorf("webhook: %+v", w)
	}
	_, err = b.GetUpdates(tgbotapi.UpdateConfig{})
	if !errors.As(err, &e) || e.Code != 409 {
		t.Errorf("getUpdates with a webhook set: %v", err)
	}
	info, err := b.GetWebhookInfo()
	if err != nil || info.URL != "https://x.example/h" {
		t.Errorf("getWebhookInfo: %+v %v", info, err)
	}
}

func TestMessagesEditsCallbacksAndFiles(t *testing.T) {
	s, b := newBot(t)
	msg := tgbotapi.NewMessage(5, "Chọn")
	msg.ReplyMarkup = tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
		tgbotapi.NewInlineKeyboardButtonData("A", "a")))
	sent, err := b.Send(msg)
	if err != nil || sent.MessageID == 0 || sent.Chat.ID != 5 {
		t.Fatalf("send: %v %+v", err, sent)
	}
	edit := tgbotapi.NewEditMessageText(5, sent.MessageID, "Đã chọn")
	if _, err := b.Send(edit); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Send(edit); err == nil || !strings.Contains(err.Error(), "not modified") {
		t.Errorf("identical edit: %v", err)
	}
	ms := s.WaitMessages(t, 5, 1, time.Second)
	if ms[0].Text != "Đã chọn" || ms[0].Inline != nil || ms[0].Edits != 1 {
		t.Errorf("edited message: %+v", ms[0])
	}

	press := s.PressButton(5, sent.MessageID, "a")
	ups, _ := b.GetUpdates(tgbotapi.UpdateConfig{Offset: press})
	q := ups[0].CallbackQuery
	if q == nil || q.Data != "a" || q.Message.MessageID != sent.MessageID || q.From.ID != 5 {
		t.Fatalf("callback: %+v", ups[0])
	}
	if _, err := b.Request(tgbotapi.NewCallback(q.ID, "")); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Request(tgbotapi.NewCallback(q.ID, "")); err == nil {
		t.Error("a callback query answered twice")
	}
	if a := s.CallbackAnswers(); len(a) != 1 || a[0] != q.ID {
		t.Errorf("answers: %v", a)
	}

	s.SendDocument(5, "r.csv", "text/csv", []byte("a,b\n"))
	ups, _ = b.GetUpdates(tgbotapi.UpdateConfig{Offset: press + 1})
	link, err := b.GetFileDirectURL(ups[0].Message.Document.FileID)
	if err != nil {
		t.Fatal(err)
	}
	link = strings.Replace(link, "https://api.telegram.org", s.URL(), 1)
	res, err := http.Get(link)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("download: %v %v", err, res)
	}
	res.Body.Close()

	doc := tgbotapi.NewDocument(5, tgbotapi.FileBytes{Name: "out.txt", Bytes: []byte("hello")})
	doc.Caption = "kết quả"
	if _, err := b.Send(doc); err != nil {
		t.Fatal(err)
	}
	if d := s.Documents(5); len(d) != 1 || d[0].Name != "out.txt" || string(d[0].Data) != "hello" || d[0].Caption != "kết quả" {
		t.Errorf("documents: %+v", d)
	}
}
