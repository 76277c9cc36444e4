// Package evidence reads the text inside evidence documents — PDFs with a
// text layer through poppler's pdftotext, scans and photos through
// Tesseract's Vietnamese model — in sandboxed child processes, and finds in
// that text the document's số/ký hiệu, its date and a submitted value.
//
// pdftotext was chosen over a pure-Go PDF reader: on a PDF made with an
// embedded TrueType font (Identity-H encoding, as Word and LibreOffice
// write Vietnamese), github.com/ledongthuc/pdf returned "SÑ: 125/BC-SKHCN"
// and "n\x03m 2024" — it ignores the font's ToUnicode map — where pdftotext
// returned the exact text, with -layout keeping a line's columns together
// ("Số: 125/BC-SKHCN      Hưng Yên, ngày 15 tháng 3 năm 2024"). A native
// tool also fits the sandbox: a hostile PDF crashes a child, not the bot.
package evidence

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // DecodeConfig of photos (header only)
	_ "image/png"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// Config bounds what one extraction may cost. Zero fields take the
// defaults below.
type Config struct {
	Workers     int           // extractions at the same time (default 1)
	Timeout     time.Duration // per document, all steps together (default 90 s)
	MemoryLimit uint64        // address space of each tool process (default 1 GiB)
	MaxPages    int           // longer PDFs are refused (default 100)
	MaxOCRPages int           // pages of a scanned PDF that are OCR'd (default 10)
	MaxPixels   int           // larger photos are refused (default 40 megapixels)
	MaxText     int           // bytes of text kept (default 256 KiB)
	MaxFile     int64         // bytes of input accepted (default 20 MiB)
	Logger      *slog.Logger
}

func (c Config) withDefaults() Config {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.Workers, 1)
	def(&c.MaxPages, 100)
	def(&c.MaxOCRPages, 10)
	def(&c.MaxPixels, 40_000_000)
	def(&c.MaxText, 256<<10)
	if c.Timeout <= 0 {
		c.Timeout = 90 * time.Second
	}
	if c.MemoryLimit == 0 {
		c.MemoryLimit = 1 << 30
	}
	if c.MaxFile <= 0 {
		c.MaxFile = 20 << 20
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Result is the text of a document, page by page (a photo is one page).
type Result struct {
	Pages      []string
	OCR        bool // some text came from OCR
	TotalPages int  // pages in the document; more than len(Pages) when only the first were read
}

// Text joins the pages with form feeds, as pdftotext does.
func (r Result) Text() string { return strings.Join(r.Pages, "\f") }

// Unreadable is why a document gave no text. Reason is one of
// "unavailable" (the tools are not installed), "unsupported" (not a PDF,
// PNG or JPEG), "encrypted", "too_many_pages", "too_large", "timeout",
// "failed" (corrupt, or a tool died or hit its memory limit) and "no_text".
// Err, when set, is the technical cause, for logs — never shown to users.
type Unreadable struct {
	Reason string
	Err    error
}

func (e *Unreadable) Error() string {
	if e.Err != nil {
		return "unreadable evidence (" + e.Reason + "): " + e.Err.Error()
	}
	return "unreadable evidence (" + e.Reason + ")"
}

func (e *Unreadable) Unwrap() error { return e.Err }

func unreadable(reason string, err error) error { return &Unreadable{Reason: reason, Err: err} }

// Extractor runs extractions, at most Config.Workers at a time.
type Extractor struct {
	cfg    Config
	self   string // this executable, re-executed as the sandbox
	iso    isolation
	limits limits
	sem    chan struct{}

	pdftotext, pdfinfo, pdftoppm, tesseract string
	missing                                 []string
	once                                    sync.Once // probes below, on first use
}

// New looks for the tools; on first use the extractor also checks for
// Tesseract's Vietnamese model and for a way to isolate the tools (a few
// child processes, so New stays cheap). A missing tool is not an error:
// Missing says what, and documents needing it come back Unreadable
// "unavailable", so the bot runs without OCR.
func New(cfg Config) (*Extractor, error) {
	cfg = cfg.withDefaults()
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find own executable: %w", err)
	}
	x := &Extractor{cfg: cfg, self: self, sem: make(chan struct{}, cfg.Workers)}
	cpu := uint64(cfg.Timeout/time.Second) + 1
	x.limits = limits{AS: cfg.MemoryLimit, CPU: cpu, FSize: 256 << 20}
	look := func(dst *string, name, pkg string) {
		p, err := exec.LookPath(name)
		if err != nil {
			x.missing = append(x.missing, name+" ("+pkg+")")
			return
		}
		*dst, _ = filepath.Abs(p)
	}
	look(&x.pdftotext, "pdftotext", "poppler-utils")
	look(&x.pdfinfo, "pdfinfo", "poppler-utils")
	look(&x.pdftoppm, "pdftoppm", "poppler-utils")
	look(&x.tesseract, "tesseract", "tesseract-ocr")
	return x, nil
}

