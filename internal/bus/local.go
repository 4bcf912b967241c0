package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
)

// localPendingLimit bounds the events queued for one subscription of a
// Local bus while its handler runs. It is reached only when publishers
// outpace one handler for a long while; past it, events are dropped and
// the drop is logged, as NATS does for a slow consumer. Dropping (rather
// than making Publish wait) keeps one slow subscriber from stalling the
// publisher, the chat writer that every sender waits on; the events are in
// the sync log, and the subscriber's device gets them back by syncing.
const localPendingLimit = 1 << 16

// Local is the in-process bus, for a Plaza node that runs alone. Publish
// calls Inline handlers itself; for every other subscription it queues
// the event and returns, and a goroutine of the subscription, started
// when its queue fills from empty and ended when it empties, calls the
// handler with the events in publish order. So a slow handler delays only
// its own subscription, never the publisher.
//
// Handlers of one subscription run one at a time, as Bus promises, except
// Inline ones (see Inline). No lock
// is held while a handler runs, so a handler may Publish, Subscribe or
// Unsubscribe (itself too) without deadlock. A handler that panics is
// logged and its subscription goes on. Close waits for the handlers that
// are running.
//
// A Local bus is alone in its process: two Local values never see each
// other's events, whatever their prefixes.
type Local struct {
	prefix string
	log    *slog.Logger
	m      *metrics // nil without WithRegisterer

	mu sync.RWMutex
	// subs holds the subscribers of each subject. A slice is replaced,
	// never modified, so Publish can iterate the one it read after
	// releasing mu.
	subs   map[string][]*localSub
	closed bool
	// running counts the subscriptions' delivery goroutines, for Close.
	running sync.WaitGroup
	loss    lossFuncs
}

// NewLocal returns an in-process bus. The prefix only labels its log
// lines: subjects of a Local bus never leave the process.
func NewLocal(prefix string, opts ...Option) *Local {
	o := buildOptions(opts)
	return &Local{prefix: prefix, log: o.log, m: newMetrics(o.reg), subs: make(map[string][]*localSub)}
}

// Publish queues data for every subscriber of subject, and calls the
// Inline ones; it does not wait for the others' handlers.
func (l *Local) Publish(_ context.Context, subject string, data []byte) error {
	if err := checkSubject(subject); err != nil {
		return fmt.Errorf("bus: publish: %w", err)
	}
	// Held while queueing (which never waits), so that Close, once it
	// holds mu, knows no delivery goroutine can start.
	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		return fmt.Errorf("bus: publish %s: %w", subject, ErrClosed)
	}
	subs := l.subs[subject]
	inline := false
	for _, s := range subs {
		if s.inline {
			inline = true
			continue
		}
		s.deliver(data)
	}
	if !inline {
		l.mu.RUnlock()
		return nil
	}
	// Inline handlers run after mu is released, so that one may
	// Unsubscribe; counted in running, so Close waits for them.
	l.running.Add(1)
	l.mu.RUnlock()
	defer l.running.Done()
	for _, s := range subs {
		if s.inline {
			s.call(data)
		}
	}
	return nil
}

// Subscribe calls handler with every event later published on subject.
func (l *Local) Subscribe(subject string, handler func(data []byte), opts ...SubscribeOption) (Subscription, error) {
	if err := checkSubject(subject); err != nil {
		return nil, fmt.Errorf("bus: subscribe: %w", err)
	}
	if handler == nil {
		return nil, errors.New("bus: subscribe: nil handler")
	}
	s := &localSub{bus: l, subject: subject, handler: handler, inline: buildSubscribeOptions(opts).inline}
	s.active.Store(true)

	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, fmt.Errorf("bus: subscribe %s: %w", subject, ErrClosed)
	}
	old := l.subs[subject]
	next := make([]*localSub, len(old), len(old)+1)
	copy(next, old)
	l.subs[subject] = append(next, s)
	return s, nil
}

// Close ends every subscription and waits for the handlers already
// running; no handler starts afterwards. A handler must not call Close.
func (l *Local) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	subs := l.subs
	l.subs = nil
	l.mu.Unlock()

	for _, list := range subs {
		for _, s := range list {
			s.end()
		}
	}
	l.running.Wait()
	return nil
}

