package realtime

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/prometheus/client_golang/prometheus"
)

// testConn returns a stream that has not caught up yet: offers queue
// frames and nothing writes them.
func testConn(t *testing.T, cfg Config) *Conn {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	h := &Hub{cfg: cfg, slowClosed: prometheus.NewCounter(prometheus.CounterOpts{Name: "x"})}
	return &Conn{hub: h, ctx: ctx, cancel: cancel, limit: cfg.QueueLen, wslot: -1}
}

func TestQueueKeepsOrder(t *testing.T) {
	c := testConn(t, DefaultConfig())
	for i := int64(1); i <= 3; i++ {
		c.offer(item{seq: i, frame: []byte("x")})
	}
	if c.flushing {
		t.Fatal("a stream that has not caught up started writing")
	}
	got := c.take()
	if len(got) != 3 || got[0].seq != 1 || got[2].seq != 3 {
		t.Errorf("take = %+v, want seqs 1, 2, 3", got)
	}
	if c.queuedBytes != 0 || len(c.take()) != 0 {
		t.Error("the queue was not emptied")
	}
}

// TestQueueBounds: a stream is too slow past QueueLen frames or
// QueueBytes bytes waiting, whichever comes first; then nothing more is
// queued.
func TestQueueBounds(t *testing.T) {
	for _, tc := range []struct {
		name       string
		len, bytes int
		frame      int
		wantQueued int
	}{
		{"frames", 2, 1 << 20, 10, 2},
		{"bytes", 100, 25, 10, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.QueueLen, cfg.QueueBytes = tc.len, tc.bytes
			c := testConn(t, cfg)
			c.once.Do(func() {}) // the close itself needs a transport: skip it
			for i := int64(1); i <= 5; i++ {
				if i == 3 && len(c.queue) != tc.wantQueued {
					t.Fatalf("%d frames queued before the bound, want %d", len(c.queue), tc.wantQueued)
				}
				c.offer(item{seq: i, frame: make([]byte, tc.frame)})
			}
			if !c.closed || len(c.queue) != 0 {
				t.Errorf("after the bound: closed %v with %d frames queued, want closed and none", c.closed, len(c.queue))
			}
		})
	}
}

// gatedTransport is a transport whose writes wait for gate, as the event
// loop's never do, so that a test can hold a flush in its write.
type gatedTransport struct {
	gate    chan struct{}
	mu      sync.Mutex
	writing int
	overlap bool
	wrote   []string
}

func (g *gatedTransport) write(frames [][]byte) error {
	g.mu.Lock()
	g.writing++
	g.overlap = g.overlap || g.writing > 1
	for _, f := range frames {
		g.wrote = append(g.wrote, string(f))
	}
	g.mu.Unlock()
	<-g.gate
	g.mu.Lock()
	g.writing--
	g.mu.Unlock()
	return nil
}

func (g *gatedTransport) queued() int                              { return 0 }
func (g *gatedTransport) nonBlocking() bool                        { return true }
func (g *gatedTransport) drain(int) error                          { return nil }
func (g *gatedTransport) ping()                                    {}
func (g *gatedTransport) close(websocket.StatusCode, string, bool) {}

func (g *gatedTransport) written() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return strings.Join(g.wrote, ",")
}

// TestOfferNowWaitsForTheFlush: a post written at once on the caller's
// goroutine must not overtake, or run beside, a flush already writing the
// device's frames; it queues behind them. With nothing waiting it is
// written at once, and what is offered meanwhile follows it.
func TestOfferNowWaitsForTheFlush(t *testing.T) {
	c := testConn(t, DefaultConfig())
	c.hub.frames = prometheus.NewCounter(prometheus.CounterOpts{Name: "y"})
	g := &gatedTransport{gate: make(chan struct{})}
	c.t, c.live = g, true
	c.refs.Store(1)
	idle := func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return !c.flushing
	}

	c.offer(item{frame: []byte("a")}) // a flush starts and holds in its write
	eventually(t, "a's write", func() bool { return g.written() == "a" })
	queued := make(chan struct{})
	go func() { c.offerNow([]byte("b")); close(queued) }()
	select {
	case <-queued: // queued behind a
	case <-time.After(waitTimeout):
		g.gate <- struct{}{} // let it return, and fail
	}
	if got := g.written(); got != "a" {
		t.Fatalf("written while a flush held its write: %s, want only a", got)
	}
	g.gate <- struct{}{} // a's write returns; the flush writes b
	eventually(t, "b's write", func() bool { return g.written() == "a,b" })
	g.gate <- struct{}{}
	eventually(t, "the flush to end", idle)

	// Nothing waits: b2 is written on the caller's goroutine, and c,
	// offered while that write runs, goes after it.
	done := make(chan struct{})
	go func() { c.offerNow([]byte("b2")); close(done) }()
	eventually(t, "b2's write", func() bool { return g.written() == "a,b,b2" })
	select {
	case <-done:
		t.Fatal("b2 was handed to a flush, not written by the caller")
	default:
	}
	c.offer(item{frame: []byte("c")})
	if got := g.written(); got != "a,b,b2" {
		t.Fatalf("c written beside b2: %s", got)
	}
	g.gate <- struct{}{}
	<-done
	eventually(t, "c's write", func() bool { return g.written() == "a,b,b2,c" })
	g.gate <- struct{}{}
	eventually(t, "the flush to end", idle)
	if g.overlap {
		t.Error("two writes ran at once")
	}
}

// TestOfferNowBehindQueuedFrames: frames queued while the stream caught
// up wait for the flush that going live starts; a post offered in that
// window goes after them, not before.
func TestOfferNowBehindQueuedFrames(t *testing.T) {
	c := testConn(t, DefaultConfig())
	c.hub.frames = prometheus.NewCounter(prometheus.CounterOpts{Name: "y"})
	g := &gatedTransport{gate: make(chan struct{}, 4)}
	c.t = g
	c.refs.Store(1)
	c.offer(item{seq: 1, frame: []byte("q")}) // catching up: queued
	c.mu.Lock()
	c.live = true // as Serve does, before its kick
	c.mu.Unlock()
	g.gate <- struct{}{} // writes return at once
	g.gate <- struct{}{}
	c.offerNow([]byte("p"))
	c.kick()
	eventually(t, "both written", func() bool { return strings.Count(g.written(), ",") == 1 })
	if got := g.written(); got != "q,p" {
		t.Errorf("written %s, want q then p", got)
	}
}
