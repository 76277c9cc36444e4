package web_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
)

// The console shows each item's review flags, filters by flag, counts them
// on the overview, and finds items by the text read in their evidence.
func TestIndicatorFlagsAndEvidenceSearch(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	sum := w.putEvidence(t, "%PDF quyết định")
	w.submit(t, "1.1.1", "UBND-YM", "P003", "7", domain.Evidence{SHA256: sum, Name: "Quyết định 12.pdf", MIME: "application/pdf", Size: 15})
	w.submit(t, "2.1.1", "SNV", "P004", "62.5")
	// What the background reader stored: the number and date agree, the
	// value 7 is not in it.
	if err := w.store.SaveEvidenceText(ctx, domain.EvidenceText{SHA256: sum, Status: "ok", Pages: 1, ReadAt: time.Now(),
		Text: "Số: 12/QĐ-UBND      Yên Mỹ, ngày 01 tháng 3 năm 2024\nQuyết định ban hành Chương trình chuyển đổi số"}); err != nil {
		t.Fatal(err)
	}
	c := w.signIn(t, "S001")

	_, body := c.get("/admin/indicators")
	mustContain(t, body, "⚠️ không thấy giá trị trong minh chứng", `<option value="value_not_found">không thấy giá trị trong minh chứng (1)</option>`)
	mustNotContain(t, body, "số/ngày khác văn bản</span>")
	_, body = c.get("/admin/indicators?flag=value_not_found")
	mustContain(t, body, "Văn bản chính sách")
	mustNotContain(t, body, "Tỷ lệ lao động qua đào tạo</td>")
	_, body = c.get("/admin/indicators?flag=late")
	mustContain(t, body, "Không có chỉ số phù hợp.")

	// Search inside the evidence (any case).
	_, body = c.get("/admin/indicators?q=" + url.QueryEscape("CHUYỂN ĐỔI SỐ"))
	mustContain(t, body, "Văn bản chính sách")
	mustNotContain(t, body, "Tỷ lệ lao động qua đào tạo</td>")

	_, body = c.get("/admin/")
	mustContain(t, body, `href="/admin/indicators?flag=value_not_found">không thấy giá trị trong minh chứng: <strong>1</strong>`, "nộp muộn: 0")
}
