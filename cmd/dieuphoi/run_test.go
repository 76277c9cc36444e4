package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/bot/telegram/telegramtest"
	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/internal/testenv"
	"github.com/dieuphoi/dieuphoi/storage"
	"github.com/dieuphoi/dieuphoi/storage/postgres"
	"github.com/dieuphoi/dieuphoi/storage/sqlite"
)

const botToken = "123456:TEST-token-for-the-fake-server"

// lineWriter lets a test wait for a line the program prints.
type lineWriter struct {
	mu    sync.Mutex
	buf   strings.Builder
	wrote chan struct{}
}

func newLineWriter() *lineWriter { return &lineWriter{wrote: make(chan struct{}, 1)} }

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.buf.Write(p)
	w.mu.Unlock()
	select {
	case w.wrote <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (w *lineWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

var servingURL = regexp.MustCompile(`mở (http://[^ ]+)/chat`)

func (w *lineWriter) waitURL(t *testing.T, timeout time.Duration) string {
	t.Helper()
	deadline := time.After(timeout)
	for {
		if m := servingURL.FindStringSubmatch(w.String()); m != nil {
			return m[1]
		}
		select {
		case <-w.wrote:
		case <-deadline:
			t.Fatalf("program did not start within %v; output:\n%s", timeout, w.String())
		}
	}
}

func envFunc(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// startRun runs the program in-process, as main would, and returns its URL
// and a stop function that shuts it down gracefully.
func startRun(t *testing.T, env map[string]string) (string, func() error) {
	t.Helper()
	u, _, stop := startRunLogs(t, env)
	return u, stop
}

// startRunLogs is startRun that also gives the program's log output.
func startRunLogs(t *testing.T, env map[string]string) (string, *lineWriter, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, logs := newLineWriter(), newLineWriter()
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"dieuphoi"}, envFunc(env), out, logs) }()
	var once sync.Once
	var stopErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case stopErr = <-done:
			case <-time.After(20 * time.Second):
				stopErr = fmt.Errorf("run did not return within 20s of cancel")
			}
		})
		return stopErr
	}
	t.Cleanup(func() { _ = stop() })
	select {
	case err := <-done:
		t.Fatalf("run returned early: %v\nlogs:\n%s", err, logs.String())
	case <-time.After(10 * time.Millisecond):
	}
	u := out.waitURL(t, 30*time.Second)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("program logs:\n%s", logs.String())
		}
		// Never a token, a secret or a phone number in the logs.
		for _, secret := range []string{botToken, "oa-secret-key", "app-secret", "0911222333", "911 222 333", "0911 222 333"} {
			if strings.Contains(logs.String(), secret) {
				t.Errorf("the logs contain %q", secret)
			}
		}
	})
	return u, logs, stop
}

// serverEnv is baseEnv on the test's PostgreSQL and Redis (a key prefix of
// its own), with Telegram served by the fake Bot API at apiBase.
func serverEnv(t *testing.T, apiBase string) map[string]string {
	env := baseEnv(t)
	env["DATABASE_URL"] = testenv.PostgresURL(t)
	env["REDIS_URL"] = testenv.RedisURL(t)
	env["DIEUPHOI_REDIS_PREFIX"] = testenv.Prefix(t)
	env["TELEGRAM_BOT_TOKEN"] = botToken
	env["TELEGRAM_API_BASE"] = apiBase
	return env
}

func baseEnv(t *testing.T) map[string]string {
	return map[string]string{
		"DIEUPHOI_ADDR": "127.0.0.1:0",
		// Each test's metrics listener on a port of its own.
		"DIEUPHOI_METRICS_ADDR": "127.0.0.1:0",
		"DIEUPHOI_DATA_DIR":     t.TempDir(),
		"DIEUPHOI_LOG_LEVEL":    "debug",
		"DIEUPHOI_CLOCK_START":  "2024-07-25T09:00:00+07:00",
		// Scripted users type faster than people; the flood guard has its
		// own test.
		"DIEUPHOI_FLOOD_RATE": "1000",
		// Readings of evidence arrive in the chat at their own pace; the
		// test that reads evidence turns this on.
		"DIEUPHOI_READ_EVIDENCE": "0",
	}
}

