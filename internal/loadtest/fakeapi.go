// Package loadtest holds what the benchmark (cmd/dieuphoi-bench) and the
// multi-process and fault tests (cmd/dieuphoi) share: a lean fake Telegram
// Bot API server built for many thousands of chats, simulated users that run
// whole conversations against it, and a synthetic campaign configuration.
//
// The fake speaks the wire protocol github.com/go-telegram-bot-api/telegram-bot-api/v5
// uses (form-encoded and multipart requests, {"ok":...} envelopes, getUpdates
// offset and long-poll semantics, retry_after on 429), like
// bot/telegram/telegramtest, but keeps per-chat state behind per-chat locks
// and never scans every message, so that it costs little next to the bot it
// measures. It also pushes updates to webhook URLs (round-robin over several
// processes, in order per chat, retrying on non-2xx as Telegram does) and
// stamps, per update, when it was offered; its user records when the reply
// it waited for arrived.
package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// BotUsername is the bot the fake answers getMe with.
const BotUsername = "dieuphoi_bench_bot"

// Msg is one message the bot sent to a chat (edits applied).
type Msg struct {
	ID      int
	Text    string
	Buttons []string // callback_data of every inline button, row by row
	At      time.Time
	Edits   int
}

// HasButton reports whether the message has an inline button with data.
func (m Msg) HasButton(data string) bool {
	for _, b := range m.Buttons {
		if b == data {
			return true
		}
	}
	return false
}

// Chat is one private chat with the bot; its id is also the user's id.
type Chat struct {
	ID int64

	mu      sync.Mutex
	msgs    []Msg
	notify  chan struct{}
	offered time.Time // when the chat's latest update was offered (queued for getUpdates or for a webhook connection)
	pending [][]byte  // webhook mode: updates not yet delivered, in order
	active  bool      // webhook mode: a delivery of this chat is in flight
	docs    int
	cbSeq   int
}

// Messages returns a copy of the chat's messages.
func (c *Chat) Messages() []Msg {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Msg(nil), c.msgs...)
}

// Count returns how many messages the bot sent to the chat.
func (c *Chat) Count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.msgs)
}

// Wait waits until a message at index >= from satisfies match, and returns
// its index; -1 after timeout or when ctx ends.
func (c *Chat) Wait(ctx context.Context, from int, timeout time.Duration, match func(Msg) bool) int {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		c.mu.Lock()
		for i := from; i < len(c.msgs); i++ {
			if match(c.msgs[i]) {
				c.mu.Unlock()
				return i
			}
		}
		ch := c.notify
		c.mu.Unlock()
		select {
		case <-ch:
		case <-t.C:
			return -1
		case <-ctx.Done():
			return -1
		}
	}
}

// Fault is what a scripted failure of a Bot API method does.
type Fault struct {
	Code       int           // HTTP status with an {"ok":false} body (429 gets retry_after)
	RetryAfter int           // seconds, for 429
	Drop       bool          // close the connection without answering
	Hang       time.Duration // wait this long, then close the connection (a timeout)
}

type faultRule struct {
	f     Fault
	left  int       // calls left; <0 means until `until`
	until time.Time // zero with left>=0
}

// Options configure a Server.
type Options struct {
	Token string
	// PushURLs, when set, make the fake deliver updates by POSTing them to
	// these URLs round-robin (webhook mode) instead of queueing them for
	// getUpdates; Secret is sent in X-Telegram-Bot-Api-Secret-Token. When
	// PushURLs is empty but the bot calls setWebhook, its URL is used.
	PushURLs []string
	Secret   string
	// PushWorkers bounds concurrent webhook deliveries (Telegram's
	// max_connections, default 40, at most 100). Default 100.
	PushWorkers int
	// DuplicateEvery, when > 0, delivers every n-th update twice, at once,
	// to two different URLs (or twice to the one URL).
	DuplicateEvery int
	// Limits, when set, are enforced on sends with 429s (limits.go).
	Limits *Limits
}

