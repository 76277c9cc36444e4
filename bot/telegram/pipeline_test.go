package telegram

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/bot"
)

// chatOrder returns the texts each chat's handled updates carried, in the
// order they were handled.
func chatOrder(got []bot.Inbound) map[string][]string {
	m := map[string][]string{}
	for _, in := range got {
		m[in.ChatID] = append(m[in.ChatID], in.Input.Text)
	}
	return m
}

// checkOnce fails the test for any update handled other than once.
func checkOnce(t *testing.T, h *recorder, ids []int) {
	t.Helper()
	for _, id := range ids {
		if c := h.CallsOf(id); c != 1 {
			t.Errorf("update %d handled %d times, want 1", id, c)
		}
	}
}

func TestPipelineKeepsOrderPerChat(t *testing.T) {
	s := newSetup(t)
	const chats, perChat = 25, 12 // 300 updates: several getUpdates windows
	var ids []int
	for i := range perChat {
		for c := range chats {
			ids = append(ids, s.srv.SendText(int64(800+c), fmt.Sprintf("m%02d", i)))
		}
	}
	// Uneven handling times, so that chats finish out of step.
	s.h.Before = func(in bot.Inbound) {
		time.Sleep(time.Duration(rand.IntN(3)) * time.Millisecond)
	}
	s.poll(t)
	got := s.h.Wait(t, len(ids))
	s.srv.WaitConfirmed(t, ids[len(ids)-1]+1, 5*time.Second)

	order := chatOrder(got)
	if len(order) != chats {
		t.Fatalf("%d chats handled, want %d", len(order), chats)
	}
	for chat, texts := range order {
		for i, text := range texts {
			if want := fmt.Sprintf("m%02d", i); text != want {
				t.Errorf("chat %s: update %d is %q, want %q (order %v)", chat, i, text, want, texts)
				break
			}
		}
	}
	checkOnce(t, s.h, ids)
	if s.srv.Pending() != 0 {
		t.Errorf("%d updates still pending", s.srv.Pending())
	}
}

func TestSlowChatDoesNotHoldOthers(t *testing.T) {
	s := newSetup(t)
	const slow = 900
	release := make(chan struct{})
	s.h.Before = func(in bot.Inbound) {
		if in.Input.Text == "slow-1" {
			<-release
		}
	}
	s1 := s.srv.SendText(slow, "slow-1")
	s2 := s.srv.SendText(slow, "slow-2")
	var others []int
	for c := range 20 {
		others = append(others, s.srv.SendText(int64(910+c), "early"))
	}
	s.poll(t)
	var releaseOnce sync.Once
	free := func() { releaseOnce.Do(func() { close(release) }) }
	t.Cleanup(free)          // before Poll is stopped, should the test fail early
	s.h.Wait(t, len(others)) // slow-1 is recorded once it returns

	// Updates arriving while slow-1 is still running are fetched and
	// handled too: getUpdates goes on while it is in flight.
	for c := range 20 {
		others = append(others, s.srv.SendText(int64(910+c), "late"))
	}
	got := s.h.Wait(t, len(others))
	for _, in := range got {
		if strings.HasPrefix(in.Input.Text, "slow") {
			t.Errorf("slow chat's %q handled before its first update returned", in.Input.Text)
		}
	}
	if off := s.srv.LastConfirmedOffset(); off > s1 {
		t.Errorf("offset %d confirmed past the running update %d", off, s1)
	}
	free()
	got = s.h.Wait(t, len(others)+2)
	last := others[len(others)-1]
	s.srv.WaitConfirmed(t, last+1, 5*time.Second)
	if o := chatOrder(got)[strconv.Itoa(slow)]; strings.Join(o, ",") != "slow-1,slow-2" {
		t.Errorf("slow chat's order %v", o)
	}
	checkOnce(t, s.h, append(others, s1, s2))
	for _, o := range chatOrder(got) {
		if len(o) == 2 && o[0] == "late" {
			t.Errorf("late update before early one: %v", o)
		}
	}
}

