package zalo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dieuphoi/dieuphoi/bot"
	"github.com/dieuphoi/dieuphoi/flows"
)

// Zalo's limits on a consultation message.
const (
	MaxMessageLen  = 2000 // characters of a text message
	MaxButtons     = 5    // buttons on one template
	MaxButtonTitle = 100  // characters of a button's title
)

// moreButtonsText heads the follow-up messages carrying buttons beyond the
// first MaxButtons (Zalo wants a text with them).
const moreButtonsText = "Lựa chọn khác / More options:"

// Error codes the OA API answers with (see the package comment).
const (
	codeTokenInvalid   = -216
	codeTokenExpired   = -124
	codeNotFollower    = -213
	codeOutsideWindow  = -201
	codeNoInteraction7 = -230
	codeQuota          = -211
	codeRateLimit      = -32
)

// Send delivers replies to the user chatID in order, as consultation
// messages (plain text: no markup to break). Texts over MaxMessageLen are
// split on line boundaries. A reply's buttons, rows flattened, go with its
// last part as a template of oa.query.hide buttons whose payloads are
// ButtonPrefix + data, at most MaxButtons per message, the rest in
// follow-up messages. A reply with AskContact is followed by Zalo's
// request_user_info card.
//
// An expired access token is refreshed and the message sent again once.
// Errors wrap ErrOutsideWindow, ErrQuota or ErrReauthorize when they are
// those; others carry Zalo's code (*APIError).
func (a *Adapter) Send(ctx context.Context, chatID string, replies []flows.Reply) error {
	if chatID == "" {
		return errors.New("zalo: no user id to send to")
	}
	if a.checkWindow {
		// Outside the window Zalo refuses (or charges) the message: say so
		// without calling, so the scheduler can use another channel.
		if ok, err := a.WithinWindow(ctx, chatID, a.clock()); err == nil && !ok {
			return fmt.Errorf("user %s: %w", chatID, ErrOutsideWindow)
		}
	}
	for i, r := range replies {
		if r.File != nil {
			if err := a.sendFile(ctx, chatID, r); err != nil {
				return err
			}
			continue
		}
		if strings.TrimSpace(r.Text) == "" {
			a.log.Warn("skipping reply with empty text", "user", chatID, "reply", i)
			continue
		}
		buttons, err := flatten(r.Buttons)
		if err != nil {
			return fmt.Errorf("zalo: reply %d: %w", i, err)
		}
		if l := r.Link; l != nil {
			if !strings.HasPrefix(l.URL, "https://") && !strings.HasPrefix(l.URL, "http://") {
				return fmt.Errorf("zalo: reply %d: link button %q: not an http(s) URL", i, l.Label)
			}
			buttons = append(buttons, zbutton{Label: l.Label, URL: l.URL})
		}
		parts := splitText(r.Text, MaxMessageLen)
		for j, part := range parts {
			msg := map[string]any{"text": part}
			if j == len(parts)-1 && len(buttons) > 0 {
				n := min(len(buttons), MaxButtons)
				msg["attachment"] = buttonTemplate(buttons[:n])
				buttons = buttons[n:]
			}
			if err := a.sendMessage(ctx, chatID, msg); err != nil {
				return err
			}
		}
		for len(buttons) > 0 {
			n := min(len(buttons), MaxButtons)
			msg := map[string]any{"text": moreButtonsText, "attachment": buttonTemplate(buttons[:n])}
			buttons = buttons[n:]
			if err := a.sendMessage(ctx, chatID, msg); err != nil {
				return err
			}
		}
		if r.AskContact {
			if err := a.askContact(ctx, chatID); err != nil {
				return err
			}
		}
	}
	return nil
}

// Zalo's upload limits (OA API v2.0 upload/file and upload/image).
const (
	MaxUploadFile  = 5 << 20 // PDF, DOC, DOCX
	MaxUploadImage = 1 << 20 // JPG, PNG
)

