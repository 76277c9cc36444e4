// Package zalotest is a fake Zalo Official Account platform for tests: the
// OA Open API (consultation messages, uploads), the OAuth token endpoint with
// single-use rotating refresh tokens, attachment downloads, and the webhook
// side: it builds events like Zalo's, signs them with the OA secret key and
// POSTs them to the bot.
//
// Tests script faults (FailNext: error codes for the next calls), issue and
// expire tokens, and inspect what the bot sent (Messages, WaitMessages) and
// how often it refreshed (Refreshes).
package zalotest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"
)

// Error codes the fake answers with, as the real API does.
const (
	CodeTokenInvalid   = -216
	CodeTokenExpired   = -124
	CodeNotFollower    = -213
	CodeOutsideWindow  = -230
	CodeQuota          = -211
	CodeRateLimit      = -32
	CodeInvalidParam   = -210
	CodeRefreshInvalid = -14014
	CodeBadSecret      = -14002
)

// Limits the fake enforces.
const (
	MaxTextLen = 2000
	MaxButtons = 5
	// Upload limits as Zalo documents them: upload/file takes PDF, DOC and
	// DOCX up to 5 MB; upload/image JPG and PNG up to 1 MB.
	MaxFileSize  = 5 << 20
	MaxImageSize = 1 << 20
	// CodeUploadRefused is the answer to a file of a type or size the
	// upload endpoint does not take.
	CodeUploadRefused = -210
)

// Button is a button of a sent template: an oa.query.hide button's payload
// is a string; an oa.open.url button's payload is {"url": ...}, kept in URL.
type Button struct {
	Title   string `json:"title"`
	Type    string `json:"type"`
	Payload string `json:"payload"`
	URL     string `json:"-"`
}

// UnmarshalJSON reads either kind of payload, refusing an oa.open.url
// button without an http(s) URL as Zalo does.
func (b *Button) UnmarshalJSON(data []byte) error {
	var raw struct {
		Title   string          `json:"title"`
		Type    string          `json:"type"`
		Payload json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	b.Title, b.Type = raw.Title, raw.Type
	if raw.Type == "oa.open.url" {
		var p struct {
			URL string `json:"url"`
		}
		if err := json.Unmarshal(raw.Payload, &p); err != nil || !(strings.HasPrefix(p.URL, "https://") || strings.HasPrefix(p.URL, "http://")) {
			return fmt.Errorf("oa.open.url button without an http(s) url")
		}
		b.URL = p.URL
		return nil
	}
	return json.Unmarshal(raw.Payload, &b.Payload)
}

// Message is one consultation message the bot sent.
type Message struct {
	UserID       string
	Text         string
	Buttons      []Button
	TemplateType string // "request_user_info" for the share-phone card, "media" for an image
	// File is a file message (attachment type "file"): the name and bytes
	// uploaded under its token; Image the bytes of an image message.
	File  *Upload
	Image *Upload
	Raw   json.RawMessage
}

// Upload is a file the bot uploaded.
type Upload struct {
	Name string
	Data []byte
	file bool // from upload/file (else upload/image)
}

// Server is the fake platform. Its methods are safe for concurrent use.
type Server struct {
	t                          testing.TB
	srv                        *httptest.Server
	appID, oaSecret, appSecret string
	oaID                       string

	mu        sync.Mutex
	access    map[string]time.Time // valid access tokens and their expiry
	refresh   map[string]bool      // refresh tokens: true unspent, false spent
	refreshes int                  // successful refreshes
	attempts  int                  // refresh calls
	fail      map[string][]int     // path → codes for the next calls
	messages  []Message
	files     map[string][]byte
	uploads   map[string]Upload
	changed   chan struct{}
	delay     time.Duration // before answering a refresh

	webhook string
	seq     atomic.Int64
	Now     func() time.Time
}

// New starts a fake for the app and OA with these secrets.
func New(t testing.TB, appID, oaSecret, appSecret string) *Server {
	s := &Server{
		t: t, appID: appID, oaSecret: oaSecret, appSecret: appSecret, oaID: "oa-" + appID,
		access: map[string]time.Time{}, refresh: map[string]bool{}, fail: map[string][]int{},
		files: map[string][]byte{}, uploads: map[string]Upload{}, changed: make(chan struct{}),
		Now: time.Now,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/v3.0/oa/message/cs", s.handleMessage)
	mux.HandleFunc("/v2.0/oa/upload/file", s.handleUpload("token", MaxFileSize, ".pdf", ".doc", ".docx"))
	mux.HandleFunc("/v2.0/oa/upload/image", s.handleUpload("attachment_id", MaxImageSize, ".jpg", ".jpeg", ".png"))
	mux.HandleFunc("/v4/oa/access_token", s.handleRefresh)
	mux.HandleFunc("/attachments/", s.handleAttachment)
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	return s
}

// URL is the base of both the API and OAuth endpoints.
func (s *Server) URL() string { return s.srv.URL }

// OAID is the OA's id in the events the fake sends.
func (s *Server) OAID() string { return s.oaID }

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Server) newID(prefix string) string {
	return fmt.Sprintf("%s%06d%s", prefix, s.seq.Add(1), strings.Repeat("x", 8))
}

// IssueTokens creates a valid token pair whose access token expires after
// ttl (negative: already expired).
func (s *Server) IssueTokens(ttl time.Duration) (access, refresh string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issueLocked(ttl)
}

func (s *Server) issueLocked(ttl time.Duration) (string, string) {
	access := s.newID("AT-secret-")
	refresh := s.newID("RT-secret-")
	s.access[access] = s.Now().Add(ttl)
	s.refresh[refresh] = true
	return access, refresh
}

// ExpireAccessToken makes tok expired.
func (s *Server) ExpireAccessToken(tok string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.access[tok]; ok {
		s.access[tok] = s.Now().Add(-time.Second)
	}
}

// RevokeRefreshTokens makes every refresh token invalid (the OA's
// authorisation was withdrawn or expired).
func (s *Server) RevokeRefreshTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range s.refresh {
		s.refresh[k] = false
	}
}

