package webchat

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/textproto"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/dieuphoi/dieuphoi/bot"
	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
)

// recorder is a Handler that records what it is given and answers with a
// fixed reply through the chat, like the dispatcher does.
type recorder struct {
	mu    sync.Mutex
	ins   []bot.Inbound
	err   error
	reply []flows.Reply
	chat  *Chat
	// onHandle, when set, runs inside Handle (with mu held), as the
	// dispatcher would read an upload.
	onHandle func()
}

func (r *recorder) Handle(ctx context.Context, in bot.Inbound) error {
	r.mu.Lock()
	r.ins = append(r.ins, in)
	if r.onHandle != nil {
		r.onHandle()
	}
	err, reply := r.err, r.reply
	r.mu.Unlock()
	if err != nil {
		return err
	}
	return r.chat.Send(ctx, in.ChatID, reply)
}

func (r *recorder) last(t *testing.T) bot.Inbound {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.ins) == 0 {
		t.Fatal("Handle was not called")
	}
	return r.ins[len(r.ins)-1]
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.ins)
}

type fixture struct {
	t    *testing.T
	srv  *httptest.Server
	cl   *http.Client
	rec  *recorder
	chat *Chat
	logs *bytes.Buffer
}

func testDirectory() *domain.Directory {
	return domain.NewDirectory([]domain.Person{
		{ID: "P1", FullName: "Nguyễn Văn An", Position: "Giám đốc", AgencyCode: "SKHCN", Phone: "0912345678",
			Roles: []domain.Role{domain.RoleDelegate}, InviteToken: "tok-an-0123456789abcdef", InviteCode: "AN7K3M9Q"},
		{ID: "P2", FullName: "Trần Thị Bình", Position: "Chủ tịch", AgencyCode: "UBND-YM",
			Roles: []domain.Role{domain.RoleDelegate}, InviteToken: "tok-binh-0123456789abcd", InviteCode: "BI7K3M9Q"},
		{ID: "P3", FullName: "Lê Không Mã", Position: "Chuyên viên", AgencyCode: "SKHCN"},
		{ID: "P4", FullName: "Phạm Ngoài Danh", Position: "Khách", AgencyCode: "XX", InviteToken: "tok-pham-0123456789abcd"},
	}, []domain.Agency{
		{Code: "SKHCN", NameVI: "Sở Khoa học và Công nghệ"},
		{Code: "UBND-YM", NameVI: "UBND huyện Yên Mỹ"},
	})
}

func newFixture(t *testing.T, picker bool) *fixture {
	t.Helper()
	return newFixtureWith(t, func(c *Config) { c.Picker = picker })
}

