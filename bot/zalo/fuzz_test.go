package zalo

import (
	"encoding/json"
	"testing"
	"time"
)

// FuzzEvent feeds arbitrary (validly signed) webhook bodies through
// decoding and mapping: nothing may panic, and whatever maps has ids.
func FuzzEvent(f *testing.F) {
	for _, s := range []string{
		`{"app_id":"1","event_name":"user_send_text","sender":{"id":"u"},"recipient":{"id":"oa"},"message":{"msg_id":"m1","text":"/start abc"},"timestamp":"1722560000000"}`,
		`{"event_name":"user_send_text","sender":{"id":"u"},"message":{"msg_id":"m2","text":"#btn:rsvp:sub"},"timestamp":"1"}`,
		`{"event_name":"user_send_file","sender":{"id":"u"},"message":{"msg_id":"m3","attachments":[{"type":"file","payload":{"url":"http://x/y","name":"a.pdf","size":"12"}}]},"timestamp":"1"}`,
		`{"event_name":"user_submit_info","sender":{"id":"u"},"info":{"phone":"0912345678"},"timestamp":"1"}`,
		`{"event_name":"follow","follower":{"id":"u"},"timestamp":"1"}`,
		`{"event_name":"user_send_image","sender":{"id":"u"},"message":{"attachments":[{"type":"image","payload":null}]}}`,
		`{"event_name":"","sender":{}}`, `{}`, `[]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		// The raw body's timestamp candidates are read before any parsing.
		a := &Adapter{appID: "1", oaSecret: "k"}
		if ts, ok := a.verify(body, Signature("1", "k", body, "1722560000000")); ok {
			if _, ok := eventAge(ts, time.Now()); !ok || ts != "1722560000000" {
				t.Fatalf("verified with timestamp %q", ts)
			}
		}
		var ev event
		if err := json.Unmarshal(body, &ev); err != nil || ev.EventName == "" || ev.user() == "" {
			return // the webhook answers these without handling them
		}
		_ = ev.key()
		_ = ev.timestamp()
		in, ok := toInbound(&ev)
		if !ok {
			return
		}
		if in.UserID == "" || in.ChatID == "" || in.Input.Kind == "" {
			t.Fatalf("mapped event without ids or kind: %+v", in)
		}
	})
}
