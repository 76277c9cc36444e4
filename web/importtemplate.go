package web

import (
	"bytes"
	"fmt"
	"mime"
	"net/http"
	"strconv"

	"github.com/xuri/excelize/v2"

	"github.com/dieuphoi/dieuphoi/domain"
)

// Import templates: Excel workbooks whose first sheet has the columns the
// import reads (Vietnamese titles it recognises), with the agency list — and
// for assignments the indicators and focal points — on sheets of their own,
// and the agency column offering the agencies' names as a drop-down.
const (
	templatePeople      = "mau-danh-sach-nguoi.xlsx"
	templateAssignments = "mau-phan-cong-chi-so.xlsx"
	xlsxMIME            = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
)

func (c *Console) serveImportTemplate(w http.ResponseWriter, r *http.Request, s *session) {
	var data []byte
	var err error
	switch file := r.PathValue("file"); file {
	case templatePeople:
		data, err = c.peopleTemplate()
	case templateAssignments:
		if c.cfg.Catalog() == nil {
			c.fail(w, r, s, http.StatusNotFound, "Không tìm thấy", "Chưa có đợt thu thập chỉ số.")
			return
		}
		data, err = c.assignmentsTemplate()
	default:
		c.fail(w, r, s, http.StatusNotFound, "Không tìm thấy", "Không có tệp mẫu này.")
		return
	}
	if err != nil {
		c.oops(w, r, s, "import template", err)
		return
	}
	w.Header().Set("Content-Type", xlsxMIME)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": r.PathValue("file")}))
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	_, _ = w.Write(data)
}

// sheet writes rows (the first is the header, bold) into a sheet and sizes
// its columns.
func sheet(x *excelize.File, name string, widths []float64, rows ...[]any) error {
	if _, err := x.NewSheet(name); err != nil {
		return fmt.Errorf("sheet %s: %w", name, err)
	}
	for i, row := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := x.SetSheetRow(name, cell, &row); err != nil {
			return fmt.Errorf("sheet %s: %w", name, err)
		}
	}
	bold, _ := x.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDEBF7"}}})
	last, _ := excelize.CoordinatesToCellName(len(rows[0]), 1)
	_ = x.SetCellStyle(name, "A1", last, bold)
	for i, wd := range widths {
		col, _ := excelize.ColumnNumberToName(i + 1)
		_ = x.SetColWidth(name, col, col, wd)
	}
	return x.SetPanes(name, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"})
}

// agencySheet is the list of agencies, by name, with their codes.
func (c *Console) agencySheet(x *excelize.File) (int, error) {
	rows := [][]any{{"Tên đơn vị", "Mã đơn vị"}}
	as := c.agenciesByName()
	for _, a := range as {
		rows = append(rows, []any{a.NameVI, a.Code})
	}
	return len(as), sheet(x, "Đơn vị", []float64{52, 14}, rows...)
}

// agencyDropDown offers the agencies' names in column col of the first sheet.
func agencyDropDown(x *excelize.File, first, col string, n int) error {
	if n == 0 {
		return nil
	}
	dv := excelize.NewDataValidation(true)
	dv.Sqref = col + "2:" + col + "2000"
	dv.SetSqrefDropList("'Đơn vị'!$A$2:$A$" + strconv.Itoa(n+1))
	return x.AddDataValidation(first, dv)
}

