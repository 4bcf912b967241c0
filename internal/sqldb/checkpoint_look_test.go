package sqldb

import (
	"math"
	"testing"
	"time"
)

// The checkpointer judges how fast the log grows from its last two looks
// (TestLogRate), and copies once a second, more often when the log grows
// fast, and once more just before the writer's own checkpoint comes due
// (TestNextLook).
func TestLogRate(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	at := func(d time.Duration, pages int64) logLook { return logLook{at: t0.Add(d), pages: pages} }
	const due = 65536
	for _, c := range []struct {
		name      string
		last, now logLook
		rate      float64
		known     bool
	}{
		{"first look", logLook{}, at(time.Second, 1000), 0, false},
		{"unknown before", at(0, -1), at(time.Second, 1000), 0, false},
		{"unknown now", at(0, 1000), at(time.Second, -1), 0, false},
		{"idle log", at(0, 5000), at(time.Second, 5000), 0, true},
		{"a second", at(0, 50000), at(time.Second, 60000), 10000, true},
		{"a tenth of a second", at(0, 60000), at(100*time.Millisecond, 61000), 10000, true},
		// Started over: taken to have grown to due first, 5,536 pages,
		// then 30,000 more.
		{"started over", at(0, 60000), at(time.Second, 30000), 35536, true},
		{"started over from past due", at(0, 70000), at(time.Second, 30000), 30000, true},
		// Under light load the log starts over after most passes: only
		// what it holds now is known to have grown.
		{"started over far from due", at(0, 1250), at(time.Second, 1180), 1180, true},
	} {
		rate, known := logRate(c.last, c.now, due)
		if known != c.known || math.Abs(rate-c.rate) > 1e-6 {
			t.Errorf("%s: rate %v (known %v), want %v (known %v)", c.name, rate, known, c.rate, c.known)
		}
	}
}

func TestNextLook(t *testing.T) {
	const due = 65536
	for _, c := range []struct {
		name  string
		pages int64
		rate  float64
		due   int64
		want  time.Duration
	}{
		{"rate unknown", 60000, 0, due, checkpointEvery},
		{"slow log, due in 10 s", 15000, 5000, due, checkpointEvery},
		{"slow log, due in 1.2 s", 59536, 5000, due, checkpointEvery},
		{"slow log, due in 1.05 s", 60286, 5000, due, 950 * time.Millisecond},
		// 8,192 pages at 40,000 a second: a pass every 204.8 ms.
		{"fast log", 0, 40000, due, 204800 * time.Microsecond},
		// 5,536 pages left at 10,000 a second: due in 553.6 ms.
		{"due in 554 ms", 60000, 10000, due, 453600 * time.Microsecond},
		// Due in 20 ms: look again no sooner than the lead.
		{"due now", 65336, 10000, due, checkpointLead},
		{"past due", 70000, 10000, due, checkpointLead},
		// The size not known (the writer was checkpointing): by the
		// bound on a pass.
		{"size unknown, slow log", -1, 5000, due, checkpointEvery},
		{"size unknown, fast log", -1, 40000, due, 204800 * time.Microsecond},
		{"size unknown, very fast log", -1, 1e6, due, checkpointLead},
		// Far away at a crawl, without overflowing.
		{"huge due", 0, 1e-9, math.MaxInt64, checkpointEvery},
	} {
		got := nextLook(c.pages, c.rate, c.due)
		if d := got - c.want; d < -time.Microsecond || d > time.Microsecond {
			t.Errorf("%s: next look in %v, want %v", c.name, got, c.want)
		}
	}
}
