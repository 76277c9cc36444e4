package export

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
	"github.com/dieuphoi/dieuphoi/papers"
)

// WritePDF writes the data report as a PDF the Sở can attach to its
// letter: A4 landscape, the header block, the summary by agency, the review
// flags counted, then every (indicator, agency) row with its value, status,
// evidence and flags; the table header repeats on each page.
func WritePDF(w io.Writer, d Data) error {
	p := prepare(d)
	pdf := papers.NewDocument("L", "Báo cáo số liệu — "+cleanText(d.Title))
	pdf.SetMargins(12, 12, 12)
	pdf.SetAutoPageBreak(true, 14)
	pdf.AliasNbPages("{nb}")
	pdf.SetFooterFunc(func() {
		pdf.SetY(-10)
		pdf.SetFont("sans", "", 7.5)
		pdf.CellFormat(0, 4, fmt.Sprintf("Trang %d/{nb}", pdf.PageNo()), "", 0, "C", false, 0, "")
	})
	var header func()
	pdf.SetHeaderFunc(func() {
		if header != nil {
			header()
		}
	})
	pdf.AddPage()

	pdf.SetFont("serif", "B", 14)
	pdf.CellFormat(0, 7, "BÁO CÁO SỐ LIỆU CHỈ SỐ", "", 1, "C", false, 0, "")
	pdf.SetFont("serif", "B", 11)
	pdf.MultiCell(0, 5.5, "Đợt thu thập: "+cleanText(d.Title), "", "C", false)
	pdf.SetFont("serif", "I", 10)
	pdf.CellFormat(0, 5.5, "Số liệu tính đến "+p.now.Format("15:04")+" ngày "+p.now.Format("02/01/2006"), "", 1, "C", false, 0, "")
	pdf.Ln(3)

	// The summary by agency.
	var all counts
	by := map[string]*counts{}
	var order []domain.Agency
	flagN := map[string]int{}
	for _, r := range p.rows {
		all.add(r)
		if by[r.agency.Code] == nil {
			by[r.agency.Code] = &counts{}
			order = append(order, r.agency)
		}
		by[r.agency.Code].add(r)
		for _, f := range r.flags {
			flagN[f]++
		}
	}
	sumW := []float64{89, 18, 18, 16, 16, 18, 18, 18, 26, 26}
	sumHead := append([]string{"Đơn vị cung cấp"}, summaryHeaders...)
	pdf.SetFont("serif", "B", 11)
	pdf.CellFormat(0, 6, "1. Tổng hợp theo đơn vị", "", 1, "L", false, 0, "")
	headRow(pdf, sumW, sumHead)
	pdf.SetFont("sans", "", 8)
	line := func(label string, c counts) {
		papers.Row(pdf, sumW, []string{label, strconv.Itoa(c.total), strconv.Itoa(c.by[domain.StatusEmpty]),
			strconv.Itoa(c.by[domain.StatusDraft]), strconv.Itoa(c.by[domain.StatusSubmitted]), strconv.Itoa(c.by[domain.StatusReturned]),
			strconv.Itoa(c.by[domain.StatusApproved]), strconv.Itoa(c.overdue), percentVI(c.done()), percentVI(c.approved())}, 4)
	}
	for _, a := range order {
		line(agencyName(a), *by[a.Code])
	}
	pdf.SetFont("sans", "B", 8)
	line("Tất cả đơn vị", all)
	pdf.Ln(2)
	var fl []string
	for _, f := range flows.AllFlags {
		if flagN[f] > 0 {
			fl = append(fl, fmt.Sprintf("%s: %d", flows.FlagLabel(domain.Vietnamese, f), flagN[f]))
		}
	}
	pdf.SetFont("serif", "", 10)
	if len(fl) > 0 {
		pdf.MultiCell(0, 5, "Cảnh báo cần xem lại — "+strings.Join(fl, "; ")+".", "", "L", false)
	} else {
		pdf.MultiCell(0, 5, "Không có cảnh báo.", "", "L", false)
	}

	// Every row.
	pdf.AddPage()
	rowW := []float64{10, 16, 58, 42, 28, 24, 17, 38, 40}
	rowHead := []string{"STT", "Mã chỉ số", "Tên chỉ số", "Đơn vị cung cấp", "Giá trị", "Trạng thái", "Minh chứng", "Số/ký hiệu, ngày", "Cảnh báo"}
	pdf.SetFont("serif", "B", 11)
	pdf.CellFormat(0, 6, "2. Số liệu theo chỉ số", "", 1, "L", false, 0, "")
	header = func() { headRow(pdf, rowW, rowHead); pdf.SetFont("sans", "", 7.5) }
	header()
	for i, r := range p.rows {
		val := r.val.display()
		if val != "" && r.ind.Unit != "" && r.ind.Unit != "%" {
			val += " " + r.ind.Unit
		}
		doc := ""
		if s := r.sub; s != nil {
			doc = s.DocNumber
			if !s.DocDate.IsZero() {
				doc = strings.TrimSpace(doc + " ngày " + s.DocDate.Format("02/01/2006"))
			}
		}
		status := StatusLabel(r.status)
		if r.overdue {
			status += " (quá hạn)"
		}
		papers.Row(pdf, rowW, []string{strconv.Itoa(i + 1), r.ind.Code, r.ind.NameVI, agencyName(r.agency), val, status,
			strconv.Itoa(r.evidenceCount()), doc, r.flagText()}, 3.6)
	}
	header = nil
	if err := pdf.Output(w); err != nil {
		return fmt.Errorf("export: pdf: %w", err)
	}
	return nil
}

// headRow writes a table's header row, shaded.
func headRow(pdf interface {
	SetFont(string, string, float64)
	SetFillColor(int, int, int)
	CellFormat(float64, float64, string, string, int, string, bool, int, string)
	Ln(float64)
}, widths []float64, titles []string) {
	pdf.SetFont("sans", "B", 7.5)
	pdf.SetFillColor(217, 225, 242)
	for i, t := range titles {
		pdf.CellFormat(widths[i], 6, t, "1", 0, "C", true, 0, "")
	}
	pdf.Ln(-1)
}

// percentVI writes a share (0..1) as "55,6%".
func percentVI(f float64) string {
	return flows.FormatDecimal(domain.Vietnamese, strconv.FormatFloat(f*100, 'f', 1, 64)) + "%"
}
