package bench

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// wsConn is the generator's own WebSocket client: the few parts of RFC
// 6455 a device needs (text messages, ping, close) over a plain TCP
// connection. A general-purpose client makes one read system call per
// frame it reads and one write per frame it writes; this one reads
// whatever has arrived into one buffer, lets the caller queue frames
// while it works through them, and writes the queue in one call (see
// buffered and flush). On a machine whose cores the generator shares
// with the server, those system calls were most of its CPU.
type wsConn struct {
	c     net.Conn
	r     *bufio.Reader
	stamp *stampedReader // nil where the kernel does not stamp reads
	msg   []byte         // the message being read; reused

	mu   sync.Mutex // guards out, seed and writes to c
	out  []byte     // frames queued for the next flush
	seed uint64     // for masking keys

	// status is the close code the server sent (1005 if it sent none),
	// 0 until a close frame arrives; set and read by the reader only.
	status int
}

const wsReadLimit = 1 << 20

// dialWS opens a device's stream at base (http://host:port) with token;
// since, if not empty, is the cursor to resume after. The server's
// answer, if it refuses, is in the error.
func dialWS(ctx context.Context, base, token, since string) (*wsConn, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	path := "/api/v1/stream"
	if since != "" {
		path += "?since=" + url.QueryEscape(since)
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	} else {
		_ = c.SetDeadline(time.Now().Add(60 * time.Second))
	}
	var k [16]byte
	_, _ = rand.Read(k[:])
	key := base64.StdEncoding.EncodeToString(k[:])
	req := "GET " + path + " HTTP/1.1\r\nHost: " + u.Host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + key +
		"\r\nAuthorization: Bearer " + token + "\r\n\r\n"
	if _, err := io.WriteString(c, req); err != nil {
		c.Close()
		return nil, err
	}
	var src io.Reader = c
	stamp := newStampedReader(c)
	if stamp != nil {
		src = stamp
	}
	br := bufio.NewReaderSize(src, 16<<10)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("websocket handshake: %w", err)
	}
	if res.StatusCode != http.StatusSwitchingProtocols {
		body, _ := io.ReadAll(io.LimitReader(res.Body, 1024))
		c.Close()
		return nil, fmt.Errorf("websocket handshake: %s: %s", res.Status, strings.TrimSpace(string(body)))
	}
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	if res.Header.Get("Sec-WebSocket-Accept") != base64.StdEncoding.EncodeToString(sum[:]) {
		c.Close()
		return nil, errors.New("websocket handshake: wrong Sec-WebSocket-Accept")
	}
	_ = c.SetDeadline(time.Time{})
	var s [8]byte
	_, _ = rand.Read(s[:])
	return &wsConn{c: c, r: br, stamp: stamp, seed: binary.LittleEndian.Uint64(s[:]) | 1}, nil
}

// arrived returns when the message next returned last reached this
// device's socket: the kernel's receive time of the newest bytes read
// (on Linux), else now, the time it was read. A stamp later than now (a
// clock step) is not used.
func (w *wsConn) arrived(now time.Time) time.Time {
	if at, ok := w.stamp.arrived(); ok && !at.After(now) {
		return at
	}
	return now
}

// buffered reports whether frames that have arrived are waiting to be
// read: while they are, a caller that answers frames can queue its
// answers and flush once.
func (w *wsConn) buffered() bool { return w.r.Buffered() > 0 }

