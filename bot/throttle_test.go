package bot_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/bot"
	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
	"github.com/dieuphoi/dieuphoi/storage/postgres"
)

type guessRig struct {
	d   *bot.Dispatcher
	st  *postgres.Store
	rec *recorder
	dir *domain.Directory
	n   int
}

// newGuessRig is a dispatcher on PostgreSQL and Redis (whose counters every
// process shares) with staff member DB003 linked on Telegram chat "staff".
func newGuessRig(t *testing.T) *guessRig {
	t.Helper()
	ctx := context.Background()
	st, ss := pgRedis(t)
	base := newRig(t, st, ss)
	rec := &recorder{}
	d := bot.NewDispatcher(bot.Config{Store: st, Sessions: ss, Event: event(), Directory: base.dir,
		Now: func() time.Time { return clock }, Limiter: ss})
	d.SetSender(domain.Telegram, rec)
	d.SetSender(domain.Web, rec)
	if _, err := st.Apply(ctx, domain.UpdateKey{Channel: "test", UpdateID: "staff"}, clock, []domain.Effect{domain.LinkIdentity{
		Identity: domain.Identity{Channel: domain.Telegram, UserID: "staff", ChatID: "staff", PersonID: "DB003"}}}); err != nil {
		t.Fatal(err)
	}
	return &guessRig{d: d, st: st, rec: rec, dir: base.dir}
}

// try types text in a fresh web chat from source and returns the answer
// and whether the chat is now linked.
func (g *guessRig) try(t *testing.T, source, text string) (string, bool) {
	t.Helper()
	ctx := context.Background()
	g.n++
	chat := fmt.Sprintf("web-%04d", g.n)
	in := bot.Inbound{Key: domain.UpdateKey{Channel: domain.Web, UpdateID: chat + ":1"}, UserID: chat, ChatID: chat,
		Input: flows.Input{Kind: flows.InText, Text: text}, Source: source}
	if err := g.d.Handle(ctx, in); err != nil {
		t.Fatal(err)
	}
	_, err := g.st.IdentityPerson(ctx, domain.Web, chat)
	return strings.Join(g.rec.texts(chat), "\n"), err == nil
}

// Issue 10 (12, low): the guessing throttle was per chat, so fresh web chats
// made it useless. Now failures are counted per source address across
// chats, and attempts per code across sources; staff are told, once, and it
// is audited.
func TestCodeGuessingThrottledPerSourceAndPerCode(t *testing.T) {
	g := newGuessRig(t)
	p, _ := g.dir.Person("DB001")

	// One address, a fresh chat per guess.
	for i := 0; i < bot.GuessPerSource; i++ {
		if got, linked := g.try(t, "ip:203.0.113.9", fmt.Sprintf("ZZ%02dQQ77", i)); linked || !strings.Contains(got, "ZZ") {
			t.Fatalf("guess %d: %q linked=%v", i, got, linked)
		}
	}
	// Even the right code is refused from there now.
	got, linked := g.try(t, "ip:203.0.113.9", p.InviteCode)
	if linked || !strings.Contains(got, "nhập sai nhiều lần") {
		t.Errorf("right code from a blocked address: %q linked=%v", got, linked)
	}
	// Another address is not affected.
	if got, linked := g.try(t, "ip:198.51.100.7", p.InviteCode); !linked {
		t.Errorf("right code from another address: %q", got)
	}

	// Staff were told once, and it is in the audit log.
	alerts := 0
	for _, s := range g.rec.texts("staff") {
		if strings.Contains(s, "đoán mã thư mời") {
			alerts++
		}
	}
	if alerts != 1 {
		t.Errorf("staff got %d alerts, want 1: %q", alerts, g.rec.texts("staff"))
	}
	log, err := g.st.AuditLog(context.Background(), 10)
	if err != nil {
		t.Fatal(err)
	}
	audited := false
	for _, e := range log {
		if e.Action == "identify.throttled" && strings.Contains(e.Detail, "203.0.113.9") {
			audited = true
		}
		if strings.Contains(e.Detail, p.InviteCode) {
			t.Errorf("the audit log shows an invite code: %q", e.Detail)
		}
	}
	if !audited {
		t.Errorf("throttling not audited: %+v", log)
	}

	// One code used from many addresses: after GuessPerCode attempts in an
	// hour, the next is refused.
	q, _ := g.dir.Person("DB002")
	for i := 0; i < bot.GuessPerCode; i++ {
		if got, linked := g.try(t, fmt.Sprintf("ip:192.0.2.%d", i), q.InviteCode); !linked {
			t.Fatalf("use %d of a code: %q", i, got)
		}
	}
	if got, linked := g.try(t, "ip:192.0.2.200", q.InviteCode); linked || !strings.Contains(got, "nhập sai nhiều lần") {
		t.Errorf("use %d of one code: %q linked=%v", bot.GuessPerCode+1, got, linked)
	}
}
