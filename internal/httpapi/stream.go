package httpapi

import (
	"context"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/chat"
	"github.com/plaza-im/plaza/internal/realtime"
)

// StreamDomain returns what the realtime hub needs from the chat and
// account domains: the hub depends on package events alone, and the
// program wires the domains in here.
func StreamDomain(c *chat.Service) realtime.Domain {
	return realtime.Domain{
		Send: func(ctx context.Context, acct plaza.ID, in realtime.SendInput) (func() (any, error), error) {
			q, err := c.Queue(ctx, acct, chat.SendInput(in))
			if err != nil {
				return nil, err
			}
			return func() (any, error) {
				// The batch encoded the message for its event already:
				// the ack carries those bytes (events.ReplyFrame).
				m, err := q.WaitJSON()
				return m, err
			}, nil
		},
		Typing:      c.Typing,
		WithSession: account.WithSession,
	}
}

// StreamStanding returns the hub's check that a stream's session is live
// and its account may act.
func StreamStanding(a *account.Service) realtime.StandingCheck {
	return func(ctx context.Context, refs []realtime.StreamRef) ([]error, error) {
		streams := make([]account.StreamRef, len(refs))
		for i, r := range refs {
			streams[i] = account.StreamRef(r)
		}
		return a.StreamsStanding(ctx, streams)
	}
}
