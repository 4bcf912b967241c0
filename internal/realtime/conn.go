package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
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

// resyncSeq marks the item that makes flush catch up from the log.
const resyncSeq = -1

// resyncRetry is how long a stream whose resync could not read the log
// waits, plus up to as long again, before it tries again.
const resyncRetry = 2 * time.Second

// logReadError is a failure to read the sync log (not to write to the
// device): a resync that meets it is tried again later.
type logReadError struct{ err error }

func (e *logReadError) Error() string { return "read the sync log: " + e.err.Error() }
func (e *logReadError) Unwrap() error { return e.err }

// readLimit bounds a frame a device sends.
const readLimit = 64 << 10

// item is a frame waiting to be written: seq is its place in the account's
// sync log, 0 for frames outside it (acks, errors, typing); resyncSeq (no
// frame) asks for a catch-up from the database up to head (0: read it).
type item struct {
	seq   int64
	frame []byte
	head  int64
}

// Conn is one connected device. It owns no goroutine while the device is
// idle: frames are written by a goroutine that runs only while some wait
// (flush), or for a followed post to an idle device by the hub's fan-out
// worker (offerNow), replies by one that runs only while sends wait for their
// commit (ackLoop), and pings come from the hub's timer wheel. What the
// device sends arrives through its transport, in order, at handleFrame.
type Conn struct {
	hub     *Hub
	t       transport
	id      plaza.ID // this stream, for the caps across nodes
	account plaza.ID
	session plaza.ID // the session it was opened in
	ctx     context.Context
	cancel  context.CancelFunc

	// The queue is a slice that grows only while frames wait, so an idle
	// device costs a few bytes rather than a pre-allocated channel
	// buffer: memory per idle connection is a target.
	mu          sync.Mutex
	queue       []item
	queuedBytes int
	limit       int
	closed      bool  // no frame is queued any more
	live        bool  // caught up: queued frames may be written
	flushing    bool  // flush runs
	last        int64 // cursor of the last event written; flush's own once live

	once sync.Once // the close begins once
	// ending is set once the close has begun: a frame the device sends
	// after it is not run (a send racing a suspension, or after a 4008).
	ending   atomic.Bool
	goneOnce sync.Once
	inFlight chan struct{}
	// acks are the device's sends waiting for their reply, in the order
	// they were queued; acking is true while ackLoop runs.
	ackMu  sync.Mutex
	acks   []pendingAck
	acking bool

	// started is done once the stream has caught up: frames the device
	// sends before that wait (the event-loop transport reads at once).
	started sync.WaitGroup
	// refs counts what keeps the stream: its transport's connection and
	// the goroutines running for it (flush, ackLoop, a read loop or a
	// ping). The last to end releases the stream (finish).
	refs atomic.Int32

	// The hub's timer wheel (see wheel): the slot the stream waits in
	// (-1: none), its duty there, and its neighbours.
	wslot        int
	wduty        uint8
	wprev, wnext *Conn

	// fanSlot is the hub's fan-out worker that hands this device the
	// posts it follows; set at attach.
	fanSlot int
}

// Serve upgrades the request to a WebSocket for account, signed in with
// session, and runs the device until it disconnects or the session or
// the account's standing ends. since is the cursor to resume after; a
// negative since starts from the account's current cursor.
func (h *Hub) Serve(w http.ResponseWriter, r *http.Request, account, session plaza.ID, since int64) error {
	// Refuse a cursor ahead of the log or expired before upgrading, with
	// the API's error (a new stream's cursor, the head, has nothing to
	// expire).
	head, err := h.events.Resumable(r.Context(), account, since)
	if err != nil {
		return err
	}
	if since < 0 {
		since = head
	}
	// The session rides in the context so that a send over the stream is
	// refused from the moment the session ends.
	base := context.Background()
	if h.domain.WithSession != nil {
		base = h.domain.WithSession(base, session)
	}
	ctx, cancel := context.WithCancel(base)
	c := &Conn{hub: h, id: plaza.NewID(), account: account, session: session, ctx: ctx, cancel: cancel, limit: h.cfg.QueueLen,
		inFlight: make(chan struct{}, h.cfg.MaxInFlight), wslot: -1}
	// One reference for the connection, until transportGone, and one
	// for this call: the stream is not released while it is set up.
	c.refs.Store(2)
	defer c.unhold()
	c.started.Add(1)
	defer c.started.Done() // frames that arrived meanwhile go on, or end with the stream
	if !h.open() {
		cancel()
		return plaza.Errorf(plaza.EUnavailable, "the server is shutting down: reconnect")
	}
	var std *stdTransport
	if loop := h.eventLoop(r); loop != nil {
		if loop.accept(w, r, c) == nil {
			c.t = nil // set by accept before the event loop reads
		}
	} else if std = acceptStd(w, r, c); std != nil {
		c.t = std
	}
	if c.t == nil {
		c.transportGone() // the upgrade was answered or the connection is gone
		return nil
	}
	if err := h.attach(r.Context(), c); err != nil {
		c.shutdown(statusGoingAway, "server shutting down")
		return nil
	}
	if h.limits != nil {
		if err := h.limits.open(r.Context(), h, c); err != nil {
			h.log.Error("stream: apply the stream caps", "err", err)
			c.shutdown(websocket.StatusInternalError, "could not open the stream: reconnect")
			return nil
		}
	}
	last, err := c.catchUp(since)
	if err != nil {
		c.shutdown(websocket.StatusInternalError, "could not replay the sync log: reconnect with since=CURSOR")
		return nil
	}
	// The request's goroutine returns here and its stack, grown deep by
	// routing, authentication and the replay, goes with it.
	c.mu.Lock()
	c.last, c.live = last, true
	c.mu.Unlock()
	c.kick()
	h.wheel.add(c, dutyPing, h.cfg.PingInterval)
	if std != nil {
		std.start()
	}
	return nil
}