func TestFailedUpdateHoldsOffsetNotOtherChats(t *testing.T) {
	s := newSetup(t, func(c *Config) { c.MaxAttempts = 2 }) // ErrNotSaved is not bounded by it
	const bad = 950
	var healed atomic.Bool
	var mu sync.Mutex
	var confirmedWhileFailing []int
	b1 := s.srv.SendText(bad, "b1")
	b2 := s.srv.SendText(bad, "b2")
	s.h.Fail = func(in bot.Inbound, n int) error {
		if in.Input.Text == "b1" && !healed.Load() {
			mu.Lock()
			confirmedWhileFailing = append(confirmedWhileFailing, s.srv.LastConfirmedOffset())
			mu.Unlock()
			return fmt.Errorf("apply: %w", bot.ErrNotSaved)
		}
		return nil
	}
	var others []int
	for c := range 10 {
		others = append(others, s.srv.SendText(int64(960+c), "x"))
	}
	s.poll(t)
	s.h.Wait(t, len(others)+3) // b1 tried at least 3 times meanwhile
	// Updates queued after the failure are handled too, and for the failing
	// chat held.
	b3 := s.srv.SendText(bad, "b3")
	for c := range 10 {
		others = append(others, s.srv.SendText(int64(960+c), "y"))
	}
	deadline := time.Now().Add(5 * time.Second)
	for handledAll(s.h, others) != len(others) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := handledAll(s.h, others); n != len(others) {
		t.Fatalf("%d of %d other chats' updates handled while one chat fails", n, len(others))
	}
	if c := s.h.CallsOf(b2) + s.h.CallsOf(b3); c != 0 {
		t.Errorf("the failing chat's later updates were handled %d times while it failed", c)
	}
	if off := s.srv.LastConfirmedOffset(); off > b1 {
		t.Errorf("offset %d confirmed past the failing update %d", off, b1)
	}
	healed.Store(true)
	last := others[len(others)-1]
	s.srv.WaitConfirmed(t, last+1, 5*time.Second)
	if c := s.h.CallsOf(b1); c < 3 {
		t.Errorf("failing update tried %d times", c)
	}
	checkOnce(t, s.h, append(others, b2, b3))
	if o := chatOrder(s.h.All())[strconv.Itoa(bad)]; !strings.HasSuffix(strings.Join(o, ","), "b1,b2,b3") ||
		strings.Contains(strings.Join(o, ","), "b2,b1") {
		t.Errorf("failing chat's order %v", o)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, off := range confirmedWhileFailing {
		if off > b1 {
			t.Errorf("offset %d confirmed past the failing update %d", off, b1)
		}
	}
}

func handledAll(h *recorder, ids []int) int {
	n := 0
	for _, id := range ids {
		if h.CallsOf(id) > 0 {
			n++
		}
	}
	return n
}

func TestRefetchDoesNotHandleTwice(t *testing.T) {
	s := newSetup(t)
	release := make(chan struct{})
	s.h.Before = func(in bot.Inbound) {
		if in.Input.Text == "hold" {
			<-release
		}
	}
	hold := s.srv.SendText(990, "hold")
	var ids []int
	for c := range 30 {
		ids = append(ids, s.srv.SendText(int64(1000+c), "a"))
	}
	s.poll(t)
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	s.h.Wait(t, len(ids))
	// With "hold" running the offset stays at it, so each getUpdates
	// returns every update above again.
	before := s.srv.Calls("getUpdates")
	s.srv.WaitCalls(t, "getUpdates", before+5, 5*time.Second)
	close(release)
	s.srv.WaitConfirmed(t, ids[len(ids)-1]+1, 5*time.Second)
	checkOnce(t, s.h, append(ids, hold))
}

func TestPollStopsWithHandlersAndRetriesRunning(t *testing.T) {
	s := newSetup(t, func(c *Config) { c.PollTimeout = 20 * time.Second })
	s.a.minBackoff = time.Minute // a retrying chat sleeps long
	s.a.maxBackoff = time.Minute
	started := make(chan struct{})
	var once sync.Once
	var after atomic.Bool
	s.h.Before = func(in bot.Inbound) {
		if after.Load() {
			t.Errorf("handler called after Poll returned: %+v", in.Input)
		}
	}
	s.h.Fail = func(in bot.Inbound, n int) error {
		if in.Input.Text == "retry" {
			return fmt.Errorf("apply: %w", bot.ErrNotSaved)
		}
		return nil
	}
	blockCtx := make(chan context.Context, 1)
	h := s.a.handler
	s.a.handler = handlerFunc(func(ctx context.Context, in bot.Inbound) error {
		if in.Input.Text == "block" {
			once.Do(func() { blockCtx <- ctx; close(started) })
			<-ctx.Done()
			return ctx.Err()
		}
		return h.Handle(ctx, in)
	})
	s.srv.SendText(1100, "block")
	s.srv.SendText(1101, "retry")
	s.srv.SendText(1102, "fine")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.a.Poll(ctx) }()
	<-started
	s.h.Wait(t, 2) // "retry" failed once, "fine" handled
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Poll: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Poll did not return within 2s of cancel")
	}
	after.Store(true)
	if err := (<-blockCtx).Err(); err == nil {
		t.Error("the running handler's context was not cancelled")
	}
	time.Sleep(20 * time.Millisecond)
}