// Server is the fake Bot API.
type Server struct {
	opt Options
	srv *http.Server
	ln  net.Listener
	url string

	nextUpdate atomic.Int64
	nextMsg    atomic.Int64

	chatsMu sync.RWMutex
	chats   map[int64]*Chat

	qmu       sync.Mutex
	queue     []queued // polling mode: not yet confirmed, ascending update_id
	qchanged  chan struct{}
	confirmed int

	filesMu sync.RWMutex
	files   map[string][]byte // by file_id; the path is the file_id

	faultsMu sync.Mutex
	faults   map[string][]*faultRule

	statsMu sync.Mutex
	calls   map[string]int
	lat     []time.Duration
	latAt   []time.Time // each sample's offer
	// From the offer to the bot's getUpdates returning the update, or to
	// its webhook delivery being answered (the inbox append).
	intake []time.Duration

	webhookMu  sync.Mutex
	webhookURL string
	secretSet  string

	pushCh      chan *Chat
	rr          atomic.Uint64
	delivered   atomic.Int64 // webhook POSTs answered 2xx
	redelivered atomic.Int64 // webhook POSTs that failed and were retried
	duplicates  atomic.Int64 // deliberate second deliveries
	pushDone    chan struct{}
	pushWG      sync.WaitGroup
	client      *http.Client
	closeOnce   sync.Once
	limits      *limiter // nil: no flood control
}

type queued struct {
	id      int
	chat    *Chat
	body    []byte
	at      time.Time // offered
	fetched bool      // returned by getUpdates once
}

// Start starts a fake on a free loopback port.
func Start(opt Options) (*Server, error) {
	if opt.Token == "" {
		return nil, errors.New("loadtest: no token")
	}
	if opt.PushWorkers <= 0 {
		opt.PushWorkers = 100
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{
		opt: opt, ln: ln, url: "http://" + ln.Addr().String(),
		chats: map[int64]*Chat{}, qchanged: make(chan struct{}), files: map[string][]byte{},
		faults: map[string][]*faultRule{}, calls: map[string]int{},
		pushCh: make(chan *Chat, 1<<16), pushDone: make(chan struct{}),
		client: &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
			MaxIdleConns: 1000, MaxIdleConnsPerHost: 200, IdleConnTimeout: 30 * time.Second,
		}},
	}
	if opt.Limits != nil {
		s.limits = newLimiter(*opt.Limits)
	}
	s.nextUpdate.Store(500000000)
	s.nextMsg.Store(1000)
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	for range opt.PushWorkers {
		s.pushWG.Add(1)
		go s.pushWorker()
	}
	return s, nil
}

// Close stops the server and its webhook deliveries.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.pushDone)
		s.qmu.Lock()
		close(s.qchanged)
		s.qchanged = make(chan struct{})
		s.qmu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = s.srv.Shutdown(ctx)
		_ = s.srv.Close()
		s.pushWG.Wait()
	})
}

// URL is the base URL, the equivalent of https://api.telegram.org.
func (s *Server) URL() string { return s.url }

// Chat returns the chat with id, creating it.
func (s *Server) Chat(id int64) *Chat {
	s.chatsMu.RLock()
	c := s.chats[id]
	s.chatsMu.RUnlock()
	if c != nil {
		return c
	}
	s.chatsMu.Lock()
	defer s.chatsMu.Unlock()
	if c = s.chats[id]; c == nil {
		c = &Chat{ID: id, notify: make(chan struct{})}
		s.chats[id] = c
	}
	return c
}

func (s *Server) lookup(id int64) *Chat {
	s.chatsMu.RLock()
	defer s.chatsMu.RUnlock()
	return s.chats[id]
}

// ---------------------------------------------------------------- updates

func userJSON(id int64) string {
	return fmt.Sprintf(`{"id":%d,"is_bot":false,"first_name":"Người dùng %d","language_code":"vi"}`, id, id)
}

