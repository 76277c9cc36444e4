package zalo

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"mime"
	"net/http"
	"path"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dieuphoi/dieuphoi/bot"
	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
)

// MaxWebhookBody bounds a webhook request body.
const MaxWebhookBody = 1 << 20

// SignatureHeader carries the event's signature.
const SignatureHeader = "X-ZEvent-Signature"

// ButtonPrefix starts every button payload the adapter sends. A button of
// type oa.query.hide makes the user "send" its payload as a text message;
// the prefix tells such a text from anything a user would type.
const ButtonPrefix = "#btn:"

// Signature returns the X-ZEvent-Signature value Zalo computes for body:
// "mac=" + hex(sha256(appID + body + timestamp + oaSecret)), timestamp being
// the body's "timestamp" field as written.
func Signature(appID, oaSecret string, body []byte, timestamp string) string {
	h := sha256.New()
	h.Write([]byte(appID))
	h.Write(body)
	h.Write([]byte(timestamp))
	h.Write([]byte(oaSecret))
	return "mac=" + hex.EncodeToString(h.Sum(nil))
}

// How far an event's timestamp may be from the adapter's clock: older than
// MaxEventAge, or ahead by more than MaxEventSkew, and it is refused.
const (
	MaxEventAge  = 5 * time.Minute
	MaxEventSkew = time.Minute
)

// timestampRe finds the candidates for the event's "timestamp" field in the
// raw body, as written (a string of digits, or a number). The signature
// decides which one is the event's: only the real one verifies, and the
// decoded event must then carry the same.
var timestampRe = regexp.MustCompile(`"timestamp"\s*:\s*(?:"([0-9]{1,19})"|([0-9]{1,19}))`)

// verify checks the signature header against body, and returns the
// timestamp it was made with.
func (a *Adapter) verify(body []byte, got string) (string, bool) {
	if got == "" {
		return "", false
	}
	for _, m := range timestampRe.FindAllSubmatch(body, 4) {
		ts := string(m[1]) + string(m[2])
		want := Signature(a.appID, a.oaSecret, body, ts)
		if subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1 {
			return ts, true
		}
	}
	return "", false
}

// eventAge returns how old an event stamped ts (Unix milliseconds, as Zalo
// writes it; seconds are accepted too) is at now.
func eventAge(ts string, now time.Time) (time.Duration, bool) {
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || n <= 0 {
		return 0, false
	}
	at := time.UnixMilli(n)
	if n < 1e11 { // seconds
		at = time.Unix(n, 0)
	}
	return now.Sub(at), true
}

// event is the part of a webhook event the adapter reads.
type event struct {
	AppID     string          `json:"app_id"`
	EventName string          `json:"event_name"`
	Timestamp json.RawMessage `json:"timestamp"`
	Sender    struct {
		ID string `json:"id"`
	} `json:"sender"`
	Follower struct {
		ID string `json:"id"`
	} `json:"follower"`
	Message struct {
		MsgID       string       `json:"msg_id"`
		Text        string       `json:"text"`
		Attachments []attachment `json:"attachments"`
	} `json:"message"`
	Info struct {
		Phone string `json:"phone"`
		Name  string `json:"name"`
	} `json:"info"`
}

type attachment struct {
	Type    string `json:"type"`
	Payload struct {
		URL       string  `json:"url"`
		Thumbnail string  `json:"thumbnail"`
		Name      string  `json:"name"`
		Size      flexInt `json:"size"`
		Type      string  `json:"type"` // a file's extension: "pdf"
		ID        string  `json:"id"`
	} `json:"payload"`
}

