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

// traceOf traces this process while f runs.
func traceOf(t *testing.T, f func()) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	if err := trace.Start(&buf); err != nil {
		t.Skipf("cannot trace: %v", err) // another trace is running, e.g. go test -trace
	}
	f()
	trace.Stop()
	return &buf
}

// TestAnalyzeTrace traces this process while one goroutine syncs a file
// 50 times and checks what the analysis makes of it: the goroutine found
// by its function (and not the test's, which it wakes), 50 syncs with
// their durations, and its time within the trace's.
func TestAnalyzeTrace(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "synced"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := traceOf(t, func() {
		done := make(chan struct{})
		go traceSyncer(t, f, 50, done)
		<-done
	})
	roles := []Role{{Name: "syncer", Func: "internal/bench.traceSyncer"}, {Name: "nobody", Func: "no/such.function"}}
	got, span, err := AnalyzeTrace(buf, roles, []Role{{Name: "sync", Func: "os.(*File).Sync"}})
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
	if g.Observed <= 0 || g.Observed > span {
		t.Errorf("observed %v of a trace of %v", g.Observed, span)
	}
	if g.Syscall < c.Total || g.Waiting < 15*time.Millisecond {
		t.Errorf("in system calls %v with syncs totalling %v, waiting %v: want the syncs inside, the 20 ms sleep waiting", g.Syscall, c.Total, g.Waiting)
	}
}

// TestAnalyzeTraceRefusesGarbage: bytes that are not a trace are an
// error, not an empty report.
func TestAnalyzeTraceRefusesGarbage(t *testing.T) {
	if _, _, err := AnalyzeTrace(bytes.NewReader([]byte("not a trace\x00")), nil, nil); err == nil {
		t.Error("AnalyzeTrace of garbage: no error")
	}
}
