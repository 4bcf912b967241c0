// Package realtime delivers events to connected devices over WebSockets.
// Each node subscribes on the bus to the accounts of the devices connected
// to it, and forwards each event to every device of the account, in the
// order of the account's sync log: a device that sees a gap (an event
// published out of order by another writer, or a bus that dropped one)
// fills it from the database before going on, so delivery is gap-free and
// at least once. A device that cannot keep up is disconnected with a
// reason, and resumes from its cursor when it reconnects.
package realtime

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/bus"
	"github.com/plaza-im/plaza/internal/events"
)

// Config tunes the hub.
type Config struct {
	// Transport serves the streams: TransportNBIO (the default) or
	// TransportStd. Requests that arrived over TLS use TransportStd.
	Transport string
	// QueueLen bounds the frames waiting for one device, and QueueBytes
	// the bytes (waiting to be written, or written and not yet taken by
	// the device's socket); past either the device is disconnected as
	// too slow.
	QueueLen   int
	QueueBytes int
	// PingInterval is how often the server pings an idle device; a device
	// that does not answer within WriteTimeout is dropped.
	PingInterval time.Duration
	WriteTimeout time.Duration
	// MaxInFlight bounds the sends one device may have waiting for
	// their commit.
	MaxInFlight int
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{Transport: TransportNBIO, QueueLen: 1024, QueueBytes: 1 << 20, PingInterval: 30 * time.Second, WriteTimeout: 10 * time.Second, MaxInFlight: 64}
}

// SendInput is a message.send frame's message.
type SendInput struct {
	ConversationID plaza.ID
	ClientID       string
	Kind           string
	Text           string
	MediaID        *plaza.ID
	ReplyTo        *plaza.ID
	Mentions       []plaza.ID
}

// Domain is what the stream needs from the domain packages, given at
// wiring time so that this package depends on package events alone.
type Domain struct {
	// Send checks the message of a message.send frame and queues it for
	// storing, returning at once; wait then returns what its message.ack
	// carries once it is stored. Sends queued one after another must
	// commit in that order. ctx carries the stream's session
	// (WithSession).
	Send func(ctx context.Context, account plaza.ID, in SendInput) (wait func() (any, error), err error)
	// Typing tells the conversation's other members that account types.
	Typing func(ctx context.Context, account, conversation plaza.ID) error
	// WithSession marks ctx with the session the stream was opened in, so
	// that a send is refused from the moment the session ends. Optional.
	WithSession func(ctx context.Context, session plaza.ID) context.Context
}

// StreamRef names an open stream by its account and session.
type StreamRef struct{ Account, Session plaza.ID }

// StandingCheck re-checks open streams together: errs[i] is nil while
// refs[i]'s session is live and its account may act, and otherwise the
// API's error saying why not (unauthenticated, account_suspended,
// account_closed, terms_acceptance_required). err is the check's own
// failure (the database is unreachable), which closes nothing. The hub
// passes at most standingBatch streams at a time.
type StandingCheck func(ctx context.Context, refs []StreamRef) (errs []error, err error)

// Hub tracks the devices connected to this node.
type Hub struct {
	cfg    Config
	bus    bus.Bus
	events *events.Log
	domain Domain
	log    *slog.Logger

	// mu guards the maps only briefly and is never held across a bus
	// call (a NATS subscribe is a round trip): the first device of an
	// account subscribes with no lock held while later ones wait for
	// that subscription alone (accountConns.ready), so connects of
	// different accounts never wait for each other, and delivering
	// events never waits behind a device that is connecting.
	mu       sync.Mutex
	accounts map[plaza.ID]*accountConns
	topics   map[string]*topicSubs
	closed   bool
	// live counts the streams attached and the hub's own goroutines that
	// have not finished yet; Close waits for it to reach zero. Guarded by
	// mu; idle is signalled (with mu) when it does.
	live int
	idle *sync.Cond

	// wheel pings every stream; loop is the event loop of the nbio
	// transport, started by the first stream that needs it.
	wheel    *wheel
	stopOnce sync.Once
	loopMu   sync.Mutex
	loop     *nbioLoop
	loopErr  error

	// followed lists, for an account, the subjects of the channels and
	// authors it follows (UseChannels, UseAuthors).
	followed []func(ctx context.Context, account plaza.ID) ([]string, error)
	// standing re-checks streams (UseStanding); allSub carries the
	// control messages for every stream; limits caps them (UseLimits).
	standing StandingCheck
	// checks bounds the standing re-checks' database calls; Close cancels
	// it so that a re-check never holds the hub's shutdown.
	checks     context.Context
	stopChecks context.CancelFunc
	allSub     bus.Subscription
	limits     *limiter
	// presence is told of each account's first device on this node and
	// of its last one leaving (UsePresence); called with mu held.
	presence func(account plaza.ID, online bool)

	// controls are control messages from account subjects waiting for
	// the goroutine that applies them (controlLoop, running while any
	// wait). Account subscriptions are Inline: their handler runs on the
	// publisher's goroutine and must not block, while a control may
	// read the database or subscribe.
	ctlMu      sync.Mutex
	controls   []accountControl
	ctlRunning bool

	// fan hands followed posts to their devices (deliverTopic).
	fan *fanout

	conns      prometheus.Gauge
	frames     prometheus.Counter
	slowClosed prometheus.Counter
	resyncs    prometheus.Counter
	// stopLoss unregisters the hub from the bus's loss notices. A loss
	// reported while a resync waits joins it (resyncPending); resyncs
	// start at most once per resyncGap (lastResync), which grows while
	// the database fails them. recheckAll marks the re-check of every
	// stream's standing as running (recheckAgain: asked again meanwhile).
	stopLoss      func()
	resyncMu      sync.Mutex
	resyncPending bool
	lastResync    time.Time
	resyncGap     time.Duration
	trailing      time.Duration // trailingResync; tests change it
	recheckAll    bool
	recheckAgain  bool
}

// The spacing of resyncs: a bus that keeps reporting losses (a slow
// subscriber, episode after episode) must not turn into a read of every
// stream's log each time, and a database that fails them must not be
// asked again at once.
const (
	minResyncInterval = time.Second
	maxResyncInterval = 30 * time.Second
	// trailingResync is when a loss's second pass runs: events dropped
	// after the first pass read the heads are caught then.
	trailingResync = 5 * time.Second
)

// accountControl is a control message for the streams of an account.
type accountControl struct {
	account plaza.ID
	data    []byte
}

// accountConns are one account's devices on this node and the bus
// subscription that feeds them.
type accountConns struct {
	sub    bus.Subscription
	conns  map[*Conn]struct{}
	topics map[string]bool // subjects of followed channels and authors subscribed for it
	// ready is closed once the first device's attach has subscribed
	// (sub set) or failed (err set).
	ready chan struct{}
	err   error
}

// topicSubs are the accounts on this node that follow a channel (or a
// microblog author above the fan-out threshold), and the one bus
// subscription on its subject that serves them all: a post is published
// once, however many followers.
type topicSubs struct {
	sub      bus.Subscription // nil while the first follower subscribes
	accounts map[plaza.ID]bool
}

// NewHub returns a hub that streams the sync log evs and runs devices'
// frames with d; reg receives its metrics.
func NewHub(cfg Config, b bus.Bus, evs *events.Log, d Domain, log *slog.Logger, reg prometheus.Registerer) *Hub {
	h := &Hub{
		cfg: cfg, bus: b, events: evs, domain: d, log: log,
		accounts: map[plaza.ID]*accountConns{},
		topics:   map[string]*topicSubs{},
		conns: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "plaza_realtime_connections", Help: "Devices connected to this node's event stream.",
		}),
		frames: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "plaza_realtime_frames_sent_total", Help: "Frames written to devices.",
		}),
		slowClosed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "plaza_realtime_slow_consumers_total", Help: "Devices disconnected because they fell behind.",
		}),
	}
	h.resyncs = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "plaza_realtime_resyncs_total", Help: "Times this node's streams caught up from the database because the bus may have lost events.",
	})
	h.idle = sync.NewCond(&h.mu)
	h.checks, h.stopChecks = context.WithCancel(context.Background())
	h.fan = newFanout()
	h.wheel = newWheel(cfg.PingInterval, cfg.WriteTimeout)
	go h.wheel.run(h.due)
	reg.MustRegister(h.conns, h.frames, h.slowClosed, h.resyncs)
	h.resyncGap, h.trailing = minResyncInterval, trailingResync
	if ln, ok := b.(bus.LossNotifier); ok {
		h.stopLoss = ln.OnLoss(h.onLoss)
	}
	return h
}

