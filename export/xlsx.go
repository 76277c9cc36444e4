package export

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/dieuphoi/dieuphoi/domain"
)

// Sheet names of the campaign workbook.
const (
	sheetSummary = "Tổng hợp"
	sheetAll     = "Tất cả"
	sheetAgency  = "Biểu số liệu"
)

// statusFill is the background colour of each status.
var statusFill = map[domain.SubmissionStatus]string{
	domain.StatusEmpty:     "EDEDED",
	domain.StatusDraft:     "FFF2CC",
	domain.StatusSubmitted: "DDEBF7",
	domain.StatusReturned:  "F8CBAD",
	domain.StatusApproved:  "C6EFCE",
}

const headerFill = "D9E1F2"

// cell is one value to write, with how it looks.
type cell struct {
	text   string // text cells (already cleaned)
	num    float64
	isNum  bool
	numFmt string // custom number format of a number cell
	fill   string
	bold   bool
	italic bool
	red    bool
	wrap   bool
	center bool
	size   float64
}

func (c cell) empty() bool { return !c.isNum && c.text == "" }

func textCell(s string) cell { return cell{text: cleanText(s)} }
func wrapCell(s string) cell { return cell{text: cleanText(s), wrap: true} }
func numCell(f float64, fm string) cell {
	return cell{num: f, isNum: true, numFmt: fm}
}

func timeCell(t time.Time, loc *time.Location, fm string) cell {
	if t.IsZero() {
		return cell{}
	}
	return numCell(excelSerial(t.In(loc)), fm)
}

type styleKey struct {
	numFmt                                  string
	fill                                    string
	bold, italic, red, wrap, center, border bool
	size                                    float64
}

// book wraps an excelize file with a cache of styles.
type book struct {
	f      *excelize.File
	styles map[styleKey]int
	err    error // first error; later calls do nothing
}

func newBook(p *prepared) *book {
	b := &book{f: excelize.NewFile(), styles: map[styleKey]int{}}
	at := p.now.UTC().Format(time.RFC3339)
	b.check(b.f.SetDocProps(&excelize.DocProperties{
		Title:          cleanText(p.d.Title),
		Subject:        cleanText(p.d.Title),
		Creator:        "dieuphoi",
		LastModifiedBy: "dieuphoi",
		Created:        at,
		Modified:       at,
		Language:       "vi-VN",
	}))
	b.check(b.f.SetAppProps(&excelize.AppProperties{Application: "dieuphoi"}))
	return b
}

func (b *book) check(err error) {
	if err != nil && b.err == nil {
		b.err = err
	}
}

func (b *book) style(k styleKey) int {
	if id, ok := b.styles[k]; ok {
		return id
	}
	s := &excelize.Style{
		Font:      &excelize.Font{Bold: k.bold, Italic: k.italic, Size: k.size},
		Alignment: &excelize.Alignment{Vertical: "top", WrapText: k.wrap},
	}
	if k.red {
		s.Font.Color = "C00000"
	}
	if k.center {
		s.Alignment.Horizontal = "center"
	}
	if k.numFmt != "" {
		fm := k.numFmt
		s.CustomNumFmt = &fm
	}
	if k.fill != "" {
		s.Fill = excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{k.fill}}
	}
	if k.border {
		for _, side := range []string{"left", "right", "top", "bottom"} {
			s.Border = append(s.Border, excelize.Border{Type: side, Color: "A6A6A6", Style: 1})
		}
	}
	id, err := b.f.NewStyle(s)
	b.check(err)
	b.styles[k] = id
	return id
}

// put writes c at (col, row), both 1-based. Text is always written as a
// string cell, so it can never become a formula.
func (b *book) put(sheet string, col, row int, c cell, border bool) {
	if b.err != nil {
		return
	}
	ref, err := excelize.CoordinatesToCellName(col, row)
	if err != nil {
		b.check(err)
		return
	}
	switch {
	case c.isNum:
		b.check(b.f.SetCellFloat(sheet, ref, c.num, -1, 64))
	case c.text != "":
		b.check(b.f.SetCellStr(sheet, ref, c.text))
	}
	k := styleKey{numFmt: c.numFmt, fill: c.fill, bold: c.bold, italic: c.italic, red: c.red,
		wrap: c.wrap, center: c.center, border: border, size: c.size}
	if k != (styleKey{}) {
		b.check(b.f.SetCellStyle(sheet, ref, ref, b.style(k)))
	}
}