// fileKind is how Zalo can carry a file: "file" (uploaded document),
// "image" (uploaded picture) or "" (neither: a download link).
func fileKind(f *flows.File) string {
	ext := strings.ToLower(path.Ext(f.Name))
	switch {
	case (ext == ".pdf" || ext == ".doc" || ext == ".docx") && len(f.Data) <= MaxUploadFile:
		return "file"
	case (ext == ".jpg" || ext == ".jpeg" || ext == ".png") && len(f.Data) <= MaxUploadImage:
		return "image"
	}
	return ""
}

// sendFile delivers a reply's file: its text first (Zalo's file message has
// no caption), then the file uploaded and sent as a file or image message;
// a type Zalo refuses, a file over its limits, or an upload Zalo turns down
// goes as a signed, expiring download link instead.
func (a *Adapter) sendFile(ctx context.Context, user string, r flows.Reply) error {
	if strings.TrimSpace(r.Text) != "" {
		rest := r
		rest.File = nil
		if err := a.Send(ctx, user, []flows.Reply{rest}); err != nil {
			return err
		}
	}
	f := r.File
	var msg map[string]any
	switch fileKind(f) {
	case "file":
		tok, err := a.UploadFile(ctx, f.Name, f.Data)
		if err == nil {
			msg = map[string]any{"attachment": map[string]any{"type": "file", "payload": map[string]any{"token": tok}}}
		} else if !refusedUpload(err) {
			return err
		} else {
			a.log.Info("zalo refused the upload; sending a link", "file", f.Name, "err", err)
		}
	case "image":
		id, err := a.UploadImage(ctx, f.Name, f.Data)
		if err == nil {
			msg = map[string]any{"attachment": map[string]any{"type": "template", "payload": map[string]any{
				"template_type": "media",
				"elements":      []map[string]any{{"media_type": "image", "attachment_id": id}},
			}}}
		} else if !refusedUpload(err) {
			return err
		} else {
			a.log.Info("zalo refused the upload; sending a link", "file", f.Name, "err", err)
		}
	}
	if msg == nil {
		msg = map[string]any{"text": a.linkText(f)}
	}
	return a.sendMessage(ctx, user, msg)
}

// refusedUpload tells an upload Zalo turned down for the file itself (its
// type or size) from a failure worth reporting (token, quota, network).
func refusedUpload(err error) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && !errors.Is(err, ErrQuota) && !errors.Is(err, ErrReauthorize) &&
		apiErr.Code != codeTokenInvalid && apiErr.Code != codeTokenExpired
}

// linkText offers a file as a download link (both languages: the adapter
// does not know the reader's).
func (a *Adapter) linkText(f *flows.File) string {
	if a.links == nil {
		return fmt.Sprintf("📎 Không gửi được tệp «%s» qua Zalo; xin mở trợ lý trên web hoặc Telegram để nhận tệp.\n"+
			"📎 The file «%s» cannot be sent over Zalo; please use the web chat or Telegram to get it.", f.Name, f.Name)
	}
	link, err := a.links.Link(f)
	if err != nil {
		a.log.Error("file link", "file", f.Name, "err", err)
		return fmt.Sprintf("📎 Chưa tạo được liên kết tải tệp «%s»; xin thử lại sau ít phút.\n"+
			"📎 Could not make a download link for «%s»; please try again in a few minutes.", f.Name, f.Name)
	}
	hours := int(a.links.TTL().Round(time.Hour) / time.Hour)
	return fmt.Sprintf("📎 Tệp «%s» — tải về tại đây (liên kết dùng được trong %d giờ):\n%s\n"+
		"(Download «%s» from the link above; it works for %d hours.)", f.Name, hours, link, f.Name, hours)
}

// zbutton is one button of a template: a choice coming back as the user's
// text (Data), or a link Zalo opens (URL, an oa.open.url button).
type zbutton struct {
	Label, Data, URL string
}

// flatten puts the rows of buttons in one list, checking them.
func flatten(rows [][]flows.Button) ([]zbutton, error) {
	var out []zbutton
	for _, row := range rows {
		for _, b := range row {
			if b.Data == "" {
				return nil, fmt.Errorf("button %q has no data", b.Label)
			}
			out = append(out, zbutton{Label: b.Label, Data: b.Data})
		}
	}
	return out, nil
}

