package flows

import (
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
)

func TestFormatDate(t *testing.T) {
	for _, tc := range []struct {
		lang domain.Lang
		at   time.Time
		want string
	}{
		{domain.Vietnamese, time.Date(2024, 8, 2, 9, 0, 0, 0, time.UTC), "thứ Sáu, 02/08/2024"},
		{domain.Vietnamese, time.Date(2026, 12, 6, 23, 59, 0, 0, time.UTC), "Chủ nhật, 06/12/2026"},
		{domain.Vietnamese, time.Date(2025, 1, 13, 0, 0, 0, 0, time.UTC), "thứ Hai, 13/01/2025"},
		{domain.English, time.Date(2024, 8, 2, 9, 0, 0, 0, time.UTC), "Friday 2 August 2024"},
	} {
		if got := FormatDate(tc.lang, tc.at); got != tc.want {
			t.Errorf("FormatDate(%s, %v) = %q, want %q", tc.lang, tc.at, got, tc.want)
		}
	}
	at := time.Date(2024, 8, 2, 9, 0, 0, 0, time.UTC)
	if n := testing.AllocsPerRun(100, func() { FormatDate(domain.Vietnamese, at) }); n > 1 {
		t.Errorf("FormatDate: %v allocations, want 1", n)
	}
}
