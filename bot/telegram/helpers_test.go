package telegram

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/bot/bottest"
	"github.com/dieuphoi/dieuphoi/bot/telegram/telegramtest"
)

const testToken = "987654321:AAH-sEcReT_t0ken-ForTests-xyz123"

type (
	recorder   = bottest.Recorder
	syncBuffer = bottest.SyncBuffer
)

func newRecorder() *recorder { return bottest.NewRecorder() }

type setup struct {
	srv  *telegramtest.Server
	a    *Adapter
	h    *recorder
	logs *syncBuffer
}

func newSetup(t *testing.T, edit ...func(*Config)) *setup {
	t.Helper()
	s := &setup{srv: telegramtest.New(t, testToken), h: newRecorder(), logs: &syncBuffer{}}
	c := Config{
		Token:       testToken,
		APIBase:     s.srv.URL(),
		Handler:     s.h,
		Log:         slog.New(slog.NewJSONHandler(s.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		PollTimeout: 5 * time.Second,
	}
	for _, e := range edit {
		e(&c)
	}
	a, err := New(context.Background(), c)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	a.minBackoff = 20 * time.Millisecond
	a.maxBackoff = 200 * time.Millisecond
	s.a = a
	return s
}

// poll runs Poll until the test ends and checks it stops promptly.
func (s *setup) poll(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.a.Poll(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Poll returned %v", err)
			}
		case <-time.After(2 * time.Second):
			t.Errorf("Poll did not stop within 2s of cancel")
		}
	})
}
