package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/dieuphoi/dieuphoi/flows"
)

// jsonString is what encoding/json writes for s in a request body.
func jsonString(t testing.TB, s string) string {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if err := e.Encode(s); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func TestAppendJSONString(t *testing.T) {
	for _, tc := range []struct{ name, s string }{
		{"empty", ""},
		{"ascii", "Xin chao"},
		{"vietnamese and emoji", "✅ Đã ghi nhận: anh/chị sẽ tham dự. 📅 Hội nghị"},
		{"quotes and backslashes", `say "hi" \ bye \\`},
		{"line ends and tabs", "a\nb\r\nc\td"},
		{"other control characters", "\x00\x01\b\f\x1f\x7f"},
		{"html is left alone", "<b>&amp;</b>"},
		{"invalid UTF-8", "a\xffb\xc3(c\xe2\x82"},
		{"JavaScript line ends", "x\u2028y\u2029z"},
		{"escape at the very end", "end\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, want := string(appendJSONString(nil, tc.s)), jsonString(t, tc.s); got != want {
				t.Errorf("appendJSONString(%q) = %s, encoding/json writes %s", tc.s, got, want)
			}
		})
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "a\"b", "\xff\xfe", "Đã ghi nhận\n", "\u2028\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(appendJSONString([]byte("x"), s)), "x"+jsonString(t, s); got != want {
			t.Errorf("appendJSONString(%q) = %s, encoding/json writes %s", s, got, want)
		}
	})
}

// The body is the JSON object the Bot API reads, the keyboard embedded as
// an object, not as a string holding JSON.
func TestSendMessageBody(t *testing.T) {
	markup, err := replyMarkup(flows.Reply{Buttons: [][]flows.Button{{{Label: "✅ Tham dự", Data: "rsvp:attend"}}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, markup string
		chat         int64
	}{
		{"with a keyboard", markup, 900000001},
		{"none", "", -1001234567890},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := sendMessageBody(nil, tc.chat, "Xin chào \"anh\"\n", tc.markup)
			var got struct {
				ChatID int64           `json:"chat_id"`
				Text   string          `json:"text"`
				Markup json.RawMessage `json:"reply_markup"`
			}
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("%s: %v", body, err)
			}
			if got.ChatID != tc.chat || got.Text != "Xin chào \"anh\"\n" || string(got.Markup) != tc.markup {
				t.Errorf("decoded %+v from %s", got, body)
			}
		})
	}
}

// post reads the answer as MakeRequest does: a refusal is a
// *tgbotapi.Error with its code and retry_after, an answer that is not
// JSON an error naming the HTTP status, and the token shows nowhere.
func TestPostAnswers(t *testing.T) {
	const token = "123:AAH-sEcReT"
	answer := map[string]func(w http.ResponseWriter){
		"ok": func(w http.ResponseWriter) { io.WriteString(w, `{"ok":true,"result":{"message_id":1}}`) },
		"flood": func(w http.ResponseWriter) {
			w.WriteHeader(429)
			io.WriteString(w, `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 7","parameters":{"retry_after":7}}`)
		},
		"refused": func(w http.ResponseWriter) {
			w.WriteHeader(400)
			io.WriteString(w, `{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}`)
		},
		"proxy": func(w http.ResponseWriter) { w.WriteHeader(502); io.WriteString(w, "<html>Bad Gateway</html>") },
	}
	var gotCT, gotBody string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		gotCT, gotBody = r.Header.Get("Content-Type"), string(b)
		answer[strings.TrimPrefix(r.URL.Path, "/bot"+token+"/")](w)
	}))
	defer srv.Close()
	a := &Adapter{client: srv.Client(), token: token, methodURL: srv.URL + "/bot" + token + "/",
		replace: strings.NewReplacer(token, "<redacted>")}
	ctx := context.Background()

	if err := a.post(ctx, "ok", []byte(`{"chat_id":1,"text":"x"}`), time.Second); err != nil {
		t.Fatalf("ok: %v", err)
	}
	if gotCT != "application/json" || gotBody != `{"chat_id":1,"text":"x"}` {
		t.Errorf("server got %q %s", gotCT, gotBody)
	}
	err := a.post(ctx, "flood", []byte(`{}`), time.Second)
	if pe, ok := apiError(err); !ok || pe.Code != 429 || pe.RetryAfter != 7 || !strings.Contains(pe.Message, "Too Many") {
		t.Errorf("flood: %#v", err)
	}
	err = a.post(ctx, "refused", []byte(`{}`), time.Second)
	if pe, ok := apiError(err); !ok || pe.Code != 400 || !refused(pe.Code) {
		t.Errorf("refused: %#v", err)
	}
	err = a.post(ctx, "proxy", []byte(`{}`), time.Second)
	if _, ok := apiError(err); ok || err == nil || !strings.Contains(err.Error(), "HTTP 502") {
		t.Errorf("proxy: %v", err)
	}
	srv.Close()
	err = a.post(ctx, "ok", []byte(`{}`), time.Second)
	if err == nil || strings.Contains(err.Error(), token) || !strings.Contains(err.Error(), "<redacted>") {
		t.Errorf("closed server: %v", err)
	}
	var te *tgbotapi.Error
	if errors.As(err, &te) {
		t.Errorf("a transport error reads as a Bot API refusal: %v", err)
	}
}

