package bus

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
)

const (
	// A subscription may hold this many events (and bytes) received but
	// not yet handled before NATS drops its events as a slow consumer. The
	// limits bound memory per subscription; they are only reached by a
	// handler stuck far behind, since handlers must return quickly.
	natsPendingMsgs  = 1 << 20
	natsPendingBytes = 128 << 20

	// While the server is unreachable, publishes are buffered up to this
	// size and sent on reconnect; past it Publish fails (and the devices
	// catch up by syncing).
	natsReconnectBuf = 16 << 20

	natsReconnectWait = time.Second
	// Jitter spreads the reconnects of many nodes after a server restart.
	natsReconnectJitter = 500 * time.Millisecond

	// Close lets handlers finish the events already received for this
	// long before it cuts the connection.
	natsDrainTimeout = 10 * time.Second

	// natsConfirmTimeout bounds how long Subscribe waits for the server
	// to confirm a subscription, and Flush without a deadline.
	natsConfirmTimeout = 5 * time.Second

	// Inline subscriptions share natsInlineShards goroutines, each with a
	// queue of natsInlineQueue events; a full queue drops (and logs) like
	// a slow subscriber. See Subscribe.
	natsInlineShards = 4
	natsInlineQueue  = 1 << 16
)

// NATS is a bus on a NATS server or cluster, shared by every Plaza node.
// It uses core NATS, not JetStream: the database is the store of record,
// and an event a node misses (it was down, its connection dropped) reaches
// devices by syncing. Subjects go on the wire as prefix + "." + subject.
//
// NATS calls the handler of one subscription from one goroutine, in the
// order the server delivered the events; the server keeps the order of
// one connection's publishes on one subject.
type NATS struct {
	nc     *nats.Conn
	prefix string
	log    *slog.Logger
	m      *metrics // nil without WithRegisterer

	closing   atomic.Bool   // Close has begun: connection losses are expected
	closed    chan struct{} // closed when the connection is closed for good
	closeOnce sync.Once

	// The shards of inline subscriptions: their queues, the handler of
	// each subscription, and the goroutines that call them.
	inlineOnce sync.Once
	inline     []chan *nats.Msg
	handlers   sync.Map // *nats.Subscription → func([]byte)
	inlineStop chan struct{}
	stopInline sync.Once
	inlineWG   sync.WaitGroup
	seed       maphash.Seed

	loss lossFuncs
}

