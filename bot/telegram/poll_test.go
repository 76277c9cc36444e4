package telegram

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/bot"
	"github.com/dieuphoi/dieuphoi/bot/telegram/telegramtest"
	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
)

func TestCommands(t *testing.T) {
	s := newSetup(t)
	const user = 501
	s.srv.SendCommand(user, "start", "tok_ABC123")
	s.srv.SendText(user, "/start@"+telegramtest.BotUsername+" tok_DEF456")
	s.srv.SendText(user, "/CHUONGTRINH")
	s.srv.SendText(user, "/start@SomeOtherBot tok_X") // addressed to another bot: ignored
	last := s.srv.SendText(user, "xin chào")
	s.poll(t)

	got := s.h.Wait(t, 4)
	want := []flows.Input{
		{Kind: flows.InCommand, Command: "start", Text: "tok_ABC123"},
		{Kind: flows.InCommand, Command: "start", Text: "tok_DEF456"},
		{Kind: flows.InCommand, Command: "chuongtrinh"},
		{Kind: flows.InText, Text: "xin chào"},
	}
	for i, w := range want {
		in := got[i]
		if in.Input.Kind != w.Kind || in.Input.Command != w.Command || in.Input.Text != w.Text {
			t.Errorf("update %d: got %+v, want %+v", i, in.Input, w)
		}
		if in.UserID != "501" || in.ChatID != "501" || in.Key.Channel != domain.Telegram {
			t.Errorf("update %d: ids %+v", i, in)
		}
	}
	if got[3].Key.UpdateID != strconv.Itoa(last) {
		t.Errorf("update key %q, want %d", got[3].Key.UpdateID, last)
	}
	s.srv.WaitConfirmed(t, last+1, 3*time.Second)
	if n := len(s.h.All()); n != 4 {
		t.Errorf("handler called %d times, want 4", n)
	}
}

func TestParseCommand(t *testing.T) {
	for _, c := range []struct {
		text, cmd, arg string
		forUs, ok      bool
	}{
		{"/start TOKEN", "start", "TOKEN", true, true},
		{"/start@MyBot TOKEN", "start", "TOKEN", true, true},
		{"/start@mybot", "start", "", true, true},
		{"/CHUONGTRINH", "chuongtrinh", "", true, true},
		{"/huy   \n ", "huy", "", true, true},
		{"/start@Other x", "start", "x", false, true},
		{"/", "", "", false, false},
		{"/ hello", "", "", false, false},
		{"/home/user/file", "", "", false, false},
		{"hello /start", "", "", false, false},
	} {
		cmd, arg, forUs, ok := parseCommand(c.text, "MyBot")
		if cmd != c.cmd || arg != c.arg || forUs != c.forUs || ok != c.ok {
			t.Errorf("parseCommand(%q) = %q %q %v %v, want %q %q %v %v",
				c.text, cmd, arg, forUs, ok, c.cmd, c.arg, c.forUs, c.ok)
		}
	}
}

func TestContactSelfOrOther(t *testing.T) {
	s := newSetup(t)
	const user = 502
	s.srv.ShareContact(user, "+84912345678", user)
	s.srv.ShareContact(user, "0987654321", 777)
	s.srv.ShareContact(user, "0911222333", 0) // a card without a Telegram account
	s.poll(t)
	got := s.h.Wait(t, 3)
	for i, w := range []struct {
		phone string
		self  bool
	}{{"+84912345678", true}, {"0987654321", false}, {"0911222333", false}} {
		in := got[i].Input
		if in.Kind != flows.InContact || in.Phone != w.phone || in.ContactIsSelf != w.self || in.ContactVerified != w.self || in.PhoneForm {
			t.Errorf("contact %d: got %+v, want phone %s self %v", i, in, w.phone, w.self)
		}
	}
	for _, p := range []string{"912345678", "987654321", "911222333"} {
		if strings.Contains(s.logs.String(), p) {
			t.Errorf("a phone number was logged:\n%s", s.logs.String())
		}
	}
}

