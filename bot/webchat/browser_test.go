package webchat_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dieuphoi/dieuphoi/bot"
	"github.com/dieuphoi/dieuphoi/bot/webchat"
	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
	"github.com/dieuphoi/dieuphoi/internal/testenv"
	"github.com/dieuphoi/dieuphoi/storage/sqlite"
)

// world is a real bot: SQLite store and sessions, a dispatcher, and the web
// chat served over HTTP.
type world struct {
	store *sqlite.Store
	dir   *domain.Directory
	srv   *httptest.Server
	chat  *webchat.Chat
	event *domain.Event
}

func newWorld(t *testing.T, picker bool) *world {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "dieuphoi.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	agencies := []domain.Agency{
		{Code: "SKHCN", NameVI: "Sở Khoa học và Công nghệ", Kind: "department"},
		{Code: "UBND-YM", NameVI: "UBND huyện Yên Mỹ", Kind: "district"},
	}
	people := []domain.Person{
		{ID: "P001", FullName: "Nguyễn Văn An", Position: "Giám đốc", AgencyCode: "SKHCN", Phone: "0912345678", Roles: []domain.Role{domain.RoleDelegate}},
		{ID: "P002", FullName: "Trần Thị Bình", Position: "Phó Chủ tịch", AgencyCode: "UBND-YM", Phone: "0987654321", Roles: []domain.Role{domain.RoleDelegate}},
		{ID: "P003", FullName: "Lê Minh Cường", Position: "Chánh Văn phòng", AgencyCode: "UBND-YM", Roles: []domain.Role{domain.RoleDelegate, domain.RoleFocal}},
	}
	if err := store.SyncDirectory(ctx, agencies, people); err != nil {
		t.Fatal(err)
	}
	dir, err := store.Directory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ict := time.FixedZone("ICT", 7*3600)
	now := time.Date(2026, 7, 20, 9, 0, 0, 0, ict)
	ev := &domain.Event{
		ID: "hn2026", NameVI: "Hội nghị Khoa học và Công nghệ tỉnh 2026", Location: ict,
		DoorsOpen: time.Date(2026, 8, 7, 7, 30, 0, 0, ict), Start: time.Date(2026, 8, 7, 8, 0, 0, 0, ict),
		End: time.Date(2026, 8, 7, 11, 30, 0, 0, ict), VenueVI: "Hội trường A", Address: "1 Đường Chính",
		RSVPCutoff: time.Date(2026, 8, 3, 17, 0, 0, 0, ict),
		Organizer:  domain.Contact{Name: "Văn phòng Sở", Phone: "0221 3863 456"},
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	d := bot.NewDispatcher(bot.Config{Store: store, Sessions: store, Event: ev, Directory: dir, Now: func() time.Time { return now }, Log: log})
	chat := webchat.New(webchat.Config{Handler: d, Directory: d.Directory, Picker: picker, Log: log})
	d.SetSender(domain.Web, chat)
	mux := http.NewServeMux()
	chat.Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &world{store: store, dir: dir, srv: srv, chat: chat, event: ev}
}

// browser starts headless Chromium with a phone-sized viewport.
func browser(t *testing.T) context.Context {
	t.Helper()
	ctx := testenv.Browser(t, 390, 844, 25*time.Second)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch)); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v\n%s", what, err, pageState(ctx))
	}
}

// waitFor waits until the newest bot bubble contains text.
func waitFor(t *testing.T, ctx context.Context, text string) {
	t.Helper()
	js := fmt.Sprintf(`(() => { const b = [...document.querySelectorAll('#log .bubble.bot')].pop(); return !document.body.classList.contains('sending') && !!b && b.textContent.includes(%s); })()`, jsString(text))
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(8*time.Second))); err != nil {
		t.Fatalf("waiting for %q: %v\n%s", text, err, pageState(ctx))
	}
}

// tap clicks the newest button with this payload.
func tap(t *testing.T, ctx context.Context, payload, label string) {
	t.Helper()
	js := fmt.Sprintf(`(() => { const b = [...document.querySelectorAll('#log .btn[data-payload]')].filter(x => x.dataset.payload === %s).pop(); if (!b) return 'missing'; const l = b.textContent; b.click(); return l; })()`, jsString(payload))
	got, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
	if err != nil || got != label {
		t.Fatalf("tap %s: %q %v\n%s", payload, got, err, pageState(ctx))
	}
}

