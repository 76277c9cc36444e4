package main

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/storage/sqlite"
)

// serveOnce starts the program, waits until it serves (and until its logs
// hold each of waitLogs), stops it and returns its logs.
func serveOnce(t *testing.T, env map[string]string, waitLogs ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, logs := newLineWriter(), newLineWriter()
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"dieuphoi"}, envFunc(env), out, logs) }()
	out.waitURL(t, 30*time.Second)
	deadline := time.After(60 * time.Second)
	for _, want := range waitLogs {
		for !strings.Contains(logs.String(), want) {
			select {
			case <-logs.wrote:
			case <-deadline:
				t.Fatalf("the logs never said %q:\n%s", want, logs.String())
			}
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v\n%s", err, logs.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("run did not stop")
	}
	return logs.String()
}

var clockStartLog = regexp.MustCompile(`"msg":"demo clock: the bot's time runs from this moment on[^"]*","start":"([^"]+)"`)

func clockStartOf(t *testing.T, logs string) time.Time {
	t.Helper()
	m := clockStartLog.FindStringSubmatch(logs)
	if m == nil {
		t.Fatalf("no demo clock line in:\n%s", logs)
	}
	at, err := time.Parse(time.RFC3339, m[1])
	if err != nil {
		t.Fatal(err)
	}
	return at
}

// The demo clock continues from the last moment the bot saw; a later
// DIEUPHOI_CLOCK_START still applies.
func TestDemoClockContinues(t *testing.T) {
	env := baseEnv(t)
	start := time.Date(2024, 7, 25, 9, 0, 0, 0, time.FixedZone("ICT", 7*3600))
	if got := clockStartOf(t, serveOnce(t, env)); !got.Equal(start) {
		t.Fatalf("first start from %v, want %v", got, start)
	}
	// The bot ran until 28/07 10:00 (as if for three days).
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(env["DIEUPHOI_DATA_DIR"], "dieuphoi.db"))
	if err != nil {
		t.Fatal(err)
	}
	seen, ok, err := st.ClockSeen(ctx, "bot")
	if err != nil || !ok || seen.Before(start) {
		t.Fatalf("clock recorded at shutdown: %v %v %v", seen, ok, err)
	}
	later := start.Add(73 * time.Hour)
	if err := st.SetClockSeen(ctx, "bot", later); err != nil {
		t.Fatal(err)
	}
	st.Close()

	// Restart with the same DIEUPHOI_CLOCK_START: no rewind.
	if got := clockStartOf(t, serveOnce(t, env)); got.Before(later) {
		t.Errorf("restart rewound the clock to %v; last seen %v", got, later)
	}
	// A later explicit start applies as given.
	env["DIEUPHOI_CLOCK_START"] = "2024-08-10T09:00:00+07:00"
	if got := clockStartOf(t, serveOnce(t, env)); !got.Equal(time.Date(2024, 8, 10, 9, 0, 0, 0, start.Location())) {
		t.Errorf("a later DIEUPHOI_CLOCK_START gave %v", got)
	}
}
