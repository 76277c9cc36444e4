package bot

import (
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
)

func TestJoinReplies(t *testing.T) {
	card := [][]flows.Button{{{Label: "Tham dự", Data: "rsvp:attend"}}, {{Label: "Trợ giúp", Data: "menu:help"}}}
	link := &flows.LinkButton{Label: "Mở", URL: "https://example.org/tai-lieu"}
	calendar := &flows.File{Name: "su-kien.ics", MIME: "text/calendar", Data: []byte("BEGIN:VCALENDAR")}
	export := &flows.File{Name: "bao-cao.xlsx", MIME: "application/vnd.ms-excel", Data: []byte("x")}
	// Texts whose length is known in each channel's units.
	ascii := func(n int) string { return strings.Repeat("a", n) }
	emoji := func(n int) string { return strings.Repeat("📅", n) } // 2 UTF-16 units, 1 character

	tests := []struct {
		name       string
		ch         domain.Channel
		keyboardUp bool
		in         []flows.Reply
		want       []flows.Reply
	}{
		{
			name: "recognised and the event card: one message with the card's buttons",
			ch:   domain.Telegram,
			in:   []flows.Reply{{Text: "Xin chào"}, {Text: "Thẻ sự kiện", Buttons: card}},
			want: []flows.Reply{{Text: "Xin chào\n\nThẻ sự kiện", Buttons: card}},
		},
		{
			name: "several texts and a card: one message",
			ch:   domain.Zalo,
			in:   []flows.Reply{{Text: "a"}, {Text: "b"}, {Text: "c", Buttons: card}},
			want: []flows.Reply{{Text: "a\n\nb\n\nc", Buttons: card}},
		},
		{
			name: "a text after a keyboard starts a new message",
			ch:   domain.Telegram,
			in:   []flows.Reply{{Text: "Thẻ", Buttons: card}, {Text: "Gợi ý"}},
			want: []flows.Reply{{Text: "Thẻ", Buttons: card}, {Text: "Gợi ý"}},
		},
		{
			name: "two keyboards stay two messages, a text joins the second",
			ch:   domain.Web,
			in:   []flows.Reply{{Text: "a", Buttons: card}, {Text: "b"}, {Text: "c", Buttons: card}},
			want: []flows.Reply{{Text: "a", Buttons: card}, {Text: "b\n\nc", Buttons: card}},
		},
		{
			name: "a link button is a keyboard: it ends the message",
			ch:   domain.Web,
			in:   []flows.Reply{{Text: "a"}, {Text: "b", Link: link}, {Text: "c"}},
			want: []flows.Reply{{Text: "a\n\nb", Link: link}, {Text: "c"}},
		},
		{
			name: "the share-phone request ends a joined message",
			ch:   domain.Telegram,
			in:   []flows.Reply{{Text: "Không thấy số"}, {Text: "Xin chia sẻ", AskContact: true}},
			want: []flows.Reply{{Text: "Không thấy số\n\nXin chia sẻ", AskContact: true}},
		},
		{
			name: "nothing joins after the share-phone request",
			ch:   domain.Zalo,
			in:   []flows.Reply{{Text: "Xin chia sẻ", AskContact: true}, {Text: "Thẻ", Buttons: card}},
			want: []flows.Reply{{Text: "Xin chia sẻ", AskContact: true}, {Text: "Thẻ", Buttons: card}},
		},
		{
			name: "files are not joined with the texts around them",
			ch:   domain.Telegram,
			in:   []flows.Reply{{Text: "a"}, {Text: "Tệp", File: export}, {Text: "b"}},
			want: []flows.Reply{{Text: "a"}, {Text: "Tệp", File: export}, {Text: "b"}},
		},
		{
			name: "the optional calendar file stays on its own",
			ch:   domain.Telegram,
			in:   []flows.Reply{{Text: "Đã ghi nhận"}, {Text: "Lịch", File: calendar, Optional: true}},
			want: []flows.Reply{{Text: "Đã ghi nhận"}, {Text: "Lịch", File: calendar, Optional: true}},
		},
		{
			name: "an optional text is not joined either way",
			ch:   domain.Web,
			in:   []flows.Reply{{Text: "a"}, {Text: "b", Optional: true}, {Text: "c"}},
			want: []flows.Reply{{Text: "a"}, {Text: "b", Optional: true}, {Text: "c"}},
		},
		{
			name: "an empty text is left for the adapter to skip",
			ch:   domain.Telegram,
			in:   []flows.Reply{{Text: "a"}, {Text: " "}, {Text: "b"}},
			want: []flows.Reply{{Text: "a"}, {Text: " "}, {Text: "b"}},
		},
		{
			name: "Telegram: exactly 4096 UTF-16 units joins",
			ch:   domain.Telegram,
			in:   []flows.Reply{{Text: ascii(2000)}, {Text: emoji(1047)}},
			want: []flows.Reply{{Text: ascii(2000) + "\n\n" + emoji(1047)}},
		},
		{
			name: "Telegram: 4097 UTF-16 units do not (emoji count twice)",
			ch:   domain.Telegram,
			in:   []flows.Reply{{Text: ascii(2001)}, {Text: emoji(1047)}},
			want: []flows.Reply{{Text: ascii(2001)}, {Text: emoji(1047)}},
		},
		{
			name: "web chat counts characters: the same texts join",
			ch:   domain.Web,
			in:   []flows.Reply{{Text: ascii(2001)}, {Text: emoji(1047)}},
			want: []flows.Reply{{Text: ascii(2001) + "\n\n" + emoji(1047)}},
		},
		{
			name: "Zalo: 2000 characters join, 2001 do not",
			ch:   domain.Zalo,
			in:   []flows.Reply{{Text: ascii(998)}, {Text: emoji(1000)}, {Text: "x"}},
			want: []flows.Reply{{Text: ascii(998) + "\n\n" + emoji(1000)}, {Text: "x"}},
		},
		{
			name: "a text too long to join is followed by the next join",
			ch:   domain.Zalo,
			in:   []flows.Reply{{Text: ascii(1500)}, {Text: ascii(600)}, {Text: "b", Buttons: card}},
			want: []flows.Reply{{Text: ascii(1500)}, {Text: ascii(600) + "\n\nb", Buttons: card}},
		},
		{
			name: "Telegram keeps room for a link it may write into the text",
			ch:   domain.Telegram,
			in:   []flows.Reply{{Text: ascii(4010)}, {Text: ascii(60), Link: link}},
			want: []flows.Reply{{Text: ascii(4010)}, {Text: ascii(60), Link: link}},
		},
		{
			name:       "Telegram, share-phone keyboard up: a text does not join a card",
			ch:         domain.Telegram,
			keyboardUp: true,
			in:         []flows.Reply{{Text: "Xin chào"}, {Text: "Thẻ", Buttons: card}},
			want:       []flows.Reply{{Text: "Xin chào"}, {Text: "Thẻ", Buttons: card}},
		},
		{
			name:       "Telegram, share-phone keyboard up: texts and a new request still join",
			ch:         domain.Telegram,
			keyboardUp: true,
			in:         []flows.Reply{{Text: "a"}, {Text: "b"}, {Text: "c", AskContact: true}},
			want:       []flows.Reply{{Text: "a\n\nb\n\nc", AskContact: true}},
		},
		{
			name:       "Zalo has no such keyboard: the card joins",
			ch:         domain.Zalo,
			keyboardUp: true,
			in:         []flows.Reply{{Text: "Xin chào"}, {Text: "Thẻ", Buttons: card}},
			want:       []flows.Reply{{Text: "Xin chào\n\nThẻ", Buttons: card}},
		},
		{
			name: "one reply is left as it is",
			ch:   domain.Telegram,
			in:   []flows.Reply{{Text: "a", Buttons: card}},
			want: []flows.Reply{{Text: "a", Buttons: card}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			orig := make([]flows.Reply, len(tc.in))
			copy(orig, tc.in)
			got := joinReplies(tc.ch, tc.in, tc.keyboardUp)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("joined:\n got %s\nwant %s", describe(got), describe(tc.want))
			}
			if !reflect.DeepEqual(tc.in, orig) {
				t.Errorf("the flow's replies were modified: %s", describe(tc.in))
			}
			// Deterministic: the same replies always give the same
			// messages.
			if again := joinReplies(tc.ch, tc.in, tc.keyboardUp); !reflect.DeepEqual(again, got) {
				t.Errorf("second join differs: %s", describe(again))
			}
		})
	}
}

