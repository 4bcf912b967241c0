// Package ratelimit provides per-key token-bucket limiters (per IP, per
// account, per phone number) held in a bounded LRU, so an attacker who
// varies keys cannot grow memory without bound.
package ratelimit

import (
	"container/list"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Rate is N events per Per, with bursts of up to N.
type Rate struct {
	N   int
	Per time.Duration
}

// ParseRate parses "N/DURATION", e.g. "10/1m" or "5/30s".
func ParseRate(s string) (Rate, error) {
	n, per, ok := strings.Cut(s, "/")
	if !ok {
		return Rate{}, fmt.Errorf("rate %q: want N/DURATION such as 10/1m", s)
	}
	count, err := strconv.Atoi(n)
	if err != nil || count < 1 {
		return Rate{}, fmt.Errorf("rate %q: N must be a positive integer", s)
	}
	d, err := time.ParseDuration(per)
	if err != nil || d <= 0 {
		return Rate{}, fmt.Errorf("rate %q: DURATION must be positive, like 1m or 30s", s)
	}
	return Rate{N: count, Per: d}, nil
}

// String returns the rate in the form ParseRate reads.
func (r Rate) String() string { return fmt.Sprintf("%d/%s", r.N, r.Per) }

// Limiter limits events per key. A nil *Limiter allows everything, which is
// how "--rate-limits off" is implemented.
type Limiter struct {
	rate rate.Limit
	n    int
	max  int
	now  func() time.Time

	mu    sync.Mutex
	order *list.List // front = most recently used
	keys  map[string]*list.Element
}

type entry struct {
	key string
	lim *rate.Limiter
}

// New returns a limiter allowing r per key, remembering at most maxKeys
// keys (the least recently used are forgotten, which only ever makes the
// limiter more lenient).
func New(r Rate, maxKeys int) *Limiter {
	return &Limiter{
		rate:  rate.Limit(float64(r.N) / r.Per.Seconds()),
		n:     r.N,
		max:   maxKeys,
		now:   time.Now,
		order: list.New(),
		keys:  make(map[string]*list.Element),
	}
}

// Allow reports whether an event for key may happen now; when it may not,
// retryAfter says when it could.
func (l *Limiter) Allow(key string) (ok bool, retryAfter time.Duration) {
	return l.AllowN(key, 1)
}

// AllowN is Allow for n events at once (n at most the rate's N, or it is
// never allowed).
func (l *Limiter) AllowN(key string, n int) (ok bool, retryAfter time.Duration) {
	if l == nil {
		return true, 0
	}
	l.mu.Lock()
	var lim *rate.Limiter
	if el, found := l.keys[key]; found {
		l.order.MoveToFront(el)
		lim = el.Value.(*entry).lim
	} else {
		lim = rate.NewLimiter(l.rate, l.n)
		l.keys[key] = l.order.PushFront(&entry{key: key, lim: lim})
		if l.order.Len() > l.max {
			oldest := l.order.Back()
			l.order.Remove(oldest)
			delete(l.keys, oldest.Value.(*entry).key)
		}
	}
	l.mu.Unlock()

	now := l.now()
	res := lim.ReserveN(now, n)
	if !res.OK() {
		return false, rate.InfDuration
	}
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return false, d
	}
	return true, 0
}
