package realtime

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"
)

// wsPair returns the server and client ends of a real WebSocket.
func wsPair(t *testing.T) (server, client *websocket.Conn) {
	t.Helper()
	got := make(chan *websocket.Conn, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			t.Error(err)
			return
		}
		got <- c
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	client, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.CloseNow() })
	return <-got, client
}

func testConn(t *testing.T, limit int) (*Conn, *websocket.Conn) {
	server, client := wsPair(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	h := &Hub{slowClosed: prometheus.NewCounter(prometheus.CounterOpts{Name: "x"})}
	return &Conn{hub: h, ws: server, ctx: ctx, cancel: cancel, wake: make(chan struct{}, 1), limit: limit, wsClosed: make(chan struct{})}, client
}

func TestQueueKeepsOrderAndWakesOnce(t *testing.T) {
	c, _ := testConn(t, 10)
	for i := int64(1); i <= 3; i++ {
		c.offer(item{seq: i})
	}
	select {
	case <-c.wake:
	default:
		t.Fatal("offer did not signal the writer")
	}
	select {
	case <-c.wake:
		t.Fatal("three offers signalled more than once")
	default:
	}
	got := c.take()
	if len(got) != 3 || got[0].seq != 1 || got[2].seq != 3 {
		t.Errorf("take = %+v, want seqs 1, 2, 3", got)
	}
	if len(c.take()) != 0 {
		t.Error("the queue was not emptied")
	}
}

// TestSlowConsumerIsDisconnected fills a device's queue past its limit:
// the device is closed with code 4008 and a reason telling it to resume.
func TestSlowConsumerIsDisconnected(t *testing.T) {
	c, client := testConn(t, 2)
	for i := int64(1); i <= 3; i++ {
		c.offer(item{seq: i})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _, err := client.Read(ctx)
	var ce websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != statusTooSlow || !strings.Contains(ce.Reason, "since=") {
		t.Errorf("client read %v, want close 4008 telling it to reconnect with since=", err)
	}
	// The close frame went first; the device's loops end after it.
	select {
	case <-c.ctx.Done():
	case <-ctx.Done():
		t.Error("the connection's context is still live after the overflow")
	}
	// Later offers are ignored, not queued.
	c.offer(item{seq: 4})
	if len(c.take()) != 0 {
		t.Error("frames were queued on a closed connection")
	}
}
