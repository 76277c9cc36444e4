// Package webchat is a channel like Telegram, served by the bot itself at
// /chat: a small web page where anyone can talk to the bot with no account
// and no internet access, to try every flow.
//
// Each browser gets an anonymous chat: a random 128-bit secret, signed
// with the server's key, in an HttpOnly, SameSite=Strict cookie; cookies
// the server did not issue are refused. The chat id the bot sees (UserID and
// ChatID of bot.Inbound) is a hash of that secret, so that the ids stored in
// the database and written to logs cannot be replayed as a cookie.
//
// The conversation state (who the chat is linked to, a half-filled form) is
// durable in the session store and the results in the database, like any
// channel. What the page shows as history is kept in memory (the last 200
// messages of at most 10,000 chats) and, for chats linked to a person,
// written through to Config.History, from which it is shown again after a
// restart. Files the bot sent wait on disk (Config.FileDir), never in
// memory; uploads are streamed to temporary files.
//
// Phone numbers: the web has no verified "share my contact". In demo mode
// (Config.Picker) a typed phone number is taken as the sender's own
// (flows.Input ContactIsSelf=true), so a newcomer can try identification by
// phone, and a typed number or a picked person counts as verified
// (SECURITY.md: the picker exists only in the embedded demo). Otherwise it is sent with ContactIsSelf=false, which the flows never
// accept as identification, and the page does not offer the phone button;
// people identify with their personal invite link or their invite code.
package webchat

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/dieuphoi/dieuphoi/bot"
	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
)

// Handler handles one inbound update; *bot.Dispatcher is one.
type Handler interface {
	Handle(ctx context.Context, in bot.Inbound) error
}

// Config is what a Chat needs.
type Config struct {
	Handler Handler
	// Directory returns the current people list, for the person picker.
	Directory func() *domain.Directory
	// Picker shows "pick a configured person" on /chat and takes typed
	// phone numbers as the sender's own: demo mode only, since anyone could
	// then act as anyone.
	Picker bool
	Log    *slog.Logger
	// Secure marks the chat cookie Secure whatever the request looks like:
	// set when the public URL is https (TLS ends at a proxy in front).
	Secure bool
	// CookieKey signs the chat cookies (at least 32 bytes; every process
	// behind one address needs the same key). Nil means a random key for
	// this process only.
	CookieKey []byte
	// UploadDir holds uploads while they are handled; "" means the
	// system's temporary directory.
	UploadDir string
	// MaxUploads bounds the uploads read at the same time; 0 means 8.
	MaxUploads int
	// FileDir keeps the files the bot sent, for download; "" means a new
	// temporary directory (lost on restart).
	FileDir string
	// History, when set, keeps the last messages of identified chats
	// across restarts (storage/sqlstore); Who says whether a chat is
	// linked to a person, and its language. Anonymous chats stay in
	// memory only.
	History History
	Who     func(ctx context.Context, chat string) (identified bool, lang domain.Lang)
}

// History keeps web chat messages durably.
type History interface {
	SaveChatMessage(ctx context.Context, chat string, seq int64, body []byte, at time.Time, keep int) error
	ChatMessages(ctx context.Context, chat string, limit int) ([][]byte, error)
	DeleteChatMessage(ctx context.Context, chat string, seq int64) error
}

// Limits.
const (
	MaxFileSize     = 20 << 20 // bytes in one uploaded file
	maxJSONBody     = 64 << 10
	maxTextRunes    = 4096 // as Telegram
	maxChats        = 10000
	maxPerChat      = 200
	handleTimeout   = 30 * time.Second
	cookieName      = "dieuphoi_chat"
	cookieMaxAge    = 180 * 24 * time.Hour
	csrfHeader      = "X-Dieuphoi-Chat"
	maxFileNameRune = 200
)

