package scheduler_test

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/internal/testenv"
	"github.com/dieuphoi/dieuphoi/scheduler"
)

// BenchmarkBroadcast1000 sends a broadcast to 1,000 people through the real
// Telegram adapter to the fake Bot API enforcing Telegram's limits (30
// messages a second in all, 1 a second per chat) and reports the rate
// achieved; any 429 fails it. It takes about 35 s per iteration:
//
//	go test -run '^$' -bench Broadcast1000 -benchtime 1x ./scheduler/
func BenchmarkBroadcast1000(b *testing.B) {
	var st testStore
	if os.Getenv(testenv.EnvPostgres) != "" {
		st = openPG(b, testenv.PostgresURL(b))
	} else {
		st = openSQLite(b)
	}
	people := make([]domain.Person, 1000)
	for i := range people {
		people[i] = person(fmt.Sprintf("P%04d", i), fmt.Sprintf("Đại biểu %d", i), "STC", fmt.Sprintf("091%07d", i), domain.RoleDelegate)
	}
	e := newEnv(b, st, people, testSchedule+"send: {per_second: 30, per_chat_per_second: 1}\n")
	var links []domain.Effect
	for i, p := range people {
		chat := strconv.Itoa(100000 + i)
		e.chats[p.ID] = int64(100000 + i)
		links = append(links, domain.LinkIdentity{Identity: domain.Identity{Channel: domain.Telegram, UserID: chat, ChatID: chat, PersonID: p.ID}})
	}
	e.apply(links...)
	e.srv.EnforceLimits(30, 1)
	s := e.scheduler(st, "bench", nil)
	e.clk.Set(at("2024-07-25 10:00"))

	var sent int
	var sending time.Duration
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		n, err := s.Broadcast(e.ctx, fmt.Sprintf("bench-%d", i), "📢 Thông báo của Ban tổ chức: Hội nghị bắt đầu lúc 08:00.", scheduler.AudienceDelegates)
		if err != nil || n != len(people) {
			b.Fatalf("broadcast = %d, %v", n, err)
		}
		b.StartTimer()
		start := time.Now()
		got, err := s.Drain(e.ctx)
		sending += time.Since(start)
		if err != nil || got != len(people) {
			b.Fatalf("drain = %d, %v", got, err)
		}
		sent += got
	}
	b.StopTimer()
	b.ReportMetric(float64(maxInWindow(e.srv.CallTimes("sendMessage"), time.Second)), "max-per-1s")
	lim := e.srv.Limits()
	if lim.Rejected > 0 {
		b.Errorf("%d sends got 429 Too Many Requests", lim.Rejected)
	}
	b.ReportMetric(float64(sent)/sending.Seconds(), "msgs/s")
	b.ReportMetric(float64(lim.Rejected), "429s")
}

// maxInWindow is the most calls in any window of length w.
func maxInWindow(ts []time.Time, w time.Duration) int {
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