func chatJSON(id int64) string {
	return fmt.Sprintf(`{"id":%d,"type":"private","first_name":"Người dùng %d"}`, id, id)
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// Text offers a text message from the chat's user; a leading "/command" gets
// its bot_command entity. It returns the update_id.
func (s *Server) Text(c *Chat, text string) int {
	mid := int(s.nextMsg.Add(1))
	ent := ""
	if strings.HasPrefix(text, "/") && len(text) > 1 {
		cmd := text
		if i := strings.IndexAny(text, " \n"); i >= 0 {
			cmd = text[:i]
		}
		ent = fmt.Sprintf(`,"entities":[{"type":"bot_command","offset":0,"length":%d}]`, len([]rune(cmd)))
	}
	return s.offer(c, func(uid int) []byte {
		return fmt.Appendf(nil, `{"update_id":%d,"message":{"message_id":%d,"from":%s,"chat":%s,"date":%d,"text":%s%s}}`,
			uid, mid, userJSON(c.ID), chatJSON(c.ID), time.Now().Unix(), jsonString(text), ent)
	})
}

// Press offers a press of the inline button data under the newest message
// that has it; ok is false when no message has it.
func (s *Server) Press(c *Chat, data string) (int, bool) {
	c.mu.Lock()
	mid := 0
	for i := len(c.msgs) - 1; i >= 0; i-- {
		if c.msgs[i].HasButton(data) {
			mid = c.msgs[i].ID
			break
		}
	}
	c.cbSeq++
	seq := c.cbSeq
	c.mu.Unlock()
	if mid == 0 {
		return 0, false
	}
	return s.offer(c, func(uid int) []byte {
		return fmt.Appendf(nil, `{"update_id":%d,"callback_query":{"id":"%d%06d","from":%s,"message":{"message_id":%d,"from":{"id":7000000001,"is_bot":true,"first_name":"Bot","username":%q},"chat":%s,"date":%d},"chat_instance":"-%d","data":%s}}`,
			uid, c.ID, seq, userJSON(c.ID), mid, BotUsername, chatJSON(c.ID), time.Now().Unix(), c.ID, jsonString(data))
	}), true
}

// Contact offers the user's own contact (user_id = the sender), as the
// request_contact button sends it.
func (s *Server) Contact(c *Chat, phone string) int {
	mid := int(s.nextMsg.Add(1))
	return s.offer(c, func(uid int) []byte {
		return fmt.Appendf(nil, `{"update_id":%d,"message":{"message_id":%d,"from":%s,"chat":%s,"date":%d,"contact":{"phone_number":%s,"first_name":"Thử","user_id":%d}}}`,
			uid, mid, userJSON(c.ID), chatJSON(c.ID), time.Now().Unix(), jsonString(phone), c.ID)
	})
}

// Document offers a document message; getFile and the file route serve data.
func (s *Server) Document(c *Chat, name, mimeType string, data []byte) int {
	mid := int(s.nextMsg.Add(1))
	fid := fmt.Sprintf("BQAC%d-%d", c.ID, mid)
	s.filesMu.Lock()
	s.files[fid] = data
	s.filesMu.Unlock()
	return s.offer(c, func(uid int) []byte {
		return fmt.Appendf(nil, `{"update_id":%d,"message":{"message_id":%d,"from":%s,"chat":%s,"date":%d,"document":{"file_id":%q,"file_unique_id":"u%s","file_name":%s,"mime_type":%q,"file_size":%d}}}`,
			uid, mid, userJSON(c.ID), chatJSON(c.ID), time.Now().Unix(), fid, fid, jsonString(name), mimeType, len(data))
	})
}

func (s *Server) pushing() bool {
	if len(s.opt.PushURLs) > 0 {
		return true
	}
	s.webhookMu.Lock()
	defer s.webhookMu.Unlock()
	return s.webhookURL != ""
}

// offer queues (polling) or schedules for delivery (webhook) the update
// build makes; update ids are assigned in queue order, as Telegram does.
func (s *Server) offer(c *Chat, build func(id int) []byte) int {
	now := time.Now()
	if s.pushing() {
		id := int(s.nextUpdate.Add(1))
		body := build(id)
		c.mu.Lock()
		c.offered = now
		c.pending = append(c.pending, body)
		start := !c.active
		c.active = true
		c.mu.Unlock()
		if start {
			s.pushCh <- c
		}
		return id
	}
	c.mu.Lock()
	c.offered = now
	c.mu.Unlock()
	s.qmu.Lock()
	id := int(s.nextUpdate.Add(1))
	s.queue = append(s.queue, queued{id: id, chat: c, body: build(id), at: now})
	close(s.qchanged)
	s.qchanged = make(chan struct{})
	s.qmu.Unlock()
	return id
}

// ---------------------------------------------------------------- webhook push

func (s *Server) pushTargets() []string {
	if len(s.opt.PushURLs) > 0 {
		return s.opt.PushURLs
	}
	s.webhookMu.Lock()
	defer s.webhookMu.Unlock()
	return []string{s.webhookURL}
}

// pushWorker delivers one chat's updates in order: the next only after the
// previous was answered 2xx. Telegram delivers a chat's updates in order and
// retries (with growing pauses) until a 2xx; the fake does the same.
func (s *Server) pushWorker() {
	defer s.pushWG.Done()
	for {
		var c *Chat
		select {
		case c = <-s.pushCh:
		case <-s.pushDone:
			return
		}
		c.mu.Lock()
		if len(c.pending) == 0 {
			c.active = false
			c.mu.Unlock()
			continue
		}
		// Latency counts from the offer, not from this POST: a person waits
		// while the update waits for one of the 40 connections too.
		body, from := c.pending[0], c.offered
		c.mu.Unlock()

		if !s.deliver(body) {
			return // closed
		}
		s.statsMu.Lock()
		s.intake = append(s.intake, time.Since(from))
		s.statsMu.Unlock()
		c.mu.Lock()
		c.pending = c.pending[1:]
		more := len(c.pending) > 0
		if !more {
			c.active = false
		}
		c.mu.Unlock()
		if more {
			select {
			case s.pushCh <- c:
			case <-s.pushDone:
				return
			}
		}
	}
}

// deliver POSTs body until a 2xx (bounded: about two minutes of retries).
func (s *Server) deliver(body []byte) bool {
	n := s.rr.Add(1)
	dup := s.opt.DuplicateEvery > 0 && n%uint64(s.opt.DuplicateEvery) == 0
	wait := 20 * time.Millisecond
	for attempt := 0; attempt < 400; attempt++ {
		targets := s.pushTargets()
		i := int(s.rr.Add(1) % uint64(len(targets)))
		ok := false
		if dup {
			s.duplicates.Add(1)
			var wg sync.WaitGroup
			var ok2 atomic.Bool
			j := (i + 1) % len(targets)
			wg.Go(func() { ok2.Store(s.post(targets[j], body)) })
			ok = s.post(targets[i], body)
			wg.Wait()
			ok = ok || ok2.Load()
			dup = false
		} else {
			ok = s.post(targets[i], body)
		}
		if ok {
			s.delivered.Add(1)
			return true
		}
		s.redelivered.Add(1)
		select {
		case <-time.After(wait):
		case <-s.pushDone:
			return false
		}
		wait = min(wait*2, time.Second)
	}
	return true // give up on this update, as Telegram eventually does
}

func (s *Server) post(u string, body []byte) bool {
	req, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", "application/json")
	if s.opt.Secret != "" {
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", s.opt.Secret)
	} else if sec := s.webhookSecret(); sec != "" {
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", sec)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return false
	}
	reply, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return false
	}
	if len(reply) > 0 {
		s.webhookReply(resp.Header.Get("Content-Type"), reply)
	}
	return true
}