// OpenNATS connects to the NATS servers in urls (comma-separated
// nats:// or tls:// URLs). It fails if no server answers now; once
// connected it reconnects for ever, logging losses at Warn and recoveries
// at Info, never with event data.
func OpenNATS(urls, prefix string, opts ...Option) (*NATS, error) {
	if err := checkSubject(prefix); err != nil {
		return nil, fmt.Errorf("bus prefix: %w", err)
	}
	o := buildOptions(opts)
	b := &NATS{prefix: prefix, log: o.log, m: newMetrics(o.reg), closed: make(chan struct{})}
	var closedOnce sync.Once
	nc, err := nats.Connect(urls,
		nats.Name("plaza"),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(natsReconnectWait),
		nats.ReconnectJitter(natsReconnectJitter, natsReconnectJitter),
		nats.ReconnectBufSize(natsReconnectBuf),
		nats.DrainTimeout(natsDrainTimeout),
		nats.DisconnectErrHandler(b.disconnected),
		nats.ReconnectHandler(b.reconnected),
		nats.ErrorHandler(b.asyncError),
		nats.ClosedHandler(func(*nats.Conn) {
			closedOnce.Do(func() { close(b.closed) })
			if !b.closing.Load() {
				b.log.Error("bus: NATS connection closed; events no longer cross nodes", "prefix", b.prefix)
			}
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("bus: connect to NATS at %s: %w", redactURLs(urls), err)
	}
	b.nc = nc
	return b, nil
}

// Publish queues data for the server and returns without waiting for the
// network. While the server is unreachable it buffers up to 16 MiB of
// events, sent on reconnect, then fails. With metrics, a sample of events
// carries the publish time and the request ID in ctx (WithRequestID).
func (b *NATS) Publish(ctx context.Context, subject string, data []byte) error {
	if err := checkSubject(subject); err != nil {
		return fmt.Errorf("bus: publish: %w", err)
	}
	var err error
	if h := b.m.header(ctx); h != nil {
		err = b.nc.PublishMsg(&nats.Msg{Subject: b.prefix + "." + subject, Data: data, Header: h})
	} else {
		err = b.nc.Publish(b.prefix+"."+subject, data)
	}
	if err != nil {
		return fmt.Errorf("bus: publish %s: %w", subject, b.mapErr(err))
	}
	return nil
}

// Subscribe calls handler with every event later published on subject by
// any node. It waits for the server to confirm the subscription, so an
// event published after it returns reaches handler; while the server is
// unreachable it returns at once, and the subscription takes effect on
// reconnect.
func (b *NATS) Subscribe(subject string, handler func(data []byte), opts ...SubscribeOption) (Subscription, error) {
	if err := checkSubject(subject); err != nil {
		return nil, fmt.Errorf("bus: subscribe: %w", err)
	}
	if handler == nil {
		return nil, errors.New("bus: subscribe: nil handler")
	}
	var sub *nats.Subscription
	var err error
	if buildSubscribeOptions(opts).inline {
		// The client library gives every subscription of its own a
		// goroutine; a node subscribes once per connected account, so
		// at ten thousand accounts that was 3 KiB per connection. An
		// inline handler only hands events on, so inline subscriptions
		// share a few goroutines instead, each subject always the same
		// one (which keeps its order).
		sub, err = b.subscribeInline(subject, handler)
	} else {
		sub, err = b.nc.Subscribe(b.prefix+"."+subject, func(m *nats.Msg) {
			b.m.received(m, b.log)
			handler(m.Data)
		})
		if err == nil {
			if err = sub.SetPendingLimits(natsPendingMsgs, natsPendingBytes); err != nil {
				_ = sub.Unsubscribe()
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("bus: subscribe %s: %w", subject, b.mapErr(err))
	}
	if b.nc.IsConnected() {
		if err := b.nc.FlushTimeout(natsConfirmTimeout); err != nil {
			if b.nc.IsClosed() {
				_ = natsSub{sub, b}.Unsubscribe()
				return nil, fmt.Errorf("bus: subscribe %s: %w", subject, ErrClosed)
			}
			// The subscription stands and the client library renews it
			// on reconnect; only its start is uncertain.
			b.log.Warn("bus: NATS did not confirm a subscription in time", "prefix", b.prefix, "subject", subject, "err", err)
		}
	}
	return natsSub{sub, b}, nil
}

// subscribeInline subscribes handler through the shard of subject.
func (b *NATS) subscribeInline(subject string, handler func([]byte)) (*nats.Subscription, error) {
	b.inlineOnce.Do(func() {
		b.seed = maphash.MakeSeed()
		b.inlineStop = make(chan struct{})
		b.inline = make([]chan *nats.Msg, natsInlineShards)
		for i := range b.inline {
			b.inline[i] = make(chan *nats.Msg, natsInlineQueue)
			b.inlineWG.Go(func() { b.dispatch(b.inline[i]) })
		}
	})
	if b.inline == nil {
		return nil, nats.ErrConnectionClosed // Close ran first
	}
	ch := b.inline[maphash.String(b.seed, subject)%natsInlineShards]
	sub, err := b.nc.ChanSubscribe(b.prefix+"."+subject, ch)
	if err != nil {
		return nil, err
	}
	// Stored before Subscribe returns, so every event published after
	// that finds its handler.
	b.handlers.Store(sub, handler)
	return sub, nil
}

// dispatch calls the handlers of the events on ch until the bus closes,
// then those of the events still queued.
func (b *NATS) dispatch(ch chan *nats.Msg) {
	handle := func(m *nats.Msg) {
		// A subscription ended meanwhile has no handler: its events go.
		if h, ok := b.handlers.Load(m.Sub); ok {
			b.m.received(m, b.log)
			h.(func([]byte))(m.Data)
		}
	}
	for {
		select {
		case m := <-ch:
			handle(m)
		case <-b.inlineStop:
			for {
				select {
				case m := <-ch:
					handle(m)
				default:
					return
				}
			}
		}
	}
}

// Flush waits until the server has processed every event published so far
// on this bus (it has then passed them on to the subscribers' connections,
// whose handlers may not have run yet). Without a deadline in ctx it waits
// at most five seconds.
func (b *NATS) Flush(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, natsConfirmTimeout)
		defer cancel()
	}
	if err := b.nc.FlushWithContext(ctx); err != nil {
		return fmt.Errorf("bus: flush: %w", b.mapErr(err))
	}
	return nil
}

// Close drains the connection: it ends every subscription, lets handlers
// finish the events already received, sends what was published, then
// closes. It returns when the connection is closed.
func (b *NATS) Close() error {
	b.closeOnce.Do(func() {
		b.closing.Store(true)
		if err := b.nc.Drain(); err != nil {
			// Closed already, or reconnecting (Drain then closed it):
			// nothing is left to send.
			b.nc.Close()
			return
		}
		// Drain gives up after natsDrainTimeout on its own; the margin
		// only guards against a callback that never comes.
		t := time.NewTimer(natsDrainTimeout + natsConfirmTimeout + time.Second)
		defer t.Stop()
		select {
		case <-b.closed:
		case <-t.C:
			b.nc.Close()
		}
	})
	// The shards' queues are never closed (the client library might
	// still hold one); their goroutines finish what is queued and stop.
	b.inlineOnce.Do(func() {}) // no shards start after this: Subscribe fails
	if b.inlineStop != nil {
		b.stopInline.Do(func() { close(b.inlineStop) })
		b.inlineWG.Wait()
	}
	return nil
}

// mapErr turns the client library's "closed" errors into ErrClosed, so
// callers test one error for both buses.
func (b *NATS) mapErr(err error) error {
	if errors.Is(err, nats.ErrConnectionClosed) || errors.Is(err, nats.ErrConnectionDraining) || b.nc.IsClosed() {
		return ErrClosed
	}
	return err
}

// The handlers below run on the client library's callback goroutine.

func (b *NATS) disconnected(_ *nats.Conn, err error) {
	if b.closing.Load() {
		return
	}
	b.m.disconnected()
	b.log.Warn("bus: disconnected from NATS; reconnecting, events meanwhile are lost", "prefix", b.prefix, "err", err)
}

func (b *NATS) reconnected(nc *nats.Conn) {
	b.m.reconnected()
	b.log.Info("bus: reconnected to NATS", "prefix", b.prefix, "server", nc.ConnectedUrlRedacted())
	// The client library has sent the subscriptions again before calling
	// this; the round trip makes sure the server has them. A catch-up
	// that starts after it misses nothing: what was committed before it
	// is in the database, what is published after it arrives.
	if err := nc.FlushTimeout(natsConfirmTimeout); err != nil {
		b.log.Warn("bus: NATS did not confirm the renewed subscriptions in time", "prefix", b.prefix, "err", err)
	}
	b.loss.notify(LossReconnect)
}

// OnLoss registers fn, called after a reconnect and when a subscriber
// falls behind and its events are dropped (see LossNotifier).
func (b *NATS) OnLoss(fn func(Loss)) (stop func()) { return b.loss.add(fn) }

func (b *NATS) asyncError(_ *nats.Conn, sub *nats.Subscription, err error) {
	switch {
	case errors.Is(err, nats.ErrSlowConsumer) && sub != nil:
		// NATS reports a slow consumer once per episode, not per drop.
		dropped, _ := sub.Dropped()
		b.m.natsDropped(sub, dropped)
		b.log.Warn("bus: slow subscriber, dropping events", "subject", sub.Subject, "dropped", dropped)
		b.loss.notify(LossDropped)
	case sub != nil:
		b.log.Warn("bus: NATS error", "subject", sub.Subject, "err", err)
	default:
		b.log.Warn("bus: NATS error", "prefix", b.prefix, "err", err)
	}
}

// natsSub is a Subscription on NATS.
type natsSub struct {
	sub *nats.Subscription
	b   *NATS
}

// Unsubscribe ends the subscription.
func (s natsSub) Unsubscribe() error {
	err := s.sub.Unsubscribe()
	s.b.handlers.Delete(s.sub)
	s.b.m.forget(s.sub)
	switch {
	case err == nil,
		// Ended already: by an earlier Unsubscribe, or by Close.
		errors.Is(err, nats.ErrBadSubscription),
		errors.Is(err, nats.ErrConnectionClosed),
		errors.Is(err, nats.ErrConnectionDraining):
		return nil
	}
	return fmt.Errorf("bus: unsubscribe %s: %w", s.sub.Subject, err)
}

// redactURLs hides the credentials in a comma-separated list of server
// URLs, so an error message can quote it. The user part goes whole, since
// with token authentication the user name is the secret.
func redactURLs(urls string) string {
	parts := strings.Split(urls, ",")
	for i, p := range parts {
		if u, err := url.Parse(strings.TrimSpace(p)); err == nil && u.User != nil {
			u.User = url.User("redacted")
			parts[i] = u.String()
		}
	}
	return strings.Join(parts, ",")
}