func describe(rs []flows.Reply) string {
	var b strings.Builder
	for i, r := range rs {
		if i > 0 {
			b.WriteString(" | ")
		}
		text := r.Text
		if n := len([]rune(text)); n > 24 {
			text = string([]rune(text)[:10]) + "…(" + strconv.Itoa(n) + " chars)"
		}
		b.WriteString(strings.ReplaceAll(text, "\n", "⏎"))
		if len(r.Buttons) > 0 {
			b.WriteString(" [buttons]")
		}
		if r.Link != nil {
			b.WriteString(" [link]")
		}
		if r.AskContact {
			b.WriteString(" [ask contact]")
		}
		if r.File != nil {
			b.WriteString(" [file " + r.File.Name + "]")
		}
		if r.Optional {
			b.WriteString(" [optional]")
		}
	}
	return "[" + b.String() + "]"
}

func TestKeyboardUp(t *testing.T) {
	tests := []struct {
		name  string
		asked bool
		kind  flows.InputKind
		want  bool
	}{
		{"never asked for the number", false, flows.InText, false},
		{"asked, the person typed", true, flows.InText, true},
		{"asked, the person pressed a card button", true, flows.InButton, true},
		{"asked, the number shared from the one-time keyboard", true, flows.InContact, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := keyboardUp(flows.Session{ContactAsked: tc.asked}, flows.Input{Kind: tc.kind})
			if got != tc.want {
				t.Errorf("keyboardUp = %v, want %v", got, tc.want)
			}
		})
	}
}