// hold adds a reference to the stream unless it was released already.
func (c *Conn) hold() bool {
	for {
		n := c.refs.Load()
		if n <= 0 {
			return false
		}
		if c.refs.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// unhold drops a reference; the last one releases the stream.
func (c *Conn) unhold() {
	if c.refs.Add(-1) == 0 {
		c.finish()
	}
}

// transportGone is called once the connection is closed: no frame is
// queued any more, and the stream ends once its goroutines have.
func (c *Conn) transportGone() {
	c.goneOnce.Do(func() {
		c.mu.Lock()
		c.closed = true
		c.queue, c.queuedBytes = nil, 0
		c.mu.Unlock()
		c.cancel()
		c.unhold()
	})
}

// finish tells the hub the stream is gone (Close waits for that).
func (c *Conn) finish() {
	c.hub.wheel.remove(c)
	c.hub.detach(c)
	c.hub.streamDone()
}

// catchUp replays the sync log after since and says ready; it returns the
// cursor of the last event written.
func (c *Conn) catchUp(since int64) (int64, error) {
	ctx, cancel := c.readCtx()
	defer cancel()
	head, err := c.hub.events.Head(ctx, c.account)
	if err != nil {
		c.hub.log.Error("stream: read cursor", "err", err)
		return 0, err
	}
	last, err := c.replay(since, head)
	if err != nil {
		return 0, err
	}
	return last, c.writeFrames([][]byte{events.ReadyFrame(last)})
}

// offer queues a frame without blocking; a device with too many frames or
// bytes waiting is too slow, and it is disconnected with 4008. The close
// frame goes out after the frames already written (end, not shutdown):
// the device reads what it was sent, then learns to resume from its
// cursor.
func (c *Conn) offer(it item) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	if len(c.queue) >= c.limit || c.queuedBytes+len(it.frame)+c.transportQueued() > c.hub.cfg.QueueBytes {
		c.mu.Unlock()
		c.tooSlow()
		return
	}
	c.queue = append(c.queue, it)
	c.queuedBytes += len(it.frame)
	start := c.live && !c.flushing
	c.flushing = c.flushing || start
	c.mu.Unlock()
	if start {
		c.startFlush()
	}
}

// offerNow is offer for a frame outside the sync log (seq 0) from a
// caller that hands one frame to many devices: a device with nothing
// waiting and no flush running, on a transport whose write never blocks,
// has the frame written at once by the caller, without a goroutine of its
// own. It reports false, having done nothing, when the frame must go
// through offer instead.
func (c *Conn) offerNow(frame []byte) bool {
	if _, ok := c.t.(*nbioConn); !ok {
		return false
	}
	c.mu.Lock()
	if c.closed || !c.live || c.flushing || len(c.queue) > 0 ||
		len(frame)+c.transportQueued() > c.hub.cfg.QueueBytes || !c.hold() {
		c.mu.Unlock()
		return false
	}
	c.flushing = true // frames offered meanwhile wait behind this one
	c.mu.Unlock()
	defer func() {
		// The stream may have ended meanwhile: releasing it reads the
		// database, which the caller's other devices must not wait for.
		if c.refs.Add(-1) == 0 {
			go c.finish()
		}
	}()
	if err := c.writeFrames([][]byte{frame}); err != nil {
		c.shutdown(websocket.StatusNormalClosure, "")
		return true
	}
	c.mu.Lock()
	more := len(c.queue) > 0 && !c.closed
	c.flushing = more
	c.mu.Unlock()
	if more {
		c.startFlush()
	}
	return true
}

// tooSlow disconnects a device that does not read what it is sent: no
// frame is queued any more, and the close frame goes after those written.
func (c *Conn) tooSlow() {
	c.mu.Lock()
	already := c.closed
	c.closed = true
	c.queue, c.queuedBytes = nil, 0
	c.mu.Unlock()
	if !already {
		c.hub.slowClosed.Inc()
	}
	c.end(statusTooSlow, "too slow to keep up: reconnect with since=CURSOR")
}

func (c *Conn) transportQueued() int {
	if c.t == nil {
		return 0
	}
	return c.t.queued()
}

// kick starts flush if frames wait (they were queued while the stream
// caught up).
func (c *Conn) kick() {
	c.mu.Lock()
	start := c.live && !c.flushing && !c.closed && len(c.queue) > 0
	c.flushing = c.flushing || start
	c.mu.Unlock()
	if start {
		c.startFlush()
	}
}

func (c *Conn) startFlush() {
	if !c.hold() {
		return
	}
	go func() {
		defer c.unhold()
		c.flush()
	}()
}

// take removes and returns every waiting frame; with none it marks flush
// as ended.
func (c *Conn) take() []item {
	c.mu.Lock()
	defer c.mu.Unlock()
	q := c.queue
	c.queue, c.queuedBytes = nil, 0
	if len(q) == 0 || c.closed {
		c.flushing = false
		return nil
	}
	return q
}

// flush writes the waiting frames until none waits: all that wait at
// once go to the transport together, which writes them in one system
// call where it can. Events go in cursor order; a gap is filled from the
// database.
func (c *Conn) flush() {
	var frames [][]byte
	for {
		q := c.take()
		if q == nil {
			return
		}
		frames = frames[:0]
		var err error
		for _, it := range q {
			switch {
			case it.seq == resyncSeq:
				// The bus may have lost events: write what waits,
				// then whatever the log holds beyond it.
				if err = c.writeFrames(frames); err == nil {
					frames = frames[:0]
					c.last, err = c.resyncFromLog(it.head)
					var re *logReadError
					if errors.As(err, &re) {
						// The database is slow or down: the device stays,
						// and tries again in a few seconds.
						err = nil
						time.AfterFunc(resyncRetry+rand.N(resyncRetry), func() { c.offer(item{seq: resyncSeq}) })
					}
				}
			case it.seq == 0:
				frames = append(frames, it.frame)
			case it.seq <= c.last:
				continue // already delivered (replay overlap or a duplicate)
			case it.seq == c.last+1:
				frames = append(frames, it.frame)
				c.last = it.seq
			default:
				// A gap: events published out of order, or dropped.
				if err = c.writeFrames(frames); err == nil {
					frames = frames[:0]
					c.last, err = c.replay(c.last, it.seq)
				}
			}
			if err != nil {
				break
			}
		}
		if err == nil {
			err = c.writeFrames(frames)
		}
		clear(frames)
		if err != nil {
			c.shutdown(websocket.StatusNormalClosure, "")
			return
		}
	}
}

func (c *Conn) shutdown(code websocket.StatusCode, reason string) {
	c.once.Do(func() {
		c.ending.Store(true)
		c.cancel()
		c.t.close(code, reason, false)
	})
}

// readCtx bounds a read of the sync log by the write timeout but not by
// the stream's end: a device that drops during its catch-up would
// otherwise cancel the query half-way, and on PostgreSQL every such
// cancel costs a cancel request and the pool's connection with it; in a
// reconnect storm of devices that come and go, that left the pool with
// broken connections that failed other devices' connects.
func (c *Conn) readCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(c.ctx), c.hub.cfg.WriteTimeout)
}

