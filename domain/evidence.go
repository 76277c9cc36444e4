package domain

import (
	"strings"
	"time"
)

// EvidenceText is what was read in one evidence file (by SHA256).
type EvidenceText struct {
	SHA256 string
	Status string // "ok", or why it could not be read (evidence.Unreadable's reasons)
	OCR    bool
	Pages  int
	Text   string // pages separated by form feeds
	ReadAt time.Time
}

// PageTexts splits Text into its pages.
func (t EvidenceText) PageTexts() []string {
	if t.Text == "" {
		return nil
	}
	return strings.Split(t.Text, "\f")
}
