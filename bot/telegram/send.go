package telegram

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/dieuphoi/dieuphoi/bot"
	"github.com/dieuphoi/dieuphoi/flows"
)

var _ bot.Fetcher = (*Adapter)(nil)

// MaxMessageLen is Telegram's limit on a message's text, in UTF-16 units.
const MaxMessageLen = 4096

// contactButtonLabel is the text of the one-tap share-phone button. The
// replies name it in both languages («Chia sẻ số điện thoại», «Share my phone
// number»); flows.Reply carries no label, so it shows both.
const contactButtonLabel = "📱 Chia sẻ số điện thoại / Share my phone number"

// Send delivers replies to chatID in order, as plain text (no parse_mode,
// so user-provided text cannot break markup). Texts over 4096 characters
// are split on line boundaries, the keyboard going with the last part. A
// reply with buttons gets an inline keyboard; one with AskContact a
// one-time reply keyboard with a request_contact button; any other reply
// removes a reply keyboard that may still be showing.
//
// Flood limits (429) are waited out a bounded number of times. When the
// user blocked the bot the error wraps ErrBlocked.
func (a *Adapter) Send(ctx context.Context, chatID string, replies []flows.Reply) error {
	chat, err := strconv.ParseInt(chatID, 10, 64)
	if err != nil {
		return fmt.Errorf("telegram: bad chat id %q", chatID)
	}
	for i, r := range replies {
		if r.File != nil {
			if err := a.sendDocument(ctx, chat, r); err != nil {
				return err
			}
			continue
		}
		if strings.TrimSpace(r.Text) == "" {
			a.log.Warn("skipping reply with empty text", "chat", chatID, "reply", i)
			continue
		}
		if l := r.Link; l != nil && (strings.HasPrefix(l.URL, "https://") || strings.HasPrefix(l.URL, "http://")) && !publicURL(l.URL) {
			// Telegram refuses a URL button to a local address (a demo's
			// 127.0.0.1) and would drop the whole message: write it out.
			r.Text, r.Link = r.Text+"\n"+l.URL, nil
		}
		markup, err := replyMarkup(r)
		if err != nil {
			return fmt.Errorf("telegram: reply %d: %w", i, err)
		}
		parts := splitText(r.Text, MaxMessageLen)
		for j, part := range parts {
			// The keyboard goes with the last part.
			body := make(form, 0, formSize("chat_id", chatID, "text", part, "reply_markup", markup))
			body = body.add("chat_id", chatID).add("text", part)
			if j == len(parts)-1 {
				body = body.add("reply_markup", markup)
			}
			if err := a.sendMessage(ctx, chat, body); err != nil {
				return err
			}
		}
	}
	return nil
}

// sendMessage sends the form body (chat_id, text, reply_markup) to chat.
func (a *Adapter) sendMessage(ctx context.Context, chat int64, body form) error {
	for attempt := 0; ; attempt++ {
		done, err := a.admitSend(ctx, "sendMessage", chat)
		if err != nil {
			return err
		}
		err = a.call(ctx, "sendMessage", body, a.callTimeout, nil)
		done()
		if err == nil {
			return nil
		}
		pe, ok := apiError(err)
		switch {
		case ok && pe.Code == http.StatusForbidden:
			return fmt.Errorf("%w: chat %d: %s", ErrBlocked, chat, pe.Message)
		case ok && refused(pe.Code):
			return fmt.Errorf("telegram: sendMessage to chat %d: %w: %w", chat, bot.ErrRefused, err)
		case ok && pe.Code == http.StatusTooManyRequests && attempt < a.sendRetries:
			if err := a.floodWait(ctx, "sendMessage", chat, pe.RetryAfter, err); err != nil {
				return err
			}
		default:
			return fmt.Errorf("telegram: sendMessage to chat %d: %w", chat, err)
		}
	}
}