// BenchmarkSendMessage compares one sendMessage with a keyboard through
// the library's MakeRequest (as before) and through post, against a
// local server answering as the Bot API does.
func BenchmarkSendMessage(b *testing.B) {
	const token = "123:AAH-bench"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok":true,"result":{"message_id":17,"from":{"id":123,"is_bot":true,"first_name":"Bot","username":"bench_bot"},"chat":{"id":900000001,"first_name":"A","type":"private"},"date":1722000000,"text":"Xin chào"}}`)
	}))
	defer srv.Close()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 10
	client := &http.Client{Transport: tr}
	api := &tgbotapi.BotAPI{Token: token, Client: client}
	api.SetAPIEndpoint(srv.URL + "/bot%s/%s")
	a := &Adapter{api: api, client: client, token: token, methodURL: srv.URL + "/bot" + token + "/",
		replace: strings.NewReplacer(token, "<redacted>"), callTimeout: 5 * time.Second}
	reply := flows.Reply{Text: strings.Repeat("Hội nghị triển khai Chỉ số đổi mới sáng tạo. ", 10), Buttons: [][]flows.Button{
		{{Label: "✅ Tham dự", Data: "rsvp:attend"}, {Label: "❌ Không tham dự", Data: "rsvp:decline"}},
		{{Label: "👤 Cử người đi thay", Data: "rsvp:sub"}},
	}}
	ctx := context.Background()
	b.Run("MakeRequest", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			markup, _ := replyMarkup(reply)
			p := tgbotapi.Params{"chat_id": "900000001", "text": reply.Text, "reply_markup": markup}
			if _, err := a.request(ctx, "sendMessage", p, a.callTimeout); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("post", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			markup, _ := replyMarkup(reply)
			if err := a.sendMessage(ctx, 900000001, reply.Text, markup); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// Replies going out at once keep their connections: a second wave of 50
// concurrent messages dials nothing new (the default transport keeps 2
// idle connections per host, and would dial 48 again).
func TestConcurrentSendsReuseConnections(t *testing.T) {
	const token, wave = "123:AAH-conn", 50
	arrived := make(chan struct{}, wave)
	release := make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		arrived <- struct{}{}
		<-release // all of a wave are in flight together
		io.WriteString(w, `{"ok":true,"result":{}}`)
	}))
	var mu sync.Mutex
	dials := 0
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			mu.Lock()
			dials++
			mu.Unlock()
		}
	}
	srv.Start()
	defer srv.Close()
	a := &Adapter{client: NewHTTPClient(), token: token, methodURL: srv.URL + "/bot" + token + "/",
		replace: strings.NewReplacer(token, "<redacted>"), callTimeout: 10 * time.Second}
	for n := range 2 {
		var wg sync.WaitGroup
		errs := make(chan error, wave)
		for i := range wave {
			wg.Go(func() { errs <- a.sendMessage(context.Background(), int64(i+1), "x", "") })
		}
		for range wave {
			select {
			case <-arrived:
			case <-time.After(10 * time.Second):
				t.Fatal("the messages did not all arrive")
			}
		}
		for range wave {
			release <- struct{}{}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		mu.Lock()
		got := dials
		mu.Unlock()
		if got != wave {
			t.Fatalf("after wave %d: %d connections dialled, want %d", n+1, got, wave)
		}
	}
}