// replay writes the stored events in (after, upTo] and returns the new
// last cursor.
func (c *Conn) replay(after, upTo int64) (int64, error) {
	for after < upTo {
		if c.ctx.Err() != nil {
			return after, c.ctx.Err()
		}
		ctx, cancel := c.readCtx()
		frames, seqs, err := c.hub.events.Replay(ctx, c.account, after, min(upTo, after+500))
		cancel()
		if err != nil {
			c.hub.log.Error("stream: replay", "err", err)
			return after, &logReadError{err}
		}
		if len(frames) == 0 {
			// Pruned or not visible yet: nothing more to send.
			return upTo, nil
		}
		if err := c.writeFrames(frames); err != nil {
			return after, err
		}
		after = seqs[len(seqs)-1]
		// A transport that never blocks would take the whole log into
		// memory: wait until the device has read most of this page.
		if err := c.t.drain(c.hub.cfg.QueueBytes / 2); err != nil {
			return after, err
		}
	}
	return after, nil
}

// resyncFromLog writes the events of the account's log after the last
// one written, up to head (read here if 0), and returns the new last
// cursor. A head and its events are committed together, so every event
// up to it is there.
func (c *Conn) resyncFromLog(head int64) (int64, error) {
	if head == 0 {
		ctx, cancel := c.readCtx()
		var err error
		head, err = c.hub.events.Head(ctx, c.account)
		cancel()
		if err != nil {
			c.hub.log.Error("stream: resync", "err", err)
			return c.last, &logReadError{err}
		}
	}
	if head <= c.last {
		return c.last, nil
	}
	return c.replay(c.last, head)
}

