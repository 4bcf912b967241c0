package realtime

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/lesismal/nbio"
	"github.com/lesismal/nbio/logging"
	"github.com/lesismal/nbio/nbhttp"
	nbws "github.com/lesismal/nbio/nbhttp/websocket"
)

const (
	// closeTimeout is how long a close frame waits for the device's
	// answer before the connection is dropped (coder/websocket's figure).
	closeTimeout = 5 * time.Second
	// maxUnhandled bounds the bytes a device may have sent that wait for
	// their frames to be handled. The event loop reads whatever arrives,
	// so this takes the place of TCP's back-pressure: a device that sends
	// far ahead of its acks is closed with StatusPolicyViolation.
	maxUnhandled = 1 << 20
	// closePoll is how often a closing stream looks whether its close
	// frame has left.
	closePoll = 10 * time.Millisecond
	// maxPooledBuf is the largest write buffer kept for reuse.
	maxPooledBuf = 64 << 10
)

// nbioLoop is a hub's event loop: every stream of the hub on the nbio
// transport is one file descriptor in its epoll set, with no goroutine
// of its own. A device's frames are handled in order (nbio runs the jobs
// of one connection one after another, on a pool of goroutines), and
// writes never block: what the socket does not take at once waits in
// nbio's buffer, bounded by Config.QueueBytes.
type nbioLoop struct {
	eng  *nbhttp.Engine
	up   *nbws.Upgrader
	bufs sync.Pool
}

var nbioLogOnce sync.Once

// startNBIO starts an event loop; stop it with stop.
func startNBIO(log *slog.Logger) (*nbioLoop, error) {
	nbioLogOnce.Do(func() { logging.SetLogger(nbioLog{log}) })
	eng := nbhttp.NewEngine(nbhttp.Config{
		Name: "plaza-stream",
		// Room for a frame at the read limit plus a read's worth.
		ReadLimit:         4 * readLimit,
		SupportServerOnly: true,
	})
	// Frames are JSON checked by strictjson, which names a field holding
	// bad UTF-8; nbio would close the connection with 1002 instead.
	eng.CheckUtf8 = func([]byte) bool { return true }
	eng.OnWrittenSize(func(nc *nbio.Conn, _ []byte, n int) {
		if ws, ok := nc.Session().(*nbws.Conn); ok {
			if t, ok := ws.Session().(*nbioConn); ok {
				t.taken.Add(int64(n))
			}
		}
	})
	if err := eng.Start(); err != nil {
		return nil, fmt.Errorf("start the stream event loop: %w", err)
	}
	up := nbws.NewUpgrader()
	up.Engine = eng
	up.KeepaliveTime = 0 // the hub's timer wheel pings instead of a timer per connection
	up.MessageLengthLimit = readLimit
	up.OnMessage(func(ws *nbws.Conn, _ nbws.MessageType, data []byte) {
		if t, ok := ws.Session().(*nbioConn); ok {
			t.c.started.Wait()
			t.c.handleFrame(data)
		}
	})
	up.SetPingHandler(func(ws *nbws.Conn, data string) {
		if t, ok := ws.Session().(*nbioConn); ok {
			// Pongs do not pass the queue's bounds (offer): a device
			// that pings and never reads would pile them up without end.
			if t.queued()+len(data) > t.c.hub.cfg.QueueBytes {
				t.c.tooSlow()
				return
			}
			_ = t.send(appendControl(nil, opPong, []byte(data)), false)
		}
	})
	up.SetPongHandler(func(ws *nbws.Conn, _ string) {
		if t, ok := ws.Session().(*nbioConn); ok {
			t.pong.Store(true)
		}
	})
	up.SetCloseHandler(func(ws *nbws.Conn, code int, reason string) {
		// nbio closes the connection right after this handler: answer a
		// close frame the device started; if the hub started it, this was
		// the answer it waited for.
		if t, ok := ws.Session().(*nbioConn); ok {
			var payload []byte
			if code != 1005 {
				payload = binary.BigEndian.AppendUint16(nil, uint16(code))
			}
			_ = t.send(appendControl(nil, opClose, payload), true)
		}
	})
	up.OnClose(func(ws *nbws.Conn, _ error) {
		if t, ok := ws.Session().(*nbioConn); ok {
			t.gone()
		}
	})
	return &nbioLoop{eng: eng, up: up}, nil
}

func (l *nbioLoop) stop() { l.eng.Stop() }