// onLoss is told by the bus that events may have been lost. Every stream
// here catches up now and once more a little later (events may still be
// dropped after the first pass read the heads). After a reconnect, events
// this node published just before it lost its server may have reached
// nobody: every node is asked to catch up too.
func (h *Hub) onLoss(kind bus.Loss) {
	h.resync()
	time.AfterFunc(h.trailing, h.resync)
	if kind == bus.LossReconnect {
		if err := h.bus.Publish(context.Background(), AllSubject, events.ControlEnvelope(resyncAll)); err != nil {
			h.log.Warn("could not ask the other nodes to resync their streams", "err", err)
		}
	}
}

// resync makes every stream on this node catch up from the database: the
// bus may have lost events (its connection dropped, or it fell behind).
// Without it, a lost event would reach a device only with the account's
// next event, which may never come. Standing is re-checked too, in case a
// sign-out or suspension was among what was lost. Events of followed
// channels and authors carry no cursor and are not replayed; they are in
// the channel and the timeline when read.
//
// It returns at once: the work runs on a goroutine of its own, at most
// once per resyncGap.
func (h *Hub) resync() {
	h.resyncMu.Lock()
	if h.resyncPending {
		h.resyncMu.Unlock()
		return
	}
	h.resyncPending = true
	wait := time.Until(h.lastResync.Add(h.resyncGap))
	h.resyncMu.Unlock()
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.live++ // until the resync is done; Close waits for it
	h.mu.Unlock()
	go func() {
		defer h.streamDone()
		if wait > 0 {
			time.Sleep(wait)
		}
		h.resyncMu.Lock()
		// A loss reported from now on needs another pass.
		h.resyncPending = false
		h.lastResync = time.Now()
		h.resyncMu.Unlock()
		ok := h.resyncNow()
		h.resyncMu.Lock()
		if ok {
			h.resyncGap = minResyncInterval
		} else {
			h.resyncGap = min(2*h.resyncGap, maxResyncInterval)
		}
		h.resyncMu.Unlock()
		if !ok {
			h.resync() // after the longer gap
		}
	}()
}

// resyncNow reads the heads of the accounts with streams here, a few
// queries for all of them, each with its own deadline, and has each
// stream behind its head catch up. It reports false if some heads could
// not be read: those streams wait for the next pass (never one query per
// stream, which would pile onto a database that is already failing).
func (h *Hub) resyncNow() bool {
	h.mu.Lock()
	closed := h.closed
	h.mu.Unlock()
	if closed {
		return true
	}
	h.resyncs.Inc()
	conns := h.openConns()
	seen := make(map[plaza.ID]bool, len(conns))
	accounts := make([]plaza.ID, 0, len(conns))
	for _, c := range conns {
		if !seen[c.account] {
			seen[c.account] = true
			accounts = append(accounts, c.account)
		}
	}
	heads := make(map[plaza.ID]int64, len(accounts))
	var failed error
	for lo := 0; lo < len(accounts) && failed == nil; lo += events.HeadsPerQuery {
		ctx, cancel := context.WithTimeout(context.Background(), h.cfg.WriteTimeout)
		part, err := h.events.Heads(ctx, accounts[lo:min(lo+events.HeadsPerQuery, len(accounts))])
		cancel()
		if err != nil {
			failed = err
		}
		for a, head := range part {
			heads[a] = head
		}
	}
	for _, c := range conns {
		if head, ok := heads[c.account]; ok {
			c.offer(item{seq: resyncSeq, head: head})
		}
	}
	if failed != nil {
		h.log.Warn("stream resync: reading the heads failed; the streams left wait for the next pass", "streams", len(conns), "heads_read", len(heads), "err", failed)
	}
	h.recheck(0)
	return failed == nil
}

// open counts a new stream as live (Close waits for it), unless the hub
// is closed.
func (h *Hub) open() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.live++ // until the stream's finish
	return true
}

// eventLoop returns the nbio event loop for a request, starting it the
// first time, or nil if the request is to use coder/websocket: the hub
// is configured so, the request came over TLS (nbio takes over only a
// plain socket), or the loop could not start.
func (h *Hub) eventLoop(r *http.Request) *nbioLoop {
	if h.cfg.Transport == TransportStd || r.TLS != nil {
		return nil
	}
	h.loopMu.Lock()
	defer h.loopMu.Unlock()
	if h.loop == nil && h.loopErr == nil {
		if h.loop, h.loopErr = startNBIO(h.log); h.loopErr != nil {
			h.log.Error("stream: the event loop did not start; streams use coder/websocket", "err", h.loopErr)
		}
	}
	return h.loop
}

