package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/events"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// onlyConn returns the one stream of acct on the hub.
func (e *hubEnv) onlyConn(acct plaza.ID) *Conn {
	e.t.Helper()
	e.hub.mu.Lock()
	defer e.hub.mu.Unlock()
	ac := e.hub.accounts[acct]
	if ac == nil || len(ac.conns) != 1 {
		e.t.Fatalf("want one stream of %s on the hub", acct)
	}
	for c := range ac.conns {
		return c
	}
	return nil
}

// TestHubTransportInUse: the configured transport serves the stream.
func TestHubTransportInUse(t *testing.T) {
	eachTransport(t, func(t *testing.T, cfg Config) {
		e := newHubEnv(t, sqldbtest.Open(t, sqldb.SQLite), cfg)
		a := e.account()
		e.dial(a, 1, "")
		got := fmt.Sprintf("%T", e.onlyConn(a).t)
		want := map[string]string{TransportNBIO: "*realtime.nbioConn", TransportStd: "*realtime.stdTransport"}[cfg.Transport]
		if got != want {
			t.Errorf("transport %s serves the stream with %s, want %s", cfg.Transport, got, want)
		}
	})
}

// TestHubFrameSizes: frames whose lengths take each of the three header
// forms arrive whole and in order, also when written together.
func TestHubFrameSizes(t *testing.T) {
	eachTransport(t, func(t *testing.T, cfg Config) {
		e := newHubEnv(t, sqldbtest.Open(t, sqldb.SQLite), cfg)
		a := e.account()
		d := e.dial(a, 1, "")
		var frames [][]byte
		for _, n := range []int{0, 60, 125, 126, 200, 65535, 65536, 100000} {
			frames = append(frames, events.Frame(events.Typing, 0, []byte(`"`+strings.Repeat("y", n)+`"`)))
		}
		// One write with all of them, then one by one.
		if err := e.onlyConn(a).writeFrames(frames); err != nil {
			t.Fatal(err)
		}
		for _, f := range frames {
			if err := e.onlyConn(a).writeFrames([][]byte{f}); err != nil {
				t.Fatal(err)
			}
		}
		for round := range 2 {
			for i, want := range frames {
				ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
				_, got, err := d.ws.Read(ctx)
				cancel()
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != string(want) {
					t.Fatalf("round %d, frame %d: got %d bytes, want %d", round, i, len(got), len(want))
				}
			}
		}
	})
}

// TestHubPingDropsSilentDevice: a device that reads keeps its stream
// across pings; one that stops reading does not answer the ping and is
// dropped.
func TestHubPingDropsSilentDevice(t *testing.T) {
	eachTransport(t, func(t *testing.T, cfg Config) {
		cfg.PingInterval, cfg.WriteTimeout = 100*time.Millisecond, 50*time.Millisecond
		e := newHubEnv(t, sqldbtest.Open(t, sqldb.SQLite), cfg)
		reading, silent := e.account(), e.account()
		d := e.dial(reading, 1, "")
		e.dial(silent, 2, "")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			for {
				if _, _, err := d.ws.Read(ctx); err != nil {
					return
				}
			}
		}()
		eventually(t, "the silent device to be dropped", func() bool {
			e.hub.mu.Lock()
			defer e.hub.mu.Unlock()
			return e.hub.accounts[silent] == nil
		})
		// Several pings went to the reading device meanwhile.
		time.Sleep(5 * cfg.PingInterval)
		if e.hub.Connections() != 1 {
			t.Errorf("%d streams left, want the reading device's", e.hub.Connections())
		}
	})
}

// TestHubStandingRecheckedAtPing: a session that ended without the news
// reaching the node is closed at a ping, with its code.
func TestHubStandingRecheckedAtPing(t *testing.T) {
	eachTransport(t, func(t *testing.T, cfg Config) {
		cfg.PingInterval, cfg.WriteTimeout = 100*time.Millisecond, 50*time.Millisecond
		e := newHubEnv(t, sqldbtest.Open(t, sqldb.SQLite), cfg)
		a := e.account()
		d := e.dial(a, 1, "")
		e.mu.Lock()
		e.standing[1] = plaza.Errorf(plaza.EUnauthenticated, "signed out")
		e.mu.Unlock()
		d.closedWith(StatusSessionEnded)
		eventually(t, "the stream to be detached", func() bool { return e.hub.Connections() == 0 })
	})
}

