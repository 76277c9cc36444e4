// Package filelink serves files the bot cannot hand over in the chat itself
// (Zalo takes only PDF, Word and small images) through signed, expiring
// download links on the bot's public URL.
//
// A link is /files/<sha256>/<name>?t=<type>&exp=<unix>&sig=<hmac>: the HMAC-
// SHA-256, under a server key, of the content hash, name, type and expiry.
// The check is constant-time (hmac.Equal); an expired or altered link is
// refused. The content is kept on disk named by its hash, never by a name a
// user chose, and files older than the links' lifetime are removed, so the
// directory stays bounded.
package filelink

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dieuphoi/dieuphoi/flows"
)

// DefaultTTL is how long a link works.
const DefaultTTL = 24 * time.Hour

// MaxSize bounds a linked file (an evidence ZIP may be large).
const MaxSize = 200 << 20

// Config configures a Links.
type Config struct {
	Dir       string // where the files are kept
	Key       []byte // the server key, at least 32 bytes
	PublicURL string // the bot's public base URL, without a trailing slash
	TTL       time.Duration
	// Now is real time: a link's lifetime is a security property, not
	// part of a demo (default time.Now).
	Now func() time.Time
	Log *slog.Logger
}

// Links issues and serves signed download links.
type Links struct {
	c         Config
	mu        sync.Mutex
	lastSweep time.Time
}

// New checks the configuration and creates the directory.
func New(c Config) (*Links, error) {
	if len(c.Key) < 32 {
		return nil, errors.New("filelink: the key must be at least 32 bytes")
	}
	if c.TTL <= 0 {
		c.TTL = DefaultTTL
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if err := os.MkdirAll(c.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("filelink: %w", err)
	}
	return &Links{c: c}, nil
}

// TTL is how long a link works.
func (l *Links) TTL() time.Duration { return l.c.TTL }

var (
	hashRE = regexp.MustCompile(`^[0-9a-f]{64}$`)
	// A type as Go's mime package writes one: no quotes, no line breaks.
	typeRE = regexp.MustCompile(`^[a-z0-9.+-]+/[a-z0-9.+-]+(; ?charset=[a-z0-9-]+)?$`)
)

// Link stores f and returns a download link valid for the TTL.
func (l *Links) Link(f *flows.File) (string, error) {
	if f == nil || len(f.Data) == 0 {
		return "", errors.New("filelink: empty file")
	}
	if len(f.Data) > MaxSize {
		return "", fmt.Errorf("filelink: %d bytes, over %d", len(f.Data), MaxSize)
	}
	name := cleanName(f.Name)
	typ := strings.ToLower(f.MIME)
	if !typeRE.MatchString(typ) {
		typ = "application/octet-stream"
	}
	sum := sha256.Sum256(f.Data)
	h := hex.EncodeToString(sum[:])
	l.sweep()
	tmp, err := os.CreateTemp(l.c.Dir, ".link-*")
	if err != nil {
		return "", fmt.Errorf("filelink: store: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(f.Data); err != nil {
		tmp.Close()
		return "", fmt.Errorf("filelink: store: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("filelink: store: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(l.c.Dir, h)); err != nil {
		return "", fmt.Errorf("filelink: store: %w", err)
	}
	exp := l.c.Now().Add(l.c.TTL).Unix()
	q := url.Values{"t": {typ}, "exp": {strconv.FormatInt(exp, 10)}, "sig": {l.sign(h, name, typ, exp)}}
	return l.c.PublicURL + "/files/" + h + "/" + url.PathEscape(name) + "?" + q.Encode(), nil
}

func (l *Links) sign(sum, name, typ string, exp int64) string {
	m := hmac.New(sha256.New, l.c.Key)
	// Fields joined by a byte none of them can hold.
	fmt.Fprintf(m, "%s\x00%s\x00%s\x00%d", sum, name, typ, exp)
	return hex.EncodeToString(m.Sum(nil))
}

// cleanName keeps a file name safe in a URL path and a header.
func cleanName(name string) string {
	name = filepath.Base(strings.ReplaceAll(name, "\\", "/"))
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '"' || r == '/' {
			return '_'
		}
		return r
	}, name)
	if name == "" || name == "." || name == ".." {
		return "tep"
	}
	return name
}

// sweep removes files whose links have all expired, at most once a minute.
func (l *Links) sweep() {
	l.mu.Lock()
	now := l.c.Now()
	if now.Sub(l.lastSweep) < time.Minute {
		l.mu.Unlock()
		return
	}
	l.lastSweep = now
	l.mu.Unlock()
	entries, err := os.ReadDir(l.c.Dir)
	if err != nil {
		l.c.Log.Warn("filelink: sweep", "err", err)
		return
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || e.IsDir() {
			continue
		}
		// A leftover temporary file, or content whose newest link expired.
		if now.Sub(info.ModTime()) > l.c.TTL+time.Hour {
			_ = os.Remove(filepath.Join(l.c.Dir, e.Name()))
		}
	}
}

// Routes serves GET /files/{sum}/{name}.
func (l *Links) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /files/{sum}/{name}", l.serve)
}

func (l *Links) serve(w http.ResponseWriter, r *http.Request) {
	sum, name := r.PathValue("sum"), r.PathValue("name")
	q := r.URL.Query()
	typ := q.Get("t")
	exp, err := strconv.ParseInt(q.Get("exp"), 10, 64)
	got, derr := hex.DecodeString(q.Get("sig"))
	if !hashRE.MatchString(sum) || err != nil || derr != nil || !typeRE.MatchString(typ) {
		http.Error(w, "Liên kết không hợp lệ. / Invalid link.", http.StatusForbidden)
		return
	}
	want, _ := hex.DecodeString(l.sign(sum, name, typ, exp))
	if !hmac.Equal(got, want) {
		http.Error(w, "Liên kết không hợp lệ. / Invalid link.", http.StatusForbidden)
		return
	}
	if l.c.Now().Unix() > exp {
		http.Error(w, "Liên kết đã hết hạn; xin yêu cầu lại tệp trong cuộc trò chuyện. / The link has expired; ask for the file again in the chat.", http.StatusGone)
		return
	}
	f, err := os.Open(filepath.Join(l.c.Dir, sum))
	if err != nil {
		http.Error(w, "Tệp không còn trên máy chủ; xin yêu cầu lại. / The file is no longer here; please ask again.", http.StatusGone)
		return
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		http.Error(w, "Không đọc được tệp. / Cannot read the file.", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", typ)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox")
	h.Set("Cache-Control", "private, no-store")
	h.Set("Referrer-Policy", "no-referrer")
	http.ServeContent(w, r, "", info.ModTime(), f)
}
