package evidence

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-pdf/fpdf"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/evidence/evidencetest"
	"github.com/dieuphoi/dieuphoi/flows"
)

func newExtractor(t testing.TB, cfg Config) *Extractor {
	t.Helper()
	x, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// TestExtractFindsFields reads the same report as a PDF with text, as a
// photo and as a scanned PDF, and finds its number, date and value in each.
func TestExtractFindsFields(t *testing.T) {
	evidencetest.RequireTools(t, true)
	x := newExtractor(t, Config{Timeout: 60 * time.Second})
	if m := x.Missing(); len(m) > 0 {
		evidencetest.Missing(t, fmt.Sprint("missing ", m))
	}
	money := domain.Indicator{Code: "1.1", Unit: "triệu đồng", Type: domain.TypeDecimal}
	for _, tc := range []struct {
		label string
		data  func(testing.TB) []byte
		ocr   bool
	}{
		{"pdf with text", evidencetest.TextPDF, false},
		{"photo", evidencetest.Photo, true},
		{"scanned pdf", func(t testing.TB) []byte { return evidencetest.ScanPDF(t, 1) }, true},
	} {
		t.Run(tc.label, func(t *testing.T) {
			res, err := x.Extract(context.Background(), bytes.NewReader(tc.data(t)))
			if err != nil {
				t.Fatalf("extract: %v", err)
			}
			if res.OCR != tc.ocr || res.TotalPages != 1 || len(res.Pages) != 1 {
				t.Errorf("OCR %v, pages %d/%d; want OCR %v, 1 page", res.OCR, len(res.Pages), res.TotalPages, tc.ocr)
			}
			if nums := flows.DocNumbers(res.Pages); len(nums) == 0 || nums[0].Text != "125/BC-SKHCN" {
				t.Errorf("số/ký hiệu: got %+v, want 125/BC-SKHCN\ntext:\n%s", nums, res.Text())
			}
			want := time.Date(2024, 3, 15, 0, 0, 0, 0, time.UTC)
			if dates := flows.DocDates(res.Pages); len(dates) == 0 || !dates[0].Date.Equal(want) {
				t.Errorf("date: got %+v, want 15/03/2024\ntext:\n%s", dates, res.Text())
			}
			if f, ok := flows.FindValue(money, "1234.5", res.Pages); !ok || f.Page != 1 || !strings.Contains(f.Text, "triệu đồng") {
				t.Errorf("value: got %+v (%v), want 1.234,5 triệu đồng on page 1\ntext:\n%s", f, ok, res.Text())
			}
			if _, ok := flows.FindValue(money, "4321", res.Pages); ok {
				t.Error("found a value that is not in the document")
			}
		})
	}
}

// TestExtractHostile feeds files meant to hurt the reader; each must end
// as Unreadable with its reason, quickly, and leave the extractor working.
func TestExtractHostile(t *testing.T) {
	evidencetest.RequireTools(t, false)
	x := newExtractor(t, Config{Timeout: 8 * time.Second, MemoryLimit: 512 << 20, MaxPages: 50, MaxPixels: 40_000_000})
	long := func(t testing.TB) []byte {
		p := evidencetest.NewPDF(t)
		p.SetFont("dejavu", "", 12)
		for i := 0; i < 300; i++ {
			p.AddPage()
			p.Text(20, 20, fmt.Sprintf("Trang %d", i+1))
		}
		var b bytes.Buffer
		if err := p.Output(&b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	encrypted := func(t testing.TB) []byte {
		p := evidencetest.NewPDF(t)
		p.SetProtection(fpdf.CnProtectPrint, "mật-khẩu", "chủ")
		p.AddPage()
		p.SetFont("dejavu", "", 12)
		p.Text(20, 20, "Số: 125/BC-SKHCN")
		var b bytes.Buffer
		if err := p.Output(&b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	for _, tc := range []struct {
		label  string
		data   func(testing.TB) []byte
		reason []string
	}{
		{"corrupt pdf", func(testing.TB) []byte { return []byte("%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R >>\ngarbage") }, []string{"failed"}},
		{"truncated pdf", func(t testing.TB) []byte { b := evidencetest.TextPDF(t); return b[:len(b)/2] }, []string{"failed", "no_text"}},
		{"encrypted pdf", encrypted, []string{"encrypted"}},
		{"300 pages", long, []string{"too_many_pages"}},
		{"pdf bomb", pdfBomb, []string{"failed", "timeout", "no_text", "unavailable"}},
		{"50 megapixel photo", func(testing.TB) []byte { return evidencetest.PNGHeader(8660, 5774) }, []string{"too_large"}},
		{"huge claimed png", func(testing.TB) []byte { return evidencetest.PNGHeader(1<<30, 1<<30) }, []string{"too_large", "failed"}},
		{"truncated png", func(testing.TB) []byte { return evidencetest.PNGHeader(800, 600) }, []string{"failed", "no_text", "timeout"}},
		{"not a document", func(testing.TB) []byte { return []byte("MZ\x90\x00 an executable") }, []string{"unsupported"}},
		{"empty", func(testing.TB) []byte { return nil }, []string{"unsupported"}},
	} {
		t.Run(tc.label, func(t *testing.T) {
			data := tc.data(t)
			start := time.Now()
			_, err := x.Extract(context.Background(), bytes.NewReader(data))
			took := time.Since(start)
			t.Logf("%v after %v", err, took.Round(time.Millisecond))
			var u *Unreadable
			if !errors.As(err, &u) {
				t.Fatalf("got %v, want *Unreadable", err)
			}
			ok := false
			for _, r := range tc.reason {
				ok = ok || u.Reason == r
			}
			if !ok {
				t.Errorf("reason %q (%v), want one of %q", u.Reason, err, tc.reason)
			}
			if took > 25*time.Second {
				t.Errorf("took %v, want bounded by the 8 s limit", took)
			}
		})
	}
	// Still working after all that.
	res, err := x.Extract(context.Background(), bytes.NewReader(evidencetest.TextPDF(t)))
	if err != nil || !strings.Contains(res.Text(), "125/BC-SKHCN") {
		t.Fatalf("after hostile files: %v %q", err, res.Text())
	}
}

// pdfBomb is a PDF whose one page draws an image stream of 32768×32768
// grey pixels (1 GiB) compressed to about a megabyte, on a 200-inch page.
func pdfBomb(t testing.TB) []byte {
	raw := bytes.NewBuffer(evidencetest.ZlibZeros(1024))
	var b bytes.Buffer
	var offs []int
	obj := func(s string) {
		offs = append(offs, b.Len())
		b.WriteString(s)
	}
	b.WriteString("%PDF-1.4\n")
	obj("1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n")
	obj("2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n")
	obj("3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 14400 14400] /Resources << /XObject << /Im 5 0 R >> >> /Contents 4 0 R >> endobj\n")
	content := "q 14400 0 0 14400 0 0 cm /Im Do Q"
	obj(fmt.Sprintf("4 0 obj << /Length %d >> stream\n%s\nendstream endobj\n", len(content), content))
	obj(fmt.Sprintf("5 0 obj << /Type /XObject /Subtype /Image /Width 32768 /Height 32768 /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode /Length %d >> stream\n", raw.Len()))
	b.Write(raw.Bytes())
	b.WriteString("\nendstream endobj\n")
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer << /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offs)+1, xref)
	return b.Bytes()
}

// TestSandbox checks the limits a tool runs under, from inside.
func TestSandbox(t *testing.T) {
	x := newExtractor(t, Config{MemoryLimit: 300 << 20, Timeout: 5 * time.Second})
	x.prepare()
	dir := t.TempDir()
	out, err := x.run(context.Background(), dir, 64<<10, "/bin/cat", "/proc/self/limits")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), fmt.Sprintf("Max address space         %d", 300<<20)) {
		t.Errorf("address space not limited:\n%s", out)
	}
	if !strings.Contains(string(out), "Max cpu time              6") {
		t.Errorf("CPU time not limited:\n%s", out)
	}
	if os.Getuid() == 0 && x.Isolation() == "none" {
		t.Errorf("running as root but no network namespace")
	}
	if x.Isolation() != "none" {
		dev, err := x.run(context.Background(), dir, 64<<10, "/bin/cat", "/proc/self/net/dev")
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(dev), "\n")[2:] {
			if name, _, ok := strings.Cut(strings.TrimSpace(l), ":"); ok && name != "lo" {
				t.Errorf("network interface %q visible inside the sandbox", name)
			}
		}
	}
	// A runaway tool is killed at the time limit.
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := x.run(ctx, dir, 1024, "/bin/sleep", "30"); !errors.Is(err, errTimeout) {
		t.Errorf("sleep: %v, want a timeout", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("sleep ran %v past its limit", took)
	}
}

// TestWorkersBound checks that extractions wait for a free worker.
func TestWorkersBound(t *testing.T) {
	x := newExtractor(t, Config{Workers: 1})
	x.sem <- struct{}{} // the one worker is busy
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := x.Extract(ctx, strings.NewReader("%PDF-1.4"))
	var u *Unreadable
	if !errors.As(err, &u) || u.Reason != "timeout" {
		t.Errorf("got %v, want to wait and give up with the context", err)
	}
	<-x.sem
}