func say(t *testing.T, ctx context.Context, text string) {
	t.Helper()
	run(t, ctx, "type "+text, chromedp.SendKeys(chromedp.ID("msg"), text), chromedp.Click(chromedp.ID("send")))
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func pageState(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + '\nstatus: ' + document.querySelector('#status').textContent + '\nlog:\n' + document.querySelector('#log').innerText`))
	if err != nil {
		return "(page state: " + err.Error() + ")"
	}
	return s
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	dir := os.Getenv("DIEUPHOI_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// TestBrowserSubstituteRSVP goes through one whole answer in a real browser:
// pick a person, send a substitute, confirm, and find the answer stored.
func TestBrowserSubstituteRSVP(t *testing.T) {
	w := newWorld(t, true)
	ctx := browser(t)
	start := time.Now()

	run(t, ctx, "open /chat", chromedp.Navigate(w.srv.URL+"/chat"), chromedp.WaitVisible(chromedp.ID("picker")))
	// The search narrows the list, diacritics optional.
	run(t, ctx, "search", chromedp.SendKeys(chromedp.ID("search"), "nguyen van"))
	hidden, err := chromedp.Run(ctx, chromedp.Evaluate[int](`[...document.querySelectorAll('#picker li')].filter(li => li.hidden).length`))
	if err != nil || hidden != 2 {
		t.Errorf("search hid %d people, want 2 (%v)", hidden, err)
	}
	screenshot(t, ctx, "webchat-picker.png")
	run(t, ctx, "pick", chromedp.Click(chromedp.CSS(`.person[data-person="P001"]`)))
	waitFor(t, ctx, "Trạng thái của anh/chị: chưa trả lời")
	greet, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#log .bubble.bot').textContent`))
	if !strings.Contains(greet, "Nguyễn Văn An") {
		t.Errorf("greeting %q", greet)
	}

	tap(t, ctx, "rsvp:sub", "👤 Cử người đi thay")
	waitFor(t, ctx, "xin cho biết họ và tên")
	say(t, ctx, "Phạm Thị Hoa")
	waitFor(t, ctx, "Chức vụ, đơn vị công tác của Phạm Thị Hoa")
	say(t, ctx, "Phó Giám đốc Trung tâm Ứng dụng")
	waitFor(t, ctx, "Số điện thoại di động của Phạm Thị Hoa")
	say(t, ctx, "0905 111 222")
	waitFor(t, ctx, "Xin kiểm tra thông tin người đi thay")
	screenshot(t, ctx, "webchat-confirm.png")
	tap(t, ctx, "sub:ok", "✅ Xác nhận")
	waitFor(t, ctx, "Đã ghi nhận người đi thay: Phạm Thị Hoa")
	screenshot(t, ctx, "webchat-done.png")

	// The user's own messages are in the history, in order.
	mine, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#log .bubble.me')].map(b => b.textContent)`))
	wantMine := []string{"👤 Dùng thử với tư cách: Nguyễn Văn An", "👤 Cử người đi thay", "Phạm Thị Hoa", "Phó Giám đốc Trung tâm Ứng dụng", "0905 111 222", "✅ Xác nhận"}
	if strings.Join(mine, "|") != strings.Join(wantMine, "|") {
		t.Errorf("own messages %q\nwant %q", mine, wantMine)
	}

	hist, err := w.store.RSVPHistory(context.Background(), "P001")
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 1 {
		t.Fatalf("history: %+v", hist)
	}
	got := hist[len(hist)-1]
	want := domain.Substitute{Name: "Phạm Thị Hoa", Position: "Phó Giám đốc Trung tâm Ứng dụng", Phone: "0905111222"}
	if got.Status != domain.RSVPSubstitute || got.Substitute == nil || *got.Substitute != want || got.Channel != domain.Web {
		t.Errorf("stored answer %+v sub %+v", got, got.Substitute)
	}

	// A reload shows the same history, and the chat is still linked.
	run(t, ctx, "reload", chromedp.Reload())
	waitFor(t, ctx, "Đã ghi nhận người đi thay")
	n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#log .bubble').length`))
	if n < 12 {
		t.Errorf("after reload %d bubbles", n)
	}
	if open, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.body.classList.contains('picking')`)); open {
		t.Error("picker open over an ongoing chat after reload")
	}
	t.Logf("browser flow took %v", time.Since(start).Round(time.Millisecond))
}

// TestBrowserInviteLinkWithoutPicker opens a personal invite link on a
// production-style page: no picker, the link identifies the person.
func TestBrowserInviteLinkWithoutPicker(t *testing.T) {
	w := newWorld(t, false)
	p, ok := w.dir.Person("P002")
	if !ok || p.InviteToken == "" {
		t.Fatalf("no token for P002: %+v", p)
	}
	ctx := browser(t)
	run(t, ctx, "open /chat", chromedp.Navigate(w.srv.URL+"/chat"), chromedp.WaitVisible(chromedp.ID("msg")))
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#picker, .person').length`)); n != 0 {
		t.Error("picker present with Picker=false")
	}
	intro, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('.bubble.intro').textContent`))
	if !strings.Contains(intro, "liên kết mời riêng") {
		t.Errorf("intro %q", intro)
	}

	run(t, ctx, "open invite link", chromedp.Navigate(w.srv.URL+"/chat/i/"+p.InviteToken))
	waitFor(t, ctx, "Trạng thái của anh/chị")
	all, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#log').textContent`))
	if !strings.Contains(all, "Xin chào Trần Thị Bình (Phó Chủ tịch, UBND huyện Yên Mỹ)") {
		t.Errorf("not identified:\n%s", all)
	}
	if strings.Contains(all, p.InviteToken) {
		t.Error("the invite token shows in the chat")
	}
	// The user's side shows what they did, not a "/start" they never typed.
	mine, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#log .bubble.me')].map(b => b.textContent)`))
	if len(mine) != 1 || mine[0] != "🔗 Mở liên kết mời" {
		t.Errorf("own bubbles after opening the invite link: %q", mine)
	}
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	if !strings.HasSuffix(loc, "/chat") {
		t.Errorf("address bar keeps the token: %s", loc)
	}
	// Commands work as on Telegram.
	run(t, ctx, "type", chromedp.SendKeys(chromedp.ID("msg"), "/xacnhan"), chromedp.Click(chromedp.ID("send")))
	waitFor(t, ctx, "Trạng thái của anh/chị")
	screenshot(t, ctx, "webchat-invite.png")
}

