// Command dieuphoi-bench measures the bot under load: it generates a
// campaign with many delegates, builds and starts the real dieuphoi binary
// against PostgreSQL, Redis and a lean fake Telegram Bot API
// (internal/loadtest), lets thousands of simulated users run whole RSVPs
// (and focal points an indicator entry with evidence) by long polling and by
// webhook, runs a bare echo bot on the same client library as a baseline,
// and prints a markdown table (also written to bench-results.md).
//
// Usage (scripts/bench.sh / make bench start the services):
//
//	go run ./cmd/dieuphoi-bench -db postgres://... -redis redis://... [-quick]
//
// Everything listens on loopback only; every loop is bounded in count and
// time.
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/jackc/pgx/v5"
	goredis "github.com/redis/go-redis/v9"

	"github.com/dieuphoi/dieuphoi/internal/loadtest"
)

const token = "424242:BENCH-token-for-the-fake-api"

// webhookConns is how many webhook deliveries the fake makes at once:
// Telegram's default max_connections.
const webhookConns = 40

type config struct {
	quick        bool
	active       int
	chats        int
	focal        int
	rate         int
	rateSeconds  int
	rateCold     bool
	pairs        int // echo and max runs of each delivery mode, alternating
	pair         int // the pair being run (1-based)
	db, redis    string
	out          string
	modes        []string
	profile      string
	stepTimeout  time.Duration
	totalTimeout time.Duration
	bcastProcs   []int
	verbose      bool
	botSrc       string // module root the bot is built from ("": this one)
	bcastRun     int
	rateTrace    string          // directory for the fixed-rate runs' per-update samples ("": none)
	bcastTrace   string          // directory for the broadcast runs' per-send traces ("": none)
	pgTrace      string          // directory for each run's PostgreSQL statements per update ("": none)
	runs         map[string]bool // of each delivery mode: echo, max, rate
	inbox        string          // DIEUPHOI_INBOX of the bot: "database" or "redis"
	inboxRedis   string          // DIEUPHOI_INBOX_REDIS_URL ("": the -redis one)
}

func main() {
	if os.Getenv("BENCH_ECHO_API") != "" {
		if err := echoBot(); err != nil {
			fmt.Fprintln(os.Stderr, "echo bot:", err)
			os.Exit(1)
		}
		return
	}
	var c config
	var modes string
	flag.BoolVar(&c.quick, "quick", false, "smoke run: 500 chats, 5 s fixed-rate run")
	flag.IntVar(&c.chats, "chats", 5000, "simulated users (distinct chats) per run")
	flag.IntVar(&c.active, "active", 200, "most users mid-conversation at once (0: all at once)")
	flag.IntVar(&c.focal, "focal", -1, "of them, focal points entering an indicator (default chats/40, at most 296)")
	flag.IntVar(&c.rate, "rate", 500, "updates per second of the fixed-rate run")
	flag.IntVar(&c.rateSeconds, "rate-seconds", 20, "length of the fixed-rate run")
	flag.IntVar(&c.pairs, "pairs", 3, "runs of the bare echo bot and of dieuphoi as fast as it answers in each delivery mode, alternating (echo, dieuphoi, echo, dieuphoi…); the targets take the median: the host's speed drifts between runs a few seconds apart")
	flag.BoolVar(&c.rateCold, "rate-cold", false, "fixed-rate run: open every chat at once, not -active of them (every chat's first step before any next step: a burst of new chats)")
	flag.StringVar(&c.db, "db", firstEnv("BENCH_DATABASE_URL", "DIEUPHOI_TEST_DATABASE_URL"), "PostgreSQL admin URL (databases are created under it)")
	flag.StringVar(&c.redis, "redis", firstEnv("BENCH_REDIS_URL", "DIEUPHOI_TEST_REDIS_URL"), "Redis URL")
	flag.StringVar(&c.out, "out", "bench-results.md", "where to write the results table")
	flag.StringVar(&modes, "modes", "poll,webhook,broadcast", "runs: delivery modes poll and webhook, and broadcast (1,000 messages by 1 and 3 processes against Telegram's limits)")
	flag.StringVar(&c.profile, "profile", "", "write a CPU profile of the bot during each run (20 s, the fixed-rate run's first -rate-seconds at most) into this directory, and its allocation profiles before and after each max-throughput run (go tool pprof -sample_index=alloc_objects -base allocs-MODE-before.prof allocs-MODE-after.prof)")
	flag.DurationVar(&c.stepTimeout, "step-timeout", 90*time.Second, "longest wait for one reply")
	flag.DurationVar(&c.totalTimeout, "timeout", 30*time.Minute, "whole benchmark")
	flag.BoolVar(&c.verbose, "v", false, "print every 429 of the broadcast runs")
	var bprocs, runs string
	flag.StringVar(&c.botSrc, "bot-src", "", "build the bot from this checkout instead (A/B: the same benchmark against an older bot)")
	flag.StringVar(&runs, "runs", "echo,max,rate", "runs of each delivery mode: the bare echo bot, dieuphoi as fast as it answers, dieuphoi at the fixed rate")
	flag.StringVar(&c.rateTrace, "rate-trace", "", "write each fixed-rate run's latency samples with their offer times into this directory and print whether the slow ones cluster in time (with the bot's collections when BENCH_BOT_GODEBUG=gctrace=1)")
	flag.StringVar(&c.bcastTrace, "broadcast-trace", "", "write each broadcast run's sends (time, chat, process) into this directory and print where the run lost sends")
	flag.StringVar(&c.pgTrace, "pg-statements", "", "write each run's PostgreSQL statements (pg_stat_statements of the run's database, nested ones such as foreign-key checks included where tracked) with calls, rows and time per update into this directory")
	flag.StringVar(&bprocs, "broadcast-procs", "1,3", "processes of each broadcast run")
	flag.StringVar(&c.inboxRedis, "inbox-redis", "", "with -inbox redis, keep the inbox in this Redis rather than the -redis one (DIEUPHOI_INBOX_REDIS_URL; the sessions stay in -redis); its server CPU is reported apart")
	flag.StringVar(&c.inbox, "inbox", "database", "where the bot keeps its inbox: database (PostgreSQL), or redis (DIEUPHOI_INBOX=redis, in the -redis Redis, which must then have appendonly yes and appendfsync always, or the bot refuses to start: e.g. redis-server --port 56390 --appendonly yes --appendfsync always --save '' --dir /tmp/x)")
	flag.Parse()
	for _, f := range strings.Split(bprocs, ",") {
		var n int
		if _, err := fmt.Sscan(f, &n); err != nil || n < 1 || n > 8 {
			fmt.Fprintf(os.Stderr, "-broadcast-procs: %q is not a number of processes (1-8)\n", f)
			os.Exit(2)
		}
		c.bcastProcs = append(c.bcastProcs, n)
	}
	if c.quick {
		c.chats, c.rateSeconds = 500, 5
	}
	if c.pairs < 1 || c.pairs > 9 {
		fmt.Fprintf(os.Stderr, "-pairs: %d is not 1-9\n", c.pairs)
		os.Exit(2)
	}
	if c.focal < 0 {
		c.focal = c.chats / 40
	}
	c.modes = strings.Split(modes, ",")
	c.runs = map[string]bool{}
	for _, r := range strings.Split(runs, ",") {
		if r != "echo" && r != "max" && r != "rate" {
			fmt.Fprintf(os.Stderr, "-runs: %q is not echo, max or rate\n", r)
			os.Exit(2)
		}
		c.runs[r] = true
	}
	if c.inbox != "database" && c.inbox != "redis" {
		fmt.Fprintf(os.Stderr, "-inbox: %q is not database or redis\n", c.inbox)
		os.Exit(2)
	}
	if c.db == "" || c.redis == "" {
		fmt.Fprintln(os.Stderr, "need -db and -redis (or BENCH_DATABASE_URL / BENCH_REDIS_URL); scripts/bench.sh starts both")
		os.Exit(2)
	}
	for _, u := range []string{c.db, c.redis} {
		if pu, err := url.Parse(u); err != nil || (pu.Hostname() != "127.0.0.1" && pu.Hostname() != "localhost" && pu.Hostname() != "::1") {
			fmt.Fprintf(os.Stderr, "refusing non-loopback service URL %q\n", u)
			os.Exit(2)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.totalTimeout)
	defer cancel()
	if err := bench(ctx, c); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func firstEnv(names ...string) string {
	for _, n := range names {
		if v := os.Getenv(n); v != "" {
			return v
		}
	}
	return ""
}

// result is one row of the table.
type result struct {
	name         string
	mode         string
	pair         int // of the alternating echo and max runs (0: the fixed-rate run)
	chats        int
	updates      int
	seconds      float64
	rate         float64 // updates handled per second
	p50, p95     time.Duration
	p99, max     time.Duration
	cpuPerUpd    float64 // CPU ms per update
	allocsPerUpd float64 // -1: n/a
	rssMB        float64
	redisPerSess float64 // bytes, -1: n/a
	ok           bool
	problems     []string
	notes        []string
}

func bench(ctx context.Context, c config) error {
	tmp, err := os.MkdirTemp("", "dieuphoi-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	fmt.Printf("generating a campaign of %d delegates (%d focal points)…\n", c.chats, c.focal)
	camp, err := loadtest.WriteCampaign(filepath.Join(tmp, mkdir(tmp, "config")), c.chats, c.focal)
	if err != nil {
		return err
	}
	fmt.Println("building the dieuphoi binary…")
	bin, err := buildBot(tmp, c.botSrc)
	if err != nil {
		return err
	}

	var rows []result
	var bcasts []bcastResult
	for _, mode := range c.modes {
		if ctx.Err() != nil {
			break
		}
		if mode == "broadcast" {
			for run, procs := range c.bcastProcs {
				c.bcastRun = run + 1
				fmt.Printf("\n== broadcast: %d messages, %d process(es), Telegram's limits enforced ==\n", bcastMsgs, procs)
				b, err := runBroadcast(ctx, c, bin, tmp, camp, procs)
				if err != nil {
					return fmt.Errorf("broadcast %d: %w", procs, err)
				}
				printBcast(b)
				bcasts = append(bcasts, b)
			}
			continue
		}
		// The echo bot and dieuphoi take turns: each pair's ratio compares
		// two runs seconds apart, and the median pair outweighs a run the
		// host happened to slow (or speed) alone.
		for c.pair = 1; c.pair <= c.pairs && (c.runs["echo"] || c.runs["max"]); c.pair++ {
			var echo result
			if c.runs["echo"] {
				fmt.Printf("\n== %s: bare echo bot (same client library)%s ==\n", mode, c.pairNote())
				echo, err = runEcho(ctx, c, mode)
				if err != nil {
					return fmt.Errorf("echo %s: %w", mode, err)
				}
				echo.pair = c.pair
				printRow(echo)
				rows = append(rows, echo)
			}
			if c.runs["max"] {
				fmt.Printf("\n== %s: dieuphoi, %d chats as fast as it answers%s ==\n", mode, c.chats, c.pairNote())
				r, err := runBot(ctx, c, bin, tmp, camp, mode, 0)
				if err != nil {
					return fmt.Errorf("dieuphoi %s: %w", mode, err)
				}
				r.pair = c.pair
				if echo.rate > 0 {
					r.notes = append(r.notes, fmt.Sprintf("%.0f%% of the bare echo bot", 100*r.rate/echo.rate))
				}
				printRow(r)
				rows = append(rows, r)
			}
		}
		c.pair = 0

		if !c.runs["rate"] {
			continue
		}
		fmt.Printf("\n== %s: dieuphoi at a fixed %d updates/s for %d s ==\n", mode, c.rate, c.rateSeconds)
		f, err := runBot(ctx, c, bin, tmp, camp, mode, c.rate)
		if err != nil {
			return fmt.Errorf("dieuphoi fixed rate %s: %w", mode, err)
		}
		printRow(f)
		rows = append(rows, f)
	}
	table := render(c, rows) + renderBcast(bcasts)
	fmt.Println()
	fmt.Println(table)
	if c.out != "" {
		if err := os.WriteFile(c.out, []byte(table), 0o644); err != nil {
			return err
		}
		fmt.Println("written to", c.out)
	}
	for _, r := range rows {
		if !r.ok {
			return fmt.Errorf("%s (%s): correctness problems: %s", r.name, r.mode, strings.Join(r.problems, "; "))
		}
	}
	for _, b := range bcasts {
		if !b.ok {
			return fmt.Errorf("broadcast by %d process(es): %s", b.procs, strings.Join(b.problems, "; "))
		}
	}
	return nil
}

func mkdir(parent, name string) string {
	_ = os.MkdirAll(filepath.Join(parent, name), 0o755)
	return name
}

// debugHook is added to the binary through a build overlay (the repository
// is not changed): with DIEUPHOI_BENCH_DEBUG_ADDR set it serves expvar
// (runtime.MemStats, for allocations) and net/http/pprof there.
const debugHook = `package main

import (
	"expvar"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
)

func init() {
	addr := os.Getenv("DIEUPHOI_BENCH_DEBUG_ADDR")
	if addr == "" {
		return
	}
	mux := http.NewServeMux()
	mux.Handle("/debug/vars", expvar.Handler())
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return
	}
	go func() { _ = http.Serve(ln, mux) }()
}
`

func buildBot(tmp, src string) (string, error) {
	gomod := exec.Command("go", "env", "GOMOD")
	gomod.Dir = src
	out, err := gomod.Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(out)))
	hook := filepath.Join(tmp, "bench_debug_hook.go")
	if err := os.WriteFile(hook, []byte(debugHook), 0o644); err != nil {
		return "", err
	}
	ov, _ := json.Marshal(map[string]any{"Replace": map[string]string{
		filepath.Join(root, "cmd", "dieuphoi", "zz_bench_debug_hook.go"): hook,
	}})
	ovPath := filepath.Join(tmp, "overlay.json")
	if err := os.WriteFile(ovPath, ov, 0o644); err != nil {
		return "", err
	}
	bin := filepath.Join(tmp, "dieuphoi")
	cmd := exec.Command("go", "build", "-overlay", ovPath, "-o", bin, "./cmd/dieuphoi")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, b)
	}
	return bin, nil
}

