// Package telegramtest is a fake Telegram Bot API server for tests. It speaks
// the wire protocol the real one does (form-encoded, multipart and JSON
// requests; {"ok":...} envelopes; getUpdates offset and long-poll semantics;
// 401/403/409/429 errors), so that code using
// github.com/go-telegram-bot-api/telegram-bot-api/v5 can be tested against it
// unchanged: point the library's API endpoint at Server.APIEndpoint.
//
// Tests queue what users do (SendText, PressButton, ShareContact, ...) and
// inspect what the bot did (Messages, WaitMessages, CallbackAnswers,
// Webhook, LastConfirmedOffset). FailNext scripts faults.
package telegramtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"
)

// BotID and BotUsername describe the bot the fake answers getMe with.
const (
	BotID       int64 = 7000000001
	BotUsername       = "dieuphoi_test_bot"
)

// Limits the real API enforces and the fake enforces too.
const (
	MaxTextLen       = 4096 // UTF-16 code units of a message's text
	MaxCallbackData  = 64   // bytes
	MaxDownloadBytes = 20 << 20
)

// Update is one update as JSON-shaped data, exactly what getUpdates returns
// or a webhook receives. Builders (NewText, ...) return it; With and InGroup
// adjust it before it is queued or delivered.
type Update map[string]any

// ID returns the update's update_id.
func (u Update) ID() int {
	switch v := u["update_id"].(type) {
	case int:
		return v
	case float64:
		return int(v)
	}
	return 0
}

// With sets a field of the update's message (for a callback query, of the
// query) and returns the update: u.With("media_group_id", "album-1").
func (u Update) With(field string, value any) Update {
	if m, ok := u["message"].(map[string]any); ok {
		m[field] = value
	} else if q, ok := u["callback_query"].(map[string]any); ok {
		q[field] = value
	}
	return u
}

// InGroup moves the update's message into a group chat.
func (u Update) InGroup(groupID int64, title string) Update {
	typ := "group"
	if groupID < -1000000000000 {
		typ = "supergroup" // their ids are -100…
	}
	chat := map[string]any{"id": groupID, "type": typ, "title": title}
	if m, ok := u["message"].(map[string]any); ok {
		m["chat"] = chat
	}
	// A press of a button under a message the bot sent in the group.
	if q, ok := u["callback_query"].(map[string]any); ok {
		if m, ok := q["message"].(map[string]any); ok {
			m["chat"] = chat
		}
	}
	return u
}

// JSON encodes the update.
func (u Update) JSON() []byte {
	b, err := json.Marshal(u)
	if err != nil {
		panic(err)
	}
	return b
}

// Button is one inline keyboard button as the bot sent it.
type Button struct {
	Text string
	Data string // callback_data
	URL  string
}

// SentMessage is a message the bot sent (and possibly edited since).
type SentMessage struct {
	MessageID int
	ChatID    int64
	Text      string
	ParseMode string
	// Inline is the inline keyboard, row by row; nil when none.
	Inline [][]Button
	// Keyboard is a reply keyboard's button texts; nil when none.
	Keyboard        [][]string
	RequestsContact bool // a reply keyboard button has request_contact
	OneTime         bool
	Resize          bool
	RemoveKeyboard  bool
	ReplyMarkup     json.RawMessage // raw, as sent; nil when none
	Edits           int
	At              time.Time
}

// SentDocument is a document the bot sent.
type SentDocument struct {
	MessageID int
	ChatID    int64
	Name      string
	MIME      string
	Data      []byte
	FileID    string // when sent by file_id or URL instead of uploaded
	Caption   string
	Markup    string // reply_markup as sent (a URL button under the document)
}

// CallbackAnswer is one answerCallbackQuery call.
type CallbackAnswer struct {
	ID        string
	Text      string
	ShowAlert bool
}

// WebhookInfo is what setWebhook recorded.
type WebhookInfo struct {
	URL                string
	SecretToken        string
	AllowedUpdates     []string
	DropPendingUpdates bool
	MaxConnections     int
	SetCount           int
	DeleteCount        int
}

type file struct {
	id, uniqueID, path string
	data               []byte
	name, mime         string // a document the bot sent: as uploaded
}

type fault struct {
	code       int
	retryAfter int
	desc       string
}

type callbackState struct {
	answered bool
}

// Server is the fake. Create it with New; it stops when the test ends.
type Server struct {
	t     testing.TB
	token string
	srv   *httptest.Server

	closeOnce sync.Once
	done      chan struct{}

	mu            sync.Mutex
	changed       chan struct{} // closed and replaced on every change
	updates       []Update      // not yet confirmed, ascending update_id
	nextUpdateID  int
	confirmed     int // highest offset a getUpdates call confirmed up to
	allowed       map[string]bool
	poller        chan struct{} // closed to terminate the waiting getUpdates
	nextMessageID int
	nextFile      int
	nextCallback  int
	messages      []*SentMessage
	documents     []SentDocument
	answers       []CallbackAnswer
	callbacks     map[string]*callbackState
	files         map[string]*file // by file_id
	paths         map[string]*file // by file_path
	webhook       WebhookInfo
	faults        map[string][]fault
	calls         map[string][]time.Time
	blocked       map[int64]bool
	limits        *limits // nil unless EnforceLimits
}

// New starts a fake server for token. It is closed when the test ends.
func New(t testing.TB, token string) *Server {
	t.Helper()
	s := &Server{
		t:            t,
		token:        token,
		done:         make(chan struct{}),
		changed:      make(chan struct{}),
		nextUpdateID: 100000001,
		callbacks:    map[string]*callbackState{},
		files:        map[string]*file{},
		paths:        map[string]*file{},
		faults:       map[string][]fault{},
		calls:        map[string][]time.Time{},
		blocked:      map[int64]bool{},
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// Close stops the server: waiting long polls return, later requests fail
// with connection errors. It is safe to call more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.done)
		s.srv.CloseClientConnections()
		s.srv.Close()
	})
}