// sendDocument sends a reply's file, its text as the caption: uploaded the
// first time, by the file_id Telegram gave it after that (fileIDs).
func (a *Adapter) sendDocument(ctx context.Context, chat int64, r flows.Reply) error {
	p := tgbotapi.Params{"chat_id": strconv.FormatInt(chat, 10)}
	if caption := strings.TrimSpace(r.Text); caption != "" {
		p["caption"] = splitText(caption, 1024)[0]
	}
	if l := r.Link; l != nil && publicURL(l.URL) {
		// A document's link (a meeting document's web copy) goes as a URL
		// button under it; a local address would make Telegram drop the
		// whole document, so it is left out then.
		if markup, err := replyMarkup(flows.Reply{Link: l}); err == nil {
			p["reply_markup"] = markup
		}
	}
	file := tgbotapi.RequestFile{Name: "document", Data: tgbotapi.FileBytes{Name: r.File.Name, Bytes: r.File.Data}}
	var key fileKey
	sentID := ""
	if r.File.Path != "" {
		// A large export waits on disk: streamed to Telegram from there.
		// It is sent once, so its file_id is not kept.
		fh, err := os.Open(r.File.Path)
		if err != nil {
			return fmt.Errorf("telegram: sendDocument to chat %d: %w", chat, err)
		}
		defer fh.Close()
		file.Data = tgbotapi.FileReader{Name: r.File.Name, Reader: fh}
	} else {
		key = fileKeyOf(r.File)
		sentID = a.fileIDs.get(key)
	}
	for attempt := 0; ; attempt++ {
		done, err := a.admitSend(ctx, "sendDocument", chat)
		if err != nil {
			return err
		}
		var resp *tgbotapi.APIResponse
		if sentID != "" {
			// Sent before: a small form request naming the file.
			err = a.call(ctx, "sendDocument", documentForm(p, sentID), a.callTimeout, nil)
		} else {
			rctx, cancel := context.WithTimeout(ctx, 2*a.callTimeout)
			resp, err = a.bot(rctx).UploadFiles("sendDocument", p, []tgbotapi.RequestFile{file})
			cancel()
		}
		done()
		if err == nil {
			if sentID == "" && r.File.Path == "" {
				a.fileIDs.put(key, uploadedFileID(resp))
			}
			return nil
		}
		err = a.redact(err)
		// The library's upload errors leave the code out: take it from
		// the response.
		code, retryAfter := 0, 0
		if pe, ok := apiError(err); ok {
			code, retryAfter = pe.Code, pe.RetryAfter
			if code == 0 && resp != nil {
				code = resp.ErrorCode
				if resp.Parameters != nil {
					retryAfter = resp.Parameters.RetryAfter
				}
			}
		}
		switch {
		case code == http.StatusBadRequest && sentID != "":
			// Telegram no longer knows the file_id (or refuses it for
			// another reason an upload would show): upload it again.
			a.log.Info("sending a document by its file_id refused; uploading it again", "chat", chat, "err", err)
			a.fileIDs.forget(key, sentID)
			sentID = ""
			continue
		case code == http.StatusForbidden:
			return fmt.Errorf("%w: chat %d: %v", ErrBlocked, chat, err)
		case refused(code):
			return fmt.Errorf("telegram: sendDocument to chat %d: %w: %w", chat, bot.ErrRefused, err)
		case code == http.StatusTooManyRequests && attempt < a.sendRetries && r.File.Path == "":
			// As for a message (a file read from disk cannot be sent
			// again from here: the caller retries it).
			if err := a.floodWait(ctx, "sendDocument", chat, retryAfter, err); err != nil {
				return err
			}
			continue
		}
		return fmt.Errorf("telegram: sendDocument to chat %d: %w", chat, err)
	}
}

// documentForm is the form of a sendDocument naming the file by its
// file_id, with the other parameters in p.
func documentForm(p tgbotapi.Params, fileID string) form {
	chat, caption, markup := p["chat_id"], p["caption"], p["reply_markup"]
	body := make(form, 0, formSize("chat_id", chat, "document", fileID, "caption", caption, "reply_markup", markup))
	body = body.add("chat_id", chat).add("document", fileID)
	if caption != "" {
		body = body.add("caption", caption)
	}
	if markup != "" {
		body = body.add("reply_markup", markup)
	}
	return body
}

// fileKey names a file's content as sent: the same name and bytes (the
// calendar file of one event in one language, a meeting document) go as
// the same file_id.
type fileKey struct {
	name string
	sum  [sha256.Size]byte
}