// ---------------------------------------------------------------- dieuphoi runs

func runBot(ctx context.Context, c config, bin, tmp string, camp *loadtest.Campaign, mode string, rate int) (result, error) {
	name := "dieuphoi"
	if rate > 0 {
		name = fmt.Sprintf("dieuphoi @%d/s", rate)
	}
	r := result{name: name, mode: mode, allocsPerUpd: -1, redisPerSess: -1, ok: true}
	dbURL, dropDB, err := createDB(ctx, c.db)
	if err != nil {
		return r, err
	}
	defer dropDB()
	prefix := fmt.Sprintf("bench:%s:%d:", mode, rand.Uint32())
	rdb, err := redisClient(c.redis)
	if err != nil {
		return r, err
	}
	defer rdb.Close()
	defer cleanRedis(rdb, prefix)

	addr, err := loadtest.FreeAddr()
	if err != nil {
		return r, err
	}
	debugAddr, err := loadtest.FreeAddr()
	if err != nil {
		return r, err
	}
	metricsAddr, err := loadtest.FreeAddr() // the bot's /metrics and pprof listener
	if err != nil {
		return r, err
	}
	secret := "bench_webhook_secret_0123456789"
	opt := loadtest.Options{Token: token}
	env := map[string]string{
		"DATABASE_URL": dbURL, "REDIS_URL": c.redis, "DIEUPHOI_REDIS_PREFIX": prefix,
		"DIEUPHOI_ADDR": addr, "DIEUPHOI_DATA_DIR": filepath.Join(tmp, mkdir(tmp, "data-"+c.tag(mode)+fmt.Sprint(rate))),
		"DIEUPHOI_CONFIG_DIR": camp.Dir, "DIEUPHOI_CLOCK_START": "2024-07-25T09:00:00+07:00",
		"DIEUPHOI_LOG_LEVEL": "warn", "TELEGRAM_BOT_TOKEN": token, "DIEUPHOI_BENCH_DEBUG_ADDR": debugAddr, "DIEUPHOI_PPROF": "1",
		"DIEUPHOI_METRICS_ADDR": metricsAddr,
		// Reading evidence files answers later, in its own message, so the
		// replies a chat gets would depend on timing; it has its own
		// benchmark (go test -bench ExtractScanned ./evidence/).
		"DIEUPHOI_READ_EVIDENCE": "0",
	}
	var ibRedis *goredis.Client // the inbox's own Redis, if any
	if c.inbox == "redis" {
		env["DIEUPHOI_INBOX"] = "redis" // in REDIS_URL's Redis unless -inbox-redis
		if c.inboxRedis != "" {
			env["DIEUPHOI_INBOX_REDIS_URL"] = c.inboxRedis
			if ibRedis, err = redisClient(c.inboxRedis); err != nil {
				return r, err
			}
			defer ibRedis.Close()
			defer cleanRedis(ibRedis, prefix)
		}
	}
	if v := os.Getenv("BENCH_BOT_GODEBUG"); v != "" {
		// e.g. gctrace=1: the run's collections are summed below;
		// memprofilerate=1: every allocation in the -profile allocation
		// profiles (slower; not for the table's figures).
		env["GODEBUG"] = v
	}
	for _, kv := range strings.Fields(os.Getenv("BENCH_BOT_ENV")) {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	if mode == "webhook" {
		opt.PushURLs = []string{"http://" + addr + "/telegram/webhook"}
		opt.PushWorkers = webhookConns
		opt.Secret = secret
		env["TELEGRAM_WEBHOOK_URL"] = opt.PushURLs[0]
		env["TELEGRAM_WEBHOOK_SECRET"] = secret
	}
	api, err := loadtest.Start(opt)
	if err != nil {
		return r, err
	}
	defer api.Close()
	env["TELEGRAM_API_BASE"] = api.URL()

	start := time.Now()
	procStart := time.Now()
	proc, err := loadtest.StartProc(bin, env, 120*time.Second)
	if err != nil {
		return r, err
	}
	defer func() {
		if !proc.Exited() {
			_ = proc.Stop(20 * time.Second)
		}
	}()
	pid := proc.Cmd.Process.Pid
	fmt.Printf("  bot pid %d started in %v\n", pid, time.Since(start).Round(time.Millisecond))

	// Users: all chats (max run), or as many as the fixed rate needs.
	people := camp.People
	if rate > 0 {
		people = people[:min(len(people), max(200, rate*c.rateSeconds/loadtest.MixMeanSteps+1))]
	}
	users := make([]*loadtest.User, len(people))
	for i, p := range people {
		steps, _ := loadtest.MixSteps(i, p.Token, p.Phone)
		steps = loadtest.FromInvite(p, steps)
		if p.Indicator != "" && rate == 0 {
			// Focal points follow their RSVP (their number already
			// proven) with an indicator entry.
			steps = append(steps, loadtest.IndicatorSteps(p.Indicator, int64(i))...)
		}
		users[i] = &loadtest.User{S: api, C: api.Chat(int64(900000000 + i)), Steps: steps}
	}
	total := 0
	for _, u := range users {
		total += len(u.Steps)
	}

	redisBefore := usedMemory(ctx, rdb)
	redisStatsBefore := redisServerStats(ctx, rdb)
	var ibStatsBefore map[string][2]float64
	if ibRedis != nil {
		ibStatsBefore = redisServerStats(ctx, ibRedis)
	}
	pgBefore := pgStatements(ctx, c.db, dbURL)
	pgRowsBefore := pgStatementRows(ctx, c.db, dbURL, c.pgTrace)
	pgCPUBefore := pgBackendCPU(ctx, c.db, dbURL)
	pgWALBefore := pgWAL(ctx, c.db, dbURL)
	cpuBefore, _ := loadtest.CPUSeconds(pid)
	sharesBefore, _ := loadtest.ReadCPUShares(pid)
	pollsBefore := api.Calls("getUpdates")
	poolsBefore := metricValues(metricsAddr)
	mallocsBefore, mallocSrc := mallocs(metricsAddr, debugAddr)
	volBefore, involBefore, _ := loadtest.ContextSwitches(pid)
	goBefore := goroutinesCreated(metricsAddr)
	var prof chan error
	profPath, profSec := filepath.Join(c.profile, "cpu-"+c.tag(mode)+".prof"), 20
	if rate > 0 {
		profPath, profSec = filepath.Join(c.profile, fmt.Sprintf("cpu-%s-%d.prof", mode, rate)), min(20, c.rateSeconds)
	}
	if c.profile != "" {
		if rate == 0 {
			saveProfile(metricsAddr, "allocs", filepath.Join(c.profile, "allocs-"+c.tag(mode)+"-before.prof"))
		}
		prof = make(chan error, 1)
		go func() {
			path := profPath
			if cpuProfile(metricsAddr, path, profSec) != nil { // DIEUPHOI_PPROF=1 on the bot's metrics listener
				prof <- cpuProfile(debugAddr, path, profSec)
				return
			}
			prof <- nil
		}()
	}

	t0 := time.Now()
	var errs []error
	var mu sync.Mutex
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if len(errs) < 20 {
			errs = append(errs, err)
		}
	}
	if rate == 0 {
		var wg sync.WaitGroup
		active := c.slots()
		for _, u := range users {
			active <- struct{}{}
			wg.Go(func() {
				defer func() { <-active }()
				if err := u.Run(ctx, c.stepTimeout, 3); err != nil {
					fail(err)
				}
			})
		}
		wg.Wait()
	} else {
		if c.rateTrace != "" {
			// The stages of the run's first updates (the histogram counts
			// from the bot's start; nothing came before the run).
			go func() {
				if sleepCtx(ctx, 1500*time.Millisecond) {
					fmt.Printf("  the first 1.5 s: %s\n", stageMeans(metricsAddr))
				}
			}()
		}
		pc := paced(ctx, users, rate, c.active, c.rateCold, c.stepTimeout, fail)
		r.notes = append(r.notes, pc.String())
	}
	elapsed := time.Since(t0)
	cpuAfter, _ := loadtest.CPUSeconds(pid)
	if sh, err := loadtest.ReadCPUShares(pid); err == nil {
		r.notes = append(r.notes, sh.Since(sharesBefore))
	}
	mallocsAfter, _ := mallocs(metricsAddr, debugAddr)
	if vol, invol, err := loadtest.ContextSwitches(pid); err == nil && total > 0 {
		note := fmt.Sprintf("bot threads' context switches per update: %.1f voluntary (a thread fell asleep: futex, epoll_wait), %.1f involuntary",
			float64(vol-volBefore)/float64(total), float64(invol-involBefore)/float64(total))
		if goAfter := goroutinesCreated(metricsAddr); goBefore >= 0 && goAfter >= goBefore {
			note += fmt.Sprintf("; goroutines started per update: %.1f", (goAfter-goBefore)/float64(total))
		}
		r.notes = append(r.notes, note)
	}
	if c.profile != "" && rate == 0 {
		saveProfile(metricsAddr, "allocs", filepath.Join(c.profile, "allocs-"+c.tag(mode)+"-after.prof"))
	}
	rss, _ := loadtest.PeakRSS(pid)
	redisAfter := usedMemory(ctx, rdb)
	if st := redisServerStats(ctx, rdb); st != nil && redisStatsBefore != nil {
		r.notes = append(r.notes, redisPerUpdate(redisStatsBefore, st, total))
	}
	if ibRedis != nil {
		if st := redisServerStats(ctx, ibRedis); st != nil && ibStatsBefore != nil {
			r.notes = append(r.notes, "The inbox's "+redisPerUpdate(ibStatsBefore, st, total))
		}
	}
	if pgAfter := pgStatements(ctx, c.db, dbURL); pgBefore != nil && pgAfter != nil {
		r.notes = append(r.notes, pgPerUpdate(pgBefore, pgAfter, total))
	}
	if pgRowsBefore != nil {
		path := filepath.Join(c.pgTrace, "pg-"+c.tag(mode)+"-"+strings.NewReplacer(" ", "-", "/", "-", ",", "").Replace(name)+".txt")
		if err := writePGStatements(path, pgRowsBefore, pgStatementRows(ctx, c.db, dbURL, c.pgTrace), total); err != nil {
			fmt.Fprintln(os.Stderr, "pg statements:", err)
		}
	}
	if pgWALBefore != nil {
		if after := pgWAL(ctx, c.db, dbURL); after != nil {
			r.notes = append(r.notes, pgWALPerUpdate(pgWALBefore, after, total))
		}
	}
	if pgCPUBefore != nil {
		r.notes = append(r.notes, pgCPUPerUpdate(pgCPUBefore, pgBackendCPU(ctx, c.db, dbURL), total))
	}
	if gc := gcSummary(proc.Logs()); gc != "" {
		r.notes = append(r.notes, gc)
	}
	if st := stageMeans(metricsAddr); st != "" {
		r.notes = append(r.notes, st)
	}
	if prof != nil {
		if err := <-prof; err != nil {
			r.notes = append(r.notes, "profile: "+err.Error())
		} else {
			r.notes = append(r.notes, "CPU profile: "+profPath)
		}
	}

	latAt, lat := api.LatencySamples()
	if c.rateTrace != "" && rate > 0 {
		traceRate(c.rateTrace, mode, latAt, lat, procStart, proc.Logs())
	}
	if pools := metricValues(metricsAddr); pools != nil && poolsBefore != nil {
		d := func(name string) float64 { return pools[name] - poolsBefore[name] }
		r.notes = append(r.notes, fmt.Sprintf("connection pools: PostgreSQL %.3f waits per update (%.2f ms in all per update), Redis %.3f (%.2f ms)",
			d("dieuphoi_db_pool_waits_total")/float64(max(total, 1)), 1000*d("dieuphoi_db_pool_wait_seconds_total")/float64(max(total, 1)),
			d("dieuphoi_redis_pool_waits_total")/float64(max(total, 1)), 1000*d("dieuphoi_redis_pool_wait_seconds_total")/float64(max(total, 1))))
	}
	if pools := metricValues(metricsAddr); pools != nil && poolsBefore != nil {
		if note := redisTraffic(poolsBefore, pools, total); note != "" {
			r.notes = append(r.notes, note)
		}
	}
	if mode == "poll" {
		r.notes = append(r.notes, fmt.Sprintf("getUpdates calls per update: %.2f", float64(api.Calls("getUpdates")-pollsBefore)/float64(max(total, 1))))
	}
	if in := api.IntakeDelays(); len(in) > 0 {
		what := "fetched by getUpdates"
		if mode == "webhook" {
			what = "its webhook delivery answered (stored in the inbox)"
		}
		r.notes = append(r.notes, fmt.Sprintf("offer → %s: p50 %s, p99 %s ms", what, ms(loadtest.Percentile(in, 50)), ms(loadtest.Percentile(in, 99))))
	}
	r.chats, r.updates, r.seconds = len(users), total, elapsed.Seconds()
	r.rate = float64(total) / elapsed.Seconds()
	r.p50, r.p95, r.p99 = loadtest.Percentile(lat, 50), loadtest.Percentile(lat, 95), loadtest.Percentile(lat, 99)
	r.max = loadtest.Percentile(lat, 100)
	r.cpuPerUpd = (cpuAfter - cpuBefore) * 1000 / float64(total)
	if mallocSrc != "" && mallocsAfter > mallocsBefore {
		r.allocsPerUpd = float64(mallocsAfter-mallocsBefore) / float64(total)
		r.notes = append(r.notes, "allocations from "+mallocSrc)
	}
	r.rssMB = float64(rss) / (1 << 20)
	// Redis B/session is what the run's own keys hold (MEMORY USAGE), per
	// user; used_memory's growth also counts the connections' buffers and,
	// on a shared server, others' work, so it is only noted.
	if kinds, total := redisKeyKinds(ctx, rdb, prefix); kinds != "" {
		r.redisPerSess = float64(total) / float64(len(users))
		r.notes = append(r.notes, "Redis keys left by kind (count × mean MEMORY USAGE): "+kinds)
	}
	if redisBefore >= 0 && redisAfter >= 0 {
		r.notes = append(r.notes, fmt.Sprintf("Redis used_memory grew %.0f B per user (connections' buffers and a shared server's other work included)",
			float64(redisAfter-redisBefore)/float64(len(users))))
	}
	if len(lat) != total {
		r.notes = append(r.notes, fmt.Sprintf("%d latency samples for %d updates", len(lat), total))
	}
	if mode == "webhook" {
		d, retried, _ := api.PushStats()
		if retried > 0 {
			r.problems = append(r.problems, fmt.Sprintf("%d webhook deliveries answered non-2xx (of %d)", retried, d+retried))
		}
	}

	// Correctness.
	for _, e := range errs {
		r.problems = append(r.problems, e.Error())
	}
	time.Sleep(500 * time.Millisecond) // late duplicates would arrive now
	r.problems = append(r.problems, checkReplies(users)...)
	r.notes = append(r.notes, messagesPerUpdate(users, total), apiCallsPerUpdate(api, total))
	r.problems = append(r.problems, checkDB(ctx, dbURL, people, rate == 0)...)
	if e, _ := proc.ErrorLines(); e > 0 {
		r.problems = append(r.problems, fmt.Sprintf("%d ERROR log lines", e))
	}
	if err := proc.Stop(20 * time.Second); err != nil {
		r.problems = append(r.problems, err.Error())
	}
	if len(r.problems) > 0 {
		r.ok = false
		logs := proc.Logs()
		if len(logs) > 3000 {
			logs = logs[len(logs)-3000:]
		}
		fmt.Printf("  problems: %s\n  last logs:\n%s\n", strings.Join(r.problems, "; "), logs)
	}
	return r, nil
}

