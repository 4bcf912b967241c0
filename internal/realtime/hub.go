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
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/bus"
	"github.com/plaza-im/plaza/internal/events"
)

// Config tunes the hub.
type Config struct {
	// QueueLen bounds the frames waiting for one device; past it the
	// device is disconnected as too slow.
	QueueLen int
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
	return Config{QueueLen: 1024, PingInterval: 30 * time.Second, WriteTimeout: 10 * time.Second, MaxInFlight: 64}
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

// StandingCheck returns nil while the session is live and its account may
// act, and otherwise the API's error saying why not
// (unauthenticated, account_suspended, account_closed,
// terms_acceptance_required).
type StandingCheck func(ctx context.Context, account, session plaza.ID) error

// Hub tracks the devices connected to this node.
type Hub struct {
	cfg    Config
	bus    bus.Bus
	events *events.Log
	domain Domain
	log    *slog.Logger

	// Lock order: subMu, then mu. subMu serialises subscription changes,
	// which may wait on the network (a NATS subscribe is a round trip);
	// mu guards the maps only briefly, so delivering events never waits
	// behind a device that is connecting.
	subMu    sync.Mutex
	mu       sync.Mutex
	accounts map[plaza.ID]*accountConns
	topics   map[string]*topicSubs
	closed   bool
	// live counts the streams attached and the hub's own goroutines that
	// have not finished yet; Close waits for it to reach zero. Guarded by
	// mu; idle is signalled (with mu) when it does.
	live int
	idle *sync.Cond

	// followed lists, for an account, the subjects of the channels and
	// authors it follows (UseChannels, UseAuthors).
	followed []func(ctx context.Context, account plaza.ID) ([]string, error)
	// standing re-checks streams (UseStanding); allSub carries the
	// control messages for every stream; limits caps them (UseLimits).
	standing StandingCheck
	allSub   bus.Subscription
	limits   *limiter

	// controls are control messages from account subjects waiting for
	// the goroutine that applies them (controlLoop, running while any
	// wait). Account subscriptions are Inline: their handler runs on the
	// publisher's goroutine and must not block, while a control may
	// read the database or subscribe.
	ctlMu      sync.Mutex
	controls   []accountControl
	ctlRunning bool

	conns      prometheus.Gauge
	frames     prometheus.Counter
	slowClosed prometheus.Counter
}

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
}

// topicSubs are the accounts on this node that follow a channel (or a
// microblog author above the fan-out threshold), and the one bus
// subscription on its subject that serves them all: a post is published
// once, however many followers.
type topicSubs struct {
	sub      bus.Subscription
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
	h.idle = sync.NewCond(&h.mu)
	reg.MustRegister(h.conns, h.frames, h.slowClosed)
	return h
}

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
	var follows []string
	for _, f := range h.followed {
		subjects, err := f(ctx, c.account)
		if err != nil {
			return err
		}
		follows = append(follows, subjects...)
	}
	h.subMu.Lock()
	defer h.subMu.Unlock()
	h.mu.Lock()
	closed, ac := h.closed, h.accounts[c.account]
	h.mu.Unlock()
	if closed {
		return plaza.Errorf(plaza.EGone, "the server is shutting down")
	}
	if ac == nil {
		account := c.account
		sub, err := h.bus.Subscribe(events.AccountSubject(account), func(data []byte) { h.deliver(account, data) }, bus.Inline())
		if err != nil {
			return err
		}
		ac = &accountConns{sub: sub, conns: map[*Conn]struct{}{}, topics: map[string]bool{}}
		h.mu.Lock()
		h.accounts[account] = ac
		h.mu.Unlock()
		for _, subject := range follows {
			h.followLocked(account, ac, subject)
		}
	}
	h.mu.Lock()
	ac.conns[c] = struct{}{}
	h.live++ // until c.release
	h.mu.Unlock()
	h.conns.Inc()
	return nil
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
	h.subMu.Lock()
	defer h.subMu.Unlock()
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
	if last {
		delete(h.accounts, c.account)
	}
	h.mu.Unlock()
	h.conns.Dec()
	if last {
		if err := ac.sub.Unsubscribe(); err != nil {
			h.log.Warn("bus unsubscribe failed", "err", err)
		}
		for subject := range ac.topics {
			h.unfollowLocked(c.account, ac, subject)
		}
	}
}

