package telegram

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/dieuphoi/dieuphoi/bot"
	"github.com/dieuphoi/dieuphoi/bot/telegram/telegramtest"
)

type discardHandler struct{}

func (discardHandler) Handle(context.Context, bot.Inbound) error { return nil }

// BenchmarkWebhookDelivery runs one webhook delivery through the handler
// (secret check, body, decoding, mapping, the response; the intake stands
// in as a handler that keeps nothing and no HTTP server): the RSVP's shared
// contact and its button press, answered in the response.
func BenchmarkWebhookDelivery(b *testing.B) {
	srv := telegramtest.New(b, testToken)
	a, err := New(context.Background(), Config{Token: testToken, APIBase: srv.URL(), Handler: discardHandler{},
		Log: slog.New(slog.DiscardHandler), WebhookURL: "https://bot.example/hook", WebhookSecret: testSecret})
	if err != nil {
		b.Fatal(err)
	}
	h := a.WebhookHandler()
	bodies := [][]byte{
		[]byte(`{"update_id":123456,"message":{"message_id":77,"from":{"id":100005,"is_bot":false,"first_name":"User","language_code":"vi"},"chat":{"id":100005,"first_name":"User","type":"private"},"date":1764660000,"contact":{"phone_number":"+84912345678","first_name":"User","user_id":100005}}}`),
		[]byte(`{"update_id":123457,"callback_query":{"id":"4382bf","from":{"id":100005,"is_bot":false,"first_name":"U"},"message":{"message_id":78,"from":{"id":7000000001,"is_bot":true,"first_name":"Bot"},"chat":{"id":100005,"type":"private"},"date":1,"text":"Xin mời xác nhận","reply_markup":{"inline_keyboard":[[{"text":"Tham dự","callback_data":"rsvp:attend"}]]}},"chat_instance":"-1","data":"rsvp:attend"}}`),
	}
	reqs := make([]*http.Request, len(bodies))
	for i, body := range bodies {
		reqs[i] = httptest.NewRequest(http.MethodPost, "/telegram/webhook", bytes.NewReader(body))
		reqs[i].Header.Set(SecretHeader, testSecret)
	}
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		for i, r := range reqs {
			r.Body = io.NopCloser(bytes.NewReader(bodies[i]))
			clear(w.h)
			w.code = 0
			h.ServeHTTP(w, r)
			if w.code != 0 && w.code != http.StatusOK {
				b.Fatalf("answered %d", w.code)
			}
		}
	}
}

// discardWriter is a ResponseWriter that keeps only the status.
type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }
