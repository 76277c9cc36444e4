package telegram

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// Replies going out at once keep their connections: a second wave of 50
// concurrent messages dials nothing new (the default transport keeps 2
// idle connections per host, and would dial 48 again).
func TestConcurrentSendsReuseConnections(t *testing.T) {
	const token, wave = "123:AAH-conn", 50
	arrived := make(chan struct{}, wave)
	release := make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		arrived <- struct{}{}
		<-release // all of a wave are in flight together
		io.WriteString(w, `{"ok":true,"result":{}}`)
	}))
	var mu sync.Mutex
	dials := 0
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			mu.Lock()
			dials++
			mu.Unlock()
		}
	}
	srv.Start()
	defer srv.Close()
	client := NewHTTPClient()
	api := &tgbotapi.BotAPI{Token: token, Client: client}
	api.SetAPIEndpoint(srv.URL + "/bot%s/%s")
	a := &Adapter{api: api, client: client, token: token, apiBase: srv.URL,
		replace: strings.NewReplacer(token, "<redacted>"), callTimeout: 10 * time.Second}
	for n := range 2 {
		var wg sync.WaitGroup
		errs := make(chan error, wave)
		for i := range wave {
			wg.Go(func() {
				errs <- a.sendMessage(context.Background(), int64(i+1), form(nil).add("chat_id", strconv.Itoa(i+1)).add("text", "x"))
			})
		}
		for range wave {
			select {
			case <-arrived:
			case <-time.After(10 * time.Second):
				t.Fatal("the messages did not all arrive")
			}
		}
		for range wave {
			release <- struct{}{}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		mu.Lock()
		got := dials
		mu.Unlock()
		if got != wave {
			t.Fatalf("after wave %d: %d connections dialled, want %d", n+1, got, wave)
		}
	}
}
