package web_test

import (
	"testing"
	"time"
)

// The overview counts whole calendar days in Vietnam time, as the chat does.
func TestOverviewCountdown(t *testing.T) {
	w := newWorld(t)
	for _, tc := range []struct {
		name  string
		now   time.Time
		wants []string
	}{
		{"morning of the event", time.Date(2026, 8, 7, 7, 40, 0, 0, ict), []string{"Hội nghị diễn ra <strong>hôm nay</strong>"}},
		{"the evening before", time.Date(2026, 8, 6, 20, 0, 0, 0, ict), []string{"Hội nghị diễn ra <strong>ngày mai</strong>"}},
		{"20 calendar days before the deadline", time.Date(2026, 7, 31, 9, 0, 0, 0, ict),
			[]string{"Còn <strong>7</strong> ngày đến hội nghị", "Hạn nộp: <strong>còn 20 ngày</strong>"}},
		{"after the deadline", time.Date(2026, 8, 21, 9, 0, 0, 0, ict), []string{"Đã quá hạn nộp", "hôm qua", "Hội nghị đã diễn ra"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w.setClock(tc.now)
			c := w.signIn(t, "S001") // sessions follow the clock
			code, body := c.get("/admin/")
			if code != 200 {
				t.Fatalf("overview: %d", code)
			}
			mustContain(t, body, tc.wants...)
		})
	}
}
