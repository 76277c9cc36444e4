package bot_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/bot"
	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
	"github.com/dieuphoi/dieuphoi/internal/testenv"
	"github.com/dieuphoi/dieuphoi/storage"
	"github.com/dieuphoi/dieuphoi/storage/postgres"
	"github.com/dieuphoi/dieuphoi/storage/redis"
	"github.com/dieuphoi/dieuphoi/storage/sqlite"
	"github.com/dieuphoi/dieuphoi/storage/storagetest"
)

// recorder is a Sender that keeps what was sent, per chat.
type recorder struct {
	mu   sync.Mutex
	sent map[string][]flows.Reply
}

func (r *recorder) Send(_ context.Context, chatID string, replies []flows.Reply) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sent == nil {
		r.sent = map[string][]flows.Reply{}
	}
	r.sent[chatID] = append(r.sent[chatID], replies...)
	return nil
}

func (r *recorder) texts(chatID string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, rep := range r.sent[chatID] {
		out = append(out, rep.Text)
	}
	return out
}

var clock = time.Date(2024, 7, 25, 9, 0, 0, 0, time.UTC)

func event() *domain.Event {
	loc, _ := time.LoadLocation("Asia/Ho_Chi_Minh")
	start := time.Date(2024, 8, 2, 8, 0, 0, 0, loc)
	return &domain.Event{NameVI: "Hội nghị PII 2024", Location: loc, DoorsOpen: start.Add(-30 * time.Minute), Start: start,
		End: start.Add(3 * time.Hour), VenueVI: "Trung tâm Hội nghị", RSVPCutoff: start.Add(-39 * time.Hour)}
}

type rig struct {
	d     *bot.Dispatcher
	st    storage.Store
	sent  *recorder
	dir   *domain.Directory
	seq   int
	chat  string
	token string
}

func newRig(t *testing.T, st storage.Store, ss storage.SessionStore) *rig {
	t.Helper()
	ctx := context.Background()
	if err := st.SyncDirectory(ctx, storagetest.Agencies(), storagetest.People()); err != nil {
		t.Fatal(err)
	}
	dir, err := st.Directory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	d := bot.NewDispatcher(bot.Config{Store: st, Sessions: ss, Event: event(), Directory: dir, Now: func() time.Time { return clock }})
	d.SetSender(domain.Telegram, rec)
	p, _ := dir.Person("DB001")
	return &rig{d: d, st: st, sent: rec, dir: dir, chat: "1001", token: p.InviteToken}
}

func (r *rig) in(in flows.Input) bot.Inbound {
	r.seq++
	return bot.Inbound{Key: domain.UpdateKey{Channel: domain.Telegram, UpdateID: fmt.Sprint(r.seq)}, UserID: r.chat, ChatID: r.chat, Input: in}
}

func sqliteRig(t *testing.T) *rig {
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "d.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return newRig(t, s, s)
}

// pgRedis opens the test's PostgreSQL and Redis session store, closed at
// the test's end.
func pgRedis(t *testing.T) (*postgres.Store, *redis.Store) {
	t.Helper()
	ctx := context.Background()
	pg, err := postgres.Open(ctx, testenv.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Close() })
	ss, err := redis.Open(ctx, redis.Options{URL: testenv.RedisURL(t), Prefix: testenv.Prefix(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ss.Close() })
	return pg, ss
}

// substituteSteps is a delegate's whole conversation naming Phạm Thu Hà as
// their substitute, from their invite link (token) to the confirmation.
func substituteSteps(token string) []flows.Input {
	return []flows.Input{
		{Kind: flows.InCommand, Command: "start", Text: token},
		{Kind: flows.InButton, Data: "rsvp:sub"},
		{Kind: flows.InText, Text: "Phạm Thu Hà"},
		{Kind: flows.InText, Text: "Phó Trưởng phòng"},
		{Kind: flows.InText, Text: "0911222333"},
		{Kind: flows.InButton, Data: "sub:ok"},
	}
}

