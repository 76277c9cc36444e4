package flows

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
)

func flagCatalog() *domain.Catalog {
	two, ten := 2.0, 10.0
	deadline := time.Date(2024, 8, 30, 10, 0, 0, 0, time.UTC)
	inds := []domain.Indicator{
		{Code: "P", Type: domain.TypePercent, Unit: "%", LastYear: "0,5", Evidence: true},
		{Code: "M", Type: domain.TypeDecimal, Unit: "triệu đồng", LastYear: "1.234,5 (2022)", ChangeLimit: 0.2, SoftMin: &two, SoftMax: &ten},
		{Code: "N", Type: domain.TypeDecimal, Unit: "tỷ đồng"},
		{Code: "D", Type: domain.TypeDecimal, Unit: "tỷ đồng"},
		{Code: "R", Type: domain.TypePercent, Unit: "%", Numerator: "N", Denominator: "D"},
	}
	var as []domain.Assignment
	for _, i := range inds {
		as = append(as, domain.Assignment{Indicator: i.Code, Agency: "STC", Deadline: deadline})
	}
	return domain.NewCatalog(inds, as)
}

func TestValueWarnings(t *testing.T) {
	cat := flagCatalog()
	subs := map[string]domain.Submission{"N": {Value: "5"}, "D": {Value: "200"}}
	for _, tc := range []struct {
		label, code, value string
		want               []string // texts, in order
	}{
		{"25 times last year", "P", "12.5", []string{"Giá trị 12,5% cao gấp 25 lần năm trước (0,5%)."}},
		{"within ±50 %", "P", "0.7", nil},
		{"down beyond the limit", "P", "0.2", []string{"Giá trị 0,2% thấp hơn 2,5 lần so với năm trước (0,5%)."}},
		{"over 100 %", "P", "120", []string{"cao gấp 240 lần", "lớn hơn 100 %"}},
		{"own change limit", "M", "1500", []string{"tăng 22% so với năm trước (1.234,5)", "ngoài khoảng thường gặp"}},
		{"inside everything", "M", "1300", []string{"ngoài khoảng thường gặp"}},
		{"ratio agrees", "R", "2.5", nil},
		{"ratio disagrees", "R", "25", []string{"khác với N / D đã nhập (2,5%)"}},
	} {
		ind, _ := cat.Indicator(tc.code)
		ws := valueWarnings(domain.Vietnamese, cat, ind, tc.value, subs)
		if len(ws) != len(tc.want) {
			t.Errorf("%s: got %+v, want %q", tc.label, ws, tc.want)
			continue
		}
		for i := range ws {
			if !strings.Contains(ws[i].text, tc.want[i]) {
				t.Errorf("%s: warning %q lacks %q", tc.label, ws[i].text, tc.want[i])
			}
		}
	}
}

func TestReviewFlags(t *testing.T) {
	cat := flagCatalog()
	read := func(text string) domain.EvidenceText { return domain.EvidenceText{Status: "ok", Text: text} }
	doc := "Số: 125/BC-SKHCN   Hưng Yên, ngày 15 tháng 3 năm 2024\nTỷ lệ đạt 0,6 %."
	onTime := time.Date(2024, 8, 20, 0, 0, 0, 0, time.UTC)
	march15 := time.Date(2024, 3, 15, 0, 0, 0, 0, time.UTC)
	ev := []domain.Evidence{{SHA256: "a"}}
	for _, tc := range []struct {
		label string
		sub   domain.Submission
		texts map[string]domain.EvidenceText
		want  []string
	}{
		{"all good", domain.Submission{Indicator: "P", Value: "0.6", Evidence: ev, DocNumber: "125/BC-SKHCN", DocDate: march15, SubmittedAt: onTime},
			map[string]domain.EvidenceText{"a": read(doc)}, nil},
		{"not read yet is not a flag", domain.Submission{Indicator: "P", Value: "0.6", Evidence: ev, SubmittedAt: onTime}, nil, nil},
		{"missing evidence, late", domain.Submission{Indicator: "P", Value: "0.6", SubmittedAt: onTime.AddDate(0, 1, 0)}, nil,
			[]string{FlagNoEvidence, FlagLate}},
		{"unreadable", domain.Submission{Indicator: "P", Value: "0.6", Evidence: ev}, map[string]domain.EvidenceText{"a": {Status: "encrypted"}},
			[]string{FlagUnreadable}},
		{"value not found and big change", domain.Submission{Indicator: "P", Value: "12.5", Evidence: ev},
			map[string]domain.EvidenceText{"a": read(doc)}, []string{FlagValueNotFound, FlagBigChange}},
		{"number differs", domain.Submission{Indicator: "P", Value: "0.6", Evidence: ev, DocNumber: "126/BC-SKHCN"},
			map[string]domain.EvidenceText{"a": read(doc)}, []string{FlagDocMismatch}},
		{"date differs", domain.Submission{Indicator: "P", Value: "0.6", Evidence: ev, DocNumber: "125/bc-skhcn", DocDate: march15.AddDate(0, 0, 1)},
			map[string]domain.EvidenceText{"a": read(doc)}, []string{FlagDocMismatch}},
	} {
		tc.sub.Agency = "STC"
		if got := ReviewFlags(cat, tc.sub, tc.texts, nil); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: flags %v, want %v", tc.label, got, tc.want)
		}
	}
}

