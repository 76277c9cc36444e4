package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dieuphoi/dieuphoi/internal/loadtest"
	"github.com/dieuphoi/dieuphoi/internal/testenv"
)

// startUsers runs every user's remaining steps in the background; wait
// returns the errors.
func startUsers(users []*loadtest.User, stepTimeout time.Duration, retries int) (wait func() []error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for _, u := range users {
		wg.Go(func() {
			if err := u.Run(ctx, stepTimeout, retries); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	return func() []error {
		wg.Wait()
		cancel()
		return errs
	}
}

// confirmed reports whether the user was told their substitute is recorded.
func confirmed(u *loadtest.User) bool {
	for _, m := range u.C.Messages() {
		if strings.Contains(m.Text, "Đã ghi nhận người đi thay") {
			return true
		}
	}
	return false
}

func failOn(t *testing.T, errs []error, total int) {
	t.Helper()
	for i, err := range errs {
		if i < 5 {
			t.Error(err)
		}
	}
	if len(errs) > 0 {
		t.Fatalf("%d of %d conversations did not complete", len(errs), total)
	}
}

// waitProgress waits until the users have done at least n steps in all (a
// step's replies are one message).
func waitProgress(t *testing.T, api *loadtest.Server, users []*loadtest.User, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		got := 0
		for _, u := range users {
			got += u.C.Count()
		}
		if got >= n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("users made no progress within %v", timeout)
}

// kill -9 of the bot in the middle of load, then a restart: conversations
// continue from their last confirmed step and nothing confirmed is lost or
// doubled. (The reply that was in flight may come a second time; the
// scripted users look for the reply they expect and tolerate that.)
func TestFaultKillDuringLoad(t *testing.T) {
	bin := loadBinary(t)
	const chats = 24
	setup := newLoadSetup(t, chats)
	api, err := loadtest.Start(loadtest.Options{Token: botToken})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(api.Close)
	env := setup.env(api, freeAddr(t), "")
	proc := startLoadProc(t, bin, env)

	users := rsvpUsers(api, setup.camp, 620000)
	for _, u := range users {
		acceptRecorded(u)
	}
	wait := startUsers(users, 25*time.Second, 0)
	// About half-way through the RSVPs (six steps, a message each), with
	// many chats mid-flow.
	waitProgress(t, api, users, chats*6/2, 20*time.Second)
	proc.Kill()
	mid := 0
	for _, u := range users {
		if n := u.C.Count(); n > 0 && !confirmed(u) {
			mid++
		}
	}
	t.Logf("killed pid %d with %d of %d chats mid-RSVP", proc.Cmd.Process.Pid, mid, chats)
	time.Sleep(300 * time.Millisecond)
	startLoadProc(t, bin, env)
	failOn(t, wait(), chats)
	wantOneSubstituteEach(t, setup.dbURL, chats)
}

// acceptRecorded lets u's confirm step also accept the bot's "already
// recorded" answer. A confirmation whose transaction committed just as the
// fault struck (the process killed, the database or Redis gone before the
// reply or the session save) is handled again afterwards; confirming the
// same substitute again changes nothing and the bot says so. The tests'
// database checks (one answer each, the confirmed one) are what prove
// nothing was lost or doubled.
func acceptRecorded(u *loadtest.User) {
	u.Steps = append([]loadtest.Step(nil), u.Steps...)
	for i := range u.Steps {
		if u.Steps[i].Name == "confirm" {
			u.Steps[i].Or = "đã được ghi nhận từ trước"
		}
	}
}

// startRedis runs a private redis-server on a free port, so that the test
// can kill and restart it.
func startRedis(t *testing.T, addr string) *exec.Cmd {
	t.Helper()
	return startRedisIn(t, addr, t.TempDir(), "--appendonly", "no")
}

// startRedisIn runs a private redis-server on addr keeping its files in
// dir (a restart in the same dir reads its append-only file back), with
// args after the defaults.
func startRedisIn(t *testing.T, addr, dir string, args ...string) *exec.Cmd {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv(testenv.EnvRequire) == "1" {
			t.Fatalf("redis-server is required (%s=1) but not installed", testenv.EnvRequire)
		}
		t.Skip("redis-server not installed")
	}
	_, port, _ := strings.Cut(addr, ":")
	cmd := exec.Command(path, append([]string{"--port", port, "--bind", "127.0.0.1", "--save", "", "--dir", dir}, args...)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-done })
	if err := loadtest.WaitPort(addr, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// Redis killed and restarted under load: the bot reconnects by itself; an
// update in flight gets at worst the polite "please try again" (the
// simulated users send it again, as a person would); conversations whose
// session was lost with Redis start again from the invitation; nothing
// confirmed is lost.
func TestFaultRedisRestart(t *testing.T) {
	bin := loadBinary(t)
	const chats = 20
	setup := newLoadSetup(t, chats)
	redisAddr := freeAddr(t)
	redis := startRedis(t, redisAddr)
	setup.redisURL = "redis://" + redisAddr + "/0"
	api, err := loadtest.Start(loadtest.Options{Token: botToken})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(api.Close)
	addr := freeAddr(t)
	startLoadProc(t, bin, setup.env(api, addr, ""))

	users := rsvpUsers(api, setup.camp, 630000)
	var confirmedBefore []string
	wait := startUsers(users, 6*time.Second, 5)
	waitProgress(t, api, users, chats*3, 20*time.Second)
	for i, u := range users {
		if confirmed(u) {
			confirmedBefore = append(confirmedBefore, setup.camp.People[i].ID)
		}
	}
	_ = redis.Process.Signal(syscall.SIGKILL)
	t.Logf("killed Redis with %d chats already confirmed", len(confirmedBefore))
	time.Sleep(1500 * time.Millisecond)
	startRedis(t, redisAddr)

	// Conversations whose session went with Redis restart from the
	// invitation (what a person told "start again" would do).
	errs := wait()
	var again []*loadtest.User
	for _, err := range errs {
		for _, u := range users {
			if strings.Contains(err.Error(), fmt.Sprintf("chat %d,", u.C.ID)) {
				u.Next = 0
				u.Seen = u.C.Count()
				u.Busy = 0
				acceptRecorded(u)
				again = append(again, u)
			}
		}
	}
	if len(again) > 0 {
		t.Logf("%d conversations lost their session with Redis and start again", len(again))
		failOn(t, startUsers(again, 10*time.Second, 5)(), len(again))
	}

	// The bot is ready again by itself.
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("/readyz after Redis came back = %d", resp.StatusCode)
	}
	// Every person's current answer is the substitute; nobody confirmed
	// before the outage lost it, and nothing is doubled beyond the times a
	// user confirmed again.
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, setup.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for i, p := range setup.camp.People {
		var n int
		var status string
		err := conn.QueryRow(ctx, `SELECT count(*) OVER (), status FROM rsvps WHERE person_id = $1 ORDER BY id DESC LIMIT 1`, p.ID).Scan(&n, &status)
		if err != nil {
			t.Errorf("%s: %v", p.ID, err)
			continue
		}
		confirms := 1
		for _, a := range again {
			if a == users[i] {
				confirms = 2
			}
		}
		if status != "substitute" || n > confirms {
			t.Errorf("%s: %d answers, current %q; want the substitute, at most %d", p.ID, n, status, confirms)
		}
	}
}

// pgOutage makes the test's database refuse connections and ends the ones
// open, without stopping the shared server; the returned func ends it.
func pgOutage(t *testing.T, dbURL string) func() {
	t.Helper()
	return pgOutageReady(t, dbURL)()
}

// pgOutageReady connects to the server now and returns the func that
// starts the outage: connecting takes a while on a loaded machine, during
// which a fast run may finish what the outage was meant to interrupt.
func pgOutageReady(t *testing.T, dbURL string) func() func() {
	t.Helper()
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, os.Getenv(testenv.EnvPostgres))
	if err != nil {
		t.Fatal(err)
	}
	c, err := pgx.ParseConfig(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	return func() func() { return startPgOutage(t, ctx, admin, c) }
}

func startPgOutage(t *testing.T, ctx context.Context, admin *pgx.Conn, c *pgx.ConnConfig) func() {
	t.Helper()
	name := pgx.Identifier{c.Database}.Sanitize()
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+name+" ALLOW_CONNECTIONS false"); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", c.Database); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	end := func() {
		once.Do(func() {
			if _, err := admin.Exec(ctx, "ALTER DATABASE "+name+" ALLOW_CONNECTIONS true"); err != nil {
				t.Error(err)
			}
			admin.Close(ctx)
		})
	}
	t.Cleanup(end)
	return end
}

