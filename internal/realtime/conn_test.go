package realtime

import (
	"context"
	"testing"

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