// Texts the API returns; the page shows them in its status line.
const (
	errBusy      = "Hệ thống đang bận, tin nhắn chưa được lưu. Xin gửi lại."
	errUploads   = "Đang có nhiều người gửi tệp cùng lúc. Xin đợi một phút rồi gửi lại."
	errForbidden = "Phiên trò chuyện không hợp lệ. Xin tải lại trang."
	errTooLarge  = "Tệp quá lớn: chỉ gửi được tệp đến 20 MB. Xin chọn tệp nhỏ hơn."
	errBadType   = "Yêu cầu không hợp lệ (sai kiểu dữ liệu)."
	errBad       = "Yêu cầu không hợp lệ. Xin tải lại trang."
	errEmpty     = "Tin nhắn trống."
	errTooLong   = "Tin nhắn quá dài (tối đa 4096 ký tự)."
	errBadPhone  = "Số điện thoại không hợp lệ. Xin nhập 10 chữ số, ví dụ 0912 345 678."
	errNoPerson  = "Không tìm thấy người này trong danh sách. Xin tải lại trang."
)

//go:embed assets
var assets embed.FS

var page = template.Must(template.ParseFS(assets, "assets/page.html"))

// Chat is the web chat channel: an http handler set and a bot.Sender.
type Chat struct {
	h      Handler
	dir    func() *domain.Directory
	picker bool
	secure bool
	log    *slog.Logger
	boxes  *mailboxes
	now    func() time.Time

	key []byte // signs cookies
	// uploads names the temporary files of uploads being handled: the
	// dispatcher opens them (Open) while the upload request waits for it.
	uploads   sync.Map // file id -> path
	uploadDir string
	uploadSem chan struct{}
	// sent keeps the files the bot sent, on disk, for their chat.
	sent *sentFiles

	history History
	who     func(ctx context.Context, chat string) (bool, domain.Lang)
}

var (
	_ bot.Sender  = (*Chat)(nil)
	_ bot.Fetcher = (*Chat)(nil)
	_ bot.Opener  = (*Chat)(nil)
)

// New returns a web chat.
func New(c Config) *Chat {
	ch := &Chat{
		h: c.Handler, dir: c.Directory, picker: c.Picker, secure: c.Secure, log: c.Log,
		boxes: newMailboxes(maxChats, maxPerChat), now: time.Now,
		key: c.CookieKey, uploadDir: c.UploadDir, history: c.History, who: c.Who,
	}
	if ch.log == nil {
		ch.log = slog.Default()
	}
	dir := c.FileDir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "dieuphoi-webchat-*"); err != nil {
			panic(fmt.Sprintf("webchat: files directory: %v", err))
		}
	}
	sent, err := openSentFiles(dir)
	if err != nil {
		panic(err) // the directory was just made, or checked at start-up
	}
	ch.sent = sent
	if len(ch.key) < 32 {
		ch.key = make([]byte, 32)
		if _, err := rand.Read(ch.key); err != nil {
			panic(fmt.Sprintf("webchat: random: %v", err))
		}
	}
	if ch.uploadDir == "" {
		ch.uploadDir = os.TempDir()
	}
	n := c.MaxUploads
	if n <= 0 {
		n = 8
	}
	ch.uploadSem = make(chan struct{}, n)
	if ch.dir == nil {
		ch.dir = func() *domain.Directory { return domain.NewDirectory(nil, nil) }
	}
	return ch
}

// Send appends replies to chat's mailbox, where the page picks them up: at
// once in the answer to the message that caused them, or by polling for
// replies that come later (reminders).
func (c *Chat) Send(ctx context.Context, chatID string, replies []flows.Reply) error {
	c.load(ctx, chatID)
	defer c.persist(ctx, chatID)
	now := c.now()
	msgs := make([]Message, 0, len(replies))
	for _, r := range replies {
		m := Message{From: fromBot, Text: r.Text, AskContact: r.AskContact, At: now}
		if r.File != nil {
			id, size, err := c.sent.put(chatID, *r.File)
			if err != nil {
				return err
			}
			m.File = &FileView{Name: r.File.Name, Size: size, URL: "/chat/api/file/" + id}
		}
		if l := r.Link; l != nil && (strings.HasPrefix(l.URL, "https://") || strings.HasPrefix(l.URL, "http://")) {
			m.Link = &LinkView{Label: l.Label, URL: l.URL}
		}
		for _, row := range r.Buttons {
			vr := make([]ButtonView, 0, len(row))
			for _, b := range row {
				vr = append(vr, ButtonView{Label: b.Label, Data: b.Data})
			}
			m.Buttons = append(m.Buttons, vr)
		}
		msgs = append(msgs, m)
	}
	c.boxes.add(chatID, msgs...)
	return nil
}

