package bot_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/dieuphoi/dieuphoi/bot"
	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
	"github.com/dieuphoi/dieuphoi/internal/testenv"
	"github.com/dieuphoi/dieuphoi/storage/postgres"
	"github.com/dieuphoi/dieuphoi/storage/redis"
	"github.com/dieuphoi/dieuphoi/storage/sqlite"
)

// madeUpChats sends two messages from each of n made-up chats.
func madeUpChats(t *testing.T, d *bot.Dispatcher, n int) {
	t.Helper()
	ctx := context.Background()
	for i := 0; i < n; i++ {
		chat := fmt.Sprintf("anon-%04d", i)
		for j, in := range []flows.Input{{Kind: flows.InText, Text: "xin chào"}, {Kind: flows.InCommand, Command: "trogiup"}} {
			ib := bot.Inbound{Key: domain.UpdateKey{Channel: domain.Telegram, UpdateID: fmt.Sprintf("%s-%d", chat, j)}, UserID: chat, ChatID: chat, Input: in}
			if err := d.Handle(ctx, ib); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// Finding 10 of issue 10: each made-up chat left Redis keys for 30 days
// and a permanent database row. Now it leaves no row and keys that expire
// within minutes; a chat that identifies is kept as long as before.
func TestMadeUpChatsCostNothingLasting(t *testing.T) {
	ctx := context.Background()
	st, err := postgres.Open(ctx, testenv.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	prefix := testenv.Prefix(t)
	ss, err := redis.Open(ctx, redis.Options{URL: testenv.RedisURL(t), Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ss.Close() })
	r := newRig(t, st, ss)
	madeUpChats(t, r.d, 300)

	var rows int
	if err := st.DB.QueryRow(ctx, `SELECT COUNT(*) FROM processed_updates`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 0 {
		t.Errorf("300 made-up chats left %d database rows", rows)
	}
	opts, err := goredis.ParseURL(testenv.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	rdb := goredis.NewClient(opts)
	defer rdb.Close()
	ttls := func() (n int, longest time.Duration) {
		iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			n++
			ttl := rdb.PTTL(ctx, iter.Val()).Val()
			if ttl < 0 {
				t.Errorf("key %s never expires", iter.Val())
			}
			longest = max(longest, ttl)
		}
		if err := iter.Err(); err != nil {
			t.Fatal(err)
		}
		return n, longest
	}
	n, longest := ttls()
	t.Logf("300 made-up chats: %d Redis keys, the longest-lived expiring in %s", n, longest.Round(time.Second))
	if longest > 15*time.Minute {
		t.Errorf("a made-up chat's key lives %s; want at most 15 minutes", longest)
	}

	// One of them identifies: from then on it is kept as usual.
	p, _ := r.dir.Person("DB001")
	chat := "anon-0001"
	if err := r.d.Handle(ctx, bot.Inbound{Key: domain.UpdateKey{Channel: domain.Telegram, UpdateID: chat + "-9"}, UserID: chat, ChatID: chat,
		Input: flows.Input{Kind: flows.InCommand, Command: "start", Text: p.InviteToken}}); err != nil {
		t.Fatal(err)
	}
	if ttl := rdb.PTTL(ctx, prefix+"session:telegram:"+chat).Val(); ttl < 24*time.Hour {
		t.Errorf("an identified chat's session expires in %s", ttl)
	}
	if err := st.DB.QueryRow(ctx, `SELECT COUNT(*) FROM processed_updates`).Scan(&rows); err != nil || rows != 1 {
		t.Errorf("after identifying: %d rows (%v), want 1", rows, err)
	}
}

// The embedded store keeps made-up chats in bounded memory, not the file.
func TestMadeUpChatsLeaveNothingInTheFile(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "d.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	r := newRig(t, st, st)
	madeUpChats(t, r.d, 100)
	for _, table := range []string{"processed_updates", "sessions", "done_updates"} {
		var n int
		if err := st.DB.QueryRow(ctx, `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("100 made-up chats left %d rows in %s", n, table)
		}
	}
	// A replay of a made-up chat's update is still recognised meanwhile.
	before := len(r.sent.texts("anon-0003"))
	if err := r.d.Handle(ctx, bot.Inbound{Key: domain.UpdateKey{Channel: domain.Telegram, UpdateID: "anon-0003-1"}, UserID: "anon-0003", ChatID: "anon-0003",
		Input: flows.Input{Kind: flows.InCommand, Command: "trogiup"}}); err != nil {
		t.Fatal(err)
	}
	if got := len(r.sent.texts("anon-0003")); got != before {
		t.Errorf("a replayed update was answered again")
	}
}