func fileKeyOf(f *flows.File) fileKey {
	return fileKey{name: f.Name, sum: sha256.Sum256(f.Data)}
}

// fileIDs keeps the file_id Telegram gave each file this bot uploaded, so
// that sending it again — the calendar file to every attendee — is a small
// form request instead of a multipart upload ("Pass a file_id as String to
// send a file that exists on the Telegram servers"). A file_id is valid for
// the bot that got it, in any chat. At most fileIDsMax are kept: the files
// sent often are few.
type fileIDs struct {
	mu sync.Mutex
	m  map[fileKey]string
}

const fileIDsMax = 1024

func (f *fileIDs) get(k fileKey) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.m[k]
}

func (f *fileIDs) put(k fileKey, id string) {
	if id == "" {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil || len(f.m) >= fileIDsMax {
		f.m = make(map[fileKey]string)
	}
	f.m[k] = id
}

// forget drops id for k unless another send has put a newer one meanwhile.
func (f *fileIDs) forget(k fileKey, id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m[k] == id {
		delete(f.m, k)
	}
}

// uploadedFileID reads the file_id of the document in a sendDocument's
// result ("" when there is none).
func uploadedFileID(resp *tgbotapi.APIResponse) string {
	if resp == nil {
		return ""
	}
	var m struct {
		Document *struct {
			FileID string `json:"file_id"`
		} `json:"document"`
	}
	if json.Unmarshal(resp.Result, &m) != nil || m.Document == nil {
		return ""
	}
	return m.Document.FileID
}

// floodWait waits out a 429's retry_after (at least minBackoff) after
// telling every process (OnFlood); an error when the wait is longer than a
// send may take or ctx ends.
func (a *Adapter) floodWait(ctx context.Context, method string, chat int64, retryAfter int, err error) error {
	wait := max(time.Duration(retryAfter)*time.Second, a.minBackoff)
	if a.onFlood != nil {
		a.onFlood(time.Now().Add(wait))
	}
	if wait > a.maxSendWait {
		return fmt.Errorf("telegram: %s to chat %d: flood limit, retry after %v: %w", method, chat, wait, err)
	}
	a.log.Warn("flood limit; waiting", "method", method, "chat", chat, "retry_in", wait.String())
	if !sleep(ctx, wait) {
		return fmt.Errorf("telegram: %s to chat %d: %w", method, chat, ctx.Err())
	}
	return nil
}

// admitSend waits until a message to chat may go out (Config.Admit) and
// returns the func to call when Telegram answered.
func (a *Adapter) admitSend(ctx context.Context, method string, chat int64) (func(), error) {
	if a.admit == nil {
		return func() {}, nil
	}
	done, err := a.admit(ctx, strconv.FormatInt(chat, 10))
	switch {
	case err == nil:
		return done, nil
	case ctx.Err() != nil:
		return nil, fmt.Errorf("telegram: %s to chat %d: %w", method, chat, ctx.Err())
	default:
		return func() {}, nil
	}
}

// refused reports the answers that mean the request itself is wrong for
// good: 400 Bad Request, and 404/405/501 for a method the server does not
// have (the token was checked at start-up).
func refused(code int) bool {
	switch code {
	case http.StatusBadRequest, http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusNotImplemented:
		return true
	}
	return false
}

// Fetch implements bot.Fetcher: it downloads a file a user sent.
func (a *Adapter) Fetch(ctx context.Context, f flows.FileRef, maxBytes int64) ([]byte, error) {
	return a.DownloadFile(ctx, f.ID, maxBytes)
}

// replyMarkup renders a reply's keyboard as the reply_markup JSON. A
// reply's Link is a URL button on its own row, after the others.
func replyMarkup(r flows.Reply) (string, error) {
	var v inlineKeyboard
	switch {
	case len(r.Buttons) > 0 || r.Link != nil:
		// The rows are slices of one array of all the buttons.
		n := 1
		for _, row := range r.Buttons {
			n += len(row)
		}
		all := make([]inlineButton, 0, n)
		rows := make([][]inlineButton, 0, len(r.Buttons)+1)
		for _, row := range r.Buttons {
			if len(row) == 0 {
				continue
			}
			start := len(all)
			for _, b := range row {
				if n := len(b.Data); n == 0 || n > 64 {
					return "", fmt.Errorf("button %q: callback data must be 1-64 bytes, is %d", b.Label, n)
				}
				all = append(all, inlineButton{Text: b.Label, CallbackData: b.Data})
			}
			rows = append(rows, all[start:])
		}
		if l := r.Link; l != nil {
			if !strings.HasPrefix(l.URL, "https://") && !strings.HasPrefix(l.URL, "http://") {
				return "", fmt.Errorf("link button %q: not an http(s) URL", l.Label)
			}
			start := len(all)
			all = append(all, inlineButton{Text: l.Label, URL: l.URL})
			rows = append(rows, all[start:])
		}
		v = inlineKeyboard{rows}
	case r.AskContact:
		return contactMarkup, nil
	default:
		return removeMarkup, nil
	}
	b, err := json.Marshal(v)
	return string(b), err
}

type inlineKeyboard struct {
	Rows [][]inlineButton `json:"inline_keyboard"`
}

type inlineButton struct {
	Text         string `json:"text"`
	CallbackData string `json:"callback_data,omitempty"`
	URL          string `json:"url,omitempty"`
}

// The two keyboards that never change, rendered once: most replies carry
// one of them.
var (
	contactMarkup = mustMarshal(tgbotapi.ReplyKeyboardMarkup{
		Keyboard:        [][]tgbotapi.KeyboardButton{{tgbotapi.NewKeyboardButtonContact(contactButtonLabel)}},
		ResizeKeyboard:  true,
		OneTimeKeyboard: true,
	})
	removeMarkup = mustMarshal(tgbotapi.NewRemoveKeyboard(false))
)

func mustMarshal(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// publicURL reports whether Telegram accepts u on a URL button: http(s)
// with a host name that is not local (Telegram refuses localhost, loopback
// and private addresses, and bare host names).
func publicURL(u string) bool {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "https" && p.Scheme != "http") {
		return false
	}
	host := p.Hostname()
	if ip := net.ParseIP(host); ip != nil {
		return !ip.IsLoopback() && !ip.IsPrivate() && !ip.IsUnspecified() && !ip.IsLinkLocalUnicast()
	}
	return strings.Contains(host, ".") && !strings.HasSuffix(host, ".localhost") && host != "localhost"
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// splitText cuts s into parts of at most limit UTF-16 units, at line breaks
// where possible, else at spaces, else anywhere between runes.
func splitText(s string, limit int) []string {
	var parts []string
	for utf16Len(s) > limit {
		// The longest prefix that fits, in bytes.
		end, units := 0, 0
		for i, r := range s {
			if units+utf16.RuneLen(r) > limit {
				break
			}
			units += utf16.RuneLen(r)
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
	if strings.TrimSpace(s) != "" {
		parts = append(parts, s)
	}
	return parts
}

// DownloadFile fetches a file a user sent, by its file_id, refusing files
// over maxBytes with ErrTooLarge. Neither errors nor logs carry the
// download URL (it contains the token).
func (a *Adapter) DownloadFile(ctx context.Context, fileID string, maxBytes int64) ([]byte, error) {
	resp, err := a.request(ctx, "getFile", tgbotapi.Params{"file_id": fileID}, a.callTimeout)
	if err != nil {
		return nil, fmt.Errorf("telegram: getFile: %w", err)
	}
	var f tgbotapi.File
	if err := json.Unmarshal(resp.Result, &f); err != nil {
		return nil, fmt.Errorf("telegram: getFile: decode: %w", err)
	}
	if f.FilePath == "" {
		return nil, fmt.Errorf("telegram: getFile: no file_path for this file")
	}
	if int64(f.FileSize) > maxBytes {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, f.FileSize, maxBytes)
	}

	data, err := bot.Download(ctx, a.client, a.apiBase+"/file/bot"+a.token+"/"+f.FilePath, maxBytes)
	if err != nil {
		return nil, fmt.Errorf("telegram: download: %w", a.redact(err))
	}
	return data, nil
}