// paced offers updates at rate per second, each to a chat whose previous
// update was answered, until every user's script is done: the load shape
// of the closed-loop run (at most active users mid-conversation, a new one
// starting when one finishes, each step sent only after the reply to the
// previous one) at a fixed rate. At each slot the chat whose reply came
// first goes on, so the rate is spread over the open conversations (500/s
// over 200 chats: a step every ~0.4 s in each) — as people who read and
// answer — and a slot that finds every open chat waiting for its reply
// offers nothing and is counted: the bot fell behind.
//
// It used to offer the next step of whichever chat was answered, else a new
// chat: while the bot kept up, 500/s went to the few chats in flight
// (rate × latency: about 5 at 10 ms), each answering its reply at once;
// when it fell behind, new chats started at up to the full rate (all 500
// of the quick run in its first 1.2 s), then a closed loop of them all.
//
// The k-th slot falls at k/rate after the start, whenever the offerer gets
// the CPU: slots passed while it waited are offered at once, so a busy
// machine does not lower the rate offered (a ticker drops the ticks its
// reader misses).
//
// cold opens every chat at once (active = all): every chat's first step
// before any next step, a burst of new chats.
func paced(ctx context.Context, users []*loadtest.User, rate, active int, cold bool, timeout time.Duration, fail func(error)) pacing {
	if active <= 0 || cold {
		active = len(users)
	}
	ready := make(chan *loadtest.User, len(users)) // answered (or new), oldest first
	fresh := users
	open := func() {
		if len(fresh) > 0 {
			ready <- fresh[0]
			fresh = fresh[1:]
		}
	}
	for range min(active, len(users)) {
		open()
	}
	finished := make(chan struct{}, len(users)) // a conversation ended: open the next
	var inflight sync.WaitGroup
	left := len(users)
	deadline := time.After(timeout + 10*time.Minute)
	var pc pacing
	start := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for left > 0 {
		select {
		case <-ctx.Done():
			return pc
		case <-deadline:
			fail(errors.New("fixed-rate run did not finish"))
			return pc
		case <-finished:
			left--
			open()
			continue
		case <-timer.C:
		}
		due := int(time.Since(start) * time.Duration(rate) / time.Second)
		for ; pc.slots < due; pc.slots++ {
			var u *loadtest.User
			select {
			case u = <-ready:
			default:
				pc.idle++ // every open chat is waiting for a reply
				if len(fresh) > 0 {
					pc.behind++
				}
				continue
			}
			pc.offered++
			pc.last = time.Since(start)
			if len(fresh) > 0 {
				pc.steady = pc.last
				pc.steadyOffered = pc.offered
			}
			if err := u.Offer(); err != nil {
				fail(err)
				finished <- struct{}{}
				continue
			}
			inflight.Go(func() {
				if err := u.Await(ctx, timeout, 3); err != nil {
					fail(err)
					finished <- struct{}{}
					return
				}
				if u.Next < len(u.Steps) {
					ready <- u
				} else {
					finished <- struct{}{}
				}
			})
		}
		timer.Reset(time.Until(start.Add(time.Duration(pc.slots+1) * time.Second / time.Duration(rate))))
	}
	inflight.Wait()
	return pc
}