func (c *Conn) writeFrames(frames [][]byte) error {
	if len(frames) == 0 {
		return nil
	}
	if err := c.t.write(frames); err != nil {
		return err
	}
	c.hub.frames.Add(float64(len(frames)))
	return nil
}

// clientFrame is what a device sends.
type clientFrame struct {
	Type string          `json:"type"`
	ID   string          `json:"id"`
	Data json.RawMessage `json:"data"`
}

// decodeSend decodes a message.send frame whole; ok is false for any
// other frame, and for a send with anything wrong. The frames devices
// send nearly always take decodeSendQuick's one pass; the rest are
// checked by strictjson.
func decodeSend(data []byte) (sendFrame, bool) {
	if quick, ok := decodeSendQuick(data); ok {
		return quick, true
	}
	var sf sendFrame
	err := strictjson.Decode(data, &sf)
	return sf, err == nil && sf.Type == events.MessageSend && sf.Data != nil
}

// sendFrame is a message.send frame decoded whole. Data is nil when the
// frame has none or null: the frame is then decoded as a clientFrame, which
// says what is wrong.
type sendFrame struct {
	Type string    `json:"type"`
	ID   string    `json:"id"`
	Data *sendData `json:"data"`
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

// handleFrame runs one frame the device sent. It returns false once the
// stream is ending.
func (c *Conn) handleFrame(data []byte) bool {
	if c.ending.Load() {
		// The device was told why its stream ends; what it sent meanwhile
		// would get no reply, and must not take effect.
		return false
	}
	// Most frames are sends, decoded whole, data included: the usual
	// frame in one pass (decodeSendQuick), others checked by strictjson
	// and then decoded, where decoding the frame and then its data read
	// their bytes five times. A frame this does not take, of another type
	// or with an error anywhere, is decoded as before, so that errors
	// name the frame's ID and the field as always.
	if sf, ok := decodeSend(data); ok {
		select {
		case c.inFlight <- struct{}{}:
		case <-c.ctx.Done():
			return false
		}
		c.pushAck(c.queueSendData(sf.ID, *sf.Data))
		return true
	}
	var f clientFrame
	if err := strictjson.Decode(data, &f); err != nil {
		if plaza.AsError(err) == nil {
			err = plaza.Invalid("frame", "must be a JSON object {\"type\", \"id\", \"data\"}")
		}
		c.reply(errorFrame(f.ID, err))
		return true
	}
	switch f.Type {
	case events.MessageSend:
		select {
		case c.inFlight <- struct{}{}:
		case <-c.ctx.Done():
			return false
		}
		// The send is checked and queued here, before the next frame
		// is handled, so a device's sends commit in the order it sent
		// them; their commits overlap (up to MaxInFlight), and the
		// acks leave in the same order (see ackLoop).
		c.pushAck(c.queueSend(f))
	case events.Typing:
		var d struct {
			ConversationID plaza.ID `json:"conversation_id"`
		}
		if err := strictjson.Decode(f.Data, &d); err != nil {
			c.reply(errorFrame(f.ID, dataError(err, "{\"conversation_id\"}")))
			return true
		}
		if err := c.hub.domain.Typing(c.ctx, c.account, d.ConversationID); err != nil && f.ID != "" {
			c.reply(errorFrame(f.ID, err))
		}
	default:
		c.reply(errorFrame(f.ID, plaza.Invalid("type", "must be message.send or typing")))
	}
	return true
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
	return c.queueSendData(f.ID, d)
}

// queueSendData checks and queues a send's decoded data.
func (c *Conn) queueSendData(id string, d sendData) pendingAck {
	wait, err := c.hub.domain.Send(c.ctx, c.account, SendInput(d))
	if err != nil {
		return pendingAck{frame: c.sendError(id, err)}
	}
	return pendingAck{id: id, wait: wait}
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
	if start && c.hold() {
		go func() {
			defer c.unhold()
			c.ackLoop()
		}()
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
