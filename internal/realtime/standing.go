package realtime

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/coder/websocket"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/bus"
	"github.com/plaza-im/plaza/internal/events"
)

// Close codes that tell a device why its stream ended and what to do.
const (
	// StatusSessionEnded: the session was signed out, revoked, ended by a
	// password change or the account's deletion. Sign in again.
	StatusSessionEnded websocket.StatusCode = 4001
	// StatusAccountRestricted: the account was suspended or closed; GET
	// /api/v1/me says why.
	StatusAccountRestricted websocket.StatusCode = 4003
	// StatusTermsRequired: new terms must be accepted (POST
	// /api/v1/me/consents) before reconnecting.
	StatusTermsRequired websocket.StatusCode = 4005
	// StatusReplaced: the account or session opened more streams than
	// allowed, and this was the oldest.
	StatusReplaced websocket.StatusCode = 4009
)

// AllSubject is the bus subject of control messages for every node about
// every stream, such as "re-check everyone: new terms need consent".
const AllSubject = events.AllSubject

// control is a message for the nodes themselves on an account's subject
// (or AllSubject): a follow change, a request to re-check the account's
// streams, or to close one stream.
type control struct {
	// A follow change is sent by the channel domain as a bare
	// FollowControl; a pointer keeps its fields out of the other messages.
	*events.FollowControl
	// Recheck asks every node to re-check the standing of the account's
	// streams (all streams, on AllSubject) and close those that lost it.
	Recheck bool `json:"recheck,omitempty"`
	// CloseStream names one stream to close: it is over a cap.
	CloseStream plaza.ID `json:"close_stream,omitempty"`
	// Resync asks every node to have its streams catch up from the
	// database: a node lost its bus server, and events it published just
	// before may have reached nobody.
	Resync bool `json:"resync,omitempty"`
}

// UseStanding makes the hub close streams whose session ended or whose
// account may no longer act: when told over the bus (see StandingNotifier)
// and, in case such a message was lost, at every ping. Call it while
// wiring; it subscribes to AllSubject.
func (h *Hub) UseStanding(check StandingCheck) error {
	h.standing = check
	sub, err := h.bus.Subscribe(AllSubject, func(data []byte) {
		_, frame, err := events.ParseEnvelope(data)
		if err != nil {
			h.log.Warn("bad bus control message", "err", err)
			return
		}
		h.control(0, frame)
	})
	if err != nil {
		return err
	}
	h.allSub = sub
	return nil
}

// resyncAll is the control message that has every node resync.
var resyncAll, _ = json.Marshal(control{Resync: true})

// StandingNotifier returns the account domain's hook that tells every
// node, over the bus, to re-check the streams of an account whose sessions
// or standing changed (account 0: every account's).
func StandingNotifier(b bus.Bus, log *slog.Logger) func(ctx context.Context, acct plaza.ID) {
	data, _ := json.Marshal(control{Recheck: true})
	return func(ctx context.Context, acct plaza.ID) {
		subject := AllSubject
		if acct != 0 {
			subject = events.AccountSubject(acct)
		}
		if err := b.Publish(ctx, subject, events.ControlEnvelope(data)); err != nil {
			log.Warn("bus publish of a standing change failed; open streams are re-checked at their next ping", "err", err)
		}
	}
}

// recheck re-checks, off the bus's delivery goroutine, the streams of
// acct on this node (every stream, for acct 0: see recheckEveryone).
func (h *Hub) recheck(acct plaza.ID) {
	if h.standing == nil {
		return
	}
	if acct == 0 {
		h.recheckEveryone()
		return
	}
	h.mu.Lock()
	var targets []*Conn
	if ac := h.accounts[acct]; ac != nil {
		for c := range ac.conns {
			targets = append(targets, c)
		}
	}
	if len(targets) == 0 {
		h.mu.Unlock()
		return
	}
	h.live++ // Close waits for the re-check
	h.mu.Unlock()
	go func() {
		defer h.streamDone()
		h.checkStandings(targets)
	}()
}

