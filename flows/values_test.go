package flows

import (
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/dieuphoi/dieuphoi/domain"
)

func vtF(x float64) *float64 { return &x }

var (
	vtInt    = domain.Indicator{Code: "1.1.1", Type: domain.TypeInteger, Unit: "số văn bản", Min: vtF(0)}
	vtDec    = domain.Indicator{Code: "2.2.1", Type: domain.TypeDecimal, Unit: "người/vạn dân"}
	vtPct    = domain.Indicator{Code: "2.2.2", Type: domain.TypePercent, Unit: "%", Min: vtF(0), Max: vtF(100)}
	vtPct2   = domain.Indicator{Code: "P7.03", Type: domain.TypePercent, Unit: "điểm %", Min: vtF(0), Max: vtF(100)}
	vtScore  = domain.Indicator{Code: "P1.02", Type: domain.TypeScore, Unit: "điểm (0-10)", Min: vtF(0), Max: vtF(10)}
	vtHDI    = domain.Indicator{Code: "P7.02", Type: domain.TypeDecimal, Unit: "0-1", Min: vtF(0), Max: vtF(1)}
	vtMoney  = domain.Indicator{Code: "M1", Type: domain.TypeInteger, Unit: "đồng", Min: vtF(0)}
	vtTyDong = domain.Indicator{Code: "M2", Type: domain.TypeDecimal, Unit: "tỷ đồng", Min: vtF(0)}
	vtGrowth = domain.Indicator{Code: "P7.01", Type: domain.TypePercent, Unit: "%", Min: vtF(-100), Max: vtF(1000)}
	vtPer10k = domain.Indicator{Code: "P6.01", Type: domain.TypeDecimal, Unit: "đơn/10.000 dân", Min: vtF(0)}
	vtYN     = domain.Indicator{Code: "Y", Type: domain.TypeYesNo}
	// Units and ranges of the example catalog, for the examples and bounds.
	vtPer10k10 = domain.Indicator{Code: "2.3.1", Type: domain.TypeDecimal, Unit: "đơn/10.000 dân", Min: vtF(0), Max: vtF(10000)}
	vtScore100 = domain.Indicator{Code: "P2.01", Type: domain.TypeScore, Unit: "điểm", Min: vtF(0), Max: vtF(100)}
	vtTrieu    = domain.Indicator{Code: "M3", Type: domain.TypeDecimal, Unit: "triệu đồng", Min: vtF(0)}
	vtText     = domain.Indicator{Code: "T", Type: domain.TypeText}
	vtDate     = domain.Indicator{Code: "D", Type: domain.TypeDate}
)

