package jobs

import "time"

// SetClock makes q read the time from now; call it before Run.
func SetClock(q *Queue, now func() time.Time) { q.now = now }

// OnRound has q call fn after each look for due jobs with the number it
// claimed; call it before Run.
func OnRound(q *Queue, fn func(claimed int)) { q.afterRound = fn }

// CrashOnStop makes q leave its leases behind when it stops, as a killed
// process does.
func CrashOnStop(q *Queue) { q.crashOnStop = true }