// SetRefreshDelay makes the token endpoint wait d before answering.
func (s *Server) SetRefreshDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// Refreshes counts the successful refreshes; RefreshAttempts every call.
func (s *Server) Refreshes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refreshes
}

// RefreshAttempts counts the calls to the token endpoint.
func (s *Server) RefreshAttempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts
}

// FailNext makes the next n calls to path ("/v3.0/oa/message/cs", ...)
// answer with error code (after the access token was accepted).
func (s *Server) FailNext(path string, n, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.fail[path] = append(s.fail[path], code)
	}
}

// Messages returns what the bot sent to userID, oldest first.
func (s *Server) Messages(userID string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.messagesLocked(userID)
}

func (s *Server) messagesLocked(userID string) []Message {
	var out []Message
	for _, m := range s.messages {
		if m.UserID == userID {
			out = append(out, m)
		}
	}
	return out
}

// WaitMessages waits until the bot sent at least n messages to userID and
// returns them.
func (s *Server) WaitMessages(t testing.TB, userID string, n int, timeout time.Duration) []Message {
	t.Helper()
	deadline := time.After(timeout)
	for {
		s.mu.Lock()
		got := s.messagesLocked(userID)
		ch := s.changed
		s.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("user %s got %d messages, want %d: %+v", userID, len(got), n, got)
		}
	}
}

// Uploads returns the bytes uploaded under a token or attachment id.
func (s *Server) Uploads(id string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.uploads[id].Data
}