// accept answers the WebSocket handshake through net/http (so the access
// log and metrics see the 101), then moves the connection into the event
// loop. It returns nil if the request was refused or the connection
// failed; the client has then been answered or is gone.
func (l *nbioLoop) accept(w http.ResponseWriter, r *http.Request, c *Conn) *nbioConn {
	if code, err := checkHandshake(w, r); code != 0 {
		http.Error(w, err.Error(), code)
		return nil
	}
	h := w.Header()
	h.Set("Upgrade", "websocket")
	h.Set("Connection", "Upgrade")
	h.Set("Sec-WebSocket-Accept", acceptKey(r.Header.Get("Sec-WebSocket-Key")))
	w.WriteHeader(http.StatusSwitchingProtocols)
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		c.hub.log.Error("stream: hijack the connection", "err", err)
		return nil
	}
	// Bytes the device sent right after the handshake's answer may be
	// buffered already: net/http sends the 101 before it stops its
	// background read of the connection, which can take the first byte.
	// They are parsed before anything the event loop reads (see onData).
	var pre []byte
	if n := brw.Reader.Buffered(); n > 0 {
		b, _ := brw.Reader.Peek(n)
		pre = append([]byte(nil), b...)
	}
	// NBConn duplicates the descriptor and closes conn: from here on the
	// Go runtime's poller and net/http's buffers forget the connection.
	nbc, err := nbio.NBConn(conn)
	if err != nil {
		_ = conn.Close()
		c.hub.log.Error("stream: move the connection to the event loop", "err", err)
		return nil
	}
	ws := nbws.NewServerConn(l.up, nbc, "", false, false)
	ws.Engine = l.eng
	ws.Execute = nbc.Execute
	t := &nbioConn{c: c, loop: l, nbc: nbc, ws: ws, pre: pre}
	ws.SetSession(t)
	nbc.SetSession(ws)
	nbc.OnData(t.onData)
	// The stream has its transport before the event loop reads: a
	// device's first frames may end it at once (onData), before accept
	// returns.
	c.t = t
	t.ready.Store(true)
	if err := l.eng.AddTransferredConn(nbc); err != nil {
		c.hub.log.Error("stream: add the connection to the event loop", "err", err)
		return nil
	}
	if pre != nil {
		// Now that the connection has its place in the loop, which the
		// frames' jobs need; unless the loop's first read beat us to it.
		t.onData(nbc, nil)
	}
	return t
}

// nbioConn is one stream on the event loop.
type nbioConn struct {
	c    *Conn
	loop *nbioLoop
	nbc  *nbio.Conn
	ws   *nbws.Conn

	// sent counts the bytes given to nbio, taken those the socket took:
	// the difference waits in nbio's buffer.
	sent, taken atomic.Int64
	// unhandled counts the bytes read whose frames wait to be handled.
	unhandled atomic.Int64
	// pong is set when the device answers the last ping.
	pong atomic.Bool
	// check follows the frames read; only the event loop's read of this
	// connection touches it.
	check frameCheck
	// ready is set once accept has built the stream. The event loop's
	// goroutines load it before they touch the stream: nbio hands a
	// connection to its poller through epoll, which the race detector
	// cannot see, and this makes the order visible to it.
	ready atomic.Bool

	// parseMu orders the parsing of pre, the bytes net/http had
	// buffered at the handshake, before the event loop's reads.
	parseMu sync.Mutex
	pre     []byte

	// mu orders writes with the close frame: nothing goes after it.
	mu      sync.Mutex
	closing bool
	timer   *time.Timer
	goneMu  sync.Once
}

var errClosing = errors.New("the stream is closing")

// onData parses what the poller read. The job queued after the frames'
// jobs runs once they all ran, and counts the bytes as handled.
func (t *nbioConn) onData(nc *nbio.Conn, data []byte) {
	t.ready.Load()
	t.parseMu.Lock()
	defer t.parseMu.Unlock()
	if pre := t.pre; pre != nil {
		t.pre = nil
		if !t.parse(nc, pre) {
			return
		}
	}
	if len(data) > 0 {
		t.parse(nc, data)
	}
}

