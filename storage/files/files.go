// Package files keeps evidence documents on disk, named by the SHA-256 of
// their content: storing the same file twice stores it once, and a name can
// never be chosen by a user. The database holds the metadata.
package files

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dieuphoi/dieuphoi/domain"
)

// ErrTooLarge is returned by Put when the content exceeds the limit.
var ErrTooLarge = errors.New("file too large")

// ErrNotFound is returned by Open for an unknown hash.
var ErrNotFound = errors.New("file not found")

var hashRe = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Store is a directory of content-addressed files.
type Store struct{ dir string }

// New returns a store in dir, creating it when needed.
func New(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create evidence directory: %w", err)
	}
	return &Store{dir: dir}, nil
}

func (s *Store) path(sum string) string { return filepath.Join(s.dir, sum[:2], sum) }

// Put stores r's content, at most max bytes, durably (written to a temporary
// file, synced, then renamed), and returns its SHA-256 and size.
func (s *Store) Put(r io.Reader, max int64) (string, int64, error) {
	tmp, err := os.CreateTemp(s.dir, ".upload-*")
	if err != nil {
		return "", 0, fmt.Errorf("store file: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(r, max+1))
	if err != nil {
		return "", 0, fmt.Errorf("store file: %w", err)
	}
	if n > max {
		return "", n, ErrTooLarge
	}
	if err := tmp.Sync(); err != nil {
		return "", 0, fmt.Errorf("store file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", 0, fmt.Errorf("store file: %w", err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	dst := s.path(sum)
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return "", 0, fmt.Errorf("store file: %w", err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return "", 0, fmt.Errorf("store file: %w", err)
	}
	return sum, n, nil
}

// Open returns the content stored under sum.
func (s *Store) Open(sum string) (io.ReadCloser, error) {
	if !hashRe.MatchString(sum) {
		return nil, ErrNotFound
	}
	f, err := os.Open(s.path(sum))
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNotFound
	}
	return f, err
}

// Accepted document kinds, by the MIME type we report.
var extensions = map[string]string{
	".pdf": "application/pdf", ".doc": "application/msword", ".xls": "application/vnd.ms-excel",
	".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	".jpg":  "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp", ".gif": "image/gif",
}

// Classify decides from a file's name and first bytes whether it is an
// accepted evidence document (PDF, Word, Excel, an image), and its MIME type.
// The content must agree with the name: a renamed executable is refused.
func Classify(name string, head []byte) (string, bool) {
	ext := strings.ToLower(filepath.Ext(name))
	sniffed := http.DetectContentType(head)
	ole := bytes.HasPrefix(head, []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1})
	zip := bytes.HasPrefix(head, []byte("PK\x03\x04"))
	switch {
	case strings.HasPrefix(sniffed, "application/pdf"):
		return "application/pdf", true
	case strings.HasPrefix(sniffed, "image/jpeg"), strings.HasPrefix(sniffed, "image/png"),
		strings.HasPrefix(sniffed, "image/webp"), strings.HasPrefix(sniffed, "image/gif"):
		return strings.SplitN(sniffed, ";", 2)[0], true
	case ole && (ext == ".doc" || ext == ".xls"):
		return extensions[ext], true
	case zip && (ext == ".docx" || ext == ".xlsx"):
		return extensions[ext], true
	}
	return "", false
}

// extensionOf is the extension a stored file of each accepted type is given.
var extensionOf = map[string]string{
	"application/pdf": ".pdf", "application/msword": ".doc", "application/vnd.ms-excel": ".xls",
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":       ".xlsx",
	"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "image/gif": ".gif",
}

// maxNameRunes bounds a kept file name.
const maxNameRunes = 200

// SafeName is the name an evidence file of type mime is kept and offered
// under: the base name the sender gave, without path, control or invisible
// formatting characters (such as a right-to-left override), at most 200 characters, and ending in the extension of its detected
// type: a PDF sent as "giay-moi.hta" is kept as "giay-moi.pdf". An empty
// name stays empty (the flow names photos itself).
func SafeName(name, mime string) string {
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	name = domain.CleanName(name)
	if name == "" || name == "/" {
		return ""
	}
	want, known := extensionOf[mime]
	ext := strings.ToLower(path.Ext(name))
	if known && ext != want && !(want == ".jpg" && ext == ".jpeg") {
		if extRe.MatchString(ext) {
			name = strings.TrimSuffix(name, path.Ext(name))
		}
		name += want
		ext = want
	}
	if rs := []rune(name); len(rs) > maxNameRunes {
		keep := maxNameRunes - utf8.RuneCountInString(ext)
		name = strings.TrimRight(string(rs[:keep]), " .") + ext
	}
	return name
}

// extRe is what counts as an extension to replace rather than keep as part
// of the name ("Báo cáo v2.5" keeps its ".5": no letter in it).
var extRe = regexp.MustCompile(`^\.[a-z][a-z0-9]{0,7}$`)

// Remove deletes the file stored under sum; a missing file is no error.
func (s *Store) Remove(sum string) error {
	if !hashRe.MatchString(sum) {
		return ErrNotFound
	}
	if err := os.Remove(s.path(sum)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove evidence file: %w", err)
	}
	return nil
}

// Index is what Collect needs from the database (storage/sqlstore).
type Index interface {
	// OrphanBlobs lists files last stored before before that nothing
	// references.
	OrphanBlobs(ctx context.Context, before time.Time) ([]string, error)
	// ForgetBlob drops a file's records unless it was stored again since
	// before, and reports whether it did.
	ForgetBlob(ctx context.Context, sum string, before time.Time) (bool, error)
}

// OrphanAge is how long a file nothing references is kept: long enough for
// a focal point to finish the form they attached it to.
const OrphanAge = 24 * time.Hour

// Collect deletes the files no submission references that were last stored
// before now-OrphanAge (cleared evidence, abandoned drafts), and returns how
// many it deleted.
func (s *Store) Collect(ctx context.Context, idx Index, now time.Time) (int, error) {
	before := now.Add(-OrphanAge)
	sums, err := idx.OrphanBlobs(ctx, before)
	if err != nil {
		return 0, fmt.Errorf("collect evidence files: %w", err)
	}
	n := 0
	for _, sum := range sums {
		forgot, err := idx.ForgetBlob(ctx, sum, before)
		if err != nil {
			return n, fmt.Errorf("collect evidence files: %w", err)
		}
		if !forgot {
			continue
		}
		if err := s.Remove(sum); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
