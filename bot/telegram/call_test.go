package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/bot/telegram/telegramtest"
)

// The form is what url.Values.Encode writes, within formSize.
func FuzzFormEncodesAsURLValues(f *testing.F) {
	for _, s := range []string{"", "Xin chào! <b>không</b> & 100% = ok?", "a b+c", "📱\x00\xff~._-", `{"inline_keyboard":[[]]}`} {
		f.Add(s, "x")
	}
	f.Fuzz(func(t *testing.T, text, chat string) {
		body := make(form, 0, formSize("chat_id", chat, "text", text))
		body = body.add("chat_id", chat).add("text", text)
		if want := (url.Values{"chat_id": {chat}, "text": {text}}).Encode(); string(body) != want {
			t.Fatalf("form %q, url.Values %q", body, want)
		}
		if len(body) > formSize("chat_id", chat, "text", text) {
			t.Fatalf("form of %d bytes over its bound %d", len(body), formSize("chat_id", chat, "text", text))
		}
	})
}

func TestAccepted(t *testing.T) {
	for b, want := range map[string]bool{
		`{"ok":true,"result":{"message_id":1}}`: true,
		` {"ok":true}`:                          true,
		"{\"ok\":true\n}":                       true,
		`{"ok":false,"error_code":429}`:         false,
		`{"ok":trueish}`:                        false,
		`{"ok": true}`:                          false, // decoded in full: also right
		`<html>502</html>`:                      false,
		``:                                      false,
	} {
		if got := accepted([]byte(b)); got != want {
			t.Errorf("accepted(%s) = %v", b, got)
		}
	}
}

// newCallAdapter is an adapter that calls srv, without getMe.
func newCallAdapter(srv *httptest.Server) *Adapter {
	const token = "123:AAH-call"
	return &Adapter{client: NewHTTPClient(), token: token, apiBase: srv.URL,
		replace: strings.NewReplacer(token, "<redacted>")}
}

// Every answer is read to its end and understood, whatever its length and
// framing; a refusal carries its code and retry_after; an answer that is
// no JSON is an error, not a success.
func TestCallAnswers(t *testing.T) {
	big := strings.Repeat("ệ", 40000) // over answerBufMax
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			t.Errorf("content type %q", r.Header.Get("Content-Type"))
		}
		if err := r.ParseForm(); err != nil {
			t.Error(err)
		}
		switch r.Form.Get("case") {
		case "ok":
			io.WriteString(w, `{"ok":true,"result":{"message_id":1,"text":"x"}}`)
		case "chunked":
			io.WriteString(w, `{"ok":true,"result":`)
			w.(http.Flusher).Flush()
			io.WriteString(w, `"`+r.Form.Get("echo")+`"}`)
		case "big":
			io.WriteString(w, `{"ok":true,"result":"`+big+`"}`)
		case "flood":
			w.WriteHeader(429)
			io.WriteString(w, `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 7","parameters":{"retry_after":7}}`)
		case "blocked":
			w.WriteHeader(403)
			io.WriteString(w, `{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}`)
		case "proxy":
			w.WriteHeader(502)
			io.WriteString(w, `<html><body>Bad Gateway</body></html>`)
		}
	}))
	defer srv.Close()
	a := newCallAdapter(srv)
	ctx := context.Background()
	call := func(c, echo string, result *json.RawMessage) error {
		var parse func([]byte) error
		if result != nil {
			parse = func(b []byte) error { *result = b; return nil }
		}
		return a.call(ctx, "sendMessage", form(nil).add("case", c).add("echo", echo), 5*time.Second, parse)
	}

	if err := call("ok", "", nil); err != nil {
		t.Errorf("ok: %v", err)
	}
	for _, c := range []string{"chunked", "big"} {
		for range 3 { // the pooled buffer, used again
			var r json.RawMessage
			if err := call(c, "xin chào", &r); err != nil {
				t.Fatalf("%s: %v", c, err)
			}
			want := `"xin chào"`
			if c == "big" {
				want = `"` + big + `"`
			}
			if string(r) != want {
				t.Fatalf("%s: result of %d bytes, want %d", c, len(r), len(want))
			}
			if err := call(c, "", nil); err != nil {
				t.Fatalf("%s without result: %v", c, err)
			}
		}
	}
	err := call("flood", "", nil)
	if pe, ok := apiError(err); !ok || pe.Code != 429 || pe.RetryAfter != 7 {
		t.Errorf("flood: %#v", err)
	}
	if err := call("blocked", "", nil); !isCode(err, 403) {
		t.Errorf("blocked: %#v", err)
	}
	err = call("proxy", "", nil)
	if _, ok := apiError(err); err == nil || ok {
		t.Errorf("a proxy's HTML page: %v", err)
	}
}