// recheckEveryone re-checks the standing of every stream here, one pass
// at a time: asked again while a pass runs (new terms, a resync, a
// standing change for everyone), it runs one more after it, never
// several at once.
func (h *Hub) recheckEveryone() {
	h.resyncMu.Lock()
	if h.recheckAll {
		h.recheckAgain = true
		h.resyncMu.Unlock()
		return
	}
	h.recheckAll = true
	h.resyncMu.Unlock()
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		h.resyncMu.Lock()
		h.recheckAll = false
		h.resyncMu.Unlock()
		return
	}
	h.live++ // Close waits for the re-check
	h.mu.Unlock()
	go func() {
		defer h.streamDone()
		for {
			h.checkStandings(h.openConns())
			h.resyncMu.Lock()
			again := h.recheckAgain
			h.recheckAgain = false
			h.recheckAll = again
			h.resyncMu.Unlock()
			if !again {
				return
			}
		}
	}()
}

// standingBatch is how many streams one StandingCheck call re-checks: a
// ping tick's streams, or a pass over every stream in pieces, each piece
// one look-up in the database rather than one per stream.
const standingBatch = 256

// checkStandings closes those of conns whose session ended or whose
// account may no longer act, standingBatch at a time. A failure to check
// (the database is unreachable) leaves them open: their next ping tries
// again.
func (h *Hub) checkStandings(conns []*Conn) {
	if h.standing == nil {
		return
	}
	refs := make([]StreamRef, 0, min(len(conns), standingBatch))
	batch := make([]*Conn, 0, cap(refs))
	for lo := 0; lo < len(conns); lo += standingBatch {
		refs, batch = refs[:0], batch[:0]
		for _, c := range conns[lo:min(lo+standingBatch, len(conns))] {
			if c.ctx.Err() == nil {
				refs = append(refs, StreamRef{Account: c.account, Session: c.session})
				batch = append(batch, c)
			}
		}
		if len(refs) == 0 {
			continue
		}
		ctx, cancel := context.WithTimeout(h.checks, h.cfg.WriteTimeout)
		errs, err := h.standing(ctx, refs)
		cancel()
		if err == nil && len(errs) != len(refs) {
			err = fmt.Errorf("the check answered for %d streams of %d", len(errs), len(refs))
		}
		if err != nil {
			if h.checks.Err() == nil {
				h.log.Warn("stream: standing re-check failed", "streams", len(refs), "err", err)
			}
			return
		}
		for i, c := range batch {
			c.judgeStanding(errs[i])
		}
	}
}

// judgeStanding closes c for err, a standing re-check's answer for it.
func (c *Conn) judgeStanding(err error) {
	switch plaza.ErrorCode(err) {
	case "":
	case plaza.EUnauthenticated:
		c.end(StatusSessionEnded, "the session ended: sign in again")
	case plaza.EAccountSuspended:
		c.end(StatusAccountRestricted, "the account is suspended: see GET /api/v1/me")
	case plaza.EAccountClosed:
		c.end(StatusAccountRestricted, "the account is closed: see GET /api/v1/me")
	case plaza.ETermsAcceptanceRequired:
		c.end(StatusTermsRequired, "new terms must be accepted: see GET /api/v1/terms")
	default:
		c.hub.log.Warn("stream: standing re-check failed", "account_id", c.account.String(), "err", err)
	}
}

// end closes c for a reason of policy (its session or standing ended, or
// it was replaced). Unlike shutdown it sends the close frame before
// cancelling the stream (transportGone does, once the connection is
// closed): cancelling a read makes coder/websocket drop the connection
// without a close frame, and the device would not learn why it must not
// simply reconnect.
func (c *Conn) end(code websocket.StatusCode, reason string) {
	c.once.Do(func() {
		c.ending.Store(true)
		c.t.close(code, reason, true)
	})
}