func TestWholeRSVPAndReplays(t *testing.T) {
	ctx := context.Background()
	r := sqliteRig(t)
	steps := substituteSteps(r.token)
	var last bot.Inbound
	for _, s := range steps {
		last = r.in(s)
		if err := r.d.Handle(ctx, last); err != nil {
			t.Fatalf("handle %v: %v", s, err)
		}
	}
	before := len(r.sent.texts(r.chat))
	// The platform redelivers the last update: nothing is saved or sent twice.
	if err := r.d.Handle(ctx, last); err != nil {
		t.Fatal(err)
	}
	if got := len(r.sent.texts(r.chat)); got != before {
		t.Errorf("replay sent %d more replies", got-before)
	}
	h, err := r.st.RSVPHistory(ctx, "DB001")
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 1 || h[0].Status != domain.RSVPSubstitute || h[0].Substitute.Phone != "0911222333" {
		t.Fatalf("history = %+v, want one substitute answer", h)
	}
}

// When the session is lost (Redis flushed, TTL passed), the person is still
// known from the identity in the database, and nothing confirmed is lost.
func TestLostSessionKeepsIdentityAndAnswers(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "d.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r := newRig(t, s, s)
	for _, in := range []flows.Input{{Kind: flows.InCommand, Command: "start", Text: r.token}, {Kind: flows.InButton, Data: "rsvp:attend"}} {
		if err := r.d.Handle(ctx, r.in(in)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Put(ctx, "telegram:"+r.chat, []byte("not json")); err != nil {
		t.Fatal(err)
	}
	if err := r.d.Handle(ctx, r.in(flows.Input{Kind: flows.InCommand, Command: "xacnhan"})); err != nil {
		t.Fatal(err)
	}
	texts := r.sent.texts(r.chat)
	if last := texts[len(texts)-1]; !strings.Contains(last, "Trạng thái của anh/chị: tham dự") {
		t.Fatalf("after losing the session the card says %q; want the saved answer", last)
	}
}

func TestOneChatInOrderOthersInParallel(t *testing.T) {
	ctx := context.Background()
	r := sqliteRig(t)
	// Identify ten chats, then send each a burst concurrently.
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for c := 0; c < 10; c++ {
		chat := fmt.Sprint(2000 + c)
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, _ := r.dir.Person("DB001")
			inputs := []flows.Input{
				{Kind: flows.InCommand, Command: "start", Text: p.InviteToken},
				{Kind: flows.InButton, Data: "rsvp:sub"},
				{Kind: flows.InText, Text: "Phạm Thu Hà"},
				{Kind: flows.InText, Text: "Phó Trưởng phòng"},
				{Kind: flows.InText, Text: "0911222333"},
			}
			for i, in := range inputs {
				ib := bot.Inbound{Key: domain.UpdateKey{Channel: domain.Telegram, UpdateID: chat + "-" + fmt.Sprint(i)}, UserID: chat, ChatID: chat, Input: in}
				if err := r.d.Handle(ctx, ib); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for c := 0; c < 10; c++ {
		// The other nine chats link the same person meanwhile, so each chat
		// also gets their link notices, at moments of their own; its own
		// conversation is what must end in order.
		var texts []string
		for _, t := range r.sent.texts(fmt.Sprint(2000 + c)) {
			if !strings.HasPrefix(t, "🔔 Tài khoản của anh/chị vừa được liên kết") {
				texts = append(texts, t)
			}
		}
		if len(texts) == 0 || !strings.Contains(texts[len(texts)-1], "Xin kiểm tra thông tin người đi thay") {
			t.Fatalf("chat %d ended with %q; want the confirmation screen", c, texts)
		}
	}
}

// Two dispatchers are two bot processes: one PostgreSQL, one Redis. The
// same update delivered to both (a webhook retry reaching another replica)
// is handled once; one chat's updates never interleave.
func TestTwoProcessesOnePostgresOneRedis(t *testing.T) {
	ctx := context.Background()
	pgURL, redisURL, prefix := testenv.PostgresURL(t), testenv.RedisURL(t), testenv.Prefix(t)
	var rigs []*rig
	for i := 0; i < 2; i++ {
		st, err := postgres.Open(ctx, pgURL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		ss, err := redis.Open(ctx, redis.Options{URL: redisURL, Prefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ss.Close() })
		rigs = append(rigs, newRig(t, st, ss))
	}
	shared := &recorder{}
	for _, r := range rigs {
		r.d.SetSender(domain.Telegram, shared)
	}
	p, _ := rigs[0].dir.Person("DB001")
	inputs := substituteSteps(p.InviteToken)
	for i, in := range inputs {
		ib := bot.Inbound{Key: domain.UpdateKey{Channel: domain.Telegram, UpdateID: fmt.Sprint(500 + i)}, UserID: "77", ChatID: "77", Input: in}
		var wg sync.WaitGroup
		for _, r := range rigs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := r.d.Handle(ctx, ib); err != nil {
					t.Errorf("handle: %v", err)
				}
			}()
		}
		wg.Wait()
	}
	texts := shared.texts("77")
	// Each update one message (/start's greeting and card joined): one
	// more would be an update handled twice.
	if want := len(inputs); len(texts) != want || !strings.Contains(texts[0], "Xin chào") || !strings.Contains(texts[0], "Hội nghị PII 2024") {
		t.Fatalf("sent %d messages, want %d (each update handled once, /start's greeting with the card):\n%s", len(texts), want, strings.Join(texts, "\n---\n"))
	}
	h, err := rigs[1].st.RSVPHistory(ctx, "DB001")
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 1 || h[0].Status != domain.RSVPSubstitute {
		t.Fatalf("history = %+v", h)
	}
}

// failingSessions is a session store whose server is down.
type failingSessions struct{ storage.SessionStore }

func (failingSessions) Begin(context.Context, string, string) (storage.Turn, error) {
	return storage.Turn{}, errors.New("connection refused")
}

func TestSessionStoreDownGivesPoliteRetry(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "d.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r := newRig(t, s, failingSessions{s})
	if err := r.d.Handle(ctx, r.in(flows.Input{Kind: flows.InText, Text: "xin chào"})); err != nil {
		t.Fatalf("handle: %v (a session outage should be answered, not redelivered)", err)
	}
	texts := r.sent.texts(r.chat)
	if len(texts) != 1 || !strings.Contains(texts[0], "Xin anh/chị gửi lại") {
		t.Fatalf("replies = %q, want the busy notice", texts)
	}
}

func TestDatabaseDownIsNotAcknowledged(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "d.db"))
	if err != nil {
		t.Fatal(err)
	}
	sessions, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "sessions.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer sessions.Close()
	r := newRig(t, s, sessions)
	s.Close() // the results database goes away
	err = r.d.Handle(ctx, r.in(flows.Input{Kind: flows.InCommand, Command: "start", Text: r.token}))
	if !errors.Is(err, bot.ErrNotSaved) {
		t.Fatalf("err = %v, want ErrNotSaved so the platform redelivers", err)
	}
}

// forgetfulDone loses done marks, as a process killed right after sending
// its replies would.
type forgetfulDone struct{ storage.SessionStore }

func (f forgetfulDone) Begin(ctx context.Context, chat, update string) (storage.Turn, error) {
	t, err := f.SessionStore.Begin(ctx, chat, update)
	if t.Lease != nil {
		t.Lease = forgetfulLease{t.Lease}
	}
	return t, err
}

type forgetfulLease struct{ storage.Lease }

func (forgetfulLease) MarkDone(context.Context) error { return nil }

func (l forgetfulLease) Finish(context.Context) error { l.Release(); return nil }

func TestReplayAfterSessionSavedDoesNotRunTheStepTwice(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "d.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r := newRig(t, s, forgetfulDone{s})
	for _, in := range []flows.Input{{Kind: flows.InCommand, Command: "start", Text: r.token}, {Kind: flows.InButton, Data: "rsvp:sub"}} {
		if err := r.d.Handle(ctx, r.in(in)); err != nil {
			t.Fatal(err)
		}
	}
	name := r.in(flows.Input{Kind: flows.InText, Text: "Phạm Thu Hà"})
	for i := 0; i < 2; i++ { // handled, then redelivered after the "crash"
		if err := r.d.Handle(ctx, name); err != nil {
			t.Fatal(err)
		}
	}
	texts := r.sent.texts(r.chat)
	last2 := texts[len(texts)-2:]
	if !strings.Contains(last2[0], "Chức vụ") || last2[0] != last2[1] {
		t.Fatalf("replies = %q; want the position question, then the same once more", last2)
	}
	// The next answer is still taken as the position.
	if err := r.d.Handle(ctx, r.in(flows.Input{Kind: flows.InText, Text: "Phó Trưởng phòng"})); err != nil {
		t.Fatal(err)
	}
	texts = r.sent.texts(r.chat)
	if !strings.Contains(texts[len(texts)-1], "Số điện thoại") {
		t.Fatalf("after the replay the flow asked %q; want the phone question", texts[len(texts)-1])
	}
}

func TestFloodingChatIsSlowedOthersAreNot(t *testing.T) {
	ctx := context.Background()
	r := sqliteRig(t)
	for i := 0; i < 40; i++ {
		if err := r.d.Handle(ctx, r.in(flows.Input{Kind: flows.InText, Text: "spam"})); err != nil {
			t.Fatal(err)
		}
	}
	texts := r.sent.texts(r.chat)
	notices := 0
	for _, s := range texts {
		if strings.Contains(s, "gửi nhanh quá") {
			notices++
		}
	}
	// 30 handled (burst) with one reply each, then one notice for the rest.
	if notices != 1 || len(texts) < 31 || len(texts) > 34 {
		t.Fatalf("%d replies with %d slow-down notices; want ~21 with exactly 1", len(texts), notices)
	}
	other := bot.Inbound{Key: domain.UpdateKey{Channel: domain.Telegram, UpdateID: "other-1"}, UserID: "9", ChatID: "9",
		Input: flows.Input{Kind: flows.InText, Text: "xin chào"}}
	if err := r.d.Handle(ctx, other); err != nil {
		t.Fatal(err)
	}
	if got := r.sent.texts("9"); len(got) != 1 || strings.Contains(got[0], "gửi nhanh quá") {
		t.Fatalf("another chat got %q; want a normal answer", got)
	}
}

// flaky fails the n-th send once, as a Bot API 500 would.
type flaky struct {
	*recorder
	calls, failAt int
}

func (f *flaky) Send(ctx context.Context, chat string, replies []flows.Reply) error {
	f.calls++
	if f.calls == f.failAt {
		return errors.New("HTTP 500")
	}
	return f.recorder.Send(ctx, chat, replies)
}

// When the second of two messages fails, the update is not acknowledged;
// its redelivery sends only what was not delivered.
func TestPartlySentRepliesAreNotRepeated(t *testing.T) {
	ctx := context.Background()
	r := sqliteRig(t)
	f := &flaky{recorder: r.sent, failAt: 2}
	r.d.SetSender(domain.Telegram, f)
	// A staff member's link by invite is not verified: the greeting asks
	// for the phone number with its own keyboard, so the menu is a second
	// message (a keyboard is never joined over).
	staff, _ := r.dir.Person("DB003")
	start := r.in(flows.Input{Kind: flows.InCommand, Command: "start", Text: staff.InviteToken})
	if err := r.d.Handle(ctx, start); err == nil {
		t.Fatal("a failed send must not be acknowledged")
	}
	if err := r.d.Handle(ctx, start); err != nil {
		t.Fatal(err)
	}
	got := r.sent.sent[r.chat]
	if len(got) != 2 || !strings.Contains(got[0].Text, "Xin chào") || !got[0].AskContact || len(got[1].Buttons) == 0 {
		t.Fatalf("replies = %q; want the greeting asking for the number once, then the menu", r.sent.texts(r.chat))
	}
}

// A step's replies go out joined (bot/join.go), and a replay after a crash
// sends the same joined message, not the flow's replies one by one.
func TestJoinedRepliesAndTheirReplay(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "d.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r := newRig(t, s, forgetfulDone{s})
	start := r.in(flows.Input{Kind: flows.InCommand, Command: "start", Text: r.token})
	for i := 0; i < 2; i++ { // handled, then redelivered after the "crash"
		if err := r.d.Handle(ctx, start); err != nil {
			t.Fatal(err)
		}
	}
	got := r.sent.sent[r.chat]
	if len(got) != 2 {
		t.Fatalf("sent %d messages, want the joined one twice: %q", len(got), r.sent.texts(r.chat))
	}
	m := got[0]
	if !strings.HasPrefix(m.Text, "Xin chào Nguyễn Văn An") || !strings.Contains(m.Text, "đã được nhận diện.\n\n📅 Hội nghị PII 2024") {
		t.Errorf("message = %q; want the greeting, a blank line, the event card", m.Text)
	}
	if len(m.Buttons) == 0 || m.Buttons[0][0].Data != "rsvp:attend" {
		t.Errorf("buttons = %+v; want the card's", m.Buttons)
	}
	if got[1].Text != m.Text || len(got[1].Buttons) != len(m.Buttons) {
		t.Errorf("the replay sent %q; want the same message", got[1].Text)
	}
}

// refusing fails every file reply as the platform refusing it for good,
// or, with err set, with that (temporary) error.
type refusing struct {
	recorder
	refused int
	err     error
}

func (r *refusing) Send(ctx context.Context, chatID string, replies []flows.Reply) error {
	for _, rep := range replies {
		if rep.File != nil {
			r.mu.Lock()
			r.refused++
			r.mu.Unlock()
			if r.err != nil {
				return r.err
			}
			return fmt.Errorf("sendDocument: %w", bot.ErrRefused)
		}
	}
	return r.recorder.Send(ctx, chatID, replies)
}

// Accepting brings the calendar file; when the platform refuses it for
// good, or fails it for the moment (a 5xx, a 429 beyond what the adapter
// waits), the update is still done at once (no retry holds the chat), the
// file is offered once and the replies after it go out.
func TestRefusedAttachmentDoesNotHoldTheChat(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"refused for good", nil},
		{"temporary failure", errors.New("telegram: sendDocument to chat 1: Bad Gateway")},
	} {
		t.Run(tc.name, func(t *testing.T) { testAttachmentDoesNotHold(t, tc.err) })
	}
}

