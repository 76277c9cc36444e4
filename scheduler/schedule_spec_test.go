package scheduler

import (
	"testing"
	"time"
)

func TestParseSpecRunsInVietnameseTime(t *testing.T) {
	spec, err := ParseSpec("0 8 * * *")
	if err != nil {
		t.Fatal(err)
	}
	// 02:00 UTC is 09:00 in Hà Nội: the next 08:00 there is the next day,
	// 01:00 UTC.
	got := spec.Next(time.Date(2024, 8, 1, 2, 0, 0, 0, time.UTC)).UTC()
	if want := time.Date(2024, 8, 2, 1, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Fatalf("next = %v, want %v", got, want)
	}
	if _, err := ParseSpec("61 * * * *"); err == nil {
		t.Fatal("a bad spec was accepted")
	}
}
