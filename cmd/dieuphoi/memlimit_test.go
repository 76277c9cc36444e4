package main

import (
	"runtime/debug"
	"testing"
)

func TestSetMemoryLimit(t *testing.T) {
	prev := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(prev)
	for _, tc := range []struct {
		name string
		env  map[string]string
		want int64
	}{
		{"default", nil, defaultMemoryLimitMB},
		{"chosen", map[string]string{"DIEUPHOI_MEMORY_LIMIT_MB": "300"}, 300},
		{"off", map[string]string{"DIEUPHOI_MEMORY_LIMIT_MB": "0"}, 0},
		{"unreadable is off", map[string]string{"DIEUPHOI_MEMORY_LIMIT_MB": "lots"}, 0},
		{"GOMEMLIMIT wins", map[string]string{"GOMEMLIMIT": "1GiB", "DIEUPHOI_MEMORY_LIMIT_MB": "300"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			debug.SetMemoryLimit(prev)
			got := setMemoryLimit(func(k string) string { return tc.env[k] })
			if got != tc.want {
				t.Fatalf("limit %d MB, want %d", got, tc.want)
			}
			if now := debug.SetMemoryLimit(-1); tc.want > 0 && now != tc.want<<20 {
				t.Errorf("runtime limit %d, want %d", now, tc.want<<20)
			} else if tc.want == 0 && now != prev {
				t.Errorf("runtime limit changed to %d", now)
			}
		})
	}
}

func TestSetGCPercent(t *testing.T) {
	prev := debug.SetGCPercent(100)
	defer debug.SetGCPercent(prev)
	for _, tc := range []struct {
		name  string
		env   map[string]string
		limit int64
		want  int // the runtime's GOGC afterwards
	}{
		{"limit on", nil, defaultMemoryLimitMB, limitedGCPercent},
		{"limit off", nil, 0, 100},
		{"GOGC set wins", map[string]string{"GOGC": "100"}, defaultMemoryLimitMB, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			debug.SetGCPercent(100)
			setGCPercent(func(k string) string { return tc.env[k] }, tc.limit)
			if got := debug.SetGCPercent(100); got != tc.want {
				t.Fatalf("GOGC %d, want %d", got, tc.want)
			}
		})
	}
}
