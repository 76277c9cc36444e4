package papers

import (
	"bytes"
	"context"
	"flag"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/configs"
	"github.com/dieuphoi/dieuphoi/domain"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// example is the built-in campaign: its event and people.
func example(t *testing.T) (domain.Event, *domain.Directory) {
	t.Helper()
	c, err := configs.Load(configs.Example())
	if err != nil {
		t.Fatal(err)
	}
	people := c.People
	for i := range people {
		people[i].InviteToken = "tok" + people[i].ID
		people[i].CheckinToken = "chk" + people[i].ID
		people[i].InviteCode = "HY" + people[i].ID
	}
	return c.Event, domain.NewDirectory(people, c.Agencies)
}

// poppler is the path of a poppler tool, or skips the test when it is
// missing and services are not required.
func poppler(t *testing.T, tool string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		if os.Getenv("DIEUPHOI_REQUIRE_SERVICES") != "" {
			t.Fatalf("%s is missing (apt-get install poppler-utils)", tool)
		}
		t.Skipf("%s is missing (apt-get install poppler-utils)", tool)
	}
	return p
}

func run(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, poppler(t, name), args...).Output()
	if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return out
}

// writePDF keeps data in the test's directory.
func writePDF(t *testing.T, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// pdfText is the PDF's text as pdftotext reads it, page by page.
func pdfText(t *testing.T, path string) []string {
	t.Helper()
	out := string(run(t, "pdftotext", "-layout", "-enc", "UTF-8", path, "-"))
	pages := strings.Split(out, "\f")
	if len(pages) > 0 && strings.TrimSpace(pages[len(pages)-1]) == "" {
		pages = pages[:len(pages)-1]
	}
	return pages
}

// pageCount reads the page count from pdfinfo.
func pageCount(t *testing.T, path string) int {
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

// renderPage renders one page to PNG at dpi, kept in the test output
// directory (DIEUPHOI_TEST_OUTPUT, else the test's temporary directory) so
// a person can look at it.
func renderPage(t *testing.T, path string, page, dpi int, name string) (string, image.Image) {
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