// PostgreSQL unavailable under load: updates whose results could not be
// saved are not acknowledged (polling does not confirm past them; the
// webhook answers non-2xx), are delivered again when the database is back,
// and are then handled once.
func TestFaultPostgresOutage(t *testing.T) {
	for _, mode := range []string{"polling", "webhook"} {
		t.Run(mode, func(t *testing.T) {
			bin := loadBinary(t)
			const chats = 16
			setup := newLoadSetup(t, chats)
			addr := freeAddr(t)
			opt := loadtest.Options{Token: botToken}
			webhook := ""
			if mode == "webhook" {
				webhook = "http://" + addr + "/telegram/webhook"
				opt.PushURLs, opt.Secret = []string{webhook}, loadSecret
			}
			api, err := loadtest.Start(opt)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(api.Close)
			startLoadProc(t, bin, setup.env(api, addr, webhook))

			users := rsvpUsers(api, setup.camp, 640000)
			for _, u := range users {
				// A confirmation committed just as the connections were
				// cut reads as failed to the bot, which handles it again.
				acceptRecorded(u)
			}
			wait := startUsers(users, 25*time.Second, 0)
			outage := pgOutageReady(t, setup.dbURL)
			waitProgress(t, api, users, chats*3, 20*time.Second)
			end := outage()
			lastBefore := api.LastUpdateID()
			// Users wait for replies the outage holds back, so one may not
			// write during it: someone outside the load does, for sure.
			api.Text(api.Chat(649999), "/trogiup")
			time.Sleep(3 * time.Second)
			confirmedDuring := api.Confirmed()
			end()
			errs := wait()
			failOn(t, errs, chats)
			offeredDuring := api.LastUpdateID() > lastBefore
			if !offeredDuring {
				t.Fatal("no update was sent during the outage; the test tested nothing")
			}
			if mode == "polling" && confirmedDuring > lastBefore+1 {
				t.Errorf("during the outage getUpdates confirmed up to %d, past updates offered after it began (> %d)", confirmedDuring, lastBefore)
			}
			if mode == "webhook" {
				if _, retried, _ := api.PushStats(); retried == 0 {
					t.Errorf("no webhook delivery was answered non-2xx during the outage")
				}
			}
			wantNoDuplicates(t, users)
			wantOneSubstituteEach(t, setup.dbURL, chats)
		})
	}
}

