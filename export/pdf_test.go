package export

import (
	"bytes"
	"strings"
	"testing"

	"github.com/dieuphoi/dieuphoi/papers/paperstest"
)

func TestWritePDF(t *testing.T) {
	d, _ := fixture(t)
	d.Flags = map[[2]string][]string{{"2.2.2", "CTK"}: {"value_not_found", "big_change"}}
	var buf bytes.Buffer
	if err := WritePDF(&buf, d); err != nil {
		t.Fatal(err)
	}
	path := paperstest.Write(t, buf.Bytes())
	pages := paperstest.Text(t, path)
	if n := paperstest.Pages(t, path); n != 2 || len(pages) != 2 {
		t.Fatalf("%d pages, want the summary and the table", n)
	}
	sum, table := paperstest.Collapse(pages[0]), paperstest.Collapse(pages[1])
	for _, want := range []string{"BÁO CÁO SỐ LIỆU CHỈ SỐ", "Đợt thu thập: " + paperstest.Collapse(d.Title),
		"Số liệu tính đến 10:00 ngày 02/09/2024", "1. Tổng hợp theo đơn vị", "% hoàn thành",
		"Tất cả đơn vị 9 2 1 3 1 2 3 55,6% 22,2%", "Cục Thống kê 3 0 0 2 0 1 0 100,0% 33,3%",
		"không thấy giá trị trong minh chứng: 1"} {
		if !strings.Contains(sum, want) {
			t.Errorf("summary lacks %q:\n%s", want, sum)
		}
	}
	for _, want := range []string{"2. Số liệu theo chỉ số", "Chi ngân sách địa phương cho KH&CN", "12,5%", "0,62%",
		"1.234,5", "người/vạn dân", "45/CTK-TKXH ngày", "thay đổi lớn so với năm trước", "(quá hạn)", "02/08/2024"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	paperstest.Render(t, path, 1, 60, "report")
}
