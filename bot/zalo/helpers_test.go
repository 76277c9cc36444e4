package zalo

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/bot"
	"github.com/dieuphoi/dieuphoi/bot/zalo/zalotest"
)

const (
	testAppID     = "3482178216594085616"
	testOASecret  = "OAsecretKEY-webhook-9f3a"
	testAppSecret = "AppSecretKEY-oauth-77c1"
)

// recorder is a Handler that records what it receives and returns errors a
// test scripts.
type recorder struct {
	mu      sync.Mutex
	got     []bot.Inbound
	calls   map[string]int // by update id
	changed chan struct{}
	fail    func(in bot.Inbound, n int) error
	before  func(in bot.Inbound)
}

func newRecorder() *recorder {
	return &recorder{calls: map[string]int{}, changed: make(chan struct{})}
}

func (r *recorder) Handle(ctx context.Context, in bot.Inbound) error {
	if r.before != nil {
		r.before(in)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls[in.Key.UpdateID]++
	n := r.calls[in.Key.UpdateID]
	r.got = append(r.got, in)
	close(r.changed)
	r.changed = make(chan struct{})
	if r.fail != nil {
		return r.fail(in, n)
	}
	return nil
}

func (r *recorder) all() []bot.Inbound {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]bot.Inbound(nil), r.got...)
}

func (r *recorder) callsOf(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[id]
}

// wait returns all calls once there are at least n.
func (r *recorder) wait(t *testing.T, n int) []bot.Inbound {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		r.mu.Lock()
		got := append([]bot.Inbound(nil), r.got...)
		ch := r.changed
		r.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("handler got %d events, want %d: %+v", len(got), n, got)
		}
	}
}

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type setup struct {
	srv    *zalotest.Server
	a      *Adapter
	h      *recorder
	logs   *syncBuffer
	store  *MemoryStore
	access string // the seeded tokens
	refr   string
	hook   string // the webhook's URL
}

func jsonLogger(w *syncBuffer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func shorten(a *Adapter) {
	a.minBackoff = 10 * time.Millisecond
	a.maxBackoff = 50 * time.Millisecond
	a.leasePoll = 10 * time.Millisecond
}

func newSetup(t *testing.T, edit ...func(*Config)) *setup {
	t.Helper()
	s := &setup{
		srv: zalotest.New(t, testAppID, testOASecret, testAppSecret), h: newRecorder(),
		logs: &syncBuffer{}, store: &MemoryStore{},
	}
	s.access, s.refr = s.srv.IssueTokens(25 * time.Hour)
	c := Config{
		AppID: testAppID, OASecret: testOASecret, AppSecret: testAppSecret, OAID: s.srv.OAID(),
		APIBase: s.srv.URL(), OAuthBase: s.srv.URL(),
		Handler: s.h, Tokens: s.store,
		Seed:                &Tokens{AccessToken: s.access, RefreshToken: s.refr, ExpiresAt: time.Now().Add(25 * time.Hour)},
		Log:                 jsonLogger(s.logs),
		RefreshCheck:        -1,
		RequestInfoImageURL: "https://sokhcn.example.vn/zalo-card.png",
	}
	for _, e := range edit {
		e(&c)
	}
	a, err := New(context.Background(), c)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	shorten(a)
	s.a = a
	hook := httptest.NewServer(a.WebhookHandler())
	s.srv.SetWebhook(hook.URL)
	s.hook = hook.URL
	t.Cleanup(hook.Close)
	t.Cleanup(func() { _ = a.Close() })
	return s
}

// checkNoSecrets fails when text shows any secret.
func checkNoSecrets(t *testing.T, what, text string, secrets ...string) {
	t.Helper()
	for _, s := range append(secrets, testOASecret, testAppSecret) {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("%s shows a secret (%.6s…): %s", what, s, text)
		}
	}
}
