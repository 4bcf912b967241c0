package bench

import (
	"syscall"
	"testing"
	"time"
)

// traceSleeper makes one system call of d, a role for the test below.
func traceSleeper(t *testing.T, d time.Duration, done chan<- struct{}) {
	defer close(done)
	ts := syscall.NsecToTimespec(d.Nanoseconds())
	if err := syscall.Nanosleep(&ts, nil); err != nil {
		t.Error(err)
	}
}

// TestAnalyzeTraceLongCall: a system call across the trace's generations
// (about a second each; at the start of one the runtime states a
// goroutine in a system call as such again) is one call of its whole
// length, not several.
func TestAnalyzeTraceLongCall(t *testing.T) {
	const d = 2500 * time.Millisecond
	buf := traceOf(t, func() {
		done := make(chan struct{})
		go traceSleeper(t, d, done)
		<-done
	})
	got, _, err := AnalyzeTrace(buf, []Role{{Name: "sleeper", Func: "internal/bench.traceSleeper"}},
		[]Role{{Name: "sleep", Func: "syscall.Nanosleep"}})
	if err != nil {
		t.Fatal(err)
	}
	g := got["sleeper"]
	if g == nil {
		t.Fatal("no goroutine found for the sleeper")
	}
	if c := g.Calls["sleep"]; c == nil || c.N != 1 || c.Dist.Max < d {
		t.Errorf("calls %+v, want one of at least %v", c, d)
	}
}
