package realtime

import (
	"context"
	"net/http"

	"github.com/coder/websocket"
)

// stdTransport is a stream on coder/websocket: a goroutine reads the
// device's frames, and writes block until the socket takes them (at most
// the write timeout).
type stdTransport struct {
	c  *Conn
	ws *websocket.Conn
}

// acceptStd upgrades the request with coder/websocket; it returns nil if
// the upgrade failed (Accept has answered the client).
func acceptStd(w http.ResponseWriter, r *http.Request, c *Conn) *stdTransport {
	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		return nil
	}
	ws.SetReadLimit(readLimit)
	return &stdTransport{c: c, ws: ws}
}

// start runs the reading goroutine, once the stream has caught up.
func (t *stdTransport) start() {
	if !t.c.hold() {
		return // closed already
	}
	go func() {
		defer t.c.unhold()
		t.readLoop()
	}()
}

func (t *stdTransport) readLoop() {
	c := t.c
	defer c.shutdown(websocket.StatusNormalClosure, "")
	for {
		_, data, err := t.ws.Read(c.ctx)
		if err != nil {
			return
		}
		if !c.handleFrame(data) {
			return
		}
	}
}

// write writes the frames one after another: coder/websocket flushes each
// message on its own, so this transport cannot join them in one write.
func (t *stdTransport) write(frames [][]byte) error {
	for _, f := range frames {
		ctx, cancel := context.WithTimeout(t.c.ctx, t.c.hub.cfg.WriteTimeout)
		err := t.ws.Write(ctx, websocket.MessageText, f)
		cancel()
		if err != nil {
			return err
		}
	}
	return nil
}

func (t *stdTransport) queued() int { return 0 }

func (t *stdTransport) drain(int) error { return nil }

// ping pings from a goroutine of its own, which waits for the pong.
func (t *stdTransport) ping() {
	c := t.c
	if !c.hold() {
		return
	}
	go func() {
		defer c.unhold()
		ctx, cancel := context.WithTimeout(c.ctx, c.hub.cfg.WriteTimeout)
		err := t.ws.Ping(ctx)
		cancel()
		if err != nil {
			c.shutdown(websocket.StatusNormalClosure, "")
		}
	}()
}

// close runs the close handshake from a goroutine: Close waits for the
// device's close frame, and nobody should wait for that. (A stream whose
// context was cancelled first has no reader left for the answer: coder
// then drops the connection at once.)
func (t *stdTransport) close(code websocket.StatusCode, reason string, _ bool) {
	go func() {
		_ = t.ws.Close(code, reason)
		t.c.transportGone()
	}()
}
