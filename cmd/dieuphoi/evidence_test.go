package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/bot/telegram/telegramtest"
	"github.com/dieuphoi/dieuphoi/evidence/evidencetest"
	"github.com/dieuphoi/dieuphoi/storage/postgres"
)

// A focal point sends a real report PDF over Telegram; its text is read in
// the background, the result arrives in the same chat, and the số/ký hiệu
// and the date are then one tap away. The text is kept, searchable, and
// never logged.
func TestEvidenceIsReadAndProposed(t *testing.T) {
	evidencetest.RequireTools(t, false)
	api := telegramtest.New(t, botToken)
	env := serverEnv(t, api.URL())
	env["DIEUPHOI_CLOCK_START"] = "2024-08-10T09:00:00+07:00"
	env["DIEUPHOI_READ_EVIDENCE"] = "1"
	_, logs, stop := startRunLogs(t, env)
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
	focalP, _ := dir.Person("DB097")
	focal := &telegramUser{t: t, api: api, id: 7101}
	// A focal point proves their phone (SECURITY.md) before entering data.
	focal.joined(func() int { return api.ShareContact(focal.id, focalP.Phone, focal.id) }, "2.2.1")
	focal.pressLatest("ind:2.2.1", "Xin nhập giá trị")
	focal.text("12,5", "12,5")
	focal.pressLatest("iv:ok", "minh chứng")
	m := focal.do(func() int {
		return api.SendDocument(focal.id, "Bao cao 125.pdf", "application/pdf", evidencetest.TextPDF(t))
	}, 1)
	if !strings.Contains(m.Text, "Đã nhận 1 minh chứng") {
		t.Fatalf("upload answered %q", m.Text)
	}
	// The reading comes by itself, without the chat waiting for it.
	msgs := api.WaitMessages(t, focal.id, focal.seen+1, 60*time.Second)
	focal.seen = len(msgs)
	read := msgs[len(msgs)-1].Text
	for _, want := range []string{"Đã đọc xong tệp «Bao cao 125.pdf»", "125/BC-SKHCN", "15/03/2024", "Chưa thấy giá trị 12,5"} {
		if !strings.Contains(read, want) {
			t.Errorf("reading %q lacks %q", read, want)
		}
	}
	focal.pressLatest("ev:done", "Trong tài liệu có «Số: 125/BC-SKHCN» — đúng không?")
	focal.pressLatest("dn:found", "Văn bản ghi ngày 15/03/2024")
	focal.pressLatest("dd:found", "Ghi chú")
	sub, err := st.Submission(ctx, "2.2.1", "SKHCN")
	if err != nil {
		t.Fatal(err)
	}
	if sub.DocNumber != "125/BC-SKHCN" || sub.DocDate.Format("2006-01-02") != "2024-03-15" {
		t.Fatalf("saved %q %v", sub.DocNumber, sub.DocDate)
	}
	found, err := st.SearchEvidenceText(ctx, "bc-skhcn", 10)
	if err != nil || len(found) != 1 || found[0] != sub.Evidence[0].SHA256 {
		t.Fatalf("search = %v, %v; want the uploaded file", found, err)
	}
	if strings.Contains(logs.String(), "SKHCN") || strings.Contains(logs.String(), "triệu đồng") {
		t.Error("the evidence text is in the logs")
	}
	if !strings.Contains(logs.String(), "evidence read") {
		t.Error("no log line for the reading")
	}
}