// pacing is what the fixed-rate run offered.
type pacing struct {
	slots, offered int
	idle           int // slots that found every open chat waiting for its reply
	behind         int // of them, while chats were left to open (the bot behind, not the last conversations finishing)
	// While chats were left to open: the time and the updates offered.
	steady        time.Duration
	steadyOffered int
	last          time.Duration // the last offer
}

func (p pacing) String() string {
	span := fmt.Sprintf("%.0f/s over the first %.1f s (while chats were left to open)", float64(p.steadyOffered)/max(p.steady.Seconds(), 1e-9), p.steady.Seconds())
	if p.steady == 0 { // every chat open from the start (-rate-cold, -active 0)
		span = fmt.Sprintf("%.0f/s up to the last offer at %.1f s", float64(p.offered)/max(p.last.Seconds(), 1e-9), p.last.Seconds())
	}
	return fmt.Sprintf("offered %d updates in %d slots: %s; %d slots found every open chat waiting for its reply (the bot behind, or the last conversations finishing), %d of them while chats were left to open",
		p.offered, p.slots, span, p.idle, p.behind)
}

// checkReplies: every chat got the messages its script expects — one per
// step, a step's replies joined (bot/join.go), plus the steps' Extra: one
// more would be a duplicate, one less a loss — and no "busy".
func checkReplies(users []*loadtest.User) []string {
	var problems []string
	off := map[string]int{} // "steps/got/want" -> chats
	busy := 0
	for _, u := range users {
		if n, want := u.C.Count(), u.WantMessages(); n != want {
			off[fmt.Sprintf("%d steps: %d messages, want %d", len(u.Steps), n, want)]++
		}
		busy += u.Busy
	}
	if len(off) > 0 {
		problems = append(problems, fmt.Sprintf("chats got another number of messages than their steps ask (what: chats) %v: duplicates, losses or replies not joined", off))
	}
	if busy > 0 {
		problems = append(problems, fmt.Sprintf("%d 'please try again' replies", busy))
	}
	return problems
}

// apiCallsPerUpdate is the Bot API requests the bot made per update, by
// method (the start-up's getMe and webhook calls included; few).
func apiCallsPerUpdate(api *loadtest.Server, updates int) string {
	var parts []string
	for _, m := range []string{"getUpdates", "sendMessage", "answerCallbackQuery", "sendDocument", "getFile"} {
		if n := api.Calls(m); n > 0 {
			parts = append(parts, fmt.Sprintf("%s %.2f", m, float64(n)/float64(max(updates, 1))))
		}
	}
	if n := api.Calls("documentUpload"); n > 0 || api.Calls("sendDocument") > 0 {
		// The rest went by the file_id of one uploaded before.
		parts = append(parts, fmt.Sprintf("of the documents uploads %.2f", float64(n)/float64(max(updates, 1))))
	}
	if n := api.Calls("webhookReply"); n > 0 {
		// Methods the bot gave in its webhook responses: counted above,
		// but no request of the bot's.
		parts = append(parts, fmt.Sprintf("of them in webhook responses %.2f", float64(n)/float64(max(updates, 1))))
	}
	return "Bot API calls per update: " + strings.Join(parts, ", ")
}

// messagesPerUpdate is the messages the bot sent the users (sendMessage;
// documents apart) per update they sent.
func messagesPerUpdate(users []*loadtest.User, updates int) string {
	sent := 0
	for _, u := range users {
		sent += u.C.Count()
	}
	return fmt.Sprintf("messages sent: %d for %d updates (%.2f per update)", sent, updates, float64(sent)/float64(max(updates, 1)))
}

