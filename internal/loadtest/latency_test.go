package loadtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// A step answered in two messages, its user going on at the first: the
// second arrives after the next step was offered. Each step still counts
// one latency sample, in polling and webhook mode (the fake once took the
// late message as the next step's reply and, in webhook mode, stamped that
// step again at its POST: two samples for one update).
func TestOneLatencySamplePerStep(t *testing.T) {
	for _, mode := range []string{"poll", "webhook"} {
		t.Run(mode, func(t *testing.T) {
			const tok = "1:test"
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			opt := Options{Token: tok}
			if mode == "webhook" {
				opt.PushURLs = []string{"http://" + ln.Addr().String() + "/hook"}
			}
			api, err := Start(opt)
			if err != nil {
				t.Fatal(err)
			}
			defer api.Close()
			// The bot: every text answered with "a N", then "b N" 50 ms on.
			// In webhook mode it answers within the delivery, so the next
			// update is offered (its user saw "a N") before "b N" and
			// posted after it.
			answer := func(body []byte) {
				var u struct {
					Message struct {
						Chat struct{ ID int64 }
						Text string
					}
				}
				if json.Unmarshal(body, &u) != nil {
					return
				}
				for i, p := range []string{"a ", "b "} {
					if i > 0 {
						time.Sleep(50 * time.Millisecond)
					}
					resp, err := http.PostForm(api.URL()+"/bot"+tok+"/sendMessage", url.Values{
						"chat_id": {fmt.Sprint(u.Message.Chat.ID)}, "text": {p + u.Message.Text}})
					if err == nil {
						resp.Body.Close()
					}
				}
			}
			srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var b [4096]byte
				n, _ := r.Body.Read(b[:])
				// Answered before the delivery returns: the fake's next
				// delivery of the chat waits for it.
				answer(b[:n])
			})}
			go srv.Serve(ln)
			defer srv.Close()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if mode == "poll" {
				go func() {
					offset := 0
					for ctx.Err() == nil {
						resp, err := http.PostForm(api.URL()+"/bot"+tok+"/getUpdates", url.Values{"offset": {fmt.Sprint(offset)}, "timeout": {"1"}})
						if err != nil {
							return
						}
						var out struct{ Result []json.RawMessage }
						_ = json.NewDecoder(resp.Body).Decode(&out)
						resp.Body.Close()
						for _, raw := range out.Result {
							var id struct {
								UpdateID int `json:"update_id"`
							}
							_ = json.Unmarshal(raw, &id)
							offset = id.UpdateID + 1
							go answer(raw)
						}
					}
				}()
			}
			steps := []Step{{Name: "1", Text: "1", Want: "a 1"}, {Name: "2", Text: "2", Want: "a 2"}, {Name: "3", Text: "3", Want: "a 3"}}
			u := &User{S: api, C: api.Chat(42), Steps: steps}
			if err := u.Run(ctx, 10*time.Second, 0); err != nil {
				t.Fatal(err)
			}
			time.Sleep(200 * time.Millisecond) // the last "b 3"
			if lat := api.Latencies(); len(lat) != len(steps) {
				t.Errorf("%d latency samples for %d updates", len(lat), len(steps))
			}
		})
	}
}