func finish(x *excelize.File) ([]byte, error) {
	x.SetActiveSheet(0)
	var buf bytes.Buffer
	if err := x.Write(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (c *Console) peopleTemplate() ([]byte, error) {
	x := excelize.NewFile()
	defer x.Close()
	const first = "Danh sách người"
	if err := x.SetSheetName("Sheet1", first); err != nil {
		return nil, err
	}
	head := []any{"Mã", "Họ và tên", "Chức vụ", "Đơn vị", "Số điện thoại", "Email", "Vai trò"}
	if err := sheet(x, first, []float64{10, 28, 36, 44, 16, 28, 22}, head); err != nil {
		return nil, err
	}
	n, err := c.agencySheet(x)
	if err != nil {
		return nil, err
	}
	if err := agencyDropDown(x, first, "D", n); err != nil {
		return nil, err
	}
	help := [][]any{{"Hướng dẫn"},
		{"Mỗi dòng của trang «Danh sách người» là một người. Bắt buộc: Họ và tên, Đơn vị, Số điện thoại."},
		{"Mã: để trống với người mới, hệ thống tự cấp; ghi mã đã có để sửa thông tin người đó."},
		{"Đơn vị: chọn tên trong danh sách (trang «Đơn vị»), hoặc ghi mã đơn vị."},
		{"Vai trò: đại biểu, đầu mối, cán bộ — nhiều vai trò cách nhau bằng dấu ; (để trống là đại biểu)."},
		{"Người đã có giữ nguyên đường dẫn và mã thư mời. Trước khi nhập, bảng điều khiển cho xem trước từng thay đổi."}}
	if err := sheet(x, "Hướng dẫn", []float64{110}, help...); err != nil {
		return nil, err
	}
	return finish(x)
}

func (c *Console) assignmentsTemplate() ([]byte, error) {
	x := excelize.NewFile()
	defer x.Close()
	const first = "Phân công"
	if err := x.SetSheetName("Sheet1", first); err != nil {
		return nil, err
	}
	dir, cat := c.cfg.Directory(), c.cfg.Catalog()
	// The current assignments, so that the file is edited rather than
	// retyped (an import replaces them all).
	rows := [][]any{{"Mã chỉ số", "Đơn vị", "Đầu mối", "Hạn nộp"}}
	for _, a := range cat.Assignments() {
		ag, _ := dir.Agency(a.Agency)
		focal := ""
		for i, id := range a.Focal {
			if i > 0 {
				focal += "; "
			}
			focal += id
		}
		dl := ""
		if !a.Deadline.IsZero() {
			dl = a.Deadline.In(c.loc).Format("02/01/2006 15:04")
		}
		rows = append(rows, []any{a.Indicator, ag.NameVI, focal, dl})
	}
	if err := sheet(x, first, []float64{12, 44, 24, 18}, rows...); err != nil {
		return nil, err
	}
	n, err := c.agencySheet(x)
	if err != nil {
		return nil, err
	}
	if err := agencyDropDown(x, first, "B", n); err != nil {
		return nil, err
	}
	inds := [][]any{{"Mã chỉ số", "Tên chỉ số", "Trụ cột", "Đơn vị cung cấp"}}
	for _, i := range cat.Indicators() {
		ag, _ := dir.Agency(i.Agency)
		inds = append(inds, []any{i.Code, i.NameVI, i.Pillar, ag.NameVI})
	}
	if err := sheet(x, "Chỉ số", []float64{12, 70, 26, 40}, inds...); err != nil {
		return nil, err
	}
	focal := [][]any{{"Mã", "Họ và tên", "Đơn vị"}}
	for _, p := range dir.People() {
		if p.Has(domain.RoleFocal) {
			ag, _ := dir.Agency(p.AgencyCode)
			focal = append(focal, []any{p.ID, p.FullName, ag.NameVI})
		}
	}
	if err := sheet(x, "Đầu mối", []float64{10, 28, 44}, focal...); err != nil {
		return nil, err
	}
	help := [][]any{{"Hướng dẫn"},
		{"Mỗi dòng của trang «Phân công» giao một chỉ số cho một đơn vị. Tệp nhập vào thay toàn bộ phân công hiện có."},
		{"Đơn vị: chọn tên trong danh sách (trang «Đơn vị»), hoặc ghi mã đơn vị."},
		{"Đầu mối: mã người (trang «Đầu mối»), nhiều người cách nhau bằng dấu ; — người đó phải thuộc đơn vị được giao."},
		{"Hạn nộp: ngày/tháng/năm giờ:phút, ví dụ 23/08/2024 17:00; để trống là hạn chung."}}
	if err := sheet(x, "Hướng dẫn", []float64{110}, help...); err != nil {
		return nil, err
	}
	return finish(x)
}