// due does the wheel's duties for conns: ping those whose time came, and
// re-check their standing off the wheel's goroutine; drop those that did
// not answer the ping before.
func (h *Hub) due(conns []*Conn, duties []uint8) {
	var check []*Conn
	for i, c := range conns {
		if c.ctx.Err() != nil {
			continue // ending
		}
		switch duties[i] {
		case dutyPing:
			c.t.ping()
			check = append(check, c)
			h.wheel.add(c, dutyCheck, h.cfg.WriteTimeout)
		case dutyCheck:
			if a, ok := c.t.(interface{ alive() bool }); ok && !a.alive() {
				c.shutdown(websocket.StatusNormalClosure, "")
				continue
			}
			h.wheel.add(c, dutyPing, h.cfg.PingInterval-h.cfg.WriteTimeout)
		}
	}
	if h.standing == nil || len(check) == 0 {
		return
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.live++ // Close waits for the re-checks
	h.mu.Unlock()
	go func() {
		defer h.streamDone()
		// In case the bus lost the news that the session or the
		// account's standing ended.
		h.checkStandings(check)
	}()
}

// UsePresence makes the hub call presence when an account's first device
// connects to this node (online true) and when its last one here leaves
// (false), in that order for each account. It is called with the hub's
// lock held, so it must only note the change and return (never block, nor
// call the hub). Call it while wiring, before any stream.
func (h *Hub) UsePresence(presence func(account plaza.ID, online bool)) { h.presence = presence }

// UseChannels makes the hub deliver posts of the channels each connected
// account follows; followed lists them. Call it while wiring.
func (h *Hub) UseChannels(followed func(ctx context.Context, account plaza.ID) ([]plaza.ID, error)) {
	h.useTopics(followed, events.ChannelSubject)
}

// UseAuthors makes the hub deliver the posts that microblog authors above
// the fan-out threshold publish on their subject (events.AuthorSubject)
// to the connected accounts that follow them; followed lists those
// authors for an account. Call it while wiring.
func (h *Hub) UseAuthors(followed func(ctx context.Context, account plaza.ID) ([]plaza.ID, error)) {
	h.useTopics(followed, events.AuthorSubject)
}

func (h *Hub) useTopics(followed func(ctx context.Context, account plaza.ID) ([]plaza.ID, error), subject func(plaza.ID) string) {
	h.followed = append(h.followed, func(ctx context.Context, account plaza.ID) ([]string, error) {
		ids, err := followed(ctx, account)
		if err != nil {
			return nil, err
		}
		out := make([]string, len(ids))
		for i, id := range ids {
			out[i] = subject(id)
		}
		return out, nil
	})
}

// attach registers c and, for the account's first device on this node,
// subscribes to its subject and its followed channels. It must happen
// before the device's replay starts, so no event falls between the replay
// and live delivery.
func (h *Hub) attach(ctx context.Context, c *Conn) error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return plaza.Errorf(plaza.EGone, "the server is shutting down")
	}
	ac := h.accounts[c.account]
	first := ac == nil
	if first {
		ac = &accountConns{conns: map[*Conn]struct{}{}, topics: map[string]bool{}, ready: make(chan struct{})}
		h.accounts[c.account] = ac
	}
	c.fanSlot = h.fan.slot()
	ac.conns[c] = struct{}{}
	if first && h.presence != nil {
		h.presence(c.account, true)
	}
	h.mu.Unlock()
	h.conns.Inc()
	if first {
		sub, err := h.subscribeAccount(ctx, c.account, ac)
		h.mu.Lock()
		ac.sub, ac.err = sub, err
		h.mu.Unlock()
		close(ac.ready)
		return err
	}
	select {
	case <-ac.ready:
	case <-ctx.Done():
		return ctx.Err()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return ac.err
}

// subscribeAccount subscribes to the account's subject and the subjects
// it follows, for its first device on this node.
func (h *Hub) subscribeAccount(ctx context.Context, account plaza.ID, ac *accountConns) (bus.Subscription, error) {
	var follows []string
	for _, f := range h.followed {
		subjects, err := f(ctx, account)
		if err != nil {
			return nil, err
		}
		follows = append(follows, subjects...)
	}
	sub, err := h.bus.Subscribe(events.AccountSubject(account), func(data []byte) { h.deliver(account, ac, data) }, bus.Inline())
	if err != nil {
		return nil, err
	}
	for _, subject := range follows {
		h.follow(account, ac, subject)
	}
	return sub, nil
}

// streamDone ends one count of live.
func (h *Hub) streamDone() {
	h.mu.Lock()
	h.live--
	if h.live == 0 {
		h.idle.Broadcast()
	}
	h.mu.Unlock()
}

