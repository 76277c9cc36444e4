package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/internal/loadtest"
	"github.com/dieuphoi/dieuphoi/storage/postgres"
	"github.com/dieuphoi/dieuphoi/storage/sqlstore"
)

// The broadcast run: bcastMsgs outbox rows sent by 1 or 3 dieuphoi
// processes sharing one PostgreSQL outbox and one Redis limiter, against
// the fake enforcing Telegram's limits (loadtest.TelegramLimits: 30 a
// second in all, 1 a second per chat, 20 a minute per group; 429 with
// retry_after). bcastGroups group chats get bcastPerGroup of the messages
// each; bcastTalkers of the audience run the 3-step RSVP while the
// broadcast goes on, so their replies share the budget with it (a staff
// member in the audience talking to the bot).
const (
	bcastMsgs     = 1000
	bcastGroups   = 2
	bcastPerGroup = 10
	bcastTalkers  = 20
)

// bcastResult is one broadcast run.
type bcastResult struct {
	procs      int
	msgs       int // broadcast messages accepted by the fake
	replies    int // other sends accepted during the broadcast
	span       time.Duration
	bcastRate  float64 // broadcast messages a second
	totalRate  float64 // all sends a second over the broadcast's span
	maxIn1s    int     // most sends accepted in any 1-second window
	rejected   int     // 429s
	why        map[string]int
	talkersOK  int
	problems   []string
	ok         bool
	cpuSeconds float64
}