func TestFilesStickersAndOther(t *testing.T) {
	s := newSetup(t)
	const user = 503
	pdf := []byte("%PDF-1.7 fake")
	s.srv.Queue(s.srv.NewDocument(user, "bao-cao.pdf", "application/pdf", pdf).
		With("caption", "Báo cáo quý").With("media_group_id", "album-9"))
	jpeg := []byte(strings.Repeat("J", 4000))
	s.srv.SendPhoto(user, "ảnh", jpeg)
	s.srv.SendSticker(user, "👍")
	s.srv.Queue(s.srv.NewLocation(user, 20.65, 106.05))
	s.poll(t)
	got := s.h.Wait(t, 4)

	doc := got[0].Input
	if doc.Kind != flows.InFile || len(doc.Files) != 1 {
		t.Fatalf("document: %+v", doc)
	}
	f := doc.Files[0]
	if f.Name != "bao-cao.pdf" || f.MIME != "application/pdf" || f.Size != int64(len(pdf)) ||
		f.GroupID != "album-9" || f.Caption != "Báo cáo quý" || f.IsPhoto || f.ID == "" || f.Download != f.ID {
		t.Errorf("document ref: %+v", f)
	}
	ph := got[1].Input
	if ph.Kind != flows.InFile || len(ph.Files) != 1 || !ph.Files[0].IsPhoto || ph.Files[0].Caption != "ảnh" ||
		ph.Files[0].Size != int64(len(jpeg)) {
		t.Fatalf("photo: %+v", ph)
	}
	// The largest size is the one picked: it downloads as the full bytes.
	data, err := s.a.DownloadFile(context.Background(), ph.Files[0].ID, 1<<20)
	if err != nil || string(data) != string(jpeg) {
		t.Errorf("photo download: %d bytes, %v", len(data), err)
	}
	if got[2].Input.Kind != flows.InSticker {
		t.Errorf("sticker: %+v", got[2].Input)
	}
	if got[3].Input.Kind != flows.InOther {
		t.Errorf("location: %+v", got[3].Input)
	}
}

// A group's messages and button presses are flagged, with the link to a
// private chat: the dispatcher runs no personal flow there.
func TestGroupUpdatesAreFlagged(t *testing.T) {
	s := newSetup(t)
	s.srv.Queue(s.srv.NewText(506, "HY7K3M9Q").InGroup(-1001234567890, "Nhóm"))
	s.srv.Queue(s.srv.NewButtonPress(507, 1, "rsvp:decline").InGroup(-100200, "Nhóm nhỏ"))
	s.srv.SendText(506, "riêng")
	s.poll(t)
	byChat := map[string]bot.Inbound{}
	for _, in := range s.h.Wait(t, 3) {
		byChat[in.ChatID] = in
	}
	for i, w := range []struct {
		chat  string
		group bool
	}{{"-1001234567890", true}, {"-100200", true}, {"506", false}} {
		in, ok := byChat[w.chat]
		if !ok || in.Group != w.group {
			t.Errorf("chat %s: %+v, want group %v", w.chat, in, w.group)
		}
		if wantURL := "https://t.me/" + telegramtest.BotUsername; w.group && in.PrivateURL != wantURL {
			t.Errorf("update %d: private link %q, want %q", i, in.PrivateURL, wantURL)
		}
	}
}

func TestIgnoredUpdatesAreAcknowledged(t *testing.T) {
	s := newSetup(t)
	// A service message in a group, and a callback from an inline-mode
	// message (no chat): no-ops, acknowledged.
	svc := s.srv.NewText(504, "x").InGroup(-100500, "Nhóm").With("text", "").
		With("new_chat_members", []any{map[string]any{"id": 9, "is_bot": false, "first_name": "A"}})
	s.srv.Queue(svc)
	s.srv.Queue(s.srv.NewUpdate("edited_message", map[string]any{"message_id": 1, "date": 1,
		"chat": map[string]any{"id": 504, "type": "private"}, "text": "sửa"}))
	last := s.srv.SendText(504, "thật")
	s.poll(t)
	got := s.h.Wait(t, 1)
	s.srv.WaitConfirmed(t, last+1, 3*time.Second)
	if len(s.h.All()) != 1 || got[0].Input.Text != "thật" {
		t.Errorf("handler got %+v", s.h.All())
	}
}

func TestCallbackAnsweredEvenWhenHandlerFails(t *testing.T) {
	s := newSetup(t)
	const user = 505
	if err := s.a.Send(context.Background(), "505", []flows.Reply{{Text: "Anh/chị có dự không?",
		Buttons: [][]flows.Button{{{Label: "Có", Data: "rsvp:attend"}, {Label: "Không", Data: "rsvp:decline"}}}}}); err != nil {
		t.Fatal(err)
	}
	msg := s.srv.Messages(user)[0]
	s.h.Fail = func(in bot.Inbound, n int) error {
		if n == 1 {
			return fmt.Errorf("%w: database down", bot.ErrNotSaved)
		}
		return nil
	}
	id := s.srv.PressButton(user, msg.MessageID, "rsvp:attend")
	s.poll(t)
	got := s.h.Wait(t, 2)
	if got[0].Input.Kind != flows.InButton || got[0].Input.Data != "rsvp:attend" || got[0].ChatID != "505" {
		t.Errorf("button: %+v", got[0])
	}
	s.srv.WaitConfirmed(t, id+1, 3*time.Second)
	answers := s.srv.CallbackAnswers()
	if len(answers) != 1 {
		t.Errorf("callback answered %d times, want once: %v", len(answers), answers)
	}
}