func (x *Extractor) prepare() {
	x.once.Do(func() {
		x.iso = probeIsolation(x.self)
		if x.tesseract != "" {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			out, err := x.run(ctx, os.TempDir(), 64<<10, x.tesseract, "--list-langs")
			cancel()
			if err != nil || !bytes.Contains(out, []byte("\nvie")) {
				x.missing = append(x.missing, "Vietnamese OCR model (tesseract-ocr-vie)")
				x.tesseract = ""
			}
		}
	})
}

// Missing lists the tools not found (empty when all are there).
func (x *Extractor) Missing() []string {
	x.prepare()
	return append([]string(nil), x.missing...)
}

// Isolation says how the tools are cut off from the network: "netns",
// "userns+netns" or "none".
func (x *Extractor) Isolation() string {
	x.prepare()
	return x.iso.name
}

// CanRead reports whether documents of this MIME type can be read at all
// with the tools present.
func (x *Extractor) CanRead(mime string) bool {
	x.prepare()
	switch mime {
	case "application/pdf":
		return x.pdftotext != "" && x.pdfinfo != ""
	case "image/png", "image/jpeg":
		return x.tesseract != ""
	}
	return false
}

// Extract reads the text of one document. It waits for a free worker (or
// ctx), then spends at most Config.Timeout. Any failure is an *Unreadable.
func (x *Extractor) Extract(ctx context.Context, r io.Reader) (Result, error) {
	select {
	case x.sem <- struct{}{}:
	case <-ctx.Done():
		return Result{}, unreadable("timeout", ctx.Err())
	}
	defer func() { <-x.sem }()
	x.prepare()
	ctx, cancel := context.WithTimeout(ctx, x.cfg.Timeout)
	defer cancel()

	dir, err := os.MkdirTemp("", "dieuphoi-evidence-")
	if err != nil {
		return Result{}, unreadable("failed", fmt.Errorf("temp dir: %w", err))
	}
	defer os.RemoveAll(dir)
	head, path, err := x.spool(r, dir)
	if err != nil {
		return Result{}, err
	}
	var res Result
	switch {
	case bytes.HasPrefix(head, []byte("%PDF-")):
		res, err = x.pdf(ctx, dir, path)
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")), bytes.HasPrefix(head, []byte{0xFF, 0xD8, 0xFF}):
		res, err = x.photo(ctx, dir, path)
	default:
		return Result{}, unreadable("unsupported", nil)
	}
	if err != nil {
		var u *Unreadable
		if !errors.As(err, &u) {
			err = unreadable("failed", err)
		}
		return Result{}, err
	}
	res.Pages = x.bound(res.Pages)
	if !hasText(res.Pages) {
		return Result{}, unreadable("no_text", nil)
	}
	return res, nil
}

