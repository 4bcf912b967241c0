package bench

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// serverFrame is a frame as a server writes it: unmasked.
func serverFrame(fin bool, op byte, p []byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	b := []byte{b0}
	switch n := len(p); {
	case n < 126:
		b = append(b, byte(n))
	case n <= 0xffff:
		b = append(b, 126, byte(n>>8), byte(n))
	default:
		b = append(b, 127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	return append(b, p...)
}

func TestParseFrame(t *testing.T) {
	big := bytes.Repeat([]byte("字"), 30000) // 90,000 bytes: a 64-bit length
	cases := []struct {
		name  string
		frame []byte
		op    byte
		fin   bool
		want  []byte
	}{
		{"short", serverFrame(true, 0x1, []byte("hello")), 0x1, true, []byte("hello")},
		{"empty", serverFrame(true, 0x9, nil), 0x9, true, []byte{}},
		{"16-bit length", serverFrame(false, 0x1, bytes.Repeat([]byte{'a'}, 300)), 0x1, false, bytes.Repeat([]byte{'a'}, 300)},
		{"64-bit length", serverFrame(true, 0x2, big), 0x2, true, big},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Every prefix short of the whole frame asks for more.
			for i := range len(tc.frame) {
				if _, used, err := parseFrame(tc.frame[:i]); used != 0 || err != nil {
					t.Fatalf("prefix of %d bytes: used %d, err %v", i, used, err)
				}
			}
			in := append(append([]byte(nil), tc.frame...), 0x81) // the next frame's first byte
			f, used, err := parseFrame(in)
			if err != nil || used != len(tc.frame) {
				t.Fatalf("used %d of %d, err %v", used, len(tc.frame), err)
			}
			if f.op != tc.op || f.fin != tc.fin || !bytes.Equal(f.payload, tc.want) {
				t.Fatalf("got op %x fin %v %d bytes", f.op, f.fin, len(f.payload))
			}
		})
	}
	t.Run("masked", func(t *testing.T) {
		w := &wsConn{seed: 7}
		w.frame(0x1, []byte("masked text"))
		f, used, err := parseFrame(w.out)
		if err != nil || used != len(w.out) || string(f.payload) != "masked text" {
			t.Fatalf("%q %d %v", f.payload, used, err)
		}
	})
	t.Run("over the limit", func(t *testing.T) {
		h := binary.BigEndian.AppendUint64([]byte{0x81, 127}, wsReadLimit+1)
		if _, _, err := parseFrame(h); err == nil || !strings.Contains(err.Error(), "over") {
			t.Fatalf("err %v", err)
		}
	})
}

// pollPair is a pollSet reading one socket whose other end the test
// writes as a server would.
type pollPair struct {
	server net.Conn
	ws     *wsConn
	mu     sync.Mutex
	got    []string
	more   chan struct{}
}

func newPollPair(t *testing.T, before []byte, keep func(string) bool) (*pollPair, *pollSet) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	p := &pollPair{server: s, more: make(chan struct{}, 1)}
	p.ws = &wsConn{c: c, r: bufio.NewReaderSize(c, 16<<10), seed: 1}
	if before != nil {
		// What the device's reader holds when the socket is handed over:
		// the ready frame and, behind it, the start of what follows.
		if _, err := s.Write(before); err != nil {
			t.Fatal(err)
		}
		if msg, err := p.ws.next(); err != nil || string(msg) != "ready" {
			t.Fatalf("%q %v", msg, err)
		}
	}
	ps := &pollSet{}
	t.Cleanup(ps.close)
	if err := ps.add(p.ws, func(data []byte, at, read time.Time) bool {
		if at.After(read) {
			t.Errorf("arrived %v after it was read %v", at, read)
		}
		p.mu.Lock()
		p.got = append(p.got, string(data))
		p.mu.Unlock()
		select {
		case p.more <- struct{}{}:
		default:
		}
		return keep == nil || keep(string(data))
	}); err != nil {
		t.Fatal(err)
	}
	return p, ps
}

// wait returns the messages once there are n of them.
func (p *pollPair) wait(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		p.mu.Lock()
		got := append([]string(nil), p.got...)
		p.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-p.more:
		case <-deadline:
			t.Fatalf("%d messages, want %d: %q", len(got), n, got)
		}
	}
}