func colName(col int) string {
	n, _ := excelize.ColumnNumberToName(col)
	return n
}

// columnWidths of the table columns, in characters.
var columnWidths = map[string]float64{
	"STT": 5, "Mã chỉ số": 10, "Tên chỉ số": 48, "Trụ cột": 24, "Đơn vị cung cấp": 30,
	"Giá trị": 14, "Đơn vị tính": 14, "Năm số liệu": 8, "Trạng thái": 12,
	"Số minh chứng": 10, "Minh chứng": 36, "Số/ký hiệu văn bản": 18, "Ngày ban hành": 12,
	"Người gửi": 22, "Thời điểm gửi": 17, "Hạn nộp": 17, "Ghi chú": 36,
	"Ý kiến thẩm định": 36, "Quá hạn": 9, "Cảnh báo": 30,
}

// cells returns every column of r by header.
func (p *prepared) cells(r row) map[string]cell {
	c := map[string]cell{
		"Mã chỉ số":       textCell(r.ind.Code),
		"Tên chỉ số":      wrapCell(r.ind.NameVI),
		"Trụ cột":         wrapCell(r.ind.Pillar),
		"Đơn vị cung cấp": wrapCell(agencyName(r.agency)),
		"Đơn vị tính":     wrapCell(r.ind.Unit),
		"Trạng thái":      {text: StatusLabel(r.status), fill: statusFill[r.status]},
		"Hạn nộp":         timeCell(r.deadline, p.loc, xlDateTime),
		"Thời điểm gửi":   timeCell(r.sentAt, p.loc, xlDateTime),
		"Người gửi":       wrapCell(r.by),
	}
	if r.ind.RefYear > 0 {
		c["Năm số liệu"] = numCell(float64(r.ind.RefYear), "0")
	}
	switch v := r.val; v.kind {
	case kindNumber:
		n := v.num
		if v.percent {
			n /= 100 // a true percentage: 12,5 % is 0.125
		}
		c["Giá trị"] = numCell(n, numberFormat(v.decimals, v.percent))
	case kindDate:
		c["Giá trị"] = numCell(dateSerial(v.date), xlDate)
	case kindBool:
		c["Giá trị"] = textCell(yesNo(v.b))
	case kindText:
		c["Giá trị"] = wrapCell(v.text)
	}
	if len(r.flags) > 0 {
		c["Cảnh báo"] = cell{text: cleanText(r.flagText()), wrap: true, red: true}
	}
	if r.overdue {
		c["Quá hạn"] = cell{text: "Có", bold: true, red: true}
		hn := c["Hạn nộp"]
		hn.red = true
		c["Hạn nộp"] = hn
	}
	if s := r.sub; s != nil {
		c["Số minh chứng"] = numCell(float64(len(s.Evidence)), "0")
		c["Số/ký hiệu văn bản"] = wrapCell(s.DocNumber)
		if !s.DocDate.IsZero() {
			c["Ngày ban hành"] = numCell(dateSerial(s.DocDate), xlDate)
		}
		c["Ghi chú"] = wrapCell(s.Note)
		c["Ý kiến thẩm định"] = wrapCell(s.ReviewNote)
		var ev []string
		for i, e := range s.Evidence {
			name := e.Name
			if e.SHA256 == "" && e.Link != "" {
				name = e.Link
			}
			ev = append(ev, strconv.Itoa(i+1)+". "+name)
		}
		c["Minh chứng"] = wrapCell(strings.Join(ev, "\n"))
	}
	return c
}