// vtCases are the table of ParseValue; they also seed the fuzz target.
var vtCases = []struct {
	label   string
	ind     domain.Indicator
	in      string
	canon   string   // when accepted
	kind    string   // when refused
	choices []string // Canon of the choices, for "ambiguous"
}{
	// Vietnamese style.
	{"vi thousands and decimal", vtDec, "1.234,5", "1234.5", "", nil},
	{"vi several thousands groups", vtDec, "1.234.567", "1234567", "", nil},
	{"vi decimal comma", vtDec, "12,5", "12.5", "", nil},
	{"vi decimal comma long", vtDec, "1234,56", "1234.56", "", nil},
	{"vi big grouped", vtMoney, "1.500.000.000", "1500000000", "", nil},
	{"vi grouped with decimals", vtDec, "1.234.567,891", "1234567.891", "", nil},
	{"dot decimal not 3 digits", vtDec, "1234.5", "1234.5", "", nil},
	{"dot decimal two digits", vtDec, "12.25", "12.25", "", nil},
	{"dot after 4 digits is decimal", vtDec, "1234.567", "1234.567", "", nil},
	{"leading zero is decimal", vtHDI, "0.726", "0.726", "", nil},
	{"leading zero comma", vtHDI, "0,726", "0.726", "", nil},
	{"leading comma", vtHDI, ",5", "0.5", "", nil},
	{"plain integer", vtInt, "12", "12", "", nil},
	{"leading zeros", vtInt, "007", "7", "", nil},
	{"zero", vtInt, "0", "0", "", nil},
	{"spaces trimmed", vtInt, "  42 \t", "42", "", nil},
	{"plus sign", vtInt, "+5", "5", "", nil},
	{"trailing zeros dropped", vtDec, "12,500", "", "ambiguous", []string{"12500", "12.5"}},
	{"trailing zeros in long decimal", vtDec, "12,5000", "12.5", "", nil},

	// Ambiguity.
	{"ambiguous dot", vtDec, "1.234", "", "ambiguous", []string{"1234", "1.234"}},
	{"ambiguous comma", vtDec, "1,234", "", "ambiguous", []string{"1234", "1.234"}},
	{"ambiguous with range drops impossible", vtPct, "1.234", "", "ambiguous", []string{"1.234"}},
	{"ambiguous both out of range", vtHDI, "5.000", "", "out_of_range", nil},
	{"integer takes thousands dot", vtInt, "1.234", "1234", "", nil},
	{"integer takes thousands comma", vtInt, "1,234", "1234", "", nil},
	{"integer 1.000", vtInt, "1.000", "1000", "", nil},
	{"integer scaled still asked", vtInt, "1.234 nghìn", "", "ambiguous", []string{"1234000", "1234"}},
	{"many groups never ambiguous", vtDec, "1.234.567", "1234567", "", nil},
	{"en many groups", vtDec, "1,234,567", "1234567", "", nil},

	// English style and bad grouping.
	{"en mixed", vtDec, "1,234.5", "1234.5", "", nil},
	{"en mixed big", vtDec, "12,345,678.25", "12345678.25", "", nil},
	{"bad grouping", vtDec, "1.23.4", "", "not_number", nil},
	{"bad grouping comma", vtDec, "1,23,456", "", "not_number", nil},
	{"decimal mark twice", vtDec, "1.234,5.6", "", "not_number", nil},
	{"two decimal kinds wrong order", vtDec, "1,2.3", "", "not_number", nil},
	{"group after decimal", vtDec, "1,5.000", "", "not_number", nil},
	{"leading zero group", vtDec, "0.123.456", "", "not_number", nil},
	{"doubled separator", vtDec, "1..5", "", "not_number", nil},
	{"trailing separator", vtDec, "15,", "", "not_number", nil},
	{"only separator", vtDec, ",", "", "not_number", nil},
	{"only sign", vtDec, "-", "", "not_number", nil},

	// Spaces as thousands separators.
	{"space groups", vtInt, "1 234 567", "1234567", "", nil},
	{"nbsp groups", vtInt, "1\u00a0234\u00a0567", "1234567", "", nil},
	{"thin space groups", vtDec, "1\u2009234,5", "1234.5", "", nil},
	{"narrow nbsp groups", vtDec, "12\u202f345.5", "12345.5", "", nil},
	{"space group is never ambiguous", vtDec, "1 234", "1234", "", nil},
	{"bad space group", vtDec, "12 34", "", "not_number", nil},
	{"space and dot thousands", vtDec, "1 234.567,5", "", "not_number", nil},

	// Percent.
	{"percent glued", vtPct, "12,5%", "12.5", "", nil},
	{"percent spaced", vtPct, "12,5 %", "12.5", "", nil},
	{"percent words", vtPct, "12.5 phần trăm", "12.5", "", nil},
	{"percent words no accents", vtPct, "12,5 phan tram", "12.5", "", nil},
	{"percent fraction not scaled", vtPct, "0,125", "0.125", "", nil},
	{"percent no sign", vtPct, "45", "45", "", nil},
	{"percent over 100", vtPct, "120%", "", "out_of_range", nil},
	{"percent unit with points", vtPct2, "2,5 điểm %", "2.5", "", nil},
	{"percent unit plain %", vtPct2, "2,5%", "2.5", "", nil},
	{"percent on a count", vtInt, "12%", "", "unit_mismatch", nil},
	{"percent words on decimal", vtDec, "12 phần trăm", "", "unit_mismatch", nil},
	{"double percent", vtPct, "12%%", "", "not_number", nil},
	{"negative growth", vtGrowth, "-3,5%", "-3.5", "", nil},
	{"unicode minus", vtGrowth, "\u22123,5 %", "-3.5", "", nil},

	// Scale words.
	{"ty", vtMoney, "1,5 tỷ", "1500000000", "", nil},
	{"ti", vtMoney, "1,5 tỉ", "1500000000", "", nil},
	{"ty no accents caps", vtMoney, "1,5 TY", "1500000000", "", nil},
	{"trieu", vtMoney, "2 triệu", "2000000", "", nil},
	{"tr glued", vtMoney, "2tr", "2000000", "", nil},
	{"tr with dot", vtMoney, "2 tr.", "2000000", "", nil},
	{"nghin", vtMoney, "45 nghìn", "45000", "", nil},
	{"ngan", vtMoney, "45 ngàn", "45000", "", nil},
	{"k", vtMoney, "45k", "45000", "", nil},
	{"K caps", vtMoney, "45 K", "45000", "", nil},
	{"scale and unit", vtMoney, "1,5 tỷ đồng", "1500000000", "", nil},
	{"scale makes fraction", vtMoney, "1,2345 nghìn", "", "not_integer", nil},
	{"scale decomposed accents", vtMoney, "2 trie\u0302\u0323u", "2000000", "", nil},
	{"unit starts with scale", vtTyDong, "1,5 tỷ", "1.5", "", nil},
	{"unit starts with scale full", vtTyDong, "1,5 tỷ đồng", "1.5", "", nil},
	{"smaller scale than unit", vtTyDong, "500 triệu", "0.5", "", nil},
	{"scale fraction of tiny", vtDec, "0,5 nghìn", "500", "", nil},
	{"unknown word", vtMoney, "12 con", "", "bad_unit", nil},
	{"unit typed", vtDec, "3,5 người/vạn dân", "3.5", "", nil},
	{"unit typed no accents", vtDec, "3,5 nguoi/van dan", "3.5", "", nil},
	{"unit with digits", vtPer10k, "2,5 đơn/10.000 dân", "2.5", "", nil},
	{"score points word", vtScore, "7,5 điểm", "7.5", "", nil},
	{"score decimal", vtScore, "6.82", "6.82", "", nil},
	{"score out of range", vtScore, "11", "", "out_of_range", nil},

	// Integers and ranges.
	{"integer with decimals", vtInt, "12,5", "", "not_integer", nil},
	{"integer with dot decimals", vtInt, "12.5", "", "not_integer", nil},
	{"negative count", vtInt, "-3", "", "out_of_range", nil},
	{"negative open", vtDec, "-3,25", "-3.25", "", nil},
	{"negative zero", vtDec, "-0", "0", "", nil},
	{"hdi over 1", vtHDI, "1,2", "", "out_of_range", nil},

	// Precision and size.
	{"15 significant digits", vtDec, "123.456.789.012.345", "123456789012345", "", nil},
	{"16 significant digits", vtDec, "1234567890123456", "", "too_precise", nil},
	{"11 decimals", vtDec, "0,12345678901", "", "too_precise", nil},
	{"huge", vtDec, "1.000.000.000.000.000.000", "", "too_large", nil},
	{"huge by scale", vtDec, "1.000.000.000.000 tỷ", "", "too_large", nil},
	{"64 chars", vtDec, strings.Repeat("0", 63) + "1", "1", "", nil},
	{"65 chars", vtDec, strings.Repeat("0", 64) + "1", "", "too_long", nil},
	{"long garbage", vtDec, strings.Repeat("9", 10000), "", "too_long", nil},

	// Refused notations and garbage.
	{"empty", vtDec, "", "", "empty", nil},
	{"blank", vtDec, " \u00a0 ", "", "empty", nil},
	{"scientific", vtDec, "1e5", "", "not_number", nil},
	{"scientific overflow", vtDec, "1e309", "", "not_number", nil},
	{"scientific caps", vtDec, "1E5", "", "not_number", nil},
	{"hex", vtDec, "0x10", "", "not_number", nil},
	{"NaN", vtDec, "NaN", "", "not_number", nil},
	{"Inf", vtDec, "Inf", "", "not_number", nil},
	{"infinity", vtDec, "-Infinity", "", "not_number", nil},
	{"fullwidth digits", vtDec, "１２", "", "not_number", nil},
	{"arabic-indic digits", vtDec, "١٢", "", "not_number", nil},
	{"digits then fullwidth", vtDec, "1２", "", "not_number", nil},
	{"letters", vtDec, "mười hai", "", "not_number", nil},
	{"sql", vtDec, "1; DROP TABLE submissions;--", "", "not_number", nil},
	{"html", vtDec, "<b>12</b>", "", "not_number", nil},
	{"newline inside", vtDec, "12\n34", "", "not_number", nil},
	{"two numbers", vtDec, "12 - 15", "", "not_number", nil},
	{"range dash", vtDec, "12-15", "", "not_number", nil},
	{"invalid utf8", vtDec, "12\xff", "", "not_number", nil},
	{"bidi override", vtDec, "\u202e12", "", "not_number", nil},
	{"sign twice", vtDec, "--5", "", "not_number", nil},
	{"sign after", vtDec, "5-", "", "not_number", nil},

	// Dates.
	{"date dd/mm/yyyy", vtDate, "02/08/2024", "2024-08-02", "", nil},
	{"date d/m/yyyy", vtDate, "2/8/2024", "2024-08-02", "", nil},
	{"date dashes", vtDate, "02-08-2024", "2024-08-02", "", nil},
	{"date dots", vtDate, "02.08.2024", "2024-08-02", "", nil},
	{"date iso", vtDate, "2024-08-02", "2024-08-02", "", nil},
	{"date words", vtDate, "ngày 2 tháng 8 năm 2024", "2024-08-02", "", nil},
	{"date words short", vtDate, "2 tháng 8, 2024", "2024-08-02", "", nil},
	{"date english", vtDate, "2 August 2024", "2024-08-02", "", nil},
	{"date english us order", vtDate, "Aug 2, 2024", "2024-08-02", "", nil},
	{"date leap day", vtDate, "29/02/2024", "2024-02-29", "", nil},
	{"date 31 February", vtDate, "31/02/2024", "", "bad_date", nil},
	{"date not leap", vtDate, "29/02/2023", "", "bad_date", nil},
	{"date month 13", vtDate, "01/13/2024", "", "bad_date", nil},
	{"date two-digit year", vtDate, "2/8/24", "", "bad_date", nil},
	{"date mixed separators", vtDate, "02/08-2024", "", "bad_date", nil},
	{"date year too old", vtDate, "01/01/1800", "", "bad_date", nil},
	{"date empty", vtDate, "", "", "empty", nil},
	{"date garbage", vtDate, "hôm qua", "", "bad_date", nil},
	{"date fullwidth", vtDate, "０２/08/2024", "", "bad_date", nil},

	// Yes/no.
	{"yes có", vtYN, "có", "yes", "", nil},
	{"yes Có caps", vtYN, "Có", "yes", "", nil},
	{"yes co", vtYN, "co", "yes", "", nil},
	{"yes", vtYN, "Yes", "yes", "", nil},
	{"yes x", vtYN, "x", "yes", "", nil},
	{"yes đã", vtYN, "đã", "yes", "", nil},
	{"yes đã có", vtYN, "Đã có", "yes", "", nil},
	{"yes polite", vtYN, "Dạ có ạ", "yes", "", nil},
	{"no không", vtYN, "không", "no", "", nil},
	{"no khong", vtYN, "khong", "no", "", nil},
	{"no ko", vtYN, "ko", "no", "", nil},
	{"no", vtYN, "NO", "no", "", nil},
	{"no chưa", vtYN, "chưa", "no", "", nil},
	{"no chưa có", vtYN, "Chưa có.", "no", "", nil},
	{"no polite", vtYN, "Dạ không ạ", "no", "", nil},
	{"yesno garbage", vtYN, "có lẽ", "", "bad_yesno", nil},
	{"yesno empty", vtYN, "  ", "", "empty", nil},
	{"yesno long", vtYN, strings.Repeat("có ", 30), "", "too_long", nil},

	// Text.
	{"text trimmed", vtText, "  Quyết định 123/QĐ-UBND  ", "Quyết định 123/QĐ-UBND", "", nil},
	{"text newline kept", vtText, "dòng 1\r\ndòng 2", "dòng 1\ndòng 2", "", nil},
	{"text NFC", vtText, "Nguye\u0302\u0303n", "Nguyễn", "", nil},
	{"text tab", vtText, "a\tb", "a b", "", nil},
	{"text html kept as text", vtText, "<script>alert(1)</script>", "<script>alert(1)</script>", "", nil},
	{"text control char", vtText, "a\x00b", "", "bad_char", nil},
	{"text escape", vtText, "a\x1b[31mb", "", "bad_char", nil},
	{"text bidi override", vtText, "abc\u202edef", "", "bad_char", nil},
	{"text invalid utf8", vtText, "ab\xffc", "", "bad_char", nil},
	{"text empty", vtText, "\n\n", "", "empty", nil},
	{"text 2000 runes", vtText, strings.Repeat("ệ", 2000), strings.Repeat("ệ", 2000), "", nil},
	{"text 2001 runes", vtText, strings.Repeat("ệ", 2001), "", "too_long", nil},
	{"text huge", vtText, strings.Repeat("a", 1<<20), "", "too_long", nil},
}

