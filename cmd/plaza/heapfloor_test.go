package main

import (
	"strings"
	"testing"
)

// TestGCHeapFloorValidated: 0 turns the floor off; otherwise it must be a
// heap the runtime can aim at, 4 MiB to 1 TiB.
func TestGCHeapFloorValidated(t *testing.T) {
	for _, tc := range []struct {
		floor int64
		ok    bool
	}{
		{0, true},
		{4 << 20, true},
		{64 << 20, true},
		{1 << 40, true},
		{-1, false},
		{4<<20 - 1, false},
		{1<<40 + 1, false},
	} {
		cfg := DefaultConfig()
		cfg.Data = t.TempDir()
		cfg.GCHeapFloor = tc.floor
		err := cfg.Validate()
		if got := err == nil; got != tc.ok {
			t.Errorf("--gc-heap-floor %d: got %v, want ok %v", tc.floor, err, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "--gc-heap-floor") {
			t.Errorf("--gc-heap-floor %d: error %q does not name the flag", tc.floor, err)
		}
	}
}
