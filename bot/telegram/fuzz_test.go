package telegram

import (
	"encoding/json"
	"testing"
	"unicode/utf8"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// FuzzUpdateJSON feeds arbitrary webhook bodies through decoding and
// mapping: nothing may panic, and whatever maps must be well formed.
func FuzzUpdateJSON(f *testing.F) {
	for _, s := range []string{
		`{"update_id":1,"message":{"message_id":1,"from":{"id":5,"is_bot":false,"first_name":"A"},"chat":{"id":5,"type":"private"},"date":1,"text":"/start abc","entities":[{"type":"bot_command","offset":0,"length":6}]}}`,
		`{"update_id":2,"callback_query":{"id":"q","from":{"id":5},"message":{"message_id":3,"chat":{"id":5,"type":"private"}},"data":"rsvp:sub"}}`,
		`{"update_id":3,"message":{"message_id":1,"from":{"id":5},"chat":{"id":5,"type":"private"},"contact":{"phone_number":"+84912345678","user_id":5}}}`,
		`{"update_id":4,"message":{"message_id":1,"from":{"id":5},"chat":{"id":5,"type":"private"},"photo":[{"file_id":"a","width":1,"height":1}],"media_group_id":"g"}}`,
		`{"update_id":5,"message":{"chat":{"id":5,"type":"private"},"text":"/"}}`,
		`{"update_id":6,"message":{"from":{"id":5},"chat":{"id":5,"type":"private"},"text":"/start@dieuphoi_bot\u0000x"}}`,
		`{"update_id":7}`, `{}`, `[]`, `null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var u tgbotapi.Update
		if err := json.Unmarshal(body, &u); err != nil {
			return
		}
		in, ok := toInbound(u, "dieuphoi_bot")
		if !ok {
			return
		}
		if in.Key.UpdateID == "" || in.ChatID == "" || in.UserID == "" {
			t.Fatalf("mapped update without ids: %+v", in)
		}
		if in.Input.Kind == "" {
			t.Fatalf("mapped update without a kind: %+v", in)
		}
		if in.Input.Command != "" && !utf8.ValidString(in.Input.Command) {
			t.Fatalf("invalid command %q", in.Input.Command)
		}
	})
}
