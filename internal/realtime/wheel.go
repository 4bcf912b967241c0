package realtime

import (
	"sync"
	"time"
)

// wheel runs the periodic duties of every stream of a hub — the ping, the
// check for its answer and the standing re-check — from one goroutine,
// instead of a ticker per connection (a ticker is a timer and a channel
// per idle device, and a goroutine to wait on it). Streams hang in slots,
// one per tick, in intrusive lists; a tick takes the streams of its slot.
type wheel struct {
	tick  time.Duration
	mu    sync.Mutex
	slots []*Conn // heads of doubly linked lists through Conn.wnext/wprev
	pos   int     // the slot the next tick takes
	stop  chan struct{}
	done  chan struct{}
}

// Duties a stream waits for in the wheel (Conn.wduty).
const (
	dutyPing  = iota // ping and re-check the standing
	dutyCheck        // the ping's answer should have come
)

// newWheel returns a wheel whose slots span the longest of the intervals
// with about ten ticks to the shortest.
func newWheel(intervals ...time.Duration) *wheel {
	shortest, longest := intervals[0], intervals[0]
	for _, d := range intervals {
		shortest, longest = min(shortest, d), max(longest, d)
	}
	tick := max(shortest/10, time.Millisecond)
	return &wheel{tick: tick, slots: make([]*Conn, int(longest/tick)+2), stop: make(chan struct{}), done: make(chan struct{})}
}

// add schedules c's duty after d; c must not be in the wheel.
func (w *wheel) add(c *Conn, duty uint8, d time.Duration) {
	ticks := max(int((d+w.tick-1)/w.tick), 1)
	w.mu.Lock()
	defer w.mu.Unlock()
	if c.wslot >= 0 {
		return // scheduled already
	}
	s := (w.pos + ticks - 1) % len(w.slots)
	c.wduty, c.wslot = duty, s
	c.wprev, c.wnext = nil, w.slots[s]
	if c.wnext != nil {
		c.wnext.wprev = c
	}
	w.slots[s] = c
}

// remove takes c out of the wheel, if it is in.
func (w *wheel) remove(c *Conn) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if c.wslot < 0 {
		return
	}
	if c.wprev != nil {
		c.wprev.wnext = c.wnext
	} else {
		w.slots[c.wslot] = c.wnext
	}
	if c.wnext != nil {
		c.wnext.wprev = c.wprev
	}
	c.wprev, c.wnext, c.wslot = nil, nil, -1
}

// run turns the wheel until stop is closed; due receives the streams of
// each tick with their duty.
func (w *wheel) run(due func([]*Conn, []uint8)) {
	defer close(w.done)
	t := time.NewTicker(w.tick)
	defer t.Stop()
	var conns []*Conn
	var duties []uint8
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
		}
		conns, duties = conns[:0], duties[:0]
		w.mu.Lock()
		for c := w.slots[w.pos]; c != nil; {
			next := c.wnext
			conns, duties = append(conns, c), append(duties, c.wduty)
			c.wprev, c.wnext, c.wslot = nil, nil, -1
			c = next
		}
		w.slots[w.pos] = nil
		w.pos = (w.pos + 1) % len(w.slots)
		w.mu.Unlock()
		if len(conns) > 0 {
			due(conns, duties)
		}
		clear(conns)
	}
}
