package identity

import "time"

// SetClock replaces the service's time source, so tests can expire codes
// and wait out the resend delay without sleeping.
func SetClock(s *Service, now func() time.Time) { s.now = now }

// BeginRotation starts a key rotation without finishing it, as a rotation
// interrupted after its first step would leave things.
func BeginRotation(kr *Keyring) (string, error) { return kr.beginRotation() }
