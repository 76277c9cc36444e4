package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/internal/testenv"
	"github.com/dieuphoi/dieuphoi/storage/sqlite"
	"github.com/dieuphoi/dieuphoi/storage/sqlstore"
)

func get(t *testing.T, u string) (int, string, http.Header) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// /metrics and the profiler are served on their own (loopback) listener,
// never on the public one; /healthz stays public.
func TestMetricsOnTheirOwnListener(t *testing.T) {
	env := baseEnv(t)
	ops := freeAddr(t)
	env["DIEUPHOI_METRICS_ADDR"] = ops
	env["DIEUPHOI_PPROF"] = "1"
	u, stop := startRun(t, env)
	defer stop()
	for _, p := range []string{"/metrics", "/debug/pprof/", "/debug/pprof/profile?seconds=1"} {
		if code, _, _ := get(t, u+p); code != http.StatusNotFound {
			t.Errorf("public %s = %d, want 404", p, code)
		}
	}
	if code, _, _ := get(t, u+"/healthz"); code != 200 {
		t.Errorf("public /healthz = %d", code)
	}
	code, body, _ := get(t, "http://"+ops+"/metrics")
	if code != 200 {
		t.Fatalf("metrics listener /metrics = %d", code)
	}
	for _, m := range []string{"dieuphoi_active_sessions", "go_memstats_mallocs_total", "process_resident_memory_bytes", "dieuphoi_outbox_depth 0"} {
		if !strings.Contains(body, m) {
			t.Errorf("/metrics lacks %q", m)
		}
	}
	if code, _, _ := get(t, "http://"+ops+"/debug/pprof/"); code != 200 {
		t.Errorf("metrics listener pprof = %d", code)
	}
}

// A scrape reads cached figures only: however many scrapes, the database is
// read once per refresh.
func TestScrapesDoNotQueryTheDatabase(t *testing.T) {
	var reads atomic.Int32
	now := time.Date(2024, 8, 1, 9, 0, 0, 0, time.UTC)
	g := &outboxGauges{now: func() time.Time { return now }, log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		read: func(context.Context) (sqlstore.OutboxStats, error) {
			reads.Add(1)
			return sqlstore.OutboxStats{ByStatus: map[string]int{sqlstore.OutboxPending: 7}, OldestDue: now.Add(-90 * time.Second)}, nil
		}}
	reg := prometheus.NewRegistry()
	g.register(reg)
	srv := httptest.NewServer(opsHandler(reg, false))
	defer srv.Close()
	_, body, _ := get(t, srv.URL+"/metrics")
	if !strings.Contains(body, "dieuphoi_outbox_depth -1") || reads.Load() != 0 {
		t.Fatalf("before any refresh: %d reads, body:\n%s", reads.Load(), body)
	}
	g.refresh(context.Background())
	for i := 0; i < 50; i++ {
		_, body, _ = get(t, srv.URL+"/metrics")
	}
	if n := reads.Load(); n != 1 {
		t.Fatalf("50 scrapes read the database %d times; want only the refresh's 1", n)
	}
	for _, want := range []string{"dieuphoi_outbox_depth 7", "dieuphoi_outbox_oldest_seconds 90"} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
	// The age moves with the clock, still without a read.
	now = now.Add(30 * time.Second)
	if _, body, _ = get(t, srv.URL+"/metrics"); !strings.Contains(body, "dieuphoi_outbox_oldest_seconds 120") || reads.Load() != 1 {
		t.Errorf("after 30 s: %d reads\n%s", reads.Load(), body)
	}
	// The background loop refreshes.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go g.run(ctx, 10*time.Millisecond)
	deadline := time.Now().Add(5 * time.Second)
	for reads.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if reads.Load() < 3 {
		t.Error("the background refresh does not run")
	}
}

// /readyz checks the stores at most once per readyCache, however often it
// is asked.
func TestReadinessIsCached(t *testing.T) {
	var checks atomic.Int32
	now := time.Date(2024, 8, 1, 9, 0, 0, 0, time.UTC)
	down := false
	rd := &readiness{now: func() time.Time { return now }, check: func(context.Context) []string {
		checks.Add(1)
		if down {
			return []string{"database unreachable"}
		}
		return nil
	}}
	srv := httptest.NewServer(rd)
	defer srv.Close()
	for i := 0; i < 20; i++ {
		if code, _, _ := get(t, srv.URL); code != 200 {
			t.Fatalf("ready = %d", code)
		}
	}
	if n := checks.Load(); n != 1 {
		t.Fatalf("20 probes made %d checks, want 1", n)
	}
	down = true
	now = now.Add(readyCache)
	if code, body, _ := get(t, srv.URL); code != http.StatusServiceUnavailable || !strings.Contains(body, "database") || checks.Load() != 2 {
		t.Errorf("after the cache expired: %d %q (%d checks)", code, body, checks.Load())
	}
}

