package telegram

import (
	"encoding/json"
	"reflect"
	"strconv"
	"testing"
	"unicode/utf8"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/dieuphoi/dieuphoi/bot"
	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
)

var fuzzSeeds = []string{
	`{"update_id":1,"message":{"message_id":1,"from":{"id":5,"is_bot":false,"first_name":"A"},"chat":{"id":5,"type":"private"},"date":1,"text":"/start abc","entities":[{"type":"bot_command","offset":0,"length":6}]}}`,
	`{"update_id":2,"callback_query":{"id":"q","from":{"id":5},"message":{"message_id":3,"chat":{"id":5,"type":"private"}},"data":"rsvp:sub"}}`,
	`{"update_id":3,"message":{"message_id":1,"from":{"id":5},"chat":{"id":5,"type":"private"},"contact":{"phone_number":"+84912345678","user_id":5}}}`,
	`{"update_id":4,"message":{"message_id":1,"from":{"id":5},"chat":{"id":5,"type":"private"},"photo":[{"file_id":"a","width":1,"height":1}],"media_group_id":"g"}}`,
	`{"update_id":5,"message":{"chat":{"id":5,"type":"private"},"text":"/"}}`,
	`{"update_id":6,"message":{"from":{"id":5},"chat":{"id":5,"type":"private"},"text":"/start@dieuphoi_bot\u0000x"}}`,
	`{"update_id":7}`, `{}`, `[]`, `null`,
	// What the flows see in the benchmark and in use: a button under a
	// message with its text and keyboard, a document, a photo album, a
	// sticker, a voice note, service messages, a group command.
	`{"update_id":8,"callback_query":{"id":"4382bf","from":{"id":100005,"is_bot":false,"first_name":"U"},"message":{"message_id":78,"from":{"id":7000000001,"is_bot":true,"first_name":"Bot"},"chat":{"id":100005,"type":"private"},"date":1,"text":"Xin mời xác nhận","reply_markup":{"inline_keyboard":[[{"text":"Tham dự","callback_data":"rsvp:attend"}]]}},"chat_instance":"-1","data":"rsvp:attend"}}`,
	`{"update_id":9,"message":{"message_id":2,"from":{"id":5},"chat":{"id":5,"type":"private"},"date":1,"document":{"file_id":"BQAC1","file_unique_id":"u1","file_name":"a.pdf","mime_type":"application/pdf","file_size":1234},"caption":"minh chứng"}}`,
	`{"update_id":10,"message":{"message_id":2,"from":{"id":5},"chat":{"id":5,"type":"private"},"photo":[{"file_id":"s","file_unique_id":"us","width":90,"height":90,"file_size":10},{"file_id":"b","file_unique_id":"ub","width":800,"height":600,"file_size":900}],"media_group_id":"g1"}}`,
	`{"update_id":11,"message":{"message_id":2,"from":{"id":5},"chat":{"id":5,"type":"private"},"sticker":{"file_id":"x","width":1,"height":1}}}`,
	`{"update_id":12,"message":{"message_id":2,"from":{"id":5},"chat":{"id":5,"type":"private"},"voice":{"file_id":"v","duration":3}}}`,
	`{"update_id":13,"message":{"message_id":2,"from":{"id":5},"chat":{"id":-100,"type":"supergroup"},"new_chat_members":[{"id":6,"is_bot":false,"first_name":"B"}]}}`,
	`{"update_id":14,"message":{"message_id":2,"from":{"id":5},"chat":{"id":-100,"type":"group"},"text":"/start@dieuphoi_bot"}}`,
	`{"update_id":15,"message":{"message_id":2,"from":{"id":5},"chat":{"id":5,"type":"private"},"story":{"chat":{"id":1},"id":2}}}`,
	`{"update_id":16,"message":{"message_id":2,"from":{"id":5},"chat":{"id":5,"type":"private"},"sticker":null,"new_chat_photo":[],"text":""}}`,
	`{"update_id":17,"message":{"from":{"id":5},"chat":{"id":-100,"type":"group"},"pinned_message":{"message_id":1},"delete_chat_photo":false}}`,
	`{"update_id":18,"edited_message":{"from":{"id":5},"chat":{"id":5,"type":"private"},"text":"x"}}`,
}

