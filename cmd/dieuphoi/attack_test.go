package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The done-when of issue 10: the real binary under the web chat upload
// attack — 10 uploads with an oversized caption and 5 uploads that stall
// after 19.5 MB — keeps its resident memory under 100 MB. Rerun with
//
//	go test -run TestUploadAttackKeepsRSSLow -v ./cmd/dieuphoi/
//
// It builds the binary, runs it on the embedded database, and reads VmHWM
// (peak resident set) and VmRSS from /proc/<pid>/status.
// DIEUPHOI_ATTACK_BIN=/path/to/dieuphoi measures that binary instead.
func TestUploadAttackKeepsRSSLow(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and attacks the real binary")
	}
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	dir := t.TempDir()
	// DIEUPHOI_ATTACK_BIN measures another build (an older one, to compare).
	bin := os.Getenv("DIEUPHOI_ATTACK_BIN")
	if bin == "" {
		bin = filepath.Join(dir, "dieuphoi")
		build := exec.Command("go", "build", "-o", bin, ".")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("build: %v\n%s", err, out)
		}
	}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "DIEUPHOI_ADDR=127.0.0.1:0", "DIEUPHOI_DATA_DIR="+filepath.Join(dir, "data"),
		"DIEUPHOI_LOG_LEVEL=warn", "DATABASE_URL=", "REDIS_URL=", "TELEGRAM_BOT_TOKEN=", "ZALO_APP_ID=")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
		}
	})
	base := waitBase(t, stdout)

	jar, _ := cookiejar.New(nil)
	cl := &http.Client{Jar: jar, Timeout: 2 * time.Minute}
	res, err := cl.Get(base + "/chat")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	u, _ := url.Parse(base + "/chat")
	var cookie string
	for _, c := range jar.Cookies(u) {
		cookie = c.Name + "=" + c.Value
	}
	if cookie == "" {
		t.Fatal("no chat cookie")
	}

	const fileSize = 19<<20 + 512<<10 // 19.5 MB
	// 5 stalled uploads: headers announce the whole body, 19.5 MB are sent,
	// then nothing more while the connection stays open.
	addr := strings.TrimPrefix(base, "http://")
	for i := 0; i < 5; i++ {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		const whole = 20 << 20
		body, ct := attackBody(fmt.Sprintf("stall-%04d", i), "", whole)
		fmt.Fprintf(conn, "POST /chat/api/send HTTP/1.1\r\nHost: %s\r\nCookie: %s\r\nX-Dieuphoi-Chat: 1\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n",
			addr, cookie, ct, whole)
		if _, err := io.CopyN(conn, body, fileSize); err != nil {
			t.Fatal(err)
		}
	}
	// 10 uploads whose caption, after the file, is too long.
	for i := 0; i < 10; i++ {
		body, ct := attackBody(fmt.Sprintf("caption-%04d", i), strings.Repeat("a", 2000), fileSize)
		req, _ := http.NewRequest("POST", base+"/chat/api/send", body)
		req.Header.Set("Content-Type", ct)
		req.Header.Set("X-Dieuphoi-Chat", "1")
		res, err := cl.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("oversized caption %d: %d", i, res.StatusCode)
		}
	}
	time.Sleep(time.Second)
	hwm, rss := procMemory(t, cmd.Process.Pid)
	t.Logf("under attack (10 oversized-caption uploads, 5 stalled at 19.5 MB): VmHWM %d MB, VmRSS %d MB", hwm>>20, rss>>20)
	if hwm >= 100<<20 {
		t.Errorf("peak resident memory %d MB; want under 100 MB", hwm>>20)
	}
	// The server still answers.
	res, err = cl.Get(base + "/healthz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("healthz under attack: %v %v", err, res)
	}
	res.Body.Close()
}

var baseRe = regexp.MustCompile(`(http://[0-9.:]+)/chat`)

func waitBase(t *testing.T, r io.Reader) string {
	t.Helper()
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if m := baseRe.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
				break
			}
		}
		io.Copy(io.Discard, r)
	}()
	select {
	case u := <-found:
		return u
	case <-time.After(60 * time.Second):
		t.Fatal("the binary did not print its address")
		return ""
	}
}

// attackBody streams a multipart upload of size bytes with caption after
// the file.
func attackBody(id, caption string, size int64) (io.Reader, string) {
	const boundary = "attack-boundary"
	head := fmt.Sprintf("--%s\r\nContent-Disposition: form-data; name=\"id\"\r\n\r\n%s\r\n"+
		"--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\nContent-Type: application/pdf\r\n\r\n",
		boundary, id, boundary)
	tail := fmt.Sprintf("\r\n--%s\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\n%s\r\n--%s--\r\n", boundary, caption, boundary)
	file := size - int64(len(head)) - int64(len(tail))
	return io.MultiReader(strings.NewReader(head), io.LimitReader(zeroReader{}, file), strings.NewReader(tail)),
		"multipart/form-data; boundary=" + boundary
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// procMemory reads VmHWM and VmRSS (bytes) of pid.
func procMemory(t *testing.T, pid int) (hwm, rss int64) {
	t.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmHWM:":
			hwm = kb << 10
		case "VmRSS:":
			rss = kb << 10
		}
	}
	return hwm, rss
}