// startEcho is what the chat shows for the user's side when an invite link
// was opened: what they did, not a command they never typed.
const startEcho = "🔗 Mở liên kết mời"

// Routes registers the page, its assets and its API on mux.
func (c *Chat) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /chat", c.servePage)
	mux.HandleFunc("GET /chat/{$}", c.servePage)
	mux.HandleFunc("GET /chat/i/{token}", c.servePage)
	mux.HandleFunc("POST /chat/api/send", c.serveSend)
	mux.HandleFunc("GET /chat/api/messages", c.serveMessages)
	mux.HandleFunc("GET /chat/api/file/{id}", c.serveDownload)
	static, err := fs.Sub(assets, "assets/static")
	if err != nil {
		panic(err)
	}
	files := http.StripPrefix("/chat/static/", http.FileServerFS(static))
	mux.Handle("GET /chat/static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		securityHeaders(w)
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	}))
}

func securityHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
}

// --- the page ---------------------------------------------------------------

type pageData struct {
	EN         bool // the page chrome in English
	Picker     bool
	PickerOpen bool
	Groups     []pickGroup
}

type pickGroup struct {
	Name   string
	People []pickPerson
}

type pickPerson struct {
	ID, Name, Position string
}

func (c *Chat) servePage(w http.ResponseWriter, r *http.Request) {
	chat := c.session(w, r, true)
	c.load(r.Context(), chat)
	d := pageData{Picker: c.picker, EN: c.boxes.lang(chat) == string(domain.English)}
	if c.picker {
		d.Groups = c.groups()
		// Open the picker for a fresh chat, and on an invite link never.
		d.PickerOpen = r.PathValue("token") == "" && c.boxes.empty(chat)
	}
	securityHeaders(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := page.Execute(w, d); err != nil {
		c.log.Warn("webchat: render page", "err", err)
	}
}

// groups lists the people who can be picked (those with an invite token),
// grouped by agency in agency-code order, people in list order.
func (c *Chat) groups() []pickGroup {
	dir := c.dir()
	if dir == nil {
		return nil
	}
	idx := map[string]int{}
	var out []pickGroup
	for _, a := range dir.Agencies() {
		idx[a.Code] = len(out)
		out = append(out, pickGroup{Name: a.Name(domain.Vietnamese)})
	}
	other := -1
	for _, p := range dir.People() {
		if p.InviteToken == "" {
			continue
		}
		i, ok := idx[p.AgencyCode]
		if !ok {
			if other < 0 {
				other = len(out)
				out = append(out, pickGroup{Name: "Khác"})
			}
			i = other
		}
		out[i].People = append(out[i].People, pickPerson{ID: p.ID, Name: p.FullName, Position: p.Position})
	}
	kept := out[:0]
	for _, g := range out {
		if len(g.People) > 0 {
			kept = append(kept, g)
		}
	}
	// Stable: unknown agencies ("Khác") last.
	sort.SliceStable(kept, func(i, j int) bool { return kept[i].Name != "Khác" && kept[j].Name == "Khác" })
	return kept
}

// --- files ------------------------------------------------------------------

// Fetch implements bot.Fetcher: the bytes of a file being uploaded.
func (c *Chat) Fetch(ctx context.Context, f flows.FileRef, maxBytes int64) ([]byte, error) {
	r, err := c.Open(ctx, f, maxBytes)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

// Open implements bot.Opener: the upload's temporary file, read from disk.
func (c *Chat) Open(_ context.Context, f flows.FileRef, maxBytes int64) (io.ReadCloser, error) {
	v, ok := c.uploads.Load(f.ID)
	if !ok {
		return nil, fmt.Errorf("webchat: upload %s is gone", f.ID)
	}
	fh, err := os.Open(v.(string))
	if err != nil {
		return nil, fmt.Errorf("webchat: open upload: %w", err)
	}
	if st, err := fh.Stat(); err != nil || st.Size() > maxBytes {
		fh.Close()
		if err != nil {
			return nil, fmt.Errorf("webchat: open upload: %w", err)
		}
		return nil, bot.ErrTooLarge
	}
	return fh, nil
}

// serveDownload gives a file the bot sent to the chat it was sent to,
// streamed from disk.
func (c *Chat) serveDownload(w http.ResponseWriter, r *http.Request) {
	chat := c.session(w, r, false)
	var fh *os.File
	var m sentMeta
	err := os.ErrNotExist
	if chat != "" {
		fh, m, err = c.sent.open(chat, r.PathValue("id"))
	}
	if err != nil {
		http.Error(w, "Tệp không còn hoặc không thuộc cuộc trò chuyện này.", http.StatusNotFound)
		return
	}
	defer fh.Close()
	// A large export may take longer than the server's write timeout.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(30 * time.Minute))
	w.Header().Set("Content-Type", m.MIME)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": fileName(m.Name)}))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.FormatInt(m.Size, 10))
	if _, err := io.Copy(w, fh); err != nil {
		c.log.Debug("webchat: download cut short", "err", err)
	}
}

// A cookie is "<secret>.<mac>": 128 random bits and their HMAC-SHA256
// under the server's key (first 128 bits), both in hex. Only cookies the
// server issued are accepted: a made-up one is refused, and the page gives
// the browser a fresh signed one.
var cookieRe = regexp.MustCompile(`^[0-9a-f]{32}\.[0-9a-f]{32}$`)

// session returns the chat id of the browser, issuing a new anonymous chat
// when it has no valid cookie and issue is set; "" when it has none and
// issue is not.
func (c *Chat) session(w http.ResponseWriter, r *http.Request, issue bool) string {
	if ck, err := r.Cookie(cookieName); err == nil {
		if secret, ok := c.verifyCookie(ck.Value); ok {
			return chatID(secret)
		}
	}
	if !issue {
		return ""
	}
	secret := randomHex(16)
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: c.signCookie(secret), Path: "/chat",
		MaxAge: int(cookieMaxAge / time.Second), HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: c.secure || r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https"),
	})
	return chatID(secret)
}