// URL is the server's base URL, the equivalent of https://api.telegram.org.
func (s *Server) URL() string { return s.srv.URL }

// APIEndpoint is the endpoint format tgbotapi.NewBotAPIWithClient takes.
func (s *Server) APIEndpoint() string { return s.srv.URL + "/bot%s/%s" }

// FileEndpoint is the file download format, like tgbotapi.FileEndpoint.
func (s *Server) FileEndpoint() string { return s.srv.URL + "/file/bot%s/%s" }

// Token is the token the server accepts.
func (s *Server) Token() string { return s.token }

func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// ---------------------------------------------------------------- building

func userJSON(id int64) map[string]any {
	return map[string]any{
		"id": id, "is_bot": false, "first_name": fmt.Sprintf("Người dùng %d", id),
		"language_code": "vi",
	}
}

func botJSON() map[string]any {
	return map[string]any{"id": BotID, "is_bot": true, "first_name": "Điều phối", "username": BotUsername}
}

func privateChatJSON(id int64) map[string]any {
	return map[string]any{"id": id, "type": "private", "first_name": fmt.Sprintf("Người dùng %d", id)}
}

func utf16Len(s string) int { return len(utf16.Encode([]rune(s))) }

// message starts a message update from userID in their private chat. The
// update_id is assigned when it is queued or built.
func (s *Server) message(userID int64) (Update, map[string]any) {
	s.mu.Lock()
	s.nextMessageID++
	mid := s.nextMessageID
	uid := s.nextUpdateID
	s.nextUpdateID++
	s.mu.Unlock()
	m := map[string]any{
		"message_id": mid,
		"from":       userJSON(userID),
		"chat":       privateChatJSON(userID),
		"date":       time.Now().Unix(),
	}
	return Update{"update_id": uid, "message": m}, m
}

func commandEntities(text string) []map[string]any {
	if !strings.HasPrefix(text, "/") || len(text) < 2 {
		return nil
	}
	cmd := text
	if i := strings.IndexAny(text, " \n\t"); i >= 0 {
		cmd = text[:i]
	}
	if cmd == "/" {
		return nil
	}
	return []map[string]any{{"type": "bot_command", "offset": 0, "length": utf16Len(cmd)}}
}

// NewText builds a text message update. Text starting with a command gets
// the bot_command entity the real server adds.
func (s *Server) NewText(userID int64, text string) Update {
	u, m := s.message(userID)
	m["text"] = text
	if e := commandEntities(text); e != nil {
		m["entities"] = e
	}
	return u
}

// NewCommand builds "/command args" (args may be empty).
func (s *Server) NewCommand(userID int64, command, args string) Update {
	text := "/" + strings.TrimPrefix(command, "/")
	if args != "" {
		text += " " + args
	}
	return s.NewText(userID, text)
}

// NewButtonPress builds a callback_query for a press of the button with data
// under the bot's message messageID in userID's chat. The message's current
// text and keyboard are included when the bot sent it through this server.
func (s *Server) NewButtonPress(userID int64, messageID int, data string) Update {
	s.mu.Lock()
	uid := s.nextUpdateID
	s.nextUpdateID++
	s.nextCallback++
	qid := fmt.Sprintf("%d%07d", userID, s.nextCallback)
	s.callbacks[qid] = &callbackState{}
	msg := map[string]any{
		"message_id": messageID,
		"from":       botJSON(),
		"chat":       privateChatJSON(userID),
		"date":       time.Now().Unix(),
	}
	for _, m := range s.messages {
		if m.ChatID == userID && m.MessageID == messageID {
			msg["text"] = m.Text
			msg["date"] = m.At.Unix()
			if m.Inline != nil {
				var raw any
				_ = json.Unmarshal(m.ReplyMarkup, &raw)
				msg["reply_markup"] = raw
			}
		}
	}
	s.mu.Unlock()
	return Update{"update_id": uid, "callback_query": map[string]any{
		"id":            qid,
		"from":          userJSON(userID),
		"message":       msg,
		"chat_instance": fmt.Sprintf("-%d", 4000000000000000000+userID),
		"data":          data,
	}}
}

// NewContact builds a shared contact. ownerID is the contact's Telegram
// user_id: equal to userID when users share their own number through the
// request_contact button, another id or 0 for someone else's card.
func (s *Server) NewContact(userID int64, phone string, ownerID int64) Update {
	u, m := s.message(userID)
	c := map[string]any{"phone_number": phone, "first_name": fmt.Sprintf("Liên hệ %d", ownerID)}
	if ownerID != 0 {
		c["user_id"] = ownerID
	}
	m["contact"] = c
	return u
}

func (s *Server) addFile(prefix, ext string, data []byte) *file {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextFile++
	n := s.nextFile
	f := &file{
		id:       fmt.Sprintf("%s%06d-fake-file-id", prefix, n),
		uniqueID: fmt.Sprintf("AgAD%06d", n),
		data:     append([]byte(nil), data...),
	}
	dir := map[string]string{"BQAC": "documents", "AgAC": "photos", "CAAC": "stickers"}[prefix]
	f.path = fmt.Sprintf("%s/file_%d%s", dir, n, ext)
	s.files[f.id] = f
	s.paths[f.path] = f
	return f
}

// AddFile registers bytes under a new file_id, as if a user had uploaded
// them, and returns the file_id. getFile and the download route serve it.
func (s *Server) AddFile(name string, data []byte) string {
	ext := ""
	if i := strings.LastIndex(name, "."); i >= 0 {
		ext = name[i:]
	}
	return s.addFile("BQAC", ext, data).id
}

