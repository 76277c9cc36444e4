package bot_test

import (
	"context"
	"testing"

	"github.com/dieuphoi/dieuphoi/bot/pace"
	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
	"github.com/dieuphoi/dieuphoi/internal/testenv"
	"github.com/dieuphoi/dieuphoi/storage/postgres"
	"github.com/dieuphoi/dieuphoi/storage/redis"
)

// admitting is a platform client as the Telegram adapter is one: each
// request is admitted by the pace right before it goes out, and its
// answer told back.
type admitting struct {
	rec *recorder
	lim pace.Limiter
}

func (a admitting) Send(ctx context.Context, chatID string, replies []flows.Reply) error {
	for _, r := range replies {
		done, err := a.lim.Admit(ctx, chatID)
		if err != nil {
			return err
		}
		if err := a.rec.Send(ctx, chatID, []flows.Reply{r}); err != nil {
			return err
		}
		done()
	}
	return nil
}

// An update handled alone (nothing else in flight to share a pipeline
// with) costs three Redis round trips: the turn's begin; its session save
// with its reply's per-chat count (redis_rate) and overall budget step,
// one pipeline; and the finish (done mark and unlock), which goes alone
// only because nothing else went within its wait. It was five: begin,
// save, per-chat count, budget step and finish each a round trip.
func TestLoneUpdateRedisRoundTrips(t *testing.T) {
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
	lim := pace.NewRedis(ss.Scripts(), prefix+"pace:telegram:", pace.Telegram)
	r.d.SetSender(domain.Telegram, pace.Sender{Next: admitting{rec: r.sent, lim: lim}, Limiter: lim})
	t.Cleanup(r.d.WaitAfter)
	handle := func(in flows.Input) {
		t.Helper()
		before := len(r.sent.texts(r.chat))
		if err := r.d.Handle(ctx, r.in(in)); err != nil {
			t.Fatal(err)
		}
		if n := len(r.sent.texts(r.chat)) - before; n != 1 {
			t.Fatalf("%+v: %d replies, want 1", in, n)
		}
	}
	card := flows.Input{Kind: flows.InButton, Data: "menu:card"}
	// The link, and a first card: the scripts are loaded, the facts
	// cached.
	handle(flows.Input{Kind: flows.InCommand, Command: "start", Text: r.token})
	handle(card)
	handle(card)
	const updates = 12
	tr := ss.Traffic()
	for name, s := range pace.Scripts() {
		tr.Name(s, name)
	}
	trips, cmds := tr.RoundTrips(), tr.Commands()
	for range updates {
		handle(card)
	}
	after := tr.Commands()
	per := map[string]float64{}
	for k, v := range after {
		per[k] = float64(v-cmds[k]) / updates
	}
	// A connection the pool opens meanwhile costs its set-up (HELLO,
	// CLIENT SETINFO); a send's answer is told to the budget with the
	// next step, or on its own once 200 ms passed without one (a slow
	// machine): neither is the update's.
	extra := (per["hello"] + per["client"] + per["evalsha:pace_budget"] - 1) * updates
	got := (float64(tr.RoundTrips()-trips) - extra) / updates
	t.Logf("per update: %.2f round trips (%.0f more for connections and settlements), commands %v", got, extra, per)
	for _, name := range []string{"evalsha:begin", "evalsha:save", "evalsha:finish", "evalsha:redis_rate"} {
		if per[name] != 1 {
			t.Errorf("%s: %.2f per update, want 1", name, per[name])
		}
	}
	if per["evalsha:pace_budget"] < 1 {
		t.Errorf("budget steps: %.2f per update, want 1", per["evalsha:pace_budget"])
	}
	if got > 3 {
		t.Errorf("a lone update took %.2f Redis round trips, want at most 3", got)
	}
}