// spool copies the document into dir (the tools read files), refusing
// more than MaxFile bytes.
func (x *Extractor) spool(r io.Reader, dir string) ([]byte, string, error) {
	path := filepath.Join(dir, "in")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
	if err != nil {
		return nil, "", unreadable("failed", fmt.Errorf("spool: %w", err))
	}
	n, err := io.Copy(f, io.LimitReader(r, x.cfg.MaxFile+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, "", unreadable("failed", fmt.Errorf("spool: %w", err))
	}
	if n > x.cfg.MaxFile {
		return nil, "", unreadable("too_large", nil)
	}
	f, err = os.Open(path)
	if err != nil {
		return nil, "", unreadable("failed", fmt.Errorf("spool: %w", err))
	}
	defer f.Close()
	head := make([]byte, 16)
	k, _ := io.ReadFull(f, head)
	return head[:k], path, nil
}

// pdf reads a PDF's text layer; pages with (almost) no text are rendered
// and OCR'd, the first MaxOCRPages of them.
func (x *Extractor) pdf(ctx context.Context, dir, path string) (Result, error) {
	if !x.CanRead("application/pdf") {
		return Result{}, unreadable("unavailable", nil)
	}
	info, err := x.run(ctx, dir, 64<<10, x.pdfinfo, path)
	if err != nil {
		if errors.Is(err, errTimeout) {
			return Result{}, unreadable("timeout", err)
		}
		if strings.Contains(err.Error(), "password") {
			return Result{}, unreadable("encrypted", err)
		}
		return Result{}, unreadable("failed", err)
	}
	pages := 0
	for _, line := range strings.Split(string(info), "\n") {
		if v, ok := strings.CutPrefix(line, "Pages:"); ok {
			pages, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	switch {
	case pages <= 0:
		return Result{}, unreadable("failed", errors.New("pdfinfo: no page count"))
	case pages > x.cfg.MaxPages:
		return Result{}, unreadable("too_many_pages", fmt.Errorf("%d pages", pages))
	}
	out, err := x.run(ctx, dir, x.cfg.MaxText*4, x.pdftotext, "-layout", "-enc", "UTF-8", path, "-")
	if err != nil {
		if errors.Is(err, errTimeout) {
			return Result{}, unreadable("timeout", err)
		}
		return Result{}, unreadable("failed", err)
	}
	text := strings.Split(strings.ToValidUTF8(string(out), ""), "\f")
	res := Result{TotalPages: pages, Pages: make([]string, pages)}
	copy(res.Pages, text)
	var scanned []int
	for i, p := range res.Pages {
		if textRunes(p) < 20 && len(scanned) < x.cfg.MaxOCRPages {
			scanned = append(scanned, i)
		}
	}
	if len(scanned) == 0 {
		return res, nil
	}
	if x.tesseract == "" || x.pdftoppm == "" {
		if hasText(res.Pages) {
			return res, nil
		}
		return Result{}, unreadable("unavailable", nil)
	}
	var images []string
	for _, i := range scanned {
		prefix := filepath.Join(dir, fmt.Sprintf("p%03d", i+1))
		n := strconv.Itoa(i + 1)
		// -scale-to bounds the bitmap whatever the page size claims (a
		// 200-inch page would otherwise be a memory bomb); 2200 px on the
		// long side is about 190 dpi on A4, enough for Tesseract.
		if _, err := x.run(ctx, dir, 4<<10, x.pdftoppm, "-f", n, "-l", n, "-scale-to", "2200", "-gray",
			"-png", "-singlefile", path, prefix); err != nil {
			if errors.Is(err, errTimeout) {
				return Result{}, unreadable("timeout", err)
			}
			return Result{}, unreadable("failed", err)
		}
		images = append(images, prefix+".png")
	}
	ocr, err := x.ocr(ctx, dir, images)
	if err != nil {
		return Result{}, err
	}
	for k, i := range scanned {
		if k < len(ocr) {
			res.Pages[i] = ocr[k]
		}
	}
	res.OCR = true
	return res, nil
}

// photo OCRs a PNG or JPEG, refusing one above MaxPixels by its header
// alone (decoding it is what the limit protects against).
func (x *Extractor) photo(ctx context.Context, dir, path string) (Result, error) {
	if x.tesseract == "" {
		return Result{}, unreadable("unavailable", nil)
	}
	f, err := os.Open(path)
	if err != nil {
		return Result{}, unreadable("failed", err)
	}
	cfg, _, err := image.DecodeConfig(f)
	f.Close()
	if err != nil {
		return Result{}, unreadable("failed", fmt.Errorf("image header: %w", err))
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > x.cfg.MaxPixels || cfg.Width > 30000 || cfg.Height > 30000 {
		return Result{}, unreadable("too_large", fmt.Errorf("%d×%d pixels", cfg.Width, cfg.Height))
	}
	pages, err := x.ocr(ctx, dir, []string{path})
	if err != nil {
		return Result{}, err
	}
	return Result{Pages: pages[:1], OCR: true, TotalPages: 1}, nil
}

// ocr runs Tesseract once over images (one model load), returning one text
// per image.
func (x *Extractor) ocr(ctx context.Context, dir string, images []string) ([]string, error) {
	list := filepath.Join(dir, "images.txt")
	if err := os.WriteFile(list, []byte(strings.Join(images, "\n")+"\n"), 0o600); err != nil {
		return nil, unreadable("failed", err)
	}
	out, err := x.run(ctx, dir, x.cfg.MaxText*4, x.tesseract, list, "stdout", "-l", "vie", "--psm", "3")
	if err != nil {
		if errors.Is(err, errTimeout) {
			return nil, unreadable("timeout", err)
		}
		return nil, unreadable("failed", err)
	}
	pages := strings.Split(strings.ToValidUTF8(string(out), ""), "\f")
	for len(pages) < len(images) {
		pages = append(pages, "")
	}
	return pages[:len(images)], nil
}

// bound trims the text kept to MaxText bytes in all (whole runes).
func (x *Extractor) bound(pages []string) []string {
	left := x.cfg.MaxText
	for i, p := range pages {
		if len(p) > left {
			p = p[:left]
			for len(p) > 0 && !utf8.ValidString(p) {
				p = p[:len(p)-1]
			}
		}
		pages[i] = p
		left -= len(p)
	}
	return pages
}

func textRunes(s string) int {
	n := 0
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			n++
		}
	}
	return n
}

func hasText(pages []string) bool {
	for _, p := range pages {
		if textRunes(p) > 0 {
			return true
		}
	}
	return false
}
