package events

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plaza-im/plaza/internal/bus"
	"github.com/plaza-im/plaza/internal/plazatest"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
	"github.com/prometheus/client_golang/prometheus"
)

// requestBus records the request ID each event was published with.
type requestBus struct {
	bus.Bus
	mu  sync.Mutex
	ids []string
}

func (b *requestBus) Publish(ctx context.Context, subject string, data []byte) error {
	b.mu.Lock()
	b.ids = append(b.ids, bus.RequestID(ctx))
	b.mu.Unlock()
	return b.Bus.Publish(ctx, subject, data)
}

// TestPublishQueueGauge stalls the bus and checks that
// plaza_events_publish_queue counts the events waiting for it, then
// falls back to zero; and that each event goes out with its request ID.
func TestPublishQueueGauge(t *testing.T) {
	db := sqldbtest.Open(t, sqldb.SQLite)
	local := bus.NewLocal("t")
	defer local.Close()
	b := &requestBus{Bus: local}
	l, err := NewLog(context.Background(), db, b, LogConfig{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	reg := prometheus.NewRegistry()
	reg.MustRegister(l.Collectors()...)

	release := make(chan struct{})
	held := make(chan struct{})
	var once sync.Once
	// An Inline handler runs on the publisher's goroutine: blocking it
	// stalls the publisher, as a stuck bus would.
	if _, err := local.Subscribe(AccountSubject(5), func([]byte) {
		once.Do(func() { close(held); <-release })
	}, bus.Inline()); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	l.Publish(ctx, []Pending{{Account: 5, Seq: 1, Frame: []byte(`{}`), RequestID: "r1"}, {Account: 5, Seq: 2, Frame: []byte(`{}`), RequestID: "r1"}})
	<-held
	l.Publish(ctx, []Pending{{Account: 5, Seq: 3, Frame: []byte(`{}`), RequestID: "r2"}, {Account: 5, Seq: 4, Frame: []byte(`{}`)}})
	l.Publish(ctx, []Pending{{Account: 5, Seq: 5, Frame: []byte(`{}`), RequestID: "r3"}})
	if got := plazatest.MetricValue(t, reg, "plaza_events_publish_queue"); got != 5 {
		t.Errorf("with the bus stalled: got %v waiting, want 5", got)
	}
	close(release)
	deadline := time.Now().Add(10 * time.Second)
	for plazatest.MetricValue(t, reg, "plaza_events_publish_queue") != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the queue did not drain: %v waiting", plazatest.MetricValue(t, reg, "plaza_events_publish_queue"))
		}
		time.Sleep(5 * time.Millisecond)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if got, want := strings.Join(b.ids, ","), "r1,r1,r2,,r3"; got != want {
		t.Errorf("request IDs on the bus: got %q, want %q", got, want)
	}
}