// FuzzUpdateJSON feeds arbitrary webhook bodies through decoding and
// mapping: nothing may panic, and whatever maps must be well formed.
func FuzzUpdateJSON(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var u update
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

// FuzzLeanUpdateMapsAsTheLibrary: every body the library's Update decodes
// is decoded by the adapter's own update too, and maps to the same
// Inbound, chat and button press as it did through the library's types
// (libraryInbound: the mapping as it was written for them).
func FuzzLeanUpdateMapsAsTheLibrary(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var lib tgbotapi.Update
		if err := json.Unmarshal(body, &lib); err != nil {
			return // the library refuses it: the lean decoding may not
		}
		var u update
		if err := json.Unmarshal(body, &u); err != nil {
			t.Fatalf("the library decodes %s, the lean decoding refuses it: %v", body, err)
		}
		want, wantOK := libraryInbound(lib, "dieuphoi_bot")
		got, gotOK := toInbound(u, "dieuphoi_bot")
		if gotOK != wantOK || !reflect.DeepEqual(got, want) {
			t.Fatalf("%s\nmapped to %+v (%v), the library's types to %+v (%v)", body, got, gotOK, want, wantOK)
		}
		wantChat, wantHas := libraryChatOf(lib)
		if c, has := chatOf(u); c != wantChat || has != wantHas {
			t.Fatalf("%s: chat %d %v, want %d %v", body, c, has, wantChat, wantHas)
		}
		if (u.CallbackQuery == nil) != (lib.CallbackQuery == nil) || u.CallbackQuery != nil && u.CallbackQuery.ID != lib.CallbackQuery.ID {
			t.Fatalf("%s: callback query %+v, want %+v", body, u.CallbackQuery, lib.CallbackQuery)
		}
	})
}

func libraryChatOf(u tgbotapi.Update) (int64, bool) {
	switch {
	case u.Message != nil && u.Message.Chat != nil:
		return u.Message.Chat.ID, true
	case u.CallbackQuery != nil && u.CallbackQuery.Message != nil && u.CallbackQuery.Message.Chat != nil:
		return u.CallbackQuery.Message.Chat.ID, true
	}
	return 0, false
}

// The mapping as written for the library's types (before the adapter
// decoded into its own), kept as the reference.

func libraryInbound(u tgbotapi.Update, botName string) (in bot.Inbound, ok bool) {
	in.Key = domain.UpdateKey{Channel: domain.Telegram, UpdateID: strconv.Itoa(u.UpdateID)}
	switch {
	case u.Message != nil:
		m := u.Message
		if m.From == nil || m.From.IsBot || m.Chat == nil || !chatTypeOK(m.Chat.Type) {
			return in, false
		}
		in.UserID = strconv.FormatInt(m.From.ID, 10)
		in.ChatID = strconv.FormatInt(m.Chat.ID, 10)
		in.Input, ok = libraryMessageInput(m, botName)
		markGroup(&in, m.Chat.Type, botName)
		return in, ok
	case u.CallbackQuery != nil:
		q := u.CallbackQuery
		// Buttons under inline-mode messages have no chat to answer in.
		if q.From == nil || q.Message == nil || q.Message.Chat == nil || !chatTypeOK(q.Message.Chat.Type) {
			return in, false
		}
		in.UserID = strconv.FormatInt(q.From.ID, 10)
		in.ChatID = strconv.FormatInt(q.Message.Chat.ID, 10)
		in.Input = flows.Input{Kind: flows.InButton, Data: q.Data}
		markGroup(&in, q.Message.Chat.Type, botName)
		return in, true
	}
	return in, false
}

