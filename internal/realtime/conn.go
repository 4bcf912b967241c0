package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/events"
	"github.com/plaza-im/plaza/internal/strictjson"
)

// Close codes a device may see.
const (
	statusGoingAway = websocket.StatusGoingAway
	// statusTooSlow: the device fell behind; reconnect with since=CURSOR.
	statusTooSlow websocket.StatusCode = 4008
)

// item is a frame waiting to be written: seq is its place in the account's
// sync log, 0 for frames outside it (acks, errors, typing).
type item struct {
	seq   int64
	frame []byte
}

// Conn is one connected device.
type Conn struct {
	hub     *Hub
	ws      *websocket.Conn
	id      plaza.ID // this stream, for the caps across nodes
	account plaza.ID
	session plaza.ID // the session it was opened in
	ctx     context.Context
	cancel  context.CancelFunc

	// The queue is a slice that grows only while frames wait, so an idle
	// device costs a few bytes rather than a pre-allocated channel
	// buffer: memory per idle connection is a target.
	mu     sync.Mutex
	queue  []item
	wake   chan struct{} // capacity 1: "the queue is not empty"
	limit  int
	closed bool

	once     sync.Once
	inFlight chan struct{}
	// acks are the device's sends waiting for their reply, in the order
	// they were queued; acking is true while ackLoop runs.
	ackMu  sync.Mutex
	acks   []pendingAck
	acking bool

	// loops counts the device's goroutines (its read and write loops and
	// the sends in flight); wsClosed is closed once the WebSocket is. The
	// hub counts the stream as live until both are done.
	loops    sync.WaitGroup
	wsClosed chan struct{}
}

// Serve upgrades the request to a WebSocket for account, signed in with
// session, and runs the device until it disconnects or the session or
// the account's standing ends. since is the cursor to resume after; a
// negative since starts from the account's current cursor.
func (h *Hub) Serve(w http.ResponseWriter, r *http.Request, account, session plaza.ID, since int64) error {
	head, err := h.events.Head(r.Context(), account)
	if err != nil {
		return err
	}
	if since < 0 {
		since = head
	}
	if since > head {
		return plaza.Invalid("since", "is ahead of this account's newest cursor")
	}
	// Refuse an expired cursor before upgrading, with the API's error.
	if _, err := h.events.Sync(r.Context(), account, since, 1); err != nil {
		return err
	}
	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		return nil // Accept has answered the client
	}
	ws.SetReadLimit(64 << 10)
	// The session rides in the context so that a send over the stream is
	// refused from the moment the session ends.
	base := context.Background()
	if h.domain.WithSession != nil {
		base = h.domain.WithSession(base, session)
	}
	ctx, cancel := context.WithCancel(base)
	c := &Conn{hub: h, ws: ws, id: plaza.NewID(), account: account, session: session, ctx: ctx, cancel: cancel, wake: make(chan struct{}, 1), limit: h.cfg.QueueLen,
		inFlight: make(chan struct{}, h.cfg.MaxInFlight), wsClosed: make(chan struct{})}
	if err := h.attach(r.Context(), c); err != nil {
		ws.Close(statusGoingAway, "server shutting down")
		cancel()
		return nil
	}
	if h.limits != nil {
		if err := h.limits.open(r.Context(), h, c); err != nil {
			h.log.Error("stream: apply the stream caps", "err", err)
			c.shutdown(websocket.StatusInternalError, "could not open the stream: reconnect")
			h.detach(c)
			go c.release()
			return nil
		}
	}
	last, err := c.catchUp(since)
	if err != nil {
		c.shutdown(websocket.StatusInternalError, "could not replay the sync log: reconnect with since=CURSOR")
		h.detach(c)
		go c.release()
		return nil
	}
	// The request's goroutine returns here and its stack, grown deep by
	// routing, authentication and the replay, goes with it: the device
	// lives on in two goroutines with shallow stacks. At ten thousand idle
	// devices per node that is most of the memory per connection.
	c.loops.Go(c.readLoop)
	c.loops.Go(func() {
		defer h.detach(c)
		c.writeLoop(last)
	})
	go c.release()
	return nil
}

// release waits for the device's goroutines and its WebSocket's close,
// then tells the hub the stream is gone (Close waits for that).
func (c *Conn) release() {
	c.loops.Wait()
	<-c.wsClosed
	c.hub.streamDone()
}