// A result its parser does not take from between {"ok":true,"result": and
// the last brace (another field after it) is decoded in full.
func TestCallResultAfterAnotherField(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"ok":true,"result":[{"update_id":5}],"extra":[{"x":1}]}`)
	}))
	defer srv.Close()
	a := newCallAdapter(srv)
	var raws []json.RawMessage
	err := a.call(context.Background(), "getUpdates", nil, 5*time.Second, func(b []byte) (err error) {
		raws, err = splitUpdates(b)
		return err
	})
	if err != nil || len(raws) != 1 || string(raws[0]) != `{"update_id":5}` {
		t.Errorf("got %q, %v", raws, err)
	}
}

func isCode(err error, code int) bool {
	pe, ok := apiError(err)
	return ok && pe.Code == code
}

// Calls at once each get their own answer (the answers' buffers are
// pooled), and the connections are used again: nothing left unread.
func TestConcurrentCallsGetTheirOwnAnswers(t *testing.T) {
	var mu sync.Mutex
	conns := 0
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		n, _ := strconv.Atoi(r.Form.Get("n"))
		fmt.Fprintf(w, `{"ok":true,"result":"%s"}`, strings.Repeat(r.Form.Get("n"), n%300))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			mu.Lock()
			conns++
			mu.Unlock()
		}
	}
	srv.Start()
	defer srv.Close()
	a := newCallAdapter(srv)
	const workers, each = 8, 200
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				n := strconv.Itoa(w*each + i)
				var r []byte
				parse := func(b []byte) error { r = b; return nil }
				if err := a.call(context.Background(), "getUpdates", form(nil).add("n", n), 5*time.Second, parse); err != nil {
					t.Error(err)
					return
				}
				k, _ := strconv.Atoi(n)
				if want := `"` + strings.Repeat(n, k%300) + `"`; string(r) != want {
					t.Errorf("call %s got %.40s…", n, r)
					return
				}
			}
		})
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	// A connection goes back to the pool just after its answer was read
	// (net/http's read loop), so a caller may now and then dial anew; an
	// answer left unread would make every call dial.
	if conns > 4*workers {
		t.Errorf("%d connections for %d calls by %d callers at once", conns, workers*each, workers)
	}
}

// The token stays out of a failed call's error.
func TestCallErrorsAreRedacted(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	a := newCallAdapter(srv)
	srv.Close()
	err := a.call(context.Background(), "sendMessage", form(nil).add("text", "x"), time.Second, nil)
	if err == nil || strings.Contains(err.Error(), a.token) || strings.Contains(fmt.Sprintf("%#v", errors.Unwrap(err)), a.token) {
		t.Errorf("error %v", err)
	}
}

// Webhook deliveries of every size, at once, are each decoded from their
// own body (the bodies are read into pooled buffers).
func TestWebhookBodiesOfEverySize(t *testing.T) {
	s := newSetup(t, func(c *Config) {
		c.WebhookURL = "https://bot.example/hook"
		c.WebhookSecret = testSecret
	})
	hook := httptest.NewServer(s.a.WebhookHandler())
	defer hook.Close()
	var wg sync.WaitGroup
	texts := map[string]bool{}
	for i := range 40 {
		text := fmt.Sprintf("%d:%s", i, strings.Repeat("ạ", (i*i*97)%90000))
		texts[text] = true
		wg.Go(func() {
			code, err := telegramtest.DeliverRaw(hook.URL, testSecret, s.srv.NewText(int64(1000+i), text).JSON())
			if err != nil || code != http.StatusOK {
				t.Errorf("delivery %d: %d %v", i, code, err)
			}
		})
	}
	wg.Wait()
	got := s.h.All()
	if len(got) != len(texts) {
		t.Fatalf("%d updates handled, want %d", len(got), len(texts))
	}
	for _, in := range got {
		if !texts[in.Input.Text] {
			t.Errorf("handled a text of %d bytes that was not sent", len(in.Input.Text))
		}
		delete(texts, in.Input.Text)
	}
	// Over the limit: refused, and the next one still read right.
	huge := bytes.Repeat([]byte("x"), MaxWebhookBody+1)
	if code, _ := telegramtest.DeliverRaw(hook.URL, testSecret, huge); code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversize body: %d", code)
	}
}
