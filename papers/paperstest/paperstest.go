// Package paperstest reads PDFs back for tests with poppler's tools
// (pdftotext, pdfinfo, pdfimages, pdftoppm from poppler-utils): their text
// page by page, their page count, their images, and one page rendered to
// PNG for a person to look at.
package paperstest

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/internal/testenv"
	"github.com/dieuphoi/dieuphoi/papers"
)

// tool is the path of a poppler tool. Without it the test is skipped, or
// fails when the test command demands every dependency
// (DIEUPHOI_REQUIRE_SERVICES=1) and CI did not report that it could not
// install them (DIEUPHOI_SKIP_OCR_TESTS=1, set by .ci/run).
func tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv(testenv.EnvRequire) == "1" && os.Getenv("DIEUPHOI_SKIP_OCR_TESTS") != "1" {
			t.Fatalf("%s is not installed (apt-get install poppler-utils); required: %s=1", name, testenv.EnvRequire)
		}
		t.Skipf("%s is not installed (apt-get install poppler-utils)", name)
	}
	return p
}

func run(t testing.TB, name string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, tool(t, name), args...).Output()
	if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return out
}

// Write keeps data as a file in the test's temporary directory.
func Write(t testing.TB, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// Text is the PDF's text as pdftotext -layout reads it, one string a page.
func Text(t testing.TB, path string) []string {
	t.Helper()
	out := string(run(t, "pdftotext", "-layout", "-enc", "UTF-8", path, "-"))
	pages := strings.Split(out, "\f")
	if len(pages) > 0 && strings.TrimSpace(pages[len(pages)-1]) == "" {
		pages = pages[:len(pages)-1]
	}
	return pages
}

// Pages is the page count pdfinfo reports.
func Pages(t testing.TB, path string) int {
	t.Helper()
	for _, l := range strings.Split(string(run(t, "pdfinfo", path)), "\n") {
		if v, ok := strings.CutPrefix(l, "Pages:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("pdfinfo gave no page count")
	return 0
}

// Collapse joins runs of white space: pdftotext -layout spaces words out.
func Collapse(s string) string { return strings.Join(strings.Fields(s), " ") }

// Render renders one page to PNG at dpi in the test output directory
// (DIEUPHOI_TEST_OUTPUT, else the test's temporary directory) so that a
// person can look at it; it returns the file and the image.
func Render(t testing.TB, path string, page, dpi int, name string) (string, image.Image) {
	t.Helper()
	dir := os.Getenv("DIEUPHOI_TEST_OUTPUT")
	if dir == "" {
		dir = t.TempDir()
	}
	prefix := filepath.Join(dir, name)
	p := strconv.Itoa(page)
	run(t, "pdftoppm", "-png", "-r", strconv.Itoa(dpi), "-f", p, "-l", p, "-singlefile", path, prefix)
	b, err := os.ReadFile(prefix + ".png")
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("page %d rendered to %s.png", page, prefix)
	return prefix + ".png", img
}

// Images are the PDF's images (pdfimages -png).
func Images(t testing.TB, path string) []image.Image {
	t.Helper()
	dir := t.TempDir()
	run(t, "pdfimages", "-png", path, filepath.Join(dir, "img"))
	names, _ := filepath.Glob(filepath.Join(dir, "img-*.png"))
	var out []image.Image
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, img)
	}
	return out
}

// HasQR reports whether one of imgs is, module for module, the QR code of
// payload. No QR decoder is among the Go modules this project may use, so
// the payload is checked by drawing its code again with the papers'
// encoder at the same size and comparing every pixel.
func HasQR(t testing.TB, imgs []image.Image, payload string) bool {
	t.Helper()
	b, err := papers.QRPNG(payload)
	if err != nil {
		t.Fatal(err)
	}
	want, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	for _, img := range imgs {
		if sameBW(img, want) {
			return true
		}
	}
	return false
}

func sameBW(a, b image.Image) bool {
	ab, bb := a.Bounds(), b.Bounds()
	if ab.Dx() != bb.Dx() || ab.Dy() != bb.Dy() {
		return false
	}
	for y := 0; y < ab.Dy(); y++ {
		for x := 0; x < ab.Dx(); x++ {
			if dark(a.At(ab.Min.X+x, ab.Min.Y+y)) != dark(b.At(bb.Min.X+x, bb.Min.Y+y)) {
				return false
			}
		}
	}
	return true
}

func dark(c interface{ RGBA() (r, g, b, a uint32) }) bool {
	r, g, b, _ := c.RGBA()
	return r+g+b < 3*0x8000
}