// webhookReply runs the method a bot gave in a webhook response (Telegram
// does: e.g. answerCallbackQuery), counted under its name like a request
// and as a "webhookreply".
func (s *Server) webhookReply(contentType string, body []byte) {
	r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	r.Header.Set("Content-Type", contentType)
	p, err := params(r)
	if err != nil || p.Get("method") == "" {
		return
	}
	s.count("webhookreply")
	r = httptest.NewRequest(http.MethodPost, "/bot"+s.opt.Token+"/"+p.Get("method"), bytes.NewReader(body))
	r.Header.Set("Content-Type", contentType)
	s.serve(httptest.NewRecorder(), r)
}

func (s *Server) webhookSecret() string {
	s.webhookMu.Lock()
	defer s.webhookMu.Unlock()
	return s.secretSet
}

// ---------------------------------------------------------------- faults and stats

// Fail makes the next n calls of method (e.g. "sendMessage", "getUpdates",
// "file" for downloads) fail as f says.
func (s *Server) Fail(method string, n int, f Fault) {
	s.faultsMu.Lock()
	defer s.faultsMu.Unlock()
	k := strings.ToLower(method)
	s.faults[k] = append(s.faults[k], &faultRule{f: f, left: n})
}

// FailFor makes every call of method fail as f says for d.
func (s *Server) FailFor(method string, d time.Duration, f Fault) {
	s.faultsMu.Lock()
	defer s.faultsMu.Unlock()
	k := strings.ToLower(method)
	s.faults[k] = append(s.faults[k], &faultRule{f: f, left: -1, until: time.Now().Add(d)})
}