// timestamp returns the event's timestamp as written (a JSON string's
// contents, or a number's digits).
func (e *event) timestamp() string {
	raw := bytes.TrimSpace(e.Timestamp)
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// user returns the OA-scoped id of the user the event is about.
func (e *event) user() string {
	if e.Sender.ID != "" && !strings.HasPrefix(e.EventName, "oa_") {
		return e.Sender.ID
	}
	return e.Follower.ID
}

// key names the event for de-duplication.
func (e *event) key() string {
	if e.Message.MsgID != "" {
		return e.Message.MsgID
	}
	return e.EventName + ":" + e.timestamp() + ":" + e.user()
}

// WebhookHandler receives the events Zalo POSTs to the OA's webhook URL. It
// checks the signature, answers 200 at once and queues the event for the
// worker; 401 for a bad signature, 400 for a malformed body, 413 for one
// over MaxWebhookBody, 503 when the queue is full (Zalo delivers again).
func (a *Adapter) WebhookHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		body, ok := bot.ReadWebhookBody(w, r, MaxWebhookBody, a.log)
		if !ok {
			return
		}
		// The signature is checked on the raw body, before any of it is
		// decoded: a forged event costs one hash, never a JSON parse.
		ts, ok := a.verify(body, r.Header.Get(SignatureHeader))
		if !ok {
			a.log.Warn("webhook event with a wrong or missing signature", "remote", r.RemoteAddr, "bytes", len(body))
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		var ev event
		if err := json.Unmarshal(body, &ev); err != nil || ev.EventName == "" || ev.timestamp() != ts {
			a.log.Warn("malformed webhook event", "err", err, "remote", r.RemoteAddr)
			http.Error(w, "malformed event", http.StatusBadRequest)
			return
		}
		// A signed event is only good for a few minutes: a captured one
		// replayed later (or stamped ahead) is refused.
		if age, ok := eventAge(ts, a.now()); !ok || age > MaxEventAge || age < -MaxEventSkew {
			a.log.Warn("webhook event outside its time window refused", "event", ev.EventName, "age", age.Round(time.Second), "remote", r.RemoteAddr)
			http.Error(w, "event too old or in the future", http.StatusForbidden)
			return
		}
		code := a.accept(&ev)
		if code != http.StatusOK {
			http.Error(w, http.StatusText(code), code)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}

// accept maps a verified event and queues it. It returns the HTTP status
// to answer.
func (a *Adapter) accept(ev *event) int {
	user := ev.user()
	log := a.log.With("event", ev.EventName, "user", user)
	if user == "" {
		log.Debug("event without a user ignored")
		return http.StatusOK
	}
	key := ev.key()
	if !a.seen.add(key) {
		log.Debug("duplicate event ignored", "key", key)
		return http.StatusOK
	}
	in, ok := toInbound(ev)
	j := job{user: user, event: ev.EventName}
	if interaction(ev.EventName) {
		j.touch = a.clock()
	}
	switch {
	case ok:
		in.Key = domain.UpdateKey{Channel: domain.Zalo, UpdateID: key}
		j.in = &in
	case ev.EventName == "unfollow":
		log.Info("user unfollowed the OA")
	default:
		log.Debug("event ignored")
	}
	if j.in == nil && j.touch.IsZero() {
		return http.StatusOK
	}
	if a.sync {
		if err := a.handleNow(j); err != nil {
			a.seen.forget(key) // let Zalo's redelivery in
			log.Warn("event not handled; Zalo will deliver it again", "err", err)
			return http.StatusInternalServerError
		}
		return http.StatusOK
	}
	if err := a.queue.add(j, a.process); err != nil {
		a.seen.forget(key) // let Zalo's redelivery in
		log.Warn("event not queued; Zalo will deliver it again", "err", err)
		return http.StatusServiceUnavailable
	}
	return http.StatusOK
}

// interaction reports events that open the messaging window: the user did
// something towards the OA.
func interaction(name string) bool {
	switch name {
	case "follow", "user_submit_info":
		return true
	}
	return strings.HasPrefix(name, "user_send_")
}

// toInbound maps an event to the neutral form; ok is false for events the
// bot does not act on. Key is set by the caller.
func toInbound(ev *event) (in bot.Inbound, ok bool) {
	in.UserID = ev.user()
	in.ChatID = in.UserID
	m := ev.Message
	switch ev.EventName {
	case "user_send_text":
		in.Input = textInput(m.Text)
		return in, true
	case "user_send_image", "user_send_file":
		var files []flows.FileRef
		for _, at := range m.Attachments {
			if f, ok := fileRef(at, m.MsgID, m.Text); ok {
				if len(m.Attachments) > 1 {
					f.GroupID = m.MsgID
				}
				files = append(files, f)
			}
		}
		if len(files) == 0 {
			in.Input = flows.Input{Kind: flows.InOther}
			return in, true
		}
		in.Input = flows.Input{Kind: flows.InFile, Files: files}
		return in, true
	case "user_send_sticker":
		in.Input = flows.Input{Kind: flows.InSticker}
		return in, true
	case "user_send_gif", "user_send_audio", "user_send_video", "user_send_location",
		"user_send_link", "user_send_business_card":
		in.Input = flows.Input{Kind: flows.InOther}
		return in, true
	case "follow":
		// A new follower gets the greeting, as a /start without payload.
		in.Input = flows.Input{Kind: flows.InCommand, Command: "start"}
		return in, true
	case "user_submit_info":
		// The request_user_info form offers the user's Zalo details, but
		// the user may edit them before sending, and Zalo does not say the
		// phone was checked: a claim, enough for a delegate only, and only
		// when the bot asked (SECURITY.md).
		if strings.TrimSpace(ev.Info.Phone) == "" {
			return in, false
		}
		in.Input = flows.Input{Kind: flows.InContact, Phone: strings.TrimSpace(ev.Info.Phone), ContactIsSelf: true, PhoneForm: true}
		return in, true
	}
	return in, false
}

// textInput parses a text: a button payload, a /command or plain text.
func textInput(text string) flows.Input {
	if data, ok := strings.CutPrefix(text, ButtonPrefix); ok && data != "" {
		return flows.Input{Kind: flows.InButton, Data: data}
	}
	if cmd, arg, ok := parseCommand(text); ok {
		return flows.Input{Kind: flows.InCommand, Command: cmd, Text: arg}
	}
	return flows.Input{Kind: flows.InText, Text: text}
}

// parseCommand splits "/Start  arg words" into "start" and "arg words".
func parseCommand(text string) (cmd, arg string, ok bool) {
	cmd, target, arg, ok := flows.SplitCommand(strings.TrimSpace(text))
	if target != "" {
		return "", "", false // Zalo has no @bot addressing: "/x@y" is text
	}
	return cmd, arg, ok
}

func fileRef(at attachment, msgID, caption string) (flows.FileRef, bool) {
	p := at.Payload
	switch at.Type {
	case "image":
		if p.URL == "" {
			return flows.FileRef{}, false
		}
		return flows.FileRef{
			ID: p.URL, Name: "photo_" + msgID + ".jpg", MIME: "image/jpeg", IsPhoto: true,
			Caption: caption, Download: p.URL,
		}, true
	case "file":
		if p.URL == "" {
			return flows.FileRef{}, false
		}
		name := p.Name
		if name == "" {
			name = "file_" + msgID
			if p.Type != "" {
				name += "." + p.Type
			}
		}
		ext := path.Ext(name)
		if p.Type != "" {
			ext = "." + strings.TrimPrefix(p.Type, ".")
		}
		mt := mime.TypeByExtension(strings.ToLower(ext))
		if mt == "" {
			mt = "application/octet-stream"
		}
		if i := strings.IndexByte(mt, ';'); i >= 0 {
			mt = mt[:i]
		}
		return flows.FileRef{
			ID: p.URL, Name: name, MIME: mt, Size: int64(p.Size), Caption: caption, Download: p.URL,
		}, true
	}
	return flows.FileRef{}, false
}

// seenSet remembers the last n event keys.
type seenSet struct {
	mu   sync.Mutex
	m    map[string]struct{}
	ring []string
	next int
}

func (s *seenSet) init(n int) {
	s.m = make(map[string]struct{}, n)
	s.ring = make([]string, n)
}

// add records key and reports whether it was new.
func (s *seenSet) add(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[key]; ok {
		return false
	}
	if old := s.ring[s.next]; old != "" {
		delete(s.m, old)
	}
	s.ring[s.next] = key
	s.next = (s.next + 1) % len(s.ring)
	s.m[key] = struct{}{}
	return true
}

// forget drops key (its ring slot is reused later; harmless).
func (s *seenSet) forget(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
}
