package zalo

import (
	"strings"
	"testing"

	"github.com/dieuphoi/dieuphoi/bot"
	"github.com/dieuphoi/dieuphoi/domain"
)

// The dispatcher joins a step's replies up to the limit this adapter
// splits at: a joined text must go out as one message.
func TestJoinLimitIsZalos(t *testing.T) {
	limit, measure := bot.JoinLimit(domain.Zalo)
	if limit != MaxMessageLen {
		t.Fatalf("bot.JoinLimit(zalo) = %d, the adapter splits at %d", limit, MaxMessageLen)
	}
	s := strings.Repeat("ạ", limit-1) + "📅" // exactly the limit in characters
	if measure(s) != limit || len(splitText(s, MaxMessageLen)) != 1 {
		t.Errorf("a text of %d characters by JoinLimit's measure is split by the adapter", measure(s))
	}
}
