package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dieuphoi/dieuphoi/internal/loadtest"
)

// traceBcast writes every send the fake accepted during a broadcast run
// (ms from the first broadcast message, chat, kind, which process) to
// dir/bcast-N-K.csv and prints where the run lost sends: the seconds under
// the limit, the longest gaps between consecutive sends, each process's
// longest silence, and the broadcast's start and end. ports maps each
// process's local TCP ports (loadtest.SocketPorts), so that a send is told
// by its connection's remote port.
func traceBcast(dir string, run int, procs int, sends []loadtest.Send, isBcast map[int64]bool, first, last time.Time, ports []map[int]bool) {
	proc := func(from string) int {
		_, p, err := net.SplitHostPort(from)
		if err != nil {
			return 0
		}
		n, _ := strconv.Atoi(p)
		for i, ps := range ports {
			if ps[n] {
				return i + 1
			}
		}
		return 0
	}
	kind := func(c int64) string {
		switch {
		case c < 0:
			return "g"
		case isBcast[c]:
			return "b"
		}
		return "r"
	}
	ms := func(t time.Time) float64 { return float64(t.Sub(first).Microseconds()) / 1000 }
	var b strings.Builder
	b.WriteString("ms,chat,kind,proc\n")
	var in []loadtest.Send
	for _, s := range sends {
		fmt.Fprintf(&b, "%.1f,%d,%s,%d\n", ms(s.At), s.Chat, kind(s.Chat), proc(s.From))
		if !s.At.Before(first) && !s.At.After(last) {
			in = append(in, s)
		}
	}
	name := filepath.Join(dir, fmt.Sprintf("bcast-%d-%d.csv", procs, run))
	if err := os.WriteFile(name, []byte(b.String()), 0o644); err != nil {
		fmt.Println("  trace:", err)
	}
	fmt.Printf("  trace %s: %d sends in the span\n", name, len(in))
	// Seconds of the span under 29 sends.
	var low []string
	for sec := 0; float64(sec+1) <= last.Sub(first).Seconds(); sec++ {
		n := 0
		for _, s := range in {
			if d := s.At.Sub(first); d >= time.Duration(sec)*time.Second && d < time.Duration(sec+1)*time.Second {
				n++
			}
		}
		if n < 29 {
			low = append(low, fmt.Sprintf("s%d:%d", sec, n))
		}
	}
	fmt.Printf("  seconds under 29 sends: %s\n", strings.Join(low, " "))
	type gap struct {
		at, d    float64
		from, to string
	}
	var gaps []gap
	for i := 1; i < len(in); i++ {
		d := float64(in[i].At.Sub(in[i-1].At).Microseconds()) / 1000
		gaps = append(gaps, gap{ms(in[i-1].At), d, fmt.Sprintf("%s/p%d", kind(in[i-1].Chat), proc(in[i-1].From)), fmt.Sprintf("%s/p%d", kind(in[i].Chat), proc(in[i].From))})
	}
	sort.Slice(gaps, func(i, j int) bool { return gaps[i].d > gaps[j].d })
	var gs []string
	over := 0.0
	for i, g := range gaps {
		if g.d > 34 {
			over += g.d - 33.7
		}
		if i < 12 {
			gs = append(gs, fmt.Sprintf("%.0fms@%.0f(%s→%s)", g.d, g.at, g.from, g.to))
		}
	}
	fmt.Printf("  sum of gaps beyond 33.7 ms: %.0f ms; longest: %s\n", over, strings.Join(gs, " "))
	for p := 1; p <= procs; p++ {
		var prev time.Time
		n, longest, at := 0, 0.0, 0.0
		for _, s := range in {
			if proc(s.From) != p {
				continue
			}
			if !prev.IsZero() {
				if d := float64(s.At.Sub(prev).Microseconds()) / 1000; d > longest {
					longest, at = d, ms(prev)
				}
			}
			prev = s.At
			n++
		}
		fmt.Printf("  process %d: %d sends, longest silence %.0f ms at %.0f\n", p, n, longest, at)
	}
	var start, end []string
	for i, s := range in {
		if i < 8 {
			start = append(start, fmt.Sprintf("%.0f%s", ms(s.At), kind(s.Chat)))
		}
		if i >= len(in)-12 {
			end = append(end, fmt.Sprintf("%.0f%s/p%d", ms(s.At), kind(s.Chat), proc(s.From)))
		}
	}
	var grp []string
	for _, s := range in {
		if s.Chat < 0 {
			grp = append(grp, fmt.Sprintf("%.1f", ms(s.At)/1000))
		}
	}
	fmt.Printf("  start: %s\n  end: %s\n  group sends (s): %s\n", strings.Join(start, " "), strings.Join(end, " "), strings.Join(grp, " "))
}