func (c *Chat) cookieMAC(secret string) string {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte("dieuphoi webchat cookie\x00" + secret))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

func (c *Chat) signCookie(secret string) string { return secret + "." + c.cookieMAC(secret) }

// verifyCookie returns the secret of a cookie the server issued, comparing
// the MAC in constant time.
func (c *Chat) verifyCookie(v string) (string, bool) {
	if !cookieRe.MatchString(v) {
		return "", false
	}
	secret, mac, _ := strings.Cut(v, ".")
	return secret, hmac.Equal([]byte(mac), []byte(c.cookieMAC(secret)))
}

// chatID derives the id the bot sees from the cookie secret.
func chatID(secret string) string {
	sum := sha256.Sum256([]byte("dieuphoi webchat\x00" + secret))
	return hex.EncodeToString(sum[:16])
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("webchat: random: %v", err))
	}
	return hex.EncodeToString(b)
}

// --- the API ----------------------------------------------------------------

// sendRequest is the JSON body of POST /chat/api/send. Exactly one of Text,
// Button, Contact, Pick and Start is set.
type sendRequest struct {
	ID      string `json:"id"`               // the client's message id
	Text    string `json:"text,omitempty"`   // typed text; "/cmd arg" is a command
	Button  string `json:"button,omitempty"` // a button's payload
	Contact string `json:"contact,omitempty"`
	Pick    string `json:"pick,omitempty"`  // a person id, picker only
	Start   string `json:"start,omitempty"` // an invite token from /chat/i/{token}
	After   int64  `json:"after,omitempty"` // the client's cursor
	Box     string `json:"box,omitempty"`
}

var clientIDRe = regexp.MustCompile(`^[A-Za-z0-9_-]{8,64}$`)

type apiError struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, apiError{Error: msg})
}

// authorize checks the CSRF header and the cookie: a cross-site request can
// neither set the header without a preflight (which is never answered) nor
// carry the SameSite=Strict cookie.
func (c *Chat) authorize(w http.ResponseWriter, r *http.Request) (string, bool) {
	if r.Header.Get(csrfHeader) != "1" {
		fail(w, http.StatusForbidden, errForbidden)
		return "", false
	}
	chat := c.session(w, r, false)
	if chat == "" {
		fail(w, http.StatusForbidden, errForbidden)
		return "", false
	}
	return chat, true
}

func (c *Chat) serveMessages(w http.ResponseWriter, r *http.Request) {
	chat, ok := c.authorize(w, r)
	if !ok {
		return
	}
	after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	c.load(r.Context(), chat)
	writeJSON(w, http.StatusOK, c.boxes.since(chat, r.URL.Query().Get("box"), after))
}

