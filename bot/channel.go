package bot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"
)

// Plumbing the channel adapters share.

// ErrRefused is what a Sender's error wraps when the platform refused the
// message itself for good (Telegram 400 Bad Request, a method it does not
// have): sending it again cannot work, so it is not retried like a
// temporary failure.
var ErrRefused = errors.New("message refused by the platform")

// Download fetches url with client, at most maxBytes (ErrTooLarge beyond).
// Errors may quote the URL: adapters whose URLs carry a secret redact them.
func Download(ctx context.Context, client *http.Client, url string, maxBytes int64) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	res, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d", res.StatusCode)
	}
	if res.ContentLength > maxBytes {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, res.ContentLength, maxBytes)
	}
	data, err := io.ReadAll(io.LimitReader(res.Body, maxBytes+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > maxBytes {
		return nil, fmt.Errorf("%w: over %d bytes", ErrTooLarge, maxBytes)
	}
	return data, nil
}

// ReadWebhookBody reads a webhook request's body, at most limit bytes. On
// failure it has answered (413 over the limit, 400 otherwise) and returns
// false.
func ReadWebhookBody(w http.ResponseWriter, r *http.Request, limit int64, log *slog.Logger) ([]byte, bool) {
	body, ok := ReadWebhookBodyInto(w, r, limit, log, nil)
	if !ok {
		return nil, false
	}
	return body, true
}

// ReadWebhookBodyInto is ReadWebhookBody reading into buf (from its
// length on; a caller's pooled buffer), grown as needed.
func ReadWebhookBodyInto(w http.ResponseWriter, r *http.Request, limit int64, log *slog.Logger, buf []byte) ([]byte, bool) {
	hint := r.ContentLength
	if hint > limit {
		hint = 0 // refused by the reader below
	}
	body, err := ReadAllInto(http.MaxBytesReader(w, r.Body, limit), buf, hint)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			log.Warn("webhook body too large", "limit", limit)
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return body, false
		}
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return body, false
	}
	return body, true
}

// ReadAllInto reads r to its end appended to buf (a caller's pooled
// buffer), grown once to size (a Content-Length; 0 when unknown) when it
// is known, else as bytes.Buffer grows.
func ReadAllInto(r io.Reader, buf []byte, size int64) ([]byte, error) {
	b := bytes.NewBuffer(buf)
	if size > 0 {
		b.Grow(int(size) + bytes.MinRead) // ReadFrom wants MinRead free before each read
	}
	_, err := b.ReadFrom(r)
	return b.Bytes(), err
}

// Sleep waits d or until ctx ends, reporting whether it waited in full.
func Sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// Backoff is the delay after n consecutive failures: lo doubling, capped at
// hi.
func Backoff(lo, hi time.Duration, n int) time.Duration {
	d := lo
	for i := 1; i < n && d < hi; i++ {
		d *= 2
	}
	return min(d, hi)
}

// Counter is implemented by a Sender that counts messages against a
// sending budget (bot/pace): the dispatcher counts a step's replies at once
// (one round trip to the shared limiter, not one per reply) and sends them
// with a context marked by Counted.
type Counter interface {
	Count(ctx context.Context, chatID string, n int) error
}

type countedKey struct{}

// Counted marks ctx: the messages sent with it were counted already.
func Counted(ctx context.Context) context.Context {
	return context.WithValue(ctx, countedKey{}, true)
}

// IsCounted reports whether ctx was marked by Counted.
func IsCounted(ctx context.Context) bool {
	v, _ := ctx.Value(countedKey{}).(bool)
	return v
}
