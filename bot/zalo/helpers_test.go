package zalo

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/bot/bottest"
	"github.com/dieuphoi/dieuphoi/bot/zalo/zalotest"
)

const (
	testAppID     = "3482178216594085616"
	testOASecret  = "OAsecretKEY-webhook-9f3a"
	testAppSecret = "AppSecretKEY-oauth-77c1"
)

type (
	recorder   = bottest.Recorder
	syncBuffer = bottest.SyncBuffer
)

func newRecorder() *recorder { return bottest.NewRecorder() }

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