// ForgetFile makes the server refuse fileID from now on, as Telegram does
// with a file_id it no longer accepts: sendDocument by it answers 400.
func (s *Server) ForgetFile(fileID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f := s.files[fileID]; f != nil {
		delete(s.files, fileID)
		delete(s.paths, f.path)
	}
}

// NewDocument builds a document message; data is served by getFile.
func (s *Server) NewDocument(userID int64, name, mimeType string, data []byte) Update {
	ext := ""
	if i := strings.LastIndex(name, "."); i >= 0 {
		ext = name[i:]
	}
	f := s.addFile("BQAC", ext, data)
	u, m := s.message(userID)
	d := map[string]any{
		"file_id": f.id, "file_unique_id": f.uniqueID, "file_size": len(data),
	}
	if name != "" {
		d["file_name"] = name
	}
	if mimeType != "" {
		d["mime_type"] = mimeType
	}
	m["document"] = d
	return u
}

// NewPhoto builds a photo message with three sizes, smallest first as the
// real server sends them; the largest is data, the others are prefixes of
// it standing in for thumbnails.
func (s *Server) NewPhoto(userID int64, caption string, data []byte) Update {
	var sizes []map[string]any
	for i, dim := range [][2]int{{90, 68}, {320, 240}, {1280, 960}} {
		part := data
		if i < 2 && len(data) > 0 {
			part = data[:max(1, len(data)/(4-i)/4)]
		}
		f := s.addFile("AgAC", ".jpg", part)
		sizes = append(sizes, map[string]any{
			"file_id": f.id, "file_unique_id": f.uniqueID, "file_size": len(part),
			"width": dim[0], "height": dim[1],
		})
	}
	u, m := s.message(userID)
	m["photo"] = sizes
	if caption != "" {
		m["caption"] = caption
	}
	return u
}

// NewSticker builds a sticker message.
func (s *Server) NewSticker(userID int64, emoji string) Update {
	f := s.addFile("CAAC", ".webp", []byte("RIFF\x00\x00\x00\x00WEBP"))
	u, m := s.message(userID)
	m["sticker"] = map[string]any{
		"file_id": f.id, "file_unique_id": f.uniqueID, "width": 512, "height": 512,
		"is_animated": false, "emoji": emoji, "set_name": "FakeStickers", "file_size": len(f.data),
	}
	return u
}

// NewLocation builds a location message.
func (s *Server) NewLocation(userID int64, lat, lon float64) Update {
	u, m := s.message(userID)
	m["location"] = map[string]any{"latitude": lat, "longitude": lon}
	return u
}

// NewUpdate builds an update of any other kind, e.g.
// NewUpdate("edited_message", msg) or NewUpdate("my_chat_member", v).
func (s *Server) NewUpdate(kind string, value any) Update {
	s.mu.Lock()
	uid := s.nextUpdateID
	s.nextUpdateID++
	s.mu.Unlock()
	return Update{"update_id": uid, kind: value}
}

// ---------------------------------------------------------------- queueing

// Queue makes u available to getUpdates and wakes a waiting long poll. It
// returns u's update_id.
func (s *Server) Queue(u Update) int {
	// Round-trip through JSON so the stored value is exactly the wire form.
	var stored Update
	if err := json.Unmarshal(u.JSON(), &stored); err != nil {
		panic(err)
	}
	id := u.ID()
	s.mu.Lock()
	defer s.mu.Unlock()
	i := len(s.updates)
	for i > 0 && s.updates[i-1].ID() > id {
		i--
	}
	s.updates = append(s.updates, nil)
	copy(s.updates[i+1:], s.updates[i:])
	s.updates[i] = stored
	s.notifyLocked()
	return id
}

// SendText queues a text message from userID in their private chat.
func (s *Server) SendText(userID int64, text string) int { return s.Queue(s.NewText(userID, text)) }

// SendCommand queues "/command args".
func (s *Server) SendCommand(userID int64, command, args string) int {
	return s.Queue(s.NewCommand(userID, command, args))
}

// PressButton queues a press of the inline button with data under the bot's
// message messageID.
func (s *Server) PressButton(userID int64, messageID int, data string) int {
	return s.Queue(s.NewButtonPress(userID, messageID, data))
}

// ShareContact queues a shared contact; see NewContact.
func (s *Server) ShareContact(userID int64, phone string, ownerID int64) int {
	return s.Queue(s.NewContact(userID, phone, ownerID))
}

// SendDocument queues a document upload.
func (s *Server) SendDocument(userID int64, name, mimeType string, data []byte) int {
	return s.Queue(s.NewDocument(userID, name, mimeType, data))
}

// SendPhoto queues a photo.
func (s *Server) SendPhoto(userID int64, caption string, data []byte) int {
	return s.Queue(s.NewPhoto(userID, caption, data))
}

// SendSticker queues a sticker.
func (s *Server) SendSticker(userID int64, emoji string) int {
	return s.Queue(s.NewSticker(userID, emoji))
}

// DeliverWebhook POSTs u to url the way Telegram delivers webhooks, with the
// secret in X-Telegram-Bot-Api-Secret-Token when non-empty, and returns the
// response status code.
func DeliverWebhook(url, secret string, u Update) (int, error) {
	return DeliverRaw(url, secret, u.JSON())
}

// DeliverRaw POSTs body to url as a webhook delivery.
func DeliverRaw(url, secret string, body []byte) (int, error) {
	code, _, _, err := deliver(url, secret, body)
	return code, err
}

