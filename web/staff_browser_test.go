package web_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/internal/testenv"
)

// In Chromium: staff record a phoned-in substitute on the delegate's page
// (after the cut-off), the history says who recorded it; an import with an
// agency written without diacritics previews, confirms and counts.
func TestBrowserStaffRecordsAndImports(t *testing.T) {
	w := newWorld(t)
	w.setClock(time.Date(2026, 8, 5, 10, 0, 0, 0, ict))
	ctx := testenv.Browser(t, 1280, 900, 90*time.Second)
	link, err := w.console.IssueSignIn(context.Background(), "S001")
	if err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "sign in", chromedp.Navigate(w.srv.URL+strings.TrimPrefix(link, "https://hoinghi.example.vn")),
		chromedp.WaitVisible(chromedp.ID("signin")), chromedp.Click(chromedp.ID("signin")))
	until(t, ctx, "the overview", `!!document.getElementById('by-agency')`)

	do(t, ctx, "delegate page", chromedp.Navigate(w.srv.URL+"/admin/delegates/P001"), chromedp.WaitVisible(chromedp.ID("rsvp")),
		chromedp.Click(chromedp.CSS(`#rsvp input[value=substitute]`)),
		chromedp.SendKeys(chromedp.CSS(`#rsvp input[name=sub_name]`), "nguyễn thị lan"),
		chromedp.SendKeys(chromedp.CSS(`#rsvp input[name=sub_position]`), "Phó Giám đốc"),
		chromedp.SendKeys(chromedp.CSS(`#rsvp input[name=sub_phone]`), "0912 000 333"),
		chromedp.Click(chromedp.CSS(`#rsvp button[type=submit]`)))
	until(t, ctx, "recorded", `!!document.querySelector('.flash') && !!document.getElementById('rsvp-history') && document.getElementById('rsvp-history').innerText.includes('Nguyễn Thị Lan, Phó Giám đốc (do Đỗ Thu Hà ghi nhận tại bảng điều khiển)')`)
	st, err := w.store.PersonState(context.Background(), "P001")
	if err != nil || st.RSVP == nil || st.RSVP.Status != domain.RSVPSubstitute || st.RSVP.By != "S001" {
		t.Fatalf("recorded %+v %v", st.RSVP, err)
	}

	file := filepath.Join(t.TempDir(), "them.xlsx")
	if err := os.WriteFile(file, xlsxFile(t, [][]any{{"Họ và tên", "Chức vụ", "Đơn vị", "Số điện thoại"},
		{"Vũ Thị Mai", "Chuyên viên", "ubnd huyen yen my", "0933000111"}}), 0o644); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "upload", chromedp.Navigate(w.srv.URL+"/admin/import"), chromedp.WaitVisible(chromedp.ID("upload")),
		chromedp.SetUploadFiles(chromedp.CSS(`input[name=file]`), []string{file}), chromedp.Click(chromedp.CSS(`#upload button[type=submit]`)))
	until(t, ctx, "preview", `!!document.getElementById('import-counts') && document.getElementById('import-counts').textContent.startsWith('1 mới')`)
	if row := text(t, ctx, `document.querySelector('#rows tbody tr').innerText`); !strings.Contains(row, "UBND huyện Yên Mỹ") || !strings.Contains(row, "mã tự cấp P005") {
		t.Errorf("preview row %q", row)
	}
	do(t, ctx, "confirm", chromedp.Click(chromedp.CSS(`#confirm button`)))
	until(t, ctx, "imported", `!!document.getElementById('import-done') && document.getElementById('import-done').innerText.includes('1 người mới')`)
	if p := w.person("P005"); p.AgencyCode != "UBND-YM" {
		t.Errorf("imported %+v", p)
	}
}