type envelope struct {
	Error   int    `json:"error"`
	Message string `json:"message"`
	Data    any    `json:"data,omitempty"`
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// checkToken validates the access_token header; it answers and returns
// false when it is not valid.
func (s *Server) checkToken(w http.ResponseWriter, r *http.Request) bool {
	tok := r.Header.Get("access_token")
	s.mu.Lock()
	exp, ok := s.access[tok]
	s.mu.Unlock()
	switch {
	case !ok:
		writeJSON(w, envelope{Error: CodeTokenInvalid, Message: "Access token is invalid"})
		return false
	case !s.Now().Before(exp):
		writeJSON(w, envelope{Error: CodeTokenExpired, Message: "Access token has expired"})
		return false
	}
	return true
}

// scripted pops the next scripted error code for path, 0 when none.
func (s *Server) scripted(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.fail[path]
	if len(list) == 0 {
		return 0
	}
	s.fail[path] = list[1:]
	return list[0]
}

func (s *Server) handleMessage(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if !s.checkToken(w, r) {
		return
	}
	if code := s.scripted(r.URL.Path); code != 0 {
		writeJSON(w, envelope{Error: code, Message: fmt.Sprintf("scripted error %d", code)})
		return
	}
	raw, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var req struct {
		Recipient struct {
			UserID string `json:"user_id"`
		} `json:"recipient"`
		Message struct {
			Text       string `json:"text"`
			Attachment *struct {
				Type    string `json:"type"`
				Payload struct {
					TemplateType string   `json:"template_type"`
					Buttons      []Button `json:"buttons"`
					Token        string   `json:"token"`
					Elements     []struct {
						Title        string `json:"title"`
						ImageURL     string `json:"image_url"`
						MediaType    string `json:"media_type"`
						AttachmentID string `json:"attachment_id"`
					} `json:"elements"`
				} `json:"payload"`
			} `json:"attachment"`
		} `json:"message"`
	}
	if err := json.Unmarshal(raw, &req); err != nil || req.Recipient.UserID == "" {
		writeJSON(w, envelope{Error: CodeInvalidParam, Message: "invalid request body or recipient"})
		return
	}
	m := Message{UserID: req.Recipient.UserID, Text: req.Message.Text, Raw: raw}
	if at := req.Message.Attachment; at != nil {
		m.Buttons = at.Payload.Buttons
		m.TemplateType = at.Payload.TemplateType
		if len(m.Buttons) > MaxButtons {
			writeJSON(w, envelope{Error: CodeInvalidParam, Message: "too many buttons"})
			return
		}
		if m.TemplateType == "request_user_info" && (len(at.Payload.Elements) != 1 || at.Payload.Elements[0].ImageURL == "") {
			writeJSON(w, envelope{Error: CodeInvalidParam, Message: "request_user_info needs one element with image_url"})
			return
		}
		switch {
		case at.Type == "file":
			// A file message: the token of an upload/file, nothing else.
			s.mu.Lock()
			up, ok := s.uploads[at.Payload.Token]
			s.mu.Unlock()
			if !ok || !up.file {
				writeJSON(w, envelope{Error: CodeInvalidParam, Message: "invalid file token"})
				return
			}
			m.File = &Upload{Name: up.Name, Data: up.Data}
		case m.TemplateType == "media":
			els := at.Payload.Elements
			var up Upload
			ok := len(els) == 1 && els[0].MediaType == "image"
			if ok {
				s.mu.Lock()
				up, ok = s.uploads[els[0].AttachmentID]
				s.mu.Unlock()
				ok = ok && !up.file
			}
			if !ok {
				writeJSON(w, envelope{Error: CodeInvalidParam, Message: "media template needs one image element with a valid attachment_id"})
				return
			}
			m.Image = &Upload{Name: up.Name, Data: up.Data}
		case at.Type != "template":
			writeJSON(w, envelope{Error: CodeInvalidParam, Message: "unknown attachment type"})
			return
		}
	}
	if m.Text == "" && m.TemplateType == "" && m.File == nil {
		writeJSON(w, envelope{Error: CodeInvalidParam, Message: "empty message"})
		return
	}
	if utf8.RuneCountInString(m.Text) > MaxTextLen {
		writeJSON(w, envelope{Error: CodeInvalidParam, Message: "text too long"})
		return
	}
	s.mu.Lock()
	s.messages = append(s.messages, m)
	s.notifyLocked()
	s.mu.Unlock()
	writeJSON(w, envelope{Message: "Success", Data: map[string]string{"message_id": s.newID("mid"), "user_id": m.UserID}})
}

func (s *Server) handleUpload(field string, limit int64, exts ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.checkToken(w, r) {
			return
		}
		if code := s.scripted(r.URL.Path); code != 0 {
			writeJSON(w, envelope{Error: code, Message: "scripted error"})
			return
		}
		f, hdr, err := r.FormFile("file")
		if err != nil {
			writeJSON(w, envelope{Error: CodeInvalidParam, Message: "no file"})
			return
		}
		data, _ := io.ReadAll(io.LimitReader(f, limit+1))
		ext := strings.ToLower(path.Ext(hdr.Filename))
		if !slices.Contains(exts, ext) {
			writeJSON(w, envelope{Error: CodeUploadRefused, Message: "file type is not supported"})
			return
		}
		if int64(len(data)) > limit {
			writeJSON(w, envelope{Error: CodeUploadRefused, Message: "file size exceeds the limit"})
			return
		}
		id := s.newID("up")
		s.mu.Lock()
		s.uploads[id] = Upload{Name: hdr.Filename, Data: data, file: field == "token"}
		s.mu.Unlock()
		writeJSON(w, envelope{Message: "Success", Data: map[string]string{field: id}})
	}
}