// Deliver POSTs u to url as DeliverWebhook does and, as Telegram does,
// runs the method the bot may give in a 2xx response's body (e.g.
// answerCallbackQuery), recorded like a call the bot made.
func (s *Server) Deliver(url, secret string, u Update) (int, error) {
	code, ct, reply, err := deliver(url, secret, u.JSON())
	if err != nil || code/100 != 2 || len(reply) == 0 {
		return code, err
	}
	req := httptest.NewRequest(http.MethodPost, "/bot"+s.token+"/", bytes.NewReader(reply))
	req.Header.Set("Content-Type", ct)
	params, _, err := parseParams(req)
	if err != nil || params.Get("method") == "" {
		return code, fmt.Errorf("telegramtest: webhook response is no method call: %q", reply)
	}
	req = httptest.NewRequest(http.MethodPost, "/bot"+s.token+"/"+params.Get("method"), bytes.NewReader(reply))
	req.Header.Set("Content-Type", ct)
	rec := httptest.NewRecorder()
	s.serve(rec, req)
	if rec.Code != http.StatusOK {
		return code, fmt.Errorf("telegramtest: the webhook response's %s failed: %s", params.Get("method"), rec.Body)
	}
	return code, nil
}

func deliver(url, secret string, body []byte) (code int, contentType string, reply []byte, err error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, "", nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", nil, err
	}
	defer resp.Body.Close()
	reply, err = io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, resp.Header.Get("Content-Type"), reply, err
}

// ---------------------------------------------------------------- scripting

// FailNext makes the next n calls of method fail with code. For 429,
// retryAfter is returned in parameters.retry_after as the real server does.
// Descriptions match the real ones for 400, 401, 403, 409, 429, 5xx.
func (s *Server) FailNext(method string, n, code, retryAfter int) {
	s.FailNextWith(method, n, code, retryAfter, "")
}

// FailNextWith is FailNext with a chosen description.
func (s *Server) FailNextWith(method string, n, code, retryAfter int, description string) {
	if description == "" {
		switch {
		case code == 429:
			description = fmt.Sprintf("Too Many Requests: retry after %d", retryAfter)
		case code == 403:
			description = "Forbidden: bot was blocked by the user"
		case code == 400:
			description = "Bad Request"
		case code == 401:
			description = "Unauthorized"
		case code == 409:
			description = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
		case code == 502:
			description = "Bad Gateway"
		default:
			description = "Internal Server Error"
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(method)
	for range n {
		s.faults[key] = append(s.faults[key], fault{code: code, retryAfter: retryAfter, desc: description})
	}
}

// Block makes sendMessage and sendDocument to chatID fail with 403 "bot was
// blocked by the user" until Unblock.
func (s *Server) Block(chatID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.blocked[chatID] = true
}

// Unblock undoes Block.
func (s *Server) Unblock(chatID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.blocked, chatID)
}

// limits is the flood control EnforceLimits turns on.
type limits struct {
	perSecond, perChat int
	global             []time.Time           // accepted sends in the last second
	chats              map[int64][]time.Time // the same per chat
	accepted, rejected int
}

// LimitStats counts the sends EnforceLimits judged: Accepted went through,
// Rejected got 429.
type LimitStats struct {
	Accepted, Rejected int
}

// EnforceLimits makes sendMessage and sendDocument answer 429 Too Many
// Requests, with retry_after, as the real server's flood control does, when
// a send would make more than perSecond sends in any one second in all, or
// more than perChatPerSecond to one chat (0 means no limit of that kind).
// Off by default.
func (s *Server) EnforceLimits(perSecond, perChatPerSecond int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits = &limits{perSecond: perSecond, perChat: perChatPerSecond, chats: map[int64][]time.Time{}}
}

// Limits returns what EnforceLimits counted so far.
func (s *Server) Limits() LimitStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.limits == nil {
		return LimitStats{}
	}
	return LimitStats{Accepted: s.limits.accepted, Rejected: s.limits.rejected}
}

// floodLocked applies EnforceLimits to a send to chat: it records the send
// and returns nil, or returns the 429 to answer.
func (s *Server) floodLocked(chat int64) *apiError {
	l := s.limits
	if l == nil {
		return nil
	}
	now := time.Now()
	recent := func(ts []time.Time) []time.Time {
		i := 0
		for i < len(ts) && now.Sub(ts[i]) >= time.Second {
			i++
		}
		return ts[i:]
	}
	l.global = recent(l.global)
	l.chats[chat] = recent(l.chats[chat])
	var oldest time.Time
	switch {
	case l.perSecond > 0 && len(l.global) >= l.perSecond:
		oldest = l.global[0]
	case l.perChat > 0 && len(l.chats[chat]) >= l.perChat:
		oldest = l.chats[chat][0]
	default:
		l.global = append(l.global, now)
		l.chats[chat] = append(l.chats[chat], now)
		l.accepted++
		return nil
	}
	l.rejected++
	wait := int((oldest.Add(time.Second).Sub(now) + time.Second - 1) / time.Second)
	wait = max(wait, 1)
	return &apiError{code: 429, desc: fmt.Sprintf("Too Many Requests: retry after %d", wait), retryAfter: wait}
}

// ---------------------------------------------------------------- inspecting

// Messages returns the messages the bot sent to chatID, oldest first, as
// they are now (edits applied).
func (s *Server) Messages(chatID int64) []SentMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.messagesLocked(chatID)
}

func (s *Server) messagesLocked(chatID int64) []SentMessage {
	var out []SentMessage
	for _, m := range s.messages {
		if m.ChatID == chatID {
			out = append(out, *m)
		}
	}
	return out
}

// WaitMessages waits until the bot sent at least n messages to chatID and
// returns them all; it fails the test after timeout.
func (s *Server) WaitMessages(t testing.TB, chatID int64, n int, timeout time.Duration) []SentMessage {
	t.Helper()
	var got []SentMessage
	ok := s.waitFor(timeout, func() bool {
		got = s.messagesLocked(chatID)
		return len(got) >= n
	})
	if !ok {
		t.Fatalf("telegramtest: waited %v for %d messages to chat %d, got %d: %s", timeout, n, chatID, len(got), texts(got))
	}
	return got
}

