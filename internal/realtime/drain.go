package realtime

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"
)

// Close code and reason a device sees when the node restarts: reconnect
// at once (after a short random delay), to this node or another, and
// resume from the cursor.
const (
	statusServiceRestart = websocket.StatusServiceRestart // 1012
	restartReason        = "server restarting: reconnect with since=CURSOR"
)

// Drain is a node's draining state, shared by the HTTP layer (readiness
// answers 503 and new streams are refused from the moment it starts) and
// the hub (which closes the open streams). It starts once and never ends:
// a draining node is on its way out.
type Drain struct {
	on       atomic.Bool
	draining prometheus.Gauge
	closed   prometheus.Counter
}

// NewDrain returns a state that is not draining; reg receives its
// metrics (plaza_draining, plaza_realtime_drain_closed_total).
func NewDrain(reg prometheus.Registerer) *Drain {
	d := &Drain{
		draining: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "plaza_draining", Help: "1 while this node drains before shutting down, else 0.",
		}),
		closed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "plaza_realtime_drain_closed_total", Help: "Streams closed with 1012 while the node drained.",
		}),
	}
	if reg != nil {
		reg.MustRegister(d.draining, d.closed)
	}
	return d
}

// Start marks the node as draining.
func (d *Drain) Start() {
	d.on.Store(true)
	d.draining.Set(1)
}

// Draining reports whether the node drains.
func (d *Drain) Draining() bool { return d.on.Load() }

// Drain starts d and closes every open stream with 1012, spread evenly
// over window (0: all at once) so that their devices do not all
// reconnect, and replay their catch-up, at the same instant. If ctx ends
// first the rest are closed at once. It returns how many it closed.
// Streams still being set up when it starts are closed by a last sweep,
// or by Close.
func (h *Hub) Drain(ctx context.Context, d *Drain, window time.Duration) int {
	d.Start()
	all := h.openConns()
	start := time.Now()
	timer := time.NewTimer(window)
	defer timer.Stop()
	n := 0
	for n < len(all) {
		elapsed := time.Since(start)
		due := len(all)
		if ctx.Err() == nil {
			due = drainDue(elapsed, window, len(all))
		}
		for ; n < due; n++ {
			all[n].restart()
			d.closed.Inc()
		}
		if n == len(all) {
			break
		}
		next := time.Duration(int64(n) * int64(window) / int64(len(all)))
		timer.Reset(next - elapsed)
		select {
		case <-timer.C:
		case <-ctx.Done():
		}
	}
	// Streams that attached meanwhile (their request passed the HTTP
	// layer's check just before draining began).
	for _, c := range h.openConns() {
		c.restart()
		d.closed.Inc()
		n++
	}
	return n
}

// drainDue returns how many of n streams are due to close elapsed into
// a drain over window: the i-th (from 0) at i·window/n, so the first
// goes at once and the last a step before the window ends.
func drainDue(elapsed, window time.Duration, n int) int {
	if window <= 0 || elapsed >= window {
		return n
	}
	return min(n, int(int64(elapsed)*int64(n)/int64(window))+1)
}

// openConns returns the streams attached to the hub.
func (h *Hub) openConns() []*Conn {
	h.mu.Lock()
	defer h.mu.Unlock()
	var all []*Conn
	for _, ac := range h.accounts {
		for c := range ac.conns {
			if !c.ending.Load() {
				all = append(all, c)
			}
		}
	}
	return all
}

// restart closes the stream with 1012. On coder/websocket the close
// frame is written before the stream's context ends, since ending it
// first drops the connection without one (the device would see the
// connection fail, not the code that says to come back at once).
func (c *Conn) restart() {
	if _, std := c.t.(*stdTransport); !std {
		c.shutdown(statusServiceRestart, restartReason)
		return
	}
	c.once.Do(func() {
		c.ending.Store(true)
		c.t.close(statusServiceRestart, restartReason, false) // ends the context once closed
	})
}
