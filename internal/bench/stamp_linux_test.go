package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/coder/websocket"
)

// TestArrivalIsStampedByTheKernel reads a message well after it reached
// the socket: it must count from its arrival (the kernel's receive time),
// not from when it was read, and the wait must show as the read lag.
func TestArrivalIsStampedByTheKernel(t *testing.T) {
	write := make(chan struct{})
	written := make(chan time.Time)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer ws.CloseNow()
		for range write {
			before := time.Now()
			if err := ws.Write(r.Context(), websocket.MessageText, []byte(`{"type":"hello"}`)); err != nil {
				return
			}
			written <- before
		}
	}))
	defer srv.Close()
	defer close(write)

	ws, err := dialWS(context.Background(), srv.URL, "t", "")
	if err != nil {
		t.Fatal(err)
	}
	defer ws.close()
	if ws.stamp == nil {
		t.Fatal("the connection's reads are not stamped: want SO_TIMESTAMPNS on Linux")
	}
	// read has the server write a message, waits, and reads it.
	read := func(wait time.Duration) (before, readStart, read, at time.Time) {
		t.Helper()
		write <- struct{}{}
		before = <-written
		time.Sleep(wait) // the message waits in the socket
		readStart = time.Now()
		if msg, err := ws.next(); err != nil || string(msg) != `{"type":"hello"}` {
			t.Fatalf("next: %q, %v", msg, err)
		}
		read = time.Now()
		return before, readStart, read, ws.arrived(read)
	}
	// The kernel turns its receive stamps on for the whole machine when
	// a first socket asks for them, in deferred work: until then a read
	// is stamped when it is made. Probe until stamps come from arrival.
	for deadline := time.Now().Add(5 * time.Second); ; {
		_, readStart, _, at := read(20 * time.Millisecond)
		if at.Before(readStart) {
			break
		}
		if time.Now().After(deadline) {
			t.Skip("the kernel stamps reads, not arrivals, here")
		}
	}
	before, readStart, readAt, at := read(200 * time.Millisecond)
	if at.Before(before) || at.After(readStart) {
		t.Fatalf("arrival %s: want between the write (%s) and the start of the read (%s)", at.Format(time.StampMicro), before.Format(time.StampMicro), readStart.Format(time.StampMicro))
	}
	if lag := readAt.Sub(at); lag < 200*time.Millisecond {
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
	s.last = now.Add(time.Second).UnixNano()
	if at := (&wsConn{stamp: s}).arrived(now); !at.Equal(now) {
		t.Errorf("stamp after the read: arrival %s, want the read's time %s", at, now)
	}
	s.last = now.Add(-time.Second).UnixNano()
	if at := (&wsConn{stamp: s}).arrived(now); !at.Equal(now.Add(-time.Second)) {
		t.Errorf("stamped: arrival %s, want %s", at, now.Add(-time.Second))
	}
}

// TestStampOf parses control data as the kernel lays it out, and refuses
// what is cut short or of another kind.
func TestStampOf(t *testing.T) {
	msg := func(level, typ int32, data []byte) []byte {
		b := make([]byte, syscall.CmsgSpace(len(data)))
		h := (*syscall.Cmsghdr)(unsafe.Pointer(&b[0]))
		h.Level, h.Type = level, typ
		h.SetLen(syscall.CmsgLen(len(data)))
		copy(b[syscall.CmsgLen(0):], data)
		return b
	}
	ts := syscall.NsecToTimespec(1_765_000_000_123_456_789)
	raw := unsafe.Slice((*byte)(unsafe.Pointer(&ts)), unsafe.Sizeof(ts))
	stamp := msg(syscall.SOL_SOCKET, syscall.SCM_TIMESTAMPNS, raw)
	other := msg(syscall.SOL_SOCKET, syscall.SCM_RIGHTS, []byte{1, 2, 3, 4})
	for _, c := range []struct {
		name string
		oob  []byte
		want int64
	}{
		{"the stamp", stamp, ts.Nano()},
		{"after another message", append(append([]byte(nil), other...), stamp...), ts.Nano()},
		{"none", nil, 0},
		{"another kind only", other, 0},
		{"cut short", stamp[:len(stamp)-4], 0},
		{"a header alone", stamp[:syscall.SizeofCmsghdr], 0},
	} {
		if got := stampOf(c.oob); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
}