// The Bot API failing for a while — 429 with retry_after, 500s, timeouts
// and dropped connections — on getUpdates, sendMessage, answerCallbackQuery
// and file downloads: the bot backs off, catches up, and sends no reply
// twice.
func TestFaultBotAPIErrors(t *testing.T) {
	bin := loadBinary(t)
	const chats = 12
	setup := newLoadSetup(t, chats)
	api, err := loadtest.Start(loadtest.Options{Token: botToken})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(api.Close)
	startLoadProc(t, bin, setup.env(api, freeAddr(t), ""))

	users := rsvpUsers(api, setup.camp, 650000)
	wait := startUsers(users, 25*time.Second, 0)
	waitProgress(t, api, users, chats*2, 20*time.Second)
	api.Fail("sendMessage", 4, loadtest.Fault{Code: 429, RetryAfter: 1})
	// Three getUpdates failures in a row: the poller waits 1 s, 2 s, 4 s.
	api.Fail("getUpdates", 1, loadtest.Fault{Drop: true})
	api.Fail("getUpdates", 1, loadtest.Fault{Hang: 2 * time.Second})
	api.Fail("getUpdates", 1, loadtest.Fault{Code: 502})
	api.Fail("answerCallbackQuery", 3, loadtest.Fault{Code: 500})
	api.FailFor("sendMessage", 1500*time.Millisecond, loadtest.Fault{Code: 500})
	time.Sleep(1600 * time.Millisecond)
	api.Fail("sendMessage", 2, loadtest.Fault{Drop: true})
	failOn(t, wait(), chats)
	t.Logf("calls: getUpdates %d, sendMessage %d, answerCallbackQuery %d", api.Calls("getUpdates"), api.Calls("sendMessage"), api.Calls("answerCallbackQuery"))
	wantNoDuplicates(t, users)
	wantOneSubstituteEach(t, setup.dbURL, chats)
}