func testAttachmentDoesNotHold(t *testing.T, sendErr error) {
	ctx := context.Background()
	r := sqliteRig(t)
	snd := &refusing{err: sendErr}
	r.d.SetSender(domain.Telegram, snd)
	for _, in := range []flows.Input{{Kind: flows.InCommand, Command: "start", Text: r.token}, {Kind: flows.InButton, Data: "rsvp:attend"}} {
		start := time.Now()
		if err := r.d.Handle(ctx, r.in(in)); err != nil {
			t.Fatalf("handle %v: %v", in, err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("handling took %v", d)
		}
	}
	if snd.refused != 1 {
		t.Fatalf("the calendar file was offered %d times, want once", snd.refused)
	}
	texts := snd.texts(r.chat)
	if len(texts) == 0 || !strings.Contains(strings.Join(texts, "\n"), "tham dự") {
		t.Fatalf("replies = %q; want the confirmation of attendance", texts)
	}
	h, err := r.st.RSVPHistory(ctx, "DB001")
	if err != nil || len(h) != 1 || h[0].Status != domain.RSVPAttend {
		t.Fatalf("history = %+v, %v", h, err)
	}
}

// On Telegram a greeting alone takes the share-phone keyboard away; joined
// to the card it could not. So when the person types their code while that
// keyboard is up, the greeting stays a message of its own; when they share
// their number from it (which hides it), greeting and card are one message.
func TestJoinKeepsTheShareKeyboardRemoval(t *testing.T) {
	tests := []struct {
		name     string
		identify func(p domain.Person) flows.Input
		want     int // messages for the identifying update
	}{
		{"code typed while the keyboard is up", func(p domain.Person) flows.Input {
			return flows.Input{Kind: flows.InText, Text: p.InviteCode}
		}, 2},
		{"number shared from the keyboard", func(p domain.Person) flows.Input {
			return flows.Input{Kind: flows.InContact, Phone: p.Phone, ContactIsSelf: true, ContactVerified: true}
		}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			r := sqliteRig(t)
			if err := r.d.Handle(ctx, r.in(flows.Input{Kind: flows.InCommand, Command: "start"})); err != nil {
				t.Fatal(err)
			}
			if got := r.sent.sent[r.chat]; len(got) != 1 || !got[0].AskContact {
				t.Fatalf("welcome = %q; want one message asking for the number", r.sent.texts(r.chat))
			}
			p, _ := r.dir.Person("DB001")
			if err := r.d.Handle(ctx, r.in(tc.identify(p))); err != nil {
				t.Fatal(err)
			}
			got := r.sent.sent[r.chat][1:]
			if len(got) != tc.want {
				t.Fatalf("identified with %d messages (all: %q); want %d", len(got), r.sent.texts(r.chat), tc.want)
			}
			first, last := got[0], got[len(got)-1]
			if !strings.HasPrefix(first.Text, "Xin chào") || !strings.Contains(last.Text, "Hội nghị PII 2024") || len(last.Buttons) == 0 {
				t.Errorf("messages %q; want the greeting first, the card with its buttons last", r.sent.texts(r.chat))
			}
			if tc.want == 2 && (len(first.Buttons) > 0 || first.Link != nil || first.AskContact) {
				t.Errorf("the greeting %q carries a keyboard; it must go bare, so that Telegram takes the share-phone keyboard away", first.Text)
			}
		})
	}
}