// TestSoftWarningBeforeSending: a 25× jump is questioned once, with
// "Đúng, vẫn gửi" and "Sửa", and never blocks.
func TestSoftWarningBeforeSending(t *testing.T) {
	c := newCampaign(t)
	c.as("DB002", btn("ind:2.2.2")) // last year 0,48 %
	c.as("DB002", text("12"))
	c.as("DB002", btn(btnValOK))
	c.as("DB002", file("a.pdf", "s1", ""))
	c.as("DB002", btn(btnEvDone))
	c.as("DB002", text("106/KH-UBND"))
	c.as("DB002", text("18/06/2024"))
	c.as("DB002", btn(btnNoteSkip))
	r := c.as("DB002", btn(btnSend))
	c.want("DB002", "Giá trị 12% cao gấp 25 lần năm trước (0,48%).")
	c.want("DB002", "Anh/chị kiểm tra lại?")
	if !hasButton(r, btnSend) || !hasButton(r, btnEdit) {
		t.Fatal("want «Đúng, vẫn gửi» and «Sửa»")
	}
	if s := c.subs[[2]string{"2.2.2", "STC"}]; s.Status == domain.StatusSubmitted {
		t.Fatal("sent before the warning was answered")
	}
	c.as("DB002", btn(btnSend))
	c.want("DB002", "Đã gửi chỉ số 2.2.2")
	if s := c.subs[[2]string{"2.2.2", "STC"}]; s.Status != domain.StatusSubmitted || s.Value != "12" {
		t.Fatalf("after «Đúng, vẫn gửi»: %+v", s)
	}
}

// TestReviewerSeesFlags: /duyet lists each item's flags, and the card says
// them too.
func TestReviewerSeesFlags(t *testing.T) {
	c := newCampaign(t)
	c.subs[[2]string{"2.2.2", "STC"}] = domain.Submission{Indicator: "2.2.2", Agency: "STC", Status: domain.StatusSubmitted, Value: "12",
		By: "DB002", Version: 2, SubmittedAt: c.now}
	c.as("DB003", cmd("duyet", ""))
	c.want("DB003", "2.2.2 — Sở Tài chính: 12%")
	c.want("DB003", "12% ⚠️ thiếu minh chứng; thay đổi lớn so với năm trước")
	c.as("DB003", btn("rv:2.2.2|STC"))
	c.want("DB003", "⚠️ thiếu minh chứng; thay đổi lớn so với năm trước")
}

