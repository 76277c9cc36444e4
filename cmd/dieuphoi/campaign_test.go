package main

import (
	"bytes"
	"context"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/dieuphoi/dieuphoi/bot/telegram/telegramtest"
	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/storage/postgres"
)

var (
	jpeg = append([]byte{0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0x00}, bytes.Repeat([]byte{7}, 3000)...)
	pdf  = append([]byte("%PDF-1.4\n%âãÏÓ\n"), bytes.Repeat([]byte("0 0 obj\n"), 200)...)
)

// pressLatest presses the button with data on the newest message that has it.
func (u *telegramUser) pressLatest(data, want string) telegramtest.SentMessage {
	u.t.Helper()
	msgs := u.api.Messages(u.id)
	for i := len(msgs) - 1; i >= 0; i-- {
		for _, row := range msgs[i].Inline {
			for _, b := range row {
				if b.Data == data {
					return u.press(msgs[i], data, want)
				}
			}
		}
	}
	u.t.Fatalf("no message to %d has a button %q", u.id, data)
	return telegramtest.SentMessage{}
}

// The guided indicator flow over Telegram, against PostgreSQL and Redis: a
// focal point enters three indicators — one with an album of evidence, one
// interrupted and resumed, one returned by staff and fixed — and the database
// and the Excel export then hold exactly what was confirmed.
func TestFocalPointEntersIndicatorsAndStaffReviews(t *testing.T) {
	api := telegramtest.New(t, botToken)
	env := serverEnv(t, api.URL())
	env["DIEUPHOI_CLOCK_START"] = "2024-08-10T09:00:00+07:00"
	_, stop := startRun(t, env)
	defer stop()

	ctx := context.Background()
	st, err := postgres.Open(ctx, env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	dir, err := st.Directory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	focalP, _ := dir.Person("DB097") // Lê Văn Khải, SKHCN focal point
	staffP, _ := dir.Person("DB090") // staff of the Department

	focal := &telegramUser{t: t, api: api, id: 7001}
	staff := &telegramUser{t: t, api: api, id: 7002}
	// Focal points and staff act for a body: they prove their number
	// (SECURITY.md); an invite link would give delegate functions only.
	if list := focal.joined(func() int { return api.ShareContact(focal.id, focalP.Phone, focal.id) }, "2.2.1").Text; strings.Contains(list, "P1.02") {
		t.Fatalf("focal point's list = %q; want SKHCN's indicators only", list)
	}

	// 1. 2.2.1 with an album of three photos.
	focal.pressLatest("ind:2.2.1", "Xin nhập giá trị")
	focal.text("12,5", "12,5")
	focal.pressLatest("iv:ok", "minh chứng")
	for i := 0; i < 3; i++ {
		photo := append(append([]byte{}, jpeg...), byte(i))
		u := api.NewPhoto(focal.id, "", photo).With("media_group_id", "album-221")
		api.Queue(u)
	}
	msgs := api.WaitMessages(t, focal.id, focal.seen+1, 20*time.Second)
	focal.seen = len(msgs)
	time.Sleep(300 * time.Millisecond) // the rest of the album must bring no more replies
	if n := len(api.Messages(focal.id)); n != focal.seen {
		t.Fatalf("an album of 3 photos got %d replies, want 1", n-focal.seen+1)
	}
	focal.pressLatest("ev:done", "Số/ký hiệu")
	focal.text("15/BC-SKHCN", "Ngày ban hành")
	focal.text("20/07/2024", "Ghi chú")
	focal.pressLatest("nt:skip", "Xin kiểm tra trước khi gửi")
	focal.pressLatest("sm:send", "Đã gửi chỉ số 2.2.1")

	// 2. 2.2.3, interrupted after the first file, resumed later.
	focal.do(func() int { return api.SendCommand(focal.id, "chiso", "") }, 1)
	focal.pressLatest("ind:2.2.3", "Xin nhập giá trị")
	focal.text("0,45%", "0,45")
	focal.pressLatest("iv:ok", "minh chứng")
	focal.do(func() int { return api.SendDocument(focal.id, "Bao cao NC&PT 2023.pdf", "application/pdf", pdf) }, 1)
	focal.do(func() int { return api.SendCommand(focal.id, "chuongtrinh", "") }, 1)
	focal.do(func() int { return api.SendCommand(focal.id, "chiso", "") }, 1)
	m := focal.pressLatest("ind:2.2.3", "minh chứng")
	if !strings.Contains(m.Text, "Đã lưu 1 minh chứng:\n  1. 📎 Bao cao NC&PT 2023.pdf") {
		t.Fatalf("resumed at %q; want the evidence question with the file already kept", m.Text)
	}
	focal.pressLatest("ev:done", "Số/ký hiệu")
	focal.text("88/QĐ-SKHCN", "Ngày ban hành")
	focal.text("02/07/2024", "Ghi chú")
	focal.text("Số liệu sơ bộ theo điều tra 2023", "Xin kiểm tra trước khi gửi")
	focal.pressLatest("sm:send", "Đã gửi chỉ số 2.2.3")

	// 3. 5.2.1: sent, returned by staff with a comment, fixed, approved.
	focal.do(func() int { return api.SendCommand(focal.id, "chiso", "") }, 1)
	focal.pressLatest("ind:5.2.1", "Xin nhập giá trị")
	focal.text("27", "27")
	focal.pressLatest("iv:ok", "minh chứng")
	focal.do(func() int { return api.SendDocument(focal.id, "Danh muc hop dong.pdf", "application/pdf", pdf) }, 1)
	focal.pressLatest("ev:done", "Số/ký hiệu")
	focal.text("21/DM-SKHCN", "Ngày ban hành")
	focal.text("15/07/2024", "Ghi chú")
	focal.pressLatest("nt:skip", "Xin kiểm tra")
	focal.pressLatest("sm:send", "Giá trị 27 cao gấp 2,3 lần năm trước (12).") // a soft warning, never a block
	focal.pressLatest("sm:send", "Đã gửi chỉ số 5.2.1")

	staff.joined(func() int { return api.ShareContact(staff.id, staffP.Phone, staff.id) }, "📅 Hội nghị triển khai")
	staff.do(func() int { return api.SendCommand(staff.id, "duyet", "") }, 1)
	staff.pressLatest("rv:5.2.1|SKHCN", "27")
	sub, err := st.Submission(ctx, "5.2.1", "SKHCN")
	if err != nil {
		t.Fatal(err)
	}
	staff.pressLatest("rr:5.2.1|SKHCN|"+strconv.Itoa(sub.Version), "ý kiến")
	staff.text("Thiếu danh mục hợp đồng ký năm 2023", "Đã trả lại")
	notice := focal.do(func() int { return 0 }, 1) // the notice arrives unasked
	if !strings.Contains(notice.Text, "Thiếu danh mục hợp đồng ký năm 2023") {
		t.Fatalf("focal point's notice = %q", notice.Text)
	}
	focal.pressLatest("ind:5.2.1", "Xin kiểm tra")
	focal.pressLatest("sm:edit", "sửa phần nào")
	focal.pressLatest("ed:value", "Xin nhập giá trị")
	focal.text("29", "29")
	focal.pressLatest("iv:ok", "Xin kiểm tra")
	focal.pressLatest("sm:send", "Anh/chị kiểm tra lại?")
	focal.pressLatest("sm:send", "Đã gửi chỉ số 5.2.1")
	staff.do(func() int { return api.SendCommand(staff.id, "duyet", "") }, 1)
	staff.pressLatest("rv:5.2.1|SKHCN", "29")
	// The history, as the console shows it: real changes, formatted.
	hist := staff.pressLatest("hs:5.2.1|SKHCN", "Lịch sử chỉ số 5.2.1")
	for _, want := range []string{"→ 29", "Trả lại", "Thiếu danh mục hợp đồng ký năm 2023"} {
		if !strings.Contains(hist.Text, want) {
			t.Fatalf("history %q lacks %q", hist.Text, want)
		}
	}
	sub, _ = st.Submission(ctx, "5.2.1", "SKHCN")
	staff.pressLatest("ra:5.2.1|SKHCN|"+strconv.Itoa(sub.Version), "Đã duyệt")

	// The database holds exactly what was confirmed.
	want := map[string]struct {
		value    string
		status   domain.SubmissionStatus
		evidence int
		doc      string
	}{
		"2.2.1": {"12.5", domain.StatusSubmitted, 3, "15/BC-SKHCN"},
		"2.2.3": {"0.45", domain.StatusSubmitted, 1, "88/QĐ-SKHCN"},
		"5.2.1": {"29", domain.StatusApproved, 1, "21/DM-SKHCN"},
	}
	subs, err := st.Submissions(ctx, "SKHCN")
	if err != nil {
		t.Fatal(err)
	}
	if len(subs) != 3 {
		t.Fatalf("SKHCN has %d submissions, want 3: %+v", len(subs), subs)
	}
	for _, s := range subs {
		w := want[s.Indicator]
		if s.Value != w.value || s.Status != w.status || len(s.Evidence) != w.evidence || s.DocNumber != w.doc || s.By != "DB097" {
			t.Errorf("%s = value %q status %s evidence %d doc %q by %s; want %+v", s.Indicator, s.Value, s.Status, len(s.Evidence), s.DocNumber, s.By, w)
		}
	}
	if s := subs[0]; s.Indicator == "2.2.1" && (s.Evidence[0].Group != "album-221" || s.Evidence[0].SHA256 == "") {
		t.Errorf("album evidence = %+v", s.Evidence)
	}
	h, err := st.SubmissionHistory(ctx, "5.2.1", "SKHCN")
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, c := range h {
		if c.Action != "draft" { // every confirmed step of the entry is also kept as a draft
			actions = append(actions, c.Action)
		}
	}
	if got := strings.Join(actions, ","); got != "submit,return,submit,approve" {
		t.Errorf("5.2.1 history = %s", got)
	}

	// The Excel export, from chat, read back.
	staff.do(func() int { return api.SendCommand(staff.id, "xuat", "") }, 1)
	staff.pressLatest("ex:xlsx", "chuẩn bị")
	var doc telegramtest.SentDocument
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if docs := api.Documents(staff.id); len(docs) > 0 {
			doc = docs[0]
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if doc.Data == nil || !strings.HasSuffix(doc.Name, ".xlsx") {
		t.Fatalf("no Excel file sent to staff (got %+v)", doc.Name)
	}
	checkExport(t, doc.Data, map[string]float64{"2.2.1": 12.5, "2.2.3": 0.45, "5.2.1": 29})
}

// checkExport finds each indicator's SKHCN row on the "Tất cả" sheet and
// checks its value is that number, stored as a number.
func checkExport(t *testing.T, data []byte, want map[string]float64) {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("open export: %v", err)
	}
	defer f.Close()
	rows, err := f.GetRows("Tất cả")
	if err != nil {
		t.Fatalf("sheet Tất cả: %v (sheets %v)", err, f.GetSheetList())
	}
	// The table starts under the header block (title, campaign, time).
	top := slices.IndexFunc(rows, func(r []string) bool { return len(r) > 0 && r[0] == "Mã chỉ số" })
	if top < 1 || rows[0][0] != "BÁO CÁO SỐ LIỆU CHỈ SỐ" {
		t.Fatalf("no header block and table header in %q", rows[:min(len(rows), 6)])
	}
	col := map[string]int{}
	for i, h := range rows[top] {
		col[h] = i
	}
	for _, h := range []string{"Mã chỉ số", "Đơn vị cung cấp", "Giá trị", "Trạng thái", "Cảnh báo"} {
		if _, ok := col[h]; !ok {
			t.Fatalf("no column %q in %v", h, rows[top])
		}
	}
	found := 0
	for r, row := range rows[top+1:] {
		if len(row) <= col["Giá trị"] || !strings.Contains(row[col["Đơn vị cung cấp"]], "Khoa học và Công nghệ") {
			continue
		}
		w, ok := want[row[col["Mã chỉ số"]]]
		if !ok {
			continue
		}
		cell, _ := excelize.CoordinatesToCellName(col["Giá trị"]+1, top+r+2)
		raw, err := f.GetCellValue("Tất cả", cell, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		typ, _ := f.GetCellType("Tất cả", cell)
		got, perr := strconv.ParseFloat(raw, 64)
		if st, _ := f.GetCellStyle("Tất cả", cell); perr == nil {
			if style, _ := f.GetStyle(st); style != nil && style.CustomNumFmt != nil && strings.HasSuffix(*style.CustomNumFmt, "%") {
				got = math.Round(got*100*1e9) / 1e9 // a true percentage: 12,5 % is stored as 0.125
			}
		}
		if perr != nil || got != w || typ == excelize.CellTypeSharedString || typ == excelize.CellTypeInlineString {
			t.Errorf("%s: cell %s = %q (type %v); want the number %v", row[col["Mã chỉ số"]], cell, raw, typ, w)
		}
		found++
	}
	if found != len(want) {
		t.Fatalf("found %d of %d indicator rows in the export", found, len(want))
	}
}

// Two focal points of one agency (SKHCN's DB097 and DB096 share 2.2.1)
// over Telegram, on PostgreSQL and Redis: the one whose copy is older is
// told plainly that nothing was sent, with the value now stored and who
// sent it, and can send theirs over it; the database and its history hold
// only what was stored.
func TestTwoFocalPointsOneIndicator(t *testing.T) {
	api := telegramtest.New(t, botToken)
	env := serverEnv(t, api.URL())
	env["DIEUPHOI_CLOCK_START"] = "2024-08-10T09:00:00+07:00"
	_, stop := startRun(t, env)
	defer stop()
	ctx := context.Background()
	st, err := postgres.Open(ctx, env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	dir, err := st.Directory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	khaiP, _ := dir.Person("DB097")
	haP, _ := dir.Person("DB096")
	khai := &telegramUser{t: t, api: api, id: 7101}
	ha := &telegramUser{t: t, api: api, id: 7102}
	khai.joined(func() int { return api.ShareContact(khai.id, khaiP.Phone, khai.id) }, "2.2.1")
	ha.joined(func() int { return api.ShareContact(ha.id, haP.Phone, ha.id) }, "2.2.1")

	// Khải enters 2.2.1 up to the summary.
	khai.pressLatest("ind:2.2.1", "Xin nhập giá trị")
	khai.text("12,5", "12,5")
	khai.pressLatest("iv:ok", "minh chứng")
	khai.do(func() int { return api.SendDocument(khai.id, "Bao cao 2023.pdf", "application/pdf", pdf) }, 1)
	khai.pressLatest("ev:done", "Số/ký hiệu")
	khai.text("15/BC-SKHCN", "Ngày ban hành")
	khai.text("20/07/2024", "Ghi chú")
	khai.pressLatest("nt:skip", "Xin kiểm tra trước khi gửi")

	// Meanwhile Hà opens it (from Khải's draft), changes the value, sends.
	ha.pressLatest("ind:2.2.1", "Ghi chú")
	ha.pressLatest("nt:skip", "Xin kiểm tra trước khi gửi")
	ha.pressLatest("sm:edit", "sửa phần nào")
	ha.pressLatest("ed:value", "Xin nhập giá trị")
	ha.text("13", "13")
	ha.pressLatest("iv:ok", "Xin kiểm tra trước khi gửi")
	ha.pressLatest("sm:send", "Đã gửi chỉ số 2.2.1")

	// Khải sends the copy he holds: not sent, and he is told so.
	m := khai.pressLatest("sm:send", "CHƯA được lưu")
	if !strings.Contains(m.Text, "Nguyễn Thị Thu Hà") || !strings.Contains(m.Text, "13") || !strings.Contains(m.Text, "12,5") {
		t.Errorf("conflict message = %q", m.Text)
	}
	for _, msg := range api.Messages(khai.id)[len(api.Messages(khai.id))-2:] {
		if strings.Contains(msg.Text, "Đã gửi") {
			t.Fatalf("Khải was told %q", msg.Text)
		}
	}
	history := func() string {
		h, err := st.SubmissionHistory(ctx, "2.2.1", "SKHCN")
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range h {
			if c.Action != "draft" {
				out = append(out, c.By+":"+c.Action+":"+c.NewValue)
			}
		}
		return strings.Join(out, " ")
	}
	if sub, err := st.Submission(ctx, "2.2.1", "SKHCN"); err != nil || sub.Value != "13" || sub.By != "DB096" {
		t.Fatalf("stored = %+v, %v; want Hà's 13", sub, err)
	}
	if h := history(); h != "DB096:submit:13" {
		t.Fatalf("history = %q; want Hà's submit only", h)
	}
	// He sends his value over it, knowingly.
	khai.pressLatest("sm:send", "Đã gửi chỉ số 2.2.1")
	if h := history(); h != "DB096:submit:13 DB097:submit:12.5" {
		t.Fatalf("history = %q", h)
	}
}