// TestHubFloodIsClosed: on the event loop a device's frames are read
// whatever the server's pace; one that sends far ahead of its acks is
// closed with a policy violation instead of filling memory.
func TestHubFloodIsClosed(t *testing.T) {
	e := newHubEnv(t, sqldbtest.Open(t, sqldb.SQLite), DefaultConfig())
	hold := make(chan struct{})
	e.hold = hold
	a := e.account()
	d := e.dial(a, 1, "")
	defer close(hold) // before the hub's Close, which waits for the commits
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	text := strings.Repeat("z", 8<<10)
	go func() {
		for i := 0; ; i++ {
			f := fmt.Sprintf(`{"type":"message.send","id":"F%d","data":{"conversation_id":"5","client_id":"c%d","kind":"text","text":"%s"}}`, i, i, text)
			if err := d.ws.Write(ctx, websocket.MessageText, []byte(f)); err != nil {
				return
			}
		}
	}()
	var err error
	for err == nil {
		_, _, err = d.ws.Read(ctx)
	}
	var ce websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.StatusPolicyViolation {
		t.Errorf("flooding device's stream ended with %v, want close %d", err, websocket.StatusPolicyViolation)
	}
}

// TestHubCloseEndsStreamsAndRefusesNew: Close tells every device the
// server restarts (1012, reconnect with since) and returns once their
// streams are gone; a stream asked for afterwards is refused before the
// upgrade.
func TestHubCloseEndsStreamsAndRefusesNew(t *testing.T) {
	eachTransport(t, func(t *testing.T, cfg Config) {
		e := newHubEnv(t, sqldbtest.Open(t, sqldb.SQLite), cfg)
		a := e.account()
		d := e.dial(a, 1, "")
		closed := make(chan struct{})
		go func() {
			defer close(closed)
			e.hub.Close()
		}()
		if code, reason := d.closeCode(); code != statusServiceRestart || reason != restartReason {
			t.Errorf("stream ended with %d %q, want %d %q", code, reason, statusServiceRestart, restartReason)
		}
		<-closed
		if n, c, _ := e.hub.bookkeeping(); n != 0 || c != 0 {
			t.Errorf("after Close the hub holds %d accounts, %d devices", n, c)
		}
		if _, err := e.tryDial(a, 2, ""); err == nil {
			t.Error("a stream opened after Close")
		}
	})
}

// TestHubFramesRightAfterTheHandshake: frames a device sends at once,
// before or as the handshake's answer arrives, are handled like any
// other. net/http may have read them already when the stream takes the
// connection over (it stops its own background read only after sending
// the 101), so they must not be dropped, nor the connection with them.
func TestHubFramesRightAfterTheHandshake(t *testing.T) {
	eachTransport(t, func(t *testing.T, cfg Config) {
		e := newHubEnv(t, sqldbtest.Open(t, sqldb.SQLite), cfg)
		// Sent with the request, the frames are sure to sit in
		// net/http's buffer at the takeover.
		var early []byte
		for _, id := range []string{"first", "second"} {
			early = append(early, rawFrame(0x81, []byte(`{"type":"nope","id":"`+id+`"}`), true)...)
		}
		d := e.rawDialWith(e.account(), 1, "", early)
		var ids []string
		for len(ids) < 2 {
			g, err := d.next(waitTimeout)
			if err != nil {
				t.Fatalf("after %v: %v", ids, err)
			}
			var got gotFrame
			if g.op == opText && json.Unmarshal(g.payload, &got) == nil && got.Type == "error" {
				ids = append(ids, got.ID)
			}
		}
		if ids[0] != "first" || ids[1] != "second" {
			t.Errorf("error replies for %v, want [first second]", ids)
		}
	})
}
