package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/dieuphoi/dieuphoi/bot"
	"github.com/dieuphoi/dieuphoi/bot/webchat"
	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/export"
	"github.com/dieuphoi/dieuphoi/storage"
	"github.com/dieuphoi/dieuphoi/storage/files"
)

// storeLimits is what the abuse limits need of the database
// (storage/sqlstore, migration 0008).
type storeLimits interface {
	bot.BlobQuota
	files.Index
	webchat.History
	ServerKey(ctx context.Context, name string) ([]byte, error)
}

// HTTP server limits. A 20 MB upload from a phone on a slow connection
// fits in ReadTimeout; a client that stalls is cut off then, and holds
// nothing in memory meanwhile (uploads stream to disk). Long downloads
// (the evidence ZIP) extend their own write deadline.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 3 * time.Minute
	writeTimeout      = 3 * time.Minute
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 64 << 10
)

func newServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
	}
}

// collectEvidence deletes, every hour, the evidence files nothing has
// referenced for a day (files.OrphanAge). Every process may run it: the
// deletion is conditional in the database, so two never conflict.
func collectEvidence(ctx context.Context, blobs *files.Store, idx files.Index, now func() time.Time, log *slog.Logger) {
	const every = time.Hour
	wait := time.Minute
	for bot.Sleep(ctx, wait) {
		wait = every
		n, err := blobs.Collect(ctx, idx, now())
		if err != nil {
			log.Warn("collect unused evidence files", "err", err)
			continue
		}
		if n > 0 {
			log.Info("collected unused evidence files", "files", n)
		}
	}
}

// exportZIP writes the evidence ZIP to the file named in rest, or stdout.
func exportZIP(ctx context.Context, src *export.Source, rest []string, stdout io.Writer) error {
	if len(rest) == 0 {
		_, err := src.WriteZIP(ctx, stdout)
		return err
	}
	out, err := os.OpenFile(rest[0], os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return fmt.Errorf("write %s: %w", rest[0], err)
	}
	cw := &countingWriter{w: out}
	_, err = src.WriteZIP(ctx, cw)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", rest[0], err)
	}
	fmt.Fprintf(stdout, "Đã ghi %s (%d byte).\n", rest[0], cw.n)
	return nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// sweepUploads removes temporary files a crashed process left in dir: those
// older than an hour, so another process's upload in progress is kept.
func sweepUploads(dir string, log *slog.Logger) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		info, err := e.Info()
		if err != nil || e.IsDir() || time.Since(info.ModTime()) < time.Hour {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
			log.Warn("remove a left-over upload", "err", err)
		}
	}
}

// limiterOf is the shared counter store when the sessions are in Redis
// (every process counts together), nil (in memory) otherwise.
func limiterOf(sessions any) bot.Limiter {
	if l, ok := sessions.(bot.Limiter); ok {
		return l
	}
	return nil
}

// webchatWho tells the web chat whether a chat is linked to a person (only
// those keep a durable history) and in which language they read.
func webchatWho(st storage.Store) func(ctx context.Context, chat string) (bool, domain.Lang) {
	return func(ctx context.Context, chat string) (bool, domain.Lang) {
		pid, err := st.IdentityPerson(ctx, domain.Web, chat)
		if err != nil {
			return false, ""
		}
		ps, err := st.PersonState(ctx, pid)
		if err != nil {
			return true, ""
		}
		return true, ps.Lang
	}
}