// buttonTemplate renders buttons as the attachment of a text message.
func buttonTemplate(bs []zbutton) map[string]any {
	list := make([]map[string]any, len(bs))
	for i, b := range bs {
		list[i] = map[string]any{
			"title":   truncate(b.Label, MaxButtonTitle),
			"type":    "oa.query.hide",
			"payload": ButtonPrefix + b.Data,
		}
		if b.URL != "" {
			list[i]["type"], list[i]["payload"] = "oa.open.url", map[string]any{"url": b.URL}
		}
	}
	return map[string]any{"type": "template", "payload": map[string]any{"buttons": list}}
}

// askContact sends the request_user_info card; the user's answer arrives
// as a user_submit_info event.
func (a *Adapter) askContact(ctx context.Context, user string) error {
	if a.infoImage == "" {
		if !a.warnedInfoImage.Swap(true) {
			a.log.Warn("no RequestInfoImageURL configured: Zalo's «share your phone number» card cannot be sent; users must type their number")
		}
		return nil
	}
	msg := map[string]any{"attachment": map[string]any{
		"type": "template",
		"payload": map[string]any{
			"template_type": "request_user_info",
			"elements": []map[string]any{{
				"title":     truncate(a.infoTitle, 100),
				"subtitle":  truncate(a.infoSub, 500),
				"image_url": a.infoImage,
			}},
		},
	}}
	return a.sendMessage(ctx, user, msg)
}

// sendMessage posts one consultation message.
func (a *Adapter) sendMessage(ctx context.Context, user string, msg map[string]any) error {
	body, err := json.Marshal(map[string]any{"recipient": map[string]any{"user_id": user}, "message": msg})
	if err != nil {
		return fmt.Errorf("zalo: encode message: %w", err)
	}
	_, err = a.callAPI(ctx, "/v3.0/oa/message/cs", func() (*http.Request, error) {
		req, err := http.NewRequest(http.MethodPost, a.apiBase+"/v3.0/oa/message/cs", bytes.NewReader(body))
		if err == nil {
			req.Header.Set("Content-Type", "application/json")
		}
		return req, err
	})
	if err != nil {
		return fmt.Errorf("send to user %s: %w", user, err)
	}
	return nil
}

