package realtime

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/events"
	"github.com/plaza-im/plaza/internal/sqldb"
)

// Limits caps the streams open at once, across every node that shares
// the database. Past a cap the oldest stream is closed with
// StatusReplaced: a device that reconnects in a loop, or a stolen token
// opening streams, cannot pile them up.
type Limits struct {
	// PerAccount and PerSession are the caps; 0 means no cap.
	PerAccount int
	PerSession int
	// Lease is how long a node's streams count after it last renewed
	// them; a node renews every Lease/3, so the streams of a node that
	// died stop counting within Lease.
	Lease time.Duration
}

// limiter keeps this node's streams in the streams table and enforces
// the caps.
type limiter struct {
	db   *sqldb.DB
	lim  Limits
	node plaza.ID
	stop context.CancelFunc
	done chan struct{}
}

// UseLimits enforces lim with the streams table of db. Call it while
// wiring; it starts a goroutine that renews this node's leases until
// Close.
func (h *Hub) UseLimits(db *sqldb.DB, lim Limits) {
	if lim.PerAccount <= 0 && lim.PerSession <= 0 {
		return
	}
	if lim.Lease <= 0 {
		lim.Lease = 90 * time.Second
	}
	ctx, stop := context.WithCancel(context.Background())
	l := &limiter{db: db, lim: lim, node: plaza.NewID(), stop: stop, done: make(chan struct{})}
	h.limits = l
	go l.renew(ctx, h)
}

func micros(t time.Time) int64 { return t.UnixMicro() }

// open records c and closes the oldest streams over a cap. Counting after
// inserting means that of two streams opened at once on two nodes, at
// least the later count sees both.
func (l *limiter) open(ctx context.Context, h *Hub, c *Conn) error {
	now := time.Now()
	if _, err := l.db.Write().ExecContext(ctx, `INSERT INTO streams (account_id, id, session_id, node, opened_at, lease_until)
		VALUES ($1, $2, $3, $4, $5, $6)`, c.account, c.id, c.session, l.node, micros(now), micros(now.Add(l.lim.Lease))); err != nil {
		return fmt.Errorf("record stream: %w", err)
	}
	rows, err := l.db.Read().QueryContext(ctx, `SELECT id, session_id FROM streams
		WHERE account_id = $1 AND lease_until > $2 ORDER BY id DESC`, c.account, micros(now))
	if err != nil {
		return fmt.Errorf("count streams: %w", err)
	}
	defer rows.Close()
	var victims []plaza.ID
	var inAccount, inSession int
	for rows.Next() {
		var id, session plaza.ID
		if err := rows.Scan(&id, &session); err != nil {
			return fmt.Errorf("count streams: %w", err)
		}
		inAccount++
		over := l.lim.PerAccount > 0 && inAccount > l.lim.PerAccount
		if session == c.session {
			inSession++
			over = over || l.lim.PerSession > 0 && inSession > l.lim.PerSession
		}
		// The newest stream (the one opening) is never over a cap of 1
		// or more: it comes first.
		if over {
			victims = append(victims, id)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("count streams: %w", err)
	}
	rows.Close()
	for _, id := range victims {
		if _, err := l.db.Write().ExecContext(ctx, `DELETE FROM streams WHERE account_id = $1 AND id = $2`, c.account, id); err != nil {
			return fmt.Errorf("close a stream over the cap: %w", err)
		}
		data, _ := json.Marshal(control{CloseStream: id})
		if err := h.bus.Publish(ctx, events.AccountSubject(c.account), events.ControlEnvelope(data)); err != nil {
			h.log.Warn("bus publish of a stream over the cap failed", "err", err)
		}
	}
	return nil
}

// close forgets c.
func (l *limiter) close(c *Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := l.db.Write().ExecContext(ctx, `DELETE FROM streams WHERE account_id = $1 AND id = $2`, c.account, c.id); err != nil {
		// Its lease runs out instead.
		c.hub.log.Warn("stream: forget a closed stream", "err", err)
	}
}

// renew extends this node's leases and drops the rows of dead nodes, every
// Lease/3, until ctx ends; then it forgets this node's streams.
func (l *limiter) renew(ctx context.Context, h *Hub) {
	defer close(l.done)
	t := time.NewTicker(l.lim.Lease / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			dctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			_, _ = l.db.Write().ExecContext(dctx, `DELETE FROM streams WHERE node = $1`, l.node)
			cancel()
			return
		case <-t.C:
		}
		now := time.Now()
		if _, err := l.db.Write().ExecContext(ctx, `UPDATE streams SET lease_until = $1 WHERE node = $2`, micros(now.Add(l.lim.Lease)), l.node); err != nil {
			h.log.Warn("stream: renew leases", "err", err)
		}
		if _, err := l.db.Write().ExecContext(ctx, `DELETE FROM streams WHERE lease_until < $1`, micros(now)); err != nil {
			h.log.Warn("stream: drop expired leases", "err", err)
		}
	}
}

// closeStream closes the stream id of acct, over a cap, if it is on this
// node.
func (h *Hub) closeStream(acct, id plaza.ID) {
	h.mu.Lock()
	var target *Conn
	if ac := h.accounts[acct]; ac != nil {
		for c := range ac.conns {
			if c.id == id {
				target = c
			}
		}
	}
	h.mu.Unlock()
	if target != nil {
		target.end(StatusReplaced, "replaced: too many streams open for this account or session")
	}
}