func texts(ms []SentMessage) string {
	var q []string
	for _, m := range ms {
		q = append(q, strconv.Quote(m.Text))
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// WaitConfirmed waits until a getUpdates call confirmed every update below
// offset; it fails the test after timeout.
func (s *Server) WaitConfirmed(t testing.TB, offset int, timeout time.Duration) {
	t.Helper()
	var got int
	if !s.waitFor(timeout, func() bool { got = s.confirmed; return got >= offset }) {
		t.Fatalf("telegramtest: waited %v for offset %d to be confirmed, confirmed %d", timeout, offset, got)
	}
}

// WaitCalls waits until method was called at least n times.
func (s *Server) WaitCalls(t testing.TB, method string, n int, timeout time.Duration) {
	t.Helper()
	key := strings.ToLower(method)
	var got int
	if !s.waitFor(timeout, func() bool { got = len(s.calls[key]); return got >= n }) {
		t.Fatalf("telegramtest: waited %v for %d calls of %s, got %d", timeout, n, method, got)
	}
}

// waitFor evaluates cond under the lock on every change until it holds.
func (s *Server) waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		ok := cond()
		ch := s.changed
		s.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-ch:
		case <-deadline.C:
			s.mu.Lock()
			ok = cond()
			s.mu.Unlock()
			return ok
		}
	}
}

// Documents returns the documents the bot sent to chatID.
func (s *Server) Documents(chatID int64) []SentDocument {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []SentDocument
	for _, d := range s.documents {
		if d.ChatID == chatID {
			out = append(out, d)
		}
	}
	return out
}

// CallbackAnswers returns the ids of the callback queries answered, in order.
func (s *Server) CallbackAnswers() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, a := range s.answers {
		out = append(out, a.ID)
	}
	return out
}

// CallbackAnswerDetails returns the answerCallbackQuery calls in full.
func (s *Server) CallbackAnswerDetails() []CallbackAnswer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]CallbackAnswer(nil), s.answers...)
}

// Webhook returns what setWebhook/deleteWebhook left.
func (s *Server) Webhook() WebhookInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.webhook
	w.AllowedUpdates = append([]string(nil), w.AllowedUpdates...)
	return w
}

// LastConfirmedOffset is the highest offset getUpdates was called with:
// every update below it is confirmed and gone. 0 means none yet.
func (s *Server) LastConfirmedOffset() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.confirmed
}

// Pending returns how many queued updates are not confirmed yet.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.updates)
}

// Calls returns how many times method was called (successfully or not).
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls[strings.ToLower(method)])
}

// CallTimes returns when method was called.
func (s *Server) CallTimes(method string) []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.calls[strings.ToLower(method)]...)
}

// ---------------------------------------------------------------- serving

type apiError struct {
	code       int
	desc       string
	retryAfter int
}

func (e *apiError) Error() string { return e.desc }

func badRequest(desc string) *apiError {
	return &apiError{code: 400, desc: "Bad Request: " + desc}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, e *apiError) {
	body := map[string]any{"ok": false, "error_code": e.code, "description": e.desc}
	if e.retryAfter > 0 {
		body["parameters"] = map[string]any{"retry_after": e.retryAfter}
	}
	writeJSON(w, e.code, body)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if rest, ok := strings.CutPrefix(path, "/file/bot"); ok {
		s.serveFile(w, r, rest)
		return
	}
	rest, ok := strings.CutPrefix(path, "/bot")
	if !ok {
		writeError(w, &apiError{code: 404, desc: "Not Found"})
		return
	}
	token, method, ok := strings.Cut(rest, "/")
	if !ok || method == "" {
		writeError(w, &apiError{code: 404, desc: "Not Found"})
		return
	}
	if token != s.token {
		writeError(w, &apiError{code: 401, desc: "Unauthorized"})
		return
	}
	params, files, err := parseParams(r)
	if err != nil {
		writeError(w, badRequest(err.Error()))
		return
	}
	key := strings.ToLower(method)

	s.mu.Lock()
	s.calls[key] = append(s.calls[key], time.Now())
	var f *fault
	if q := s.faults[key]; len(q) > 0 {
		f = &q[0]
		s.faults[key] = q[1:]
	}
	s.notifyLocked()
	s.mu.Unlock()
	if f != nil {
		writeError(w, &apiError{code: f.code, desc: f.desc, retryAfter: f.retryAfter})
		return
	}

	var result any
	switch key {
	case "getme":
		result = botJSON()
	case "getupdates":
		result, err = s.getUpdates(r, params)
	case "sendmessage":
		result, err = s.sendMessage(params)
	case "editmessagetext":
		result, err = s.editMessage(params, true)
	case "editmessagereplymarkup":
		result, err = s.editMessage(params, false)
	case "answercallbackquery":
		result, err = s.answerCallback(params)
	case "setwebhook":
		result, err = s.setWebhook(params)
	case "deletewebhook":
		result, err = s.deleteWebhook(params)
	case "getwebhookinfo":
		result = s.webhookInfo()
	case "getfile":
		result, err = s.getFile(params)
	case "senddocument":
		result, err = s.sendDocument(params, files)
	default:
		err = &apiError{code: 404, desc: "Not Found: method not found"}
	}
	if err != nil {
		if e, ok := err.(*apiError); ok {
			writeError(w, e)
		} else {
			writeError(w, &apiError{code: 500, desc: "Internal Server Error"})
		}
		return
	}
	body := map[string]any{"ok": true, "result": result}
	if key == "setwebhook" || key == "deletewebhook" {
		body["description"] = map[bool]string{true: "Webhook was set", false: "Webhook was deleted"}[key == "setwebhook"]
	}
	writeJSON(w, http.StatusOK, body)
}

type upload struct {
	name string
	mime string
	data []byte
}

