package realtime

import (
	"bufio"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// rawDevice is a hand-written WebSocket client that sends whatever bytes
// a test gives it, so the tests can break the protocol.
type rawDevice struct {
	t  *testing.T
	nc net.Conn
	br *bufio.Reader
}

func (e *hubEnv) rawDial(acct, session plaza.ID, since string) *rawDevice {
	e.t.Helper()
	return e.rawDialWith(acct, session, since, nil)
}

// rawDialWith is rawDial sending early, frames, in the same write as the
// handshake's request.
func (e *hubEnv) rawDialWith(acct, session plaza.ID, since string, early []byte) *rawDevice {
	e.t.Helper()
	nc, err := net.Dial("tcp", strings.TrimPrefix(e.srv.URL, "http://"))
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { nc.Close() })
	req := fmt.Appendf(nil, "GET /?account=%d&session=%d&since=%s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", acct, session, since)
	if _, err := nc.Write(append(req, early...)); err != nil {
		e.t.Fatal(err)
	}
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		e.t.Fatalf("handshake: %s", resp.Status)
	}
	return &rawDevice{t: e.t, nc: nc, br: br}
}

// rawFrame builds a client frame: first byte b0 (FIN, RSV, opcode),
// masked if masked.
func rawFrame(b0 byte, payload []byte, masked bool) []byte {
	b := []byte{b0}
	mbit := byte(0)
	if masked {
		mbit = 0x80
	}
	n := len(payload)
	switch {
	case n < 126:
		b = append(b, mbit|byte(n))
	case n <= 0xFFFF:
		b = binary.BigEndian.AppendUint16(append(b, mbit|126), uint16(n))
	default:
		b = binary.BigEndian.AppendUint64(append(b, mbit|127), uint64(n))
	}
	if !masked {
		return append(b, payload...)
	}
	var key [4]byte
	_, _ = rand.Read(key[:])
	b = append(b, key[:]...)
	for i, c := range payload {
		b = append(b, c^key[i%4])
	}
	return b
}

type rawGot struct {
	op      byte
	payload []byte
}