// newFixtureWith is newFixture with the config changed by set.
func newFixtureWith(t *testing.T, set func(*Config)) *fixture {
	t.Helper()
	logs := &bytes.Buffer{}
	rec := &recorder{reply: []flows.Reply{{
		Text:    "Xin chào!\nDòng hai",
		Buttons: [][]flows.Button{{{Label: "👤 Cử người đi thay", Data: "rsvp:sub"}}},
	}}}
	dir := testDirectory()
	cfg := Config{
		Handler: rec, Directory: func() *domain.Directory { return dir },
		Log: slog.New(slog.NewTextHandler(&lockedWriter{w: logs}, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	set(&cfg)
	chat := New(cfg)
	rec.chat = chat
	mux := http.NewServeMux()
	chat.Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	f := &fixture{t: t, srv: srv, cl: &http.Client{Jar: jar}, rec: rec, chat: chat, logs: logs}
	return f
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// open loads /chat, which issues the cookie, and returns the page.
func (f *fixture) open(path string) string {
	f.t.Helper()
	res, err := f.cl.Get(f.srv.URL + path)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		f.t.Fatalf("GET %s: %d %s", path, res.StatusCode, b)
	}
	return string(b)
}

func (f *fixture) do(req *http.Request) (int, []byte) {
	f.t.Helper()
	res, err := f.cl.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

func (f *fixture) postJSON(body any, header bool) (int, []byte) {
	f.t.Helper()
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", f.srv.URL+"/chat/api/send", bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	if header {
		req.Header.Set(csrfHeader, "1")
	}
	return f.do(req)
}

func (f *fixture) messages(after int64, box string) Page {
	f.t.Helper()
	req, _ := http.NewRequest("GET", fmt.Sprintf("%s/chat/api/messages?after=%d&box=%s", f.srv.URL, after, box), nil)
	req.Header.Set(csrfHeader, "1")
	code, b := f.do(req)
	if code != 200 {
		f.t.Fatalf("messages: %d %s", code, b)
	}
	var p Page
	if err := json.Unmarshal(b, &p); err != nil {
		f.t.Fatal(err)
	}
	return p
}

func decodePage(t *testing.T, b []byte) Page {
	t.Helper()
	var p Page
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return p
}

func decodeErr(t *testing.T, b []byte) string {
	t.Helper()
	var e apiError
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return e.Error
}

func TestParseText(t *testing.T) {
	for _, c := range []struct {
		in   string
		want flows.Input
	}{
		{"xin chào", flows.Input{Kind: flows.InText, Text: "xin chào"}},
		{"/start TOKEN123", flows.Input{Kind: flows.InCommand, Command: "start", Text: "TOKEN123"}},
		{"/START   tok  ", flows.Input{Kind: flows.InCommand, Command: "start", Text: "tok"}},
		{"/XacNhan", flows.Input{Kind: flows.InCommand, Command: "xacnhan"}},
		{"/start@DieuPhoiBot abc", flows.Input{Kind: flows.InCommand, Command: "start", Text: "abc"}},
		{"/huy\nthôi", flows.Input{Kind: flows.InCommand, Command: "huy", Text: "thôi"}},
		{"/", flows.Input{Kind: flows.InText, Text: "/"}},
		{"/ abc", flows.Input{Kind: flows.InText, Text: "/ abc"}},
		{"/@bot", flows.Input{Kind: flows.InText, Text: "/@bot"}},
		{"/home/user", flows.Input{Kind: flows.InText, Text: "/home/user"}},
		{"/start\u00a0tok", flows.Input{Kind: flows.InCommand, Command: "start", Text: "tok"}},
	} {
		if got := ParseText(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseText(%q) = %+v, want %+v", c.in, got, c.want)
		}
	}
}

func TestSendCommand(t *testing.T) {
	f := newFixture(t, false)
	f.open("/chat")
	code, b := f.postJSON(map[string]any{"id": "msg-0001", "text": "  /Start tok-an-0123456789abcdef "}, true)
	if code != 200 {
		t.Fatalf("send: %d %s", code, b)
	}
	in := f.rec.last(t)
	if in.Key.Channel != domain.Web || in.UserID == "" || in.UserID != in.ChatID || len(in.ChatID) != 32 {
		t.Fatalf("inbound ids: %+v", in)
	}
	if in.Key.UpdateID != in.ChatID+":msg-0001" {
		t.Errorf("update id %q", in.Key.UpdateID)
	}
	want := flows.Input{Kind: flows.InCommand, Command: "start", Text: "tok-an-0123456789abcdef"}
	if !reflect.DeepEqual(in.Input, want) {
		t.Errorf("input %+v, want %+v", in.Input, want)
	}
	p := decodePage(t, b)
	if len(p.Messages) != 2 || p.Messages[0].From != fromMe || p.Messages[1].From != fromBot {
		t.Fatalf("messages: %+v", p.Messages)
	}
	if p.Messages[0].Text != "/Start tok-an-0123456789abcdef" || p.Messages[1].Text != "Xin chào!\nDòng hai" {
		t.Errorf("texts: %q %q", p.Messages[0].Text, p.Messages[1].Text)
	}
	if len(p.Messages[1].Buttons) != 1 || p.Messages[1].Buttons[0][0].Data != "rsvp:sub" {
		t.Errorf("buttons: %+v", p.Messages[1].Buttons)
	}
	// The cookie secret is not the chat id the bot sees.
	u, _ := http.NewRequest("GET", f.srv.URL+"/chat", nil)
	for _, c := range f.cl.Jar.Cookies(u.URL) {
		if c.Value == in.ChatID {
			t.Error("chat id equals the cookie secret")
		}
	}
}

func TestSendTextAndButton(t *testing.T) {
	f := newFixture(t, false)
	f.open("/chat")
	if code, b := f.postJSON(map[string]any{"id": "msg-0001", "text": "Nguyễn Thị Lan"}, true); code != 200 {
		t.Fatalf("send: %d %s", code, b)
	}
	if in := f.rec.last(t).Input; in.Kind != flows.InText || in.Text != "Nguyễn Thị Lan" {
		t.Errorf("text input: %+v", in)
	}
	code, b := f.postJSON(map[string]any{"id": "msg-0002", "button": "rsvp:sub", "after": 2}, true)
	if code != 200 {
		t.Fatalf("button: %d %s", code, b)
	}
	if in := f.rec.last(t).Input; in.Kind != flows.InButton || in.Data != "rsvp:sub" {
		t.Errorf("button input: %+v", in)
	}
	p := decodePage(t, b)
	// Only what is new since the cursor; but the box was not given, so reset.
	if !p.Reset || len(p.Messages) != 4 {
		t.Fatalf("without box: reset=%v n=%d", p.Reset, len(p.Messages))
	}
	if p.Messages[2].Text != "👤 Cử người đi thay" {
		t.Errorf("button echo %q, want its label", p.Messages[2].Text)
	}
	code, b = f.postJSON(map[string]any{"id": "msg-0003", "button": "rsvp:attend", "after": p.Last, "box": p.Box}, true)
	if code != 200 {
		t.Fatal(code)
	}
	p2 := decodePage(t, b)
	if p2.Reset || len(p2.Messages) != 2 || p2.Messages[0].Seq != p.Last+1 {
		t.Errorf("with cursor: %+v", p2)
	}
	// Empty and ambiguous requests.
	for _, body := range []map[string]any{
		{"id": "msg-0004"},
		{"id": "msg-0004", "text": "   "},
		{"id": "msg-0004", "text": "a", "button": "b"},
		{"id": "x", "text": "a"},
		{"id": "msg-0004", "text": "a", "extra": 1},
	} {
		if code, _ := f.postJSON(body, true); code != 400 {
			t.Errorf("%v: %d, want 400", body, code)
		}
	}
	if code, _ := f.postJSON(map[string]any{"id": "msg-0005", "text": strings.Repeat("ă", 4097)}, true); code != 413 {
		t.Errorf("long text: %d", code)
	}
}

func multipartBody(t *testing.T, id string, name, mime string, data []byte) (*bytes.Buffer, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("id", id)
	_ = mw.WriteField("after", "0")
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, name))
	if mime != "" {
		h.Set("Content-Type", mime)
	}
	w, _ := mw.CreatePart(h)
	_, _ = w.Write(data)
	_ = mw.Close()
	return &buf, mw.FormDataContentType()
}

func TestSendFile(t *testing.T) {
	f := newFixture(t, false)
	f.open("/chat")
	body, ct := multipartBody(t, "file-0001", `C:\Users\an\Báo cáo.pdf`, "application/pdf", bytes.Repeat([]byte("x"), 1500))
	req, _ := http.NewRequest("POST", f.srv.URL+"/chat/api/send", body)
	req.Header.Set("Content-Type", ct)
	req.Header.Set(csrfHeader, "1")
	code, b := f.do(req)
	if code != 200 {
		t.Fatalf("file: %d %s", code, b)
	}
	in := f.rec.last(t)
	want := []flows.FileRef{{ID: "file-0001", Name: "Báo cáo.pdf", MIME: "application/pdf", Size: 1500}}
	got := append([]flows.FileRef(nil), in.Input.Files...)
	if len(got) == 1 && strings.HasSuffix(got[0].ID, ":file-0001") {
		got[0].ID = "file-0001" // the id gets a random prefix per upload
	}
	if in.Input.Kind != flows.InFile || !reflect.DeepEqual(got, want) {
		t.Errorf("file input: %+v", in.Input)
	}
	// The bytes were there for the dispatcher while the request ran, and are
	// gone after it.
	if _, err := f.chat.Fetch(context.Background(), in.Input.Files[0], MaxFileSize); err == nil {
		t.Error("upload bytes still held after the request ended")
	}
	p := decodePage(t, b)
	if p.Messages[0].File == nil || p.Messages[0].File.Name != "Báo cáo.pdf" || p.Messages[0].File.Size != 1500 {
		t.Errorf("file echo: %+v", p.Messages[0])
	}
	// The type is sniffed when the browser gives none.
	body, ct = multipartBody(t, "file-0002", "anh.png", "", []byte("\x89PNG\r\n\x1a\n0000000000000"))
	req, _ = http.NewRequest("POST", f.srv.URL+"/chat/api/send", body)
	req.Header.Set("Content-Type", ct)
	req.Header.Set(csrfHeader, "1")
	if code, b := f.do(req); code != 200 {
		t.Fatalf("file: %d %s", code, b)
	}
	if fr := f.rec.last(t).Input.Files[0]; fr.MIME != "image/png" || !fr.IsPhoto {
		t.Errorf("sniffed: %+v", fr)
	}
}

func TestOversizeFile(t *testing.T) {
	f := newFixture(t, false)
	f.open("/chat")
	// With a Content-Length, and streamed without one.
	for _, chunked := range []bool{false, true} {
		body, ct := multipartBody(t, "file-0001", "big.bin", "application/octet-stream", make([]byte, MaxFileSize+1))
		var r io.Reader = body
		if chunked {
			r = io.MultiReader(body) // hides the length
		}
		req, _ := http.NewRequest("POST", f.srv.URL+"/chat/api/send", r)
		req.Header.Set("Content-Type", ct)
		req.Header.Set(csrfHeader, "1")
		code, b := f.do(req)
		if code != http.StatusRequestEntityTooLarge {
			t.Fatalf("chunked=%v: %d %s", chunked, code, b)
		}
		if msg := decodeErr(t, b); !strings.Contains(msg, "Tệp quá lớn") {
			t.Errorf("message %q", msg)
		}
	}
	if f.rec.count() != 0 {
		t.Error("Handle called for an oversize file")
	}
	// Exactly the limit is fine.
	body, ct := multipartBody(t, "file-0002", "ok.bin", "application/octet-stream", make([]byte, MaxFileSize))
	req, _ := http.NewRequest("POST", f.srv.URL+"/chat/api/send", body)
	req.Header.Set("Content-Type", ct)
	req.Header.Set(csrfHeader, "1")
	if code, b := f.do(req); code != 200 {
		t.Fatalf("at the limit: %d %s", code, b)
	}
}

func TestCSRF(t *testing.T) {
	f := newFixture(t, false)
	// No cookie yet.
	if code, b := f.postJSON(map[string]any{"id": "msg-0001", "text": "a"}, true); code != 403 {
		t.Errorf("no cookie: %d %s", code, b)
	}
	f.open("/chat")
	code, b := f.postJSON(map[string]any{"id": "msg-0001", "text": "a"}, false)
	if code != 403 {
		t.Errorf("no header: %d", code)
	}
	if msg := decodeErr(t, b); !strings.Contains(msg, "tải lại trang") {
		t.Errorf("message %q", msg)
	}
	req, _ := http.NewRequest("GET", f.srv.URL+"/chat/api/messages", nil)
	if code, _ := f.do(req); code != 403 {
		t.Errorf("poll without header: %d", code)
	}
	// A form post (what a cross-site <form> can send) is refused.
	req, _ = http.NewRequest("POST", f.srv.URL+"/chat/api/send", strings.NewReader("id=msg-0001&text=a"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(csrfHeader, "1")
	if code, _ := f.do(req); code != http.StatusUnsupportedMediaType {
		t.Errorf("form post: %d", code)
	}
	req, _ = http.NewRequest("POST", f.srv.URL+"/chat/api/send", strings.NewReader(`{"id":"msg-0001","text":"a"}`))
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set(csrfHeader, "1")
	if code, _ := f.do(req); code != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain: %d", code)
	}
	if f.rec.count() != 0 {
		t.Error("Handle called for a refused request")
	}
}

func TestHandlerErrorLosesNothing(t *testing.T) {
	f := newFixture(t, false)
	f.open("/chat")
	code, b := f.postJSON(map[string]any{"id": "msg-0001", "text": "một"}, true)
	if code != 200 {
		t.Fatal(code)
	}
	before := decodePage(t, b)

	for _, herr := range []error{fmt.Errorf("%w: apply effects: disk full", bot.ErrNotSaved), fmt.Errorf("send replies: boom")} {
		f.rec.mu.Lock()
		f.rec.err = herr
		f.rec.mu.Unlock()
		code, b = f.postJSON(map[string]any{"id": "msg-0002", "text": "hai", "after": before.Last, "box": before.Box}, true)
		if code != http.StatusServiceUnavailable {
			t.Fatalf("%v: %d %s", herr, code, b)
		}
		if msg := decodeErr(t, b); msg != "Hệ thống đang bận, tin nhắn chưa được lưu. Xin gửi lại." {
			t.Errorf("message %q", msg)
		}
		// Nothing lost, and no echo of the unsaved message.
		p := f.messages(0, before.Box)
		if !reflect.DeepEqual(p.Messages, before.Messages) {
			t.Errorf("mailbox changed after an error:\n%+v\n%+v", p.Messages, before.Messages)
		}
	}
	// The resend with the same id succeeds and is the same update.
	f.rec.mu.Lock()
	f.rec.err = nil
	f.rec.mu.Unlock()
	code, b = f.postJSON(map[string]any{"id": "msg-0002", "text": "hai", "after": before.Last, "box": before.Box}, true)
	if code != 200 {
		t.Fatal(code)
	}
	p := decodePage(t, b)
	if len(p.Messages) != 2 || p.Messages[0].Text != "hai" {
		t.Errorf("after resend: %+v", p.Messages)
	}
	f.rec.mu.Lock()
	keys := []string{}
	for _, in := range f.rec.ins[1:] {
		keys = append(keys, in.Key.UpdateID)
	}
	f.rec.mu.Unlock()
	if len(keys) != 3 || keys[0] != keys[1] || keys[1] != keys[2] {
		t.Errorf("retries must share the update id: %v", keys)
	}
}

func TestRetrySameID(t *testing.T) {
	f := newFixture(t, false)
	f.open("/chat")
	for range 2 {
		if code, _ := f.postJSON(map[string]any{"id": "msg-0001", "text": "/xacnhan"}, true); code != 200 {
			t.Fatal(code)
		}
	}
	f.rec.mu.Lock()
	a, b := f.rec.ins[0].Key, f.rec.ins[1].Key
	f.rec.mu.Unlock()
	if a != b {
		t.Errorf("keys differ: %v %v", a, b)
	}
	echoes := 0
	for _, m := range f.messages(0, "").Messages {
		if m.From == fromMe {
			echoes++
		}
	}
	if echoes != 1 {
		t.Errorf("retried message echoed %d times", echoes)
	}
}

func TestMessagesCursor(t *testing.T) {
	f := newFixture(t, false)
	f.open("/chat")
	if p := f.messages(0, ""); len(p.Messages) != 0 || p.Box != "" || p.Reset {
		t.Fatalf("fresh chat: %+v", p)
	}
	code, b := f.postJSON(map[string]any{"id": "msg-0001", "text": "xin chào"}, true)
	if code != 200 {
		t.Fatal(code)
	}
	p := decodePage(t, b)
	chat := f.rec.last(t).ChatID
	// A reminder arrives later, outside any request.
	if err := f.chat.Send(context.Background(), chat, []flows.Reply{{Text: "Nhắc lịch: ngày mai"}}); err != nil {
		t.Fatal(err)
	}
	q := f.messages(p.Last, p.Box)
	if q.Reset || len(q.Messages) != 1 || q.Messages[0].Text != "Nhắc lịch: ngày mai" || q.Last != p.Last+1 {
		t.Errorf("after cursor: %+v", q)
	}
	if q := f.messages(q.Last, p.Box); len(q.Messages) != 0 {
		t.Errorf("nothing new: %+v", q)
	}
	// A reload sees the whole history, own messages included.
	all := f.messages(0, "")
	if !all.Reset || len(all.Messages) != 3 || all.Messages[0].From != fromMe {
		t.Errorf("history: %+v", all)
	}
	// A stale box (server restarted, chat evicted) resets the client.
	if q := f.messages(99, "0000000000000000"); !q.Reset || len(q.Messages) != 3 {
		t.Errorf("stale box: %+v", q)
	}
}

func TestCookieAttributes(t *testing.T) {
	check := func(t *testing.T, res *http.Response, secure bool) {
		t.Helper()
		var ck *http.Cookie
		for _, c := range res.Cookies() {
			if c.Name == cookieName {
				ck = c
			}
		}
		if ck == nil {
			t.Fatal("no cookie issued")
		}
		if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/chat" || ck.Secure != secure || ck.MaxAge <= 0 {
			t.Errorf("cookie %+v (raw %q)", ck, res.Header.Get("Set-Cookie"))
		}
		if !cookieRe.MatchString(ck.Value) {
			t.Errorf("cookie value %q is not 128 random bits in hex", ck.Value)
		}
		if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("CSP %q", csp)
		}
	}
	f := newFixture(t, false)
	res, err := http.Get(f.srv.URL + "/chat")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	check(t, res, false)
	// Kept on later visits.
	f.open("/chat")
	req, _ := http.NewRequest("GET", f.srv.URL+"/chat", nil)
	res, err = f.cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if len(res.Cookies()) != 0 {
		t.Error("cookie re-issued to a browser that has one")
	}

	mux := http.NewServeMux()
	New(Config{Handler: &recorder{}}).Routes(mux)
	tsrv := httptest.NewTLSServer(mux)
	defer tsrv.Close()
	cl := tsrv.Client()
	cl.Transport.(*http.Transport).TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
	res, err = cl.Get(tsrv.URL + "/chat/i/some-token")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	check(t, res, true)

	// Behind a TLS-terminating proxy, under an https public URL: Secure
	// though the request reaching the bot is plain HTTP.
	mux = http.NewServeMux()
	New(Config{Handler: &recorder{}, Secure: true}).Routes(mux)
	psrv := httptest.NewServer(mux)
	defer psrv.Close()
	if res, err = http.Get(psrv.URL + "/chat"); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	check(t, res, true)
}