// parseParams reads parameters the ways the real server accepts them:
// query string, application/x-www-form-urlencoded, multipart/form-data and
// application/json.
func parseParams(r *http.Request) (url.Values, map[string]upload, error) {
	params := url.Values{}
	for k, v := range r.URL.Query() {
		params[k] = v
	}
	files := map[string]upload{}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "", "application/x-www-form-urlencoded":
		if r.Method == http.MethodGet {
			break
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, nil, err
		}
		v, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, nil, fmt.Errorf("can't parse request body: %v", err)
		}
		for k, vs := range v {
			params[k] = vs
		}
	case "multipart/form-data":
		if err := r.ParseMultipartForm(64 << 20); err != nil {
			return nil, nil, fmt.Errorf("can't parse multipart body: %v", err)
		}
		for k, vs := range r.MultipartForm.Value {
			params[k] = vs
		}
		for k, fhs := range r.MultipartForm.File {
			if len(fhs) == 0 {
				continue
			}
			fh := fhs[0]
			f, err := fh.Open()
			if err != nil {
				return nil, nil, err
			}
			data, err := io.ReadAll(f)
			f.Close()
			if err != nil {
				return nil, nil, err
			}
			files[k] = upload{name: fh.Filename, mime: fh.Header.Get("Content-Type"), data: data}
		}
	case "application/json":
		var m map[string]any
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			return nil, nil, fmt.Errorf("can't parse JSON request body: %v", err)
		}
		for k, v := range m {
			switch x := v.(type) {
			case string:
				params.Set(k, x)
			default:
				b, _ := json.Marshal(x)
				params.Set(k, string(b))
			}
		}
	default:
		return nil, nil, fmt.Errorf("unsupported Content-Type %q", ct)
	}
	return params, files, nil
}

func intParam(p url.Values, name string, def int) (int, error) {
	v := p.Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, badRequest(fmt.Sprintf("field %q must be an integer", name))
	}
	return n, nil
}

func chatParam(p url.Values) (int64, error) {
	v := p.Get("chat_id")
	if v == "" {
		return 0, badRequest("chat_id is empty")
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, badRequest("chat not found")
	}
	return id, nil
}

func updateKind(u Update) string {
	for k := range u {
		if k != "update_id" {
			return k
		}
	}
	return ""
}

// defaultAllowed mirrors the real default: everything but chat_member,
// message_reaction and message_reaction_count.
func defaultAllowed(kind string) bool {
	switch kind {
	case "chat_member", "message_reaction", "message_reaction_count":
		return false
	}
	return true
}

func (s *Server) getUpdates(r *http.Request, p url.Values) (any, error) {
	offset, err := intParam(p, "offset", 0)
	if err != nil {
		return nil, err
	}
	limit, err := intParam(p, "limit", 100)
	if err != nil {
		return nil, err
	}
	if limit < 1 || limit > 100 {
		limit = 100
	}
	timeout, err := intParam(p, "timeout", 0)
	if err != nil {
		return nil, err
	}
	var allowed []string
	if v := p.Get("allowed_updates"); v != "" {
		if err := json.Unmarshal([]byte(v), &allowed); err != nil {
			return nil, badRequest("can't parse allowed updates")
		}
	}

	s.mu.Lock()
	if s.webhook.URL != "" {
		s.mu.Unlock()
		return nil, &apiError{code: 409, desc: "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"}
	}
	if allowed != nil {
		s.allowed = map[string]bool{}
		for _, a := range allowed {
			s.allowed[a] = true
		}
		if len(allowed) == 0 {
			s.allowed = nil // an empty list means "all but the default-off"
		}
	}
	// Confirm: drop everything below offset. A negative offset keeps only
	// the last -offset updates.
	switch {
	case offset > 0:
		i := 0
		for i < len(s.updates) && s.updates[i].ID() < offset {
			i++
		}
		s.updates = s.updates[i:]
		if offset > s.confirmed {
			s.confirmed = offset
		}
	case offset < 0 && -offset < len(s.updates):
		s.updates = s.updates[len(s.updates)+offset:]
	}
	// A new call terminates the one waiting, as the real server does.
	if s.poller != nil {
		close(s.poller)
	}
	me := make(chan struct{})
	s.poller = me
	s.notifyLocked()
	s.mu.Unlock()

	defer func() {
		s.mu.Lock()
		if s.poller == me {
			s.poller = nil
		}
		s.mu.Unlock()
	}()

	deadline := time.NewTimer(time.Duration(timeout) * time.Second)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		// Updates of kinds not allowed are dropped, never delivered.
		kept := s.updates[:0]
		for _, u := range s.updates {
			k := updateKind(u)
			if (s.allowed == nil && defaultAllowed(k)) || s.allowed[k] {
				kept = append(kept, u)
			}
		}
		s.updates = kept
		var out []Update
		for _, u := range s.updates {
			if offset <= 0 || u.ID() >= offset {
				out = append(out, u)
				if len(out) == limit {
					break
				}
			}
		}
		ch := s.changed
		s.mu.Unlock()
		if len(out) > 0 || timeout <= 0 {
			if out == nil {
				out = []Update{}
			}
			return out, nil
		}
		select {
		case <-ch:
		case <-me:
			return nil, &apiError{code: 409, desc: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"}
		case <-deadline.C:
			return []Update{}, nil
		case <-r.Context().Done():
			return []Update{}, nil
		case <-s.done:
			return []Update{}, nil
		}
	}
}