func (s *Server) fault(method string) *Fault {
	s.faultsMu.Lock()
	defer s.faultsMu.Unlock()
	rules := s.faults[method]
	for len(rules) > 0 {
		r := rules[0]
		if r.left > 0 {
			r.left--
			if r.left == 0 {
				rules = rules[1:]
			}
			s.faults[method] = rules
			return &r.f
		}
		if r.left < 0 && time.Now().Before(r.until) {
			return &r.f
		}
		rules = rules[1:]
		s.faults[method] = rules
	}
	return nil
}

// Calls returns how many times method was called.
func (s *Server) Calls(method string) int {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	return s.calls[strings.ToLower(method)]
}

// sample records the latency of the update the chat offered last, as of
// the reply at (the one its user waited for): one sample per step. It was
// once taken by the fake at the first message after an offer, which
// counted a step's late second message as the next step's reply; in
// webhook mode, where the stamp is taken again at the POST, that step then
// got a second sample (2,632 samples for 2,620 updates in one run).
func (s *Server) sample(c *Chat, at time.Time) {
	c.mu.Lock()
	from := c.offered
	c.mu.Unlock()
	if from.IsZero() || at.Before(from) {
		return
	}
	s.statsMu.Lock()
	s.lat = append(s.lat, at.Sub(from))
	s.latAt = append(s.latAt, from)
	s.statsMu.Unlock()
}

// Latencies returns the recorded offer-to-reply latencies and clears
// them.
func (s *Server) Latencies() []time.Duration {
	_, lat := s.LatencySamples()
	return lat
}

// LatencySamples returns the recorded latencies with the moment each
// update was offered, and clears them.
func (s *Server) LatencySamples() ([]time.Time, []time.Duration) {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	at, lat := s.latAt, s.lat
	s.latAt, s.lat = nil, nil
	return at, lat
}

// IntakeDelays returns, per update, the time from its offer to the bot
// fetching it (polling) or answering its webhook delivery (the bot stored
// it), and clears them.
func (s *Server) IntakeDelays() []time.Duration {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	out := s.intake
	s.intake = nil
	return out
}

// Confirmed is the highest offset getUpdates was called with.
func (s *Server) Confirmed() int {
	s.qmu.Lock()
	defer s.qmu.Unlock()
	return s.confirmed
}

// PushStats returns webhook deliveries answered 2xx, failed deliveries that
// were retried, and deliberate duplicate deliveries.
func (s *Server) PushStats() (delivered, retried, duplicates int64) {
	return s.delivered.Load(), s.redelivered.Load(), s.duplicates.Load()
}