// catchUp replays the sync log after since and says ready; it returns the
// cursor of the last event written.
func (c *Conn) catchUp(since int64) (int64, error) {
	head, err := c.hub.events.Head(c.ctx, c.account)
	if err != nil {
		c.hub.log.Error("stream: read cursor", "err", err)
		return 0, err
	}
	last, err := c.replay(since, head)
	if err != nil {
		return 0, err
	}
	return last, c.write(events.ReadyFrame(last))
}

// offer queues a frame without blocking; a full queue means the device is
// too slow, and it is disconnected with 4008. The close frame goes out
// before the device's loops are cancelled (end, not shutdown): cancelling
// first would abort the write the device is behind on and drop the
// connection without a close frame, and the device would not learn to
// resume from its cursor.
func (c *Conn) offer(it item) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	if len(c.queue) >= c.limit {
		c.closed = true
		c.queue = nil
		c.mu.Unlock()
		c.hub.slowClosed.Inc()
		c.end(statusTooSlow, "too slow to keep up: reconnect with since=CURSOR")
		return
	}
	c.queue = append(c.queue, it)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default: // already signalled
	}
}

// take removes and returns every waiting frame.
func (c *Conn) take() []item {
	c.mu.Lock()
	defer c.mu.Unlock()
	q := c.queue
	c.queue = nil
	return q
}

func (c *Conn) shutdown(code websocket.StatusCode, reason string) {
	c.once.Do(func() {
		c.cancel()
		go func() {
			// Close waits for the peer's close frame; do not hold anyone.
			_ = c.ws.Close(code, reason)
			close(c.wsClosed)
		}()
	})
}

// writeLoop writes live frames after cursor last, in cursor order, filling
// any gap from the database.
func (c *Conn) writeLoop(last int64) {
	defer c.shutdown(websocket.StatusNormalClosure, "")
	var err error
	ping := time.NewTicker(c.hub.cfg.PingInterval)
	defer ping.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-ping.C:
			ctx, cancel := context.WithTimeout(c.ctx, c.hub.cfg.WriteTimeout)
			err := c.ws.Ping(ctx)
			cancel()
			if err != nil {
				return
			}
			// In case the bus lost the news that the session or the
			// account's standing ended.
			c.checkStanding()
		case <-c.wake:
			for _, it := range c.take() {
				switch {
				case it.seq == 0:
					err = c.write(it.frame)
				case it.seq <= last:
					continue // already delivered (replay overlap or a duplicate)
				case it.seq == last+1:
					err = c.write(it.frame)
					last = it.seq
				default:
					// A gap: events published out of order, or dropped.
					last, err = c.replay(last, it.seq)
				}
				if err != nil {
					return
				}
			}
		}
	}
}

// replay writes the stored events in (after, upTo] and returns the new
// last cursor.
func (c *Conn) replay(after, upTo int64) (int64, error) {
	for after < upTo {
		frames, seqs, err := c.hub.events.Replay(c.ctx, c.account, after, min(upTo, after+500))
		if err != nil {
			c.hub.log.Error("stream: replay", "err", err)
			return after, err
		}
		if len(frames) == 0 {
			// Pruned or not visible yet: nothing more to send.
			return upTo, nil
		}
		for i, f := range frames {
			if err := c.write(f); err != nil {
				return after, err
			}
			after = seqs[i]
		}
	}
	return after, nil
}

func (c *Conn) write(frame []byte) error {
	ctx, cancel := context.WithTimeout(c.ctx, c.hub.cfg.WriteTimeout)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, frame); err != nil {
		return err
	}
	c.hub.frames.Inc()
	return nil
}

// clientFrame is what a device sends.
type clientFrame struct {
	Type string          `json:"type"`
	ID   string          `json:"id"`
	Data json.RawMessage `json:"data"`
}

type sendData struct {
	ConversationID plaza.ID   `json:"conversation_id"`
	ClientID       string     `json:"client_id"`
	Kind           string     `json:"kind"`
	Text           string     `json:"text"`
	MediaID        *plaza.ID  `json:"media_id"`
	ReplyTo        *plaza.ID  `json:"reply_to"`
	Mentions       []plaza.ID `json:"mentions"`
}

