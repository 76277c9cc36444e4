package main

import (
	"context"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/dieuphoi/dieuphoi/internal/loadtest"
)

// redisInbox starts a private Redis that keeps the promise of the
// acknowledgement (append-only file synced at every write) and returns
// its URL, its address and directory (to start it again) and its process.
func redisInbox(t *testing.T) (url, addr, dir string, cmd *exec.Cmd) {
	t.Helper()
	addr, dir = freeAddr(t), t.TempDir()
	cmd = startRedisIn(t, addr, dir, redisInboxArgs...)
	return "redis://" + addr + "/0", addr, dir, cmd
}

var redisInboxArgs = []string{"--appendonly", "yes", "--appendfsync", "always"}

// inboxLen is how many updates wait in the Redis inbox at url under prefix.
func inboxLen(t *testing.T, url, prefix string) int {
	t.Helper()
	opts, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	c := goredis.NewClient(opts)
	defer c.Close()
	n, err := c.HLen(context.Background(), prefix+"inbox:items").Result()
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

func TestInboxSettings(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		inbox   string
		url     string
		wantErr string
	}{
		{"default: the database", map[string]string{"REDIS_URL": "redis://a/0"}, "", "", ""},
		{"redis: the sessions' Redis", map[string]string{"DIEUPHOI_INBOX": "redis", "REDIS_URL": "redis://a/0"}, "redis", "redis://a/0", ""},
		{"redis: a Redis of its own", map[string]string{"DIEUPHOI_INBOX": "Redis", "REDIS_URL": "redis://a/0",
			"DIEUPHOI_INBOX_REDIS_URL": "redis://b/0"}, "redis", "redis://b/0", ""},
		{"redis without a Redis", map[string]string{"DIEUPHOI_INBOX": "redis"}, "", "", "needs a Redis"},
		{"unknown", map[string]string{"DIEUPHOI_INBOX": "kafka"}, "", "", "want database or redis"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := loadSettings(envFunc(tc.env))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || s.Inbox != tc.inbox || s.InboxRedisURL != tc.url {
				t.Fatalf("Inbox %q at %q, %v; want %q at %q", s.Inbox, s.InboxRedisURL, err, tc.inbox, tc.url)
			}
		})
	}
}

// The bot refuses to keep its inbox in a Redis that may lose what it
// acknowledged (here one that syncs its file every second), and
// says what to set.
func TestRedisInboxRefusesRedisWithoutFsync(t *testing.T) {
	bin := loadBinary(t)
	setup := newLoadSetup(t, 2)
	api, err := loadtest.Start(loadtest.Options{Token: botToken})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(api.Close)
	env := setup.env(api, freeAddr(t), "")
	env["DIEUPHOI_INBOX"] = "redis"
	addr := freeAddr(t)
	env["DIEUPHOI_INBOX_REDIS_URL"] = "redis://" + addr + "/0"
	startRedisIn(t, addr, t.TempDir(), "--appendonly", "yes", "--appendfsync", "everysec")
	_, err = loadtest.StartProc(bin, env, 30*time.Second)
	if err == nil || !strings.Contains(err.Error(), "exited at start") || !strings.Contains(err.Error(), "appendfsync always") {
		t.Fatalf("start on a Redis syncing every second = %v; want a refusal naming appendfsync always", err)
	}
}

// TestFaultKillWithAcknowledgedUpdates with the inbox in Redis.
func TestFaultKillWithAcknowledgedUpdatesRedisInbox(t *testing.T) {
	killWithAcknowledgedUpdates(t, func(env map[string]string) func() int {
		url, _, _, _ := redisInbox(t)
		env["DIEUPHOI_INBOX"], env["DIEUPHOI_INBOX_REDIS_URL"] = "redis", url
		return func() int { return inboxLen(t, url, env["DIEUPHOI_REDIS_PREFIX"]) }
	})
}

// The Redis holding the inbox is killed (-9: no shutdown) and started
// again from its append-only file under load: updates whose append failed
// were not acknowledged and come again; every acknowledged one is still
// there and handled — no conversation is left waiting for a reply, none
// is doubled, the confirmed rows are exact.
func TestFaultInboxStoreRestartRedisInbox(t *testing.T) {
	bin := loadBinary(t)
	url, addr, dir, redis := redisInbox(t)
	const chats = 20
	setup := newLoadSetup(t, chats)
	api, err := loadtest.Start(loadtest.Options{Token: botToken})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(api.Close)
	env := setup.env(api, freeAddr(t), "")
	env["DIEUPHOI_INBOX"], env["DIEUPHOI_INBOX_REDIS_URL"] = "redis", url
	startLoadProc(t, bin, env)
	users := rsvpUsers(api, setup.camp, 680000)
	for _, u := range users {
		acceptRecorded(u)
	}
	wait := startUsers(users, 25*time.Second, 0)
	waitProgress(t, api, users, chats*2, 20*time.Second)
	acked := api.Confirmed()
	if err := redis.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	startRedisIn(t, addr, dir, redisInboxArgs...)
	failOn(t, wait(), chats)
	t.Logf("killed the inbox's Redis with getUpdates confirmed up to %d; it then confirmed up to %d", acked, api.Confirmed())
	wantNoDuplicates(t, users)
	wantOneSubstituteEach(t, setup.dbURL, chats)
}