func libraryMessageInput(m *tgbotapi.Message, botName string) (flows.Input, bool) {
	switch {
	case m.Text != "":
		if cmd, arg, forUs, ok := parseCommand(m.Text, botName); ok {
			if !forUs {
				return flows.Input{}, false
			}
			return flows.Input{Kind: flows.InCommand, Command: cmd, Text: arg}, true
		}
		return flows.Input{Kind: flows.InText, Text: m.Text}, true
	case m.Contact != nil:
		self := m.Contact.UserID != 0 && m.From != nil && m.Contact.UserID == m.From.ID
		return flows.Input{
			Kind:          flows.InContact,
			Phone:         m.Contact.PhoneNumber,
			ContactIsSelf: self,
			// Telegram fills contact.user_id from its own records of the
			// number: the sender's own id there means the number is theirs.
			ContactVerified: self,
		}, true
	case m.Document != nil:
		d := m.Document
		return flows.Input{Kind: flows.InFile, Files: []flows.FileRef{{
			ID: d.FileID, Name: d.FileName, MIME: d.MimeType, Size: int64(d.FileSize),
			GroupID: m.MediaGroupID, Caption: m.Caption, Download: d.FileID,
		}}}, true
	case len(m.Photo) > 0:
		p := libraryLargest(m.Photo)
		return flows.Input{Kind: flows.InFile, Files: []flows.FileRef{{
			ID: p.FileID, Name: "photo_" + p.FileUniqueID + ".jpg", MIME: "image/jpeg",
			Size: int64(p.FileSize), GroupID: m.MediaGroupID, IsPhoto: true,
			Caption: m.Caption, Download: p.FileID,
		}}}, true
	case m.Sticker != nil:
		return flows.Input{Kind: flows.InSticker}, true
	case m.Voice != nil || m.Audio != nil || m.Video != nil || m.VideoNote != nil ||
		m.Animation != nil || m.Location != nil || m.Venue != nil || m.Poll != nil ||
		m.Dice != nil || m.Game != nil:
		return flows.Input{Kind: flows.InOther}, true
	case libraryIsService(m):
		return flows.Input{}, false
	case m.Chat.Type == "private":
		// Content this library version does not know (a story, a gift...).
		return flows.Input{Kind: flows.InOther}, true
	}
	return flows.Input{}, false
}

func libraryIsService(m *tgbotapi.Message) bool {
	return len(m.NewChatMembers) > 0 || m.LeftChatMember != nil || m.NewChatTitle != "" ||
		len(m.NewChatPhoto) > 0 || m.DeleteChatPhoto || m.GroupChatCreated ||
		m.SuperGroupChatCreated || m.ChannelChatCreated || m.MigrateToChatID != 0 ||
		m.MigrateFromChatID != 0 || m.PinnedMessage != nil || m.MessageAutoDeleteTimerChanged != nil ||
		m.ProximityAlertTriggered != nil || m.VoiceChatScheduled != nil || m.VoiceChatStarted != nil ||
		m.VoiceChatEnded != nil || m.VoiceChatParticipantsInvited != nil || m.SuccessfulPayment != nil ||
		m.ConnectedWebsite != ""
}

func libraryLargest(ps []tgbotapi.PhotoSize) tgbotapi.PhotoSize {
	best := ps[0]
	for _, p := range ps[1:] {
		if p.Width*p.Height > best.Width*best.Height ||
			p.Width*p.Height == best.Width*best.Height && p.FileSize > best.FileSize {
			best = p
		}
	}
	return best
}

// BenchmarkUpdateDecode decodes and maps the updates of the RSVP (a
// shared contact, a button press under a message with its keyboard) into
// the library's Update and into the adapter's own update.
func BenchmarkUpdateDecode(b *testing.B) {
	bodies := [][]byte{
		[]byte(`{"update_id":123456,"message":{"message_id":77,"from":{"id":100005,"is_bot":false,"first_name":"User","language_code":"vi"},"chat":{"id":100005,"first_name":"User","type":"private"},"date":1764660000,"contact":{"phone_number":"+84912345678","first_name":"User","user_id":100005}}}`),
		[]byte(fuzzSeeds[10]),
	}
	b.Run("library", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, body := range bodies {
				var u tgbotapi.Update
				if err := json.Unmarshal(body, &u); err != nil {
					b.Fatal(err)
				}
				libraryInbound(u, "dieuphoi_bot")
			}
		}
	})
	b.Run("lean", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, body := range bodies {
				var u update
				if err := json.Unmarshal(body, &u); err != nil {
					b.Fatal(err)
				}
				toInbound(u, "dieuphoi_bot")
			}
		}
	})
}
