package flows

import (
	"strings"
	"testing"
	"time"
)

func taskNamed(r Result, name string) (Task, bool) {
	for _, t := range r.Tasks {
		if t.Name == name {
			return t, true
		}
	}
	return Task{}, false
}

// A manual send's confirm button carries the id of its preview: pressed in
// time it asks for that send (the bot layer sends once per id); an old
// button, or one without an id, sends nothing and shows a fresh preview.
func TestConfirmButtonsCarryTheirPreview(t *testing.T) {
	c := newCampaign(t)
	c.now = time.Date(2024, 7, 29, 9, 0, 0, 0, hcm) // RSVP reminders exist only before the cut-off
	r := c.as("DB003", cmd("nhacnho", ""))
	prev, ok := taskNamed(r, "remind_preview")
	if !ok || prev.Arg == "" {
		t.Fatalf("/nhacnho asked for %+v; want a preview with a confirmation id", r.Tasks)
	}
	if b := RemindButtons("vi", prev.Arg); b[0][0].Data != "rm:go:"+prev.Arg || len(b[0][0].Data) > 64 {
		t.Fatalf("confirm button = %q", b[0][0].Data)
	}
	cases := []struct {
		name  string
		after time.Duration
		data  string
		sends bool
	}{
		{"pressed at once", time.Second, "rm:go:" + prev.Arg, true},
		{"pressed again 50 min later: the same id", 50 * time.Minute, "rm:go:" + prev.Arg, true},
		{"pressed after more than an hour", 61 * time.Minute, "rm:go:" + prev.Arg, false},
		{"an old button without an id", time.Second, "rm:go", false},
		{"a forged id", time.Second, "rm:go:zzzzzzzzzzzzzzzzzz", false},
		{"an id from the future", time.Second, "rm:go:" + strings.Repeat("1", 9), false},
	}
	start := c.now
	for _, tc := range cases {
		c.now = start.Add(tc.after)
		r := c.as("DB003", btn(tc.data))
		task, sends := taskNamed(r, "remind")
		if sends != tc.sends || (sends && task.Arg != prev.Arg) {
			t.Errorf("%s: tasks %+v; want send=%v with id %q", tc.name, r.Tasks, tc.sends, prev.Arg)
		}
		if !tc.sends {
			if _, ok := taskNamed(r, "remind_preview"); !ok || !strings.Contains(allText(r), "đã cũ") {
				t.Errorf("%s: %q, tasks %+v; want the button refused and a fresh preview", tc.name, allText(r), r.Tasks)
			}
		}
	}
	// A delegate cannot use the button at all.
	c.now = start
	if r := c.as("DB002", btn("rm:go:"+prev.Arg)); len(r.Tasks) != 0 {
		t.Fatalf("a focal point's press asked for %+v", r.Tasks)
	}

	// Broadcasts: the confirm sends the text of its own preview only.
	c.as("DB003", cmd("thongbao", ""))
	c.as("DB003", btn(btnBcAudPrefix+"accepted"))
	r = c.as("DB003", text("Xin mời đại biểu đến trước 07:45."))
	bp, ok := taskNamed(r, "broadcast_preview")
	id, aud, msgText := SplitBroadcastArg(bp.Arg)
	if !ok || id == "" || aud != "accepted" || msgText != "Xin mời đại biểu đến trước 07:45." {
		t.Fatalf("broadcast preview task = %+v", r.Tasks)
	}
	if r := c.as("DB003", btn("bc:send:"+id+"x")); len(r.Tasks) != 0 {
		t.Fatalf("another preview's button sent: %+v", r.Tasks)
	}
	r = c.as("DB003", btn("bc:send:"+id))
	if task, ok := taskNamed(r, "broadcast"); !ok || task.Arg != bp.Arg {
		t.Fatalf("confirm asked for %+v; want the previewed broadcast", r.Tasks)
	}
	if r := c.as("DB003", btn("bc:send:"+id)); len(r.Tasks) != 0 {
		t.Fatalf("a second press asked for %+v", r.Tasks)
	}
}