// table writes headers at row top and rows under them; returns the last row.
func (b *book) table(p *prepared, sheet string, top int, headers []string, rows []row) int {
	for i, h := range headers {
		b.put(sheet, i+1, top, cell{text: h, bold: true, wrap: true, center: true, fill: headerFill}, true)
		if w, ok := columnWidths[h]; ok {
			b.check(b.f.SetColWidth(sheet, colName(i+1), colName(i+1), w))
		}
	}
	for n, r := range rows {
		cs := p.cells(r)
		cs["STT"] = numCell(float64(n+1), "0")
		for i, h := range headers {
			b.put(sheet, i+1, top+1+n, cs[h], true)
		}
	}
	return top + len(rows)
}

// dataTop is the row of a data sheet's table header, under the header block.
const dataTop = 5

// headerBlock writes the title, the campaign and the time of export in rows
// 1–3, as a report handed on carries them.
func (b *book) headerBlock(p *prepared, sheet string) {
	b.put(sheet, 1, 1, cell{text: "BÁO CÁO SỐ LIỆU CHỈ SỐ", bold: true, size: 14}, false)
	b.put(sheet, 1, 2, cell{text: cleanText("Đợt thu thập: " + p.d.Title), bold: true}, false)
	b.put(sheet, 1, 3, cell{text: "Thời điểm xuất:", italic: true}, false)
	b.put(sheet, 2, 3, numCell(excelSerial(p.now), xlDateTime), false)
}

// dataSheet writes the header block and a filterable table of rows.
func (b *book) dataSheet(p *prepared, sheet string, rows []row) {
	b.headerBlock(p, sheet)
	last := b.table(p, sheet, dataTop, tableHeaders, rows)
	b.check(b.f.SetPanes(sheet, &excelize.Panes{Freeze: true, XSplit: 1, YSplit: dataTop,
		TopLeftCell: fmt.Sprintf("B%d", dataTop+1), ActivePane: "bottomRight"}))
	ref := fmt.Sprintf("A%d:%s%d", dataTop, colName(len(tableHeaders)), max(last, dataTop))
	b.check(b.f.AutoFilter(sheet, ref, nil))
}

// WriteXLSX writes the campaign workbook: a "Tổng hợp" summary, a "Tất cả"
// sheet with one row per (indicator, agency), and one sheet per pillar.
func WriteXLSX(w io.Writer, d Data) error {
	p := prepare(d)
	b := newBook(p)
	defer b.f.Close()

	used := map[string]bool{strings.ToLower(sheetSummary): true, strings.ToLower(sheetAll): true}
	b.check(b.f.SetSheetName("Sheet1", sheetSummary))
	_, err := b.f.NewSheet(sheetAll)
	b.check(err)

	pillars, byPillar := p.pillars()
	names := make([]string, len(pillars))
	for i, pl := range pillars {
		if pl == "" {
			continue // rows with no pillar are only on "Tất cả"
		}
		names[i] = sheetName(pl, used)
		_, err := b.f.NewSheet(names[i])
		b.check(err)
	}

	b.summary(p, pillars)
	b.dataSheet(p, sheetAll, p.rows)
	for i, pl := range pillars {
		if names[i] != "" {
			b.dataSheet(p, names[i], byPillar[pl])
		}
	}
	b.f.SetActiveSheet(0)
	if b.err != nil {
		return fmt.Errorf("export: xlsx: %w", b.err)
	}
	return b.f.Write(w)
}

// pillars returns the pillars in catalog order (then any others) and the
// rows of each.
func (p *prepared) pillars() ([]string, map[string][]row) {
	var order []string
	by := map[string][]row{}
	seen := map[string]bool{}
	for _, ind := range p.d.Indicators {
		if !seen[ind.Pillar] {
			seen[ind.Pillar] = true
			order = append(order, ind.Pillar)
		}
	}
	for _, r := range p.rows {
		if !seen[r.ind.Pillar] {
			seen[r.ind.Pillar] = true
			order = append(order, r.ind.Pillar)
		}
		by[r.ind.Pillar] = append(by[r.ind.Pillar], r)
	}
	// Keep only pillars that have rows.
	out := order[:0]
	for _, pl := range order {
		if len(by[pl]) > 0 {
			out = append(out, pl)
		}
	}
	return out, by
}

// summaryHeaders are the columns of each summary table after its label.
var summaryHeaders = []string{"Tổng số", "Chưa nhập", "Nháp", "Đã gửi", "Bị trả lại", "Đã duyệt",
	"Quá hạn", "% hoàn thành", "% đã duyệt"}