func runBroadcast(ctx context.Context, c config, bin, tmp string, camp *loadtest.Campaign, procs int) (bcastResult, error) {
	r := bcastResult{procs: procs, ok: true}
	dbURL, dropDB, err := createDB(ctx, c.db)
	if err != nil {
		return r, err
	}
	defer dropDB()
	prefix := fmt.Sprintf("bench:bcast%d:%d:", procs, rand.Uint32())
	rdb, err := redisClient(c.redis)
	if err != nil {
		return r, err
	}
	defer rdb.Close()
	defer cleanRedis(rdb, prefix)

	secret := "bench_webhook_secret_0123456789"
	var addrs, urls []string
	for range procs {
		a, err := loadtest.FreeAddr()
		if err != nil {
			return r, err
		}
		addrs = append(addrs, a)
		urls = append(urls, "http://"+a+"/telegram/webhook")
	}
	lim := loadtest.TelegramLimits
	api, err := loadtest.Start(loadtest.Options{Token: token, PushURLs: urls, PushWorkers: webhookConns, Secret: secret, Limits: &lim})
	if err != nil {
		return r, err
	}
	defer api.Close()

	var ps []*loadtest.Proc
	defer func() {
		for _, p := range ps {
			if !p.Exited() {
				_ = p.Stop(20 * time.Second)
			}
		}
	}()
	// The first process creates the schema; the others join it.
	for i, addr := range addrs {
		env := map[string]string{
			"DATABASE_URL": dbURL, "REDIS_URL": c.redis, "DIEUPHOI_REDIS_PREFIX": prefix,
			"DIEUPHOI_ADDR": addr, "DIEUPHOI_DATA_DIR": filepath.Join(tmp, mkdir(tmp, fmt.Sprintf("data-bcast%d-%d", procs, i))),
			"DIEUPHOI_CONFIG_DIR": camp.Dir, "DIEUPHOI_CLOCK_START": "2024-07-25T09:00:00+07:00",
			"DIEUPHOI_LOG_LEVEL": "warn", "TELEGRAM_BOT_TOKEN": token, "TELEGRAM_API_BASE": api.URL(),
			"TELEGRAM_WEBHOOK_URL": urls[i], "TELEGRAM_WEBHOOK_SECRET": secret, "DIEUPHOI_READ_EVIDENCE": "0",
			"DIEUPHOI_METRICS_ADDR": "off",
		}
		if c.inbox == "redis" {
			env["DIEUPHOI_INBOX"] = "redis"
			if c.inboxRedis != "" {
				env["DIEUPHOI_INBOX_REDIS_URL"] = c.inboxRedis
			}
		}
		p, err := loadtest.StartProc(bin, env, 120*time.Second)
		if err != nil {
			return r, err
		}
		ps = append(ps, p)
	}
	cpu0 := 0.0
	for _, p := range ps {
		s, _ := loadtest.CPUSeconds(p.Cmd.Process.Pid)
		cpu0 += s
	}

	// The audience: private chats, the talkers among them, and groups.
	talkers := make([]*loadtest.User, bcastTalkers)
	for i := range talkers {
		p := camp.People[2*i] // even: the 3-step RSVP
		steps, _ := loadtest.MixSteps(2*i, p.Token, p.Phone)
		talkers[i] = &loadtest.User{S: api, C: api.Chat(int64(900000000 + 2*i)), Steps: steps}
	}
	isBcast := map[int64]bool{}
	var chats []int64
	for i := range bcastMsgs - bcastGroups*bcastPerGroup {
		id := int64(700000000 + i)
		if i < len(talkers) {
			id = talkers[i].C.ID
		}
		chats = append(chats, id)
	}
	// Group messages every 40th row among the first 800, in turn.
	var rows []int64
	g, k := 0, 0
	for _, id := range chats {
		if k%39 == 0 && g < bcastGroups*bcastPerGroup {
			rows = append(rows, -1001000000000-int64(g%bcastGroups))
			g++
		}
		rows = append(rows, id)
		k++
	}
	for g < bcastGroups*bcastPerGroup {
		rows = append(rows, -1001000000000-int64(g%bcastGroups))
		g++
	}
	for _, id := range rows {
		isBcast[id] = true
	}

	st, err := postgres.Open(ctx, dbURL)
	if err != nil {
		return r, err
	}
	defer st.Close()
	due := time.Date(2024, 7, 25, 8, 0, 0, 0, time.FixedZone("ICT", 7*3600))
	const text = "📢 Thông báo của Ban tổ chức: Hội nghị bắt đầu lúc 08:00 tại Hội trường tầng 3."
	fmt.Printf("  enqueueing %d broadcast messages (%d to %d groups, %d to chats that talk to the bot meanwhile)…\n",
		len(rows), bcastGroups*bcastPerGroup, bcastGroups, len(talkers))
	for i, id := range rows {
		if _, err := st.Enqueue(ctx, sqlstore.OutboxItem{Key: fmt.Sprintf("broadcast|bench|%d", i), Job: "broadcast",
			Channel: domain.Telegram, ChatID: fmt.Sprint(id), Payload: []byte(`[{"Text":"` + text + `"}]`), DueAt: due}); err != nil {
			return r, fmt.Errorf("enqueue: %w", err)
		}
	}

	// The talkers start one a second once the broadcast is under way.
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i, u := range talkers {
		wg.Go(func() {
			if !sleepCtx(ctx, 2*time.Second+time.Duration(i)*time.Second) {
				return
			}
			// A person reads and taps: a second and a half between a
			// reply and their next step (a simulated user answering at
			// once would be a burst no chat of a person makes).
			var err error
			for err == nil && u.Next < len(u.Steps) {
				if err = u.Offer(); err == nil {
					err = u.Await(ctx, c.stepTimeout, 0)
				}
				sleepCtx(ctx, 1500*time.Millisecond)
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				r.problems = append(r.problems, err.Error())
			} else {
				r.talkersOK++
			}
		})
	}
	// Wait for every broadcast message, at most 3 minutes.
	deadline := time.Now().Add(3 * time.Minute)
	for {
		if countBcast(api, isBcast, text) >= len(rows) || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		sleepCtx(ctx, 200*time.Millisecond)
	}
	wg.Wait()
	cpu1 := 0.0
	for _, p := range ps {
		s, _ := loadtest.CPUSeconds(p.Cmd.Process.Pid)
		cpu1 += s
	}
	r.cpuSeconds = cpu1 - cpu0

	stats := api.SendStats()
	r.rejected, r.why = stats.Rejected, stats.Why
	if c.verbose {
		for _, f := range stats.Refusals {
			n := len(api.Chat(f.Chat).Messages())
			fmt.Printf("  429 %s chat %d at %s (chat has %d messages)\n", f.Why, f.Chat, f.At.Format("15:04:05.000"), n)
		}
	}
	var bts []time.Time
	var all []time.Time
	for _, s := range stats.Accepted {
		all = append(all, s.At)
	}
	bts = bcastTimes(api, isBcast, text)
	r.msgs = len(bts)
	if r.msgs < 2 {
		r.problems = append(r.problems, fmt.Sprintf("%d of %d broadcast messages arrived", r.msgs, len(rows)))
		r.ok = false
		return r, nil
	}
	first, last := bts[0], bts[len(bts)-1]
	r.span = last.Sub(first)
	within := 0
	for _, t := range all {
		if !t.Before(first) && !t.After(last) {
			within++
		}
	}
	r.replies = within - r.msgs
	r.bcastRate = float64(r.msgs-1) / r.span.Seconds()
	r.totalRate = float64(within-1) / r.span.Seconds()
	r.maxIn1s = maxInWindow(all, time.Second)
	if c.bcastTrace != "" {
		var ports []map[int]bool
		for _, p := range ps {
			pp, err := loadtest.SocketPorts(p.Cmd.Process.Pid)
			if err != nil {
				fmt.Println("  trace: sockets:", err)
			}
			ports = append(ports, pp)
		}
		traceBcast(c.bcastTrace, c.bcastRun, procs, stats.Accepted, isBcast, first, last, ports)
	}
	if r.msgs != len(rows) {
		r.problems = append(r.problems, fmt.Sprintf("%d of %d broadcast messages arrived", r.msgs, len(rows)))
	}
	if r.talkersOK != len(talkers) {
		r.problems = append(r.problems, fmt.Sprintf("%d of %d conversations during the broadcast finished", r.talkersOK, len(talkers)))
	}
	for i, p := range ps {
		if e, _ := p.ErrorLines(); e > 0 {
			r.problems = append(r.problems, fmt.Sprintf("process %d: %d ERROR log lines", i+1, e))
		}
	}
	r.ok = len(r.problems) == 0
	if !r.ok {
		for i, p := range ps {
			logs := p.Logs()
			if len(logs) > 2000 {
				logs = logs[len(logs)-2000:]
			}
			fmt.Printf("  process %d last logs:\n%s\n", i+1, logs)
		}
	}
	return r, nil
}

