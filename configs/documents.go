package configs

import (
	"io/fs"
	"path"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/storage/files"
)

// DocumentsFile lists the meeting's documents beside event.yaml: one row
// per file (a path relative to event.yaml, e.g. documents/chuong-trinh.pdf),
// its title, the agenda item it belongs to (its number, 1 for the first;
// empty: the whole event) and whether it is internal (staff only).
const DocumentsFile = "documents.csv"

// MaxDocumentSize bounds a listed document, as the console's uploads.
const MaxDocumentSize = 20 << 20

// maxDocumentTitle bounds a title, as the console's.
const maxDocumentTitle = 200

// Document is one meeting document the files list, read and checked.
type Document struct {
	Path     string
	Title    string
	AgendaNo int
	Internal bool
	MIME     string
	Data     []byte
}

var documentColumns = []column{
	{"file", true, []string{"tep", "duong_dan", "path"}},
	{"title", true, []string{"ten", "ten_tai_lieu", "tieu_de"}},
	{"item", false, []string{"muc", "agenda", "muc_chuong_trinh"}},
	{"internal", false, []string{"noi_bo"}},
}

// loadDocumentsFile reads documents.csv and the files it lists, when there
// is one. Every problem names the file, row and field.
func loadDocumentsFile(fsys fs.FS, agenda []domain.AgendaItem, probs *problems) []Document {
	if _, err := fs.Stat(fsys, DocumentsFile); err != nil {
		return nil
	}
	b, ok := readFile(fsys, DocumentsFile, probs)
	if !ok {
		return nil
	}
	t, ok := readTable(DocumentsFile, b, documentColumns, probs)
	if !ok {
		return nil
	}
	seen := map[string]int{}
	var out []Document
	for _, r := range t.rows {
		bad := func(field, format string, args ...any) { probs.addf(DocumentsFile, r.n, field, format, args...) }
		d := Document{Path: path.Clean(strings.ReplaceAll(r.get(t, "file"), "\\", "/")), Title: strings.Join(strings.Fields(r.get(t, "title")), " ")}
		if !fs.ValidPath(d.Path) || d.Path == "." || d.Path == DocumentsFile || d.Path == EventFile {
			bad("file", "%s is not a file beside event.yaml (write e.g. documents/chuong-trinh.pdf)", quote(r.get(t, "file")))
			continue
		}
		if first, dup := seen[d.Path]; dup {
			bad("file", "%s is listed twice (row %d)", quote(d.Path), first)
			continue
		}
		seen[d.Path] = r.n
		if d.Title == "" || utf8.RuneCountInString(d.Title) > maxDocumentTitle {
			bad("title", "write the document's title (at most %d characters)", maxDocumentTitle)
		}
		if v := strings.TrimSpace(r.get(t, "item")); v != "" {
			no, err := strconv.Atoi(v)
			if err != nil || no < 1 || no > len(agenda) {
				bad("item", "%s is not an agenda item (1 to %d; empty for the whole event)", quote(v), len(agenda))
			} else {
				d.AgendaNo = agenda[no-1].No
			}
		}
		switch strings.ToLower(strings.TrimSpace(r.get(t, "internal"))) {
		case "", "no", "false", "0", "không", "khong":
		case "yes", "true", "1", "có", "co", "nội bộ", "noi bo", "x":
			d.Internal = true
		default:
			bad("internal", "write yes or no")
		}
		if st, err := fs.Stat(fsys, d.Path); err != nil || st.IsDir() {
			bad("file", "%s is not there", quote(d.Path))
			continue
		} else if st.Size() > MaxDocumentSize {
			bad("file", "%s is larger than %d MB", quote(d.Path), MaxDocumentSize>>20)
			continue
		}
		data, err := fs.ReadFile(fsys, d.Path)
		if err != nil {
			bad("file", "%s cannot be read", quote(d.Path))
			continue
		}
		head := data
		if len(head) > 512 {
			head = head[:512]
		}
		mt, ok := files.ClassifyDocument(d.Path, head)
		if !ok {
			bad("file", "%s is not a document (PDF, Word, Excel, PowerPoint or a picture)", quote(d.Path))
			continue
		}
		d.MIME, d.Data = mt, data
		out = append(out, d)
	}
	return out
}
