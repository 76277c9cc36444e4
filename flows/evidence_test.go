package flows

import (
	"strings"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
)

func TestDocNumbers(t *testing.T) {
	for _, tc := range []struct {
		label string
		pages []string
		want  []string
		page  int
		line  int
	}{
		{"labelled", []string{"UBND TỈNH\nSố: 125/BC-SKHCN     Hưng Yên, ngày 15 tháng 3 năm 2024"}, []string{"125/BC-SKHCN"}, 1, 2},
		{"with year", []string{"Số 12/2024/QĐ-UBND"}, []string{"12/2024/QĐ-UBND"}, 1, 1},
		{"so/ky hieu label", []string{"", "Số/Ký hiệu: 7/KH-SKHCN"}, []string{"7/KH-SKHCN"}, 2, 1},
		{"ocr spaces and dash", []string{"Sô : 125 / BC – SKHCN"}, []string{"125/BC-SKHCN"}, 1, 1},
		{"labelled first, bare after", []string{"căn cứ 45/QĐ-UBND\n\nSố: 125/BC-SKHCN"}, []string{"125/BC-SKHCN", "45/QĐ-UBND"}, 1, 3},
		{"a count is not a number label", []string{"Số doanh nghiệp: 42"}, nil, 0, 0},
		{"a date is not a symbol", []string{"ngày 15/03/2024"}, nil, 0, 0},
		{"nothing", []string{"", "không có gì"}, nil, 0, 0},
	} {
		got := DocNumbers(tc.pages)
		var texts []string
		for _, f := range got {
			texts = append(texts, f.Text)
		}
		if len(texts) != len(tc.want) {
			t.Errorf("%s: got %q, want %q", tc.label, texts, tc.want)
			continue
		}
		for i := range texts {
			if texts[i] != tc.want[i] {
				t.Errorf("%s: got %q, want %q", tc.label, texts, tc.want)
			}
		}
		if len(got) > 0 && (got[0].Page != tc.page || got[0].Line != tc.line) {
			t.Errorf("%s: found on page %d line %d, want %d/%d", tc.label, got[0].Page, got[0].Line, tc.page, tc.line)
		}
	}
}

func TestDocDates(t *testing.T) {
	d := func(y, m, day int) time.Time { return time.Date(y, time.Month(m), day, 0, 0, 0, 0, time.UTC) }
	for _, tc := range []struct {
		label string
		pages []string
		want  []time.Time
	}{
		{"place and date", []string{"Số: 125/BC-SKHCN    Hưng Yên, ngày 15 tháng 3 năm 2024"}, []time.Time{d(2024, 3, 15)}},
		{"numeric", []string{"Ngày ban hành: 15/03/2024."}, []time.Time{d(2024, 3, 15)}},
		{"dashes and dots", []string{"15-3-2024 và 01.02.2023"}, []time.Time{d(2024, 3, 15), d(2023, 2, 1)}},
		{"ocr without diacritics", []string{"Hung Yen, ngay 15 thang 3 nam 2024"}, []time.Time{d(2024, 3, 15)}},
		{"placed date first", []string{"Căn cứ Quyết định ngày 02 tháng 01 năm 2023\nHưng Yên, ngày 15 tháng 3 năm 2024"}, []time.Time{d(2024, 3, 15), d(2023, 1, 2)}},
		{"each once", []string{"15/03/2024", "ngày 15 tháng 3 năm 2024"}, []time.Time{d(2024, 3, 15)}},
		{"impossible date", []string{"31/02/2024"}, nil},
		{"phone number is not a date", []string{"ĐT: 0221.3862.123"}, nil},
	} {
		got := DocDates(tc.pages)
		if len(got) != len(tc.want) {
			t.Errorf("%s: got %v, want %v", tc.label, got, tc.want)
			continue
		}
		for i := range got {
			if !got[i].Date.Equal(tc.want[i]) {
				t.Errorf("%s: date %d = %v, want %v", tc.label, i, got[i].Date, tc.want[i])
			}
		}
	}
}

