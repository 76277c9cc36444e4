package bot_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dieuphoi/dieuphoi/bot"
	"github.com/dieuphoi/dieuphoi/bot/pace"
	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
	"github.com/dieuphoi/dieuphoi/internal/testenv"
	"github.com/dieuphoi/dieuphoi/storage/postgres"
	"github.com/dieuphoi/dieuphoi/storage/redis"
	"github.com/dieuphoi/dieuphoi/storage/storagetest"
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
	ss, handle, _, dir := loneRig(t)
	handle("1001", card)
	const updates = 12
	tr := ss.Traffic()
	for name, s := range pace.Scripts() {
		tr.Name(s, name)
	}
	trips, cmds := tr.RoundTrips(), tr.Commands()
	for range updates {
		handle("1001", card)
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

	// A chat linked to nobody sends an invite link: the guessing
	// throttle's counters are read by the begin's script, its counts ride
	// the save; three (it was
	// seven: begin, read, counts, save, per-chat count, budget step,
	// finish), four when applying the link took longer than the counts
	// wait for the save (50 ms: a loaded machine).
	p, _ := dir.Person("DB002")
	trips, cmds = tr.RoundTrips(), tr.Commands()
	handle("1002", flows.Input{Kind: flows.InCommand, Command: "start", Text: p.InviteToken})
	after = tr.Commands()
	link := map[string]uint64{}
	for k, v := range after {
		link[k] = v - cmds[k]
	}
	n := tr.RoundTrips() - trips - link["hello"] - link["client"] - (link["evalsha:pace_budget"] - 1)
	t.Logf("the link: %d round trips, commands %v", n, link)
	if link["mget"] != 0 || link["evalsha:begin"] != 1 || link["evalsha:hit"] != 1 {
		// The counters are read by the begin's script; the code is
		// counted, the source only for a failure.
		t.Errorf("the link read the throttle %d times apart from its begin and counted %d; want 0 and 1", link["mget"], link["evalsha:hit"])
	}
	if n > 4 {
		t.Errorf("a lone link took %d Redis round trips, want at most 4", n)
	}
}

var card = flows.Input{Kind: flows.InButton, Data: "menu:card"}

// loneRig is a dispatcher on PostgreSQL and Redis whose Telegram replies
// are paced in Redis as the bot's are, with a linked chat whose card was
// shown (scripts loaded, facts cached); handle runs one update of that
// chat and checks it got one reply.
func loneRig(tb testing.TB) (*redis.Store, func(chat string, in flows.Input), *prometheus.Registry, *domain.Directory) {
	loneReg := prometheus.NewRegistry()
	ctx := context.Background()
	st, err := postgres.Open(ctx, testenv.PostgresURL(tb))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	prefix := testenv.Prefix(tb)
	ss, err := redis.Open(ctx, redis.Options{URL: testenv.RedisURL(tb), Prefix: prefix})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ss.Close() })
	if err := st.SyncDirectory(ctx, storagetest.Agencies(), storagetest.People()); err != nil {
		tb.Fatal(err)
	}
	dir, err := st.Directory(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	rec := &recorder{}
	// One chat's updates back to back, as fast as they are handled: no
	// flood guard, and limits above that pace, so that no reply waits.
	d := bot.NewDispatcher(bot.Config{Store: st, Sessions: ss, Event: event(), Directory: dir, Now: func() time.Time { return clock },
		FloodRate: 1e6, FloodBurst: 1e6, Metrics: bot.NewMetrics(loneReg), Limiter: ss})
	lim := pace.NewRedis(ss.Scripts(), prefix+"pace:telegram:", pace.Limits{PerSecond: 1000, PerChatPerSecond: 1000, PerGroupPerMinute: 20})
	d.SetSender(domain.Telegram, pace.Sender{Next: admitting{rec: rec, lim: lim}, Limiter: lim})
	tb.Cleanup(d.WaitAfter)
	p, _ := dir.Person("DB001")
	seq := 0
	handle := func(chat string, in flows.Input) {
		tb.Helper()
		seq++
		before := len(rec.texts(chat))
		ib := bot.Inbound{Key: domain.UpdateKey{Channel: domain.Telegram, UpdateID: fmt.Sprint(seq)}, UserID: chat, ChatID: chat, Input: in}
		if err := d.Handle(ctx, ib); err != nil {
			tb.Fatal(err)
		}
		if n := len(rec.texts(chat)) - before; n != 1 {
			tb.Fatalf("%+v: %d replies, want 1", in, n)
		}
	}
	handle("1001", flows.Input{Kind: flows.InCommand, Command: "start", Text: p.InviteToken})
	handle("1001", card)
	handle("1001", card)
	return ss, handle, loneReg, dir
}

// BenchmarkLoneUpdate handles updates of one chat one after another, each
// alone (the fixed-rate run's case, without the load), and reports per
// update the Redis round trips, this process's CPU (the bot's side of
// PostgreSQL and Redis included) and the Redis server's (the whole
// server's: on a shared one others' work counts too). Compare two
// checkouts by running it in each.
func BenchmarkLoneUpdate(b *testing.B) {
	ss, handle, loneReg, _ := loneRig(b)
	tr := ss.Traffic()
	trips := tr.RoundTrips()
	srv := testenv.RedisURLCPU(b)
	cpu0 := testenv.ProcessCPU()
	b.ResetTimer()
	for range b.N {
		handle("1001", card)
	}
	b.StopTimer()
	cpu := testenv.ProcessCPU() - cpu0
	b.ReportMetric(float64(tr.RoundTrips()-trips)/float64(b.N), "roundtrips/op")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")
	b.ReportMetric((testenv.RedisURLCPU(b)-srv)/float64(b.N), "redis-cpu-µs/op")
	mfs, _ := loneReg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == "dieuphoi_update_stage_seconds" {
			for _, m := range mf.GetMetric() {
				b.Logf("%s %.3f ms", m.GetLabel()[0].GetValue(), 1000*m.GetHistogram().GetSampleSum()/float64(m.GetHistogram().GetSampleCount()))
			}
		}
	}
}