func (c *Chat) serveSend(w http.ResponseWriter, r *http.Request) {
	chat, ok := c.authorize(w, r)
	if !ok {
		return
	}
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var (
		req    sendRequest
		in     flows.Input
		echo   Message
		status int
		msg    string
	)
	switch mt {
	case "application/json":
		req, in, echo, status, msg = c.parseJSON(w, r, chat)
	case "multipart/form-data":
		var done func()
		req, in, echo, status, msg, done = c.parseMultipart(w, r, params["boundary"])
		defer done() // the temporary file goes, whatever happened
	default:
		status, msg = http.StatusUnsupportedMediaType, errBadType
	}
	if status != 0 {
		fail(w, status, msg)
		return
	}
	log := c.log.With("chat", chat[:8], "msg", req.ID, "kind", in.Kind)

	echo.From, echo.At, echo.clientID = fromMe, c.now(), req.ID
	c.load(r.Context(), chat)
	seq, added := c.boxes.echo(chat, echo)
	in2 := bot.Inbound{
		// Scoped by chat, so one browser's ids can never collide with
		// (or pre-empt) another's.
		Key:    domain.UpdateKey{Channel: domain.Web, UpdateID: chat + ":" + req.ID},
		UserID: chat, ChatID: chat, Input: in, Source: clientAddr(r),
	}
	// Finish handling even when the phone drops the connection: a retry of
	// the same id is then a duplicate and gets the replies from the mailbox.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), handleTimeout)
	defer cancel()
	if err := c.h.Handle(ctx, in2); err != nil {
		if added {
			c.boxes.remove(chat, seq)
			if c.history != nil {
				if err := c.history.DeleteChatMessage(ctx, chat, seq); err != nil {
					log.Warn("webchat: history", "err", err)
				}
			}
		}
		if errors.Is(err, bot.ErrNotSaved) {
			log.Warn("webchat: message not saved", "err", err)
		} else {
			log.Error("webchat: handle message", "err", err)
		}
		fail(w, http.StatusServiceUnavailable, errBusy)
		return
	}
	log.Debug("webchat: message handled", "retry", !added)
	writeJSON(w, http.StatusOK, c.boxes.since(chat, req.Box, req.After))
}

func (c *Chat) parseJSON(w http.ResponseWriter, r *http.Request, chat string) (req sendRequest, in flows.Input, echo Message, status int, msg string) {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSONBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return req, in, echo, http.StatusRequestEntityTooLarge, errTooLong
		}
		return req, in, echo, http.StatusBadRequest, errBad
	}
	if !clientIDRe.MatchString(req.ID) {
		return req, in, echo, http.StatusBadRequest, errBad
	}
	set := 0
	for _, s := range []string{req.Text, req.Button, req.Contact, req.Pick, req.Start} {
		if s != "" {
			set++
		}
	}
	if set == 0 {
		return req, in, echo, http.StatusBadRequest, errEmpty
	}
	if set > 1 {
		return req, in, echo, http.StatusBadRequest, errBad
	}
	switch {
	case req.Text != "":
		text := strings.TrimSpace(req.Text)
		if text == "" {
			return req, in, echo, http.StatusBadRequest, errEmpty
		}
		if utf8.RuneCountInString(text) > maxTextRunes {
			return req, in, echo, http.StatusRequestEntityTooLarge, errTooLong
		}
		in = ParseText(text)
		echo.Text = text
	case req.Button != "":
		if len(req.Button) > 64 {
			return req, in, echo, http.StatusBadRequest, errBad
		}
		in = flows.Input{Kind: flows.InButton, Data: req.Button}
		echo.Text = c.boxes.buttonLabel(chat, req.Button)
		if echo.Text == "" {
			echo.Text = req.Button
		}
	case req.Contact != "":
		phone := domain.NormalizePhone(req.Contact)
		if phone == "" {
			return req, in, echo, http.StatusBadRequest, errBadPhone
		}
		// Only the demo (picker on) takes a typed number as the sender's
		// own, and as verified: the demo lets anyone act as anyone anyway.
		in = flows.Input{Kind: flows.InContact, Phone: phone, ContactIsSelf: c.picker, ContactVerified: c.picker}
		echo.Text = "📱 " + flows.FormatPhone(phone)
	case req.Pick != "":
		if !c.picker {
			return req, in, echo, http.StatusForbidden, errForbidden
		}
		dir := c.dir()
		p, ok := dir.Person(req.Pick)
		if dir == nil || !ok || p.InviteToken == "" {
			return req, in, echo, http.StatusBadRequest, errNoPerson
		}
		in = flows.Input{Kind: flows.InCommand, Command: "start", Text: p.InviteToken, DemoPick: true}
		echo.Text = "👤 Dùng thử với tư cách: " + p.FullName
	case req.Start != "":
		token := strings.TrimSpace(req.Start)
		if len(token) > 200 {
			return req, in, echo, http.StatusBadRequest, errBad
		}
		in = flows.Input{Kind: flows.InCommand, Command: "start", Text: token}
		echo.Text = startEcho // the token stays out of the history
	}
	return req, in, echo, 0, ""
}

