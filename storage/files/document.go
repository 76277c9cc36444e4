package files

import (
	"bytes"
	"path/filepath"
	"strings"
)

// Slides, besides the evidence kinds (PDF, Word, Excel, pictures): a
// meeting's documents may be presentations.
const (
	MIMEPPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
	MIMEPPT  = "application/vnd.ms-powerpoint"
)

// ClassifyDocument decides from a file's name and first bytes whether it is
// a document a meeting takes, and its type: the evidence kinds (Classify)
// and slides, the content agreeing with the name.
func ClassifyDocument(name string, head []byte) (string, bool) {
	if m, ok := Classify(name, head); ok {
		return m, true
	}
	ext := strings.ToLower(filepath.Ext(name))
	switch {
	case ext == ".pptx" && bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return MIMEPPTX, true
	case ext == ".ppt" && bytes.HasPrefix(head, []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}):
		return MIMEPPT, true
	}
	return "", false
}