// Percentile returns the p-th percentile (0..100) of ds (sorted in place).
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	i := int(float64(len(ds)-1) * p / 100)
	return ds[i]
}

// ---------------------------------------------------------------- serving

func writeJSON(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	_, _ = io.WriteString(w, body)
}

func writeErr(w http.ResponseWriter, code int, desc string, retryAfter int) {
	extra := ""
	if retryAfter > 0 {
		extra = fmt.Sprintf(`,"parameters":{"retry_after":%d}`, retryAfter)
	}
	writeJSON(w, code, fmt.Sprintf(`{"ok":false,"error_code":%d,"description":%s%s}`, code, jsonString(desc), extra))
}

func ok(w http.ResponseWriter, result string) {
	writeJSON(w, 200, `{"ok":true,"result":`+result+`}`)
}

func (s *Server) applyFault(w http.ResponseWriter, r *http.Request, f *Fault) {
	switch {
	case f.Drop || f.Hang > 0:
		if f.Hang > 0 {
			select {
			case <-time.After(f.Hang):
			case <-r.Context().Done():
			}
		}
		if hj, okh := w.(http.Hijacker); okh {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	case f.Code == 429:
		writeErr(w, 429, fmt.Sprintf("Too Many Requests: retry after %d", f.RetryAfter), f.RetryAfter)
	default:
		writeErr(w, f.Code, "Internal Server Error", 0)
	}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if rest, found := strings.CutPrefix(r.URL.Path, "/file/bot"); found {
		token, path, _ := strings.Cut(rest, "/")
		if token != s.opt.Token {
			writeErr(w, 401, "Unauthorized", 0)
			return
		}
		s.count("file")
		if f := s.fault("file"); f != nil {
			s.applyFault(w, r, f)
			return
		}
		s.filesMu.RLock()
		data, found := s.files[path]
		s.filesMu.RUnlock()
		if !found {
			writeErr(w, 404, "Not Found", 0)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		_, _ = w.Write(data)
		return
	}
	rest, found := strings.CutPrefix(r.URL.Path, "/bot")
	token, method, _ := strings.Cut(rest, "/")
	if !found || method == "" {
		writeErr(w, 404, "Not Found", 0)
		return
	}
	if token != s.opt.Token {
		writeErr(w, 401, "Unauthorized", 0)
		return
	}
	key := strings.ToLower(method)
	s.count(key)
	if f := s.fault(key); f != nil {
		s.applyFault(w, r, f)
		return
	}
	p, err := params(r)
	if err != nil {
		writeErr(w, 400, "Bad Request: "+err.Error(), 0)
		return
	}
	switch key {
	case "getme":
		ok(w, fmt.Sprintf(`{"id":7000000001,"is_bot":true,"first_name":"Bot","username":%q}`, BotUsername))
	case "getupdates":
		s.getUpdates(w, r, p)
	case "sendmessage":
		s.sendMessage(w, r, p)
	case "editmessagetext", "editmessagereplymarkup":
		s.edit(w, p, key == "editmessagetext")
	case "answercallbackquery":
		ok(w, "true")
	case "setwebhook":
		s.webhookMu.Lock()
		s.webhookURL, s.secretSet = p.Get("url"), p.Get("secret_token")
		s.webhookMu.Unlock()
		writeJSON(w, 200, `{"ok":true,"result":true,"description":"Webhook was set"}`)
	case "deletewebhook":
		s.webhookMu.Lock()
		s.webhookURL, s.secretSet = "", ""
		s.webhookMu.Unlock()
		writeJSON(w, 200, `{"ok":true,"result":true,"description":"Webhook was deleted"}`)
	case "getwebhookinfo":
		s.webhookMu.Lock()
		u := s.webhookURL
		s.webhookMu.Unlock()
		ok(w, fmt.Sprintf(`{"url":%s,"has_custom_certificate":false,"pending_update_count":0}`, jsonString(u)))
	case "getfile":
		id := p.Get("file_id")
		s.filesMu.RLock()
		data, found := s.files[id]
		s.filesMu.RUnlock()
		if !found {
			writeErr(w, 400, "Bad Request: invalid file_id", 0)
			return
		}
		ok(w, fmt.Sprintf(`{"file_id":%q,"file_unique_id":"u%s","file_size":%d,"file_path":%q}`, id, id, len(data), id))
	case "senddocument":
		s.sendDocument(w, r, p)
	default:
		writeErr(w, 404, "Not Found: method not found", 0)
	}
}

func (s *Server) count(key string) {
	s.statsMu.Lock()
	s.calls[key]++
	s.statsMu.Unlock()
}

func params(r *http.Request) (url.Values, error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "multipart/form-data":
		if err := r.ParseMultipartForm(32 << 20); err != nil {
			return nil, err
		}
		return url.Values(r.MultipartForm.Value), nil
	case "application/json":
		var m map[string]any
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			return nil, err
		}
		v := url.Values{}
		for k, x := range m {
			if str, isStr := x.(string); isStr {
				v.Set(k, str)
			} else {
				b, _ := json.Marshal(x)
				v.Set(k, string(b))
			}
		}
		return v, nil
	default:
		if err := r.ParseForm(); err != nil {
			return nil, err
		}
		return r.Form, nil
	}
}

