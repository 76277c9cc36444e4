package zalo

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/bot/filelink"
	"github.com/dieuphoi/dieuphoi/bot/zalo/zalotest"
	"github.com/dieuphoi/dieuphoi/flows"
)

type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

var linkRE = regexp.MustCompile(`https?://\S+/files/\S+`)

// Files go to Zalo as file or image messages when Zalo takes them, and as a
// signed, expiring download link otherwise.
func TestSendFiles(t *testing.T) {
	clk := &testClock{now: time.Now()}
	mux := http.NewServeMux()
	web := httptest.NewServer(mux)
	t.Cleanup(web.Close)
	links, err := filelink.New(filelink.Config{Dir: t.TempDir(), Key: bytes.Repeat([]byte("k"), 32), PublicURL: web.URL, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	links.Routes(mux)
	s := newSetup(t, func(c *Config) { c.Links = links })
	ctx := context.Background()
	pdf := []byte("%PDF-1.4 báo cáo")
	png := []byte("\x89PNG\r\n\x1a\n....")
	ics := []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
	big := bytes.Repeat([]byte("x"), zalotest.MaxFileSize+1)

	send := func(r flows.Reply) []zalotest.Message {
		t.Helper()
		before := len(s.srv.Messages("u1"))
		if err := s.a.Send(ctx, "u1", []flows.Reply{r}); err != nil {
			t.Fatalf("send %s: %v", r.File.Name, err)
		}
		return s.srv.Messages("u1")[before:]
	}
	fetch := func(link string) (int, string, []byte) {
		t.Helper()
		res, err := http.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, res.Header.Get("Content-Type"), body
	}

	// A PDF with a text: the text, then the uploaded file.
	got := send(flows.Reply{Text: "Báo cáo đây", File: &flows.File{Name: "bao-cao.pdf", MIME: "application/pdf", Data: pdf}})
	if len(got) != 2 || got[0].Text != "Báo cáo đây" || got[1].File == nil || got[1].File.Name != "bao-cao.pdf" || !bytes.Equal(got[1].File.Data, pdf) {
		t.Fatalf("pdf: %+v", got)
	}
	// A PNG: an image message.
	got = send(flows.Reply{File: &flows.File{Name: "the.png", MIME: "image/png", Data: png}})
	if len(got) != 1 || got[0].Image == nil || !bytes.Equal(got[0].Image.Data, png) {
		t.Fatalf("png: %+v", got)
	}

	// A calendar file, which Zalo does not take: a link that downloads it.
	got = send(flows.Reply{Text: "Đã ghi nhận", File: &flows.File{Name: "pii-2024.ics", MIME: "text/calendar; charset=utf-8", Data: ics}})
	if len(got) != 2 || got[1].File != nil || !strings.Contains(got[1].Text, "pii-2024.ics") || !strings.Contains(got[1].Text, "24 giờ") {
		t.Fatalf("ics: %+v", got)
	}
	link := linkRE.FindString(got[1].Text)
	if code, typ, body := fetch(link); code != 200 || typ != "text/calendar; charset=utf-8" || !bytes.Equal(body, ics) {
		t.Fatalf("GET link = %d %q %q", code, typ, body)
	}
	// Altered links are refused: another signature, type, name or expiry.
	for label, bad := range map[string]string{
		"signature": regexp.MustCompile(`sig=[0-9a-f]`).ReplaceAllStringFunc(link, otherHexDigit),
		"type":      strings.Replace(link, "t=text%2Fcalendar", "t=text%2Fhtml", 1),
		"name":      strings.Replace(link, "pii-2024.ics", "pii-2024.html", 1),
		"expiry":    regexp.MustCompile(`exp=\d`).ReplaceAllStringFunc(link, otherHexDigit),
	} {
		if bad == link {
			t.Fatalf("%s: the link was not altered: %s", label, link)
		}
		if code, _, _ := fetch(bad); code != http.StatusForbidden {
			t.Errorf("altered %s: %d, want 403", label, code)
		}
	}
	clk.Add(filelink.DefaultTTL + time.Minute)
	if code, _, _ := fetch(link); code != http.StatusGone {
		t.Errorf("expired link: %d, want 410", code)
	}

	// Over Zalo's 5 MB: a link, not an upload.
	got = send(flows.Reply{File: &flows.File{Name: "lon.pdf", MIME: "application/pdf", Data: big}})
	if len(got) != 1 || got[0].File != nil || linkRE.FindString(got[0].Text) == "" {
		t.Fatalf("big pdf: %+v", got)
	}
	// An upload Zalo refuses: a link too.
	s.srv.FailNext("/v2.0/oa/upload/file", 1, zalotest.CodeUploadRefused)
	got = send(flows.Reply{File: &flows.File{Name: "x.docx", MIME: "application/octet-stream", Data: []byte("PK..")}})
	if len(got) != 1 || linkRE.FindString(got[0].Text) == "" {
		t.Fatalf("refused upload: %+v", got)
	}
	checkNoSecrets(t, "logs", s.logs.String(), s.access, s.refr)
}

// otherHexDigit changes the last character of s ("sig=3", "exp=1") to
// another digit, so the altered link always differs (a fixed replacement
// left it unchanged whenever the signature began with that digit).
func otherHexDigit(s string) string {
	if s[len(s)-1] == '0' {
		return s[:len(s)-1] + "1"
	}
	return s[:len(s)-1] + "0"
}