func (h *Hub) detach(c *Conn) {
	if h.limits != nil {
		h.limits.close(c)
	}
	h.mu.Lock()
	ac := h.accounts[c.account]
	if ac == nil {
		h.mu.Unlock()
		return
	}
	if _, ok := ac.conns[c]; !ok {
		h.mu.Unlock()
		return
	}
	delete(ac.conns, c)
	last := len(ac.conns) == 0
	var topics []string
	if last {
		// Every device that waited on ready holds a place in conns, so
		// the first device's subscribe has ended by now.
		delete(h.accounts, c.account)
		for subject := range ac.topics {
			topics = append(topics, subject)
		}
		if h.presence != nil {
			h.presence(c.account, false)
		}
	}
	h.mu.Unlock()
	h.conns.Dec()
	if !last {
		return
	}
	if ac.sub != nil {
		if err := ac.sub.Unsubscribe(); err != nil {
			h.log.Warn("bus unsubscribe failed", "err", err)
		}
	}
	for _, subject := range topics {
		h.unfollow(c.account, ac, subject)
	}
}

// follow adds account to the listeners of a followed channel's or
// author's subject, subscribing to it if it is the first on this node.
// No lock is held across the subscribe; followers that come meanwhile
// share it.
func (h *Hub) follow(account plaza.ID, ac *accountConns, subject string) {
	h.mu.Lock()
	if ac.topics[subject] {
		h.mu.Unlock()
		return
	}
	ts := h.topics[subject]
	first := ts == nil
	if first {
		ts = &topicSubs{accounts: map[plaza.ID]bool{}}
		h.topics[subject] = ts
	}
	ts.accounts[account] = true
	ac.topics[subject] = true
	h.mu.Unlock()
	if !first {
		return
	}
	sub, err := h.bus.Subscribe(subject, func(data []byte) { h.deliverTopic(subject, ts, data) }, bus.Inline())
	h.mu.Lock()
	current := h.topics[subject] == ts
	switch {
	case err != nil:
		h.log.Warn("bus subscribe to followed posts failed; they reach this node's followers through their feed or timeline", "subject", subject, "err", err)
		if current {
			delete(h.topics, subject)
			for a := range ts.accounts {
				if ac := h.accounts[a]; ac != nil {
					delete(ac.topics, subject)
				}
			}
		}
	case current:
		ts.sub, sub = sub, nil
	}
	h.mu.Unlock()
	if sub != nil {
		// Every follower left while it subscribed.
		_ = sub.Unsubscribe()
	}
}

// unfollow undoes follow.
func (h *Hub) unfollow(account plaza.ID, ac *accountConns, subject string) {
	h.mu.Lock()
	delete(ac.topics, subject)
	ts := h.topics[subject]
	var sub bus.Subscription
	if ts != nil {
		delete(ts.accounts, account)
		if len(ts.accounts) == 0 {
			delete(h.topics, subject)
			sub = ts.sub // nil while its subscribe runs: follow drops it then
		}
	}
	h.mu.Unlock()
	if sub != nil {
		if err := sub.Unsubscribe(); err != nil {
			h.log.Warn("bus unsubscribe failed", "err", err)
		}
	}
}

// deliverTopic hands a channel's or an author's post to the connected
// devices of every follower on this node.
func (h *Hub) deliverTopic(subject string, ts *topicSubs, frame []byte) {
	h.mu.Lock()
	var targets []*Conn
	if cs := h.topics[subject]; cs == ts {
		for a := range cs.accounts {
			if ac := h.accounts[a]; ac != nil {
				for c := range ac.conns {
					targets = append(targets, c)
				}
			}
		}
	}
	h.mu.Unlock()
	if len(targets) > 0 {
		h.fan.hand(frame, targets)
	}
}

// control applies a message meant for this node: a follow change, a
// standing re-check or a stream to close. account is 0 for a message on
// AllSubject.
func (h *Hub) control(account plaza.ID, data []byte) {
	var m control
	if err := json.Unmarshal(data, &m); err != nil {
		h.log.Warn("bad control message", "err", err)
		return
	}
	switch {
	case m.Resync:
		h.resync()
		return
	case m.Recheck:
		h.recheck(account)
		return
	case m.CloseStream != 0:
		h.closeStream(account, m.CloseStream)
		return
	case account == 0 || m.FollowControl == nil:
		return
	}
	fc := *m.FollowControl
	h.mu.Lock()
	ac := h.accounts[account]
	h.mu.Unlock()
	if ac == nil {
		return // no device of that account here
	}
	select {
	case <-ac.ready:
	case <-time.After(h.cfg.WriteTimeout):
		return // its first device's subscribe is stuck; it follows at its next connect
	}
	if fc.Follow {
		h.follow(account, ac, fc.Subject())
	} else {
		h.unfollow(account, ac, fc.Subject())
	}
}