// markup parses reply_markup into m. It reports an error the way the real
// server does for unusable markup.
func parseMarkup(raw string, m *SentMessage) error {
	if raw == "" {
		return nil
	}
	var rm struct {
		InlineKeyboard *[][]struct {
			Text         string  `json:"text"`
			CallbackData *string `json:"callback_data"`
			URL          *string `json:"url"`
		} `json:"inline_keyboard"`
		Keyboard *[][]struct {
			Text           string `json:"text"`
			RequestContact bool   `json:"request_contact"`
		} `json:"keyboard"`
		ResizeKeyboard  bool `json:"resize_keyboard"`
		OneTimeKeyboard bool `json:"one_time_keyboard"`
		RemoveKeyboard  bool `json:"remove_keyboard"`
	}
	if err := json.Unmarshal([]byte(raw), &rm); err != nil {
		return badRequest("can't parse reply keyboard markup JSON object")
	}
	m.ReplyMarkup = json.RawMessage(raw)
	m.Inline, m.Keyboard = nil, nil
	m.RequestsContact, m.OneTime, m.Resize, m.RemoveKeyboard = false, false, false, false
	switch {
	case rm.InlineKeyboard != nil:
		m.Inline = [][]Button{}
		for _, row := range *rm.InlineKeyboard {
			var out []Button
			for _, b := range row {
				if b.Text == "" {
					return badRequest("text buttons are unallowed in the inline keyboard")
				}
				switch {
				case b.CallbackData != nil:
					if len(*b.CallbackData) == 0 || len(*b.CallbackData) > MaxCallbackData {
						return badRequest("BUTTON_DATA_INVALID")
					}
					out = append(out, Button{Text: b.Text, Data: *b.CallbackData})
				case b.URL != nil:
					out = append(out, Button{Text: b.Text, URL: *b.URL})
				default:
					return badRequest("can't find field \"callback_data\"")
				}
			}
			m.Inline = append(m.Inline, out)
		}
	case rm.Keyboard != nil:
		m.Keyboard = [][]string{}
		for _, row := range *rm.Keyboard {
			var out []string
			for _, b := range row {
				if b.Text == "" {
					return badRequest("keyboard button text is empty")
				}
				out = append(out, b.Text)
				m.RequestsContact = m.RequestsContact || b.RequestContact
			}
			m.Keyboard = append(m.Keyboard, out)
		}
		m.OneTime, m.Resize = rm.OneTimeKeyboard, rm.ResizeKeyboard
	case rm.RemoveKeyboard:
		m.RemoveKeyboard = true
	default:
		return badRequest("can't parse reply keyboard markup JSON object")
	}
	return nil
}

func (s *Server) messageJSON(m *SentMessage) map[string]any {
	out := map[string]any{
		"message_id": m.MessageID,
		"from":       botJSON(),
		"chat":       privateChatJSON(m.ChatID),
		"date":       m.At.Unix(),
	}
	if m.Text != "" {
		out["text"] = m.Text
	}
	if m.Inline != nil {
		var raw any
		_ = json.Unmarshal(m.ReplyMarkup, &raw)
		out["reply_markup"] = raw
	}
	if m.Edits > 0 {
		out["edit_date"] = time.Now().Unix()
	}
	return out
}

func (s *Server) sendMessage(p url.Values) (any, error) {
	chat, err := chatParam(p)
	if err != nil {
		return nil, err
	}
	text := p.Get("text")
	if strings.TrimSpace(text) == "" {
		return nil, badRequest("message text is empty")
	}
	if utf16Len(text) > MaxTextLen {
		return nil, badRequest("message is too long")
	}
	if pm := p.Get("parse_mode"); pm != "" && pm != "HTML" && pm != "Markdown" && pm != "MarkdownV2" {
		return nil, badRequest("unsupported parse_mode")
	}
	m := &SentMessage{ChatID: chat, Text: text, ParseMode: p.Get("parse_mode"), At: time.Now()}
	if err := parseMarkup(p.Get("reply_markup"), m); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.blocked[chat] {
		return nil, &apiError{code: 403, desc: "Forbidden: bot was blocked by the user"}
	}
	if e := s.floodLocked(chat); e != nil {
		return nil, e
	}
	s.nextMessageID++
	m.MessageID = s.nextMessageID
	s.messages = append(s.messages, m)
	s.notifyLocked()
	return s.messageJSON(m), nil
}

func (s *Server) editMessage(p url.Values, withText bool) (any, error) {
	if p.Get("inline_message_id") != "" {
		return nil, badRequest("inline messages are not supported by the fake")
	}
	chat, err := chatParam(p)
	if err != nil {
		return nil, err
	}
	id, err := intParam(p, "message_id", 0)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var m *SentMessage
	for _, x := range s.messages {
		if x.ChatID == chat && x.MessageID == id {
			m = x
		}
	}
	if m == nil {
		return nil, badRequest("message to edit not found")
	}
	next := *m
	if withText {
		next.Text = p.Get("text")
		if strings.TrimSpace(next.Text) == "" {
			return nil, badRequest("message text is empty")
		}
		if utf16Len(next.Text) > MaxTextLen {
			return nil, badRequest("MESSAGE_TOO_LONG")
		}
	}
	if raw := p.Get("reply_markup"); raw != "" {
		if err := parseMarkup(raw, &next); err != nil {
			return nil, err
		}
		if next.Keyboard != nil || next.RemoveKeyboard {
			return nil, badRequest("inline keyboard expected")
		}
	} else {
		next.Inline, next.ReplyMarkup = nil, nil
	}
	if next.Text == m.Text && bytes.Equal(next.ReplyMarkup, m.ReplyMarkup) {
		return nil, badRequest("message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message")
	}
	next.Edits++
	*m = next
	s.notifyLocked()
	return s.messageJSON(m), nil
}

func (s *Server) answerCallback(p url.Values) (any, error) {
	id := p.Get("callback_query_id")
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.callbacks[id]
	if st == nil || st.answered {
		return nil, badRequest("query is too old and response timeout expired or query ID is invalid")
	}
	st.answered = true
	s.answers = append(s.answers, CallbackAnswer{ID: id, Text: p.Get("text"), ShowAlert: p.Get("show_alert") == "true"})
	s.notifyLocked()
	return true, nil
}

