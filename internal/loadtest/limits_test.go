package loadtest

import "testing"

// The fake's flood control answers as Telegram's: the 31st send within a
// second, a private chat's 6th in a burst, a group's 21st within a minute
// get 429 with a retry_after of at least a second, and are not counted as
// sent.
func TestLimits(t *testing.T) {
	for _, tc := range []struct {
		name  string
		chats func(i int) int64
		ok    int
		why   string
	}{
		{"30 a second in all", func(i int) int64 { return int64(1000 + i) }, 30, "second"},
		{"a private chat's burst of 5", func(int) int64 { return 42 }, 5, "chat"},
		{"20 a minute to a group", func(int) int64 { return -1001 }, 20, "group"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLimiter(TelegramLimits)
			for i := range tc.ok {
				if ra := l.admit(tc.chats(i), ""); ra != 0 {
					t.Fatalf("send %d refused (retry after %d)", i+1, ra)
				}
			}
			if ra := l.admit(tc.chats(tc.ok), ""); ra < 1 {
				t.Fatalf("send %d accepted, want 429", tc.ok+1)
			}
			if len(l.accepted) != tc.ok || l.rejected != 1 || l.why[tc.why] != 1 || l.refusals[0].Why != tc.why {
				t.Errorf("accepted %d, rejected %d, why %v %+v", len(l.accepted), l.rejected, l.why, l.refusals)
			}
		})
	}
}