// OnLoss registers fn, called when a subscriber falls behind and its
// events start being dropped (see LossNotifier).
func (l *Local) OnLoss(fn func(Loss)) (stop func()) { return l.loss.add(fn) }

func (l *Local) remove(s *localSub) {
	l.mu.Lock()
	defer l.mu.Unlock()
	old := l.subs[s.subject] // nil once closed
	i := 0
	for i < len(old) && old[i] != s {
		i++
	}
	if i == len(old) {
		return
	}
	if len(old) == 1 {
		delete(l.subs, s.subject)
		return
	}
	next := make([]*localSub, 0, len(old)-1)
	next = append(next, old[:i]...)
	l.subs[s.subject] = append(next, old[i+1:]...)
}

// localSub is one subscription of a Local bus.
type localSub struct {
	bus     *Local
	subject string
	handler func([]byte)
	inline  bool // called on the publisher's goroutine (Inline)
	// active is checked before each call, so an event already on its way
	// when Unsubscribe or Close returns is not delivered.
	active atomic.Bool

	mu sync.Mutex
	// running is true while the subscription's goroutine delivers; events
	// published meanwhile are appended to queue, which it delivers next.
	running  bool
	queue    [][]byte
	spare    [][]byte // the previous queue, kept for reuse
	dropping bool     // events are being dropped; logged once per episode
}

// deliver queues data, starting the delivery goroutine if none runs. The
// caller holds bus.mu for reading.
func (s *localSub) deliver(data []byte) {
	s.mu.Lock()
	if s.running {
		startedDropping := s.enqueue(data)
		s.mu.Unlock()
		if startedDropping {
			s.bus.log.Warn("bus: slow subscriber, dropping events", "prefix", s.bus.prefix, "subject", s.subject, "pending", localPendingLimit)
			s.bus.loss.notify(LossDropped)
		}
		return
	}
	s.running = true
	s.mu.Unlock()
	s.bus.running.Add(1)
	go func() {
		defer s.bus.running.Done()
		s.run(data)
	}()
}

// enqueue queues data, or drops it when the queue is full, reporting
// whether this drop starts a new episode. s.mu must be held.
func (s *localSub) enqueue(data []byte) (startedDropping bool) {
	if len(s.queue) >= localPendingLimit {
		s.bus.m.drop(1)
		startedDropping = !s.dropping
		s.dropping = true
		return startedDropping
	}
	s.queue = append(s.queue, data)
	return false
}

// run calls the handler with data, then with whatever was queued
// meanwhile, until the queue is empty. s.running must be set.
func (s *localSub) run(data []byte) {
	s.call(data)
	var batch [][]byte
	for {
		s.mu.Lock()
		if batch != nil {
			clear(batch) // let the delivered events be collected
			s.spare = batch[:0]
		}
		if len(s.queue) == 0 {
			s.running = false
			dropped := s.dropping
			s.dropping = false
			s.mu.Unlock()
			if dropped {
				// Events dropped after the first notice were lost too:
				// a catch-up that ran then did not see them.
				s.bus.loss.notify(LossDropped)
			}
			return
		}
		batch, s.queue, s.spare = s.queue, s.spare, nil
		s.mu.Unlock()

		for _, d := range batch {
			s.call(d)
		}
	}
}

// call runs the handler on one event, unless the subscription ended. A
// panic is logged: it must neither end the process nor stop the
// subscription.
func (s *localSub) call(data []byte) {
	defer func() {
		if r := recover(); r != nil {
			s.bus.log.Error("bus: subscriber panicked", "prefix", s.bus.prefix, "subject", s.subject, "panic", r)
		}
	}()
	if s.active.Load() {
		s.handler(data)
	}
}

// end stops deliveries and frees the queue.
func (s *localSub) end() bool {
	if !s.active.Swap(false) {
		return false
	}
	s.mu.Lock()
	s.queue, s.spare = nil, nil
	s.mu.Unlock()
	return true
}

// Unsubscribe ends the subscription.
func (s *localSub) Unsubscribe() error {
	if s.end() {
		s.bus.remove(s)
	}
	return nil
}
