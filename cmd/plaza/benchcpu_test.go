package main

import (
	"slices"
	"testing"
	"time"
)

func TestParseCPUs(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []int
	}{
		{"0", []int{0}},
		{"1-3", []int{1, 2, 3}},
		{"0,2", []int{0, 2}},
		{"0, 2-3", []int{0, 2, 3}},
	} {
		got, err := parseCPUs(c.in)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("parseCPUs(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "a", "3-1", "-1", "1-", "2000"} {
		if got, err := parseCPUs(bad); err == nil {
			t.Errorf("parseCPUs(%q) = %v, want an error", bad, got)
		}
	}
}

// TestCPUTimeCounts: the process's own CPU time grows while it works.
func TestCPUTimeCounts(t *testing.T) {
	before := cpuTime(0)
	deadline := time.Now().Add(300 * time.Millisecond)
	x := 0
	for time.Now().Before(deadline) {
		x++
	}
	if after := cpuTime(0); after <= before {
		t.Fatalf("CPU time %v after busy work, was %v (x=%d)", after, before, x)
	}
	if cpuTime(1<<30) != 0 {
		t.Fatal("a process that does not exist has CPU time")
	}
}