func TestOffsetOnlyPastHandledUpdates(t *testing.T) {
	s := newSetup(t)
	const alice, bob = 601, 602
	a1 := s.srv.SendText(alice, "một")
	a2 := s.srv.SendText(alice, "hai")
	b1 := s.srv.SendText(bob, "ba")

	var mu sync.Mutex
	var confirmedDuringFailures []int
	var order []string
	s.h.Fail = func(in bot.Inbound, n int) error {
		mu.Lock()
		defer mu.Unlock()
		order = append(order, in.Input.Text)
		if in.Key.UpdateID == strconv.Itoa(a1) && n <= 2 {
			confirmedDuringFailures = append(confirmedDuringFailures, s.srv.LastConfirmedOffset())
			return fmt.Errorf("apply: %w", bot.ErrNotSaved)
		}
		return nil
	}
	s.poll(t)
	s.h.Wait(t, 5) // a1 ×3, a2, b1
	s.srv.WaitConfirmed(t, a2+1, 3*time.Second)

	mu.Lock()
	defer mu.Unlock()
	for _, off := range confirmedDuringFailures {
		if off > a1 {
			t.Errorf("offset %d confirmed past the failed update %d", off, a1)
		}
	}
	if c := s.h.CallsOf(a1); c != 3 {
		t.Errorf("failed update handled %d times, want 3", c)
	}
	if c := s.h.CallsOf(b1); c != 1 {
		t.Errorf("other chat's update handled %d times, want 1 (not again after the refetch)", c)
	}
	// Alice's second message waited for her first.
	var aliceOrder []string
	for _, o := range order {
		if o != "ba" {
			aliceOrder = append(aliceOrder, o)
		}
	}
	if strings.Join(aliceOrder, ",") != "một,một,một,hai" {
		t.Errorf("alice's updates handled in order %v", aliceOrder)
	}
	if s.srv.Pending() != 0 {
		t.Errorf("%d updates still pending", s.srv.Pending())
	}
}

func TestPoisonUpdateDroppedAfterMaxAttempts(t *testing.T) {
	s := newSetup(t, func(c *Config) { c.MaxAttempts = 3 })
	bad := s.srv.SendText(603, "lỗi")
	good := s.srv.SendText(603, "tốt")
	s.h.Fail = func(in bot.Inbound, n int) error {
		if in.Input.Text == "lỗi" {
			return errors.New("render: reply too odd")
		}
		return nil
	}
	s.poll(t)
	s.srv.WaitConfirmed(t, good+1, 3*time.Second)
	if c := s.h.CallsOf(bad); c != 3 {
		t.Errorf("poisoned update tried %d times, want 3", c)
	}
	if c := s.h.CallsOf(good); c != 1 {
		t.Errorf("next update handled %d times, want 1", c)
	}
}

func TestBlockedUserIsAcknowledged(t *testing.T) {
	s := newSetup(t)
	id := s.srv.SendText(604, "hi")
	s.h.Fail = func(bot.Inbound, int) error { return fmt.Errorf("send replies: %w", ErrBlocked) }
	s.poll(t)
	s.srv.WaitConfirmed(t, id+1, 3*time.Second)
	if c := s.h.CallsOf(id); c != 1 {
		t.Errorf("handled %d times, want 1", c)
	}
}

func TestRetryAfterOnGetUpdates(t *testing.T) {
	s := newSetup(t)
	s.srv.FailNext("getUpdates", 1, 429, 1)
	id := s.srv.SendText(605, "chào")
	s.poll(t)
	s.h.Wait(t, 1)
	s.srv.WaitConfirmed(t, id+1, 4*time.Second)
	times := s.srv.CallTimes("getUpdates")
	if len(times) < 2 {
		t.Fatalf("getUpdates called %d times", len(times))
	}
	if gap := times[1].Sub(times[0]); gap < 950*time.Millisecond {
		t.Errorf("retried after %v, want retry_after 1s honoured", gap)
	}
}

func TestOtherGetUpdatesErrorsBackOff(t *testing.T) {
	s := newSetup(t)
	s.srv.FailNext("getUpdates", 3, 502, 0)
	id := s.srv.SendText(606, "chào")
	s.poll(t)
	s.srv.WaitConfirmed(t, id+1, 3*time.Second)
	times := s.srv.CallTimes("getUpdates")
	// Backoff 20ms, 40ms, 80ms.
	if gap := times[3].Sub(times[2]); gap < 70*time.Millisecond {
		t.Errorf("third retry after %v, want exponential backoff", gap)
	}
}