func (s *Server) getUpdates(w http.ResponseWriter, r *http.Request, p url.Values) {
	offset, _ := strconv.Atoi(p.Get("offset"))
	limit, _ := strconv.Atoi(p.Get("limit"))
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	timeout, _ := strconv.Atoi(p.Get("timeout"))
	deadline := time.NewTimer(time.Duration(timeout) * time.Second)
	defer deadline.Stop()
	for {
		s.qmu.Lock()
		if offset > 0 {
			i := sort.Search(len(s.queue), func(i int) bool { return s.queue[i].id >= offset })
			s.queue = s.queue[i:]
			s.confirmed = max(s.confirmed, offset)
		}
		n := min(limit, len(s.queue))
		var b bytes.Buffer
		b.WriteString(`{"ok":true,"result":[`)
		now := time.Now()
		var fetched []time.Duration
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			b.Write(s.queue[i].body)
			if !s.queue[i].fetched {
				s.queue[i].fetched = true
				fetched = append(fetched, now.Sub(s.queue[i].at))
			}
		}
		if len(fetched) > 0 {
			s.statsMu.Lock()
			s.intake = append(s.intake, fetched...)
			s.statsMu.Unlock()
		}
		b.WriteString(`]}`)
		ch := s.qchanged
		s.qmu.Unlock()
		if n > 0 || timeout <= 0 {
			writeJSON(w, 200, b.String())
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			writeJSON(w, 200, `{"ok":true,"result":[]}`)
			return
		case <-r.Context().Done():
			return
		case <-s.pushDone:
			writeJSON(w, 200, `{"ok":true,"result":[]}`)
			return
		}
	}
}

type markup struct {
	InlineKeyboard [][]struct {
		CallbackData string `json:"callback_data"`
	} `json:"inline_keyboard"`
}

func buttons(raw string) []string {
	if raw == "" || !strings.Contains(raw, "inline_keyboard") {
		return nil
	}
	var m markup
	if json.Unmarshal([]byte(raw), &m) != nil {
		return nil
	}
	var out []string
	for _, row := range m.InlineKeyboard {
		for _, b := range row {
			if b.CallbackData != "" {
				out = append(out, b.CallbackData)
			}
		}
	}
	return out
}

