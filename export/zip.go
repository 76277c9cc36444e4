package export

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/dieuphoi/dieuphoi/domain"
)

// ManifestName is the name of the manifest inside the evidence ZIP.
const ManifestName = "manifest.csv"

var manifestHeaders = []string{
	"Mã chỉ số", "Tên chỉ số", "Mã đơn vị", "Đơn vị cung cấp", "Trạng thái",
	"STT", "Loại", "Tệp trong ZIP", "Tên gốc", "SHA-256", "Kích thước (byte)",
	"Liên kết", "Ghi chú",
}

// WriteEvidenceZIP writes every evidence file of every submission as
// "<indicator code>/<agency code>/<n>-<original name>", n being the
// document's place (from 1) in the submission's evidence list, plus
// ManifestName: a CSV (UTF-8 with BOM) with one line per document, links
// included. Names are made safe: no path separators or traversal, no
// control or Windows-reserved characters, NFC, Vietnamese letters kept,
// unique without regard to case. open returns a stored file by its SHA-256.
//
// A file that open cannot return, or whose bytes do not hash to its
// SHA-256, is noted in the manifest's "Ghi chú" column rather than failing
// the whole export; an error while copying bytes already begun does fail it.
func WriteEvidenceZIP(w io.Writer, d Data, open func(sha256 string) (io.ReadCloser, error)) error {
	p := prepare(d)
	zw := zip.NewWriter(w)
	var manifest [][]string
	used := map[string]bool{strings.ToLower(ManifestName): true}
	for _, r := range p.rows {
		if r.sub == nil {
			continue
		}
		dir := safeSegment(r.ind.Code) + "/" + safeSegment(r.agency.Code)
		for i, e := range r.sub.Evidence {
			kind := "Tệp"
			if e.SHA256 == "" {
				if e.Link == "" {
					continue
				}
				kind = "Liên kết"
			}
			line := []string{
				cleanText(r.ind.Code), cleanText(r.ind.NameVI), cleanText(r.agency.Code),
				cleanText(agencyName(r.agency)), StatusLabel(r.status), strconv.Itoa(i + 1), kind,
				"", cleanText(visibleText(e.Name)), e.SHA256, "", cleanText(e.Link), "",
			}
			if e.SHA256 != "" {
				name := unique(dir+"/"+strconv.Itoa(i+1)+"-"+safeFileName(e.Name), used)
				written, size, note, err := addFile(zw, p, name, e.SHA256, open)
				if err != nil {
					return fmt.Errorf("export: zip %s: %w", name, err)
				}
				if written {
					line[7] = cleanText(name)
					line[10] = strconv.FormatInt(size, 10)
				}
				line[12] = note
			}
			manifest = append(manifest, line)
		}
	}

	var buf bytes.Buffer
	c, err := newCSV(&buf)
	if err != nil {
		return err
	}
	if err := c.write(manifestHeaders); err != nil {
		return err
	}
	for _, l := range manifest {
		if err := c.write(l); err != nil {
			return err
		}
	}
	if err := c.close(); err != nil {
		return err
	}
	mw, err := zw.CreateHeader(&zip.FileHeader{Name: ManifestName, Method: zip.Deflate, Modified: p.now})
	if err != nil {
		return err
	}
	if _, err := mw.Write(buf.Bytes()); err != nil {
		return err
	}
	return zw.Close()
}

// addFile copies one stored file into the ZIP. It reports whether it did,
// the size, and a note for the manifest when something is wrong.
func addFile(zw *zip.Writer, p *prepared, name, sum string, open func(string) (io.ReadCloser, error)) (bool, int64, string, error) {
	rc, err := open(sum)
	if err != nil {
		return false, 0, "Không đọc được tệp: " + cleanText(err.Error()), nil
	}
	defer rc.Close()
	fw, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: p.now})
	if err != nil {
		return false, 0, "", err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(fw, h), rc)
	if err != nil {
		return true, n, "", err
	}
	if got := hex.EncodeToString(h.Sum(nil)); !strings.EqualFold(got, sum) {
		return true, n, "SHA-256 không khớp: nội dung có mã " + got, nil
	}
	return true, n, "", nil
}

// unique returns name, or name with " (2)", " (3)"… before its extension,
// whichever is not yet in used (compared without case), and records it.
func unique(name string, used map[string]bool) string {
	out := name
	ext := path.Ext(name)
	if len(ext) > 16 || strings.ContainsRune(ext, ' ') {
		ext = ""
	}
	base := strings.TrimSuffix(name, ext)
	for n := 2; used[strings.ToLower(out)]; n++ {
		out = base + " (" + strconv.Itoa(n) + ")" + ext
	}
	used[strings.ToLower(out)] = true
	return out
}

// maxNameBytes keeps a file name well under the 255-byte limit of common
// file systems once a prefix and a " (n)" are added.
const maxNameBytes = 180

// safeFileName makes one path element out of a stored file's original name.
func safeFileName(s string) string {
	s = safeSegment(s)
	if len(s) <= maxNameBytes {
		return s
	}
	ext := path.Ext(s)
	if len(ext) > 16 {
		ext = ""
	}
	base := strings.TrimSuffix(s, ext)
	cut := maxNameBytes - len(ext)
	for cut > 0 && !utf8.RuneStart(base[cut]) {
		cut--
	}
	return strings.TrimRight(base[:cut], " .") + ext
}

// safeSegment makes s a single, harmless path element: separators and the
// characters Windows forbids become "_", control and invisible formatting
// characters (such as right-to-left overrides) go, it is NFC, it neither
// starts nor ends with dots or spaces, it is not "." or "..", and it is
// not a device name such as CON or NUL.
func safeSegment(s string) string {
	s = norm.NFC.String(s)
	s = domain.CleanName(strings.Map(func(r rune) rune {
		if strings.ContainsRune(`/\:*?"<>|`, r) {
			return '_'
		}
		return r
	}, s))
	if s == "" {
		return "_"
	}
	stem := strings.ToUpper(s)
	if i := strings.IndexByte(stem, '.'); i >= 0 {
		stem = stem[:i]
	}
	switch stem {
	case "CON", "PRN", "AUX", "NUL",
		"COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
		"LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9":
		s = "_" + s
	}
	return s
}

// visibleText drops the invisible formatting characters (such as a
// right-to-left override that makes "fdp.exe" read "exe.pdf") a sender may
// hide in a file name; cleanText does the rest.
func visibleText(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, s)
}