func (c *Conn) readLoop() {
	defer c.shutdown(websocket.StatusNormalClosure, "")
	for {
		_, data, err := c.ws.Read(c.ctx)
		if err != nil {
			return
		}
		var f clientFrame
		if err := strictjson.Decode(data, &f); err != nil {
			if plaza.AsError(err) == nil {
				err = plaza.Invalid("frame", "must be a JSON object {\"type\", \"id\", \"data\"}")
			}
			c.reply(errorFrame(f.ID, err))
			continue
		}
		switch f.Type {
		case events.MessageSend:
			select {
			case c.inFlight <- struct{}{}:
			case <-c.ctx.Done():
				return
			}
			// The send is checked and queued here, before the next frame
			// is read, so a device's sends commit in the order it sent
			// them; their commits overlap (up to MaxInFlight), and the
			// acks leave in the same order (see ackLoop).
			c.pushAck(c.queueSend(f))
		case events.Typing:
			var d struct {
				ConversationID plaza.ID `json:"conversation_id"`
			}
			if err := strictjson.Decode(f.Data, &d); err != nil {
				c.reply(errorFrame(f.ID, dataError(err, "{\"conversation_id\"}")))
				continue
			}
			if err := c.hub.domain.Typing(c.ctx, c.account, d.ConversationID); err != nil && f.ID != "" {
				c.reply(errorFrame(f.ID, err))
			}
		default:
			c.reply(errorFrame(f.ID, plaza.Invalid("type", "must be message.send or typing")))
		}
	}
}

// A pendingAck is a message.send waiting for its reply: the commit's
// outcome (wait), or a reply already known (frame: the send was refused
// before it was queued).
type pendingAck struct {
	id    string
	wait  func() (any, error)
	frame []byte
}

// queueSend checks and queues the message of f.
func (c *Conn) queueSend(f clientFrame) pendingAck {
	var d sendData
	if err := strictjson.Decode(f.Data, &d); err != nil {
		return pendingAck{frame: errorFrame(f.ID, dataError(err, "{\"conversation_id\", \"client_id\", \"kind\", \"text\"}"))}
	}
	wait, err := c.hub.domain.Send(c.ctx, c.account, SendInput(d))
	if err != nil {
		return pendingAck{frame: c.sendError(f.ID, err)}
	}
	return pendingAck{id: f.ID, wait: wait}
}

func (c *Conn) sendError(id string, err error) []byte {
	if plaza.ErrorCode(err) == plaza.EInternal && !errors.Is(err, context.Canceled) {
		c.hub.log.Error("stream: send failed", "account_id", c.account.String(), "err", err)
	}
	return errorFrame(id, err)
}

// pushAck adds a send to the ones waiting for their reply, starting the
// goroutine that replies if none runs. That goroutine lives only while
// sends wait, so an idle device costs none.
func (c *Conn) pushAck(p pendingAck) {
	c.ackMu.Lock()
	c.acks = append(c.acks, p)
	start := !c.acking
	c.acking = true
	c.ackMu.Unlock()
	if start {
		c.loops.Go(c.ackLoop)
	}
}

// ackLoop replies to the waiting sends in the order they were queued,
// waiting for each one's commit, until none waits. A reply is sent even
// after the stream's context ends (it is then dropped), because the wait
// itself never depends on it: see chat.QueuedSend.Wait.
func (c *Conn) ackLoop() {
	var batch []pendingAck
	for {
		c.ackMu.Lock()
		clear(batch)
		batch, c.acks = c.acks, batch[:0]
		if len(batch) == 0 {
			c.acking = false
			c.ackMu.Unlock()
			return
		}
		c.ackMu.Unlock()
		for _, p := range batch {
			frame := p.frame
			if frame == nil {
				if v, err := p.wait(); err != nil {
					frame = c.sendError(p.id, err)
				} else {
					frame = events.ReplyFrame(events.MessageAck, p.id, v)
				}
			}
			c.reply(frame)
			<-c.inFlight
		}
	}
}

// dataError names the frame's data in a decoding error: strict checks
// name the field (as "data.text"); anything else is the shape rule.
func dataError(err error, shape string) error {
	if e := plaza.AsError(err); e != nil {
		if fields, ok := e.Details["fields"].([]plaza.FieldProblem); ok && len(fields) > 0 {
			var p plaza.Problems
			for _, fp := range fields {
				p.Add("data."+fp.Field, fp.Rule)
			}
			return p.Err()
		}
	}
	return plaza.Invalid("data", "must be "+shape)
}

func (c *Conn) reply(frame []byte) { c.offer(item{frame: frame}) }

func errorFrame(id string, err error) []byte { return events.ErrorFrame(id, err) }
