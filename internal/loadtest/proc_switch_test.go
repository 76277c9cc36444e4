package loadtest

import (
	"os"
	"testing"
	"time"
)

// A thread that sleeps is counted: the process's voluntary switches grow.
func TestContextSwitchesCountSleeps(t *testing.T) {
	v0, _, err := ContextSwitches(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		time.Sleep(2 * time.Millisecond)
	}
	v1, _, err := ContextSwitches(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if v1 < v0+5 {
		t.Errorf("voluntary switches %d → %d over 5 sleeps; want at least 5 more", v0, v1)
	}
	if _, _, err := ContextSwitches(-1); err == nil {
		t.Error("no error for a process that does not exist")
	}
}
