package web_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// Imports speak Vietnamese, take agencies by name, give new people ids,
// show what an update changes and count what was done; the templates carry
// the agency list.
func TestImportByNameTemplatesCounts(t *testing.T) {
	w := newWorld(t)
	c := w.signIn(t, "S001")

	// The template: the columns the import reads, the agencies on a sheet.
	resp := c.do("GET", "/admin/import/template/mau-danh-sach-nguoi.xlsx", nil, "")
	data := []byte(read(t, resp))
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Disposition"), "mau-danh-sach-nguoi.xlsx") {
		t.Fatalf("template: %d %v", resp.StatusCode, resp.Header)
	}
	x, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if sheets := x.GetSheetList(); len(sheets) < 2 || sheets[0] != "Danh sách người" || sheets[1] != "Đơn vị" {
		t.Fatalf("sheets %v", sheets)
	}
	ag, _ := x.GetRows("Đơn vị")
	if len(ag) != 4 || ag[1][0] != "Sở Khoa học và Công nghệ" || ag[1][1] != "SKHCN" {
		t.Errorf("agency sheet %v", ag)
	}
	// Filled in the way a clerk would: agency names without diacritics, no
	// id for the new person, a known person by id with a new position.
	for i, row := range [][]any{
		{"", "Vũ Thị Mai", "Chuyên viên", "so noi vu", "0933 000 111", "", "đại biểu"},
		{"P002", "Trần Thị Bình", "Chủ tịch", "UBND HUYỆN YÊN MỸ", "0987654321", "", "đại biểu"},
		{"P001", "Nguyễn Văn An", "Giám đốc", "SKHCN", "0912345678", "", ""},
	} {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := x.SetSheetRow("Danh sách người", cell, &row); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := x.Write(&buf); err != nil {
		t.Fatal(err)
	}
	resp = c.upload("people", "ds.xlsx", buf.Bytes())
	body := read(t, resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("preview: %d\n%s", resp.StatusCode, body)
	}
	mustContain(t, body, "1 mới, 1 thay đổi, 1 không đổi", "mã tự cấp P005", "Chức vụ: “Phó Chủ tịch” → “Chủ tịch”", "Sở Nội vụ", `id="confirm"`)
	id := strings.TrimSuffix(regexFind(t, body, `action="/admin/import/(`), "/confirm")
	resp = c.post("/admin/import/"+id+"/confirm", nil)
	mustContain(t, read(t, resp), "1 người mới, 1 được cập nhật, 1 không đổi")
	if p := w.person("P005"); p.FullName != "Vũ Thị Mai" || p.AgencyCode != "SNV" || p.Phone != "0933000111" {
		t.Errorf("new person: %+v", p)
	}
	if p := w.person("P002"); p.Position != "Chủ tịch" || p.AgencyCode != "UBND-YM" {
		t.Errorf("updated person: %+v", p)
	}

	// Re-importing the same list without ids updates, never duplicates.
	n := len(w.dir.Load().People())
	again := xlsxFile(t, [][]any{{"Họ và tên", "Chức vụ", "Đơn vị", "Số điện thoại"}, {"Vũ Thị Mai", "Chuyên viên", "Sở Nội vụ", "0933000111"}})
	body = read(t, c.upload("people", "lai.xlsx", again))
	mustContain(t, body, "0 mới, 0 thay đổi, 1 không đổi", "mã P005 (cùng họ tên và số điện thoại)")
	id = strings.TrimSuffix(regexFind(t, body, `action="/admin/import/(`), "/confirm")
	read(t, c.post("/admin/import/"+id+"/confirm", nil))
	if len(w.dir.Load().People()) != n {
		t.Error("a list without ids duplicated people")
	}

	// Errors in Vietnamese; an unknown agency names the list to use.
	bad := xlsxFile(t, [][]any{{"Họ và tên", "Đơn vị", "Số điện thoại", "Email"}, {"Lê Văn Tám", "Sở Không Có", "abc123", "x@"}})
	body = read(t, c.upload("people", "loi.xlsx", bad))
	mustContain(t, body, "Không có đơn vị “Sở Không Có”", "“abc123” không phải số điện thoại Việt Nam", "“x@” không phải địa chỉ email", "Email")
	mustNotContain(t, body, "is not", "not in the agency list")

	// The page lists the agencies; the assignments template has the
	// indicators, focal points and today's assignments by agency name.
	_, body = c.get("/admin/import")
	mustContain(t, body, `id="agency-list"`, "UBND huyện Yên Mỹ</td><td>UBND-YM", "mau-phan-cong-chi-so.xlsx")
	resp = c.do("GET", "/admin/import/template/mau-phan-cong-chi-so.xlsx", nil, "")
	x, err = excelize.OpenReader(strings.NewReader(read(t, resp)))
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := x.GetRows("Phân công")
	if len(rows) != 3 || strings.Join(rows[2], "|") != "1.1.1|UBND huyện Yên Mỹ|P003|20/08/2026 17:00" {
		t.Errorf("assignments template %v", rows)
	}
	if sheets := x.GetSheetList(); strings.Join(sheets, ",") != "Phân công,Đơn vị,Chỉ số,Đầu mối,Hướng dẫn" {
		t.Errorf("sheets %v", sheets)
	}
	// Re-uploaded as it is: nothing changes.
	body = read(t, c.upload("assignments", "pc.xlsx", func() []byte { var b bytes.Buffer; _ = x.Write(&b); return b.Bytes() }()))
	mustContain(t, body, "0 mới, 0 thay đổi, 2 không đổi, 0 phân công cũ sẽ bỏ")
}
