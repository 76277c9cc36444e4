package web_test

import (
	"net/url"
	"testing"

	"github.com/dieuphoi/dieuphoi/domain"
)

// The console names people and agencies, never their internal codes, and
// says why its pages count different numbers of people.
func TestNoRawCodes(t *testing.T) {
	w := newWorld(t)
	sum := w.putEvidence(t, "%PDF-1.4 quyết định")
	w.submit(t, "1.1.1", "UBND-YM", "P003", "7", domain.Evidence{SHA256: sum, Name: "QĐ 12.pdf", MIME: "application/pdf", Size: 20})
	c := w.signIn(t, "S001")
	read(t, c.post("/admin/checkin", url.Values{"code": {w.person("P002").InviteCode}}))
	read(t, c.do("GET", "/admin/export/attendees.xlsx", nil, ""))
	read(t, c.do("GET", "/admin/evidence/"+sum, nil, ""))
	read(t, c.post("/admin/indicators/1.1.1/UBND-YM/review", url.Values{"decision": {"return"}, "version": {"1"}, "comment": {"Thiếu phụ lục"}}))
	read(t, c.post("/admin/delegates/P004", url.Values{"full_name": {"Phạm Đức Dũng"}, "position": {"Trưởng phòng"}, "phone": {"0966000222"}, "agency": {"SKHCN"}}))

	_, body := c.get("/admin/")
	mustContain(t, body,
		"Điểm danh tại bàn — Trần Thị Bình (UBND huyện Yên Mỹ)",
		"Xuất dữ liệu — danh sách đại biểu (Excel)",
		"QĐ 12.pdf (1.1.1 — UBND huyện Yên Mỹ, gửi bởi Lê Minh Cường (UBND huyện Yên Mỹ))",
		"Trả lại chỉ số — 1.1.1 — UBND huyện Yên Mỹ; góp ý: “Thiếu phụ lục”",
		"Phạm Đức Dũng (Sở Khoa học và Công nghệ): đơn vị «Sở Nội vụ» → «Sở Khoa học và Công nghệ»",
		`id="count-why"`, "danh sách người có thêm 1 cán bộ")
	mustNotContain(t, body, "— P002", "attendees.xlsx", " v1 ", "UBND-YM<", "SNV →")

	_, body = c.get("/admin/delegates")
	mustContain(t, body, "Danh sách có 5 người, trong đó 4 đại biểu được mời (số trên trang Tổng quan) và 1 cán bộ, đầu mối không phải đại biểu.")
	mustNotContain(t, body, "P001 ·")
}