// parseMultipart reads a file upload: fields id, after, box, an optional
// caption text, and the part "file". The file is streamed to a temporary
// file, its size checked while reading; every other check runs before the
// upload is offered to the dispatcher (Open). done, never nil, removes the
// temporary file and frees the upload's slot: the caller defers it.
func (c *Chat) parseMultipart(w http.ResponseWriter, r *http.Request, boundary string) (req sendRequest, in flows.Input, echo Message, status int, msg string, done func()) {
	done = func() {}
	const slack = 64 << 10 // the other fields and part headers
	if r.ContentLength > MaxFileSize+slack {
		return req, in, echo, http.StatusRequestEntityTooLarge, errTooLarge, done
	}
	if boundary == "" {
		return req, in, echo, http.StatusBadRequest, errBad, done
	}
	select {
	case c.uploadSem <- struct{}{}:
	default:
		c.log.Warn("webchat: too many uploads at once", "limit", cap(c.uploadSem))
		return req, in, echo, http.StatusServiceUnavailable, errUploads, done
	}
	var tmp *os.File
	var id string
	done = func() {
		if id != "" {
			c.uploads.Delete(id)
		}
		if tmp != nil {
			_ = tmp.Close()
			if err := os.Remove(tmp.Name()); err != nil {
				c.log.Warn("webchat: remove upload", "err", err)
			}
		}
		<-c.uploadSem
	}
	mr := multipart.NewReader(http.MaxBytesReader(w, r.Body, MaxFileSize+slack), boundary)
	var file *flows.FileRef
	bad := func(err error) (int, string) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return http.StatusRequestEntityTooLarge, errTooLarge
		}
		return http.StatusBadRequest, errBad
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			status, msg = bad(err)
			return req, in, echo, status, msg, done
		}
		name := part.FormName()
		if name == "file" && part.FileName() != "" {
			if file != nil {
				return req, in, echo, http.StatusBadRequest, errBad, done
			}
			if tmp, err = os.CreateTemp(c.uploadDir, "dieuphoi-upload-*"); err != nil {
				c.log.Error("webchat: temporary file for an upload", "err", err)
				return req, in, echo, http.StatusServiceUnavailable, errBusy, done
			}
			head := make([]byte, 512)
			n, err := io.ReadFull(part, head)
			if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
				status, msg = bad(err)
				return req, in, echo, status, msg, done
			}
			if _, err := tmp.Write(head[:n]); err != nil {
				c.log.Error("webchat: write upload", "err", err)
				return req, in, echo, http.StatusServiceUnavailable, errBusy, done
			}
			rest, err := io.Copy(tmp, io.LimitReader(part, MaxFileSize+1-int64(n)))
			if err != nil {
				status, msg = bad(err)
				return req, in, echo, status, msg, done
			}
			size := int64(n) + rest
			if size > MaxFileSize {
				return req, in, echo, http.StatusRequestEntityTooLarge, errTooLarge, done
			}
			mt := part.Header.Get("Content-Type")
			if mt == "" || mt == "application/octet-stream" {
				mt = http.DetectContentType(head[:n])
			}
			file = &flows.FileRef{Name: fileName(part.FileName()), MIME: mt, Size: size, IsPhoto: strings.HasPrefix(mt, "image/")}
			continue
		}
		v, err := io.ReadAll(io.LimitReader(part, 16<<10))
		if err != nil {
			status, msg = bad(err)
			return req, in, echo, status, msg, done
		}
		switch name {
		case "id":
			req.ID = string(v)
		case "box":
			req.Box = string(v)
		case "after":
			req.After, _ = strconv.ParseInt(string(v), 10, 64)
		case "text":
			req.Text = strings.TrimSpace(string(v))
		}
	}
	if !clientIDRe.MatchString(req.ID) || file == nil {
		return req, in, echo, http.StatusBadRequest, errBad, done
	}
	if utf8.RuneCountInString(req.Text) > 1024 {
		return req, in, echo, http.StatusRequestEntityTooLarge, errTooLong, done
	}
	if err := tmp.Close(); err != nil {
		c.log.Error("webchat: write upload", "err", err)
		return req, in, echo, http.StatusServiceUnavailable, errBusy, done
	}
	// Every check passed: only now is the upload offered to the dispatcher.
	id = randomHex(8) + ":" + req.ID
	file.ID = id
	c.uploads.Store(id, tmp.Name())
	file.Caption = req.Text
	in = flows.Input{Kind: flows.InFile, Text: req.Text, Files: []flows.FileRef{*file}}
	echo.Text = req.Text
	echo.File = &FileView{Name: file.Name, Size: file.Size}
	return req, in, echo, 0, "", done
}

