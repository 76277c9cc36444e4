package main

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/dieuphoi/dieuphoi/bot"
	"github.com/dieuphoi/dieuphoi/bot/telegram/telegramtest"
	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/storage/postgres"
	"github.com/dieuphoi/dieuphoi/storage/sqlstore"
)

// consoleClient is a staff member's browser on the console.
type consoleClient struct {
	t    *testing.T
	base string
	http *http.Client
	csrf string
}

// signInConsole asks for a sign-in link in chat and opens it.
func signInConsole(t *testing.T, base string, s *telegramUser) *consoleClient {
	t.Helper()
	link := s.expect(func() int { return s.api.SendCommand(s.id, "dangnhap", "") }, "Đường dẫn đăng nhập")
	u := link.Inline[0][0].URL
	path := u[strings.Index(u, "/admin/"):]
	jar, _ := cookiejar.New(nil)
	c := &consoleClient{t: t, base: base, http: &http.Client{Jar: jar}}
	resp, err := c.http.PostForm(base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	_, body := c.get("/admin/meeting")
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no console session: %s", body)
	}
	c.csrf = m[1]
	return c
}

func (c *consoleClient) get(path string) (int, string) {
	c.t.Helper()
	resp, err := c.http.Get(c.base + path)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (c *consoleClient) post(path string, form url.Values) (int, string) {
	c.t.Helper()
	form.Set("csrf", c.csrf)
	resp, err := c.http.PostForm(c.base+path, form)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (c *consoleClient) upload(title, name string, data []byte) (int, string) {
	c.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("csrf", c.csrf)
	_ = mw.WriteField("title", title)
	_ = mw.WriteField("item", "5")
	fw, _ := mw.CreateFormFile("file", name)
	_, _ = fw.Write(data)
	_ = mw.Close()
	resp, err := c.http.Post(c.base+"/admin/meeting/docs", mw.FormDataContentType(), &buf)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func messageWith(t *testing.T, api *telegramtest.Server, chat int64, want string) telegramtest.SentMessage {
	t.Helper()
	return waitFor(t, api, chat, want)
}

// During the conference, over Telegram with PostgreSQL and Redis: staff
// attach a document in the console (a file that is not a document is
// refused); a delegate gets it with /tailieu and opens its web link (both
// counted on the console); a question on that document and a speaking
// request reach the console's queue, and each delegate is told when staff
// answer or give the floor; a vote goes to the two delegates who checked
// in, they answer and one changes, results show on the console, a late
// answer after closing is refused and changes nothing, and the results
// export to Excel.
func TestMeetingQuestionsSpeakingAndVotes(t *testing.T) {
	api := telegramtest.New(t, botToken)
	env := serverEnv(t, api.URL())
	env["DIEUPHOI_PUBLIC_URL"] = "https://hoinghi.example.vn"
	env["DIEUPHOI_CLOCK_START"] = "2024-08-02T09:50:00+07:00" // the discussion (9h45–10h45)
	base, stop := startRun(t, env)
	defer stop()

	ctx := context.Background()
	st, err := postgres.Open(ctx, env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	dir, _ := st.Directory(ctx)
	var delegates []domain.Person
	for _, p := range dir.People() {
		if p.Has(domain.RoleDelegate) && !p.Has(domain.RoleStaff) && !p.Has(domain.RoleFocal) {
			delegates = append(delegates, p)
		}
	}
	staffP, _ := dir.Person("DB090")
	s := &telegramUser{t: t, api: api, id: 9100}
	s.joined(func() int { return api.ShareContact(s.id, staffP.Phone, s.id) }, "📅 Hội nghị triển khai")
	console := signInConsole(t, base, s)

	// A document, and a file that is not one.
	pdf := []byte("%PDF-1.4\n% Khung chi so PII 2024\n%%EOF\n")
	if code, body := console.upload("Khung chỉ số PII 2024", "khung-pii.pdf", pdf); code != http.StatusOK || !strings.Contains(body, "Đã đăng tài liệu") {
		t.Fatalf("upload: %d %s", code, body)
	}
	if code, body := console.upload("Bản giới thiệu", "gioi-thieu.pdf", []byte("MZ\x90\x00 not a pdf")); code != http.StatusUnsupportedMediaType ||
		!strings.Contains(body, "không phải tài liệu") {
		t.Fatalf("a file that is not a document: %d %s", code, body)
	}
	all, err := st.MeetingDocs(ctx, "pii-2024", true)
	var docs []domain.MeetingDoc
	for _, d := range all {
		if d.CreatedBy != "" { // not the example's, imported at start (configs/example/documents.csv)
			docs = append(docs, d)
		}
	}
	if err != nil || len(docs) != 1 || len(all) != 5 {
		t.Fatalf("documents stored = %+v %v; want the example's four and only the PDF uploaded", all, err)
	}
	doc := docs[0]
	evID := doc.EventID

	a := &telegramUser{t: t, api: api, id: 9101}
	a.joined(func() int { return api.SendCommand(a.id, "start", delegates[0].InviteToken) }, "Hội nghị")
	b := &telegramUser{t: t, api: api, id: 9102}
	b.joined(func() int { return api.SendCommand(b.id, "start", delegates[1].InviteToken) }, "Hội nghị")

	// /tailieu: the document in chat, then its web link opened.
	// The example's three (the internal one not) and the one uploaded.
	a.expect(func() int { return api.SendCommand(a.id, "tailieu", "") }, "Tài liệu Hội nghị (4)")
	var got telegramtest.SentDocument
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end) && got.Data == nil; time.Sleep(50 * time.Millisecond) {
		for _, d := range api.Documents(a.id) {
			if d.Name == "khung-pii.pdf" {
				got = d
			}
		}
	}
	if got.Name != "khung-pii.pdf" || !bytes.Equal(got.Data, pdf) || !strings.Contains(got.Markup, "https://hoinghi.example.vn/tailieu/") {
		t.Fatalf("document in chat = %q %q markup %q", got.Name, got.Data, got.Markup)
	}
	link := regexp.MustCompile(`https://hoinghi\.example\.vn(/tailieu/[^"]+)`).FindStringSubmatch(got.Markup)[1]
	resp, err := http.Get(base + link)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(body, pdf) || resp.Header.Get("Content-Security-Policy") != "sandbox" {
		t.Fatalf("web link: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	key, _ := st.ServerKey(ctx, "meeting-doc-links")
	forged := (&bot.DocLinks{Key: key, Base: base}).URL(evID, doc.ID, delegates[1].ID)
	if resp, _ := http.Get(strings.Replace(forged, delegates[1].ID+"/", delegates[0].ID+"/", 1)); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("a link signed for someone else opened: %d", resp.StatusCode)
	}
	_, page := console.get("/admin/meeting/docs")
	if !regexp.MustCompile(`data-label="Đã nhận" class="n">1</td>\s*<td data-label="Đã mở" class="n">1`).MatchString(page) {
		t.Fatalf("document figures on the console (want 1 received, 1 opened):\n%s", page)
	}

	// A question on the document; one too long is refused.
	a.expect(func() int { return api.SendCommand(a.id, "cauhoi", strings.Repeat("a", 1001)) }, "quá giới hạn 1000 ký tự")
	a.expect(func() int { return api.SendCommand(a.id, "cauhoi", "") }, "về nội dung nào")
	a.pressLatest("mt:s:d"+strconv.FormatInt(doc.ID, 10), "Khung chỉ số PII 2024")
	a.text("Chỉ số 2.2.1 tính theo năm nào?", "Đã gửi câu hỏi")
	// A speaking request with its topic.
	b.expect(func() int {
		return api.SendCommand(b.id, "phatbieu", "Nguồn lực đổi mới sáng tạo cấp huyện")
	}, "Đã đăng ký phát biểu")

	qs, err := st.MeetingQuestions(ctx, evID)
	if err != nil || len(qs) != 2 {
		t.Fatalf("questions stored = %+v %v", qs, err)
	}
	_, page = console.get("/admin/meeting")
	for _, want := range []string{"Chỉ số 2.2.1 tính theo năm nào?", "Nguồn lực đổi mới sáng tạo cấp huyện", delegates[0].FullName,
		delegates[1].FullName, "📎 Khung chỉ số PII 2024", "🎤 Đăng ký phát biểu"} {
		if !strings.Contains(page, want) {
			t.Errorf("the queue lacks %q", want)
		}
	}
	var question, speak domain.Question
	for _, q := range qs {
		if q.Kind == domain.QuestionSpeak {
			speak = q
		} else {
			question = q
		}
	}
	// Newest first: the speaking request came last.
	if strings.Index(page, "q-"+strconv.FormatInt(speak.ID, 10)) > strings.Index(page, "q-"+strconv.FormatInt(question.ID, 10)) {
		t.Error("the queue is not newest first")
	}
	console.post("/admin/meeting/questions/"+strconv.FormatInt(speak.ID, 10)+"/call", url.Values{})
	messageWith(t, api, b.id, "Đến lượt anh/chị phát biểu")
	console.post("/admin/meeting/questions/"+strconv.FormatInt(question.ID, 10)+"/answer", url.Values{"answer": {"Theo năm 2023, như hướng dẫn."}})
	told := messageWith(t, api, a.id, "đã được trả lời")
	if !strings.Contains(told.Text, "Theo năm 2023, như hướng dẫn.") {
		t.Fatalf("answer message = %q", told.Text)
	}
	// Answering again tells nobody twice.
	console.post("/admin/meeting/questions/"+strconv.FormatInt(question.ID, 10)+"/answer", url.Values{"answer": {"Lần nữa"}})
	time.Sleep(500 * time.Millisecond)
	n := 0
	for _, m := range api.Messages(a.id) {
		if strings.Contains(m.Text, "đã được trả lời") {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("the delegate was told %d times", n)
	}

	// A vote to those who checked in.
	for _, p := range delegates[:2] {
		if _, _, err := st.CheckIn(ctx, sqlstore.CheckIn{PersonID: p.ID, At: time.Now(), By: staffP.ID, Method: "desk"}); err != nil {
			t.Fatal(err)
		}
	}
	if code, body := console.post("/admin/meeting/votes", url.Values{"question": {"Thông qua kế hoạch triển khai PII 2024?"},
		"kind": {"options"}, "options": {"Đồng ý\nKhông đồng ý"}}); code != 200 || !strings.Contains(body, "Đã mở biểu quyết") {
		t.Fatalf("open vote: %d %s", code, body)
	}
	va := messageWith(t, api, a.id, "Biểu quyết: Thông qua kế hoạch")
	vb := messageWith(t, api, b.id, "Biểu quyết: Thông qua kế hoạch")
	data := func(m telegramtest.SentMessage, label string) string {
		for _, row := range m.Inline {
			for _, btn := range row {
				if btn.Text == label {
					return btn.Data
				}
			}
		}
		t.Fatalf("vote message %q has no %q", m.Text, label)
		return ""
	}
	a.seen, b.seen = len(api.Messages(a.id)), len(api.Messages(b.id))
	a.press(va, data(va, "Đồng ý"), "Đã ghi nhận lựa chọn «Đồng ý»")
	b.press(vb, data(vb, "Không đồng ý"), "Đã ghi nhận lựa chọn «Không đồng ý»")
	a.press(va, data(va, "Không đồng ý"), "Đã ghi nhận lựa chọn «Không đồng ý»")
	votes, _ := st.Votes(ctx, evID)
	vote := votes[0]
	_, page = console.get("/admin/meeting/live")
	if !strings.Contains(page, "(2 phiếu)") || !regexp.MustCompile(`Đồng ý</span>.*?<span class="n">0</span>`).MatchString(page) ||
		!regexp.MustCompile(`Không đồng ý</span>.*?<span class="n">2</span>`).MatchString(page) {
		t.Fatalf("live results (want 0 / 2):\n%s", page)
	}
	console.post("/admin/meeting/votes/"+strconv.FormatInt(vote.ID, 10)+"/close", url.Values{})
	b.press(vb, data(vb, "Đồng ý"), "đã kết thúc; lựa chọn này không được ghi nhận")
	answers, _ := st.VoteAnswers(ctx, vote.ID)
	if len(answers) != 2 || answers[0].Choice != 2 || answers[1].Choice != 2 {
		t.Fatalf("answers after closing = %+v; want both «Không đồng ý»", answers)
	}

	// The export.
	resp, err = console.http.Get(base + "/admin/meeting/export.xlsx")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	x, err := excelize.OpenReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("export: %v (%d)", err, resp.StatusCode)
	}
	rows, _ := x.GetRows("Kết quả")
	if len(rows) != 3 || rows[2][3] != "Không đồng ý" || rows[2][4] != "2" {
		t.Fatalf("results sheet = %v", rows)
	}
	rows, _ = x.GetRows("Phiếu")
	if len(rows) != 3 {
		t.Fatalf("answers sheet = %v", rows)
	}
	rows, _ = x.GetRows("Câu hỏi")
	if len(rows) != 3 {
		t.Fatalf("questions sheet = %v", rows)
	}
}
