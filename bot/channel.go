package bot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
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
	body := http.MaxBytesReader(w, r.Body, limit)
	if n := r.ContentLength; n > 0 && n <= limit {
		buf = slices.Grow(buf, int(n)+1) // +1: room to read the end without growing
	}
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, max(512, len(buf)))
		}
		n, err := body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, true
		}
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				log.Warn("webhook body too large", "limit", limit)
				http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
				return buf, false
			}
			http.Error(w, "cannot read body", http.StatusBadRequest)
			return buf, false
		}
	}
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