func TestPicker(t *testing.T) {
	off := newFixture(t, false)
	page := off.open("/chat")
	if strings.Contains(page, `id="picker"`) || strings.Contains(page, "Nguyễn Văn An") || strings.Contains(page, "tok-an") {
		t.Error("picker shown with Picker=false")
	}
	if !strings.Contains(page, "liên kết mời riêng") || !strings.Contains(page, `lang="vi"`) {
		t.Error("no Vietnamese explanation without the picker")
	}
	if code, _ := off.postJSON(map[string]any{"id": "msg-0001", "pick": "P1"}, true); code != 403 {
		t.Errorf("pick with Picker=false: %d", code)
	}

	on := newFixture(t, true)
	page = on.open("/chat")
	for _, s := range []string{`id="picker"`, "Nguyễn Văn An", "Giám đốc", "Sở Khoa học và Công nghệ", "UBND huyện Yên Mỹ", "Khác", `data-person="P2"`} {
		if !strings.Contains(page, s) {
			t.Errorf("picker page lacks %q", s)
		}
	}
	if strings.Contains(page, "Lê Không Mã") {
		t.Error("a person with no invite token is offered")
	}
	if strings.Contains(page, "tok-") {
		t.Error("invite tokens leak into the page")
	}
	if !strings.Contains(page, `class="picking"`) {
		t.Error("picker not open for a fresh chat")
	}
	code, b := on.postJSON(map[string]any{"id": "msg-0001", "pick": "P2"}, true)
	if code != 200 {
		t.Fatalf("pick: %d %s", code, b)
	}
	want := flows.Input{Kind: flows.InCommand, Command: "start", Text: "tok-binh-0123456789abcd", DemoPick: true}
	if in := on.rec.last(t).Input; !reflect.DeepEqual(in, want) {
		t.Errorf("pick input %+v", in)
	}
	if code, _ := on.postJSON(map[string]any{"id": "msg-0002", "pick": "P3"}, true); code != 400 {
		t.Errorf("pick a person without token: %d", code)
	}
	if strings.Contains(on.open("/chat"), `class="picking"`) {
		t.Error("picker open over an ongoing chat")
	}
}

