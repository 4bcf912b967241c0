package bus

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/plaza-im/plaza/internal/plazatest"
	"github.com/prometheus/client_golang/prometheus"
)

// eventually polls cond until it holds or the test's patience ends.
func eventually(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestLocalCountsDrops(t *testing.T) {
	reg := prometheus.NewRegistry()
	l := NewLocal("test", WithLogger(slog.New(slog.DiscardHandler)), WithRegisterer(reg))
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	_, err := l.Subscribe("s", func([]byte) {
		select {
		case started <- struct{}{}:
			<-release // only the first event blocks
		default:
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	if got := plazatest.MetricValue(t, reg, "plaza_bus_dropped_total"); got != 0 {
		t.Fatalf("before: got %v dropped, want 0", got)
	}
	ctx := context.Background()
	_ = l.Publish(ctx, "s", []byte("first"))
	<-started // the handler now holds the first event
	const over = 5
	for i := 0; i < localPendingLimit+over; i++ {
		_ = l.Publish(ctx, "s", []byte("x"))
	}
	close(release)
	if got := plazatest.MetricValue(t, reg, "plaza_bus_dropped_total"); got != over {
		t.Errorf("got %v dropped, want %d", got, over)
	}
	if got := plazatest.MetricValue(t, reg, "plaza_bus_disconnects_total"); got != 0 {
		t.Errorf("local bus: got %v disconnects, want 0", got)
	}
}

// natsTestURL returns the NATS server to test against, or skips.
func natsTestURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv("PLAZA_TEST_NATS")
	if u == "" {
		tb.Skip("NATS tests need a server: run with PLAZA_TEST_NATS=nats://127.0.0.1:4222")
	}
	return u
}

// syncBuffer is a log destination safe for the bus's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func openTestNATS(tb testing.TB, url, prefix string, opts ...Option) *NATS {
	tb.Helper()
	b, err := OpenNATS(url, prefix, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = b.Close() })
	return b
}

// TestNATSCarriesRequestIDAndLag checks that the first event published
// with a request ID carries it and its publish time in headers, and the
// next with the same ID does not (the time sample aside); that the
// receiving node measures the lag (plain and inline subscriptions); and
// that it logs the request ID of an event that arrived late.
func TestNATSCarriesRequestIDAndLag(t *testing.T) {
	url := natsTestURL(t)
	prefix := "plazatest_metrics_" + strconv.FormatInt(time.Now().UnixNano(), 36)
	pubReg, subReg := prometheus.NewRegistry(), prometheus.NewRegistry()
	var logs syncBuffer
	quiet := WithLogger(slog.New(slog.DiscardHandler))
	pub := openTestNATS(t, url, prefix, quiet, WithRegisterer(pubReg))
	pub.m.every = time.Hour // no event is sampled for the time alone
	sub := openTestNATS(t, url, prefix, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))), WithRegisterer(subReg))

	got := make(chan string, 16)
	for _, s := range []struct {
		subject string
		opts    []SubscribeOption
	}{{"plain", nil}, {"inline", []SubscribeOption{Inline()}}} {
		if _, err := sub.Subscribe(s.subject, func(d []byte) { got <- string(d) }, s.opts...); err != nil {
			t.Fatal(err)
		}
	}
	headers := make(chan nats.Header, 2)
	raw, err := sub.nc.Subscribe(prefix+".plain", func(m *nats.Msg) { headers <- m.Header })
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = raw.Unsubscribe() }()
	if err := sub.nc.Flush(); err != nil {
		t.Fatal(err)
	}

	bg := context.Background()
	for _, p := range []struct{ id, subject string }{{"req-42", "plain"}, {"req-43", "inline"}, {"req-43", "plain"}} {
		if err := pub.Publish(WithRequestID(bg, p.id), p.subject, []byte(p.subject)); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		select {
		case <-got:
		case <-time.After(15 * time.Second):
			t.Fatal("an event did not arrive")
		}
	}
	h := <-headers
	if id := h.Get(headerRequestID); id != "req-42" {
		t.Errorf("header %s: got %q, want req-42", headerRequestID, id)
	}
	if _, err := strconv.ParseInt(h.Get(headerSent), 10, 64); err != nil {
		t.Errorf("header %s: got %q, want Unix microseconds", headerSent, h.Get(headerSent))
	}
	if h := <-headers; h != nil {
		t.Errorf("the second event of req-43: got headers %v, want none", h)
	}
	if n := plazatest.MetricValue(t, subReg, "plaza_bus_lag_seconds_count"); n != 2 {
		t.Errorf("receiver: got %v lag observations, want 2", n)
	}

	// An event published five seconds ago, by the publisher's clock.
	late := nats.NewMsg(prefix + ".inline")
	late.Data = []byte("late")
	late.Header.Set(headerSent, strconv.FormatInt(time.Now().Add(-5*time.Second).UnixMicro(), 10))
	late.Header.Set(headerRequestID, "req-late")
	if err := pub.nc.PublishMsg(late); err != nil {
		t.Fatal(err)
	}
	<-got
	if n := plazatest.MetricValue(t, subReg, `plaza_bus_lag_seconds_bucket{le="2.5"}`); n != 2 {
		t.Errorf("receiver: got %v events within 2.5 s, want 2 (the late one is not)", n)
	}
	if l := logs.String(); !strings.Contains(l, "event arrived late") || !strings.Contains(l, "request_id=req-late") {
		t.Errorf("receiver's log: got %q, want the late event's request ID", l)
	}
}

// TestNATSCountsDisconnects cuts the connection to NATS (through a proxy
// the test controls) and checks the disconnect and the reconnect are
// counted.
func TestNATSCountsDisconnects(t *testing.T) {
	url := natsTestURL(t)
	target := strings.TrimPrefix(strings.Split(url, ",")[0], "nats://")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, s)
			mu.Unlock()
			go func() { _, _ = io.Copy(s, c); s.Close() }()
			go func() { _, _ = io.Copy(c, s); c.Close() }()
		}
	}()
	cut := func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
		conns = nil
	}
	defer cut()

	reg := prometheus.NewRegistry()
	openTestNATS(t, "nats://"+ln.Addr().String(), "plazatest_disc", WithLogger(slog.New(slog.DiscardHandler)), WithRegisterer(reg))
	if got := plazatest.MetricValue(t, reg, "plaza_bus_disconnects_total"); got != 0 {
		t.Fatalf("before: got %v disconnects, want 0", got)
	}
	cut()
	eventually(t, "the disconnect to be counted", func() bool { return plazatest.MetricValue(t, reg, "plaza_bus_disconnects_total") == 1 })
	eventually(t, "the reconnect to be counted", func() bool { return plazatest.MetricValue(t, reg, "plaza_bus_reconnects_total") == 1 })
}
