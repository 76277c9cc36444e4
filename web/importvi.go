package web

import (
	"regexp"
	"strings"
)

// The lists' checks (package configs) name problems in English for the
// command line; the console says them in Vietnamese. Every message those
// checks can give for a people or assignment list is here; one not yet
// known is still shown, behind a Vietnamese lead-in.

var fieldNamesVI = map[string]string{
	"id": "Mã", "full_name": "Họ và tên", "agency": "Đơn vị", "phone": "Số điện thoại", "email": "Email",
	"roles": "Vai trò", "position": "Chức vụ", "invite_token": "Mã liên kết", "invite_code": "Mã thư mời",
	"indicator": "Mã chỉ số", "focal": "Đầu mối", "deadline": "Hạn nộp",
}

type viRule struct {
	re *regexp.Regexp
	vi string // regexp.Expand template
}

// q is a quoted value as configs writes it: «…».
const q = `«(.*?)»`

var viRules = func() []viRule {
	var out []viRule
	for _, r := range [][2]string{
		{`^is required$`, "Bắt buộc phải có."},
		{`^` + q + ` is not a Vietnamese phone number$`, "“$1” không phải số điện thoại Việt Nam. Xin ghi 10 chữ số, ví dụ 0912 345 678."},
		{`^` + q + ` is not in the agency list$`, "Không có đơn vị “$1”. Xin ghi tên đơn vị (như trong danh sách đơn vị bên dưới) hoặc mã đơn vị."},
		{`^` + q + ` is not an e-mail address$`, "“$1” không phải địa chỉ email."},
		{`^` + q + ` is not a role; .*$`, "“$1” không phải vai trò. Xin ghi: đại biểu, đầu mối hoặc cán bộ, cách nhau bằng dấu “;”."},
		{`^` + q + ` must be letters, digits, .*\(up to (\d+)\), no spaces$`, "“$1” chỉ được gồm chữ cái không dấu, chữ số, “.”, “_” hoặc “-” (tối đa $2 ký tự), không có dấu cách."},
		{`^` + q + ` is already used on row (\d+)$`, "“$1” đã dùng ở dòng $2."},
		{`^is already used on row (\d+)$`, "Đã dùng ở dòng $1."},
		{`^` + q + ` must be at least 22 characters.*$`, "“$1” phải có ít nhất 22 ký tự A-Z, a-z, 0-9, “-” và “_”."},
		{`^` + q + ` must be 6 to 16 letters and digits.*$`, "“$1” phải gồm 6 đến 16 chữ cái và chữ số."},
		{`^has no people$`, "Tệp không có người nào."},
		{`^has no assignments$`, "Tệp không có dòng phân công nào."},
		{`^is empty; the first row must be the header$`, "Tệp trống; dòng đầu tiên phải là tên các cột."},
		{`^two columns give it: ` + q + ` and ` + q + `$`, "Hai cột cùng là cột này: “$1” và “$2”."},
		{`^required column is missing \(header has: (.*)\)$`, "Thiếu cột bắt buộc (tệp có các cột: $1). Xin dùng tệp mẫu."},
		{`^is UTF-16 text; .*$`, "Tệp là văn bản UTF-16; xin lưu lại dạng “CSV UTF-8”."},
		{`^is not UTF-8 text.*$`, "Tệp không phải văn bản UTF-8 (chữ Việt sẽ bị lỗi); xin lưu lại dạng “CSV UTF-8” hoặc dùng tệp Excel."},
		{`^CSV syntax: (.*)$`, "Tệp CSV sai cú pháp ($1)."},
		{`^CSV: (.*)$`, "Không đọc được tệp CSV ($1)."},
		{`^cannot read as an Excel \.xlsx workbook: .*$`, "Không đọc được tệp Excel .xlsx; xin mở bằng Excel rồi lưu lại."},
		{`^workbook has no sheets$`, "Tệp Excel không có trang tính nào."},
		{`^cannot read sheet ` + q + `: .*$`, "Không đọc được trang tính “$1”."},
		{`^old Excel format \(\.xls\) is not supported.*$`, "Không nhận tệp Excel cũ (.xls); xin lưu lại dạng .xlsx hoặc CSV UTF-8."},
		{`^unknown file type (.*); use \.csv or \.xlsx$`, "Không nhận loại tệp $1; xin dùng .csv hoặc .xlsx."},
		{`^` + q + ` is not in the indicator list$`, "Không có chỉ số “$1” trong danh mục."},
		{`^` + q + ` is already assigned to (.*) on row (\d+)$`, "Chỉ số “$1” đã được giao cho $2 ở dòng $3."},
		{`^` + q + ` is not in the people list$`, "Không có người mã “$1” trong danh sách người."},
		{`^` + q + ` \((.*)\) does not have the focal role.*$`, "$2 (mã “$1”) chưa có vai trò đầu mối; xin thêm “đầu mối” vào vai trò của người này trong danh sách người."},
		{`^` + q + ` \((.*)\) belongs to (.*), not (.*); .*$`, "$2 (mã “$1”) thuộc đơn vị khác ($3), không phải $4; đầu mối chỉ trả lời cho đơn vị của mình."},
		{`^is required: at least one focal point's id.*$`, "Bắt buộc: ghi mã ít nhất một người đầu mối, nhiều người cách nhau bằng “;”."},
		{`^` + q + ` names no focal point.*$`, "“$1” không có mã người đầu mối nào; xin ghi mã người, cách nhau bằng “;”."},
		{`^` + q + ` is not a date.*$`, "“$1” không phải ngày; xin ghi ngày/tháng/năm hoặc ngày/tháng/năm giờ:phút, ví dụ 23/08/2024 17:00."},
		{`^is required: there is no campaign deadline to default to$`, "Bắt buộc: chưa có hạn chung để dùng khi để trống."},
		{`^file is larger than .*$`, "Tệp quá lớn (tối đa 10 MB)."},
	} {
		out = append(out, viRule{regexp.MustCompile(r[0]), r[1]})
	}
	return out
}()

// problemVI says a configs problem in Vietnamese.
func problemVI(msg string) string {
	for _, r := range viRules {
		if m := r.re.FindStringSubmatchIndex(msg); m != nil {
			return string(r.re.ExpandString(nil, r.vi, msg, m))
		}
	}
	return "Dữ liệu chưa hợp lệ: " + strings.TrimSpace(msg)
}

func fieldVI(f string) string {
	if v, ok := fieldNamesVI[f]; ok {
		return v
	}
	return f
}