// bcastTimes returns when each broadcast message (text to a broadcast
// chat) was accepted, in order.
func bcastTimes(api *loadtest.Server, isBcast map[int64]bool, text string) []time.Time {
	var ts []time.Time
	for id := range isBcast {
		for _, m := range api.Chat(id).Messages() {
			if m.Text == text {
				ts = append(ts, m.At)
			}
		}
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
	return ts
}

func countBcast(api *loadtest.Server, isBcast map[int64]bool, text string) int {
	return len(bcastTimes(api, isBcast, text))
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// maxInWindow is the most times within any window of length w.
func maxInWindow(ts []time.Time, w time.Duration) int {
	ts = append([]time.Time(nil), ts...)
	sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
	best, j := 0, 0
	for i := range ts {
		for ts[i].Sub(ts[j]) >= w {
			j++
		}
		best = max(best, i-j+1)
	}
	return best
}

func printBcast(r bcastResult) {
	fmt.Printf("  broadcast, %d process(es): %d messages in %.1fs = %.2f/s (%.1f%% of 30); with %d replies sent meanwhile %.2f/s (%.1f%% of 30); most in 1 s %d; %d × 429 %v; CPU %.1fs; ok=%v %s\n",
		r.procs, r.msgs, r.span.Seconds(), r.bcastRate, 100*r.bcastRate/30, r.replies, r.totalRate, 100*r.totalRate/30, r.maxIn1s, r.rejected, r.why, r.cpuSeconds, r.ok, strings.Join(r.problems, "; "))
}

func renderBcast(rs []bcastResult) string {
	if len(rs) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nBroadcast: %d outbox messages (%d of them to %d groups) sent by dieuphoi processes sharing one PostgreSQL outbox and one Redis limiter, webhook mode, against the fake enforcing Telegram's limits (30 a second in any second, 1 a second per private chat after a burst of 5, 20 a minute per group; 429 with retry_after); %d chats of the audience run the 3-step RSVP meanwhile, 1.5 s between a reply and their next step (their replies share the budget). Rates over the span from the first to the last broadcast message.\n\n",
		bcastMsgs, bcastGroups*bcastPerGroup, bcastGroups, bcastTalkers)
	b.WriteString("| processes | broadcast msgs | s | broadcast msg/s | replies meanwhile | all sends/s | % of 30 | most in 1 s | 429s | bot CPU s | correct |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rs {
		ok := "yes"
		if !r.ok {
			ok = "NO: " + strings.Join(r.problems, "; ")
		}
		fmt.Fprintf(&b, "| %d | %d | %.1f | %.2f | %d | %.2f | %.1f | %d | %d | %.1f | %s |\n",
			r.procs, r.msgs, r.span.Seconds(), r.bcastRate, r.replies, r.totalRate, 100*r.totalRate/30, r.maxIn1s, r.rejected, r.cpuSeconds, ok)
	}
	b.WriteString("\nTargets:\n\n")
	for _, r := range rs {
		met := "MISSED"
		if r.totalRate >= 0.97*30 && r.rejected == 0 && r.ok {
			met = "met"
		}
		fmt.Fprintf(&b, "- broadcast, %d process(es): ≥ 97 %% of 30 msg/s and 0 × 429: %s (%.1f %%, %d × 429)\n", r.procs, met, 100*r.totalRate/30, r.rejected)
	}
	return b.String()
}
