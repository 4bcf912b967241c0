package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestArrivalIsStampedByTheKernel reads a message well after it reached
// the socket: it must count from its arrival (the kernel's receive time),
// not from when it was read, and the wait must show as the read lag.
func TestArrivalIsStampedByTheKernel(t *testing.T) {
	written := make(chan time.Time, 1)
	write := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer ws.CloseNow()
		<-write
		before := time.Now()
		if err := ws.Write(r.Context(), websocket.MessageText, []byte(`{"type":"hello"}`)); err != nil {
			return
		}
		written <- before
		_, _, _ = ws.Read(r.Context()) // until the client goes
	}))
	defer srv.Close()

	ws, err := dialWS(context.Background(), srv.URL, "t", "")
	if err != nil {
		t.Fatal(err)
	}
	defer ws.close()
	if ws.stamp == nil {
		t.Fatal("the connection's reads are not stamped: want SO_TIMESTAMPNS on Linux")
	}
	// The kernel turns its receive stamps on for the whole machine when a
	// first socket asks for them, in deferred work: until then a stamp is
	// the time of the read. A run's first frames come after its devices
	// connect, by then long after.
	time.Sleep(100 * time.Millisecond)
	close(write)
	before := <-written
	// The message is in the socket once the write returned; read it
	// later, as a generator short of a core would.
	time.Sleep(200 * time.Millisecond)
	readStart := time.Now()
	msg, err := ws.next()
	if err != nil || string(msg) != `{"type":"hello"}` {
		t.Fatalf("next: %q, %v", msg, err)
	}
	read := time.Now()
	at := ws.arrived(read)
	if at.Before(before) || at.After(readStart) {
		t.Fatalf("arrival %s: want between the write (%s) and the start of the read (%s)", at.Format(time.StampMicro), before.Format(time.StampMicro), readStart.Format(time.StampMicro))
	}
	if lag := read.Sub(at); lag < 200*time.Millisecond {
		t.Errorf("read lag %s: want at least the 200ms the message waited", lag)
	}
}

// TestArrivalFallsBackToTheRead covers a connection without stamps, and
// a stamp later than the read (a clock step), which is not used.
func TestArrivalFallsBackToTheRead(t *testing.T) {
	now := time.Now()
	if at := (&wsConn{}).arrived(now); !at.Equal(now) {
		t.Errorf("unstamped: arrival %s, want the read's time %s", at, now)
	}
	s := &stampedReader{}
	s.last.Store(now.Add(time.Second).UnixNano())
	if at := (&wsConn{stamp: s}).arrived(now); !at.Equal(now) {
		t.Errorf("stamp after the read: arrival %s, want the read's time %s", at, now)
	}
	s.last.Store(now.Add(-time.Second).UnixNano())
	if at := (&wsConn{stamp: s}).arrived(now); !at.Equal(now.Add(-time.Second)) {
		t.Errorf("stamped: arrival %s, want %s", at, now.Add(-time.Second))
	}
}