const pctFormat = "0.0%"

func (b *book) summary(p *prepared, pillars []string) {
	const sh = sheetSummary
	b.put(sh, 1, 1, cell{text: cleanText(p.d.Title), bold: true, size: 14}, false)
	b.put(sh, 1, 2, cell{text: "Thời điểm xuất:", italic: true}, false)
	b.put(sh, 2, 2, numCell(excelSerial(p.now), xlDateTime), false)
	b.put(sh, 1, 3, cell{text: "% hoàn thành = (Đã gửi + Đã duyệt) / Tổng số. Quá hạn: đã qua hạn nộp mà chưa gửi hoặc chưa được duyệt.", italic: true}, false)

	row := 5
	section := func(title, label string, labels []string, cs []counts) {
		b.put(sh, 1, row, cell{text: title, bold: true, size: 12}, false)
		row++
		b.put(sh, 1, row, cell{text: label, bold: true, center: true, wrap: true, fill: headerFill}, true)
		for i, h := range summaryHeaders {
			fill := headerFill
			if i >= 1 && i <= len(statuses) {
				fill = statusFill[statuses[i-1]]
			}
			b.put(sh, i+2, row, cell{text: h, bold: true, center: true, wrap: true, fill: fill}, true)
		}
		for i, c := range cs {
			row++
			b.put(sh, 1, row, wrapCell(labels[i]), true)
			b.put(sh, 2, row, numCell(float64(c.total), "#,##0"), true)
			for j, s := range statuses {
				b.put(sh, 3+j, row, numCell(float64(c.by[s]), "#,##0"), true)
			}
			b.put(sh, 3+len(statuses), row, cell{num: float64(c.overdue), isNum: true, numFmt: "#,##0", red: c.overdue > 0}, true)
			b.put(sh, 4+len(statuses), row, numCell(c.done(), pctFormat), true)
			b.put(sh, 5+len(statuses), row, numCell(c.approved(), pctFormat), true)
		}
		row += 2
	}

	var all counts
	agencies := map[string]*counts{}
	var agOrder []string
	agLabel := map[string]string{}
	pl := map[string]*counts{}
	for _, r := range p.rows {
		all.add(r)
		if agencies[r.agency.Code] == nil {
			agencies[r.agency.Code] = &counts{}
			agOrder = append(agOrder, r.agency.Code)
			agLabel[r.agency.Code] = agencyName(r.agency)
		}
		agencies[r.agency.Code].add(r)
		if pl[r.ind.Pillar] == nil {
			pl[r.ind.Pillar] = &counts{}
		}
		pl[r.ind.Pillar].add(r)
	}
	// Agencies in Data.Agencies order, then any others in row order.
	var agCodes []string
	listed := map[string]bool{}
	for _, a := range p.d.Agencies {
		if agencies[a.Code] != nil && !listed[a.Code] {
			listed[a.Code] = true
			agCodes = append(agCodes, a.Code)
		}
	}
	for _, c := range agOrder {
		if !listed[c] {
			agCodes = append(agCodes, c)
		}
	}

	section("1. Toàn bộ", "Phạm vi", []string{"Tất cả đơn vị"}, []counts{all})
	var labels []string
	var cs []counts
	for _, c := range agCodes {
		labels = append(labels, agLabel[c])
		cs = append(cs, *agencies[c])
	}
	section("2. Theo đơn vị cung cấp", "Đơn vị", labels, cs)
	labels, cs = nil, nil
	for _, x := range pillars {
		label := x
		if label == "" {
			label = "(Chưa xếp trụ cột)"
		}
		labels = append(labels, label)
		cs = append(cs, *pl[x])
	}
	section("3. Theo trụ cột", "Trụ cột", labels, cs)

	b.check(b.f.SetColWidth(sh, "A", "A", 48))
	b.check(b.f.SetColWidth(sh, "B", colName(1+len(summaryHeaders)), 12))
}

