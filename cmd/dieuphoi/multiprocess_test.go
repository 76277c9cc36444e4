package main

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dieuphoi/dieuphoi/internal/loadtest"
	"github.com/dieuphoi/dieuphoi/internal/testenv"
)

const loadSecret = "multi_process_webhook_secret_42"

// loadBinary builds the bot for one multi-process or fault test (the build
// cache makes all but the first cheap).
func loadBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary and runs several processes")
	}
	bin := filepath.Join(t.TempDir(), "dieuphoi")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// loadSetup is one test's services and campaign.
type loadSetup struct {
	dbURL, redisURL, prefix string
	camp                    *loadtest.Campaign
	data                    string
}

func newLoadSetup(t *testing.T, people int) *loadSetup {
	t.Helper()
	s := &loadSetup{dbURL: testenv.PostgresURL(t), redisURL: testenv.RedisURL(t), prefix: testenv.Prefix(t), data: t.TempDir()}
	camp, err := loadtest.WriteCampaign(t.TempDir(), people, 1) // one focal point: a campaign needs an assignment
	if err != nil {
		t.Fatal(err)
	}
	s.camp = camp
	return s
}

// env is one process's environment; webhook is its full webhook URL, ""
// for long polling.
func (s *loadSetup) env(api *loadtest.Server, addr, webhook string) map[string]string {
	env := map[string]string{
		"DATABASE_URL": s.dbURL, "REDIS_URL": s.redisURL, "DIEUPHOI_REDIS_PREFIX": s.prefix,
		"DIEUPHOI_ADDR": addr, "DIEUPHOI_DATA_DIR": s.data, "DIEUPHOI_CONFIG_DIR": s.camp.Dir,
		"DIEUPHOI_CLOCK_START": "2024-07-25T09:00:00+07:00", "DIEUPHOI_LOG_LEVEL": "info",
		"TELEGRAM_BOT_TOKEN": botToken, "TELEGRAM_API_BASE": api.URL(), "DIEUPHOI_METRICS_ADDR": "127.0.0.1:0",
	}
	if webhook != "" {
		env["TELEGRAM_WEBHOOK_URL"] = webhook
		env["TELEGRAM_WEBHOOK_SECRET"] = loadSecret
	}
	return env
}

func startLoadProc(t *testing.T, bin string, env map[string]string) *loadtest.Proc {
	t.Helper()
	p, err := loadtest.StartProc(bin, env, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if !p.Exited() {
			p.Kill()
		}
		if t.Failed() {
			logs := p.Logs()
			if len(logs) > 6000 {
				logs = logs[len(logs)-6000:]
			}
			t.Logf("logs of pid %d (tail):\n%s", p.Cmd.Process.Pid, logs)
		}
	})
	return p
}