func checkDB(ctx context.Context, dbURL string, people []loadtest.Person, indicators bool) []string {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return []string{"connect to check: " + err.Error()}
	}
	defer conn.Close(ctx)
	var problems []string
	// Exactly one answer per person, the one their script gave
	// (loadtest.MixSteps): «Tham dự», or the benchmark's substitute.
	rs, err := conn.Query(ctx, `SELECT person_id, status, COALESCE(sub_name, ''), COALESCE(sub_position, ''), COALESCE(sub_phone, '') FROM rsvps`)
	if err != nil {
		return append(problems, "query rsvps: "+err.Error())
	}
	type answer struct{ status, name, position, phone string }
	got := map[string][]answer{}
	rows := 0
	for rs.Next() {
		var id string
		var a answer
		if err := rs.Scan(&id, &a.status, &a.name, &a.position, &a.phone); err != nil {
			rs.Close()
			return append(problems, "scan rsvps: "+err.Error())
		}
		got[id] = append(got[id], a)
		rows++
	}
	rs.Close()
	bad := 0
	for i, p := range people {
		_, attend := loadtest.MixSteps(i, p.Token, p.Phone)
		want := answer{"substitute", loadtest.Substitute.Name, loadtest.Substitute.Position, loadtest.Substitute.Phone}
		if attend {
			want = answer{status: "attend"}
		}
		if a := got[p.ID]; len(a) != 1 || a[0] != want {
			bad++
		}
	}
	if rows != len(people) || bad != 0 {
		problems = append(problems, fmt.Sprintf("rsvps: %d rows, %d of %d people without exactly their one answer", rows, bad, len(people)))
	}
	if indicators {
		want := 0
		for _, p := range people {
			if p.Indicator != "" {
				want++
			}
		}
		var subs, okSubs int
		err = conn.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE status = 'submitted' AND value = '5' AND doc_date <> '' AND evidence <> '[]')
			FROM submissions`).Scan(&subs, &okSubs)
		if err != nil {
			return append(problems, "query submissions: "+err.Error())
		}
		if subs != want || okSubs != want {
			problems = append(problems, fmt.Sprintf("submissions: %d rows, %d submitted with value and evidence; want %d", subs, okSubs, want))
		}
	}
	return problems
}

// ---------------------------------------------------------------- the bare echo bot

func runEcho(ctx context.Context, c config, mode string) (result, error) {
	r := result{name: "bare echo (tgbotapi)", mode: mode, allocsPerUpd: -1, redisPerSess: -1, ok: true}
	opt := loadtest.Options{Token: token}
	self, err := os.Executable()
	if err != nil {
		return r, err
	}
	env := map[string]string{}
	if mode == "webhook" {
		addr, err := loadtest.FreeAddr()
		if err != nil {
			return r, err
		}
		opt.PushURLs = []string{"http://" + addr + "/telegram/webhook"}
		opt.PushWorkers = webhookConns
		env["BENCH_ECHO_WEBHOOK_ADDR"] = addr
	}
	api, err := loadtest.Start(opt)
	if err != nil {
		return r, err
	}
	defer api.Close()
	env["BENCH_ECHO_API"] = api.URL()
	env["BENCH_ECHO_TOKEN"] = token
	cmd := exec.Command(self)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return r, err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	if mode == "webhook" {
		if err := loadtest.WaitPort(env["BENCH_ECHO_WEBHOOK_ADDR"], 20*time.Second); err != nil {
			return r, err
		}
	}
	steps := loadtest.MixMeanSteps
	users := make([]*loadtest.User, c.chats)
	for i := range users {
		users[i] = &loadtest.User{S: api, C: api.Chat(int64(800000000 + i)), Steps: loadtest.EchoSteps(steps)}
	}
	pid := cmd.Process.Pid
	cpu0, _ := loadtest.CPUSeconds(pid)
	t0 := time.Now()
	var wg sync.WaitGroup
	var failed atomic.Int64
	var pmu sync.Mutex
	active := c.slots()
	for _, u := range users {
		active <- struct{}{}
		wg.Go(func() {
			defer func() { <-active }()
			if err := u.Run(ctx, c.stepTimeout, 0); err != nil {
				if failed.Add(1) <= 3 {
					pmu.Lock()
					r.problems = append(r.problems, err.Error())
					pmu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	el := time.Since(t0)
	cpu1, _ := loadtest.CPUSeconds(pid)
	rss, _ := loadtest.PeakRSS(pid)
	total := c.chats * steps
	lat := api.Latencies()
	r.chats, r.updates, r.seconds, r.rate = c.chats, total, el.Seconds(), float64(total)/el.Seconds()
	r.p50, r.p95, r.p99, r.max = loadtest.Percentile(lat, 50), loadtest.Percentile(lat, 95), loadtest.Percentile(lat, 99), loadtest.Percentile(lat, 100)
	r.cpuPerUpd = (cpu1 - cpu0) * 1000 / float64(total)
	r.rssMB = float64(rss) / (1 << 20)
	if n := failed.Load(); n > 0 {
		r.ok = false
		r.problems = append(r.problems, fmt.Sprintf("%d chats failed", n))
	}
	return r, nil
}

// echoBot is the baseline: the telegram-bot-api client's own update loop
// (or a webhook handler decoding with its types) answering every text with
// itself, one goroutine per update.
func echoBot() error {
	api, err := tgbotapi.NewBotAPIWithClient(os.Getenv("BENCH_ECHO_TOKEN"), os.Getenv("BENCH_ECHO_API")+"/bot%s/%s", &http.Client{})
	if err != nil {
		return err
	}
	reply := func(u tgbotapi.Update) {
		if u.Message == nil {
			return
		}
		if _, err := api.Send(tgbotapi.NewMessage(u.Message.Chat.ID, u.Message.Text)); err != nil {
			fmt.Fprintln(os.Stderr, "echo send:", err)
		}
	}
	if addr := os.Getenv("BENCH_ECHO_WEBHOOK_ADDR"); addr != "" {
		mux := http.NewServeMux()
		mux.HandleFunc("POST /telegram/webhook", func(w http.ResponseWriter, r *http.Request) {
			u, err := api.HandleUpdate(r)
			if err != nil {
				http.Error(w, err.Error(), 400)
				return
			}
			reply(*u)
		})
		return http.ListenAndServe(addr, mux)
	}
	cfg := tgbotapi.NewUpdate(0)
	cfg.Timeout = 25
	for u := range api.GetUpdatesChan(cfg) {
		go reply(u)
	}
	return nil
}

// ---------------------------------------------------------------- services

// adminConn connects to the server as admin and names the run's own
// database (dbURL's), which the server's statistics are filtered by.
func adminConn(ctx context.Context, admin, dbURL string) (*pgx.Conn, string, error) {
	u, err := url.Parse(dbURL)
	if err != nil {
		return nil, "", err
	}
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return nil, "", err
	}
	return conn, strings.TrimPrefix(u.Path, "/"), nil
}

// pgDurability names the server's settings that decide whether a commit
// is on disk when it returns, so that figures taken without syncs (the
// tests' settings) are never read as the durable inbox's.
func pgDurability(admin string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return "settings unknown"
	}
	defer conn.Close(ctx)
	var fsync, syncCommit, fpw string
	if err := conn.QueryRow(ctx, `SELECT current_setting('fsync'), current_setting('synchronous_commit'), current_setting('full_page_writes')`).Scan(&fsync, &syncCommit, &fpw); err != nil {
		return "settings unknown"
	}
	verdict := "durable: a commit is on disk when it returns"
	if fsync != "on" || syncCommit == "off" {
		verdict = "NOT durable: a commit may be lost in a crash, so these figures leave out the syncs the inbox's promise costs"
	}
	return fmt.Sprintf("fsync %s, synchronous_commit %s, full_page_writes %s (%s)", fsync, syncCommit, fpw, verdict)
}

// pgStatements reads pg_stat_statements (when the server has it) for the
// run's own database: calls and milliseconds by kind of statement, keys
// "all", "all ms" and the inbox's statements. Counted per database, they
// are the run's alone even when other work shares the server.
func pgStatements(ctx context.Context, admin, dbURL string) map[string]float64 {
	conn, db, err := adminConn(ctx, admin, dbURL)
	if err != nil {
		return nil
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT s.query, s.calls, s.total_exec_time, s.rows FROM pg_stat_statements s
		JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = $1`, db)
	if err != nil {
		return nil
	}
	defer rows.Close()
	out := map[string]float64{}
	for rows.Next() {
		var q string
		var calls, n int64
		var ms float64
		if rows.Scan(&q, &calls, &ms, &n) != nil {
			return nil
		}
		out["all"] += float64(calls)
		out["all ms"] += ms
		switch {
		case strings.Contains(q, "INSERT INTO inbox "), strings.Contains(q, "pg_advisory_xact_lock(7347110013)"), strings.HasPrefix(q, "SELECT chat, MAX(id) FROM inbox "):
			out["inbox append"] += float64(calls)
		case strings.Contains(q, "FROM inbox i LEFT JOIN"):
			out["inbox read"] += float64(calls)
		case strings.HasPrefix(q, "DELETE FROM inbox "):
			out["inbox delete"] += float64(calls)
		case strings.HasPrefix(q, "WITH q (n, channel, user_id, cand)"):
			out["facts"] += float64(calls)  // who the chats are (sqlstore.IdentityStates)
			out["facts rows"] += float64(n) // chats looked up
		}
	}
	if rows.Err() != nil {
		return nil
	}
	return out
}

