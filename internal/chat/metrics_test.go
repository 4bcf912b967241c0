package chat

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/bus"
	"github.com/plaza-im/plaza/internal/plazatest"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
	"github.com/prometheus/client_golang/prometheus"
)

// TestWriterMetrics holds the single writer (a transaction keeps the
// SQLite write connection) and checks that the queue gauge counts the
// sends waiting for it, then that every send, batch and transaction is
// observed once the writer goes on.
func TestWriterMetrics(t *testing.T) {
	db := sqldbtest.Open(t, sqldb.SQLite)
	e := newEnv(t, db, withChat(func(c *Config) { c.MaxBatch = 1 })) // one send per batch: the queue is exact
	reg := prometheus.NewRegistry()
	reg.MustRegister(e.svc.Collectors()...)
	a, b := e.account(t, "alice"), e.account(t, "bob")
	conv := e.direct(t, a, b)
	for _, name := range []string{"plaza_chat_send_seconds_count", "plaza_chat_commit_batch_size_count", "plaza_chat_writer_queue"} {
		if got := plazatest.MetricValue(t, reg, name); got != 0 {
			t.Fatalf("before any send: %s = %v, want 0", name, got)
		}
	}
	// Creating the conversation appended events that the log publishes on
	// its own goroutine: the gauge counts them until the publisher has
	// handed them to the bus, and must come back to 0.
	plazatest.Eventually(t, waitTimeout, func() error {
		if got := plazatest.MetricValue(t, reg, "plaza_events_publish_queue"); got != 0 {
			return fmt.Errorf("before any send: plaza_events_publish_queue = %v, want 0", got)
		}
		return nil
	})

	held, release := make(chan struct{}), make(chan struct{})
	holder := make(chan error, 1)
	go func() {
		holder <- db.InTx(context.Background(), func(*sql.Tx) error {
			close(held)
			<-release
			return nil
		})
	}()
	<-held
	const n = 4
	queued := make([]*QueuedSend, n)
	for i := range queued {
		q, err := e.svc.Queue(context.Background(), a, SendInput{ConversationID: conv.ID, ClientID: fmt.Sprint("m", i), Kind: KindText, Text: "hi"})
		mustNil(t, err, "queue a send")
		queued[i] = q
	}
	// The writer took the first send and waits for the connection; the
	// others wait for the writer.
	plazatest.Eventually(t, waitTimeout, func() error {
		if got := plazatest.MetricValue(t, reg, "plaza_chat_writer_queue"); got != n-1 {
			return fmt.Errorf("writer queue: got %v, want %d", got, n-1)
		}
		return nil
	})
	close(release)
	mustNil(t, <-holder, "the holding transaction")
	for _, q := range queued {
		_, _, err := q.Wait()
		mustNil(t, err, "send")
	}
	for _, c := range []struct {
		series string
		want   float64
	}{
		{"plaza_chat_writer_queue", 0},
		{"plaza_chat_send_seconds_count", n},
		{"plaza_chat_commit_batch_size_count", n},
		{"plaza_chat_commit_batch_size_sum", n},
		{"plaza_chat_commit_seconds_count", n},
	} {
		if got := plazatest.MetricValue(t, reg, c.series); got != c.want {
			t.Errorf("%s: got %v, want %v", c.series, got, c.want)
		}
	}
}

// requestBus records the request ID of each event published.
type requestBus struct {
	bus.Bus
	mu  sync.Mutex
	ids map[string][]string // by subject
}

func (b *requestBus) Publish(ctx context.Context, subject string, data []byte) error {
	b.mu.Lock()
	b.ids[subject] = append(b.ids[subject], bus.RequestID(ctx))
	b.mu.Unlock()
	return b.Bus.Publish(ctx, subject, data)
}

// TestSendCarriesRequestID checks that the events of a send carry the
// request ID of the context it was sent with, to every member, and that
// the sending node logs it with the message at debug level.
func TestSendCarriesRequestID(t *testing.T) {
	db := sqldbtest.Open(t, sqldb.SQLite)
	e := newEnv(t, db)
	rb := &requestBus{Bus: e.bus, ids: map[string][]string{}}
	var logs bytes.Buffer
	var logMu sync.Mutex
	log := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		logMu.Lock()
		defer logMu.Unlock()
		return logs.Write(p)
	}), &slog.HandlerOptions{Level: slog.LevelDebug}))
	svc, err := NewService(context.Background(), db, rb, e.accounts, e.ids, DefaultConfig(), log)
	mustNil(t, err, "service")
	t.Cleanup(svc.Close)
	a, b := e.account(t, "alice"), e.account(t, "bob")
	conv := e.direct(t, a, b)

	ctx := bus.WithRequestID(context.Background(), "req-7")
	m, _, err := svc.Send(ctx, a, SendInput{ConversationID: conv.ID, ClientID: "c1", Kind: KindText, Text: "hi"})
	mustNil(t, err, "send")
	svc.Close() // publishes what waits
	rb.mu.Lock()
	defer rb.mu.Unlock()
	for _, who := range []plaza.ID{a, b} {
		subject := "acct." + who.String()
		if got := strings.Join(rb.ids[subject], ","); got != "req-7" {
			t.Errorf("events on %s: got request IDs %q, want req-7", subject, got)
		}
	}
	logMu.Lock()
	defer logMu.Unlock()
	if l := logs.String(); !strings.Contains(l, "request_id=req-7 message_id="+m.ID.String()) {
		t.Errorf("log: got %q, want the request ID with the message ID", l)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
