package bus

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
)

// WithRegisterer registers the bus's metrics with reg: disconnects,
// reconnects, dropped events and, on NATS, the delay from publish to
// receipt, measured on a sample of events (see WithRequestID). Without it
// the bus keeps no metrics and sends no headers.
func WithRegisterer(reg prometheus.Registerer) Option {
	return func(o *options) { o.reg = reg }
}

// WithRequestID returns a context that names the request (an HTTP
// request ID) that caused the events published with it. On NATS with
// metrics (WithRegisterer), the first event published with each ID
// carries it beside the event, in a header that handlers never see, so
// devices never get it; a receiving node names it when that event
// arrives late. The local bus has nowhere to carry it and no need:
// sender and receiver share one log.
func WithRequestID(ctx context.Context, id string) context.Context {
	if id == "" {
		return ctx
	}
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request ID WithRequestID put in ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

type requestIDKey struct{}

// NATS header names. Headers travel beside an event's data: handlers get
// the data alone, and nodes that do not read a header ignore it.
const (
	headerRequestID = "Plaza-Request-Id"
	// headerSent is the publishing node's clock, in Unix microseconds.
	headerSent = "Plaza-Sent"
)

// lateEvent is the publish-to-receipt delay past which a receiving node
// logs the event's request ID; lateLogEvery bounds those log lines.
const (
	lateEvent    = 2 * time.Second
	lateLogEvery = time.Second
	// stampEvery spaces the events sampled for their lag without a new
	// request ID: at most 100 a second per publishing node.
	stampEvery = 10 * time.Millisecond
)

// metrics are a bus's counters; a nil *metrics counts nothing.
type metrics struct {
	disconnects, reconnects, dropped prometheus.Counter
	lag                              prometheus.Histogram

	// lastLate is when (Unix nanoseconds) a late event was last logged;
	// lastStamp when an event was last sampled for its lag, lastID the
	// request ID last carried (see header).
	lastLate, lastStamp atomic.Int64
	lastID              atomic.Pointer[string]
	every               time.Duration // stampEvery; tests change it
	// seen is the drop count last seen per NATS subscription: NATS
	// reports a slow consumer once per episode, with a running total.
	seenMu sync.Mutex
	seen   map[*nats.Subscription]int
}

func newMetrics(reg prometheus.Registerer) *metrics {
	if reg == nil {
		return nil
	}
	m := &metrics{
		disconnects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "plaza_bus_disconnects_total",
			Help: "Times this node lost its NATS connection (events published meanwhile do not reach it). Always 0 on the local bus.",
		}),
		reconnects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "plaza_bus_reconnects_total",
			Help: "Times this node got its NATS connection back. Always 0 on the local bus.",
		}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "plaza_bus_dropped_total",
			Help: "Events dropped because a subscription fell behind (devices get them back by syncing). On NATS counted when the client reports a slow consumer.",
		}),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "plaza_bus_lag_seconds",
			Help:    "Delay from publish on one node to receipt on this one, on a sample of events (up to about 100 a second per publishing node, plus the first event of each HTTP request), from the publisher's clock: it includes clock skew between nodes. NATS only; empty on the local bus.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
		seen:  map[*nats.Subscription]int{},
		every: stampEvery,
	}
	reg.MustRegister(m.disconnects, m.reconnects, m.dropped, m.lag)
	return m
}

func (m *metrics) disconnected() {
	if m != nil {
		m.disconnects.Inc()
	}
}

func (m *metrics) reconnected() {
	if m != nil {
		m.reconnects.Inc()
	}
}

// drop counts n dropped events.
func (m *metrics) drop(n int) {
	if m != nil && n > 0 {
		m.dropped.Add(float64(n))
	}
}

// natsDropped counts the drops of sub since its last report.
func (m *metrics) natsDropped(sub *nats.Subscription, total int) {
	if m == nil {
		return
	}
	m.seenMu.Lock()
	n := total - m.seen[sub]
	m.seen[sub] = total
	m.seenMu.Unlock()
	m.drop(n)
}

// forget drops what natsDropped remembers of an ended subscription.
func (m *metrics) forget(sub *nats.Subscription) {
	if m == nil {
		return
	}
	m.seenMu.Lock()
	delete(m.seen, sub)
	m.seenMu.Unlock()
}

// header returns the headers of an event published with ctx, or nil to
// send it bare. Headers cost the client library a dozen allocations and
// several times the time of a bare publish, on both ends, so only a
// sample of events carries them: the first event published with each
// request ID (a send fans out to every member: its first event stands
// for it), and otherwise one event per stampEvery. A sampled event
// carries the time and the request ID, if any: the receiver measures the
// lag, and names the request if the event came late. Without metrics,
// no event does.
func (m *metrics) header(ctx context.Context) nats.Header {
	if m == nil {
		return nil
	}
	id := RequestID(ctx)
	now := time.Now().UnixNano()
	newID := false
	if id != "" {
		if last := m.lastID.Load(); last == nil || *last != id {
			p := new(string) // only here: &id would move every id to the heap
			*p = id
			newID = m.lastID.CompareAndSwap(last, p)
		}
	}
	if newID {
		m.lastStamp.Store(now)
	} else {
		last := m.lastStamp.Load()
		if now-last < int64(m.every) || !m.lastStamp.CompareAndSwap(last, now) {
			return nil
		}
	}
	h := nats.Header{headerSent: []string{strconv.FormatInt(now/1e3, 10)}}
	if id != "" {
		h[headerRequestID] = []string{id}
	}
	return h
}

// received observes the delay of an event that carries its publish
// time, and logs the request ID of one that arrived late.
func (m *metrics) received(msg *nats.Msg, log *slog.Logger) {
	if m == nil || msg.Header == nil {
		return
	}
	v := msg.Header.Get(headerSent)
	if v == "" {
		return
	}
	us, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return
	}
	now := time.Now()
	lag := now.Sub(time.UnixMicro(us))
	if lag < 0 {
		lag = 0 // the publisher's clock is ahead of ours
	}
	m.lag.Observe(lag.Seconds())
	if lag < lateEvent {
		return
	}
	last := m.lastLate.Load()
	if now.UnixNano()-last < int64(lateLogEvery) || !m.lastLate.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	log.Warn("bus: event arrived late", "subject", msg.Subject, "lag", lag.Round(time.Millisecond), "request_id", msg.Header.Get(headerRequestID))
}