// TestBrowserXSS: text from the bot is shown as text, never run.
func TestBrowserXSS(t *testing.T) {
	evil := `<script>window.__xss=1</script><img src=x onerror="window.__xss=2"> & "quotes"` + "\nline 2"
	h := &echoHandler{}
	chat := webchat.New(webchat.Config{Handler: h, Picker: true})
	h.chat = chat
	mux := http.NewServeMux()
	chat.Routes(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	h.reply = []flows.Reply{{Text: evil, Buttons: [][]flows.Button{{{Label: `<b onclick="x()">nút</b>`, Data: `"><img src=x onerror=window.__xss=3>`}}}, AskContact: true}}

	ctx := browser(t)
	run(t, ctx, "open", chromedp.Navigate(srv.URL+"/chat"), chromedp.WaitVisible(chromedp.ID("picker")),
		chromedp.Click(chromedp.ID("pick-close")), chromedp.WaitVisible(chromedp.ID("msg")))
	say(t, ctx, `<img src=x onerror="window.__xss=4">`)
	waitFor(t, ctx, "line 2")
	text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll('#log .bubble.bot .text')].pop().textContent`))
	if text != evil {
		t.Errorf("bubble text %q, want %q", text, evil)
	}
	res, err := chromedp.Run(ctx, chromedp.Evaluate[string](`String(window.__xss) + '|' + document.querySelectorAll('#log img, #log script, #log b').length + '|' + document.querySelector('#log .btn[data-payload]').textContent + '|' + document.querySelector('#log .btn.contact').textContent`))
	if err != nil || res != `undefined|0|<b onclick="x()">nút</b>|📱 Chia sẻ số điện thoại` {
		t.Errorf("page state %q %v", res, err)
	}
	// The button's payload goes back as data, untouched.
	tap(t, ctx, `"><img src=x onerror=window.__xss=3>`, `<b onclick="x()">nút</b>`)
	waitFor(t, ctx, "line 2")
	if in := h.lastInput(); in.Kind != flows.InButton || in.Data != `"><img src=x onerror=window.__xss=3>` {
		t.Errorf("button input %+v", in)
	}
	// Share the phone with the small form (demo mode: the sender's own).
	run(t, ctx, "share phone", chromedp.Click(chromedp.CSS(`#log .btn.contact`)), chromedp.WaitVisible(chromedp.ID("phone")),
		chromedp.SendKeys(chromedp.ID("phone"), "0912 345 678"), chromedp.Click(chromedp.ID("phone-send")),
		chromedp.WaitNotVisible(chromedp.ID("phoneform")))
	if in := h.lastInput(); in.Kind != flows.InContact || in.Phone != "0912345678" || !in.ContactIsSelf {
		t.Errorf("contact input %+v", in)
	}
	// A failed send shows the busy message and keeps the text.
	h.fail(fmt.Errorf("%w: down", bot.ErrNotSaved))
	say(t, ctx, "gửi lại tôi")
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('#status').textContent.includes('Hệ thống đang bận')`, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(5*time.Second))); err != nil {
		t.Fatalf("no busy notice: %v\n%s", err, pageState(ctx))
	}
	if v, _ := chromedp.Run(ctx, chromedp.Value(chromedp.ID("msg"))); v != "gửi lại tôi" {
		t.Errorf("text box %q after a failure", v)
	}
	failedID := h.lastKey()
	h.fail(nil)
	run(t, ctx, "resend", chromedp.Click(chromedp.ID("send")))
	waitFor(t, ctx, "line 2")
	if h.lastKey() != failedID {
		t.Errorf("resend got a new update id: %s vs %s", h.lastKey(), failedID)
	}
	if st, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("status"))); st != "" {
		t.Errorf("status after success %q", st)
	}
}

// TestBrowserLinks: every http(s) address in a message is a link (the text
// itself unchanged), and a reply's Link is a link button; nothing else
// becomes a link.
func TestBrowserLinks(t *testing.T) {
	text := "Xem https://hungyen.gov.vn/van-ban?id=12&x=1. Hoặc (http://sokhcn.hungyen.gov.vn/a), không phải javascript:alert(1) hay www.example.vn."
	h := &echoHandler{}
	chat := webchat.New(webchat.Config{Handler: h, Picker: true})
	h.chat = chat
	mux := http.NewServeMux()
	chat.Routes(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	const signin = "https://pii.example.vn/admin/signin/tok-123"
	h.reply = []flows.Reply{
		{Text: text},
		{Text: "🔐 Đường dẫn đăng nhập trang quản trị.", Link: &flows.LinkButton{Label: "🔐 Mở trang quản trị", URL: signin}},
		{Text: "Không phải đường dẫn", Link: &flows.LinkButton{Label: "xấu", URL: "javascript:window.__xss=1"}},
	}

	ctx := browser(t)
	run(t, ctx, "open", chromedp.Navigate(srv.URL+"/chat"), chromedp.WaitVisible(chromedp.ID("picker")),
		chromedp.Click(chromedp.ID("pick-close")), chromedp.WaitVisible(chromedp.ID("msg")))
	say(t, ctx, "xin chào")
	waitFor(t, ctx, "Không phải đường dẫn")
	got, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(() => {
		const b = [...document.querySelectorAll('#log .bubble.bot .text')];
		const first = b[b.length - 3];
		return [first.textContent].concat([...first.querySelectorAll('a')].map(a => a.getAttribute('href') + ' ' + a.target + ' ' + a.rel + ' ' + a.textContent));
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{text,
		"https://hungyen.gov.vn/van-ban?id=12&x=1 _blank noopener noreferrer https://hungyen.gov.vn/van-ban?id=12&x=1",
		"http://sokhcn.hungyen.gov.vn/a _blank noopener noreferrer http://sokhcn.hungyen.gov.vn/a"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("links in text:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	btn, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#log a.btn.link')].map(a => a.getAttribute('href') + ' ' + a.target + ' ' + a.textContent)`))
	if err != nil || len(btn) != 1 || btn[0] != signin+" _blank 🔐 Mở trang quản trị" {
		t.Errorf("link buttons %q %v", btn, err)
	}
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`[...document.querySelectorAll('#log a')].filter(a => !/^https?:/.test(a.getAttribute('href'))).length`)); n != 0 {
		t.Errorf("%d links that are not http(s)", n)
	}
	screenshot(t, ctx, "webchat-links.png")
}

type echoHandler struct {
	chat  *webchat.Chat
	reply []flows.Reply
	mu    sync.Mutex
	ins   []bot.Inbound
	err   error
}

func (h *echoHandler) Handle(ctx context.Context, in bot.Inbound) error {
	h.mu.Lock()
	h.ins = append(h.ins, in)
	err := h.err
	h.mu.Unlock()
	if err != nil {
		return err
	}
	return h.chat.Send(ctx, in.ChatID, h.reply)
}

func (h *echoHandler) fail(err error) {
	h.mu.Lock()
	h.err = err
	h.mu.Unlock()
}

func (h *echoHandler) lastInput() flows.Input {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.ins) == 0 {
		return flows.Input{}
	}
	return h.ins[len(h.ins)-1].Input
}

func (h *echoHandler) lastKey() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.ins) == 0 {
		return ""
	}
	return h.ins[len(h.ins)-1].Key.UpdateID
}