// pgStat is one statement's counters in pg_stat_statements.
type pgStat struct {
	calls, rows float64
	ms          float64
}

// pgStatementRows reads pg_stat_statements of the run's database by
// statement (top-level or nested, the foreign-key checks' included where
// the server tracks all); nil when dir is "" or the server has none.
func pgStatementRows(ctx context.Context, admin, dbURL, dir string) map[string]pgStat {
	if dir == "" {
		return nil
	}
	conn, db, err := adminConn(ctx, admin, dbURL)
	if err != nil {
		return nil
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT CASE WHEN s.toplevel THEN '' ELSE '(nested) ' END || regexp_replace(s.query, '\s+', ' ', 'g'),
		s.calls::float8, s.rows::float8, s.total_exec_time FROM pg_stat_statements s
		JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = $1`, db)
	if err != nil {
		return nil
	}
	defer rows.Close()
	out := map[string]pgStat{}
	for rows.Next() {
		var q string
		var st pgStat
		if rows.Scan(&q, &st.calls, &st.rows, &st.ms) != nil {
			return nil
		}
		o := out[q] // one text may be several entries (users)
		out[q] = pgStat{o.calls + st.calls, o.rows + st.rows, o.ms + st.ms}
	}
	if rows.Err() != nil {
		return nil
	}
	return out
}

// writePGStatements writes the statements run between two readings of
// pgStatementRows, per update, most called first.
func writePGStatements(path string, before, after map[string]pgStat, updates int) error {
	if after == nil {
		return errors.New("pg_stat_statements unreadable")
	}
	type line struct {
		q string
		d pgStat
	}
	var lines []line
	var all pgStat
	for q, a := range after {
		b := before[q]
		d := pgStat{a.calls - b.calls, a.rows - b.rows, a.ms - b.ms}
		if d.calls > 0 {
			lines = append(lines, line{q, d})
			all.calls += d.calls
			all.ms += d.ms
		}
	}
	slices.SortFunc(lines, func(x, y line) int { return cmp.Compare(y.d.calls, x.d.calls) })
	u := float64(max(updates, 1))
	var b strings.Builder
	fmt.Fprintf(&b, "%d updates; per update: %.3f statements, %.3f ms\n  calls/upd   rows/upd    µs/upd  statement\n", updates, all.calls/u, all.ms/u)
	for _, l := range lines {
		fmt.Fprintf(&b, "%10.3f %10.3f %9.1f  %s\n", l.d.calls/u, l.d.rows/u, l.d.ms*1000/u, l.q)
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// pgBackendCPU reads the CPU seconds (/proc) of the server's processes by
// kind: the run's own database's backends (the bot's pool, its LISTEN
// connection apart) and the server's background processes (walwriter,
// autovacuum, checkpointer…: shared with other work on a shared server).
// Keyed by kind, then pid, so that backends that come or go during a run
// count from zero or drop out.
func pgBackendCPU(ctx context.Context, admin, dbURL string) map[string]map[int]float64 {
	conn, runDB, err := adminConn(ctx, admin, dbURL)
	if err != nil {
		return nil
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT pid, COALESCE(datname, ''), backend_type, query LIKE 'LISTEN %' FROM pg_stat_activity`)
	if err != nil {
		return nil
	}
	defer rows.Close()
	out := map[string]map[int]float64{}
	for rows.Next() {
		var pid int
		var db, kind string
		var listen bool
		if rows.Scan(&pid, &db, &kind, &listen) != nil {
			return nil
		}
		switch {
		case db == runDB && listen:
			kind = "listener"
		case db == runDB:
			kind = "backends"
		case kind == "client backend":
			continue // other databases: other work
		}
		s, err := loadtest.CPUSeconds(pid)
		if err != nil {
			continue
		}
		if out[kind] == nil {
			out[kind] = map[int]float64{}
		}
		out[kind][pid] = s
	}
	if rows.Err() != nil {
		return nil
	}
	return out
}

// pgCPUPerUpdate is PostgreSQL's CPU per update by kind of process, from
// two readings of pgBackendCPU.
func pgCPUPerUpdate(before, after map[string]map[int]float64, updates int) string {
	per := map[string]float64{}
	var all float64
	for kind, pids := range after {
		for pid, s := range pids {
			d := s - before[kind][pid]
			per[kind] += d
			all += d
		}
	}
	var parts []string
	for kind, s := range per {
		if kind != "backends" && kind != "listener" {
			parts = append(parts, fmt.Sprintf("%s %.3f", kind, s*1000/float64(max(updates, 1))))
		}
	}
	slices.Sort(parts)
	return fmt.Sprintf("PostgreSQL CPU ms per update: %.3f in all; the run's backends %.3f, its listener %.3f; background (the whole server's): %s",
		all*1000/float64(max(updates, 1)), per["backends"]*1000/float64(max(updates, 1)), per["listener"]*1000/float64(max(updates, 1)), strings.Join(parts, ", "))
}

// pgWAL reads the run's database's commits and rollbacks
// (pg_stat_database) and the server's WAL counters (pg_stat_wal: the whole
// server's, so shared with other work on a shared server); nil when
// unreadable.
func pgWAL(ctx context.Context, admin, dbURL string) []float64 {
	conn, db, err := adminConn(ctx, admin, dbURL)
	if err != nil {
		return nil
	}
	defer conn.Close(ctx)
	v := make([]float64, 7)
	if err := conn.QueryRow(ctx, `SELECT d.xact_commit::float8, d.xact_rollback::float8, w.wal_records::float8, w.wal_fpi::float8,
		w.wal_bytes::float8, w.wal_write::float8, w.wal_sync::float8
		FROM pg_stat_database d, pg_stat_wal w WHERE d.datname = $1`, db).Scan(&v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6]); err != nil {
		return nil
	}
	return v
}

// pgWALPerUpdate is the commits and WAL of a run per update, from two
// readings of pgWAL.
func pgWALPerUpdate(before, after []float64, updates int) string {
	per := func(i int) float64 { return (after[i] - before[i]) / float64(max(updates, 1)) }
	return fmt.Sprintf("PostgreSQL per update: %.3f commits, %.3f rollbacks (the run's database); WAL (the whole server's): %.2f records, %.3f full-page images, %.0f bytes, %.3f writes, %.3f syncs",
		per(0), per(1), per(2), per(3), per(4), per(5), per(6))
}

// pgPerUpdate is the statements of a run per update, from two readings of
// pgStatements.
func pgPerUpdate(before, after map[string]float64, updates int) string {
	per := func(k string) float64 { return (after[k] - before[k]) / float64(max(updates, 1)) }
	return fmt.Sprintf("PostgreSQL per update: %.2f statements, %.2f ms (inbox: append %.2f, read %.2f, delete %.2f; facts %.2f, chats looked up %.2f)",
		per("all"), per("all ms"), per("inbox append"), per("inbox read"), per("inbox delete"), per("facts"), per("facts rows"))
}

func createDB(ctx context.Context, admin string) (string, func(), error) {
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return "", nil, err
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("bench_%d_%08x", time.Now().Unix(), rand.Uint32())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", nil, err
	}
	u, _ := url.Parse(admin)
	u.Path = "/" + name
	drop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, admin); err == nil {
			_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			c.Close(ctx)
		}
	}
	return u.String(), drop, nil
}

func redisClient(u string) (*goredis.Client, error) {
	o, err := goredis.ParseURL(u)
	if err != nil {
		return nil, err
	}
	return goredis.NewClient(o), nil
}

func usedMemory(ctx context.Context, rdb *goredis.Client) int64 {
	info, err := rdb.Info(ctx, "memory").Result()
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "used_memory:"); ok {
			var n int64
			fmt.Sscan(v, &n)
			return n
		}
	}
	return -1
}

// redisKeyKinds sums MEMORY USAGE of the run's own keys (under prefix) by
// kind, the key's first segment after the prefix ("session", "done", …):
// unlike used_memory, which others' traffic on a shared Redis moves, it is
// what this run's bot keeps.
func redisKeyKinds(ctx context.Context, rdb *goredis.Client, prefix string) (string, int64) {
	type kind struct{ n, bytes int64 }
	kinds := map[string]*kind{}
	var order []string
	iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var keys []string
	flush := func() {
		pipe := rdb.Pipeline()
		cmds := make([]*goredis.IntCmd, len(keys))
		for i, k := range keys {
			cmds[i] = pipe.MemoryUsage(ctx, k, 0)
		}
		_, _ = pipe.Exec(ctx)
		for i, k := range keys {
			n, err := cmds[i].Result()
			if err != nil {
				continue
			}
			name, _, _ := strings.Cut(strings.TrimPrefix(k, prefix), ":")
			kd := kinds[name]
			if kd == nil {
				kd = &kind{}
				kinds[name] = kd
				order = append(order, name)
			}
			kd.n++
			kd.bytes += n
		}
		keys = keys[:0]
	}
	for i := 0; iter.Next(ctx) && i < 1_000_000; i++ {
		if keys = append(keys, iter.Val()); len(keys) == 1000 {
			flush()
		}
	}
	flush()
	var parts []string
	var total int64
	for _, name := range order {
		kd := kinds[name]
		parts = append(parts, fmt.Sprintf("%s %d × %d B", name, kd.n, kd.bytes/kd.n))
		total += kd.bytes
	}
	return strings.Join(parts, ", "), total
}

