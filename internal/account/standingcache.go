package account

import (
	"context"
	"encoding/binary"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/bus"
)

// standingCache remembers, for a while, that an account (or one of its
// sessions) was in good standing or reachable, so the send path does not
// read the session, the account and the terms for every message: at
// thousands of messages a second that read cost a sixteenth of the CPU.
//
// Only good answers are kept. Every change to an account's sessions or
// standing forgets that account's answers: at once on the node that made
// it, and on the others when the bus brings the news (UseBus). A change
// the bus does not carry (the admin CLI, or a notice lost on the way) is
// seen within the TTL: a second without a bus, ttlWithBus with one.
type standingCache struct {
	// epoch is bumped by every forget: an answer read before a forget
	// may predate the change, so it is not remembered.
	epoch atomic.Uint64
	ttl   atomic.Int64 // time.Duration

	mu sync.Mutex
	n  int // entries in m
	m  map[plaza.ID][]standingEntry
}

type standingKey struct {
	account, session plaza.ID
	reach            bool // "may be messaged" rather than "may act"
}

type standingEntry struct {
	session plaza.ID
	reach   bool
	at      time.Time
}

// Lifetimes of a remembered good answer, without and with a bus that
// carries every change to the other nodes.
const (
	standingTTL = time.Second
	ttlWithBus  = 10 * time.Second
)

// standingCacheMax bounds the entries; past it the cache starts over.
const standingCacheMax = 100_000

func (c *standingCache) lifetime() time.Duration {
	if d := time.Duration(c.ttl.Load()); d > 0 {
		return d
	}
	return standingTTL
}

func (c *standingCache) ok(k standingKey, now time.Time) bool {
	ttl := c.lifetime()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.m[k.account] {
		if e.session == k.session && e.reach == k.reach {
			return now.Sub(e.at) < ttl && !now.Before(e.at)
		}
	}
	return false
}

// remember records a good answer read at epoch (loaded before the read,
// so a change that lands during the read is not hidden behind it).
func (c *standingCache) remember(k standingKey, epoch uint64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epoch.Load() != epoch {
		return // forgotten meanwhile: the answer may predate the change
	}
	if c.m == nil || c.n >= standingCacheMax {
		c.m, c.n = make(map[plaza.ID][]standingEntry), 0
	}
	es := c.m[k.account]
	for i := range es {
		if es[i].session == k.session && es[i].reach == k.reach {
			es[i].at = now
			return
		}
	}
	c.m[k.account] = append(es, standingEntry{session: k.session, reach: k.reach, at: now})
	c.n++
}

// forget drops what is remembered about account, or about everyone for
// account 0.
func (c *standingCache) forget(account plaza.ID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch.Add(1)
	if account == 0 {
		c.m, c.n = nil, 0
		return
	}
	c.n -= len(c.m[account])
	delete(c.m, account)
}

// StandingSubject is the bus subject on which every node hears that an
// account's sessions or standing changed (8 bytes, the account; 0 for
// every account), to forget what it remembers about them.
const StandingSubject = "standing.changed"

// UseBus shares standing changes between nodes: this node tells the
// others of every change it makes, and forgets what it remembers when
// another tells it. Remembered answers then live ttlWithBus instead of a
// second. Call it while wiring, before serving.
func (s *Service) UseBus(b bus.Bus, log *slog.Logger) error {
	if _, err := b.Subscribe(StandingSubject, func(data []byte) {
		// Anything but 8 bytes forgets everyone: safe, if wasteful.
		var id plaza.ID
		if len(data) == 8 {
			id = plaza.ID(binary.BigEndian.Uint64(data))
		}
		s.standing.forget(id)
	}, bus.Inline()); err != nil {
		return err
	}
	s.OnStandingChange(func(ctx context.Context, account plaza.ID) {
		data := binary.BigEndian.AppendUint64(nil, uint64(account))
		if err := b.Publish(ctx, StandingSubject, data); err != nil {
			log.Warn("bus publish of a standing change failed; other nodes see it within their cache's lifetime", "ttl", ttlWithBus, "err", err)
		}
	})
	s.standing.ttl.Store(int64(ttlWithBus))
	if ln, ok := b.(bus.LossNotifier); ok {
		// A standing change may have been among the events lost: forget
		// everything rather than trust it for another ttlWithBus.
		ln.OnLoss(func(bus.Loss) { s.standing.forget(0) })
	}
	return nil
}
