// Package bus fans events out between the nodes of a Plaza cluster: the
// in-process Local bus on one machine, NATS across many. The bus is not a
// store: the database is the record of everything, and a subscriber that
// misses an event (a dropped connection, a node restart) gets it back by
// syncing from the database. So the bus may drop, but must never reorder
// what one publisher sent on one subject.
package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// Bus publishes and subscribes to subjects.
//
// Subjects are dot-separated tokens such as "acct.42", matched exactly: no
// wildcards, no spaces, no empty tokens. Both implementations reject the
// same subjects, so code that runs on the local bus also runs on NATS.
//
// Ordering: events that one Bus value publishes on one subject from one
// goroutine reach each subscriber of that subject in publish order.
// Handlers of one subscription run one at a time (unless Inline); they must return quickly
// (hand the data to a bounded queue), because a slow handler delays every
// later event of that subscription, and past a generous limit its events
// are dropped (and logged), not buffered without bound.
//
// Data is not copied on the local bus: every subscriber gets the slice the
// publisher passed. A publisher must not modify data after Publish, and a
// handler must not modify the data it gets.
type Bus interface {
	// Publish sends data to every current subscriber of subject. It does
	// not wait for delivery. It does not fail because ctx is done: the
	// events it carries describe changes already committed, so they are
	// sent even when the request that made them has gone.
	Publish(ctx context.Context, subject string, data []byte) error
	// Subscribe calls handler with the data of each event published on
	// subject from now on, until the subscription ends. When it returns,
	// the subscription is in place: an event that any Bus sharing the
	// prefix publishes afterwards reaches it.
	Subscribe(subject string, handler func(data []byte), opts ...SubscribeOption) (Subscription, error)
	// Close ends every subscription and releases the connection. Publish
	// and Subscribe then fail with ErrClosed; Close again returns nil.
	Close() error
}

// A SubscribeOption configures one subscription.
type SubscribeOption func(*subscribeOptions)

type subscribeOptions struct {
	inline bool
}

// Inline marks a handler that only hands each event on (to a bounded
// queue, say) and never blocks. The local bus then calls it on the
// publisher's goroutine, sparing the hop to a goroutine of the
// subscription's own for every event; such a handler may run on several
// publishers' goroutines at once (events from one publisher reach it in
// order), so it must be safe for concurrent use, and it is never dropped
// from as a slow subscriber. NATS ignores the option: its handlers run on
// the subscription's goroutine.
func Inline() SubscribeOption {
	return func(o *subscribeOptions) { o.inline = true }
}

func buildSubscribeOptions(opts []SubscribeOption) subscribeOptions {
	var o subscribeOptions
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// Subscription is a live subscription.
type Subscription interface {
	// Unsubscribe ends the subscription: once it returns, the handler is
	// not called for events published afterwards. A handler may
	// unsubscribe its own subscription. Unsubscribing an ended
	// subscription, or after Close, returns nil.
	Unsubscribe() error
}

// ErrClosed is the error (tested with errors.Is) of Publish and Subscribe
// on a closed bus.
var ErrClosed = errors.New("bus closed")

// Open returns the bus named by url: "local" (or "") for the in-process
// bus, "nats://host:port[,…]" (or "tls://…") for NATS. Every subject is
// prefixed with prefix (e.g. "plaza"), so several clusters, or test runs,
// can share one NATS server; the prefix must itself be a valid subject.
// opts (WithLogger, WithRegisterer) apply to either kind.
func Open(url, prefix string, opts ...Option) (Bus, error) {
	// Checked for both kinds, so a prefix that works locally works on NATS.
	if err := checkSubject(prefix); err != nil {
		return nil, fmt.Errorf("bus prefix: %w", err)
	}
	switch {
	case url == "" || url == "local":
		return NewLocal(prefix, opts...), nil
	case strings.HasPrefix(url, "nats://") || strings.HasPrefix(url, "tls://"):
		return OpenNATS(url, prefix, opts...)
	default:
		return nil, fmt.Errorf("bus URL must be local or nats://host:port[,…] (got %q)", url)
	}
}

// An Option configures a bus made by NewLocal or OpenNATS.
type Option func(*options)

type options struct {
	log *slog.Logger
	reg prometheus.Registerer
}

// WithLogger sets the logger that reports dropped events and, on NATS,
// connection losses and recoveries. The default is slog.Default().
func WithLogger(log *slog.Logger) Option {
	return func(o *options) {
		if log != nil {
			o.log = log
		}
	}
}

func buildOptions(opts []Option) options {
	o := options{log: slog.Default()}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// checkSubject accepts what NATS accepts as a literal subject, minus the
// wildcard characters anywhere, so the local bus refuses exactly what NATS
// would refuse (or silently treat as a pattern).
func checkSubject(subject string) error {
	if subject == "" {
		return errors.New("empty subject")
	}
	prev := byte('.') // a leading dot is an empty first token
	for i := 0; i < len(subject); i++ {
		c := subject[i]
		switch {
		case c <= ' ' || c == 0x7f:
			return fmt.Errorf("subject %q contains a space or control character", subject)
		case c == '*' || c == '>':
			return fmt.Errorf("subject %q contains a wildcard", subject)
		case c == '.' && prev == '.':
			return fmt.Errorf("subject %q has an empty token", subject)
		}
		prev = c
	}
	if prev == '.' {
		return fmt.Errorf("subject %q has an empty token", subject)
	}
	return nil
}
