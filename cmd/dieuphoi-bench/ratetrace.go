package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// traceRate writes the fixed-rate run's samples (ms of the offer from the
// first, latency ms) to dir/rate-MODE.csv and prints whether the slow ones
// cluster in time — the whole bot stalled at some moments — or are spread
// out (queueing): the slow (≥ p99) samples per second, how many of them
// have another slow one offered within 50 ms, and the collections the bot
// printed (gctrace, @ seconds since it started) on the same time line.
func traceRate(dir, mode string, at []time.Time, lat []time.Duration, procStart time.Time, logs string) {
	if len(at) == 0 {
		return
	}
	idx := make([]int, len(at))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return at[idx[a]].Before(at[idx[b]]) })
	t0 := at[idx[0]]
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	var b strings.Builder
	b.WriteString("offer_ms,latency_ms\n")
	sorted := make([]time.Duration, len(lat))
	copy(sorted, lat)
	sort.Slice(sorted, func(a, b int) bool { return sorted[a] < sorted[b] })
	p99 := sorted[len(sorted)*99/100]
	var slow []float64
	perSec := map[int][3]float64{} // offers, slow, max ms
	for _, i := range idx {
		off := ms(at[i].Sub(t0))
		fmt.Fprintf(&b, "%.1f,%.1f\n", off, ms(lat[i]))
		s := perSec[int(off/1000)]
		s[0]++
		if lat[i] >= p99 {
			s[1]++
			slow = append(slow, off)
		}
		s[2] = max(s[2], ms(lat[i]))
		perSec[int(off/1000)] = s
	}
	name := filepath.Join(dir, "rate-"+mode+".csv")
	if err := os.WriteFile(name, []byte(b.String()), 0o644); err != nil {
		fmt.Println("  trace:", err)
	}
	near := 0
	for i, x := range slow {
		if (i > 0 && x-slow[i-1] <= 50) || (i+1 < len(slow) && slow[i+1]-x <= 50) {
			near++
		}
	}
	var secs []int
	for s := range perSec {
		secs = append(secs, s)
	}
	sort.Ints(secs)
	var line []string
	for _, s := range secs {
		v := perSec[s]
		line = append(line, fmt.Sprintf("s%d:%.0f/%.0f/%.0fms", s, v[0], v[1], v[2]))
	}
	fmt.Printf("  rate trace %s: %d samples, p99 %.0f ms; %d slow (≥ p99), %d of them with another slow one offered within 50 ms\n", name, len(lat), ms(p99), len(slow), near)
	var sl []string
	for _, x := range slow {
		sl = append(sl, strconv.FormatFloat(x/1000, 'f', 2, 64))
	}
	// The same samples without the run's first seconds: how much of the
	// tail the opening (every open chat's first, heaviest step at once)
	// makes.
	var from []string
	for _, cut := range []float64{1, 2, 5} {
		var xs []time.Duration
		for _, i := range idx {
			if at[i].Sub(t0).Seconds() >= cut {
				xs = append(xs, lat[i])
			}
		}
		if len(xs) > 0 {
			sort.Slice(xs, func(a, b int) bool { return xs[a] < xs[b] })
			from = append(from, fmt.Sprintf("from %.0f s: p50 %.0f, p99 %.0f ms (%d)", cut, ms(xs[len(xs)/2]), ms(xs[len(xs)*99/100]), len(xs)))
		}
	}
	fmt.Printf("  offers %s\n", strings.Join(from, "; "))
	fmt.Printf("  slow offers at (s): %s\n  per second offers/slow/max: %s\n", strings.Join(sl, " "), strings.Join(line, " "))
	// Collections on the same time line.
	var gcs []string
	for _, l := range strings.Split(logs, "\n") {
		if !strings.HasPrefix(l, "gc ") {
			continue
		}
		f := strings.Fields(l)
		if len(f) < 5 {
			continue
		}
		sec, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimPrefix(f[2], "@"), "s"), 64)
		if err != nil {
			continue
		}
		when := procStart.Add(time.Duration(sec * float64(time.Second))).Sub(t0).Seconds()
		if when >= -1 && when <= ms(sorted[len(sorted)-1])/1000+float64(len(secs)) {
			gcs = append(gcs, fmt.Sprintf("%.2f(%s)", when, strings.TrimSuffix(f[4], "ms")))
		}
	}
	if len(gcs) > 0 {
		fmt.Printf("  collections at (s, pauses+mark ms clock): %s\n", strings.Join(gcs, " "))
	}
}