func (s *Server) handleRefresh(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.attempts++
	delay := s.delay
	s.mu.Unlock()
	if delay > 0 {
		time.Sleep(delay)
	}
	oauthErr := func(code int, name string) {
		// Zalo answers OAuth failures with HTTP 200 and error fields.
		writeJSON(w, map[string]any{"error": code, "error_name": name, "error_reason": name, "error_description": name})
	}
	if r.Method != http.MethodPost || r.ParseForm() != nil {
		oauthErr(-14001, "Invalid request")
		return
	}
	if r.Header.Get("secret_key") != s.appSecret || r.PostForm.Get("app_id") != s.appID {
		oauthErr(CodeBadSecret, "Invalid app id or secret key")
		return
	}
	if r.PostForm.Get("grant_type") != "refresh_token" {
		oauthErr(-14001, "Invalid grant_type")
		return
	}
	rt := r.PostForm.Get("refresh_token")
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.refresh[rt] {
		oauthErr(CodeRefreshInvalid, "Invalid refresh token")
		return
	}
	s.refresh[rt] = false // single use
	s.refreshes++
	access, refresh := s.issueLocked(90000 * time.Second)
	writeJSON(w, map[string]any{"access_token": access, "refresh_token": refresh, "expires_in": "90000"})
}

// AddAttachment serves data and returns its URL, as Zalo's CDN does for
// files users send.
func (s *Server) AddAttachment(name string, data []byte) string {
	id := s.newID("att")
	s.mu.Lock()
	s.files[id] = data
	s.mu.Unlock()
	return s.srv.URL + "/attachments/" + id + "/" + name
}

func (s *Server) handleAttachment(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, "/attachments/")
	id, _, _ := strings.Cut(rest, "/")
	s.mu.Lock()
	data, ok := s.files[id]
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	_, _ = w.Write(data)
}

// --- webhook side ---------------------------------------------------------

// Event is a webhook event as JSON-shaped data.
type Event map[string]any

// JSON encodes the event.
func (e Event) JSON() []byte {
	b, err := json.Marshal(e)
	if err != nil {
		panic(err)
	}
	return b
}

// MsgID returns the event's message id, "" when it has none.
func (e Event) MsgID() string {
	if m, ok := e["message"].(map[string]any); ok {
		id, _ := m["msg_id"].(string)
		return id
	}
	return ""
}

// Signature computes X-ZEvent-Signature for body, as Zalo does.
func Signature(appID, oaSecret string, body []byte, timestamp string) string {
	h := sha256.New()
	h.Write([]byte(appID))
	h.Write(body)
	h.Write([]byte(timestamp))
	h.Write([]byte(oaSecret))
	return "mac=" + hex.EncodeToString(h.Sum(nil))
}

// SetWebhook sets the URL events are POSTed to.
func (s *Server) SetWebhook(url string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.webhook = url
}

// NewEvent builds an event from userID to the OA.
func (s *Server) NewEvent(name, userID string, message map[string]any) Event {
	ts := strconv.FormatInt(s.Now().UnixMilli(), 10)
	e := Event{
		"app_id":         s.appID,
		"user_id_by_app": "app-" + userID,
		"event_name":     name,
		"timestamp":      ts,
		"sender":         map[string]any{"id": userID},
		"recipient":      map[string]any{"id": s.oaID},
	}
	if message != nil {
		if _, ok := message["msg_id"]; !ok {
			message["msg_id"] = s.newID("msg")
		}
		e["message"] = message
	}
	return e
}

// NewText builds a user_send_text event.
func (s *Server) NewText(userID, text string) Event {
	return s.NewEvent("user_send_text", userID, map[string]any{"text": text})
}

