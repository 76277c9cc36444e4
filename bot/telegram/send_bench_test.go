package telegram

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dieuphoi/dieuphoi/flows"
)

// BenchmarkSendMessage sends one reply with an inline keyboard, as most
// steps do, to a server in this process that answers as the Bot API does
// (the message echoed back); its work counts too, the same in every
// version of the adapter.
func BenchmarkSendMessage(b *testing.B) {
	answer := `{"ok":true,"result":{"message_id":4242,"from":{"id":7000000001,"is_bot":true,"first_name":"Bot","username":"dieuphoi_bot"},"chat":{"id":930,"first_name":"User","type":"private"},"date":1764660000,"text":"` +
		strings.Repeat("Anh/chị có tham dự hội nghị không? ", 6) + `","reply_markup":{"inline_keyboard":[[{"text":"Tham dự","callback_data":"rsvp:attend"},{"text":"Không tham dự","callback_data":"rsvp:decline"}],[{"text":"Cử người thay","callback_data":"rsvp:substitute"}]]}}}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/getMe") {
			io.WriteString(w, `{"ok":true,"result":{"id":7000000001,"is_bot":true,"first_name":"Bot","username":"dieuphoi_bot"}}`)
			return
		}
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, answer)
	}))
	defer srv.Close()
	a, err := New(context.Background(), Config{Token: testToken, APIBase: srv.URL, Handler: newRecorder(),
		Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	reply := []flows.Reply{{Text: strings.Repeat("Anh/chị có tham dự hội nghị không? ", 6), Buttons: [][]flows.Button{
		{{Label: "Tham dự", Data: "rsvp:attend"}, {Label: "Không tham dự", Data: "rsvp:decline"}},
		{{Label: "Cử người thay", Data: "rsvp:substitute"}},
	}}}
	b.ReportAllocs()
	for b.Loop() {
		if err := a.Send(context.Background(), "930", reply); err != nil {
			b.Fatal(err)
		}
	}
}
