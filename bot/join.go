package bot

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
)

// Joining one step's replies into as few messages as the platform allows.
//
// A flow writes its answer as the replies that make sense apart (the
// greeting, then the event card); the platforms count messages: each one
// takes a slot of Telegram's 30 a second and of the chat's 1 a second, one of
// Zalo's free replies after the person wrote, and buzzes the person's phone.
// The dispatcher joins a step's replies before it saves the session with
// them, so a replay after a crash sends the very same messages and the count
// of those already delivered (savedSession.Sent) counts messages.
//
// The rules, the same on every channel but for their text limits:
//   - consecutive texts join, a blank line between, while the joined text
//     fits one message of the channel (JoinLimit);
//   - a reply with a keyboard (buttons, a link button, the share-phone
//     keyboard) may only end a joined message: its keyboard goes on it. A
//     text after one with a keyboard starts a new message, so that every
//     keyboard stays under the text it belongs to;
//   - files are never joined, with texts or each other (an export's or a
//     calendar's own text is its caption already); nor are optional replies
//     (the calendar file), which are sent, or dropped, on their own;
//   - on Telegram a text without a keyboard also takes away the share-phone
//     keyboard if it is showing (the adapter sends remove_keyboard), which
//     an inline keyboard cannot do: while that keyboard may be up, a text
//     does not join a following reply with buttons (see keyboardUp).
//   - empty texts are left as they are (the adapters skip them).

// joinSep goes between two joined texts.
const joinSep = "\n\n"

// JoinLimit is the longest text one message may carry on ch and the
// function that measures a text in the units of that limit: Telegram counts
// UTF-16 code units (4096, as bot/telegram.MaxMessageLen; the bot sends plain
// text, no parse_mode, so no entity shortens or lengthens it), Zalo OA
// characters (2000, as bot/zalo.MaxMessageLen; the OA API's text message
// limit), the web chat characters (4096: its page draws any length, and a
// longer bubble is not read).
func JoinLimit(ch domain.Channel) (limit int, measure func(string) int) {
	switch ch {
	case domain.Zalo:
		return 2000, utf8.RuneCountInString
	case domain.Telegram:
		return 4096, utf16Len
	default:
		return 4096, utf8.RuneCountInString
	}
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// joinReplies returns replies as the messages to send on ch, joined by the
// rules above. keyboardUp says Telegram's share-phone keyboard may be
// showing in the chat. replies is not modified.
func joinReplies(ch domain.Channel, replies []flows.Reply, keyboardUp bool) []flows.Reply {
	if len(replies) < 2 {
		return replies
	}
	limit, measure := JoinLimit(ch)
	out := make([]flows.Reply, 0, len(replies))
	for _, r := range replies {
		if n := len(out); n > 0 && joinable(ch, out[n-1], r, keyboardUp) {
			text := out[n-1].Text + joinSep + r.Text
			if measure(text)+linkAllowance(ch, r) <= limit {
				// The later reply's keyboard, link and share-phone
				// request go on the joined message.
				r.Text = text
				out[n-1] = r
				continue
			}
		}
		out = append(out, r)
	}
	return out
}

// joinable reports whether next may be joined to the end of prev.
func joinable(ch domain.Channel, prev, next flows.Reply, keyboardUp bool) bool {
	if !isText(prev) || !isText(next) || hasKeyboard(prev) {
		return false
	}
	if ch == domain.Telegram && keyboardUp && (len(next.Buttons) > 0 || next.Link != nil) {
		// prev alone would take the share-phone keyboard away; joined,
		// the message carries next's inline keyboard instead and the
		// share-phone keyboard would stay.
		return false
	}
	return true
}

// isText reports a reply that is a text message of the conversation: not
// a file, not optional, not empty.
func isText(r flows.Reply) bool {
	return r.File == nil && !r.Optional && strings.TrimSpace(r.Text) != ""
}

// hasKeyboard reports a reply that shows something to tap under its text.
func hasKeyboard(r flows.Reply) bool {
	return len(r.Buttons) > 0 || r.Link != nil || r.AskContact
}

// linkAllowance is room kept for a link the adapter may write into the
// text: Telegram refuses a URL button to a local address (a demo's
// 127.0.0.1), so bot/telegram appends such a link to the text instead.
func linkAllowance(ch domain.Channel, r flows.Reply) int {
	if ch != domain.Telegram || r.Link == nil {
		return 0
	}
	return 1 + utf16Len(r.Link.URL)
}

// keyboardUp reports whether Telegram's share-phone keyboard may be showing
// when the replies to in go out: the bot asked for the number (s is the
// session before the step) and the input is not the number shared — pressing
// the one-time keyboard's button hides it (Telegram: "one-time keyboards
// are hidden immediately after the user presses a button"). It errs towards
// up: ContactAsked stays set until the chat is linked.
func keyboardUp(s flows.Session, in flows.Input) bool {
	return s.ContactAsked && in.Kind != flows.InContact
}
