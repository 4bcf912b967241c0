package account

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/plaza-im/plaza"
)

// standingCache remembers, for a moment, that an account (or one of its
// sessions) was in good standing or reachable, so the send path does not
// read the session, the account and the terms for every message: at
// thousands of messages a second that read cost an eighth of the CPU.
//
// Only good answers are kept, and never for long. Every change this node
// makes to sessions or standing bumps the epoch and so forgets them all
// at once; a change made on another node (or by the admin CLI) is seen
// within standingTTL, and the other node's bus notice closes the affected
// streams sooner still.
type standingCache struct {
	epoch atomic.Uint64
	mu    sync.Mutex
	m     map[standingKey]standingEntry
}

type standingKey struct {
	account, session plaza.ID
	reach            bool // "may be messaged" rather than "may act"
}

type standingEntry struct {
	at    time.Time
	epoch uint64
}

// standingTTL bounds how stale a remembered good standing may be.
const standingTTL = time.Second

// standingCacheMax bounds the entries; past it the cache starts over.
const standingCacheMax = 100_000

func (c *standingCache) ok(k standingKey, now time.Time) bool {
	epoch := c.epoch.Load()
	c.mu.Lock()
	e, found := c.m[k]
	c.mu.Unlock()
	return found && e.epoch == epoch && now.Sub(e.at) < standingTTL && !now.Before(e.at)
}

// remember records a good answer read at epoch (loaded before the read,
// so a change that lands during the read is not hidden behind it).
func (c *standingCache) remember(k standingKey, epoch uint64, now time.Time) {
	c.mu.Lock()
	if c.m == nil || len(c.m) >= standingCacheMax {
		c.m = make(map[standingKey]standingEntry)
	}
	c.m[k] = standingEntry{at: now, epoch: epoch}
	c.mu.Unlock()
}

// forget drops every remembered answer.
func (c *standingCache) forget() { c.epoch.Add(1) }