func TestHealthAndReadiness(t *testing.T) {
	u, stop := startRun(t, baseEnv(t))
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(u + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s = %d %s", path, resp.StatusCode, body)
		}
	}
	resp, err := http.Get(u + "/chat")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "lang=\"vi\"") {
		t.Errorf("/chat = %d; want the Vietnamese web chat page", resp.StatusCode)
	}
	if err := stop(); err != nil {
		t.Fatalf("graceful stop: %v", err)
	}
}

func TestBadConfigNamesFileRowAndField(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"event.yaml", "agencies.csv", "delegates.csv"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "configs", "example", name))
		if err != nil {
			t.Fatal(err)
		}
		if name == "delegates.csv" {
			lines := strings.Split(string(data), "\n")
			cols := strings.Split(lines[0], ",")
			row := strings.Split(lines[3], ",")
			for i, c := range cols {
				if strings.TrimSpace(c) == "phone" {
					row[i] = "12ab"
				}
			}
			lines[3] = strings.Join(row, ",")
			data = []byte(strings.Join(lines, "\n"))
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := baseEnv(t)
	env["DIEUPHOI_CONFIG_DIR"] = dir
	var out, errOut strings.Builder
	err := run(context.Background(), []string{"dieuphoi", "check"}, envFunc(env), &out, &errOut)
	if err == nil {
		t.Fatal("check accepted a broken people list")
	}
	for _, want := range []string{"delegates.csv", ":4", "phone"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
}

// telegramUser plays one delegate on the fake Bot API.
type telegramUser struct {
	t    *testing.T
	api  *telegramtest.Server
	id   int64
	seen int
}

// do queues an update and waits for n more replies, returning the last.
func (u *telegramUser) do(queue func() int, n int) telegramtest.SentMessage {
	u.t.Helper()
	queue()
	msgs := u.api.WaitMessages(u.t, u.id, u.seen+n, 30*time.Second)
	u.seen = len(msgs)
	return msgs[len(msgs)-1]
}

// joined queues an update whose step answers with the greeting of a newly
// recognised person and what follows it (the event card, a menu, a list)
// and returns them as the one message they go out as (bot/join.go): the
// greeting first, then rest, under the keyboard of what follows.
func (u *telegramUser) joined(queue func() int, rest string) telegramtest.SentMessage {
	u.t.Helper()
	m := u.do(queue, 1)
	head, tail, ok := strings.Cut(m.Text, "\n\n")
	if !ok || !strings.HasPrefix(head, "Xin chào") || !strings.Contains(tail, rest) || len(m.Inline) == 0 {
		u.t.Fatalf("message = %q with keyboard %v; want the greeting, a blank line, then %q with its buttons", m.Text, m.Inline, rest)
	}
	return m
}

// expect queues an update and waits for a reply containing want. A step may
// answer with several messages (a card, then a question), and after a crash
// the reply that was in flight may come once more first.
func (u *telegramUser) expect(queue func() int, want string) telegramtest.SentMessage {
	u.t.Helper()
	queue()
	for extra := 0; extra < 4; extra++ {
		msgs := u.api.WaitMessages(u.t, u.id, u.seen+1, 30*time.Second)
		u.seen++
		if m := msgs[u.seen-1]; strings.Contains(m.Text, want) {
			return m
		}
	}
	msgs := u.api.Messages(u.id)
	u.t.Fatalf("the bot never said %q; last reply: %q", want, msgs[len(msgs)-1].Text)
	return telegramtest.SentMessage{}
}

func (u *telegramUser) text(s string, want string) telegramtest.SentMessage {
	u.t.Helper()
	return u.expect(func() int { return u.api.SendText(u.id, s) }, want)
}

func (u *telegramUser) press(m telegramtest.SentMessage, data string, want string) telegramtest.SentMessage {
	u.t.Helper()
	found := false
	for _, row := range m.Inline {
		for _, b := range row {
			found = found || b.Data == data
		}
	}
	if !found {
		u.t.Fatalf("message %q has no button %q", m.Text, data)
	}
	return u.expect(func() int { return u.api.PressButton(u.id, m.MessageID, data) }, want)
}

func firstDelegate(t *testing.T, st storage.Store) domain.Person {
	t.Helper()
	dir, err := st.Directory(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range dir.People() {
		if p.Has(domain.RoleDelegate) {
			return p
		}
	}
	t.Fatal("no delegate in the example")
	return domain.Person{}
}

func wantSubstitute(t *testing.T, st storage.Store, personID string, ch domain.Channel) {
	t.Helper()
	h, err := st.RSVPHistory(context.Background(), personID)
	if err != nil {
		t.Fatal(err)
	}
	want := domain.Substitute{Name: "Phạm Thu Hà", Position: "Phó Trưởng phòng Kế hoạch", Phone: "0911222333"}
	if len(h) != 1 || h[0].Status != domain.RSVPSubstitute || h[0].Substitute == nil || *h[0].Substitute != want || h[0].Channel != ch {
		t.Fatalf("answers in the database = %+v; want exactly one substitute %+v over %s", h, want, ch)
	}
}

// A whole RSVP with a substitute over Telegram, with the real client library
// against the fake Bot API, sessions in Redis and results in PostgreSQL.
func TestTelegramRSVPWithPostgresAndRedis(t *testing.T) {
	api := telegramtest.New(t, botToken)
	env := serverEnv(t, api.URL())
	_, stop := startRun(t, env)

	st, err := postgres.Open(context.Background(), env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p := firstDelegate(t, st)

	u := &telegramUser{t: t, api: api, id: 5550001}
	card := u.joined(func() int { return api.SendCommand(u.id, "start", p.InviteToken) }, "Hội nghị triển khai Chỉ số đổi mới sáng tạo")
	u.press(card, "rsvp:sub", "họ và tên")
	u.text("Lan", "ít nhất hai chữ") // invalid, asked again
	u.text("Phạm Thu Hà", "Chức vụ")
	u.text("Phó Trưởng phòng Kế hoạch", "Số điện thoại")
	confirm := u.text("0911 222 333", "Xin kiểm tra thông tin")
	u.press(confirm, "sub:ok", "Đã ghi nhận người đi thay")

	if err := stop(); err != nil {
		t.Fatalf("graceful stop: %v", err)
	}
	wantSubstitute(t, st, p.ID, domain.Telegram)
	// Seven updates, seven messages: each step's replies went out as one.
	if n := len(api.Messages(u.id)); n != 7 {
		t.Errorf("the person got %d messages for 7 updates; want one each", n)
	}
	if n := len(api.CallbackAnswers()); n != 2 {
		t.Errorf("answered %d callback queries, want 2 (every button press)", n)
	}
}

// Killing the process in the middle of an RSVP and starting it again: the
// conversation continues where it was and nothing confirmed is lost.
func TestKillDuringRSVPAndRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "dieuphoi")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	modes := []struct {
		name string
		env  func(t *testing.T) map[string]string
		open func(t *testing.T, env map[string]string) storage.Store
	}{
		{"embedded default", func(t *testing.T) map[string]string { return map[string]string{} },
			func(t *testing.T, env map[string]string) storage.Store {
				s, err := sqlite.Open(context.Background(), filepath.Join(env["DIEUPHOI_DATA_DIR"], "dieuphoi.db"))
				if err != nil {
					t.Fatal(err)
				}
				return s
			}},
		{"postgres and redis", func(t *testing.T) map[string]string {
			return map[string]string{"DATABASE_URL": testenv.PostgresURL(t), "REDIS_URL": testenv.RedisURL(t), "DIEUPHOI_REDIS_PREFIX": testenv.Prefix(t)}
		}, func(t *testing.T, env map[string]string) storage.Store {
			s, err := postgres.Open(context.Background(), env["DATABASE_URL"])
			if err != nil {
				t.Fatal(err)
			}
			return s
		}},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			api := telegramtest.New(t, botToken)
			env := baseEnv(t)
			for k, v := range m.env(t) {
				env[k] = v
			}
			env["TELEGRAM_BOT_TOKEN"] = botToken
			env["TELEGRAM_API_BASE"] = api.URL()

			proc := startBinary(t, bin, env)
			var p domain.Person
			func() {
				st := m.open(t, env)
				defer st.Close()
				p = firstDelegate(t, st)
			}()
			u := &telegramUser{t: t, api: api, id: 5550002}
			card := u.joined(func() int { return api.SendCommand(u.id, "start", p.InviteToken) }, "Hội nghị triển khai")
			u.press(card, "rsvp:sub", "họ và tên")
			u.text("Phạm Thu Hà", "Chức vụ")

			if err := proc.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			_ = proc.Wait()

			startBinary(t, bin, env)
			// It continues where it was: the answer to "Chức vụ" is taken
			// as the position.
			u.expect(func() int { return api.SendText(u.id, "Phó Trưởng phòng Kế hoạch") }, "Số điện thoại")
			confirm := u.text("0911222333", "Xin kiểm tra thông tin")
			u.press(confirm, "sub:ok", "Đã ghi nhận người đi thay")

			st := m.open(t, env)
			defer st.Close()
			wantSubstitute(t, st, p.ID, domain.Telegram)
		})
	}
}