// kill -9 with updates acknowledged to Telegram but not yet handled: every
// chat's "/start" is stuck sending its replies (the Bot API hangs) and its
// "/trogiup" waits behind it, both past the getUpdates offset. After a
// restart both are handled from the inbox — the platform will not deliver
// them again — each reply arriving once, in order.
func TestFaultKillWithAcknowledgedUpdates(t *testing.T) {
	killWithAcknowledgedUpdates(t, nil)
}

// killWithAcknowledgedUpdates is TestFaultKillWithAcknowledgedUpdates with
// the inbox in the database, or where withInbox puts it (it sets the
// process's environment and returns how many updates are left there).
func killWithAcknowledgedUpdates(t *testing.T, withInbox func(env map[string]string) (left func() int)) {
	bin := loadBinary(t)
	const chats = 20
	setup := newLoadSetup(t, chats)
	api, err := loadtest.Start(loadtest.Options{Token: botToken})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(api.Close)
	env := setup.env(api, freeAddr(t), "")
	var inboxLeft func() int
	if withInbox != nil {
		inboxLeft = withInbox(env)
	}
	env["DIEUPHOI_INBOX_LEASE"] = "1s" // the restarted process takes the partitions over soon
	proc := startLoadProc(t, bin, env)

	const stuck = 6 * time.Second
	api.FailFor("sendMessage", stuck, loadtest.Fault{Hang: time.Minute})
	began := time.Now()
	var cs []*loadtest.Chat
	last := 0
	for i, p := range setup.camp.People {
		c := api.Chat(660000 + int64(i))
		cs = append(cs, c)
		api.Text(c, "/start "+p.Token)
		last = api.Text(c, "/trogiup")
	}
	deadline := time.Now().Add(stuck - time.Second)
	for api.Confirmed() <= last {
		if time.Now().After(deadline) {
			t.Fatalf("getUpdates confirmed up to %d, want past %d: the updates were not acknowledged at once", api.Confirmed(), last)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, c := range cs {
		if c.Count() != 0 {
			t.Fatalf("chat %d got a reply while sending hangs", c.ID)
		}
	}
	proc.Kill()
	time.Sleep(time.Until(began.Add(stuck)))
	startLoadProc(t, bin, env)

	for _, c := range cs {
		n := c.Wait(context.Background(), 0, 30*time.Second, func(m loadtest.Msg) bool { return strings.HasPrefix(m.Text, "Các lệnh:") })
		if n < 0 {
			t.Fatalf("chat %d never got the help after the restart; got %d messages", c.ID, c.Count())
		}
	}
	time.Sleep(500 * time.Millisecond) // a late duplicate would arrive now
	for _, c := range cs {
		msgs := c.Messages()
		seen := map[string]bool{}
		recognised, help := -1, -1
		for i, m := range msgs {
			if seen[m.Text] {
				t.Errorf("chat %d got %q twice", c.ID, m.Text)
			}
			seen[m.Text] = true
			if strings.Contains(m.Text, "nhận diện") && recognised < 0 {
				recognised = i
			}
			if strings.HasPrefix(m.Text, "Các lệnh:") {
				help = i
			}
		}
		if recognised < 0 || help < recognised {
			t.Errorf("chat %d: recognised at %d, help at %d; want both, in that order", c.ID, recognised, help)
		}
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, setup.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var ids, left int
	if err := conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM identities), (SELECT count(*) FROM inbox)`).Scan(&ids, &left); err != nil {
		t.Fatal(err)
	}
	if inboxLeft != nil {
		left += inboxLeft()
	}
	if ids != chats || left != 0 {
		t.Errorf("identities = %d, want %d; updates left in the inbox = %d", ids, chats, left)
	}
}

// privatePostgres is a PostgreSQL server of the test's own, with the
// default durability (fsync, synchronous commit), so that the test can
// crash and restart it.
type privatePostgres struct {
	t        *testing.T
	bin, dir string
	port     string
}

// pgCommand runs a server command, as the postgres OS user when root
// (initdb and postgres refuse to run as root).
func pgCommand(name string, args ...string) *exec.Cmd {
	if os.Getuid() == 0 {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", name}, args...)...)
	}
	return exec.Command(name, args...)
}

func startPrivatePostgres(t *testing.T) *privatePostgres {
	t.Helper()
	skip := t.Skip
	if os.Getenv(testenv.EnvRequire) == "1" {
		skip = t.Fatal
	}
	bin := os.Getenv("PG_BIN")
	if bin == "" {
		dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
		sort.Sort(sort.Reverse(sort.StringSlice(dirs)))
		for _, d := range dirs {
			if _, err := os.Stat(filepath.Join(d, "pg_ctl")); err == nil {
				bin = d
				break
			}
		}
	}
	if bin == "" {
		if p, err := exec.LookPath("pg_ctl"); err == nil {
			bin = filepath.Dir(p)
		} else {
			skip("PostgreSQL server binaries (initdb, pg_ctl) not found; set PG_BIN")
		}
	}
	dir, err := os.MkdirTemp("", "dieuphoi-pgtest")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if os.Getuid() == 0 {
		if out, err := exec.Command("chown", "postgres:", dir).CombinedOutput(); err != nil {
			skip(fmt.Sprintf("cannot hand a directory to the postgres user: %v %s", err, out))
		}
	}
	if out, err := pgCommand(filepath.Join(bin, "initdb"), "-D", dir+"/data", "-A", "trust", "-U", "postgres",
		"--encoding=UTF8", "--locale=C", "--no-sync").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	addr := freeAddr(t)
	_, port, _ := strings.Cut(addr, ":")
	pg := &privatePostgres{t: t, bin: bin, dir: dir, port: port}
	pg.start()
	t.Cleanup(func() { pg.ctl("-m", "immediate", "stop") })
	return pg
}

func (pg *privatePostgres) ctl(args ...string) error {
	args = append([]string{"-D", pg.dir + "/data", "-w", "-t", "60"}, args...)
	out, err := pgCommand(filepath.Join(pg.bin, "pg_ctl"), args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl %v: %v\n%s", args, err, out)
	}
	return nil
}

func (pg *privatePostgres) start() {
	pg.t.Helper()
	if err := pg.ctl("-l", pg.dir+"/postgres.log", "-o", "-k "+pg.dir+" -p "+pg.port+" -c listen_addresses=127.0.0.1", "start"); err != nil {
		pg.t.Fatal(err)
	}
}

func (pg *privatePostgres) url() string {
	return "postgres://postgres@127.0.0.1:" + pg.port + "/postgres?sslmode=disable"
}

// The database holding the inbox crashes (immediate shutdown: no
// checkpoint, recovery from the write-ahead log) and restarts under load:
// updates whose append failed were not acknowledged and come again; every
// acknowledged one is still there and handled — no conversation is left
// waiting for a reply, none is doubled, the confirmed rows are exact.
func TestFaultInboxStoreRestart(t *testing.T) {
	bin := loadBinary(t)
	pg := startPrivatePostgres(t)
	const chats = 20
	setup := newLoadSetup(t, chats)
	setup.dbURL = pg.url()
	api, err := loadtest.Start(loadtest.Options{Token: botToken})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(api.Close)
	startLoadProc(t, bin, setup.env(api, freeAddr(t), ""))
	users := rsvpUsers(api, setup.camp, 670000)
	for _, u := range users {
		acceptRecorded(u)
	}
	wait := startUsers(users, 25*time.Second, 0)
	waitProgress(t, api, users, chats*2, 20*time.Second)
	acked := api.Confirmed()
	if err := pg.ctl("-m", "immediate", "stop"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	pg.start()
	failOn(t, wait(), chats)
	t.Logf("crashed the database with getUpdates confirmed up to %d; it then confirmed up to %d", acked, api.Confirmed())
	wantNoDuplicates(t, users)
	wantOneSubstituteEach(t, setup.dbURL, chats)
}
