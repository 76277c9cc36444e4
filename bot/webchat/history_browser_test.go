package webchat_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dieuphoi/dieuphoi/bot"
	"github.com/dieuphoi/dieuphoi/bot/webchat"
	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
	"github.com/dieuphoi/dieuphoi/internal/testenv"
)

// serveDurable starts a web chat on w's store with a durable history, the
// way the binary does; calling it again is a restart.
func serveDurable(t *testing.T, w *world, files string, key []byte) (*httptest.Server, *webchat.Chat) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	now := time.Date(2026, 7, 20, 9, 0, 0, 0, time.FixedZone("ICT", 7*3600))
	d := bot.NewDispatcher(bot.Config{Store: w.store, Sessions: w.store, Event: w.event, Directory: w.dir, Now: func() time.Time { return now }, Log: log})
	who := func(ctx context.Context, chat string) (bool, domain.Lang) {
		pid, err := w.store.IdentityPerson(ctx, domain.Web, chat)
		if err != nil {
			return false, ""
		}
		ps, _ := w.store.PersonState(ctx, pid)
		return true, ps.Lang
	}
	chat := webchat.New(webchat.Config{Handler: d, Directory: d.Directory, Log: log, FileDir: files, CookieKey: key,
		History: w.store, Who: who})
	d.SetSender(domain.Web, chat)
	mux := http.NewServeMux()
	chat.Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, chat
}

// Issue 12 point 19: after a restart an open web chat was an empty pane; in
// English the page chrome and /help stayed Vietnamese; the file picker took
// one file where several were invited.
func TestBrowserHistorySurvivesRestartInEnglish(t *testing.T) {
	w := newWorld(t, false)
	files := t.TempDir()
	key := []byte(strings.Repeat("k", 32))
	srv, chat := serveDurable(t, w, files, key)
	// A longer budget than browser(): two servers and a restart.
	ctx := testenv.Browser(t, 390, 844, 90*time.Second)
	p, _ := w.dir.Person("P001")

	run(t, ctx, "open the invite link", chromedp.Navigate(srv.URL+"/chat/i/"+p.InviteToken))
	waitLong(t, ctx, "Nguyễn Văn An (Giám đốc")
	say(t, ctx, "/ngonngu")
	waitLong(t, ctx, "Choose a language")
	tap(t, ctx, "lang:en", "English")
	waitLong(t, ctx, "Switched to English")
	say(t, ctx, "/help")
	waitLong(t, ctx, "/rsvp")
	help := text(t, ctx, `[...document.querySelectorAll('#log .bubble.bot')].pop().textContent`)
	for _, vi := range []string{"/xacnhan", "/chuongtrinh", "/trogiup"} {
		if strings.Contains(help, vi) {
			t.Errorf("English /help lists %s: %q", vi, help)
		}
	}
	chrome := `[document.documentElement.lang, document.getElementById('msg').placeholder, document.getElementById('send').textContent, document.getElementById('title').textContent].join('|')`
	want := "en|Type a message…|Send|Coordination assistant"
	if got := text(t, ctx, chrome); got != want {
		t.Errorf("chrome after /language: %q, want %q", got, want)
	}

	// The evidence question invites several files; other messages one.
	ids, err := w.store.Identities(context.Background(), "P001")
	if err != nil || len(ids) != 1 {
		t.Fatalf("identities %v %v", ids, err)
	}
	if err := chat.Send(context.Background(), ids[0].ChatID, []flows.Reply{{Text: "Please send the evidence files.",
		Buttons: [][]flows.Button{{{Label: "Done", Data: "ev:done"}}}}}); err != nil {
		t.Fatal(err)
	}
	waitLong(t, ctx, "evidence files")
	if got := text(t, ctx, `String(document.getElementById('file').multiple)`); got != "true" {
		t.Errorf("file picker at the evidence question: multiple=%s", got)
	}
	if err := chat.Send(context.Background(), ids[0].ChatID, []flows.Reply{{Text: "Thank you."}}); err != nil {
		t.Fatal(err)
	}
	waitLong(t, ctx, "Thank you.")
	if got := text(t, ctx, `String(document.getElementById('file').multiple)`); got != "false" {
		t.Errorf("file picker elsewhere: multiple=%s", got)
	}
	before := text(t, ctx, `document.querySelectorAll('#log .bubble').length + ''`)

	// Restart: a new process on the same database, files and key.
	srv.Close()
	srv2, _ := serveDurable(t, w, files, key)
	run(t, ctx, "reopen after the restart", chromedp.Navigate(srv2.URL+"/chat"))
	waitLong(t, ctx, "Thank you.")
	after := text(t, ctx, `document.querySelectorAll('#log .bubble').length + ''`)
	if after != before {
		t.Errorf("after the restart the chat shows %s messages, before %s\n%s", after, before, pageState(ctx))
	}
	if got := text(t, ctx, chrome); got != want {
		t.Errorf("chrome after the restart: %q, want %q", got, want)
	}
	if log := text(t, ctx, `document.getElementById('log').innerText`); !strings.Contains(log, "Nguyễn Văn An") || !strings.Contains(log, "/rsvp") {
		t.Errorf("history after the restart:\n%s", log)
	}
}

func text(t *testing.T, ctx context.Context, js string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return s
}

// waitLong waits until one of the last three bot bubbles contains text,
// with room for a loaded machine.
func waitLong(t *testing.T, ctx context.Context, text string) {
	t.Helper()
	js := fmt.Sprintf(`(() => !document.body.classList.contains('sending') && [...document.querySelectorAll('#log .bubble.bot')].slice(-3).some(b => b.textContent.includes(%s)))()`, jsString(text))
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		t.Fatalf("waiting for %q: %v\n%s", text, err, pageState(ctx))
	}
}