func (s *Server) setWebhook(p url.Values) (any, error) {
	u := p.Get("url")
	if u != "" {
		pu, err := url.Parse(u)
		if err != nil || pu.Scheme != "https" && pu.Scheme != "http" || pu.Host == "" {
			return nil, badRequest("bad webhook: invalid URL")
		}
	}
	secret := p.Get("secret_token")
	if len(secret) > 256 || strings.Trim(secret, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != "" {
		return nil, badRequest("secret token contains unallowed characters")
	}
	var allowed []string
	if v := p.Get("allowed_updates"); v != "" {
		if err := json.Unmarshal([]byte(v), &allowed); err != nil {
			return nil, badRequest("can't parse allowed updates")
		}
	}
	maxConn, err := intParam(p, "max_connections", 0)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.webhook.URL = u
	s.webhook.SecretToken = secret
	s.webhook.AllowedUpdates = allowed
	s.webhook.MaxConnections = maxConn
	s.webhook.DropPendingUpdates = p.Get("drop_pending_updates") == "true"
	s.webhook.SetCount++
	if s.webhook.DropPendingUpdates {
		s.updates = nil
	}
	s.notifyLocked()
	return true, nil
}

func (s *Server) deleteWebhook(p url.Values) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.webhook.URL, s.webhook.SecretToken, s.webhook.AllowedUpdates = "", "", nil
	s.webhook.DeleteCount++
	if p.Get("drop_pending_updates") == "true" {
		s.updates = nil
	}
	s.notifyLocked()
	return true, nil
}

func (s *Server) webhookInfo() any {
	s.mu.Lock()
	defer s.mu.Unlock()
	info := map[string]any{
		"url":                    s.webhook.URL,
		"has_custom_certificate": false,
		"pending_update_count":   len(s.updates),
	}
	if s.webhook.URL != "" && s.webhook.AllowedUpdates != nil {
		info["allowed_updates"] = s.webhook.AllowedUpdates
	}
	if s.webhook.MaxConnections > 0 {
		info["max_connections"] = s.webhook.MaxConnections
	}
	return info
}

func (s *Server) getFile(p url.Values) (any, error) {
	s.mu.Lock()
	f := s.files[p.Get("file_id")]
	s.mu.Unlock()
	if f == nil {
		return nil, badRequest("invalid file_id")
	}
	if len(f.data) > MaxDownloadBytes {
		return nil, badRequest("file is too big")
	}
	return map[string]any{
		"file_id": f.id, "file_unique_id": f.uniqueID, "file_size": len(f.data), "file_path": f.path,
	}, nil
}

func (s *Server) serveFile(w http.ResponseWriter, r *http.Request, rest string) {
	token, path, ok := strings.Cut(rest, "/")
	if !ok || token != s.token {
		writeError(w, &apiError{code: 401, desc: "Unauthorized"})
		return
	}
	s.mu.Lock()
	s.calls["file"] = append(s.calls["file"], time.Now())
	f := s.paths[path]
	var flt *fault
	if q := s.faults["file"]; len(q) > 0 {
		flt = &q[0]
		s.faults["file"] = q[1:]
	}
	s.notifyLocked()
	s.mu.Unlock()
	if flt != nil {
		writeError(w, &apiError{code: flt.code, desc: flt.desc, retryAfter: flt.retryAfter})
		return
	}
	if f == nil {
		writeError(w, &apiError{code: 404, desc: "Not Found"})
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(f.data)))
	_, _ = w.Write(f.data)
}

func (s *Server) sendDocument(p url.Values, files map[string]upload) (any, error) {
	chat, err := chatParam(p)
	if err != nil {
		return nil, err
	}
	d := SentDocument{ChatID: chat, Caption: p.Get("caption"), Markup: p.Get("reply_markup")}
	var sent *file // the file named by file_id, as Telegram keeps it
	if up, ok := files["document"]; ok {
		d.Name, d.MIME, d.Data = up.name, up.mime, up.data
	} else if v := p.Get("document"); v != "" {
		d.FileID = v
		switch {
		case strings.HasPrefix(v, "attach://"):
			up, ok := files[strings.TrimPrefix(v, "attach://")]
			if !ok {
				return nil, badRequest("wrong HTTP URL specified")
			}
			d.Name, d.MIME, d.Data, d.FileID = up.name, up.mime, up.data, ""
		case strings.HasPrefix(v, "http://") || strings.HasPrefix(v, "https://"):
			// Telegram downloads it; the fake records the URL only.
		default:
			// A file_id: of a file Telegram has, as it has it (the name
			// and content it was uploaded with), or refused.
			s.mu.Lock()
			sent = s.files[v]
			s.mu.Unlock()
			if sent == nil {
				return nil, badRequest("wrong file identifier/HTTP URL specified")
			}
			d.Name, d.MIME, d.Data = sent.name, sent.mime, sent.data
		}
	} else {
		return nil, badRequest("there is no document in the request")
	}
	s.mu.Lock()
	if s.blocked[chat] {
		s.mu.Unlock()
		return nil, &apiError{code: 403, desc: "Forbidden: bot was blocked by the user"}
	}
	if e := s.floodLocked(chat); e != nil {
		s.mu.Unlock()
		return nil, e
	}
	s.nextMessageID++
	d.MessageID = s.nextMessageID
	s.documents = append(s.documents, d)
	s.notifyLocked()
	s.mu.Unlock()

	f := sent
	if f == nil {
		f = s.addFile("BQAC", "", d.Data)
		s.mu.Lock()
		f.name, f.mime = d.Name, d.MIME
		s.mu.Unlock()
	}
	msg := map[string]any{
		"message_id": d.MessageID, "from": botJSON(), "chat": privateChatJSON(chat),
		"date": time.Now().Unix(),
		"document": map[string]any{
			"file_id": f.id, "file_unique_id": f.uniqueID, "file_name": d.Name,
			"mime_type": d.MIME, "file_size": len(d.Data),
		},
	}
	if d.Caption != "" {
		msg["caption"] = d.Caption
	}
	return msg, nil
}
