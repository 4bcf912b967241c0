package bench

import (
	"testing"
	"time"
)

// TestProcessCPUCounts: the process's own CPU time grows while it works.
func TestProcessCPUCounts(t *testing.T) {
	before := ProcessCPU(0)
	deadline := time.Now().Add(300 * time.Millisecond)
	x := 0
	for time.Now().Before(deadline) {
		x++
	}
	if after := ProcessCPU(0); after <= before {
		t.Fatalf("CPU time %v after busy work, was %v (x=%d)", after, before, x)
	}
	if ProcessCPU(1<<30) != 0 {
		t.Fatal("a process that does not exist has CPU time")
	}
}
