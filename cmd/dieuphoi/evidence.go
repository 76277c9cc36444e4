package main

import (
	"log/slog"
	"strings"
	"time"

	"github.com/dieuphoi/dieuphoi/bot"
	"github.com/dieuphoi/dieuphoi/evidence"
	"github.com/dieuphoi/dieuphoi/storage"
	"github.com/dieuphoi/dieuphoi/storage/files"
)

// newEvidenceReader sets up reading the text of evidence files (poppler and
// Tesseract in sandboxed child processes, one at a time). Missing tools are
// reported once, in the background (checking them starts a few processes),
// and the bot works without them: files are kept, just not read. checked
// is closed once the check is done (serve waits for it before returning).
func newEvidenceReader(st storage.Store, blobs *files.Store, now func() time.Time, log *slog.Logger) (r bot.EvidenceReader, checked <-chan struct{}) {
	done := make(chan struct{})
	x, err := evidence.New(evidence.Config{Logger: log})
	if err != nil {
		log.Warn("evidence reading disabled", "err", err)
		close(done)
		return nil, done
	}
	go func() {
		defer close(done)
		if m := x.Missing(); len(m) > 0 {
			log.Warn("evidence reading: tools missing, so PDFs, scans and photos are kept but not read (Debian: apt-get install poppler-utils tesseract-ocr tesseract-ocr-vie)",
				"missing", strings.Join(m, ", "))
		}
		if iso := x.Isolation(); iso == "none" {
			log.Warn("evidence reading: no network namespace could be created; the tools run with time and memory limits but not cut off from the network")
		} else {
			log.Info("evidence reading ready", "isolation", iso)
		}
	}()
	ts, _ := st.(storage.EvidenceTextStore)
	return &evidence.Reader{X: x, Open: blobs.Open, Store: ts, Now: now, Log: log}, done
}
