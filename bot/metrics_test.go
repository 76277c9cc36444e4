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

// An update's metric observations (its stages, outcome, latency) allocate
// nothing once the children exist: the variadic label values stay on the
// caller's stack (each used to cost an allocation, ~10 per update), and
// each child is still the vector's own.
func TestMetricObservationsAllocateNothing(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	observe := func() {
		sp := m.stages()
		sp.mark("begin")
		sp.mark("send")
		m.updates.WithLabelValues("telegram", "handled").Inc()
		m.latency.WithLabelValues("telegram").Observe(0.01)
	}
	observe()
	if n := testing.AllocsPerRun(100, observe); n != 0 {
		t.Errorf("%.1f allocations per update's observations; want 0", n)
	}
	if got := m.stage.WithLabelValues("send"); got != m.stage.get("send") {
		t.Error("the kept child is not the vector's")
	}
	// The counts reached the registry.
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, mf := range mfs {
		for _, mm := range mf.GetMetric() {
			if c := mm.GetCounter(); c != nil && c.GetValue() == 102 {
				for _, l := range mm.GetLabel() {
					found = found || l.GetValue() == "handled"
				}
			}
		}
	}
	if !found {
		t.Error("102 handled updates not counted")
	}
}