func cleanRedis(rdb *goredis.Client, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var batch []string
	for i := 0; iter.Next(ctx) && i < 10_000_000; i++ {
		batch = append(batch, iter.Val())
		if len(batch) == 1000 {
			rdb.Del(ctx, batch...)
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		rdb.Del(ctx, batch...)
	}
}

// mallocs reads the bot's cumulative allocation count: from /metrics
// (go_memstats_mallocs_total) when the bot serves it, else from the
// bench-only expvar hook.
func mallocs(addr, debugAddr string) (uint64, string) {
	cl := &http.Client{Timeout: 5 * time.Second}
	if resp, err := cl.Get("http://" + addr + "/metrics"); err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == 200 {
			for _, line := range strings.Split(string(b), "\n") {
				if v, ok := strings.CutPrefix(line, "go_memstats_mallocs_total "); ok {
					var f float64
					fmt.Sscan(v, &f)
					return uint64(f), "/metrics go_memstats_mallocs_total"
				}
			}
		}
	}
	resp, err := cl.Get("http://" + debugAddr + "/debug/vars")
	if err != nil {
		return 0, ""
	}
	defer resp.Body.Close()
	var v struct {
		Memstats struct{ Mallocs uint64 } `json:"memstats"`
	}
	if json.NewDecoder(resp.Body).Decode(&v) != nil {
		return 0, ""
	}
	return v.Memstats.Mallocs, "runtime.MemStats via a bench-only expvar hook (build overlay)"
}

// goroutinesCreated reads the bot's count of goroutines started
// (go_sched_goroutines_created_goroutines_total), -1 when it has none.
func goroutinesCreated(addr string) float64 {
	cl := &http.Client{Timeout: 5 * time.Second}
	resp, err := cl.Get("http://" + addr + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "go_sched_goroutines_created_goroutines_total "); ok {
			var f float64
			fmt.Sscan(v, &f)
			return f
		}
	}
	return -1
}

// stageMeans reads the bot's dieuphoi_update_stage_seconds histogram and
// returns "stage mean" pairs in the order of an update's path: where an
// update's time went.
// metricValues reads the bot's counters without labels (pool waits), nil
// when the bot has none.
func metricValues(addr string) map[string]float64 {
	cl := &http.Client{Timeout: 5 * time.Second}
	resp, err := cl.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	vals := map[string]float64{}
	for _, line := range strings.Split(string(b), "\n") {
		name, val, ok := strings.Cut(line, " ")
		if !ok || !strings.HasPrefix(name, "dieuphoi_") || (strings.Contains(name, "{") && !strings.HasPrefix(name, "dieuphoi_redis_commands_total{")) {
			continue
		}
		var f float64
		fmt.Sscan(val, &f)
		vals[name] = f
	}
	if _, ok := vals["dieuphoi_db_pool_waits_total"]; !ok {
		return nil
	}
	return vals
}

// redisTraffic is what the bot asked of Redis per update, by its own
// counters: round trips (a pipeline once) and commands by name (a script
// by its name).
func redisTraffic(before, after map[string]float64, total int) string {
	trips := after["dieuphoi_redis_roundtrips_total"] - before["dieuphoi_redis_roundtrips_total"]
	if trips <= 0 {
		return ""
	}
	type cmd struct {
		name string
		n    float64
	}
	var cmds []cmd
	var all float64
	for k, v := range after {
		name, ok := strings.CutPrefix(k, "dieuphoi_redis_commands_total{command=\"")
		if !ok {
			continue
		}
		if n := v - before[k]; n > 0 {
			cmds = append(cmds, cmd{strings.TrimSuffix(name, "\"}"), n})
			all += n
		}
	}
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].n > cmds[j].n })
	var parts []string
	for _, c := range cmds {
		parts = append(parts, fmt.Sprintf("%s %.2f", c.name, c.n/float64(max(total, 1))))
	}
	return fmt.Sprintf("Redis from the bot per update: %.2f round trips, %.2f commands (%s)",
		trips/float64(max(total, 1)), all/float64(max(total, 1)), strings.Join(parts, ", "))
}

// redisServerStats reads the Redis server's CPU (ms) and its command
// statistics (calls, µs) — the whole server's: on a shared one, others'
// work counts too.
func redisServerStats(ctx context.Context, rdb *goredis.Client) map[string][2]float64 {
	out := map[string][2]float64{}
	for _, section := range []string{"cpu", "commandstats"} {
		info, err := rdb.Info(ctx, section).Result()
		if err != nil {
			return nil
		}
		for _, line := range strings.Split(info, "\n") {
			line = strings.TrimSpace(line)
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			switch {
			case k == "used_cpu_sys" || k == "used_cpu_user":
				var f float64
				fmt.Sscan(v, &f)
				cpu := out["cpu"]
				cpu[0] += f * 1000
				out["cpu"] = cpu
			case strings.HasPrefix(k, "cmdstat_"):
				var calls, usec float64
				for _, f := range strings.Split(v, ",") {
					fk, fv, _ := strings.Cut(f, "=")
					switch fk {
					case "calls":
						fmt.Sscan(fv, &calls)
					case "usec":
						fmt.Sscan(fv, &usec)
					}
				}
				out[strings.TrimPrefix(k, "cmdstat_")] = [2]float64{calls, usec}
			}
		}
	}
	return out
}

// redisPerUpdate is the Redis server's CPU and script time per update
// (commands run inside scripts are counted by Redis too, so only the
// calls from clients are listed).
func redisPerUpdate(before, after map[string][2]float64, total int) string {
	n := float64(max(total, 1))
	d := func(k string, i int) float64 { return after[k][i] - before[k][i] }
	var parts []string
	for _, k := range []string{"evalsha", "eval", "mget"} {
		if c := d(k, 0); c > 0 {
			parts = append(parts, fmt.Sprintf("%s %.2f calls %.1f µs", k, c/n, d(k, 1)/n))
		}
	}
	return fmt.Sprintf("Redis server per update (the whole server's: on a shared one others' work counts too): CPU %.3f ms; %s",
		d("cpu", 0)/n, strings.Join(parts, ", "))
}

func stageMeans(addr string) string {
	cl := &http.Client{Timeout: 5 * time.Second}
	resp, err := cl.Get("http://" + addr + "/metrics")
	if err != nil {
		return ""
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	sum, count, fast := map[string]float64{}, map[string]float64{}, map[string]float64{}
	cache := map[string]float64{}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "dieuphoi_facts_cache_total{result=\""); ok {
			if res, val, ok := strings.Cut(rest, "\"} "); ok {
				var f float64
				fmt.Sscan(val, &f)
				cache[res] = f
			}
			continue
		}
		if rest, ok := strings.CutPrefix(line, "dieuphoi_work_cache_total{list=\"submissions\",result=\""); ok {
			if res, val, ok := strings.Cut(rest, "\"} "); ok {
				var f float64
				fmt.Sscan(val, &f)
				cache["work "+res] = f
			}
			continue
		}
		rest, ok := strings.CutPrefix(line, "dieuphoi_update_stage_seconds_")
		if !ok {
			continue
		}
		if r, ok := strings.CutPrefix(rest, "bucket{stage=\""); ok {
			// The tail: how many took longer than 100 ms.
			stage, r, _ := strings.Cut(r, "\",le=\"0.1\"} ")
			if r != "" {
				var n float64
				fmt.Sscan(r, &n)
				fast[stage] = n
			}
			continue
		}
		kind, rest, _ := strings.Cut(rest, "{stage=\"")
		stage, val, ok := strings.Cut(rest, "\"} ")
		if !ok {
			continue
		}
		var f float64
		fmt.Sscan(val, &f)
		switch kind {
		case "sum":
			sum[stage] = f
		case "count":
			count[stage] = f
		}
	}
	var parts []string
	for _, st := range []string{"inbox_wait", "chat_queue", "begin", "facts", "apply", "save", "send", "finish", "after"} {
		if count[st] > 0 {
			part := fmt.Sprintf("%s %.1f", st, 1000*sum[st]/count[st])
			if slow := count[st] - fast[st]; slow > 0 {
				part += fmt.Sprintf(" (%.1f%% > 100 ms)", 100*slow/count[st])
			}
			parts = append(parts, part)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	// Updates of a linked chat naming nobody new: facts cached with the
	// session (hit) or read (miss).
	return "mean ms per stage: " + strings.Join(parts, ", ") +
		fmt.Sprintf("; facts cache: %.0f hits, %.0f misses; focal points' submissions kept: %.0f hits, %.0f misses",
			cache["hit"], cache["miss"], cache["work hit"], cache["work miss"])
}

func cpuProfile(debugAddr, path string, seconds int) error {
	_ = os.MkdirAll(filepath.Dir(path), 0o755)
	cl := &http.Client{Timeout: time.Duration(seconds+30) * time.Second}
	resp, err := cl.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", debugAddr, seconds))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("pprof at %s: %s", debugAddr, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(f, resp.Body)
	return err
}

// saveProfile writes the bot's named pprof profile (e.g. "allocs") to
// path; a failure only loses the profile.
func saveProfile(addr, name, path string) {
	_ = os.MkdirAll(filepath.Dir(path), 0o755)
	cl := &http.Client{Timeout: 30 * time.Second}
	resp, err := cl.Get(fmt.Sprintf("http://%s/debug/pprof/%s", addr, name))
	if err != nil {
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return
	}
	if f, err := os.Create(path); err == nil {
		_, _ = io.Copy(f, resp.Body)
		_ = f.Close()
	}
}

// ---------------------------------------------------------------- output

func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond)) }

