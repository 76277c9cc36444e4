package domain

import (
	"testing"
	"time"
)

func TestDaysUntil(t *testing.T) {
	ict := time.FixedZone("ICT", 7*3600)
	event := time.Date(2024, 8, 2, 8, 0, 0, 0, ict)
	deadline := time.Date(2024, 8, 30, 17, 0, 0, 0, ict)
	for _, tc := range []struct {
		name     string
		now, t   time.Time
		wantDays int
	}{
		{"morning of the event, before it starts", time.Date(2024, 8, 2, 7, 40, 0, 0, ict), event, 0},
		{"evening before the event", time.Date(2024, 8, 1, 21, 0, 0, 0, ict), event, 1},
		{"just after midnight the day before", time.Date(2024, 8, 1, 0, 1, 0, 0, ict), event, 1},
		{"morning 20 calendar days before a 17:00 deadline", time.Date(2024, 8, 10, 9, 0, 0, 0, ict), deadline, 20},
		{"late evening 20 days before, UTC still the day before", time.Date(2024, 8, 10, 23, 30, 0, 0, ict), deadline, 20},
		{"the day after", time.Date(2024, 8, 31, 8, 0, 0, 0, ict), deadline, -1},
		{"later the same day", time.Date(2024, 8, 30, 18, 0, 0, 0, ict), deadline, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := DaysUntil(tc.now, tc.t, ict); got != tc.wantDays {
				t.Errorf("DaysUntil(%v, %v) = %d, want %d", tc.now, tc.t, got, tc.wantDays)
			}
		})
	}
}

func TestProperName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"nguyễn thị lan", "Nguyễn Thị Lan"},
		{"  NGUYỄN   THỊ LAN ", "Nguyễn Thị Lan"},
		{"đặng văn ân", "Đặng Văn Ân"},
		{"Nguyễn Thị Lan", "Nguyễn Thị Lan"},
		{"h'hen niê", "H'Hen Niê"},
		{"john McLean", "John McLean"},
		{"nguye\u0302\u0303n van a", "Nguyễn Van A"}, // decomposed input is composed
	} {
		if got := ProperName(tc.in); got != tc.want {
			t.Errorf("ProperName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"phó chánh văn phòng", "Phó chánh văn phòng"},
		{"Phó Chủ tịch UBND", "Phó Chủ tịch UBND"},
	} {
		if got := ProperPosition(tc.in); got != tc.want {
			t.Errorf("ProperPosition(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