// followLocked adds account to the listeners of a followed channel's or
// author's subject, subscribing to it if it is the first on this node.
// h.subMu is held (not h.mu: the subscribe may wait on the network).
func (h *Hub) followLocked(account plaza.ID, ac *accountConns, subject string) {
	h.mu.Lock()
	already, cs := ac.topics[subject], h.topics[subject]
	h.mu.Unlock()
	if already {
		return
	}
	if cs == nil {
		sub, err := h.bus.Subscribe(subject, func(data []byte) { h.deliverTopic(subject, data) }, bus.Inline())
		if err != nil {
			h.log.Warn("bus subscribe to followed posts failed; they reach this node's followers through their feed or timeline", "subject", subject, "err", err)
			return
		}
		cs = &topicSubs{sub: sub, accounts: map[plaza.ID]bool{}}
	}
	h.mu.Lock()
	h.topics[subject] = cs
	cs.accounts[account] = true
	ac.topics[subject] = true
	h.mu.Unlock()
}

// unfollowLocked undoes followLocked. h.subMu is held.
func (h *Hub) unfollowLocked(account plaza.ID, ac *accountConns, subject string) {
	h.mu.Lock()
	delete(ac.topics, subject)
	cs := h.topics[subject]
	empty := false
	if cs != nil {
		delete(cs.accounts, account)
		if empty = len(cs.accounts) == 0; empty {
			delete(h.topics, subject)
		}
	}
	h.mu.Unlock()
	if empty {
		if err := cs.sub.Unsubscribe(); err != nil {
			h.log.Warn("bus unsubscribe failed", "err", err)
		}
	}
}

// deliverTopic hands a channel's or an author's post to the connected
// devices of every follower on this node.
func (h *Hub) deliverTopic(subject string, frame []byte) {
	h.mu.Lock()
	var targets []*Conn
	if cs := h.topics[subject]; cs != nil {
		for a := range cs.accounts {
			if ac := h.accounts[a]; ac != nil {
				for c := range ac.conns {
					targets = append(targets, c)
				}
			}
		}
	}
	h.mu.Unlock()
	for _, c := range targets {
		c.offer(item{frame: frame})
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
	h.subMu.Lock()
	defer h.subMu.Unlock()
	h.mu.Lock()
	ac := h.accounts[account]
	h.mu.Unlock()
	if ac == nil {
		return // no device of that account here
	}
	if fc.Follow {
		h.followLocked(account, ac, fc.Subject())
	} else {
		h.unfollowLocked(account, ac, fc.Subject())
	}
}

// deliver hands a bus event to each device of the account. It never
// blocks: a device whose queue is full is disconnected.
func (h *Hub) deliver(account plaza.ID, data []byte) {
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
	ac := h.accounts[account]
	var targets []*Conn
	if ac != nil {
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

// Close disconnects every device (they reconnect to another node or after
// the restart) and ends the subscriptions.
func (h *Hub) Close() {
	h.mu.Lock()
	h.closed = true
	var all []*Conn
	for _, ac := range h.accounts {
		for c := range ac.conns {
			all = append(all, c)
		}
	}
	h.mu.Unlock()
	for _, c := range all {
		c.shutdown(statusGoingAway, "server shutting down: reconnect with since=CURSOR")
	}
	if h.allSub != nil {
		_ = h.allSub.Unsubscribe()
	}
	if l := h.limits; l != nil {
		l.stop()
		<-l.done
	}
	// Every stream was told to close: wait until their goroutines end
	// (bounded by the WebSocket library's close handshake timeout).
	h.mu.Lock()
	for h.live > 0 {
		h.idle.Wait()
	}
	h.mu.Unlock()
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