// deliver hands a bus event to each device of the account. It never
// blocks: a device whose queue is full is disconnected.
func (h *Hub) deliver(account plaza.ID, ac *accountConns, data []byte) {
	seq, frame, err := events.ParseEnvelope(data)
	if err != nil {
		h.log.Warn("bad bus event", "err", err)
		return
	}
	if seq == events.ControlSeq {
		h.queueControl(account, frame)
		return
	}
	h.mu.Lock()
	var targets []*Conn
	// A subscription of an earlier set of the account's devices may
	// still deliver while it ends: only the current one counts.
	if h.accounts[account] == ac {
		targets = make([]*Conn, 0, len(ac.conns))
		for c := range ac.conns {
			targets = append(targets, c)
		}
	}
	h.mu.Unlock()
	for _, c := range targets {
		c.offer(item{seq: seq, frame: frame})
	}
}

// queueControl hands a control message to controlLoop, starting it if
// none runs. Controls are applied one at a time, in the order they
// arrive, so that a follow and the unfollow after it end as they should.
func (h *Hub) queueControl(account plaza.ID, data []byte) {
	h.ctlMu.Lock()
	h.controls = append(h.controls, accountControl{account, data})
	start := !h.ctlRunning
	h.ctlRunning = true
	h.ctlMu.Unlock()
	if start {
		h.mu.Lock()
		h.live++ // until controlLoop returns; Close waits for it
		h.mu.Unlock()
		go h.controlLoop()
	}
}

// controlLoop applies the waiting controls until none waits.
func (h *Hub) controlLoop() {
	defer h.streamDone()
	var batch []accountControl
	for {
		h.ctlMu.Lock()
		clear(batch)
		batch, h.controls = h.controls, batch[:0]
		if len(batch) == 0 {
			h.ctlRunning = false
			h.ctlMu.Unlock()
			return
		}
		h.ctlMu.Unlock()
		for _, c := range batch {
			h.control(c.account, c.data)
		}
	}
}

// Close disconnects every device still connected (after Drain, those
// that attached too late for it) with 1012: they reconnect to another
// node or after the restart. It ends the subscriptions.
func (h *Hub) Close() {
	h.mu.Lock()
	h.closed = true
	h.mu.Unlock()
	h.stopChecks()
	if h.stopLoss != nil {
		h.stopLoss()
	}
	for _, c := range h.openConns() {
		c.restart()
	}
	if h.allSub != nil {
		_ = h.allSub.Unsubscribe()
	}
	if l := h.limits; l != nil {
		l.stop()
		<-l.done
	}
	// Every stream was told to close: wait until their goroutines end
	// (bounded by the close handshake's timeout).
	h.mu.Lock()
	for h.live > 0 {
		h.idle.Wait()
	}
	h.mu.Unlock()
	h.stopOnce.Do(func() { close(h.wheel.stop) }) // Close may be called again
	<-h.wheel.done
	h.loopMu.Lock()
	if h.loop != nil {
		h.loop.stop()
		h.loop = nil
	}
	h.loopErr = plaza.Errorf(plaza.EGone, "the hub is closed")
	h.loopMu.Unlock()
}

// Connections returns how many devices are connected to this node.
func (h *Hub) Connections() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, ac := range h.accounts {
		n += len(ac.conns)
	}
	return n
}

// FollowNotifier returns the function that the channel and microblog
// domains call when an account follows or unfollows a channel or an
// author above the fan-out threshold: it tells the nodes where the
// account's devices are connected, over the bus, to start or stop
// delivering those posts to them.
func FollowNotifier(b bus.Bus, log *slog.Logger) func(ctx context.Context, account plaza.ID, c events.FollowControl) {
	return func(ctx context.Context, account plaza.ID, c events.FollowControl) {
		data, _ := json.Marshal(c)
		if err := b.Publish(ctx, events.AccountSubject(account), events.ControlEnvelope(data)); err != nil {
			log.Warn("bus publish of a follow change failed; connected devices see the channel's posts after reconnecting", "err", err)
		}
	}
}
