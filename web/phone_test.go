package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/internal/testenv"
)

// Every console page fits a 390 px phone: nothing wider than the screen
// (wide tables scroll inside their own box or become cards). Screenshots go
// to $DIEUPHOI_ARTIFACTS, else the test's temporary directory.
func TestPhoneSizedConsole(t *testing.T) {
	w := newWorld(t)
	day := time.Date(2026, 7, 14, 9, 0, 0, 0, ict)
	w.rsvp(t, "P001", domain.RSVPAttend, day, nil)
	w.rsvp(t, "P002", domain.RSVPSubstitute, day.AddDate(0, 0, 2), &domain.Substitute{Name: "Hoàng Văn Em", Position: "Phó Chánh Văn phòng", Phone: "0900000001"})
	sum := w.putEvidence(t, string(tinyPNG))
	w.submit(t, "1.1.1", "UBND-YM", "P003", "7", domain.Evidence{SHA256: sum, Name: "Ảnh biên bản họp hội đồng thẩm định.png", MIME: "image/png", Size: int64(len(tinyPNG))})
	w.bigger(t)
	w.setClock(time.Date(2026, 8, 7, 7, 40, 0, 0, ict))
	// Many pages on two shared cores: more time than the other browser tests.
	ctx := testenv.Browser(t, 390, 844, 120*time.Second)
	do(t, ctx, "phone viewport", chromedp.EmulateViewport(390, 844))

	link, err := w.console.IssueSignIn(context.Background(), "S001")
	if err != nil {
		t.Fatal(err)
	}
	signin := w.srv.URL + strings.TrimPrefix(link, "https://hoinghi.example.vn")
	dir := os.Getenv("DIEUPHOI_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	fits := func(name string) {
		t.Helper()
		until(t, ctx, name+" loaded", `document.readyState === 'complete'`)
		got := text(t, ctx, `document.documentElement.scrollWidth + ' ' + window.innerWidth`)
		var sw, iw int
		fmt.Sscan(got, &sw, &iw)
		if iw != 390 || sw > iw {
			wide := text(t, ctx, `[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.scroll')).slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)).join('; ')`)
			t.Errorf("%s: page is %d px wide on a %d px screen; too wide: %s", name, sw, iw, wide)
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		shot := filepath.Join(dir, "phone-"+name+".png")
		if err := os.WriteFile(shot, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	do(t, ctx, "sign-in page", chromedp.Navigate(signin), chromedp.WaitVisible(chromedp.ID("signin")))
	fits("signin")
	do(t, ctx, "sign in", chromedp.Click(chromedp.ID("signin")))
	until(t, ctx, "the overview", `!!document.getElementById('by-agency')`)
	fits("overview")
	// Agency names wrap at most onto a few lines, not word by word.
	lines := text(t, ctx, `String(Math.max(...[...document.querySelectorAll('#by-agency tbody td:first-child a, #matrix tbody td:first-child a')].map(a => Math.round(a.getBoundingClientRect().height / parseFloat(getComputedStyle(a).lineHeight)))))`)
	if n, _ := strconv.Atoi(lines); n > 2 {
		t.Errorf("an agency name takes %s lines", lines)
	}
	t.Logf("overview height at 390 px: %s px", text(t, ctx, `String(document.documentElement.scrollHeight)`))
	for _, pg := range []struct{ name, path string }{
		{"delegates", "/admin/delegates"},
		{"delegate", "/admin/delegates/P002"},
		{"invite", "/admin/delegates/P001/invite"},
		{"indicators", "/admin/indicators"},
		{"indicator", "/admin/indicators/1.1.1/UBND-YM"},
		{"import", "/admin/import"},
		{"export", "/admin/export"},
		{"invitations", "/admin/invitations?agency=UBND-YM"},
		{"checkin", "/admin/checkin"},
		{"checkin-search", "/admin/checkin?q=tran"},
		{"campaigns", "/admin/campaigns"},
		{"campaign", "/admin/campaigns/" + servedCampaign},
		{"notfound", "/admin/khong-co"},
		{"self", "/checkin/" + w.person("P001").InviteToken},
	} {
		do(t, ctx, pg.name, chromedp.Navigate(w.srv.URL+pg.path))
		fits(pg.name)
	}

	// The reception desk on a phone: search a name without diacritics, one
	// tap, and the substitute is checked in under their own name.
	do(t, ctx, "desk", chromedp.Navigate(w.srv.URL+"/admin/checkin"), chromedp.WaitVisible(chromedp.ID("q")),
		chromedp.SendKeys(chromedp.ID("q"), "hoang em"), chromedp.Submit(chromedp.ID("q")))
	until(t, ctx, "search results", `!!document.getElementById('found') && document.getElementById('found').innerText.includes('Hoàng Văn Em')`)
	fits("desk-found")
	do(t, ctx, "one tap", chromedp.Click(chromedp.CSS(`#found form.tap button`)))
	until(t, ctx, "checked in", `!!document.getElementById('result') && document.getElementById('result').innerText.includes('Hoàng Văn Em') && document.getElementById('result').innerText.includes('Dự thay cho: Trần Thị Bình')`)
	fits("desk-result")
	if n := text(t, ctx, `document.getElementById('h-checkedin').textContent`); n != "1" {
		t.Errorf("desk count %s", n)
	}
	// A picture of evidence shows on the indicator page.
	do(t, ctx, "indicator", chromedp.Navigate(w.srv.URL+"/admin/indicators/1.1.1/UBND-YM"))
	until(t, ctx, "evidence preview", `!!document.querySelector('img.ev-thumb') && document.querySelector('img.ev-thumb').complete && document.querySelector('img.ev-thumb').naturalWidth === 1`)
	t.Logf("screenshots in %s", dir)
}

// bigger adds what a real campaign has and the test world lacks: agencies
// with long names, several pillars, a long indicator name.
func (w *world) bigger(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	long := []domain.Agency{
		{Code: "SNNPTNT", NameVI: "Sở Nông nghiệp và Phát triển nông thôn", Kind: "department"},
		{Code: "UBND-VG", NameVI: "Ủy ban nhân dân huyện Văn Giang", Kind: "district"},
		{Code: "BQLKCN", NameVI: "Ban Quản lý các khu công nghiệp tỉnh Hưng Yên", Kind: "department"},
	}
	ps := append([]domain.Person{}, people...)
	ps = append(ps,
		domain.Person{ID: "P010", FullName: "Nguyễn Thị Phương Thảo", Position: "Phó Giám đốc phụ trách Khoa học và Công nghệ", AgencyCode: "SNNPTNT", Phone: "0911000010", Roles: []domain.Role{domain.RoleDelegate, domain.RoleFocal}},
		domain.Person{ID: "P011", FullName: "Đặng Quốc Khánh", Position: "Chủ tịch", AgencyCode: "UBND-VG", Phone: "0911000011", Roles: []domain.Role{domain.RoleDelegate}},
		domain.Person{ID: "P012", FullName: "Vũ Minh Đức", Position: "Trưởng ban", AgencyCode: "BQLKCN", Phone: "0911000012", Roles: []domain.Role{domain.RoleDelegate, domain.RoleFocal}},
	)
	if err := w.store.SyncDirectory(ctx, append(append([]domain.Agency{}, agencies...), long...), ps); err != nil {
		t.Fatal(err)
	}
	inds := append([]domain.Indicator{}, indicators...)
	var as []domain.Assignment
	for i, pillar := range []string{"3 Hạ tầng", "4 Trình độ phát triển thị trường", "5 Trình độ phát triển kinh doanh", "6 Sản phẩm kiến thức, công nghệ", "7 Tác động"} {
		code := fmt.Sprintf("%d.1.1", i+3)
		inds = append(inds, domain.Indicator{Code: code, Pillar: pillar, NameVI: "Số doanh nghiệp có hoạt động đổi mới sáng tạo được hỗ trợ từ ngân sách nhà nước", Unit: "doanh nghiệp", Type: domain.TypeInteger, RefYear: 2023, Agency: "SNNPTNT"})
		for _, ag := range []string{"SNNPTNT", "BQLKCN"} {
			focal := "P010"
			if ag == "BQLKCN" {
				focal = "P012"
			}
			as = append(as, domain.Assignment{Indicator: code, Agency: ag, Focal: []string{focal}, Deadline: deadline()})
		}
	}
	as = append(as, domain.Assignment{Indicator: "1.1.1", Agency: "UBND-YM", Focal: []string{"P003"}, Deadline: deadline()},
		domain.Assignment{Indicator: "2.1.1", Agency: "SNV", Focal: []string{"P004"}, Deadline: deadline()})
	if err := w.store.SyncCatalog(ctx, inds, as); err != nil {
		t.Fatal(err)
	}
	if err := w.reload(ctx); err != nil {
		t.Fatal(err)
	}
}
