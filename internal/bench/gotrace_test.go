package bench

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime/trace"
	"testing"
	"time"
)

// traceSyncer writes and syncs a file n times: the role the test looks
// for, in a goroutine of its own.
func traceSyncer(tb testing.TB, f *os.File, n int, done chan<- struct{}) {
	defer close(done)
	for range n {
		if _, err := f.Write(make([]byte, 4096)); err != nil {
			tb.Error(err)
			return
		}
		if err := f.Sync(); err != nil {
			tb.Error(err)
			return
		}
	}
	time.Sleep(20 * time.Millisecond) // some idle time, for the Waiting share
}

// TestAnalyzeTrace traces this process while one goroutine syncs a file
// 50 times and checks what the analysis makes of it: the goroutine found
// by its function, 50 syncs with their durations, and its time split
// into states that add up.
func TestAnalyzeTrace(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "synced"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var buf bytes.Buffer
	if err := trace.Start(&buf); err != nil {
		t.Skipf("cannot trace: %v", err) // another trace is running, e.g. go test -trace
	}
	done := make(chan struct{})
	go traceSyncer(t, f, 50, done)
	<-done
	trace.Stop()

	roles := []Role{{Name: "syncer", Func: "internal/bench.traceSyncer"}, {Name: "nobody", Func: "no/such.function"}}
	saved := SyscallKinds
	SyscallKinds = []Role{{Name: "sync", Func: "os.(*File).Sync"}}
	defer func() { SyscallKinds = saved }()
	got, err := AnalyzeTrace(&buf, roles)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got["nobody"]; ok {
		t.Errorf("found a goroutine for a function nothing ran")
	}
	g := got["syncer"]
	if g == nil {
		t.Fatalf("no goroutine found for the syncer; got %v", got)
	}
	c := g.Calls["sync"]
	if c == nil || c.N != 50 {
		t.Fatalf("syncs = %+v, want 50", c)
	}
	if c.Dist.N != 50 || c.Dist.P50 <= 0 || c.Dist.P50 > c.Dist.P99 || c.Dist.P99 > c.Dist.Max || c.Total < c.Dist.Max {
		t.Errorf("sync durations %+v, total %v: want 50 in order, the total at least the longest", c.Dist, c.Total)
	}
	if sum := g.Running + g.Syscall + g.Runnable + g.Waiting; sum != g.Observed || g.Observed <= 0 {
		t.Errorf("states add up to %v, observed %v", sum, g.Observed)
	}
	if g.Syscall < c.Total/2 || g.Waiting <= 0 {
		t.Errorf("in system calls %v with syncs totalling %v, waiting %v: want the syncs inside, some waiting", g.Syscall, c.Total, g.Waiting)
	}
}

// TestAnalyzeTraceRefusesGarbage: bytes that are not a trace are an
// error, not an empty report.
func TestAnalyzeTraceRefusesGarbage(t *testing.T) {
	if _, err := AnalyzeTrace(bytes.NewReader([]byte("not a trace\x00")), nil); err == nil {
		t.Error("AnalyzeTrace of garbage: no error")
	}
}
