package bot_test

import (
	"context"
	"strings"
	"testing"

	"github.com/dieuphoi/dieuphoi/bot"
	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
)

// A substitute becomes a guest of their own: their link and code work at
// once, and when their phone is that of someone already talking to the bot,
// the invitation reaches them in chat. Withdrawing the substitute withdraws
// the invitation.
func TestSubstituteInvitation(t *testing.T) {
	ctx := context.Background()
	r := sqliteRig(t)
	chau, _ := r.dir.Person("DB003")
	send := func(chat string, in flows.Input) {
		t.Helper()
		r.seq++
		if err := r.d.Handle(ctx, bot.Inbound{Key: domain.UpdateKey{Channel: domain.Telegram, UpdateID: "s" + chat + "-" + strings.Repeat("x", r.seq)},
			UserID: chat, ChatID: chat, Input: in}); err != nil {
			t.Fatal(err)
		}
	}
	send("2002", flows.Input{Kind: flows.InCommand, Command: "start", Text: chau.InviteToken})
	for _, in := range []flows.Input{
		{Kind: flows.InCommand, Command: "start", Text: r.token},
		{Kind: flows.InButton, Data: "rsvp:sub"},
		{Kind: flows.InText, Text: "lê minh châu"},
		{Kind: flows.InText, Text: "trưởng phòng"},
		{Kind: flows.InText, Text: chau.Phone},
		{Kind: flows.InButton, Data: "sub:ok"},
	} {
		send(r.chat, in)
	}
	sub, ok := r.d.Directory().Person(domain.SubstituteID("DB001"))
	if !ok || sub.FullName != "Lê Minh Châu" || !sub.Has(domain.RoleSubstitute) || sub.SubstituteFor != "DB001" || sub.AgencyCode != "STC" {
		t.Fatalf("substitute record: %+v %v", sub, ok)
	}
	if p, ok := r.d.Directory().ByToken(sub.InviteToken); !ok || p.ID != sub.ID {
		t.Error("the substitute's own link does not work")
	}
	if p, ok := r.d.Directory().ByPhone(chau.Phone); !ok || p.ID != "DB003" {
		t.Errorf("the colleague's own number now finds %+v", p)
	}
	r.d.WaitAfter() // the invitation goes out behind the reply
	got := strings.Join(r.sent.texts("2002"), "\n")
	if !strings.Contains(got, "được cử dự thay Nguyễn Văn An") || !strings.Contains(got, sub.InviteCode) {
		t.Errorf("the substitute was not sent their invitation:\n%s", got)
	}

	// Attending after all: the substitute's invitation stops working.
	send(r.chat, flows.Input{Kind: flows.InButton, Data: "rsvp:attend"})
	if _, ok := r.d.Directory().ByToken(sub.InviteToken); ok {
		t.Error("a withdrawn substitute's link still works")
	}
}