func printRow(r result) {
	fmt.Printf("  %s/%s: %d updates from %d chats in %.1fs = %.0f updates/s; latency p50 %s p95 %s p99 %s max %s ms; CPU %.2f ms/update; RSS %.0f MB; ok=%v %s\n",
		r.name, r.mode, r.updates, r.chats, r.seconds, r.rate, ms(r.p50), ms(r.p95), ms(r.p99), ms(r.max), r.cpuPerUpd, r.rssMB, r.ok, strings.Join(r.notes, "; "))
}

func render(c config, rows []result) string {
	var b strings.Builder
	host, _ := os.Hostname()
	fmt.Fprintf(&b, "## dieuphoi benchmark — %s\n\n", time.Now().Format("2006-01-02 15:04"))
	fmt.Fprintf(&b, "Machine: nproc %d, GOMAXPROCS %d, %s/%s, %s, host %s. Bot, fake Bot API + simulated users, PostgreSQL and Redis all share these CPUs. PostgreSQL: %s.\n",
		runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH, runtime.Version(), host, pgDurability(c.db))
	fmt.Fprintf(&b, "Load: %d chats per run, every other one the 3-step RSVP (invite link, own number, «Tham dự»), the others the 7-step substitute (invite link, own number, five steps naming a substitute); %d of them focal points who then enter one indicator with an evidence PDF (10 more updates). Latency: update offered (queued for getUpdates or for a webhook connection) → the reply its user waited for, at the fake (one sample per step).\n\n",
		c.chats, min(c.focal, 37*loadtest.MaxPerAgency))
	b.WriteString("| run | mode | chats | updates | s | updates/s | p50 ms | p95 ms | p99 ms | max ms | CPU ms/update | allocs/update | peak RSS MB | Redis B/session | correct |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		allocs, redis := "n/a", "n/a"
		if r.allocsPerUpd >= 0 {
			allocs = fmt.Sprintf("%.0f", r.allocsPerUpd)
		}
		if r.redisPerSess >= 0 {
			redis = fmt.Sprintf("%.0f", r.redisPerSess)
		}
		okText := "yes"
		if !r.ok {
			okText = "NO: " + strings.Join(r.problems, "; ")
		}
		name := r.name
		if c.pairs > 1 && r.pair > 0 {
			name = fmt.Sprintf("%s (pair %d)", name, r.pair)
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %d | %.1f | %.0f | %s | %s | %s | %s | %.2f | %s | %.0f | %s | %s |\n",
			name, r.mode, r.chats, r.updates, r.seconds, r.rate, ms(r.p50), ms(r.p95), ms(r.p99), ms(r.max), r.cpuPerUpd, allocs, r.rssMB, redis, okText)
	}
	b.WriteString("\nTargets:\n\n")
	for _, mode := range c.modes {
		var fixed *result
		var maxes []*result
		echoOf := map[int]*result{} // by pair
		for i := range rows {
			r := &rows[i]
			if r.mode != mode {
				continue
			}
			switch {
			case strings.HasPrefix(r.name, "bare"):
				echoOf[r.pair] = r
			case strings.Contains(r.name, "@"):
				fixed = r
			default:
				maxes = append(maxes, r)
			}
		}
		met := func(ok bool) string {
			if ok {
				return "met"
			}
			return "MISSED"
		}
		if fixed != nil {
			fmt.Fprintf(&b, "- %s: p99 < 50 ms at %d updates/s: %s (p99 %s ms, achieved %.0f/s)\n", mode, c.rate, met(fixed.p99 < 50*time.Millisecond), ms(fixed.p99), fixed.rate)
			for _, n := range fixed.notes {
				fmt.Fprintf(&b, "  - %s\n", n)
			}
		}
		if len(maxes) == 0 {
			continue
		}
		// With several pairs the targets take the median run (each run
		// listed), the peak RSS the highest.
		var rates, ratios []float64
		var each, eachRatio []string
		peak := maxes[0]
		for _, m := range maxes {
			rates = append(rates, m.rate)
			each = append(each, fmt.Sprintf("%.0f", m.rate))
			if e := echoOf[m.pair]; e != nil && e.rate > 0 {
				ratios = append(ratios, m.rate/e.rate)
				eachRatio = append(eachRatio, fmt.Sprintf("%.0f vs %.0f updates/s = %.2f", m.rate, e.rate, m.rate/e.rate))
			}
			if m.rssMB > peak.rssMB {
				peak = m
			}
		}
		mr, rateNote := median(rates), each[0]
		if len(rates) > 1 {
			rateNote = fmt.Sprintf("median of %d runs %.0f; each: %s", len(rates), mr, strings.Join(each, ", "))
		}
		fmt.Fprintf(&b, "- %s: ≥ 2,500 updates/s sustained: %s (%s)\n", mode, met(mr >= 2500), rateNote)
		if len(ratios) > 0 {
			mq := median(ratios)
			ratioNote := eachRatio[0]
			if len(ratios) > 1 {
				ratioNote = fmt.Sprintf("median pair %.2f; each pair, dieuphoi vs the echo bot run just before it: %s", mq, strings.Join(eachRatio, "; "))
			}
			fmt.Fprintf(&b, "- %s: ≥ 0.4 × the bare echo bot's throughput: %s (%s)\n", mode, met(mq >= 0.4), ratioNote)
		}
		open := c.active
		if open <= 0 || open > peak.chats {
			open = peak.chats
		}
		fmt.Fprintf(&b, "- %s: peak RSS < 150 MB: %s (%.0f MB, the highest of the runs; %d chats, at most %d mid-conversation at once; -chats 10000 -active 0 for the issue's 10,000 open conversations)\n", mode, met(peak.rssMB < 150), peak.rssMB, peak.chats, open)
		for _, m := range maxes {
			indent := "  "
			if len(maxes) > 1 {
				fmt.Fprintf(&b, "  - pair %d:\n", m.pair)
				indent = "    "
			}
			for _, n := range m.notes {
				fmt.Fprintf(&b, "%s- %s\n", indent, n)
			}
		}
	}
	return b.String()
}

// pairNote names the pair being run when there are several.
func (c *config) pairNote() string {
	if c.pairs <= 1 || c.pair == 0 {
		return ""
	}
	return fmt.Sprintf(", pair %d of %d", c.pair, c.pairs)
}

// tag is mode, with the pair being run when there are several: the name of
// the run's files (profiles, statements, data directory).
func (c *config) tag(mode string) string {
	if c.pairs <= 1 || c.pair == 0 {
		return mode
	}
	return fmt.Sprintf("%s-p%d", mode, c.pair)
}

// median is the middle of xs (the mean of the middle two when even); xs is
// sorted in place.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	sort.Float64s(xs)
	m := len(xs) / 2
	if len(xs)%2 == 1 {
		return xs[m]
	}
	return (xs[m-1] + xs[m]) / 2
}

// slots bounds the users mid-conversation at once (-active): a user starts
// only when another has finished.
func (c *config) slots() chan struct{} {
	n := c.active
	if n <= 0 {
		n = c.chats
	}
	return make(chan struct{}, max(n, 1))
}

// gcSummary sums the collections the bot printed with GODEBUG=gctrace=1
// (BENCH_BOT_GODEBUG) during the run (after it started serving, a warm-up
// included): "gc N @t s p%: a+b+c ms clock, … ms cpu, h0->h1->live MB, goal
// MB goal, …" where a and c are the stop-the-world pauses, b the concurrent
// mark (one of GOMAXPROCS Ps given to it, plus assists), p the share of
// the CPU spent collecting since the process started.
func gcSummary(logs string) string {
	n := 0
	var total, most, mark, live, goal float64
	share := ""
	for _, line := range strings.Split(logs, "\n") {
		if !strings.HasPrefix(line, "gc ") {
			continue
		}
		head, rest, ok := strings.Cut(line, ": ")
		clock, rest, ok2 := strings.Cut(rest, " ms clock")
		if !ok || !ok2 {
			continue
		}
		parts := strings.Split(clock, "+")
		if len(parts) != 3 {
			continue
		}
		var a, b, c float64
		fmt.Sscan(parts[0], &a)
		fmt.Sscan(parts[1], &b)
		fmt.Sscan(parts[2], &c)
		n++
		total += a + c
		mark += b
		most = max(most, a+c)
		if f := strings.Fields(head); len(f) >= 4 {
			share = f[3]
		}
		if _, heap, ok := strings.Cut(rest, "cpu, "); ok {
			var h0, h1, h2, g float64
			fmt.Sscanf(strings.ReplaceAll(heap, "->", " "), "%f %f %f MB, %f MB goal", &h0, &h1, &h2, &g)
			live, goal = max(live, h2), max(goal, g)
		}
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("GC: %d collections, stop-the-world %.1f ms in all (at most %.2f ms), concurrent mark %.0f ms in all, %s of the CPU since start, live heap up to %.0f MB (goal up to %.0f MB)", n, total, most, mark, share, live, goal)
}
