package bench

import (
	"testing"
	"time"
)

// TestBackoff: each wait is between 0 and min(cap, base·2ⁿ), the ceiling
// doubles up to the cap, and reset starts over.
func TestBackoff(t *testing.T) {
	b := newBackoff()
	for i, want := range []time.Duration{
		500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second,
		15 * time.Second, 15 * time.Second, 15 * time.Second,
	} {
		if got := b.ceiling(); got != want {
			t.Errorf("retry %d: ceiling %v, want %v", i, got, want)
		}
		if d := b.next(); d < 0 || d > want {
			t.Errorf("retry %d: waits %v, want 0–%v", i, d, want)
		}
	}
	for range 100 {
		b.next() // no overflow however many
	}
	if got := b.ceiling(); got != 15*time.Second {
		t.Errorf("after many retries: ceiling %v, want 15s", got)
	}
	b.reset()
	if got := b.ceiling(); got != 500*time.Millisecond {
		t.Errorf("after reset: ceiling %v, want 500ms", got)
	}
	for range 100 {
		if d := restartDelay(); d < 0 || d > time.Second {
			t.Fatalf("restart delay %v, want 0–1s", d)
		}
	}
}