func TestPollSetReadsWhatArrives(t *testing.T) {
	ready := serverFrame(true, 0x1, []byte("ready"))
	first := serverFrame(true, 0x1, []byte("one"))
	p, _ := newPollPair(t, append(ready, first[:3]...), nil)
	big := strings.Repeat("大", 100000) // 300,000 bytes: several reads of the loop's buffer
	var stream []byte
	stream = append(stream, first[3:]...)
	stream = append(stream, serverFrame(true, 0x1, []byte("two"))...)
	stream = append(stream, serverFrame(false, 0x1, []byte("thr"))...)
	stream = append(stream, serverFrame(false, 0x0, []byte("e"))...)
	stream = append(stream, serverFrame(true, 0x0, []byte("e"))...)
	stream = append(stream, serverFrame(true, 0x1, []byte(big))...)
	stream = append(stream, serverFrame(true, 0x1, []byte("last"))...)
	// In pieces that cut frames and their headers anywhere.
	for len(stream) > 0 {
		n := min(len(stream), 7+len(stream)%1000)
		if _, err := p.server.Write(stream[:n]); err != nil {
			t.Fatal(err)
		}
		stream = stream[n:]
		time.Sleep(50 * time.Microsecond)
	}
	// And in one write, which the socket holds more of than one read
	// takes: edge-triggered, the loop must read on until it is empty.
	if _, err := p.server.Write(append(serverFrame(true, 0x1, []byte(big)), serverFrame(true, 0x1, []byte("end"))...)); err != nil {
		t.Fatal(err)
	}
	got := p.wait(t, 7)
	want := []string{"one", "two", "three", big, "last", big, "end"}
	if len(got) != len(want) {
		t.Fatalf("%d messages, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("message %d: %d bytes, want %d", i, len(got[i]), len(want[i]))
		}
	}
}

func TestPollSetAnswersPingAndClose(t *testing.T) {
	p, _ := newPollPair(t, nil, nil)
	if _, err := p.server.Write(serverFrame(true, 0x9, []byte("are you there"))); err != nil {
		t.Fatal(err)
	}
	_ = p.server.SetReadDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(p.server)
	readClient := func() wsFrame {
		t.Helper()
		var buf []byte
		for {
			b, err := r.ReadByte()
			if err != nil {
				t.Fatal(err)
			}
			buf = append(buf, b)
			f, used, err := parseFrame(buf)
			if err != nil {
				t.Fatal(err)
			}
			if used > 0 {
				return f
			}
		}
	}
	if f := readClient(); f.op != 0xA || string(f.payload) != "are you there" {
		t.Fatalf("pong: op %x %q", f.op, f.payload)
	}
	if _, err := p.server.Write(serverFrame(true, 0x8, []byte{0x0f, 0xa1, 'b', 'y', 'e'})); err != nil {
		t.Fatal(err)
	}
	if f := readClient(); f.op != 0x8 || !bytes.Equal(f.payload, []byte{0x0f, 0xa1}) {
		t.Fatalf("close: op %x %v", f.op, f.payload)
	}
	// Nothing after the close is read.
	_, _ = p.server.Write(serverFrame(true, 0x1, []byte("late")))
	time.Sleep(100 * time.Millisecond)
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.got) != 0 {
		t.Fatalf("read after the close: %q", p.got)
	}
}

func TestPollSetStopsWhenTold(t *testing.T) {
	p, ps := newPollPair(t, nil, func(m string) bool { return m != "stop" })
	for _, m := range []string{"go", "stop", "after"} {
		if _, err := p.server.Write(serverFrame(true, 0x1, []byte(m))); err != nil {
			t.Fatal(err)
		}
	}
	p.wait(t, 2)
	time.Sleep(100 * time.Millisecond)
	p.mu.Lock()
	got := append([]string(nil), p.got...)
	p.mu.Unlock()
	if strings.Join(got, ",") != "go,stop" {
		t.Fatalf("got %q", got)
	}
	// close ends the loops and the sockets: the server's end sees EOF,
	// or a reset when "after" was still unread in the closed socket's
	// receive queue (the kernel then answers the close with RST).
	done := make(chan struct{})
	go func() { ps.close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("close did not return")
	}
	_ = p.server.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadAll(p.server); err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("the socket was not closed: %v", err)
	}
}

func TestPollSetRefusesBrokenFragments(t *testing.T) {
	for name, frames := range map[string][][]byte{
		"a new message inside a fragmented one": {serverFrame(false, 0x1, []byte("a")), serverFrame(true, 0x1, []byte("b"))},
		"a continuation with none open":         {serverFrame(true, 0x0, []byte("a"))},
	} {
		t.Run(name, func(t *testing.T) {
			p, _ := newPollPair(t, nil, nil)
			for _, f := range append(frames, serverFrame(true, 0x1, []byte("after"))) {
				if _, err := p.server.Write(f); err != nil {
					t.Fatal(err)
				}
			}
			time.Sleep(100 * time.Millisecond)
			p.mu.Lock()
			defer p.mu.Unlock()
			if len(p.got) != 0 {
				t.Fatalf("read %q from a broken stream", p.got)
			}
		})
	}
}
