// Package evidencetest builds evidence files at test time: a Vietnamese
// report page as a PDF with a text layer (fpdf with DejaVu Sans from
// Debian's fonts-dejavu-core), the same page as a slightly rotated, noisy
// photo (rendered by pdftoppm), a PDF holding only that photo, and hostile
// files.
package evidencetest

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/draw"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/go-pdf/fpdf"

	"github.com/dieuphoi/dieuphoi/internal/testenv"
)

const fontPath = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

var reportLines = []struct {
	x, y float64
	size float64
	text string
}{
	{12, 16, 11, "UBND TỈNH HƯNG YÊN"},
	{12, 22, 11, "SỞ KHOA HỌC VÀ CÔNG NGHỆ"},
	{12, 32, 12, "Số: 125/BC-SKHCN"},
	{62, 32, 12, "Hưng Yên, ngày 15 tháng 3 năm 2024"},
	{30, 46, 14, "BÁO CÁO"},
	{30, 53, 12, "Kết quả chi cho khoa học và công nghệ năm 2023"},
	{12, 66, 12, "Tổng chi cho khoa học và công nghệ năm 2023"},
	{12, 73, 12, "đạt 1.234,5 triệu đồng, tăng so với năm 2022."},
	{12, 83, 12, "Số doanh nghiệp được hỗ trợ: 42 doanh nghiệp."},
}

// RequireTools skips (or fails, when the test command demands every
// dependency and CI did not report that it could not install them) without
// poppler, Tesseract's Vietnamese model or the font.
func RequireTools(t testing.TB, ocr bool) {
	t.Helper()
	need := []string{"pdftotext", "pdfinfo", "pdftoppm"}
	if ocr {
		need = append(need, "tesseract")
	}
	for _, n := range need {
		if _, err := exec.LookPath(n); err != nil {
			Missing(t, n+" is not installed")
		}
	}
	if _, err := os.Stat(fontPath); err != nil {
		Missing(t, "DejaVu font (fonts-dejavu-core) is not installed")
	}
}

// Missing skips t, or fails it when the test command demands every
// dependency.
func Missing(t testing.TB, what string) {
	t.Helper()
	if os.Getenv(testenv.EnvRequire) == "1" && os.Getenv("DIEUPHOI_SKIP_OCR_TESTS") != "1" {
		t.Fatalf("%s (required: %s=1)", what, testenv.EnvRequire)
	}
	t.Skip(what)
}

// NewPDF is an A5 landscape document with DejaVu Sans as "dejavu".
func NewPDF(t testing.TB) *fpdf.Fpdf {
	t.Helper()
	ttf, err := os.ReadFile(fontPath)
	if err != nil {
		t.Fatal(err)
	}
	// A5 keeps the OCR'd bitmaps small, so the tests stay quick.
	p := fpdf.New("L", "mm", "A5", "")
	p.AddUTF8FontFromBytes("dejavu", "", ttf)
	return p
}

