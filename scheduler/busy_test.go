package scheduler_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/bot"
	"github.com/dieuphoi/dieuphoi/bot/pace"
	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
	"github.com/dieuphoi/dieuphoi/scheduler"
	"github.com/dieuphoi/dieuphoi/storage/sqlstore"
)

// busyPacer lets a chat have one message every gap and tells a busier
// chat how long to wait (*pace.BusyError), as the shared pacer does for a
// group's 20 a minute.
type busyPacer struct {
	gap  time.Duration
	mu   sync.Mutex
	last map[string]time.Time
}

func (p *busyPacer) Wait(_ context.Context, chat string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if l, ok := p.last[chat]; ok {
		if d := p.gap - time.Since(l); d > 0 {
			return &pace.BusyError{Wait: d}
		}
	}
	p.last[chat] = time.Now()
	return nil
}

func (p *busyPacer) Pause(context.Context, time.Time) error { return nil }

// sendLog records each message sent, in order; each send takes delay.
type sendLog struct {
	delay time.Duration
	mu    sync.Mutex
	chats []string
}

func (l *sendLog) Send(_ context.Context, chat string, _ []flows.Reply) error {
	time.Sleep(l.delay)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.chats = append(l.chats, chat)
	return nil
}

func (l *sendLog) sent() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.chats)
}

// A broadcast row whose chat is busy for a moment (a group that had a
// message a few seconds ago) waits for it in the sending process, without
// its sending slot, and goes among the rows queued after it; given back to
// the outbox it would be due behind all of them, and a group's messages
// would pile up at the broadcast's end. A chat busy for longer than a few
// seconds still goes back to the outbox.
func TestBusyChatKeepsItsPlace(t *testing.T) {
	for _, tc := range []struct {
		name    string
		gap     time.Duration
		inDrain int // rows sent by the first Drain; the rest are left pending
	}{
		{"busy for a moment: waits in the process", 150 * time.Millisecond, 13},
		{"busy for long: back to the outbox", 10 * time.Second, 11},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eachStore(t, func(t *testing.T, st testStore) {
				ctx := context.Background()
				clk := &clock{now: at("2024-07-29 10:00")}
				log := &sendLog{delay: 30 * time.Millisecond}
				s, err := scheduler.New(scheduler.Config{
					Store: st, Outbox: st, Senders: map[domain.Channel]bot.Sender{domain.Telegram: log},
					Pace:  map[domain.Channel]scheduler.Pacer{domain.Telegram: &busyPacer{gap: tc.gap, last: map[string]time.Time{}}},
					Event: testEvent(), Directory: func() *domain.Directory { return &domain.Directory{} },
					Now: clk.Now, Log: quiet(), WorkerID: "w1", MaxInFlight: 1,
				})
				if err != nil {
					t.Fatal(err)
				}
				// Three rows to one group first, then ten to private chats.
				chats := []string{"-100", "-100", "-100"}
				for i := range 10 {
					chats = append(chats, fmt.Sprint(1000+i))
				}
				for i, chat := range chats {
					if _, err := st.Enqueue(ctx, sqlstore.OutboxItem{Key: fmt.Sprintf("bc|1|%02d", i), Job: "broadcast",
						Channel: domain.Telegram, ChatID: chat, Payload: []byte(`[{"Text":"x"}]`), DueAt: clk.Now()}); err != nil {
						t.Fatal(err)
					}
				}
				n, err := s.Drain(ctx)
				if err != nil {
					t.Fatal(err)
				}
				got := log.sent()
				if n != tc.inDrain || len(got) != tc.inDrain {
					t.Fatalf("one Drain sent %d rows %v, want %d", n, got, tc.inDrain)
				}
				// One sending slot: the private chats' rows went while the
				// group's waited, so the waiting rows did not hold it.
				if got[0] != "-100" || got[1] == "-100" {
					t.Errorf("sent %v: want the group's first row, then private chats while the others wait", got)
				}
				if tc.inDrain == len(chats) && slices.Index(got[1:], "-100") > 8 {
					t.Errorf("sent %v: the group's second row went after the broadcast's rows, not in its place among them", got)
				}
				stats, err := st.OutboxStats(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if p := stats.ByStatus[sqlstore.OutboxPending]; p != len(chats)-tc.inDrain {
					t.Errorf("%d rows pending after the Drain, want %d", p, len(chats)-tc.inDrain)
				}
			})
		})
	}
}

