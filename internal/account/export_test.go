package account

import "time"

// SetClock makes s read the time from now, so tests can pin the date (ages,
// suspensions, session expiry) and move it forward without sleeping. It
// must be called before s is used.
func SetClock(s *Service, now func() time.Time) { s.now = now }