func TestOrderPerChatParallelAcrossChats(t *testing.T) {
	s := newSetup(t)
	const alice, bob = 701, 702
	var ids []int
	for i := range 3 {
		ids = append(ids, s.srv.SendText(alice, fmt.Sprintf("a%d", i)))
		ids = append(ids, s.srv.SendText(bob, fmt.Sprintf("b%d", i)))
	}
	bobStarted := make(chan struct{})
	var once sync.Once
	s.h.Before = func(in bot.Inbound) {
		switch in.Input.Text {
		case "b0":
			once.Do(func() { close(bobStarted) })
		case "a0":
			// Alice's first update waits for Bob's: only possible when the
			// chats run in parallel.
			select {
			case <-bobStarted:
			case <-time.After(3 * time.Second):
			}
		}
	}
	start := time.Now()
	s.poll(t)
	got := s.h.Wait(t, 6)
	took := time.Since(start)
	var a, b []string
	for _, in := range got {
		if in.ChatID == "701" {
			a = append(a, in.Input.Text)
		} else {
			b = append(b, in.Input.Text)
		}
	}
	if strings.Join(a, ",") != "a0,a1,a2" || strings.Join(b, ",") != "b0,b1,b2" {
		t.Errorf("order: alice %v, bob %v", a, b)
	}
	// Run one after the other, Alice's first update would have waited out
	// its 3 s for Bob's.
	if took >= 2500*time.Millisecond {
		t.Errorf("chats not handled in parallel: took %v", took)
	}
	s.srv.WaitConfirmed(t, ids[len(ids)-1]+1, 3*time.Second)
}

func TestPollDeletesWebhookAndStopsPromptly(t *testing.T) {
	s := newSetup(t, func(c *Config) { c.PollTimeout = 20 * time.Second })
	// A webhook left from webhook mode: getUpdates answers 409 until deleted.
	s.srv.Queue(s.srv.NewText(1, "x")) // something pending
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := s.a.request(ctx, "setWebhook", map[string]string{"url": "https://example.org/hook"}, time.Second); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.a.Poll(ctx) }()
	s.h.Wait(t, 1)
	if w := s.srv.Webhook(); w.URL != "" || w.DeleteCount != 1 {
		t.Errorf("webhook after Poll: %+v", w)
	}
	// Let the next long poll start, then stop: it must not wait 20s.
	s.srv.WaitCalls(t, "getUpdates", 2, 2*time.Second)
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Poll: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Poll did not return after cancel")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Poll took %v to stop", d)
	}
}

func TestPollStopsOnRevokedToken(t *testing.T) {
	s := newSetup(t)
	s.srv.FailNext("getUpdates", 1, 401, 0)
	err := s.a.Poll(context.Background())
	if err == nil || !strings.Contains(err.Error(), "Unauthorized") {
		t.Errorf("Poll = %v, want Unauthorized", err)
	}
}

func TestNewRejectsBadToken(t *testing.T) {
	srv := telegramtest.New(t, testToken)
	_, err := New(context.Background(), Config{Token: "111:wrong", APIBase: srv.URL(), Handler: newRecorder()})
	if err == nil || strings.Contains(err.Error(), "111:wrong") {
		t.Errorf("New with a wrong token: %v", err)
	}
	_, err = New(context.Background(), Config{Token: testToken, APIBase: srv.URL(), Handler: newRecorder(),
		WebhookURL: "https://example.org/hook"})
	if err == nil {
		t.Error("New accepted a webhook without a secret")
	}
}

// Workers wait for more chats once theirs are done (workerIdle); a poll
// that ends still returns at once.
func TestPollStopsOnRevokedTokenWithIdleWorkers(t *testing.T) {
	s := newSetup(t)
	for c := range 3 {
		s.srv.SendText(int64(801+c), "x")
	}
	var n atomic.Int32
	s.h.Before = func(bot.Inbound) {
		if n.Add(1) == 3 {
			// The getUpdates after these three are acknowledged.
			s.srv.FailNext("getUpdates", 1, 401, 0)
		}
	}
	start := time.Now()
	err := s.a.Poll(context.Background())
	if err == nil || !strings.Contains(err.Error(), "Unauthorized") {
		t.Errorf("Poll = %v, want Unauthorized", err)
	}
	if n.Load() != 3 {
		t.Errorf("%d updates handled, want 3", n.Load())
	}
	if d := time.Since(start); d >= workerIdle/2 {
		t.Errorf("Poll took %v to return with its workers idle", d)
	}
}
