package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// parseCPUs reads a CPU list such as "0", "1-3" or "0,2".
func parseCPUs(s string) ([]int, error) {
	var out []int
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.Atoi(lo)
		b, errHi := a, error(nil)
		if isRange {
			b, errHi = strconv.Atoi(hi)
		}
		if err != nil || errHi != nil || a < 0 || b < a || b >= 1024 {
			return nil, fmt.Errorf("CPU list %q: want numbers and ranges such as 0 or 1-3 or 0,2", s)
		}
		for c := a; c <= b; c++ {
			out = append(out, c)
		}
	}
	return out, nil
}

// pin restricts every thread of process pid (0: this process) to cpus.
// Threads the process starts later inherit it from the thread that
// starts them. For this process GOMAXPROCS follows.
func pin(pid int, cpus []int) error {
	var set unix.CPUSet
	for _, c := range cpus {
		set.Set(c)
	}
	dir := "/proc/self/task"
	if pid > 0 {
		dir = fmt.Sprintf("/proc/%d/task", pid)
	}
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("pin to CPUs %v: %w", cpus, err)
	}
	for _, t := range tasks {
		tid, err := strconv.Atoi(filepath.Base(t.Name()))
		if err != nil {
			continue
		}
		// A thread may end meanwhile; only a refusal is an error.
		if err := unix.SchedSetaffinity(tid, &set); err != nil && err != unix.ESRCH {
			return fmt.Errorf("pin to CPUs %v: %w", cpus, err)
		}
	}
	if pid == 0 {
		runtime.GOMAXPROCS(len(cpus))
	}
	return nil
}