// next returns the next text or binary message, valid until the
// following call. It answers pings, and ends with io.EOF at a close.
func (w *wsConn) next() ([]byte, error) {
	w.msg = w.msg[:0]
	for {
		var h [2]byte
		if _, err := io.ReadFull(w.r, h[:]); err != nil {
			return nil, err
		}
		fin, op := h[0]&0x80 != 0, h[0]&0x0f
		n := uint64(h[1] & 0x7f)
		switch n {
		case 126:
			var b [2]byte
			if _, err := io.ReadFull(w.r, b[:]); err != nil {
				return nil, err
			}
			n = uint64(binary.BigEndian.Uint16(b[:]))
		case 127:
			var b [8]byte
			if _, err := io.ReadFull(w.r, b[:]); err != nil {
				return nil, err
			}
			n = binary.BigEndian.Uint64(b[:])
		}
		var mask [4]byte
		masked := h[1]&0x80 != 0
		if masked {
			if _, err := io.ReadFull(w.r, mask[:]); err != nil {
				return nil, err
			}
		}
		if n > wsReadLimit || uint64(len(w.msg))+n > wsReadLimit {
			return nil, fmt.Errorf("websocket: a message over %d bytes", wsReadLimit)
		}
		start := len(w.msg)
		w.msg = slices.Grow(w.msg, int(n))[:start+int(n)]
		if _, err := io.ReadFull(w.r, w.msg[start:]); err != nil {
			return nil, err
		}
		if masked {
			for i := range w.msg[start:] {
				w.msg[start+i] ^= mask[i&3]
			}
		}
		switch op {
		case 0x0, 0x1, 0x2: // continuation, text, binary
			if fin {
				return w.msg, nil
			}
		case 0x8: // close: answer with the same status, then stop
			body := append([]byte(nil), w.msg[start:]...)
			w.msg = w.msg[:start]
			w.status = 1005
			if len(body) >= 2 {
				w.status = int(binary.BigEndian.Uint16(body))
			}
			w.mu.Lock()
			w.frame(0x8, body[:min(len(body), 2)])
			w.mu.Unlock()
			_ = w.flush()
			return nil, io.EOF
		case 0x9: // ping: pong with its payload
			body := append([]byte(nil), w.msg[start:]...)
			w.msg = w.msg[:start]
			w.mu.Lock()
			w.frame(0xA, body)
			w.mu.Unlock()
			if err := w.flush(); err != nil {
				return nil, err
			}
		default: // pong, or a control frame we do not use
			w.msg = w.msg[:start]
		}
	}
}

// frame appends one masked frame (a client must mask) to the queue;
// w.mu must be held.
func (w *wsConn) frame(op byte, p []byte) {
	b := append(w.out, 0x80|op)
	switch n := len(p); {
	case n < 126:
		b = append(b, 0x80|byte(n))
	case n <= 0xffff:
		b = append(b, 0x80|126, byte(n>>8), byte(n))
	default:
		b = append(b, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	// xorshift: masking keys need not be strong here, only varied.
	w.seed ^= w.seed << 13
	w.seed ^= w.seed >> 7
	w.seed ^= w.seed << 17
	var mask [4]byte
	binary.LittleEndian.PutUint32(mask[:], uint32(w.seed))
	b = append(b, mask[:]...)
	start := len(b)
	b = append(b, p...)
	for i := range b[start:] {
		b[start+i] ^= mask[i&3]
	}
	w.out = b
}

// queue adds a text message to the frames the next flush writes.
func (w *wsConn) queue(p []byte) {
	w.mu.Lock()
	w.frame(0x1, p)
	w.mu.Unlock()
}

// flush writes the queued frames in one call.
func (w *wsConn) flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.out) == 0 {
		return nil
	}
	_, err := w.c.Write(w.out)
	w.out = w.out[:0]
	return err
}

// send writes one text message now.
func (w *wsConn) send(p []byte) error {
	w.queue(p)
	return w.flush()
}

// close drops the connection at once, as a device that loses its
// network does; reads and writes in progress return.
func (w *wsConn) close() { _ = w.c.Close() }

// wsFrame is one frame parsed from a buffer by parseFrame.
type wsFrame struct {
	fin     bool
	op      byte
	payload []byte // within the buffer, unmasked in place
}

// parseFrame parses the frame at the start of b. used is 0 when b does
// not yet hold all of it; a frame over wsReadLimit is an error.
func parseFrame(b []byte) (f wsFrame, used int, err error) {
	if len(b) < 2 {
		return f, 0, nil
	}
	f.fin, f.op = b[0]&0x80 != 0, b[0]&0x0f
	masked := b[1]&0x80 != 0
	n, h := uint64(b[1]&0x7f), 2
	switch n {
	case 126:
		if len(b) < 4 {
			return f, 0, nil
		}
		n, h = uint64(binary.BigEndian.Uint16(b[2:])), 4
	case 127:
		if len(b) < 10 {
			return f, 0, nil
		}
		n, h = binary.BigEndian.Uint64(b[2:]), 10
	}
	if n > wsReadLimit {
		return f, 0, fmt.Errorf("websocket: a message over %d bytes", wsReadLimit)
	}
	var mask []byte
	if masked {
		if len(b) < h+4 {
			return f, 0, nil
		}
		mask, h = b[h:h+4], h+4
	}
	if uint64(len(b)-h) < n {
		return f, 0, nil
	}
	f.payload = b[h : h+int(n)]
	if masked {
		for i := range f.payload {
			f.payload[i] ^= mask[i&3]
		}
	}
	return f, h + int(n), nil
}
