package realtime

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// TestDrainDue: the streams' closes are spread evenly over the window,
// the first at once; no window closes them all at once.
func TestDrainDue(t *testing.T) {
	for _, tc := range []struct {
		elapsed, window time.Duration
		n, want         int
	}{
		{0, 10 * time.Second, 10, 1},
		{999 * time.Millisecond, 10 * time.Second, 10, 1},
		{time.Second, 10 * time.Second, 10, 2},
		{5 * time.Second, 10 * time.Second, 10, 6},
		{9 * time.Second, 10 * time.Second, 10, 10},
		{11 * time.Second, 10 * time.Second, 10, 10},
		{0, 0, 7, 7},
		{0, 10 * time.Second, 1, 1},
		{9 * time.Second, 10 * time.Second, 3, 3},
		{3 * time.Second, 10 * time.Second, 3, 1},
		{4 * time.Second, 10 * time.Second, 3, 2},
	} {
		if got := drainDue(tc.elapsed, tc.window, tc.n); got != tc.want {
			t.Errorf("drainDue(%v, %v, %d) = %d, want %d", tc.elapsed, tc.window, tc.n, got, tc.want)
		}
	}
}

// closeCode reads until the stream ends and returns its close code and
// reason (-1 if it ended without a close frame).
func (d *device) closeCode() (websocket.StatusCode, string) {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	for {
		_, _, err := d.ws.Read(ctx)
		if err == nil {
			continue
		}
		var ce websocket.CloseError
		if !errors.As(err, &ce) {
			return -1, err.Error()
		}
		return ce.Code, ce.Reason
	}
}

// TestHubDrainSpreadsCloses: a drain over a window far longer than the
// test closes the first stream at once and holds the others back, one
// after another; when its context ends it closes the rest at once. Every
// device gets 1012 with the reason, on both transports, and each is
// counted.
func TestHubDrainSpreadsCloses(t *testing.T) {
	eachTransport(t, func(t *testing.T, cfg Config) {
		e := newHubEnv(t, sqldbtest.Open(t, sqldb.SQLite), cfg)
		const n = 4
		var devs []*device
		for range n {
			devs = append(devs, e.dial(e.account(), 1, ""))
		}
		ended := make(chan int, n)
		for i, d := range devs {
			go func() {
				code, reason := d.closeCode()
				if code != statusServiceRestart || reason != restartReason {
					t.Errorf("device %d: stream ended with %d %q, want %d %q", i, code, reason, statusServiceRestart, restartReason)
				}
				ended <- i
			}()
		}
		d := NewDrain(e.reg)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan int, 1)
		go func() { done <- e.hub.Drain(ctx, d, time.Hour) }()
		<-ended // the first goes at once
		eventually(t, "the first stream to detach", func() bool { return e.hub.Connections() == n-1 })
		if !d.Draining() {
			t.Error("Draining() = false during the drain, want true")
		}
		if got := e.hub.Connections(); got != n-1 {
			t.Errorf("streams open while the next is not due: got %d, want %d", got, n-1)
		}
		cancel()
		for range n - 1 {
			<-ended
		}
		if got := <-done; got != n {
			t.Errorf("Drain closed %d streams, want %d", got, n)
		}
		if got := gathered(t, e, "plaza_realtime_drain_closed_total"); got != n {
			t.Errorf("plaza_realtime_drain_closed_total = %v, want %d", got, n)
		}
		if got := gathered(t, e, "plaza_draining"); got != 1 {
			t.Errorf("plaza_draining = %v, want 1", got)
		}
	})
}

// TestHubDrainWithinWindow: a short window closes every stream with 1012
// and returns once the last is closed.
func TestHubDrainWithinWindow(t *testing.T) {
	eachTransport(t, func(t *testing.T, cfg Config) {
		e := newHubEnv(t, sqldbtest.Open(t, sqldb.SQLite), cfg)
		const n = 5
		var devs []*device
		for range n {
			devs = append(devs, e.dial(e.account(), 1, ""))
		}
		if got := e.hub.Drain(context.Background(), NewDrain(nil), 200*time.Millisecond); got != n {
			t.Errorf("Drain closed %d streams, want %d", got, n)
		}
		for i, d := range devs {
			if code, reason := d.closeCode(); code != statusServiceRestart || reason != restartReason {
				t.Errorf("device %d: stream ended with %d %q, want %d %q", i, code, reason, statusServiceRestart, restartReason)
			}
		}
		eventually(t, "every stream to detach", func() bool { return e.hub.Connections() == 0 })
	})
}

// gathered reads a counter or gauge from the hub's registry.
func gathered(t *testing.T, e *hubEnv, name string) float64 {
	t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			m := mf.GetMetric()[0]
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}
