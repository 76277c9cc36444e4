package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"path/filepath"
	"time"

	"github.com/dieuphoi/dieuphoi/bot/filelink"
	"github.com/dieuphoi/dieuphoi/internal/tick"
	"github.com/dieuphoi/dieuphoi/storage"
)

// clockName is the bot_clock row of the bot's own clock.
const clockName = "bot"

// clockStore keeps the latest moment the bot's clock showed
// (*sqlstore.Queries through both stores).
type clockStore interface {
	ClockSeen(ctx context.Context, name string) (time.Time, bool, error)
	SetClockSeen(ctx context.Context, name string, at time.Time) error
}

// demoClock returns the bot's clock. Without a start it is the real clock.
// With one (DIEUPHOI_CLOCK_START, or the built-in example's default) it runs
// from start — or from the last moment the bot saw before this restart,
// when that is later: a demo clock never goes backwards, so history rows
// stay in order. A start later than that moment applies as given.
func demoClock(ctx context.Context, st storage.Store, start time.Time, log *slog.Logger) func() time.Time {
	if start.IsZero() {
		return time.Now
	}
	if cs, ok := st.(clockStore); ok {
		last, seen, err := cs.ClockSeen(ctx, clockName)
		switch {
		case err != nil:
			log.Warn("demo clock: cannot read the last moment seen; starting from the configured one", "err", err)
		case seen && last.After(start):
			log.Info("demo clock: continuing from the last moment the bot saw (a later DIEUPHOI_CLOCK_START would apply)",
				"configured", start.Format(time.RFC3339), "continuing", last.Format(time.RFC3339))
			start = last
		}
	}
	offset := time.Until(start)
	log.Info("demo clock: the bot's time runs from this moment on (DIEUPHOI_CLOCK_START, or a week before the built-in example conference)", "start", start.Format(time.RFC3339))
	return func() time.Time { return time.Now().Add(offset) }
}

// keepClock records the bot's clock every interval and once more when ctx
// ends, so that the next start continues from it.
func keepClock(ctx context.Context, st storage.Store, now func() time.Time, every time.Duration, log *slog.Logger) {
	cs, ok := st.(clockStore)
	if !ok {
		return
	}
	save := func(ctx context.Context) {
		if err := cs.SetClockSeen(ctx, clockName, now()); err != nil {
			log.Warn("demo clock: cannot record the moment", "err", err)
		}
	}
	save(ctx)
	tick.Every(ctx, every, save)
	// The last moment, at shutdown, on a context of its own.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	save(sctx)
}

// fileLinks serves signed download links (for files Zalo will not carry)
// under the public URL, with a key kept in the database so that every
// process signs and checks alike.
func fileLinks(ctx context.Context, st storage.Store, s settings, mux *http.ServeMux, log *slog.Logger) (*filelink.Links, error) {
	ks, ok := st.(interface {
		Secret(ctx context.Context, name string) ([]byte, error)
	})
	if !ok {
		return nil, errors.New("the database cannot keep the download links' key")
	}
	key, err := ks.Secret(ctx, "file_links")
	if err != nil {
		return nil, err
	}
	links, err := filelink.New(filelink.Config{Dir: filepath.Join(s.DataDir, "links"), Key: key, PublicURL: s.PublicURL, Log: log})
	if err != nil {
		return nil, err
	}
	links.Routes(mux)
	return links, nil
}