// parse parses data and reports whether the stream goes on.
func (t *nbioConn) parse(nc *nbio.Conn, data []byte) bool {
	if v := t.check.scan(data); v != nil {
		// Nothing of this read is handled: the stream ends, and its
		// replies could not be sent anyway.
		t.c.shutdown(v.code, v.reason)
		return false
	}
	n := int64(len(data))
	if t.unhandled.Add(n) > maxUnhandled {
		t.c.end(websocket.StatusPolicyViolation, "too many frames waiting: wait for the acks")
		return false
	}
	if err := t.ws.Parse(data); err != nil {
		_ = nc.CloseWithError(err)
		return false
	}
	nc.Execute(func() { t.unhandled.Add(-n) })
	return true
}

func (t *nbioConn) write(frames [][]byte) error {
	bp, _ := t.loop.bufs.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	b := (*bp)[:0]
	for _, f := range frames {
		b = appendFrameHeader(b, opText, len(f))
		b = append(b, f...)
	}
	err := t.send(b, false)
	if cap(b) <= maxPooledBuf {
		*bp = b
		t.loop.bufs.Put(bp)
	}
	return err
}

// send gives b to nbio, which writes what the socket takes now and keeps
// the rest for when it can (copying it: b may be reused). last marks the
// close frame, after which nothing is written.
func (t *nbioConn) send(b []byte, last bool) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closing {
		return errClosing
	}
	t.closing = last
	// Counted before the write: nbio reports what the socket took
	// during it.
	t.sent.Add(int64(len(b)))
	_, err := t.nbc.Write(b)
	return err
}

func (t *nbioConn) queued() int { return int(t.sent.Load() - t.taken.Load()) }

func (t *nbioConn) drain(limit int) error {
	wait := t.c.hub.cfg.WriteTimeout
	last, since := t.taken.Load(), time.Now()
	for t.queued() > limit {
		if t.c.ctx.Err() != nil {
			return net.ErrClosed
		}
		if n := t.taken.Load(); n != last {
			last, since = n, time.Now()
		} else if time.Since(since) > wait {
			return fmt.Errorf("the device took nothing for %s", wait)
		}
		time.Sleep(2 * time.Millisecond)
	}
	return nil
}

// ping writes a ping; the timer wheel checks for its pong (alive) a
// write timeout later.
func (t *nbioConn) ping() {
	t.pong.Store(false)
	if err := t.send(appendControl(nil, opPing, nil), false); err != nil && !errors.Is(err, errClosing) {
		_ = t.nbc.Close()
	}
}

// alive reports whether the device answered the last ping.
func (t *nbioConn) alive() bool { return t.pong.Load() }

func (t *nbioConn) close(code websocket.StatusCode, reason string, handshake bool) {
	payload := binary.BigEndian.AppendUint16(nil, uint16(code))
	if len(reason) > 123 {
		reason = reason[:123]
	}
	payload = append(payload, reason...)
	if err := t.send(appendControl(nil, opClose, payload), true); err != nil {
		if !errors.Is(err, errClosing) {
			_ = t.nbc.Close()
		}
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if handshake {
		// The device's answer closes the connection (see the close
		// handler); this is for a device that never answers.
		t.timer = time.AfterFunc(closeTimeout, func() { _ = t.nbc.Close() })
		return
	}
	// Close once the socket has taken the close frame: look again every
	// few milliseconds, for at most closeTimeout.
	deadline := time.Now().Add(closeTimeout)
	check := func() {
		if t.queued() > 0 && time.Now().Before(deadline) {
			t.mu.Lock()
			t.timer.Reset(closePoll)
			t.mu.Unlock()
			return
		}
		_ = t.nbc.Close()
	}
	t.timer = time.AfterFunc(closePoll, check)
}

// gone is called by the event loop once the connection is closed, after
// every frame's job has run.
func (t *nbioConn) gone() {
	t.ready.Load()
	t.goneMu.Do(func() {
		t.mu.Lock()
		t.closing = true
		if t.timer != nil {
			t.timer.Stop()
		}
		t.mu.Unlock()
		t.c.transportGone()
	})
}

// appendControl appends a control frame.
func appendControl(b []byte, opcode byte, payload []byte) []byte {
	return append(appendFrameHeader(b, opcode, len(payload)), payload...)
}

// nbioLog sends nbio's warnings and errors to the server's log.
type nbioLog struct{ log *slog.Logger }

func (nbioLog) Debug(string, ...any) {}
func (nbioLog) Info(string, ...any)  {}
func (l nbioLog) Warn(format string, v ...any) {
	l.log.Warn("stream event loop: " + fmt.Sprintf(format, v...))
}
func (l nbioLog) Error(format string, v ...any) {
	l.log.Error("stream event loop: " + fmt.Sprintf(format, v...))
}