// NewFile builds a user_send_file event whose attachment serves data.
func (s *Server) NewFile(userID, name, mimeType string, data []byte) Event {
	ext := ""
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		ext = name[i+1:]
	}
	_ = mimeType // Zalo sends the extension, not a MIME type
	return s.NewEvent("user_send_file", userID, map[string]any{
		"attachments": []any{map[string]any{"type": "file", "payload": map[string]any{
			"url": s.AddAttachment(name, data), "name": name, "size": strconv.Itoa(len(data)),
			"type": ext, "checksum": fmt.Sprintf("%x", sha256.Sum256(data)),
		}}},
	})
}

// NewImage builds a user_send_image event.
func (s *Server) NewImage(userID, caption string, data []byte) Event {
	url := s.AddAttachment("image.jpg", data)
	return s.NewEvent("user_send_image", userID, map[string]any{
		"text":        caption,
		"attachments": []any{map[string]any{"type": "image", "payload": map[string]any{"url": url, "thumbnail": url}}},
	})
}

// NewSticker builds a user_send_sticker event.
func (s *Server) NewSticker(userID string) Event {
	return s.NewEvent("user_send_sticker", userID, map[string]any{
		"attachments": []any{map[string]any{"type": "sticker", "payload": map[string]any{"id": "st1", "url": "https://example.invalid/st1"}}},
	})
}

// NewSubmitInfo builds a user_submit_info event (the answer to a
// request_user_info card).
func (s *Server) NewSubmitInfo(userID, phone string) Event {
	e := s.NewEvent("user_submit_info", userID, nil)
	e["info"] = map[string]any{"name": "Nguyễn Văn A", "phone": phone, "address": "", "city": "", "district": "", "ward": ""}
	return e
}

// NewFollow builds a follow event; unfollow with follow false.
func (s *Server) NewFollow(userID string, follow bool) Event {
	name := "follow"
	if !follow {
		name = "unfollow"
	}
	return Event{
		"app_id": s.appID, "oa_id": s.oaID, "event_name": name, "source": "oa_profile",
		"timestamp": strconv.FormatInt(s.Now().UnixMilli(), 10),
		"follower":  map[string]any{"id": userID}, "user_id_by_app": "app-" + userID,
	}
}

// Post signs e with the OA secret key and POSTs it to the webhook. It
// returns the HTTP status.
func (s *Server) Post(e Event) (int, error) {
	body := e.JSON()
	ts, _ := e["timestamp"].(string)
	return s.PostRaw(Signature(s.appID, s.oaSecret, body, ts), body)
}

// PostRaw POSTs body with the signature header as given ("" omits it).
func (s *Server) PostRaw(signature string, body []byte) (int, error) {
	s.mu.Lock()
	url := s.webhook
	s.mu.Unlock()
	if url == "" {
		return 0, fmt.Errorf("zalotest: no webhook set")
	}
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if signature != "" {
		req.Header.Set("X-ZEvent-Signature", signature)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode, nil
}

func (s *Server) mustPost(e Event) Event {
	s.t.Helper()
	code, err := s.Post(e)
	if err != nil || code != http.StatusOK {
		s.t.Fatalf("zalotest: webhook %s answered %d, %v", e["event_name"], code, err)
	}
	return e
}

// SendText makes userID send text to the OA.
func (s *Server) SendText(userID, text string) Event { return s.mustPost(s.NewText(userID, text)) }

// PressButton makes userID press an oa.query.hide button: Zalo sends its
// payload as the user's text.
func (s *Server) PressButton(userID, payload string) Event {
	return s.mustPost(s.NewText(userID, payload))
}

// SendFile makes userID send a file.
func (s *Server) SendFile(userID, name, mimeType string, data []byte) Event {
	return s.mustPost(s.NewFile(userID, name, mimeType, data))
}

// SubmitInfo makes userID submit the request_user_info form.
func (s *Server) SubmitInfo(userID, phone string) Event {
	return s.mustPost(s.NewSubmitInfo(userID, phone))
}

// Follow makes userID follow the OA.
func (s *Server) Follow(userID string) Event { return s.mustPost(s.NewFollow(userID, true)) }

// Unfollow makes userID unfollow the OA.
func (s *Server) Unfollow(userID string) Event { return s.mustPost(s.NewFollow(userID, false)) }