type handlerFunc func(context.Context, bot.Inbound) error

func (f handlerFunc) Handle(ctx context.Context, in bot.Inbound) error { return f(ctx, in) }

func TestRawUpdateID(t *testing.T) {
	for _, c := range []struct {
		raw string
		id  int
		ok  bool
	}{
		{`{"update_id":42,"message":{}}`, 42, true},
		{`{"update_id":7}`, 7, true},
		{`{"message":{"text":"{\"update_id\":1,"},"update_id":9}`, 9, true},
		{`{ "update_id" : 12 }`, 12, true},
		{`{"update_id":1e3}`, 1000, false}, // not an int: refused by encoding/json
		{`{"message":{}}`, 0, false},
	} {
		id, err := rawUpdateID(json.RawMessage(c.raw))
		if (err == nil) != c.ok || (c.ok && id != c.id) {
			t.Errorf("rawUpdateID(%s) = %d, %v; want %d ok=%v", c.raw, id, err, c.id, c.ok)
		}
	}
}

func TestSplitUpdates(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string // nil: an error
	}{
		{`[]`, []string{}},
		{` [ ] `, []string{}},
		{`[{"update_id":1},{"update_id":2,"message":{"text":"a}]\"{[","x":[1,{"y":2}]}}]`,
			[]string{`{"update_id":1}`, `{"update_id":2,"message":{"text":"a}]\"{[","x":[1,{"y":2}]}}`}},
		{"[\n {\"update_id\":3, \"m\":\"\\\\\"}\n]", []string{`{"update_id":3, "m":"\\"}`}},
		{`[1,2]`, nil},
		{`["x"]`, nil},
		{`[{"update_id":1}`, nil},
		{`{"update_id":1}`, nil},
		{`null`, []string{}}, // encoding/json: a null slice
	} {
		got, err := splitUpdates([]byte(c.in))
		if c.want == nil {
			if err == nil {
				t.Errorf("splitUpdates(%s) = %q, want an error", c.in, got)
			}
			continue
		}
		if err != nil || len(got) != len(c.want) {
			t.Errorf("splitUpdates(%s) = %q, %v; want %q", c.in, got, err, c.want)
			continue
		}
		for i := range got {
			if string(got[i]) != c.want[i] {
				t.Errorf("splitUpdates(%s)[%d] = %s, want %s", c.in, i, got[i], c.want[i])
			}
		}
	}
}
