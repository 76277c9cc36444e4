package bot

import (
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Chats opened by the hundred thousand within the window do not grow the
// active-chats map past its bound; once they are old they make room.
func TestActiveChatsBounded(t *testing.T) {
	m := NewMetrics(prometheus.NewRegistry())
	t0 := time.Date(2024, 7, 25, 9, 0, 0, 0, time.UTC)
	for i := range maxActive + 5000 {
		m.seen(fmt.Sprint("webchat:", i), t0.Add(time.Duration(i)*time.Millisecond))
	}
	if n := len(m.active); n != maxActive {
		t.Fatalf("%d chats held, want %d", n, maxActive)
	}
	// Half an hour later the old ones are forgotten as new ones come.
	later := t0.Add(activeWindow + 2*time.Minute)
	m.seen("telegram:1", later)
	if n := len(m.active); n != 1 {
		t.Fatalf("%d chats held after the window, want 1", n)
	}
}