// fileName keeps the base name of an uploaded file, without path or control
// characters, and not too long.
func fileName(s string) string {
	s = path.Base(strings.ReplaceAll(s, `\`, "/"))
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if utf8.RuneCountInString(s) > maxFileNameRune {
		s = string([]rune(s)[:maxFileNameRune])
	}
	if s == "" || s == "." || s == "/" {
		s = "tep"
	}
	return s
}

// ParseText turns typed text into an input with the Telegram adapter's
// rules: "/Start@Bot  TOKEN" is the command "start" with the argument
// "TOKEN" (command lower-cased, a "@botname" suffix dropped); "/", "/@bot"
// and "/path/like" are text, as is anything not starting with "/".
func ParseText(text string) flows.Input {
	text = strings.TrimSpace(text)
	if cmd, _, arg, ok := flows.SplitCommand(text); ok {
		return flows.Input{Kind: flows.InCommand, Command: cmd, Text: arg}
	}
	return flows.Input{Kind: flows.InText, Text: text}
}

// clientAddr is the address the request came from, for the code-guessing
// throttle: the peer's IP, or, when the peer is a proxy on this machine,
// the address that proxy appended last to X-Forwarded-For (earlier entries
// are the client's to forge).
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			parts := strings.Split(xff[len(xff)-1], ",")
			if fwd := net.ParseIP(strings.TrimSpace(parts[len(parts)-1])); fwd != nil {
				return "ip:" + fwd.String()
			}
		}
	}
	return "ip:" + host
}

// load reads chat's recent messages back from the history when they are not
// in memory (after a restart, or once evicted).
func (c *Chat) load(ctx context.Context, chat string) {
	if c.history == nil || chat == "" || c.boxes.has(chat) {
		return
	}
	raws, err := c.history.ChatMessages(ctx, chat, maxPerChat)
	if err != nil {
		c.log.Warn("webchat: read history", "err", err)
		return
	}
	msgs := make([]Message, 0, len(raws))
	for _, raw := range raws {
		var m Message
		if err := json.Unmarshal(raw, &m); err != nil {
			continue
		}
		msgs = append(msgs, m)
	}
	c.boxes.restore(chat, msgs)
	if len(msgs) > 0 && c.who != nil {
		_, lang := c.who(ctx, chat)
		c.boxes.setLang(chat, string(lang))
	}
}

// persist writes chat's new messages to the history when the chat is
// linked to a person, and notes its language for the page chrome.
func (c *Chat) persist(ctx context.Context, chat string) {
	if c.who == nil {
		return
	}
	identified, lang := c.who(ctx, chat)
	c.boxes.setLang(chat, string(lang))
	if !identified || c.history == nil {
		return
	}
	for _, m := range c.boxes.unsaved(chat) {
		raw, err := json.Marshal(m)
		if err != nil {
			continue
		}
		if err := c.history.SaveChatMessage(ctx, chat, m.Seq, raw, m.At, maxPerChat); err != nil {
			c.log.Warn("webchat: keep history", "err", err)
			return
		}
	}
}
