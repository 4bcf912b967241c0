package bench

import (
	"math/rand/v2"
	"time"
)

// backoff is the clients' reconnect policy (docs/api.md, "Stream close
// codes and reconnecting"): the n-th retry (from 0) waits a random time
// between 0 and min(max, base·2ⁿ), full jitter, so that devices dropped
// together do not come back together.
type backoff struct {
	base, max time.Duration
	n         int
}

// newBackoff returns the policy's backoff: base 500 ms, cap 15 s.
func newBackoff() *backoff { return &backoff{base: 500 * time.Millisecond, max: 15 * time.Second} }

// ceiling returns the upper bound of the next wait.
func (b *backoff) ceiling() time.Duration {
	if b.n >= 30 || b.base<<b.n > b.max {
		return b.max
	}
	return b.base << b.n
}

// next returns the wait before the next retry and counts the retry.
func (b *backoff) next() time.Duration {
	d := rand.N(b.ceiling() + 1)
	b.n++
	return d
}

// reset starts over, after a stream's ready frame.
func (b *backoff) reset() { b.n = 0 }

// restartDelay is the wait before reconnecting to a node that closed the
// stream with 1012 (or 1001): 0–1 s, full jitter.
func restartDelay() time.Duration { return rand.N(time.Second + 1) }
