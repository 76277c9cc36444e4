package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/dieuphoi/dieuphoi/bot"
)

// The requests made on every update — sendMessage, answerCallbackQuery,
// sendDocument by file_id, getUpdates — are made here rather than through
// the library's MakeRequest, which for each one copies the client, formats
// the URL, builds url.Values from a map and sorts its keys to encode them,
// and decodes the whole answer (the sent message echoed back, keyboard and
// all) only to look at "ok". Here the form is appended into one buffer
// sized up front, and a success is told by the answer's first bytes; only
// an answer whose result is needed, or a refusal, is decoded in full. The
// errors are the library's (*tgbotapi.Error for a refusal, redacted
// transport errors otherwise), so that everything that tells them apart
// still does.

// form is an application/x-www-form-urlencoded request body, as
// url.Values.Encode writes it (keys are ours and need no escaping).
type form []byte

// formSize is an upper bound of the encoded form of pairs (key, value,
// key, value...): every value byte is at most three (%XX).
func formSize(pairs ...string) int {
	n := 0
	for i := 0; i+1 < len(pairs); i += 2 {
		n += len(pairs[i]) + 2 + 3*len(pairs[i+1])
	}
	return n
}

func (f form) add(key, value string) form {
	if len(f) > 0 {
		f = append(f, '&')
	}
	f = append(f, key...)
	f = append(f, '=')
	return append(f, url.QueryEscape(value)...)
}

// formContentType is shared by the requests: nothing along the way
// modifies a header value in place.
var formContentType = []string{"application/x-www-form-urlencoded"}

// maxAnswer bounds a Bot API answer read into memory: a getUpdates of 100
// updates is far smaller.
const maxAnswer = 32 << 20

// answerBufs are the buffers answers are read into: each answer is done
// with before its call returns (what is kept of it, a result, is copied).
var answerBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// answerBufMax is the largest buffer put back: a rare large answer does not
// stay in the pool.
const answerBufMax = 64 << 10

// getAnswerBuf is an empty pooled buffer; putAnswerBuf gives back bp
// holding b (what was read into it, perhaps grown), unless b grew past
// answerBufMax.
func getAnswerBuf() *[]byte { return answerBufs.Get().(*[]byte) }

func putAnswerBuf(bp *[]byte, b []byte) {
	if cap(b) <= answerBufMax {
		*bp = b[:0]
		answerBufs.Put(bp)
	}
}

// call makes one Bot API request with a form body, bounded by timeout.
// With parse nil, only whether Telegram accepted it is read; else parse is
// given the answer's result (it may keep slices of it) and its error
// returned. A refusal is a *tgbotapi.Error; every error is redacted.
func (a *Adapter) call(ctx context.Context, method string, body form, timeout time.Duration, parse func(result []byte) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	u := a.methodURLs[method]
	if u == "" {
		u = a.methodURL(method)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return a.redact(err)
	}
	req.Header["Content-Type"] = formContentType
	res, err := a.client.Do(req)
	if err != nil {
		return a.redact(err)
	}
	var answer []byte
	if parse == nil {
		bp := getAnswerBuf()
		answer, err = readAnswer(res, (*bp)[:0])
		defer func() { putAnswerBuf(bp, answer) }()
	} else {
		// Its own buffer: the result's parts may be kept.
		answer, err = readAnswer(res, nil)
	}
	res.Body.Close()
	if err != nil {
		return a.redact(fmt.Errorf("read the answer: %w", err))
	}
	if parse == nil && accepted(answer) {
		return nil
	}
	if parse != nil {
		// Telegram's answers are {"ok":true,"result":...}: the result is
		// what lies between, if parse takes it whole (a result it would
		// not take, or another shape, is decoded in full below).
		if r, ok := resultOf(answer); ok && parse(r) == nil {
			return nil
		}
	}
	var r struct {
		Ok          bool                         `json:"ok"`
		Result      json.RawMessage              `json:"result"`
		ErrorCode   int                          `json:"error_code"`
		Description string                       `json:"description"`
		Parameters  *tgbotapi.ResponseParameters `json:"parameters"`
	}
	if err := json.Unmarshal(answer, &r); err != nil {
		return fmt.Errorf("decode the answer (HTTP %d): %w", res.StatusCode, err)
	}
	if !r.Ok {
		e := &tgbotapi.Error{Code: r.ErrorCode, Message: r.Description}
		if r.Parameters != nil {
			e.ResponseParameters = *r.Parameters
		}
		return e
	}
	if parse != nil {
		return parse(r.Result)
	}
	return nil
}

// hotMethods are the methods called on every update, whose URLs New
// makes once (methodURLs) rather than at each call.
var hotMethods = []string{"sendMessage", "answerCallbackQuery", "sendDocument", "getUpdates"}

// methodURL is the Bot API URL of method.
func (a *Adapter) methodURL(method string) string {
	return a.apiBase + "/bot" + a.token + "/" + method
}

// resultOf returns what lies between {"ok":true,"result": and the closing
// brace of answer (white space around trimmed).
func resultOf(answer []byte) ([]byte, bool) {
	b := bytes.TrimSpace(answer)
	rest, ok := bytes.CutPrefix(b, []byte(`{"ok":true,"result":`))
	if !ok || len(rest) == 0 || rest[len(rest)-1] != '}' {
		return nil, false
	}
	return bytes.TrimSpace(rest[:len(rest)-1]), true
}

// readAnswer reads res's body to its end (so that the connection is used
// again), appended to buf: at most maxAnswer bytes.
func readAnswer(res *http.Response, buf []byte) ([]byte, error) {
	if n := res.ContentLength; n > maxAnswer {
		return buf, fmt.Errorf("answer of %d bytes", n)
	}
	b, err := bot.ReadAllInto(io.LimitReader(res.Body, maxAnswer+1), buf, res.ContentLength)
	if err == nil && len(b)-len(buf) > maxAnswer {
		err = fmt.Errorf("answer over %d bytes", maxAnswer)
	}
	return b, err
}

// accepted reports an answer that starts {"ok":true (after white space),
// as every success of the Bot API does: what follows is the result, which
// a caller without use for it does not decode. A malformed answer that
// starts so counts as a success; anything else is decoded in full.
func accepted(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	rest, ok := bytes.CutPrefix(b, []byte(`{"ok":true`))
	if !ok {
		return false
	}
	rest = bytes.TrimLeft(rest, " \t\r\n")
	return len(rest) > 0 && (rest[0] == ',' || rest[0] == '}')
}