// next reads one server frame, or returns an error (io.EOF when the
// server closed the connection).
func (d *rawDevice) next(timeout time.Duration) (rawGot, error) {
	_ = d.nc.SetReadDeadline(time.Now().Add(timeout))
	var h [2]byte
	if _, err := io.ReadFull(d.br, h[:]); err != nil {
		return rawGot{}, err
	}
	n := int64(h[1] & 0x7F)
	switch n {
	case 126:
		var l [2]byte
		if _, err := io.ReadFull(d.br, l[:]); err != nil {
			return rawGot{}, err
		}
		n = int64(binary.BigEndian.Uint16(l[:]))
	case 127:
		var l [8]byte
		if _, err := io.ReadFull(d.br, l[:]); err != nil {
			return rawGot{}, err
		}
		n = int64(binary.BigEndian.Uint64(l[:]))
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(d.br, p); err != nil {
		return rawGot{}, err
	}
	return rawGot{op: h[0] & 0x0F, payload: p}, nil
}

// readyUp reads up to the ready frame.
func (d *rawDevice) readyUp() {
	for {
		g, err := d.next(waitTimeout)
		if err != nil {
			d.t.Fatal(err)
		}
		if g.op == opText && strings.Contains(string(g.payload), `"ready"`) {
			return
		}
	}
}

// TestHubProtocolViolationsClosed: a frame that breaks RFC 6455 ends the
// stream on the event loop with a close frame that says why (1002, or
// 1009 for a message over the read limit). An unmasked frame was once
// handled, and a length with its top bit set or a fragment whose length
// overflows kept the connection open (the latter with a logged panic per
// read). coder/websocket (std) answers some of these differently and is
// left as it is.
func TestHubProtocolViolationsClosed(t *testing.T) {
	typing := []byte(`{"type":"typing","id":"t1","data":{"conversation_id":"1"}}`)
	cases := []struct {
		name  string
		bytes []byte
		code  int
	}{
		{"unmasked", rawFrame(0x81, typing, false), 1002},
		{"reserved bit", rawFrame(0xC1, typing, true), 1002},
		{"unknown opcode", rawFrame(0x83, typing, true), 1002},
		{"control frame over 125 bytes", rawFrame(0x89, make([]byte, 126), true), 1002},
		{"fragmented control frame", rawFrame(0x09, []byte("x"), true), 1002},
		{"continuation without a start", rawFrame(0x80, typing, true), 1002},
		{"interleaved messages", append(rawFrame(0x01, typing[:10], true), rawFrame(0x81, typing, true)...), 1002},
		{"length with the top bit set", []byte{0x81, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4, 'a'}, 1002},
		{"length past the limit", []byte{0x81, 0xFF, 0, 0, 0, 1, 0, 0, 0, 0, 1, 2, 3, 4, 'a'}, 1009},
		{"fragment whose length overflows", append(rawFrame(0x01, []byte("{"), true), 0x80, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3, 4, 'a'), 1009},
		{"close with a 1-byte body", rawFrame(0x88, []byte{3}, true), 1002},
		{"close with a bad code", rawFrame(0x88, []byte{0x03, 0xE7}, true), 1002},
	}
	e := newHubEnv(t, sqldbtest.Open(t, sqldb.SQLite), DefaultConfig())
	for _, tc := range cases {
		d := e.rawDial(e.account(), 1, "")
		d.readyUp()
		// Split byte by byte too, as a slow network would.
		for i := range tc.bytes {
			if _, err := d.nc.Write(tc.bytes[i : i+1]); err != nil {
				break
			}
		}
		if code := d.closeCode(); code != tc.code {
			t.Errorf("%s: the stream ended with close code %d, want %d", tc.name, code, tc.code)
		}
	}
	eventually(t, "every stream to end", func() bool { return e.hub.Connections() == 0 })
}

// closeCode reads until the server's close frame and returns its code (-1:
// the connection ended or stayed silent without one).
func (d *rawDevice) closeCode() int {
	for {
		g, err := d.next(waitTimeout)
		if err != nil {
			return -1
		}
		if g.op == opClose {
			if len(g.payload) < 2 {
				return 1005
			}
			return int(binary.BigEndian.Uint16(g.payload))
		}
	}
}

// TestFrameCheckAcceptsValidFrames: frames a client may send pass the
// check whole, together and split at every byte.
func TestFrameCheckAcceptsValidFrames(t *testing.T) {
	var stream []byte
	for _, n := range []int{0, 1, 125, 126, 65535, readLimit} {
		stream = append(stream, rawFrame(0x81, make([]byte, n), true)...)
	}
	// A fragmented message with a ping and a pong between its fragments,
	// up to the limit, then a binary message and a close.
	stream = append(stream, rawFrame(0x01, make([]byte, readLimit-200), true)...)
	stream = append(stream, rawFrame(0x89, make([]byte, 125), true)...)
	stream = append(stream, rawFrame(0x00, make([]byte, 100), true)...)
	stream = append(stream, rawFrame(0x8A, nil, true)...)
	stream = append(stream, rawFrame(0x80, make([]byte, 100), true)...)
	stream = append(stream, rawFrame(0x82, []byte("b"), true)...)
	stream = append(stream, rawFrame(0x88, []byte{3, 0xE8}, true)...)
	var whole frameCheck
	if v := whole.scan(stream); v != nil {
		t.Fatalf("whole: %d %s", v.code, v.reason)
	}
	var split frameCheck
	for i := range stream {
		if v := split.scan(stream[i : i+1]); v != nil {
			t.Fatalf("byte %d: %d %s", i, v.code, v.reason)
		}
	}
	if split.hn != 0 || split.skip != 0 || split.inMsg {
		t.Errorf("after whole frames the check is mid-frame: %+v", split)
	}
}

// TestHubPingFloodIsBounded: a device that pings and never reads is cut
// off as too slow once the pongs waiting for it pass QueueBytes, instead
// of the event loop buffering every pong.
func TestHubPingFloodIsBounded(t *testing.T) {
	cfg := DefaultConfig()
	cfg.QueueBytes = 64 << 10
	e := newHubEnv(t, sqldbtest.Open(t, sqldb.SQLite), cfg)
	a := e.account()
	d := e.rawDial(a, 1, "")
	d.readyUp()
	c := e.onlyConn(a)
	ping := rawFrame(0x89, make([]byte, 125), true)
	batch := make([]byte, 0, 100*len(ping))
	for range 100 {
		batch = append(batch, ping...)
	}
	_ = d.nc.SetWriteDeadline(time.Now().Add(waitTimeout))
	// Paced so that the frames are handled as they come (a device far
	// ahead of the server is closed by another bound, 1008), and far past
	// what the sockets' buffers hold.
	for written := 0; written < 64<<20 && slowClosed(t, e) == 0; written += len(batch) {
		if _, err := d.nc.Write(batch); err != nil {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if n := slowClosed(t, e); n != 1 {
		t.Fatalf("%v devices closed as too slow, want the pinging one; %d bytes wait for it", n, c.t.queued())
	}
	if q := c.t.queued(); q > 2*cfg.QueueBytes {
		t.Errorf("%d bytes wait for the device, want at most about QueueBytes (%d)", q, cfg.QueueBytes)
	}
}

// TestHubNoSendAfterTheCloseFrame: once the server has told a device its
// stream ends (here: the account was suspended), a send the device makes
// before it reads that close frame takes no effect, on either transport.
func TestHubNoSendAfterTheCloseFrame(t *testing.T) {
	eachTransport(t, func(t *testing.T, cfg Config) {
		e := newHubEnv(t, sqldbtest.Open(t, sqldb.SQLite), cfg)
		a := e.account()
		d := e.rawDial(a, 1, "")
		d.readyUp()
		e.mu.Lock()
		e.standing[1] = plaza.Errorf(plaza.EAccountSuspended, "suspended")
		e.mu.Unlock()
		e.hub.recheck(a)
		if code := d.closeCode(); code != int(StatusAccountRestricted) {
			t.Fatalf("close code %d, want %d", code, StatusAccountRestricted)
		}
		send := []byte(`{"type":"message.send","id":"late","data":{"conversation_id":"5","client_id":"late","kind":"text","text":"hi"}}`)
		_, _ = d.nc.Write(rawFrame(0x81, send, true))
		_, _ = d.nc.Write(rawFrame(0x88, []byte{3, 0xE8}, true))
		eventually(t, "the stream to end", func() bool { return e.hub.Connections() == 0 })
		e.mu.Lock()
		defer e.mu.Unlock()
		if len(e.sent) != 0 {
			t.Errorf("sends taken after the close frame: %v", e.sent)
		}
	})
}
