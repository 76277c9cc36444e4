package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestLogFormat(t *testing.T) {
	for _, c := range []struct {
		label, format  string
		terminal, text bool
	}{
		{"terminal, unset", "", true, true},
		{"pipe or file, unset", "", false, false},
		{"terminal, json asked", "json", true, false},
		{"pipe, text asked", "text", false, true},
	} {
		if got := logAsText(c.format, c.terminal); got != c.text {
			t.Errorf("%s: text = %v, want %v", c.label, got, c.text)
		}
	}
	if isTerminal(&bytes.Buffer{}) || isTerminal(os.NewFile(^uintptr(0), "none")) {
		t.Error("a buffer or a closed file taken for a terminal")
	}
	var buf bytes.Buffer
	slog.New(logHandler(&buf, settings{LogFormat: "text"})).Info("xin chào", "n", 1)
	if !regexp.MustCompile(`^time=\d\d:\d\d:\d\d level=INFO msg="xin chào" n=1\n$`).MatchString(buf.String()) {
		t.Errorf("text log line = %q", buf.String())
	}
	if _, err := loadSettings(envFunc(map[string]string{"DIEUPHOI_LOG_FORMAT": "xml"})); err == nil {
		t.Error("DIEUPHOI_LOG_FORMAT=xml accepted")
	}
}

// A restart with a later clock skips hundreds of reminders whose moment
// passed: one summary line says so, not one line each.
func TestSkippedRemindersSummedUp(t *testing.T) {
	env := baseEnv(t)
	env["DIEUPHOI_LOG_LEVEL"] = "info"
	serveOnce(t, env)
	env["DIEUPHOI_CLOCK_START"] = "2024-08-20T09:00:00+07:00"

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, logs := newLineWriter(), newLineWriter()
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"dieuphoi"}, envFunc(env), out, logs) }()
	out.waitURL(t, 30*time.Second)
	deadline := time.After(60 * time.Second)
	for !strings.Contains(logs.String(), "được ghi là bỏ qua") {
		select {
		case <-logs.wrote:
		case <-deadline:
			t.Fatalf("no summary of skipped reminders:\n%s", logs.String())
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var summaries, each int
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("not JSON (stderr is not a terminal): %q", line)
		}
		msg, _ := rec["msg"].(string)
		switch {
		case strings.Contains(msg, "được ghi là bỏ qua"):
			summaries++
			if n, _ := rec["skipped"].(float64); n < 2 {
				t.Errorf("summary counts %v skipped", rec["skipped"])
			}
		case msg == "message recorded as skipped":
			each++
		}
	}
	if summaries != 1 || each != 0 {
		t.Errorf("%d summaries and %d per-message lines; want 1 and 0:\n%s", summaries, each, logs.String())
	}
}
