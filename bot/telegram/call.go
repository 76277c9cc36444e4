package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// The requests made for every update (sendMessage, answerCallbackQuery) go
// as a JSON body, which the Bot API accepts as well as a form, built into a
// pooled buffer: the library's MakeRequest would put the parameters in a
// url.Values map, form-encode the keyboard's JSON a second time (every
// brace and quote as %XX), copy the request to give it a context, and
// decode the answer's result it is not asked for — about 35 allocations
// of the ~60 a message cost. The answer is read as the library's
// APIResponse envelope and a refusal becomes the library's *tgbotapi.Error,
// so callers see the same errors as from MakeRequest. The other methods
// (getUpdates, getFile, uploads, webhook set-up) still go through the
// library.

// maxAnswer bounds how much of an answer is read.
const maxAnswer = 1 << 20

var (
	bufPool     = sync.Pool{New: func() any { return new(bytes.Buffer) }}
	contentJSON = []string{"application/json"}
)

// envelope is the part of a Bot API answer these calls read.
type envelope struct {
	Ok          bool                         `json:"ok"`
	ErrorCode   int                          `json:"error_code"`
	Description string                       `json:"description"`
	Parameters  *tgbotapi.ResponseParameters `json:"parameters"`
}

// post calls method with a JSON body, bounded by timeout. A refusal is a
// *tgbotapi.Error, as MakeRequest returns; every error is redacted.
func (a *Adapter) post(ctx context.Context, method string, body []byte, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.methodURL+method, bytes.NewReader(body))
	if err != nil {
		return a.redact(err)
	}
	req.Header = http.Header{"Content-Type": contentJSON}
	// Straight to the transport: the Bot API does not redirect, and the
	// context bounds the call (http.Client.Do would add its redirect and
	// deadline bookkeeping to every message).
	rt := a.client.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		// As http.Client reports it (the URL redacted).
		return a.redact(&url.Error{Op: "Post", URL: a.methodURL + method, Err: err})
	}
	defer resp.Body.Close()
	buf := bufPool.Get().(*bytes.Buffer)
	defer putBuf(buf)
	if _, err := buf.ReadFrom(io.LimitReader(resp.Body, maxAnswer)); err != nil {
		return a.redact(err)
	}
	var env envelope
	if err := json.Unmarshal(buf.Bytes(), &env); err != nil {
		return fmt.Errorf("telegram: %s: decode answer (HTTP %d): %w", method, resp.StatusCode, err)
	}
	if !env.Ok {
		var p tgbotapi.ResponseParameters
		if env.Parameters != nil {
			p = *env.Parameters
		}
		return a.redact(&tgbotapi.Error{Code: env.ErrorCode, Message: env.Description, ResponseParameters: p})
	}
	return nil
}

func putBuf(b *bytes.Buffer) {
	if b.Cap() > 64<<10 {
		return // an unusually large one is not kept
	}
	b.Reset()
	bufPool.Put(b)
}

// sendMessageBody is the JSON body of a sendMessage: the chat, the text,
// and the keyboard's JSON as it is (markup is "" for none).
func sendMessageBody(dst []byte, chat int64, text, markup string) []byte {
	dst = append(dst, `{"chat_id":`...)
	dst = strconv.AppendInt(dst, chat, 10)
	dst = append(dst, `,"text":`...)
	dst = appendJSONString(dst, text)
	if markup != "" {
		dst = append(dst, `,"reply_markup":`...)
		dst = append(dst, markup...)
	}
	return append(dst, '}')
}

// appendJSONString appends s as a JSON string, as encoding/json writes it
// (invalid UTF-8 becomes U+FFFD; <, > and & are left as they are: this is
// a request body, not HTML).
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			// As encoding/json: some JavaScript parsers take them for
			// line ends.
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