func TestFindValue(t *testing.T) {
	money := domain.Indicator{Code: "M", Unit: "triệu đồng", Type: domain.TypeDecimal}
	pct := domain.Indicator{Code: "P", Unit: "%", Type: domain.TypePercent}
	count := domain.Indicator{Code: "C", Unit: "doanh nghiệp", Type: domain.TypeInteger}
	page := "Số: 125/BC-SKHCN   Hưng Yên, ngày 15 tháng 3 năm 2024\n\nTổng chi năm 2023 đạt 1.234,5 triệu đồng, tăng 12,5% so với năm 2022.\nSố doanh nghiệp được hỗ trợ: 42 doanh nghiệp."
	for _, tc := range []struct {
		label string
		ind   domain.Indicator
		canon string
		pages []string
		found string
		page  int
		line  int
	}{
		{"with unit", money, "1234.5", []string{page}, "1.234,5 triệu đồng", 1, 3},
		{"on page two", money, "1234.5", []string{"trang bìa", page}, "1.234,5 triệu đồng", 2, 3},
		{"written in dong", money, "1234.5", []string{"Tổng chi: 1.234.500.000 đồng"}, "1.234.500.000 đồng", 1, 1},
		{"no grouping", money, "1234.5", []string{"Tổng chi: 1234,5"}, "1234,5", 1, 1},
		{"space grouping", money, "1234.5", []string{"Tổng chi: 1 234,5 triệu đồng"}, "1 234,5 triệu đồng", 1, 1},
		{"percent", pct, "12.5", []string{page}, "12,5 %", 1, 3},
		{"count", count, "42", []string{page}, "42 doanh nghiệp", 1, 4},
		{"not in the document", money, "999", []string{page}, "", 0, 0},
		{"part of the symbol is not the value", count, "125", []string{page}, "", 0, 0},
		{"part of a date is not the value", count, "15", []string{"ngày 15/03/2024"}, "", 0, 0},
		{"text indicator", domain.Indicator{Type: domain.TypeText}, "x", []string{"x"}, "", 0, 0},
	} {
		f, ok := FindValue(tc.ind, tc.canon, tc.pages)
		if ok != (tc.found != "") || f.Text != tc.found || f.Page != tc.page || f.Line != tc.line {
			t.Errorf("%s: got %+v (%v), want %q on page %d line %d", tc.label, f, ok, tc.found, tc.page, tc.line)
		}
	}
}

// FuzzEvidenceFields runs the finders on arbitrary text (OCR output is
// anything): nothing panics, every place found is a real page and line, and
// a value found is one WrittenAs accepts.
func FuzzEvidenceFields(f *testing.F) {
	for _, s := range []string{
		"Số: 125/BC-SKHCN   Hưng Yên, ngày 15 tháng 3 năm 2024\nđạt 1.234,5 triệu đồng",
		"15/03/2024 1 234,5 12,5% Sô : 7 / KH – SKHCN", "ngày 99 tháng 99 năm 9999", "\f\f1.234.500.000 đồng\f", "Số:/", "1,,2..3",
	} {
		f.Add(s, "1234.5")
	}
	money := domain.Indicator{Code: "M", Unit: "triệu đồng", Type: domain.TypeDecimal}
	f.Fuzz(func(t *testing.T, text, canon string) {
		pages := strings.Split(text, "\f")
		check := func(what string, fd Found) {
			if fd.Page < 1 || fd.Page > len(pages) || fd.Line < 1 || fd.Line > len(strings.Split(pages[fd.Page-1], "\n")) {
				t.Fatalf("%s found at page %d line %d of %q", what, fd.Page, fd.Line, text)
			}
		}
		for _, n := range DocNumbers(pages) {
			check("number", n)
		}
		for _, d := range DocDates(pages) {
			check("date", d.Found)
		}
		if fd, ok := FindValue(money, canon, pages); ok {
			check("value", fd)
			if !WrittenAs(money, canon, fd.Text) {
				t.Fatalf("found %q for %q, which WrittenAs refuses", fd.Text, canon)
			}
		}
	})
}