func TestParseValue(t *testing.T) {
	for _, tc := range vtCases {
		t.Run(tc.label, func(t *testing.T) {
			v, err := ParseValue(tc.ind, tc.in)
			if tc.kind != "" {
				if err == nil {
					t.Fatalf("ParseValue(%q) = %+v, want error %s", tc.in, v, tc.kind)
				}
				if err.Kind != tc.kind {
					t.Fatalf("ParseValue(%q): Kind %q, want %q", tc.in, err.Kind, tc.kind)
				}
				var got []string
				for _, c := range err.Choices {
					got = append(got, c.Canon)
					if c.Type != tc.ind.Type {
						t.Errorf("choice %s has type %q", c.Canon, c.Type)
					}
				}
				if !reflect.DeepEqual(got, tc.choices) {
					t.Errorf("Choices = %v, want %v", got, tc.choices)
				}
				for _, lang := range []domain.Lang{domain.Vietnamese, domain.English} {
					if m := err.Message(lang, tc.ind); m == "" || strings.Contains(m, "%!") {
						t.Errorf("Message(%s) = %q", lang, m)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseValue(%q): %v (%s)", tc.in, err, err.Message(domain.Vietnamese, tc.ind))
			}
			if v.Canon != tc.canon || v.Type != tc.ind.Type {
				t.Fatalf("ParseValue(%q) = %q (%s), want %q", tc.in, v.Canon, v.Type, tc.canon)
			}
		})
	}
}

func TestFormatValue(t *testing.T) {
	num := func(ind domain.Indicator, x float64) domain.Value { return domain.Value{Type: ind.Type, Num: x} }
	date := domain.Value{Type: domain.TypeDate, Date: time.Date(2024, 8, 2, 0, 0, 0, 0, time.UTC), Canon: "2024-08-02"}
	tests := []struct {
		label  string
		ind    domain.Indicator
		v      domain.Value
		vi, en string
	}{
		{"decimal", vtDec, num(vtDec, 1234.5), "1.234,5", "1,234.5"},
		{"percent", vtPct, num(vtPct, 12.5), "12,5%", "12.5%"},
		{"money", vtMoney, num(vtMoney, 1.5e9), "1.500.000.000", "1,500,000,000"},
		{"count grouped", vtInt, num(vtInt, 1234), "1.234", "1,234"},
		{"count small", vtInt, num(vtInt, 12), "12", "12"},
		{"whole decimal grouped", vtDec, num(vtDec, 1000), "1.000", "1,000"},
		{"whole decimal 5 digits", vtDec, num(vtDec, 10000), "10.000", "10,000"},
		{"whole decimal 6 digits", vtDec, num(vtDec, 123456), "123.456", "123,456"},
		{"whole decimal 7 digits", vtDec, num(vtDec, 1234567), "1.234.567", "1,234,567"},
		{"three decimals as entered", vtDec, num(vtDec, 1.234), "1,234", "1.234"},
		{"three decimals after zero", vtHDI, num(vtHDI, 0.726), "0,726", "0.726"},
		{"three decimals grouped", vtDec, num(vtDec, 123456.789), "123.456,789", "123,456.789"},
		{"negative", vtGrowth, num(vtGrowth, -3.5), "-3,5%", "-3.5%"},
		{"negative zero", vtDec, num(vtDec, -0.0), "0", "0"},
		{"score", vtScore, num(vtScore, 6.82), "6,82", "6.82"},
		{"date", vtDate, date, "02/08/2024", "2 August 2024"},
		{"date from canon", vtDate, domain.Value{Type: domain.TypeDate, Canon: "2024-08-30"}, "30/08/2024", "30 August 2024"},
		{"yes", vtYN, domain.Value{Type: domain.TypeYesNo, Bool: true, Canon: "yes"}, "Có", "Yes"},
		{"no", vtYN, domain.Value{Type: domain.TypeYesNo, Canon: "no"}, "Không", "No"},
		{"text", vtText, domain.Value{Type: domain.TypeText, Text: "Quyết định", Canon: "Quyết định"}, "Quyết định", "Quyết định"},
	}
	for _, tc := range tests {
		t.Run(tc.label, func(t *testing.T) {
			if got := FormatValue(domain.Vietnamese, tc.ind, tc.v); got != tc.vi {
				t.Errorf("vi: %q, want %q", got, tc.vi)
			}
			if got := FormatValue(domain.English, tc.ind, tc.v); got != tc.en {
				t.Errorf("en: %q, want %q", got, tc.en)
			}
		})
	}
}

func TestValueMessages(t *testing.T) {
	tests := []struct {
		label string
		ind   domain.Indicator
		in    string
		vi    []string // parts of the Vietnamese message
		en    []string
	}{
		{"range", vtPct, "120", []string{"“120”", "từ 0% đến 100%", "Ví dụ: 12,5%"}, []string{"from 0% to 100%", "12.5%"}},
		{"range grouped", vtPer10k10, "12000", []string{"từ 0 đến 10.000"}, []string{"from 0 to 10,000"}},
		{"score 0-10 example", vtScore, "abc", []string{"Ví dụ: 7,5."}, []string{"For example: 7.5."}},
		{"score 0-100 example", vtScore100, "abc", []string{"Ví dụ: 65,5."}, []string{"For example: 65.5."}},
		{"money in triệu đồng example", vtTrieu, "abc", []string{"Ví dụ: 850 hoặc 1,5 tỷ."}, []string{"For example: 850 or 1.5 billion."}},
		{"money in đồng example", vtMoney, "abc", []string{"Ví dụ: 250 triệu hoặc 1,5 tỷ."}, []string{"For example: 250 million or 1.5 billion."}},
		{"range open top", vtInt, "-2", []string{"từ 0 trở lên", "Ví dụ: 25"}, []string{"0 or more"}},
		{"range bounds vi style", domain.Indicator{Type: domain.TypeInteger, Min: vtF(1000), Max: vtF(2500000)}, "5", []string{"từ 1.000 đến 2.500.000"}, []string{"from 1,000 to 2,500,000"}},
		{"example within range", vtHDI, "abc", []string{"không phải là một số", "Ví dụ: 0,5"}, []string{"not a valid number", "0.5"}},
		{"ambiguous", vtDec, "1.234", []string{"“1.234” có thể hiểu là 1234 hoặc 1,234"}, []string{"can be read as 1234 or 1.234"}},
		{"not integer", vtInt, "12,5", []string{"số nguyên", "“12,5”", "Ví dụ: 25"}, []string{"whole number"}},
		{"unit mismatch", vtInt, "5%", []string{"không tính bằng phần trăm (đơn vị tính: số văn bản)", "không kèm dấu %."}, []string{"not a percentage (unit: số văn bản)", "without %."}},
		{"bad date", vtDate, "31/02/2024", []string{"“31/02/2024” không phải là ngày hợp lệ", "02/08/2024"}, []string{"not a valid date"}},
		{"bad yesno", vtYN, "có lẽ", []string{"“Có” hoặc “Không”"}, []string{"“Yes” or “No”"}},
		{"too long text", vtText, strings.Repeat("a", 2001), []string{"tối đa 2.000 ký tự"}, []string{"at most 2,000 characters"}},
		{"too long number", vtDec, strings.Repeat("1", 65), []string{"tối đa 64 ký tự"}, []string{"at most 64 characters"}},
		{"echo is cleaned", vtDec, "\u202e<b>abc\x1b</b>" + strings.Repeat("x", 40), []string{"“<b>abc </b>xxxx", "…”"}, nil},
		{"empty", vtScore, "", []string{"chưa nhập", "Ví dụ: 7,5."}, []string{"Nothing was entered", "7.5."}},
		{"ambiguous one reading", vtPct, "1.234", []string{"“1.234” có phải là 1,234% không?"}, []string{"Did you mean 1.234% by “1.234”?"}},
		{"bad unit", vtMoney, "12 con", []string{"Chưa hiểu “12 con” (đơn vị tính: đồng)", "nghìn, triệu, tỷ"}, []string{"(unit: đồng)"}},
	}
	for _, tc := range tests {
		t.Run(tc.label, func(t *testing.T) {
			_, err := ParseValue(tc.ind, tc.in)
			if err == nil {
				t.Fatalf("%q accepted", tc.in)
			}
			vi, en := err.Message(domain.Vietnamese, tc.ind), err.Message(domain.English, tc.ind)
			for _, p := range tc.vi {
				if !strings.Contains(vi, p) {
					t.Errorf("vi message %q lacks %q", vi, p)
				}
			}
			for _, p := range tc.en {
				if !strings.Contains(en, p) {
					t.Errorf("en message %q lacks %q", en, p)
				}
			}
			for _, m := range []string{vi, en} {
				if strings.ContainsAny(m, "\x00\x1b\u202e") || strings.Contains(m, "%!") || !utf8.ValidString(m) {
					t.Errorf("bad message %q", m)
				}
			}
		})
	}
}

func TestParseDecimalAndCanon(t *testing.T) {
	for in, want := range map[string]float64{"0": 0, "12,5": 12.5, "1.234,5": 1234.5, "1,234.5": 1234.5, "-3": -3, "100": 100, "0.5": 0.5} {
		if got, err := ParseDecimal(in); err != nil || got != want {
			t.Errorf("ParseDecimal(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for in, kind := range map[string]string{"": "empty", "1.000": "ambiguous", "12%": "not_number", "5 tỷ": "not_number", "abc": "not_number", "1e3": "not_number"} {
		if _, err := ParseDecimal(in); err == nil || err.Kind != kind {
			t.Errorf("ParseDecimal(%q): %v, want %s", in, err, kind)
		}
	}
	for _, tc := range vtCases {
		if tc.kind != "" {
			continue
		}
		v, _ := ParseValue(tc.ind, tc.in)
		back, err := ParseCanon(tc.ind, v.Canon)
		if err != nil {
			t.Errorf("%s: ParseCanon(%q): %v", tc.label, v.Canon, err)
			continue
		}
		if !reflect.DeepEqual(back, v) {
			t.Errorf("%s: ParseCanon(%q) = %+v, want %+v", tc.label, v.Canon, back, v)
		}
	}
	for _, bad := range []string{"1e5", "NaN", "1,5", "", " 1"} {
		if _, err := ParseCanon(vtDec, bad); err == nil {
			t.Errorf("ParseCanon(%q) accepted", bad)
		}
	}
}

var vtFuzzIndicators = []domain.Indicator{vtInt, vtDec, vtPct, vtPct2, vtScore, vtHDI, vtMoney, vtTyDong, vtGrowth, vtPer10k, vtYN, vtText, vtDate}

func FuzzParseValue(f *testing.F) {
	for _, tc := range vtCases {
		if len(tc.in) > 5000 {
			continue
		}
		for i := range vtFuzzIndicators {
			f.Add(uint8(i), tc.in)
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, in string) {
		ind := vtFuzzIndicators[int(which)%len(vtFuzzIndicators)]
		v, err := ParseValue(ind, in)
		if err != nil {
			if err.Kind == "" || err.Message(domain.Vietnamese, ind) == "" || err.Message(domain.English, ind) == "" {
				t.Fatalf("%q: bad error %+v", in, err)
			}
			if err.Kind == "ambiguous" && len(err.Choices) == 0 {
				t.Fatalf("%q: ambiguous without choices", in)
			}
			for _, c := range err.Choices {
				checkRoundTrip(t, ind, in, c)
			}
			return
		}
		if v.Type != ind.Type || v.Canon == "" {
			t.Fatalf("%q: %+v", in, v)
		}
		if ind.Type.Numeric() && ((ind.Min != nil && v.Num < *ind.Min) || (ind.Max != nil && v.Num > *ind.Max)) {
			t.Fatalf("%q: %v out of range", in, v.Num)
		}
		checkRoundTrip(t, ind, in, v)
	})
}

func checkRoundTrip(t *testing.T, ind domain.Indicator, in string, v domain.Value) {
	t.Helper()
	// What the bot writes, typed back, is read as the same value or asked
	// back with the same value among the readings ("1.234" is 1234 or
	// 1,234): never silently read as another number.
	for _, lang := range []domain.Lang{domain.Vietnamese, domain.English} {
		out := FormatValue(lang, ind, v)
		w, err := ParseValue(ind, out)
		if err != nil && err.Kind == "ambiguous" {
			found := false
			for _, c := range err.Choices {
				found = found || c.Canon == v.Canon
			}
			if !found {
				t.Fatalf("%q → %q (%s) → ambiguous without %q: %+v", in, out, lang, v.Canon, err.Choices)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%q → %q (%s) → %v", in, out, lang, err)
		}
		if w.Canon != v.Canon {
			t.Fatalf("%q → %q (%s) → %q, want %q", in, out, lang, w.Canon, v.Canon)
		}
	}
	if back, err := ParseCanon(ind, v.Canon); err != nil || back.Canon != v.Canon {
		t.Fatalf("%q: ParseCanon(%q) = %v, %v", in, v.Canon, back, err)
	}
}

// Every example the value prompt gives is a valid value of its indicator.
func TestValueExamplesAreValid(t *testing.T) {
	for _, ind := range append(vtFuzzIndicators, vtPer10k10, vtScore100, vtTrieu) {
		for _, lang := range []domain.Lang{domain.Vietnamese, domain.English} {
			ex := valExample(lang, ind)
			if ex == "" && ind.Type != domain.TypeText {
				t.Errorf("%s (%s): no example", ind.Code, lang)
			}
			for _, x := range strings.Split(ex, valueMsgs[lang]["or"]) {
				if x == "" {
					continue
				}
				if _, err := ParseValue(ind, x); err != nil {
					t.Errorf("%s (%s, %s): example %q refused: %v", ind.Code, ind.Unit, lang, x, err)
				}
			}
		}
	}
}

func TestWrittenAs(t *testing.T) {
	money := domain.Indicator{Code: "M", Unit: "triệu đồng", Type: domain.TypeDecimal}
	pct := domain.Indicator{Code: "P", Unit: "%", Type: domain.TypePercent}
	count := domain.Indicator{Code: "C", Unit: "doanh nghiệp", Type: domain.TypeInteger}
	max := 10.0
	capped := domain.Indicator{Code: "X", Unit: "triệu đồng", Type: domain.TypeDecimal, Max: &max}
	text := domain.Indicator{Code: "T", Type: domain.TypeText}
	for _, tc := range []struct {
		label   string
		ind     domain.Indicator
		canon   string
		written string
		want    bool
	}{
		{"vietnamese grouping", money, "1234.5", "1.234,5", true},
		{"no grouping", money, "1234.5", "1234,5", true},
		{"with the unit", money, "1234.5", "1.234,5 triệu đồng", true},
		{"in dong", money, "1234.5", "1.234.500.000 đồng", true},
		{"in billions", money, "1234.5", "1,2345 tỷ đồng", true},
		{"english grouping", money, "1234.5", "1,234.5", true},
		{"ambiguous reading matches decimal", money, "1.234", "1.234", true},
		{"ambiguous reading matches thousands", money, "1234", "1.234", true},
		{"different number", money, "1234.5", "1.234,6", false},
		{"dong but wrong scale", money, "1234.5", "1.234.500 đồng", false},
		{"percent sign", pct, "12.5", "12,5%", true},
		{"percent words", pct, "12.5", "12,5 phần trăm", true},
		{"count with unit", count, "42", "42 doanh nghiệp", true},
		{"range is not checked", capped, "1234.5", "1.234,5", true},
		{"not a number", money, "1234.5", "một nghìn", false},
		{"text indicator", text, "abc", "abc", false},
		{"bad canon", money, "1,5", "1,5", false},
	} {
		if got := WrittenAs(tc.ind, tc.canon, tc.written); got != tc.want {
			t.Errorf("%s: WrittenAs(%q, %q) = %v, want %v", tc.label, tc.canon, tc.written, got, tc.want)
		}
	}
}
