package webchat

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/flows"
)

// uploadBody streams a multipart upload of size zero bytes followed (after
// the file, as an attacker would order it) by a caption, without holding the
// file in memory on the client side either.
func uploadBody(id, caption string, size int64) (io.Reader, string) {
	const boundary = "dieuphoi-test-boundary"
	head := fmt.Sprintf("--%s\r\nContent-Disposition: form-data; name=\"id\"\r\n\r\n%s\r\n"+
		"--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"bao-cao.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%%PDF-1.4\n",
		boundary, id, boundary)
	tail := fmt.Sprintf("\r\n--%s\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\n%s\r\n--%s--\r\n", boundary, caption, boundary)
	body := io.MultiReader(strings.NewReader(head), io.LimitReader(zeros{}, size-9), strings.NewReader(tail))
	return body, "multipart/form-data; boundary=" + boundary
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// Finding 3 of issue 10: an upload whose caption is too long was kept in
// memory for good (≈20 MB a request). Now nothing is kept, in memory or on
// disk, whatever check refuses the upload.
func TestRefusedUploadsLeaveNothing(t *testing.T) {
	dir := t.TempDir()
	f := newFixtureWith(t, func(c *Config) { c.UploadDir = dir })
	f.open("/chat")
	before := heapInUse()
	for i := 0; i < 10; i++ {
		body, ct := uploadBody(fmt.Sprintf("file-%04d", i), strings.Repeat("a", 2000), MaxFileSize-1024)
		req, _ := http.NewRequest("POST", f.srv.URL+"/chat/api/send", body)
		req.Header.Set("Content-Type", ct)
		req.Header.Set(csrfHeader, "1")
		code, b := f.do(req)
		if code != http.StatusRequestEntityTooLarge || !strings.Contains(decodeErr(t, b), "quá dài") {
			t.Fatalf("upload %d with a 2000-character caption: %d %s", i, code, b)
		}
	}
	after := heapInUse()
	grown := int64(after) - int64(before)
	t.Logf("heap before %d MB, after 10 refused 20 MB uploads %d MB", before>>20, after>>20)
	if grown > 16<<20 {
		t.Errorf("the heap grew by %d MB after 10 refused uploads; nothing should be kept", grown>>20)
	}
	if f.rec.count() != 0 {
		t.Error("a refused upload reached the dispatcher")
	}
	left, _ := os.ReadDir(dir)
	if len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

// A file that passes every check is read by the dispatcher from disk, and
// its temporary file is removed once the request ends.
func TestAcceptedUploadIsStreamedFromDisk(t *testing.T) {
	dir := t.TempDir()
	f := newFixtureWith(t, func(c *Config) { c.UploadDir = dir })
	var seen int64
	f.rec.onHandle = func() {
		in := f.rec.ins[len(f.rec.ins)-1]
		r, err := f.chat.Open(t.Context(), in.Input.Files[0], MaxFileSize)
		if err != nil {
			t.Errorf("open upload while handling: %v", err)
			return
		}
		seen, _ = io.Copy(io.Discard, r)
		r.Close()
	}
	f.open("/chat")
	body, ct := uploadBody("file-0001", "Báo cáo", 5<<20)
	req, _ := http.NewRequest("POST", f.srv.URL+"/chat/api/send", body)
	req.Header.Set("Content-Type", ct)
	req.Header.Set(csrfHeader, "1")
	if code, b := f.do(req); code != 200 {
		t.Fatalf("upload: %d %s", code, b)
	}
	if seen != 5<<20 {
		t.Errorf("the dispatcher read %d bytes, want %d", seen, 5<<20)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

// Uploads are read a few at a time: stalled ones cannot take every slot
// and the memory with them; the next upload is told to wait.
func TestConcurrentUploadsAreCapped(t *testing.T) {
	dir := t.TempDir()
	f := newFixtureWith(t, func(c *Config) { c.UploadDir = dir; c.MaxUploads = 2 })
	f.open("/chat")
	var writers []*io.PipeWriter
	errs := make(chan error, 2)
	for i := 0; i < 2; i++ {
		pr, pw := io.Pipe()
		writers = append(writers, pw)
		body, ct := uploadBody(fmt.Sprintf("file-%04d", i), "", 1<<20)
		go func() { _, _ = io.CopyN(pw, body, 64<<10) }() // then stalls
		req, _ := http.NewRequest("POST", f.srv.URL+"/chat/api/send", pr)
		req.Header.Set("Content-Type", ct)
		req.Header.Set(csrfHeader, "1")
		go func() {
			res, err := f.cl.Do(req)
			if err == nil {
				res.Body.Close()
			}
			errs <- err
		}()
	}
	// Wait until both hold a slot (their temporary files exist).
	deadline := time.Now().Add(10 * time.Second)
	for {
		left, _ := os.ReadDir(dir)
		if len(left) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stalled uploads did not start: %v", left)
		}
		time.Sleep(20 * time.Millisecond)
	}
	body, ct := uploadBody("file-0009", "", 1024)
	req, _ := http.NewRequest("POST", f.srv.URL+"/chat/api/send", body)
	req.Header.Set("Content-Type", ct)
	req.Header.Set(csrfHeader, "1")
	code, b := f.do(req)
	if code != http.StatusServiceUnavailable || !strings.Contains(decodeErr(t, b), "gửi lại") {
		t.Errorf("a third upload while two are stalled: %d %s", code, b)
	}
	for _, w := range writers {
		w.CloseWithError(io.ErrUnexpectedEOF)
	}
	for range writers {
		<-errs
	}
	deadline = time.Now().Add(10 * time.Second)
	for {
		left, _ := os.ReadDir(dir)
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("temporary files of broken uploads left behind: %v", left)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The slots are free again.
	body, ct = uploadBody("file-0010", "", 1024)
	req, _ = http.NewRequest("POST", f.srv.URL+"/chat/api/send", body)
	req.Header.Set("Content-Type", ct)
	req.Header.Set(csrfHeader, "1")
	if code, b := f.do(req); code != 200 {
		t.Errorf("upload after the stalled ones ended: %d %s", code, b)
	}
}

// Finding 3: any self-made 32-hex cookie was accepted as a chat. Only
// cookies the server signed are; a made-up one gets a fresh signed one.
func TestOnlyIssuedCookiesAreAccepted(t *testing.T) {
	f := newFixture(t, false)
	other := New(Config{Handler: &recorder{}})
	for label, value := range map[string]string{
		"old style 32 hex":       strings.Repeat("ab", 16),
		"made-up signature":      strings.Repeat("ab", 16) + "." + strings.Repeat("cd", 16),
		"signed by another key":  other.signCookie(strings.Repeat("ab", 16)),
		"signature of other id":  strings.Repeat("01", 16) + "." + f.chat.cookieMAC(strings.Repeat("ab", 16)),
		"valid plus extra bytes": f.chat.signCookie(strings.Repeat("ab", 16)) + "00",
	} {
		t.Run(label, func(t *testing.T) {
			req, _ := http.NewRequest("POST", f.srv.URL+"/chat/api/send", strings.NewReader(`{"id":"msg-0001","text":"AN7K3M9Q"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set(csrfHeader, "1")
			req.AddCookie(&http.Cookie{Name: cookieName, Value: value})
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusForbidden {
				t.Errorf("API with cookie %q: %d, want 403", value, res.StatusCode)
			}
			req, _ = http.NewRequest("GET", f.srv.URL+"/chat", nil)
			req.AddCookie(&http.Cookie{Name: cookieName, Value: value})
			res, err = http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			var fresh string
			for _, c := range res.Cookies() {
				if c.Name == cookieName {
					fresh = c.Value
				}
			}
			if _, ok := f.chat.verifyCookie(fresh); !ok || fresh == value {
				t.Errorf("page load with a made-up cookie got %q, want a fresh signed cookie", fresh)
			}
		})
	}
	if f.rec.count() != 0 {
		t.Error("a made-up cookie reached the dispatcher")
	}
	// The cookie the server issued works.
	f.open("/chat")
	if code, b := f.postJSON(map[string]any{"id": "msg-0002", "text": "xin chào"}, true); code != 200 {
		t.Errorf("issued cookie: %d %s", code, b)
	}
}

// Finding 9: the web chat kept the last 50 files it sent in memory (three
// exports left 510 MB live). Now they wait on disk and are streamed from
// there, and they outlive a restart.
func TestSentFilesLiveOnDisk(t *testing.T) {
	dir := t.TempDir()
	f := newFixtureWith(t, func(c *Config) { c.FileDir = dir })
	f.open("/chat")
	if code, b := f.postJSON(map[string]any{"id": "msg-0001", "text": "xin chào"}, true); code != 200 {
		t.Fatalf("send: %d %s", code, b)
	}
	chat := f.rec.last(t).ChatID
	before := heapInUse()
	for i := 0; i < 3; i++ {
		data := make([]byte, 20<<20)
		data[0] = byte(i)
		if err := f.chat.Send(t.Context(), chat, []flows.Reply{{File: &flows.File{Name: "PII.zip", MIME: "application/zip", Data: data}}}); err != nil {
			t.Fatal(err)
		}
	}
	grown := heapInUse() - before
	if int64(grown) > 16<<20 {
		t.Errorf("three 20 MB files sent left %d MB on the heap", grown>>20)
	}
	// A large export made on disk is moved, not read into memory.
	tmp := filepath.Join(t.TempDir(), "export.zip")
	if err := os.WriteFile(tmp, []byte("PK\x03\x04 zip"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := f.chat.Send(t.Context(), chat, []flows.Reply{{File: &flows.File{Name: "PII-minh-chung.zip", MIME: "application/zip", Path: tmp}}}); err != nil {
		t.Fatal(err)
	}
	p := f.messages(0, "")
	last := p.Messages[len(p.Messages)-1]
	if last.File == nil || last.File.Size != 8 {
		t.Fatalf("last message %+v", last)
	}
	download := func(c *Chat, url string) (int, string) {
		mux := http.NewServeMux()
		c.Routes(mux)
		req, _ := http.NewRequest("GET", f.srv.URL+url, nil)
		for _, ck := range f.cl.Jar.Cookies(req.URL) {
			req.AddCookie(ck)
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	if code, body := download(f.chat, last.File.URL); code != 200 || body != "PK\x03\x04 zip" {
		t.Errorf("download: %d %q", code, body)
	}
	// After a restart (a new Chat on the same directory and key) the file is
	// still there for its chat, and for no other.
	again := New(Config{Handler: f.rec, FileDir: dir, CookieKey: f.chat.key})
	if code, body := download(again, last.File.URL); code != 200 || body != "PK\x03\x04 zip" {
		t.Errorf("download after a restart: %d %q", code, body)
	}
	req, _ := http.NewRequest("GET", f.srv.URL+last.File.URL, nil)
	req.AddCookie(&http.Cookie{Name: cookieName, Value: f.chat.signCookie(strings.Repeat("ab", 16))})
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("another chat downloads the file: %d", res.StatusCode)
	}
}

func TestClientAddr(t *testing.T) {
	for _, c := range []struct {
		label, remote, xff, want string
	}{
		{"direct client", "203.0.113.9:51000", "", "ip:203.0.113.9"},
		{"direct client cannot forge", "203.0.113.9:51000", "10.0.0.1", "ip:203.0.113.9"},
		{"local proxy", "127.0.0.1:40000", "1.2.3.4, 198.51.100.7", "ip:198.51.100.7"},
		{"local proxy without header", "[::1]:40000", "", "ip:::1"},
		{"local proxy, junk header", "127.0.0.1:40000", "nonsense", "ip:127.0.0.1"},
	} {
		t.Run(c.label, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/chat/api/send", nil)
			r.RemoteAddr = c.remote
			if c.xff != "" {
				r.Header.Set("X-Forwarded-For", c.xff)
			}
			if got := clientAddr(r); got != c.want {
				t.Errorf("clientAddr = %q, want %q", got, c.want)
			}
		})
	}
}