// textLog records the text of each message sent, in order; a message
// whose text starts with "slow" takes 300 ms to send.
type textLog struct {
	mu    sync.Mutex
	texts []string
}

func (l *textLog) Send(_ context.Context, _ string, replies []flows.Reply) error {
	for _, r := range replies {
		if strings.HasPrefix(r.Text, "slow") {
			time.Sleep(300 * time.Millisecond)
		}
		l.mu.Lock()
		l.texts = append(l.texts, r.Text)
		l.mu.Unlock()
	}
	return nil
}

// One chat's messages reach it in the order they were queued: when an
// earlier one's send is slow though the pace would let the next go (20 a
// second to one chat here), and when the pace holds the chat's second row
// while other chats' rows of the same claim move the sending slot past the
// time the chat is free again (its third row must still wait for its second). Other chats'
// messages are not held up meanwhile.
func TestOneChatsMessagesInOrder(t *testing.T) {
	for _, tc := range []struct {
		name, send string
		rows       [][2]string // chat, text
	}{
		{"a slow send", "{per_second: 200, per_chat_per_second: 20}",
			[][2]string{{"7", "slow 1"}, {"7", "2"}, {"8", "other"}, {"7", "3"}, {"7", "4"}}},
		{"the pace holds a row", "{per_second: 2, per_chat_per_second: 1}",
			[][2]string{{"7", "1"}, {"7", "2"}, {"8", "other"}, {"9", "other"}, {"7", "3"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eachStore(t, func(t *testing.T, st testStore) {
				ctx := context.Background()
				clk := &clock{now: at("2024-07-29 10:00")}
				sc, err := scheduler.ParseSchedule("schedule.yaml", []byte(testSchedule+"send: "+tc.send+"\n"))
				if err != nil {
					t.Fatal(err)
				}
				log := &textLog{}
				s, err := scheduler.New(scheduler.Config{
					Store: st, Outbox: st, Senders: map[domain.Channel]bot.Sender{domain.Telegram: log},
					Event: testEvent(), Directory: func() *domain.Directory { return &domain.Directory{} }, Schedule: sc,
					Now: clk.Now, Log: quiet(), WorkerID: "w1", MaxInFlight: 8, Batch: len(tc.rows),
				})
				if err != nil {
					t.Fatal(err)
				}
				var want []string
				for i, r := range tc.rows {
					payload, _ := json.Marshal([]flows.Reply{{Text: r[1]}})
					if _, err := st.Enqueue(ctx, sqlstore.OutboxItem{Key: fmt.Sprintf("order|%02d", i), Job: "broadcast",
						Channel: domain.Telegram, ChatID: r[0], Payload: payload, DueAt: clk.Now()}); err != nil {
						t.Fatal(err)
					}
					if r[0] == "7" {
						want = append(want, r[1])
					}
				}
				if n, err := s.Drain(ctx); err != nil || n != len(tc.rows) {
					t.Fatalf("Drain sent %d, %v; want %d", n, err, len(tc.rows))
				}
				var seven []string
				for _, x := range log.texts {
					if x != "other" {
						seven = append(seven, x)
					}
				}
				if !slices.Equal(seven, want) {
					t.Errorf("chat 7 got %q, want %q", seven, want)
				}
				if strings.HasPrefix(tc.rows[0][1], "slow") && log.texts[0] != "other" {
					t.Errorf("sent %q: the other chat's message waited for chat 7's slow one", log.texts)
				}
			})
		})
	}
}