// Under an https public URL (TLS ends at a proxy), cookies are Secure and
// every answer carries HSTS; under http, neither.
func TestHTTPSPublicURLMeansSecureCookiesAndHSTS(t *testing.T) {
	for _, tc := range []struct {
		url    string
		secure bool
	}{{"https://hoinghi.example.vn", true}, {"", false}} {
		env := baseEnv(t)
		env["DIEUPHOI_PUBLIC_URL"] = tc.url
		u, stop := startRun(t, env)
		_, _, h := get(t, u+"/chat")
		ck := h.Get("Set-Cookie")
		if ck == "" || strings.Contains(ck, "Secure") != tc.secure {
			t.Errorf("%q: chat cookie %q, want Secure=%v", tc.url, ck, tc.secure)
		}
		hsts := h.Get("Strict-Transport-Security")
		if (hsts == "max-age=31536000") != tc.secure {
			t.Errorf("%q: HSTS %q", tc.url, hsts)
		}
		if _, _, h := get(t, u+"/healthz"); (h.Get("Strict-Transport-Security") != "") != tc.secure {
			t.Errorf("%q: /healthz HSTS %q", tc.url, h.Get("Strict-Transport-Security"))
		}
		if err := stop(); err != nil && !errors.Is(err, context.Canceled) {
			t.Fatal(err)
		}
	}
}

// The running bot prunes processed update ids older than a week (here the
// embedded store; the query is the one PostgreSQL runs, see storagetest).
func TestRunPrunesProcessedUpdateIDs(t *testing.T) {
	ctx := context.Background()
	env := baseEnv(t)
	path := filepath.Join(env["DIEUPHOI_DATA_DIR"], "dieuphoi.db")
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	clock, _ := time.Parse(time.RFC3339, env["DIEUPHOI_CLOCK_START"]) // the bot's clock
	old := domain.UpdateKey{Channel: domain.Telegram, UpdateID: "old"}
	recent := domain.UpdateKey{Channel: domain.Telegram, UpdateID: "recent"}
	for k, at := range map[domain.UpdateKey]time.Time{old: clock.Add(-8 * 24 * time.Hour), recent: clock.Add(-6 * 24 * time.Hour)} {
		if _, err := st.Apply(ctx, k, at, nil); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	_, logs, stop := startRunLogs(t, env)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), "pruned processed update ids") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	st, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if applied, err := st.Apply(ctx, old, clock, nil); err != nil || !applied {
		t.Errorf("the 8-day-old id was kept (%v, %v)", applied, err)
	}
	if applied, err := st.Apply(ctx, recent, clock, nil); err != nil || applied {
		t.Errorf("the 6-day-old id was pruned (%v, %v)", applied, err)
	}
}

// With a production database the picker is only on when forced, and then a
// warning is logged at every start.
func TestPickerWithDatabaseNeedsForce(t *testing.T) {
	dbURL := testenv.PostgresURL(t)
	for _, v := range []string{"1", "on", "true"} {
		env := baseEnv(t)
		env["DATABASE_URL"], env["DIEUPHOI_WEBCHAT_PICKER"] = dbURL, v
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second) // a start that is not refused ends here
		err := run(ctx, []string{"dieuphoi"}, envFunc(env), io.Discard, io.Discard)
		cancel()
		if err == nil || !strings.Contains(err.Error(), "DIEUPHOI_WEBCHAT_PICKER=force") {
			t.Errorf("picker %q with DATABASE_URL: %v; want a refusal naming the force setting", v, err)
		}
	}
	for i := 0; i < 2; i++ { // every start
		env := baseEnv(t)
		env["DATABASE_URL"], env["DIEUPHOI_WEBCHAT_PICKER"] = dbURL, "force"
		env["REDIS_URL"], env["DIEUPHOI_REDIS_PREFIX"] = testenv.RedisURL(t), testenv.Prefix(t)
		u, logs, stop := startRunLogs(t, env)
		if !strings.Contains(logs.String(), "person picker is on with DATABASE_URL set") {
			t.Errorf("start %d: no warning in the logs", i+1)
		}
		if _, page, _ := get(t, u+"/chat"); !strings.Contains(page, `id="picker"`) {
			t.Errorf("start %d: forced picker not shown", i+1)
		}
		if err := stop(); err != nil {
			t.Fatal(err)
		}
	}
	// Without DATABASE_URL it is on by default, and nothing is warned.
	u, logs, stop := startRunLogs(t, baseEnv(t))
	defer stop()
	if _, page, _ := get(t, u+"/chat"); !strings.Contains(page, `id="picker"`) || strings.Contains(logs.String(), "person picker is on") {
		t.Error("embedded default: picker missing or warned about")
	}
}