func TestInviteStartAndContact(t *testing.T) {
	for _, picker := range []bool{false, true} {
		f := newFixture(t, picker)
		f.open("/chat/i/tok-an-0123456789abcdef")
		code, b := f.postJSON(map[string]any{"id": "msg-0001", "start": "tok-an-0123456789abcdef"}, true)
		if code != 200 {
			t.Fatalf("start: %d %s", code, b)
		}
		want := flows.Input{Kind: flows.InCommand, Command: "start", Text: "tok-an-0123456789abcdef"}
		if in := f.rec.last(t).Input; !reflect.DeepEqual(in, want) {
			t.Errorf("start input %+v", in)
		}
		if strings.Contains(string(b), "tok-an") {
			t.Error("the token is echoed into the history")
		}
		code, b = f.postJSON(map[string]any{"id": "msg-0002", "contact": "+84 912.345.678"}, true)
		if code != 200 {
			t.Fatalf("contact: %d %s", code, b)
		}
		in := f.rec.last(t).Input
		if in.Kind != flows.InContact || in.Phone != "0912345678" || in.ContactIsSelf != picker {
			t.Errorf("picker=%v contact input %+v", picker, in)
		}
		code, b = f.postJSON(map[string]any{"id": "msg-0003", "contact": "12ab"}, true)
		if code != 400 || !strings.Contains(decodeErr(t, b), "Số điện thoại") {
			t.Errorf("bad phone: %d %s", code, b)
		}
		// Whole forms of the number: a random chat id may well hold "345".
		if logs := f.logs.String(); strings.Contains(logs, "912345678") || strings.Contains(logs, "912.345") || strings.Contains(logs, "345.678") {
			t.Errorf("a phone number is in the logs:\n%s", logs)
		}
		if !strings.Contains(f.logs.String(), "webchat: message handled") {
			t.Errorf("no debug log line:\n%s", f.logs.String())
		}
	}
}