// TestReviewQueueByFlag: /duyet filters the queue by flag, by argument or
// by the buttons under the list, as the console's filter does.
func TestReviewQueueByFlag(t *testing.T) {
	c := newCampaign(t)
	c.subs[[2]string{"2.2.2", "STC"}] = domain.Submission{Indicator: "2.2.2", Agency: "STC", Status: domain.StatusSubmitted, Value: "12",
		By: "DB002", Version: 2, SubmittedAt: c.now}
	c.subs[[2]string{"1.1.1", "SKHCN"}] = domain.Submission{Indicator: "1.1.1", Agency: "SKHCN", Status: domain.StatusSubmitted, Value: "3",
		By: "DB004", Version: 1, SubmittedAt: c.now, Evidence: []domain.Evidence{{SHA256: "s9", Name: "qd.pdf"}}}

	r := c.as("DB003", cmd("duyet", ""))
	c.want("DB003", "🗂 2 chỉ số đang chờ duyệt")
	if !hasButton(r, "rf:big_change") || !hasButton(r, "rf:no_evidence") || hasButton(r, "rf:late") || hasButton(r, "rf:*") {
		t.Fatalf("filter buttons: %+v", r.Replies)
	}
	r = c.as("DB003", btn("rf:big_change"))
	c.want("DB003", "🗂 1/2 chỉ số chờ duyệt có cảnh báo «thay đổi lớn so với năm trước»:")
	c.want("DB003", "2.2.2 — Sở Tài chính")
	if strings.Contains(allText(r), "1.1.1") || !hasButton(r, "rf:*") || !hasButton(r, "rv:2.2.2|STC") || hasButton(r, "rv:1.1.1|SKHCN") {
		t.Fatalf("filtered queue: %+v", r.Replies)
	}
	r = c.as("DB003", btn("rf:*"))
	c.want("DB003", "🗂 2 chỉ số đang chờ duyệt")

	for _, arg := range []string{"thay doi lon", "THAY ĐỔI LỚN", "big_change", "big change"} {
		c.as("DB003", cmd("duyet", arg))
		c.want("DB003", "🗂 1/2 chỉ số chờ duyệt có cảnh báo «thay đổi lớn so với năm trước»:")
	}
	c.as("DB003", cmd("duyet", "muộn"))
	c.want("DB003", "Không có chỉ số chờ duyệt nào có cảnh báo «nộp muộn».")
	c.as("DB003", cmd("duyet", "xyz"))
	c.want("DB003", "Không có cảnh báo «xyz». Có thể lọc theo: thiếu minh chứng,")
	c.want("DB003", "🗂 2 chỉ số đang chờ duyệt")
	c.as("DB003", btn("rf:nonsense"))
	c.want("DB003", "🗂 2 chỉ số đang chờ duyệt")

	// Only staff.
	r = c.as("DB002", btn("rf:big_change"))
	if strings.Contains(allText(r), "2.2.2 — Sở Tài chính") {
		t.Fatalf("a focal point saw the queue: %s", allText(r))
	}
}

func TestParseReviewFlag(t *testing.T) {
	tests := []struct {
		arg, want string
		ok        bool
	}{
		{"", "", true}, {"tất cả", "", true}, {"all", "", true},
		{"late", FlagLate, true}, {"muộn", FlagLate, true}, {"nop muon", FlagLate, true},
		{"thiếu minh chứng", FlagNoEvidence, true}, {"không đọc được", FlagUnreadable, true},
		{"không thấy", FlagValueNotFound, true}, {"số/ngày", FlagDocMismatch, true},
		{"outside", FlagOutOfRange, true}, {"value_not_found", FlagValueNotFound, true},
		{"abc", "", false},
	}
	for _, tt := range tests {
		if got, ok := ParseReviewFlag(tt.arg); got != tt.want || ok != tt.ok {
			t.Errorf("ParseReviewFlag(%q) = %q, %v; want %q, %v", tt.arg, got, ok, tt.want, tt.ok)
		}
	}
}

func TestWantsReview(t *testing.T) {
	for _, c := range []struct {
		label string
		s     Session
		in    Input
		want  bool
	}{
		{"/duyet", Session{}, Input{Kind: InCommand, Command: "duyet"}, true},
		{"/review", Session{}, Input{Kind: InCommand, Command: "review"}, true},
		{"menu button", Session{}, Input{Kind: InButton, Data: btnReview}, true},
		{"flag filter", Session{}, Input{Kind: InButton, Data: btnRvFlag + "late"}, true},
		{"open an item", Session{}, Input{Kind: InButton, Data: btnRvPrefix + "2.2.1|SKHCN"}, true},
		{"approve", Session{}, Input{Kind: InButton, Data: btnRvApprove + "2.2.1|SKHCN"}, true},
		{"return", Session{}, Input{Kind: InButton, Data: btnRvReturn + "2.2.1|SKHCN"}, true},
		{"the return comment", Session{State: stateRevComment}, Input{Kind: InText, Text: "thiếu minh chứng"}, true},
		{"/tonghop", Session{}, Input{Kind: InCommand, Command: "tonghop"}, false},
		{"export", Session{}, Input{Kind: InButton, Data: btnExport}, false},
		{"text while idle", Session{}, Input{Kind: InText, Text: "xin chào"}, false},
	} {
		if got := WantsReview(c.s, c.in); got != c.want {
			t.Errorf("%s: WantsReview = %v, want %v", c.label, got, c.want)
		}
	}
}
