package sqldb

import (
	"testing"
	"time"
)

// The checkpointer copies once a second, and once more just before the
// writer's own checkpoint comes due, judged by how fast the log grew.
func TestNextLook(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	at := func(d time.Duration, pages int64) logLook { return logLook{at: t0.Add(d), pages: pages} }
	const due = 65536
	for _, c := range []struct {
		name      string
		last, now logLook
		want      time.Duration
	}{
		{"first look", logLook{}, at(time.Second, 1000), checkpointEvery},
		{"unknown before", at(0, -1), at(time.Second, 1000), checkpointEvery},
		{"unknown now", at(0, 1000), at(time.Second, -1), checkpointEvery},
		{"idle log", at(0, 5000), at(time.Second, 5000), checkpointEvery},
		{"due in 10 s", at(0, 10000), at(time.Second, 15000), checkpointEvery},
		// 5,536 pages left at 10,000 a second: due in 553.6 ms.
		{"due in 554 ms", at(0, 50000), at(time.Second, 60000), 453600 * time.Microsecond},
		// Due in 20 ms: look again no sooner than the lead.
		{"due now", at(0, 55536), at(time.Second, 65336), checkpointLead},
		{"past due", at(0, 60000), at(time.Second, 70000), checkpointLead},
		// Started over: 30,000 pages since, in at most a second, so
		// 35,536 left are at least 1.18 s away.
		{"started over", at(0, 60000), at(time.Second, 30000), checkpointEvery},
		{"started over, near", at(0, 60000), at(time.Second, 40000), 538400 * time.Microsecond},
	} {
		if got := nextLook(c.last, c.now, due); got != c.want {
			t.Errorf("%s: next look in %v, want %v", c.name, got, c.want)
		}
	}
}