// apiAnswer is the OA API's envelope.
type apiAnswer struct {
	Error   flexInt         `json:"error"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
}

// callAPI runs an OA API request with the access token, refreshing it and
// trying once more when Zalo says it is invalid or expired. build makes a
// fresh request each try.
func (a *Adapter) callAPI(ctx context.Context, op string, build func() (*http.Request, error)) (json.RawMessage, error) {
	for try := 0; ; try++ {
		tok, err := a.accessToken(ctx)
		if err != nil {
			return nil, err
		}
		ans, err := a.do(ctx, tok.AccessToken, build)
		if err != nil {
			return nil, fmt.Errorf("zalo: %s: %w", op, err)
		}
		code := int(ans.Error)
		if code == 0 {
			return ans.Data, nil
		}
		apiErr := &APIError{Op: op, Code: code, Message: a.scrub(ans.Message)}
		switch code {
		case codeTokenInvalid, codeTokenExpired:
			if try > 0 {
				return nil, apiErr
			}
			a.log.Info("zalo access token refused; refreshing", "code", code)
			if _, err := a.refresh(ctx, tok, true); err != nil {
				return nil, err
			}
			continue
		case codeNotFollower:
			return nil, fmt.Errorf("%w: %w", ErrNotFollower, apiErr)
		case codeOutsideWindow, codeNoInteraction7:
			return nil, fmt.Errorf("%w: %w", ErrOutsideWindow, apiErr)
		case codeQuota, codeRateLimit:
			return nil, fmt.Errorf("%w: %w", ErrQuota, apiErr)
		}
		return nil, apiErr
	}
}

// do sends one request with the token and decodes the envelope.
func (a *Adapter) do(ctx context.Context, token string, build func() (*http.Request, error)) (*apiAnswer, error) {
	ctx, cancel := context.WithTimeout(ctx, a.callTimeout)
	defer cancel()
	req, err := build()
	if err != nil {
		return nil, a.redact(err)
	}
	req = req.WithContext(ctx)
	req.Header.Set("access_token", token)
	res, err := a.client.Do(req)
	if err != nil {
		return nil, a.redact(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return nil, a.redact(err)
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d", res.StatusCode)
	}
	var ans apiAnswer
	if err := json.Unmarshal(raw, &ans); err != nil {
		return nil, fmt.Errorf("undecodable answer: %w", err)
	}
	return &ans, nil
}

// UploadFile uploads a file (PDF, DOC, DOCX; Zalo allows up to 5 MB) and
// returns the token to send it with.
func (a *Adapter) UploadFile(ctx context.Context, name string, data []byte) (string, error) {
	var out struct {
		Token string `json:"token"`
	}
	if err := a.upload(ctx, "/v2.0/oa/upload/file", name, data, &out); err != nil {
		return "", err
	}
	if out.Token == "" {
		return "", errors.New("zalo: upload file: no token in the answer")
	}
	return out.Token, nil
}

// UploadImage uploads a JPG or PNG (up to 1 MB) and returns its
// attachment id.
func (a *Adapter) UploadImage(ctx context.Context, name string, data []byte) (string, error) {
	var out struct {
		AttachmentID string `json:"attachment_id"`
	}
	if err := a.upload(ctx, "/v2.0/oa/upload/image", name, data, &out); err != nil {
		return "", err
	}
	if out.AttachmentID == "" {
		return "", errors.New("zalo: upload image: no attachment id in the answer")
	}
	return out.AttachmentID, nil
}

func (a *Adapter) upload(ctx context.Context, path, name string, data []byte, out any) error {
	raw, err := a.callAPI(ctx, path, func() (*http.Request, error) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		fw, err := mw.CreateFormFile("file", name)
		if err != nil {
			return nil, err
		}
		if _, err := fw.Write(data); err != nil {
			return nil, err
		}
		if err := mw.Close(); err != nil {
			return nil, err
		}
		req, err := http.NewRequest(http.MethodPost, a.apiBase+path, &buf)
		if err == nil {
			req.Header.Set("Content-Type", mw.FormDataContentType())
		}
		return req, err
	})
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("zalo: %s: decode answer: %w", path, err)
	}
	return nil
}

// DownloadFile fetches a file a user sent, by the URL of its attachment
// (FileRef.Download), refusing files over maxBytes with ErrTooLarge. Zalo's
// attachment URLs carry no credential; nothing is sent with the request.
func (a *Adapter) DownloadFile(ctx context.Context, fileURL string, maxBytes int64) ([]byte, error) {
	u, err := url.Parse(fileURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, errors.New("zalo: download: not an http(s) URL")
	}
	data, err := bot.Download(ctx, a.client, fileURL, maxBytes)
	if err != nil {
		return nil, fmt.Errorf("zalo: download: %w", a.redact(err))
	}
	return data, nil
}

// truncate cuts s to at most n characters, marking the cut with "…".
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// splitText cuts s into parts of at most limit characters, at line breaks
// where possible, else at spaces, else anywhere between characters.
func splitText(s string, limit int) []string {
	var parts []string
	for utf8.RuneCountInString(s) > limit {
		end, n := 0, 0
		for i, r := range s {
			if n == limit {
				break
			}
			n++
			end = i + utf8.RuneLen(r)
		}
		cut := strings.LastIndexByte(s[:end], '\n')
		if cut <= 0 {
			cut = strings.LastIndexByte(s[:end], ' ')
		}
		if cut <= 0 {
			cut = end
		}
		if head := strings.TrimRight(s[:cut], " \n"); strings.TrimSpace(head) != "" {
			parts = append(parts, head)
		}
		s = strings.TrimLeft(s[cut:], " \n")
	}
	if s = strings.TrimRight(s, " \n"); strings.TrimSpace(s) != "" {
		parts = append(parts, s)
	}
	return parts
}