// TextPDF is the report page with a text layer.
func TextPDF(t testing.TB) []byte {
	t.Helper()
	p := NewPDF(t)
	p.AddPage()
	for _, l := range reportLines {
		p.SetFont("dejavu", "", l.size)
		p.Text(l.x, l.y, l.text)
	}
	var b bytes.Buffer
	if err := p.Output(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

var (
	photoOnce sync.Once
	photoPNG  []byte
	photoErr  error
)

// Photo is the text PDF rendered at 200 dpi, rotated by 1.2° and with
// speckle noise, as a phone photo of the printed page would be.
func Photo(t testing.TB) []byte {
	t.Helper()
	pdf := TextPDF(t)
	photoOnce.Do(func() {
		dir := t.TempDir()
		in := filepath.Join(dir, "page.pdf")
		if photoErr = os.WriteFile(in, pdf, 0o600); photoErr != nil {
			return
		}
		// PGM rather than PNG: no zlib round trip, which -race makes slow.
		if out, err := exec.Command("pdftoppm", "-r", "200", "-gray", "-singlefile", in, filepath.Join(dir, "page")).CombinedOutput(); err != nil {
			photoErr = err
			t.Log(string(out))
			return
		}
		raw, err := os.ReadFile(filepath.Join(dir, "page.pgm"))
		if err != nil {
			photoErr = err
			return
		}
		src, err := parsePGM(raw)
		if err != nil {
			photoErr = err
			return
		}
		img := rotateNoise(src, 1.2, 0.01)
		var b bytes.Buffer
		photoErr = (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&b, img)
		photoPNG = b.Bytes()
	})
	if photoErr != nil {
		t.Fatalf("render photo: %v", photoErr)
	}
	return photoPNG
}

// parsePGM reads a binary 8-bit PGM (P5), as pdftoppm -gray writes it.
func parsePGM(raw []byte) (*image.Gray, error) {
	// Header: "P5", width, height, maxval, separated by white space, then
	// one white-space byte and the pixels.
	var fields []int
	i := 2
	if !bytes.HasPrefix(raw, []byte("P5")) {
		return nil, fmt.Errorf("not a binary PGM")
	}
	for len(fields) < 3 && i < len(raw) {
		for i < len(raw) && (raw[i] == ' ' || raw[i] == '\n' || raw[i] == '\r' || raw[i] == '\t') {
			i++
		}
		n := 0
		for i < len(raw) && raw[i] >= '0' && raw[i] <= '9' {
			n = n*10 + int(raw[i]-'0')
			i++
		}
		fields = append(fields, n)
	}
	if len(fields) != 3 || fields[2] != 255 || i >= len(raw) {
		return nil, fmt.Errorf("not an 8-bit PGM")
	}
	w, h := fields[0], fields[1]
	pix := raw[i+1:]
	if len(pix) < w*h {
		return nil, fmt.Errorf("PGM is short: %d bytes for %d×%d", len(pix), w, h)
	}
	return &image.Gray{Pix: pix[:w*h], Stride: w, Rect: image.Rect(0, 0, w, h)}, nil
}

func rotateNoise(src image.Image, deg, noise float64) *image.Gray {
	b := src.Bounds()
	gray, ok := src.(*image.Gray)
	if !ok {
		gray = image.NewGray(b)
		draw.Draw(gray, b, src, b.Min, draw.Src)
	}
	dst := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	a := deg * math.Pi / 180
	sin, cos := math.Sin(a), math.Cos(a)
	cx, cy := float64(b.Dx())/2, float64(b.Dy())/2
	rng := rand.New(rand.NewPCG(1, 2))
	// Direct pixel access: the tests run with -race, where At/Set per
	// pixel costs seconds.
	for y := 0; y < b.Dy(); y++ {
		row := dst.Pix[y*dst.Stride : y*dst.Stride+b.Dx()]
		for x := range row {
			dx, dy := float64(x)-cx, float64(y)-cy
			sx, sy := int(cos*dx+sin*dy+cx), int(-sin*dx+cos*dy+cy)
			v := uint8(235) // paper
			if sx >= 0 && sy >= 0 && sx < b.Dx() && sy < b.Dy() {
				v = uint8(20 + int(gray.Pix[sy*gray.Stride+sx])*215/255)
			}
			if rng.Float64() < noise {
				v = uint8(rng.IntN(256))
			}
			row[x] = v
		}
	}
	return dst
}

// ScanPDF is a PDF whose pages hold only the photo, no text layer.
func ScanPDF(t testing.TB, pages int) []byte {
	t.Helper()
	img := Photo(t)
	p := NewPDF(t)
	p.RegisterImageOptionsReader("scan", fpdf.ImageOptions{ImageType: "PNG"}, bytes.NewReader(img))
	for i := 0; i < pages; i++ {
		p.AddPage()
		w, h := p.GetPageSize()
		p.ImageOptions("scan", 0, 0, w, h, false, fpdf.ImageOptions{ImageType: "PNG"}, 0, "")
	}
	var b bytes.Buffer
	if err := p.Output(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// PNGHeader is the start of a PNG claiming w×h pixels: enough for any
// reader that trusts the header to allocate the whole image.
func PNGHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 0 // 8-bit gray
	chunk := func(typ string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		c := crc32.NewIEEE()
		c.Write([]byte(typ))
		c.Write(data)
		b.WriteString(typ)
		b.Write(data)
		binary.Write(&b, binary.BigEndian, c.Sum32())
	}
	chunk("IHDR", ihdr)
	chunk("IDAT", bytes.Repeat([]byte{0x78, 0x9c}, 8))
	return b.Bytes()
}

// ZlibZeros is a zlib stream of n MiB of zeros, built in milliseconds: a
// deflate block that expands to 1 MiB of zeros is valid again after any
// run of zeros (it only copies from the last 32 KiB), so it is repeated.
func ZlibZeros(n int) []byte {
	var first, block bytes.Buffer
	zw, _ := flate.NewWriter(&first, flate.BestSpeed)
	mib := make([]byte, 1<<20)
	zw.Write(mib)
	zw.Flush()
	zw.Reset(&block)
	// A fresh writer's first block has a literal; skip to a block written
	// with a window of zeros behind it.
	var tmp bytes.Buffer
	zw.Reset(&tmp)
	zw.Write(mib)
	zw.Flush()
	head := tmp.Len()
	zw.Write(mib)
	zw.Flush()
	block.Write(tmp.Bytes()[head:])
	var b bytes.Buffer
	b.Write([]byte{0x78, 0x01})
	b.Write(first.Bytes())
	for i := 1; i < n; i++ {
		b.Write(block.Bytes())
	}
	b.Write([]byte{0x03, 0x00}) // a final, empty fixed block
	total := uint32((int64(n) << 20) % 65521)
	binary.Write(&b, binary.BigEndian, total<<16|1)
	return b.Bytes()
}
