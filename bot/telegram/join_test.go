package telegram

import (
	"strings"
	"testing"

	"github.com/dieuphoi/dieuphoi/bot"
	"github.com/dieuphoi/dieuphoi/domain"
)

// The dispatcher joins a step's replies up to the limit this adapter
// splits at: a joined text must go out as one message.
func TestJoinLimitIsTelegrams(t *testing.T) {
	limit, measure := bot.JoinLimit(domain.Telegram)
	if limit != MaxMessageLen {
		t.Fatalf("bot.JoinLimit(telegram) = %d, the adapter splits at %d", limit, MaxMessageLen)
	}
	s := strings.Repeat("a", limit-2) + "📅" // exactly the limit in UTF-16 units
	if measure(s) != utf16Len(s) || len(splitText(s, MaxMessageLen)) != 1 {
		t.Errorf("a text of %d units by JoinLimit's measure is split by the adapter", measure(s))
	}
}