func startBinary(t *testing.T, bin string, env map[string]string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logs := newLineWriter()
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("process logs:\n%s", logs.String())
		}
	})
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "đang chạy") {
				close(ready)
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(30 * time.Second):
		t.Fatalf("binary did not start; logs:\n%s", logs.String())
	}
	return cmd
}

// Logs are JSON lines an operator can search.
func TestLogsAreJSON(t *testing.T) {
	var logs strings.Builder
	env := baseEnv(t)
	env["DIEUPHOI_CONFIG_DIR"] = filepath.Join(t.TempDir(), "missing")
	err := run(context.Background(), []string{"dieuphoi"}, envFunc(env), io.Discard, &logs)
	if err == nil {
		t.Fatal("serving with a missing config dir: want an error")
	}
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if line == "" {
			continue
		}
		var v map[string]any
		if json.Unmarshal([]byte(line), &v) != nil {
			t.Errorf("log line is not JSON: %q", line)
		}
	}
}

// `dieuphoi export` writes workbooks from the command line.
func TestExportCommand(t *testing.T) {
	env := baseEnv(t)
	dir := t.TempDir()
	for _, args := range [][]string{
		{"dieuphoi", "export", "xlsx", filepath.Join(dir, "all.xlsx")},
		{"dieuphoi", "export", "agency", "SKHCN", filepath.Join(dir, "skhcn.xlsx")},
		{"dieuphoi", "export", "csv", filepath.Join(dir, "all.csv")},
		{"dieuphoi", "export", "pdf", filepath.Join(dir, "report.pdf")},
	} {
		var out strings.Builder
		if err := run(context.Background(), args, envFunc(env), &out, io.Discard); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		data, err := os.ReadFile(args[len(args)-1])
		if err != nil || len(data) < 100 {
			t.Fatalf("%v wrote %d bytes, %v", args, len(data), err)
		}
	}
	csv, _ := os.ReadFile(filepath.Join(dir, "all.csv"))
	if !strings.HasPrefix(string(csv), "\uFEFF") || !strings.Contains(string(csv), "2.2.1") {
		t.Errorf("csv export = %.200q", csv)
	}
	if err := run(context.Background(), []string{"dieuphoi", "export", "agency", "NOPE"}, envFunc(env), io.Discard, io.Discard); err == nil {
		t.Error("an unknown agency was exported")
	}
}