func (s *Server) sendMessage(w http.ResponseWriter, r *http.Request, p url.Values) {
	chat, err := strconv.ParseInt(p.Get("chat_id"), 10, 64)
	text := p.Get("text")
	if err != nil || strings.TrimSpace(text) == "" {
		writeErr(w, 400, "Bad Request: message text is empty", 0)
		return
	}
	if s.limited(w, r, chat) {
		return
	}
	now := time.Now()
	m := Msg{ID: int(s.nextMsg.Add(1)), Text: text, Buttons: buttons(p.Get("reply_markup")), At: now}
	c := s.Chat(chat)
	c.mu.Lock()
	c.msgs = append(c.msgs, m)
	close(c.notify)
	c.notify = make(chan struct{})
	c.mu.Unlock()
	ok(w, fmt.Sprintf(`{"message_id":%d,"from":{"id":7000000001,"is_bot":true,"first_name":"Bot"},"chat":%s,"date":%d,"text":%s}`,
		m.ID, chatJSON(chat), now.Unix(), jsonString(text)))
}

// sendDocument takes a document uploaded (multipart) or named by the
// file_id of one uploaded before, as Telegram does; an unknown file_id is
// refused with Telegram's 400. An upload's file_id comes back in the
// result; getFile and the file route serve it.
func (s *Server) sendDocument(w http.ResponseWriter, r *http.Request, p url.Values) {
	chat, _ := strconv.ParseInt(p.Get("chat_id"), 10, 64)
	var data []byte
	fid := p.Get("document")
	if r.MultipartForm != nil && len(r.MultipartForm.File["document"]) > 0 {
		f, err := r.MultipartForm.File["document"][0].Open()
		if err == nil {
			data, err = io.ReadAll(f)
			f.Close()
		}
		if err != nil {
			writeErr(w, 400, "Bad Request: "+err.Error(), 0)
			return
		}
		fid = ""
	} else if fid != "" {
		s.filesMu.RLock()
		d, found := s.files[fid]
		s.filesMu.RUnlock()
		if !found {
			writeErr(w, 400, "Bad Request: wrong file identifier/HTTP URL specified", 0)
			return
		}
		data = d
	} else {
		writeErr(w, 400, "Bad Request: there is no document in the request", 0)
		return
	}
	if s.limited(w, r, chat) {
		return
	}
	mid := int(s.nextMsg.Add(1))
	if fid == "" {
		s.count("documentupload")
		fid = fmt.Sprintf("BQAD%d", mid)
		s.filesMu.Lock()
		s.files[fid] = data
		s.filesMu.Unlock()
	}
	if c := s.lookup(chat); c != nil {
		c.mu.Lock()
		c.docs++
		c.mu.Unlock()
	}
	ok(w, fmt.Sprintf(`{"message_id":%d,"from":{"id":7000000001,"is_bot":true,"first_name":"Bot"},"chat":%s,"date":%d,"document":{"file_id":%q,"file_unique_id":"u%s","file_size":%d}}`,
		mid, chatJSON(chat), time.Now().Unix(), fid, fid, len(data)))
}

func (s *Server) edit(w http.ResponseWriter, p url.Values, withText bool) {
	chat, _ := strconv.ParseInt(p.Get("chat_id"), 10, 64)
	id, _ := strconv.Atoi(p.Get("message_id"))
	c := s.lookup(chat)
	if c == nil {
		writeErr(w, 400, "Bad Request: message to edit not found", 0)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := len(c.msgs) - 1; i >= 0; i-- {
		if c.msgs[i].ID == id {
			if withText {
				c.msgs[i].Text = p.Get("text")
			}
			c.msgs[i].Buttons = buttons(p.Get("reply_markup"))
			c.msgs[i].Edits++
			close(c.notify)
			c.notify = make(chan struct{})
			ok(w, fmt.Sprintf(`{"message_id":%d,"chat":%s,"date":%d,"text":%s}`, id, chatJSON(chat), time.Now().Unix(), jsonString(c.msgs[i].Text)))
			return
		}
	}
	writeErr(w, 400, "Bad Request: message to edit not found", 0)
}

// LastUpdateID is the highest update_id offered so far.
func (s *Server) LastUpdateID() int { return int(s.nextUpdate.Load()) }