func freeAddr(t *testing.T) string {
	t.Helper()
	a, err := loadtest.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func rsvpUsers(api *loadtest.Server, camp *loadtest.Campaign, base int64) []*loadtest.User {
	users := make([]*loadtest.User, len(camp.People))
	for i, p := range camp.People {
		users[i] = &loadtest.User{S: api, C: api.Chat(base + int64(i)), Steps: loadtest.FromInvite(p, loadtest.RSVPSteps(p.Token))}
	}
	return users
}

// runAll runs every user's remaining steps concurrently and fails the test
// with the first few errors.
func runAll(t *testing.T, users []*loadtest.User, stepTimeout time.Duration, retries int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, len(users))
	for _, u := range users {
		wg.Go(func() {
			if err := u.Run(ctx, stepTimeout, retries); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	n := 0
	for err := range errs {
		if n++; n <= 5 {
			t.Error(err)
		}
	}
	if n > 0 {
		t.Fatalf("%d of %d conversations did not complete", n, len(users))
	}
}

// wantOneSubstituteEach checks the database holds exactly one RSVP answer
// per person, the substitute the user confirmed.
func wantOneSubstituteEach(t *testing.T, dbURL string, people int) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var rows, persons, wrong int
	err = conn.QueryRow(ctx, `SELECT count(*), count(DISTINCT person_id),
		count(*) FILTER (WHERE status <> 'substitute' OR sub_name <> $1 OR sub_position <> $2 OR sub_phone <> $3)
		FROM rsvps`, loadtest.Substitute.Name, loadtest.Substitute.Position, loadtest.Substitute.Phone).Scan(&rows, &persons, &wrong)
	if err != nil {
		t.Fatal(err)
	}
	if rows != people || persons != people || wrong != 0 {
		t.Fatalf("rsvps: %d rows for %d people, %d not the confirmed substitute; want exactly one substitute answer for each of %d", rows, persons, wrong, people)
	}
}

// wantNoDuplicates checks every chat got one message per step — a step's
// replies go out joined (bot/join.go) — plus what a keyboard keeps apart
// (Step.Extra): one more anywhere would be a duplicate, one less a loss;
// and no "please try again".
func wantNoDuplicates(t *testing.T, users []*loadtest.User) {
	t.Helper()
	time.Sleep(300 * time.Millisecond) // a late duplicate would arrive now
	off := map[string][]int64{}        // "got N, want M" -> chats
	for _, u := range users {
		if n, want := u.C.Count(), u.WantMessages(); n != want {
			k := fmt.Sprintf("%d messages for %d steps, want %d", n, len(u.Steps), want)
			off[k] = append(off[k], u.C.ID)
		}
		for _, m := range u.C.Messages() {
			if m.Text == loadtest.Busy {
				t.Errorf("chat %d was told to try again", u.C.ID)
			}
		}
	}
	for k, chats := range off {
		t.Errorf("%s: %d chats (e.g. %d): a duplicate, a loss, or replies not joined", k, len(chats), chats[0])
	}
}

// Three bot processes in webhook mode on one PostgreSQL and one Redis; the
// fake Bot API pushes updates round-robin to their three webhook URLs and
// delivers every 5th update twice at once, to two processes. Telegram
// delivers a chat's updates in order and redelivers on any non-2xx answer;
// the fake sends a chat's next update only after the previous delivery was
// answered, which is what keeps a chat's order across processes.
func TestMultiProcessWebhookRoundRobin(t *testing.T) {
	bin := loadBinary(t)
	const chats = 30
	setup := newLoadSetup(t, chats)
	addrs := []string{freeAddr(t), freeAddr(t), freeAddr(t)}
	var urls []string
	for _, a := range addrs {
		urls = append(urls, "http://"+a+"/telegram/webhook")
	}
	api, err := loadtest.Start(loadtest.Options{Token: botToken, PushURLs: urls, Secret: loadSecret, PushWorkers: 40, DuplicateEvery: 5})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(api.Close)
	// The first process applies the migrations and loads the people; then
	// the other two join.
	var procs []*loadtest.Proc
	for i, a := range addrs {
		procs = append(procs, startLoadProc(t, bin, setup.env(api, a, urls[i])))
	}

	users := rsvpUsers(api, setup.camp, 610000)
	start := time.Now()
	runAll(t, users, 20*time.Second, 0)
	t.Logf("%d chats × %d steps over 3 processes in %v", chats, len(users[0].Steps), time.Since(start).Round(time.Millisecond))

	wantNoDuplicates(t, users)
	wantOneSubstituteEach(t, setup.dbURL, chats)
	delivered, retried, dups := api.PushStats()
	if dups == 0 {
		t.Errorf("no update was delivered twice; the test did not test de-duplication")
	}
	if retried != 0 {
		t.Errorf("%d webhook deliveries were answered non-2xx", retried)
	}
	for i, p := range procs {
		if e, _ := p.ErrorLines(); e > 0 {
			t.Errorf("process %d logged %d errors", i, e)
		}
	}
	t.Logf("webhook deliveries: %d answered 2xx, %d deliberate duplicates", delivered, dups)
}
