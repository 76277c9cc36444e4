package bot

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
	"github.com/dieuphoi/dieuphoi/storage"
)

// EvidenceReader reads a stored evidence file (package evidence's Reader).
// It never fails: a file it cannot read comes back with Problem set.
type EvidenceReader interface {
	Read(ctx context.Context, sha, mime string) flows.Reading
}

// maxPendingReads bounds the files waiting to be read: the extractor reads
// one or two at a time, and a flood of uploads must not pile up goroutines.
const maxPendingReads = 64

// reads is the dispatcher's background evidence reading.
type reads struct {
	reader  EvidenceReader
	bg      context.Context
	pending atomic.Int64
	wg      sync.WaitGroup
}

// readLater reads the files stored for in, after the update is handled
// (the chat never waits), and brings each reading back to the same chat as
// an input of its own. Its update id derives from the upload's, so a
// replayed upload does not read or answer twice.
func (d *Dispatcher) readLater(in Inbound, log *slog.Logger) {
	if d.reads.reader == nil {
		return
	}
	for _, f := range in.Input.Files {
		if f.SHA256 == "" || f.Problem != "" {
			continue
		}
		if d.reads.pending.Add(1) > maxPendingReads {
			d.reads.pending.Add(-1)
			log.Warn("evidence reading queue full; file not read", "evidence", f.SHA256[:min(12, len(f.SHA256))])
			continue
		}
		d.reads.wg.Add(1)
		go func() {
			defer d.reads.wg.Done()
			defer d.reads.pending.Add(-1)
			bg := d.reads.bg
			if bg == nil {
				bg = context.Background()
			}
			ctx, cancel := context.WithTimeout(bg, 15*time.Minute)
			defer cancel()
			rd := d.reads.reader.Read(ctx, f.SHA256, f.MIME)
			if ctx.Err() != nil {
				return // shutting down: the file is read again when sent again
			}
			key := domain.UpdateKey{Channel: in.Key.Channel, UpdateID: in.Key.UpdateID + "/read/" + f.SHA256[:min(16, len(f.SHA256))]}
			if err := d.Handle(ctx, Inbound{Key: key, UserID: in.UserID, ChatID: in.ChatID,
				Input: flows.Input{Kind: flows.InReading, Reading: &rd}}); err != nil {
				log.Warn("deliver evidence reading", "err", err)
			}
		}()
	}
}

// WaitReads waits for the background readings in flight (at shutdown,
// after Background was cancelled, or in tests).
func (d *Dispatcher) WaitReads() { d.reads.wg.Wait() }

// evidenceTexts loads what was read in the evidence of subs, when the store
// keeps it (for the review flags): of the first 20, the ones the chat's
// queue shows, so that a long queue does not load every text each time.
func evidenceTexts(ctx context.Context, campaign any, subs []domain.Submission) (map[string]domain.EvidenceText, error) {
	ts, ok := campaign.(storage.EvidenceTextStore)
	if !ok {
		return nil, nil
	}
	subs = subs[:min(len(subs), 20)]
	var shas []string
	for _, s := range subs {
		for _, e := range s.Evidence {
			if e.SHA256 != "" {
				shas = append(shas, e.SHA256)
			}
		}
	}
	if len(shas) == 0 {
		return nil, nil
	}
	texts, err := ts.EvidenceTexts(ctx, shas)
	if err != nil {
		return nil, fmt.Errorf("evidence texts: %w", err)
	}
	return texts, nil
}