// WriteAgencyXLSX writes one agency's sign-off workbook: its indicators,
// values and evidence, and a signature block for the preparer and the head
// of the agency.
func WriteAgencyXLSX(w io.Writer, d Data, agencyCode string) error {
	p := prepare(d)
	var rows []row
	var ag *domain.Agency
	for i := range p.rows {
		if p.rows[i].agency.Code == agencyCode {
			rows = append(rows, p.rows[i])
			a := p.rows[i].agency
			ag = &a
		}
	}
	if ag == nil {
		for _, a := range d.Agencies {
			if a.Code == agencyCode {
				ag = &a
				break
			}
		}
	}
	if ag == nil {
		return fmt.Errorf("export: agency %q: %w", agencyCode, domain.ErrNotFound)
	}
	b := newBook(p)
	defer b.f.Close()
	const sh = sheetAgency
	b.check(b.f.SetSheetName("Sheet1", sh))

	headers := []string{"STT", "Mã chỉ số", "Tên chỉ số", "Trụ cột", "Giá trị", "Đơn vị tính",
		"Năm số liệu", "Trạng thái", "Minh chứng", "Số/ký hiệu văn bản", "Ngày ban hành",
		"Ghi chú", "Ý kiến thẩm định", "Hạn nộp", "Cảnh báo"}
	last := colName(len(headers))

	b.put(sh, 1, 1, cell{text: cleanText(p.d.Title), bold: true, size: 13, center: true, wrap: true}, false)
	b.check(b.f.MergeCell(sh, "A1", last+"1"))
	b.check(b.f.SetRowHeight(sh, 1, 36))
	b.put(sh, 1, 2, cell{text: cleanText("Đơn vị cung cấp: " + agencyName(*ag)), bold: true, center: true}, false)
	b.check(b.f.MergeCell(sh, "A2", last+"2"))
	b.put(sh, 1, 3, cell{text: "Số liệu tính đến " + p.now.Format("15:04") + " ngày " + p.now.Format("02/01/2006"), italic: true, center: true}, false)
	b.check(b.f.MergeCell(sh, "A3", last+"3"))

	const top = 5
	end := b.table(p, sh, top, headers, rows)

	// Signature block, laid out as on Vietnamese administrative forms: the
	// date line over the head of the agency on the right.
	s := end + 2
	left1, left2 := "A", "D"
	right1, right2 := colName(len(headers)-5), last
	merge := func(c1, c2 string, r int, c cell) {
		col, _ := excelize.ColumnNameToNumber(c1)
		c.center = true
		b.put(sh, col, r, c, false)
		b.check(b.f.MergeCell(sh, fmt.Sprintf("%s%d", c1, r), fmt.Sprintf("%s%d", c2, r)))
	}
	year := p.now.Year()
	merge(right1, right2, s, cell{text: fmt.Sprintf("……………, ngày …… tháng …… năm %d", year), italic: true})
	merge(left1, left2, s+1, cell{text: "Người lập biểu", bold: true})
	merge(right1, right2, s+1, cell{text: "Thủ trưởng đơn vị", bold: true})
	merge(left1, left2, s+2, cell{text: "(Ký, ghi rõ họ tên)", italic: true})
	merge(right1, right2, s+2, cell{text: "(Ký tên, đóng dấu)", italic: true})

	b.check(b.f.SetPanes(sh, &excelize.Panes{Freeze: true, YSplit: top, TopLeftCell: fmt.Sprintf("A%d", top+1), ActivePane: "bottomLeft"}))
	orient, size, one, zero := "landscape", 9, 1, 0
	b.check(b.f.SetPageLayout(sh, &excelize.PageLayoutOptions{Orientation: &orient, Size: &size, FitToWidth: &one, FitToHeight: &zero}))
	fit := true
	b.check(b.f.SetSheetProps(sh, &excelize.SheetPropsOptions{FitToPage: &fit}))
	b.check(b.f.SetDefinedName(&excelize.DefinedName{Name: "_xlnm.Print_Titles",
		RefersTo: fmt.Sprintf("'%s'!$%d:$%d", sh, top, top), Scope: sh}))
	if b.err != nil {
		return fmt.Errorf("export: agency xlsx: %w", b.err)
	}
	return b.f.Write(w)
}
