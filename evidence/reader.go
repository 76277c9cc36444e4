package evidence

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
	"github.com/dieuphoi/dieuphoi/storage"
)

// Reader reads stored evidence files and keeps their text with the
// evidence (storage.EvidenceTextStore). The bot calls it in the background
// after an upload and brings the result to the chat as a flows.Reading.
// The text is never logged: only the file's address, the outcome and how
// long it took.
type Reader struct {
	X     *Extractor
	Open  func(sha string) (io.ReadCloser, error) // storage/files Store.Open
	Store storage.EvidenceTextStore
	Now   func() time.Time
	Log   *slog.Logger
}

// Read reads the file with content address sha (MIME type mime, as
// classified at upload). A file read before is not read again.
func (r *Reader) Read(ctx context.Context, sha, mime string) flows.Reading {
	log := r.Log
	if log == nil {
		log = slog.Default()
	}
	log = log.With("evidence", short(sha))
	if r.Store != nil {
		if got, err := r.Store.EvidenceTexts(ctx, []string{sha}); err != nil {
			log.Warn("load evidence text", "err", err)
		} else if t, ok := got[sha]; ok {
			return reading(t)
		}
	}
	start := time.Now()
	t := domain.EvidenceText{SHA256: sha, ReadAt: r.now()}
	switch {
	case mime != "application/pdf" && mime != "image/png" && mime != "image/jpeg":
		t.Status = "unsupported" // Word, Excel, WebP, GIF: kept as evidence, not read
	case !r.X.CanRead(mime):
		// Not stored: once the tools are installed the file can be read.
		return flows.Reading{SHA256: sha, Problem: "unavailable"}
	default:
		res, err := r.extract(ctx, sha)
		if err != nil {
			var u *Unreadable
			if !errors.As(err, &u) {
				u = &Unreadable{Reason: "failed", Err: err}
			}
			t.Status = u.Reason
			log.Info("evidence not readable", "reason", u.Reason, "err", u.Err, "took", time.Since(start).Round(time.Millisecond))
		} else {
			t.Status, t.OCR, t.Pages, t.Text = "ok", res.OCR, res.TotalPages, res.Text()
			log.Info("evidence read", "pages", res.TotalPages, "ocr", res.OCR, "bytes", len(t.Text), "took", time.Since(start).Round(time.Millisecond))
		}
	}
	if r.Store != nil && (t.Status != "timeout" || ctx.Err() == nil) {
		if err := r.Store.SaveEvidenceText(ctx, t); err != nil {
			log.Warn("save evidence text", "err", err)
		}
	}
	return reading(t)
}

func (r *Reader) extract(ctx context.Context, sha string) (Result, error) {
	f, err := r.Open(sha)
	if err != nil {
		return Result{}, fmt.Errorf("open evidence: %w", err)
	}
	defer f.Close()
	return r.X.Extract(ctx, f)
}

func (r *Reader) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func reading(t domain.EvidenceText) flows.Reading {
	rd := flows.Reading{SHA256: t.SHA256}
	if t.Status != "ok" {
		rd.Problem = t.Status
		return rd
	}
	rd.Pages = t.PageTexts()
	return rd
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}