func TestStaticAssets(t *testing.T) {
	f := newFixture(t, false)
	for path, ct := range map[string]string{"/chat/static/chat.js": "javascript", "/chat/static/chat.css": "text/css"} {
		res, err := http.Get(f.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !strings.Contains(res.Header.Get("Content-Type"), ct) || len(b) == 0 {
			t.Errorf("%s: %d %s", path, res.StatusCode, res.Header.Get("Content-Type"))
		}
	}
	js := f.open("/chat/static/chat.js")
	if strings.Contains(js, "innerHTML") {
		t.Error("chat.js uses innerHTML")
	}
}

func TestMailboxBounds(t *testing.T) {
	m := newMailboxes(3, 5)
	for i := range 12 {
		m.add("a", Message{From: fromBot, Text: fmt.Sprint(i)})
	}
	p := m.since("a", "", 0)
	if len(p.Messages) != 5 || p.Messages[0].Text != "7" || p.Last != 12 {
		t.Errorf("per-chat bound: %+v", p)
	}
	m.add("b", Message{})
	m.add("c", Message{})
	m.since("a", "", 0) // a is now the most recently used
	m.add("d", Message{})
	if m.empty("a") || !m.empty("b") || m.empty("c") || m.empty("d") {
		t.Error("LRU evicted the wrong chat")
	}
	if len(m.byChat) != 3 || m.lru.Len() != 3 {
		t.Errorf("chats kept: %d", len(m.byChat))
	}
}
