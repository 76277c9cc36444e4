package telegram

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/dieuphoi/dieuphoi/bot"
	"github.com/dieuphoi/dieuphoi/bot/telegram/telegramtest"
	"github.com/dieuphoi/dieuphoi/flows"
)

func TestSendRendering(t *testing.T) {
	s := newSetup(t)
	const chat = 901
	err := s.a.Send(context.Background(), "901", []flows.Reply{
		{Text: "Xin chào! <b>không</b> phải *markup*", AskContact: true},
		{Text: "Anh/chị có tham dự?", Buttons: [][]flows.Button{
			{{Label: "Có", Data: "rsvp:attend"}, {Label: "Không", Data: "rsvp:decline"}},
			{{Label: "Cử người thay", Data: "rsvp:substitute"}},
		}},
		{Text: "Cảm ơn anh/chị."},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := s.srv.Messages(chat)
	if len(got) != 3 {
		t.Fatalf("sent %d messages", len(got))
	}
	c := got[0]
	if c.Text != "Xin chào! <b>không</b> phải *markup*" || c.ParseMode != "" || !c.RequestsContact ||
		!c.OneTime || !c.Resize || c.Inline != nil || len(c.Keyboard) != 1 || len(c.Keyboard[0]) != 1 {
		t.Errorf("contact keyboard message: %+v", c)
	}
	in := got[1]
	if len(in.Inline) != 2 || len(in.Inline[0]) != 2 || in.Inline[0][1].Data != "rsvp:decline" ||
		in.Inline[1][0].Text != "Cử người thay" || in.RemoveKeyboard {
		t.Errorf("inline keyboard message: %+v", in)
	}
	if p := got[2]; !p.RemoveKeyboard || p.Inline != nil || p.Keyboard != nil {
		t.Errorf("plain message should remove the reply keyboard: %+v", p)
	}
}

// A link button (the group note's «open a private chat») is a url button.
func TestSendLinkButton(t *testing.T) {
	s := newSetup(t)
	if err := s.a.Send(context.Background(), "-100300", []flows.Reply{flows.GroupNote("vi", "https://t.me/dieuphoi_bot")}); err != nil {
		t.Fatal(err)
	}
	m := s.srv.Messages(-100300)[0]
	if len(m.Inline) != 1 || m.Inline[0][0].URL != "https://t.me/dieuphoi_bot" || m.Inline[0][0].Data != "" ||
		!strings.Contains(m.Text, "tin nhắn riêng") {
		t.Errorf("group note: %+v", m)
	}
}

func TestSendSplitsLongText(t *testing.T) {
	s := newSetup(t)
	var b strings.Builder
	for i := 0; b.Len() < 12000; i++ {
		b.WriteString("Dòng thứ ")
		b.WriteString(strings.Repeat("ệ", i%50))
		b.WriteString(" 🎉\n")
	}
	text := strings.TrimSpace(b.String())
	err := s.a.Send(context.Background(), "902", []flows.Reply{{Text: text,
		Buttons: [][]flows.Button{{{Label: "OK", Data: "ok"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	got := s.srv.Messages(902)
	if len(got) < 2 {
		t.Fatalf("long text sent as %d messages", len(got))
	}
	var parts []string
	for i, m := range got {
		if n := len(utf16.Encode([]rune(m.Text))); n > MaxMessageLen {
			t.Errorf("part %d is %d units", i, n)
		}
		if !strings.HasSuffix(m.Text, "🎉") {
			t.Errorf("part %d not cut at a line end: …%q", i, m.Text[max(0, len(m.Text)-20):])
		}
		if (m.Inline != nil) != (i == len(got)-1) {
			t.Errorf("part %d: keyboard %v; want it on the last part only", i, m.Inline)
		}
		parts = append(parts, m.Text)
	}
	if strings.Join(parts, "\n") != text {
		t.Error("parts do not join back to the text")
	}
}

func TestSplitText(t *testing.T) {
	for _, c := range []struct {
		in    string
		limit int
		want  []string
	}{
		{"short", 10, []string{"short"}},
		{"aaaa\nbbbb\ncccc", 10, []string{"aaaa\nbbbb", "cccc"}},
		{"one two three four", 9, []string{"one two", "three", "four"}},
		{"abcdefghij", 4, []string{"abcd", "efgh", "ij"}},
		{"😀😀😀", 4, []string{"😀😀", "😀"}},
		{"", 4, nil},
	} {
		got := splitText(c.in, c.limit)
		if strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("splitText(%q, %d) = %q, want %q", c.in, c.limit, got, c.want)
		}
	}
}

func TestSendRejectsOversizeCallbackData(t *testing.T) {
	s := newSetup(t)
	err := s.a.Send(context.Background(), "903", []flows.Reply{{Text: "x",
		Buttons: [][]flows.Button{{{Label: "x", Data: strings.Repeat("d", 65)}}}}})
	if err == nil {
		t.Fatal("65-byte callback data accepted")
	}
	if n := len(s.srv.Messages(903)); n != 0 {
		t.Errorf("%d messages sent", n)
	}
}

func TestSendRetriesFloodLimit(t *testing.T) {
	s := newSetup(t)
	s.srv.FailNext("sendMessage", 1, 429, 1)
	start := time.Now()
	if err := s.a.Send(context.Background(), "904", []flows.Reply{{Text: "chào"}}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 950*time.Millisecond {
		t.Errorf("retried after %v, want retry_after 1s honoured", d)
	}
	if n := len(s.srv.Messages(904)); n != 1 {
		t.Errorf("%d messages sent, want 1", n)
	}
	if n := s.srv.Calls("sendMessage"); n != 2 {
		t.Errorf("sendMessage called %d times, want 2", n)
	}

	// Bounded: a flood limit that persists is an error, and so is one longer
	// than the adapter is willing to wait.
	s.a.sendRetries = 2
	s.srv.FailNext("sendMessage", 3, 429, 0)
	if err := s.a.Send(context.Background(), "904", []flows.Reply{{Text: "chào"}}); err == nil {
		t.Error("persistent 429 not reported")
	}
	s.srv.FailNext("sendMessage", 1, 429, 3600)
	start = time.Now()
	if err := s.a.Send(context.Background(), "904", []flows.Reply{{Text: "chào"}}); err == nil || time.Since(start) > time.Second {
		t.Errorf("retry_after 3600: %v after %v", err, time.Since(start))
	}
	// The wait respects the context.
	s.srv.FailNext("sendMessage", 1, 429, 5)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := s.a.Send(ctx, "904", []flows.Reply{{Text: "chào"}}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("cancelled wait: %v", err)
	}
}

func TestSendBlocked(t *testing.T) {
	s := newSetup(t)
	s.srv.Block(905)
	err := s.a.Send(context.Background(), "905", []flows.Reply{{Text: "chào"}})
	if !errors.Is(err, ErrBlocked) || !strings.Contains(err.Error(), "blocked") {
		t.Errorf("Send to a blocking user: %v", err)
	}
	if err := s.a.Send(context.Background(), "abc", []flows.Reply{{Text: "x"}}); err == nil {
		t.Error("bad chat id accepted")
	}
}

func TestDownloadFile(t *testing.T) {
	s := newSetup(t)
	data := []byte(strings.Repeat("xlsx-bytes;", 100))
	id := s.srv.AddFile("danh-sach.xlsx", data)
	got, err := s.a.DownloadFile(context.Background(), id, int64(len(data)))
	if err != nil || string(got) != string(data) {
		t.Fatalf("download: %d bytes, %v", len(got), err)
	}
	if _, err := s.a.DownloadFile(context.Background(), id, int64(len(data)-1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("over the limit: %v", err)
	}
	_, err = s.a.DownloadFile(context.Background(), "no-such-file", 1<<20)
	if err == nil || strings.Contains(err.Error(), testToken) {
		t.Errorf("unknown file: %v", err)
	}
	// A failed download reports the status, never the token-bearing URL.
	s.srv.FailNext("file", 1, 404, 0)
	if _, err := s.a.DownloadFile(context.Background(), id, 1<<20); err == nil || strings.Contains(err.Error(), testToken) {
		t.Errorf("download failure: %v", err)
	}
}

// A 400 (or a method the server does not have) is a refusal for good: the
// error says so (bot.ErrRefused), so that nobody retries it; a 500 is not.
func TestSendRefusalIsPermanent(t *testing.T) {
	for _, tc := range []struct {
		name    string
		method  string
		code    int
		refused bool
	}{
		{"document 400", "sendDocument", 400, true},
		{"message 400", "sendMessage", 400, true},
		{"message: method not found (404)", "sendMessage", 404, true},
		{"document: method not allowed (405)", "sendDocument", 405, true},
		{"message: not implemented (501)", "sendMessage", 501, true},
		{"document 500", "sendDocument", 500, false},
		{"message 502", "sendMessage", 502, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSetup(t)
			s.srv.FailNextWith(tc.method, 1, tc.code, 0, map[int]string{404: "Not Found: method not found",
				405: "Method Not Allowed", 501: "Not Implemented"}[tc.code])
			reply := flows.Reply{Text: "chào"}
			if tc.method == "sendDocument" {
				reply.File = &flows.File{Name: "hoinghi.ics", MIME: "text/calendar", Data: []byte("BEGIN:VCALENDAR")}
			}
			err := s.a.Send(context.Background(), "905", []flows.Reply{reply})
			if err == nil || errors.Is(err, bot.ErrRefused) != tc.refused {
				t.Fatalf("Send = %v; refused %v, want %v", err, errors.Is(err, bot.ErrRefused), tc.refused)
			}
		})
	}
}

// The console's sign-in link is a URL button, not a callback: tapping it
// opens the link, and the link is not in the text to copy.
func TestSendLinkIsAURLButton(t *testing.T) {
	s := newSetup(t)
	const chat = 905
	err := s.a.Send(context.Background(), "905", []flows.Reply{{
		Text: "🔐 Đường dẫn đăng nhập trang quản trị.",
		Link: &flows.LinkButton{Label: "🔐 Mở trang quản trị", URL: "https://pii.example.vn/admin/signin/abc"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	got := s.srv.Messages(chat)
	if len(got) != 1 || len(got[0].Inline) != 1 || len(got[0].Inline[0]) != 1 {
		t.Fatalf("sent %+v", got)
	}
	b := got[0].Inline[0][0]
	if b.URL != "https://pii.example.vn/admin/signin/abc" || b.Data != "" || b.Text != "🔐 Mở trang quản trị" {
		t.Fatalf("button %+v", b)
	}
	if err := s.a.Send(context.Background(), "905", []flows.Reply{{Text: "x", Link: &flows.LinkButton{Label: "x", URL: "javascript:alert(1)"}}}); err == nil {
		t.Fatal("a javascript: link was sent as a button")
	}
}

// Telegram refuses URL buttons to local addresses, so a demo's link is
// written out instead of being lost with the whole message.
func TestSendLocalLinkIsWrittenOut(t *testing.T) {
	s := newSetup(t)
	for i, u := range []string{"http://127.0.0.1:8080/admin/signin/x", "http://localhost:8080/admin/signin/x", "http://192.168.1.5/admin/signin/x"} {
		chat := int64(910 + i)
		err := s.a.Send(context.Background(), strconv.FormatInt(chat, 10), []flows.Reply{{Text: "🔐 Đăng nhập.", Link: &flows.LinkButton{Label: "Mở", URL: u}}})
		if err != nil {
			t.Fatal(err)
		}
		got := s.srv.Messages(chat)
		if len(got) != 1 || got[0].Text != "🔐 Đăng nhập.\n"+u || len(got[0].Inline) != 0 {
			t.Errorf("%s: sent %+v", u, got)
		}
	}
}

// A 429 on a document (the calendar file) is waited out like one on a
// message, and every process is told (OnFlood), instead of failing the
// reply and the update with it.
func TestSendDocumentWaitsOutFloodLimit(t *testing.T) {
	s := newSetup(t)
	var told []time.Time
	s.a.onFlood = func(until time.Time) { told = append(told, until) }
	s.srv.FailNext("sendDocument", 1, 429, 1)
	start := time.Now()
	err := s.a.Send(context.Background(), "906", []flows.Reply{{Text: "📅", File: &flows.File{Name: "hoinghi.ics", MIME: "text/calendar", Data: []byte("BEGIN:VCALENDAR")}}})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 950*time.Millisecond {
		t.Errorf("retried after %v, want retry_after 1s honoured", d)
	}
	if n := s.srv.Calls("sendDocument"); n != 2 {
		t.Errorf("sendDocument called %d times, want 2", n)
	}
	if len(told) != 1 || told[0].Before(start.Add(900*time.Millisecond)) {
		t.Errorf("OnFlood told %v, want once, about a second on", told)
	}
}

// Every request that sends a message is admitted by Config.Admit right
// before it goes out and reported done once answered — each part of a
// long text, a document, the retry after a 429 too (its own admission, not
// on top of the budget) — and a permanent refusal is admitted once, never
// retried.
func TestSendAdmitsEveryRequest(t *testing.T) {
	var mu sync.Mutex
	var events []string
	s := newSetup(t, func(c *Config) {
		c.Admit = func(ctx context.Context, chat string) (func(), error) {
			mu.Lock()
			events = append(events, "admit "+chat)
			mu.Unlock()
			return func() {
				mu.Lock()
				events = append(events, "done "+chat)
				mu.Unlock()
			}, nil
		}
	})
	take := func() []string {
		mu.Lock()
		defer mu.Unlock()
		out := events
		events = nil
		return out
	}
	for _, tc := range []struct {
		name     string
		prepare  func()
		replies  []flows.Reply
		requests int
		wantErr  bool
	}{
		{"two parts and a document", nil, []flows.Reply{{Text: strings.Repeat("a\n", 3000)},
			{Text: "📅", File: &flows.File{Name: "hoinghi.ics", MIME: "text/calendar", Data: []byte("BEGIN:VCALENDAR")}}}, 3, false},
		{"a 429 and its retry", func() { s.srv.FailNext("sendMessage", 1, 429, 1) }, []flows.Reply{{Text: "chào"}}, 2, false},
		{"a 400 is not retried", func() { s.srv.FailNext("sendMessage", 1, 400, 0) }, []flows.Reply{{Text: "chào"}}, 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.prepare != nil {
				tc.prepare()
			}
			err := s.a.Send(context.Background(), "907", tc.replies)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Send = %v", err)
			}
			var want []string
			for range tc.requests {
				want = append(want, "admit 907", "done 907")
			}
			if got := take(); !slices.Equal(got, want) {
				t.Errorf("events %v, want %v", got, want)
			}
		})
	}
	// A context that ends while waiting to be admitted sends nothing.
	s.a.admit = func(ctx context.Context, chat string) (func(), error) { <-ctx.Done(); return nil, ctx.Err() }
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	calls := s.srv.Calls("sendMessage")
	if err := s.a.Send(ctx, "908", []flows.Reply{{Text: "chào"}}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Send while not admitted = %v", err)
	}
	if n := s.srv.Calls("sendMessage"); n != calls {
		t.Errorf("%d requests made without admission", n-calls)
	}
}

// A file sent once goes again by the file_id Telegram gave it — a small
// form request instead of an upload — and arrives the same (name and
// content); other content is uploaded anew; a file_id Telegram no longer
// accepts (400) is forgotten and the file uploaded again, the user getting
// it once.
func TestSendDocumentAgainByFileID(t *testing.T) {
	s := newSetup(t)
	ctx := context.Background()
	ics := func(data string) []flows.Reply {
		return []flows.Reply{{Text: "📅 Lịch hội nghị", File: &flows.File{Name: "hoinghi.ics", MIME: "text/calendar", Data: []byte(data)}}}
	}
	one := func(chat int64) telegramtest.SentDocument {
		t.Helper()
		docs := s.srv.Documents(chat)
		if len(docs) != 1 {
			t.Fatalf("chat %d got %d documents, want 1: %+v", chat, len(docs), docs)
		}
		return docs[0]
	}
	send := func(chat int64, data string) telegramtest.SentDocument {
		t.Helper()
		if err := s.a.Send(ctx, strconv.FormatInt(chat, 10), ics(data)); err != nil {
			t.Fatalf("Send to %d: %v", chat, err)
		}
		d := one(chat)
		if d.Name != "hoinghi.ics" || string(d.Data) != data || d.Caption != "📅 Lịch hội nghị" {
			t.Fatalf("chat %d got %q %q caption %q", chat, d.Name, d.Data, d.Caption)
		}
		return d
	}

	if d := send(921, "BEGIN:VCALENDAR A"); d.FileID != "" {
		t.Fatalf("the first send went by file_id %q, want an upload", d.FileID)
	}
	first := send(922, "BEGIN:VCALENDAR A").FileID
	if first == "" {
		t.Fatal("the second send of the same file was uploaded again, want its file_id")
	}
	if d := send(923, "BEGIN:VCALENDAR A"); d.FileID != first {
		t.Fatalf("third send by %q, want %q", d.FileID, first)
	}
	if d := send(924, "BEGIN:VCALENDAR B"); d.FileID != "" {
		t.Fatalf("other content went by file_id %q, want an upload", d.FileID)
	}

	s.srv.ForgetFile(first)
	calls := s.srv.Calls("sendDocument")
	if d := send(925, "BEGIN:VCALENDAR A"); d.FileID != "" {
		t.Fatalf("after the file_id was refused, sent by %q, want an upload", d.FileID)
	}
	if n := s.srv.Calls("sendDocument") - calls; n != 2 {
		t.Errorf("%d requests for a refused file_id, want 2 (by file_id, then the upload)", n)
	}
	again := send(926, "BEGIN:VCALENDAR A").FileID
	if again == "" || again == first {
		t.Errorf("after the new upload sent by %q, want its new file_id (not %q)", again, first)
	}
}

// BenchmarkSendDocument sends the calendar file by upload (the file_id
// forgotten each time) and by its file_id, to the fake Bot API in this
// process (its work counts too).
func BenchmarkSendDocument(b *testing.B) {
	srv := telegramtest.New(b, testToken)
	a, err := New(context.Background(), Config{Token: testToken, APIBase: srv.URL(), Handler: newRecorder(),
		Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	reply := []flows.Reply{{Text: "📅 Lịch hội nghị", File: &flows.File{Name: "hoinghi.ics", MIME: "text/calendar",
		Data: []byte(strings.Repeat("BEGIN:VCALENDAR\r\n", 60))}}}
	for _, tc := range []struct {
		name   string
		upload bool
	}{{"upload", true}, {"by_file_id", false}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if tc.upload {
					a.fileIDs = fileIDs{}
				}
				if err := a.Send(context.Background(), "930", reply); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// The keyboard's rows (one array of buttons underneath) come out as
// written, an empty row left out and the link on a row of its own.
func TestReplyMarkupRows(t *testing.T) {
	r := flows.Reply{Text: "x", Buttons: [][]flows.Button{
		{{Label: "A", Data: "a"}, {Label: "B", Data: "b"}},
		{},
		{{Label: "C", Data: "c"}},
	}, Link: &flows.LinkButton{Label: "Web", URL: "https://example.org/x"}}
	got, err := replyMarkup(r)
	want := `{"inline_keyboard":[[{"text":"A","callback_data":"a"},{"text":"B","callback_data":"b"}],[{"text":"C","callback_data":"c"}],[{"text":"Web","url":"https://example.org/x"}]]}`
	if err != nil || got != want {
		t.Fatalf("replyMarkup = %s, %v\nwant %s", got, err, want)
	}
	if got, _ := replyMarkup(flows.Reply{Text: "x", Buttons: [][]flows.Button{{{Label: "A", Data: "a"}}}}); got != `{"inline_keyboard":[[{"text":"A","callback_data":"a"}]]}` {
		t.Fatalf("one row: %s", got)
	}
}
