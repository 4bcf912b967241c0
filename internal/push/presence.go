package push

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/sqldb"
)

// presence keeps, in the database, which accounts have a device connected
// to this node, so that any node can tell whether an account is connected
// anywhere. The hub reports an account's first connect and last
// disconnect here (set, which never blocks); changes gather for FlushDelay
// and go out in one transaction, so a reconnect storm of thousands of
// devices costs a few statements, not one each. The node's row carries a
// lease renewed every Lease/3: presence rows of a node whose lease ran out
// (it crashed, or lost the database) count for nothing, and are swept
// once the lease is long gone. A lease judged by the database's clock, so
// nodes' clocks do not matter.
type presence struct {
	db   *sqldb.DB
	cfg  Config
	log  *slog.Logger
	node plaza.ID

	flushMu sync.Mutex // held through a flush
	mu      sync.RWMutex
	local   map[plaza.ID]bool // accounts connected here now
	dirty   map[plaza.ID]bool // changes not yet written: true online, false gone
	wake    chan struct{}
}

// sweepAfter is how long past its lease a dead node's rows are kept.
const sweepAfter = 10 * time.Minute

// dbNow is the database's clock in Unix microseconds.
func dbNow(e sqldb.Engine) string {
	if e == sqldb.SQLite {
		return `CAST(unixepoch('subsec') * 1000000 AS INTEGER)`
	}
	return `CAST(EXTRACT(EPOCH FROM now()) * 1000000 AS BIGINT)`
}

func newPresence(ctx context.Context, db *sqldb.DB, cfg Config, log *slog.Logger) (*presence, error) {
	p := &presence{db: db, cfg: cfg, log: log, node: plaza.NewID(), local: map[plaza.ID]bool{}, dirty: map[plaza.ID]bool{}, wake: make(chan struct{}, 1)}
	if err := p.register(ctx); err != nil {
		return nil, err
	}
	return p, nil
}

// register writes this node's row with a fresh lease.
func (p *presence) register(ctx context.Context) error {
	_, err := p.db.Write().ExecContext(ctx, `INSERT INTO push_nodes (node_id, lease_until) VALUES ($1, `+dbNow(p.db.Engine)+` + $2)
		ON CONFLICT (node_id) DO UPDATE SET lease_until = excluded.lease_until`, p.node, p.cfg.Lease.Microseconds())
	if err != nil {
		return fmt.Errorf("register node for push presence: %w", err)
	}
	return nil
}

// set notes a change; it never blocks.
func (p *presence) set(account plaza.ID, online bool) {
	p.mu.Lock()
	if online {
		p.local[account] = true
	} else {
		delete(p.local, account)
	}
	p.dirty[account] = online
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// here reports whether account has a device connected to this node.
func (p *presence) here(account plaza.ID) bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.local[account]
}

// start runs the flusher and the lease renewal until stop.
func (p *presence) start(wg *sync.WaitGroup, stop chan struct{}) {
	wg.Add(2)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-p.wake:
			}
			// Gather what else comes meanwhile.
			select {
			case <-stop:
				return
			case <-time.After(p.cfg.FlushDelay):
			}
			if err := p.flush(context.Background()); err != nil {
				p.log.Warn("writing push presence failed; trying again", "err", err)
				select {
				case p.wake <- struct{}{}:
				default:
				}
				select {
				case <-stop:
					return
				case <-time.After(time.Second):
				}
			}
		}
	}()
	go func() {
		defer wg.Done()
		t := time.NewTicker(p.cfg.Lease / 3)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			if err := p.renew(context.Background()); err != nil {
				p.log.Warn("renewing the push presence lease failed", "err", err)
			}
		}
	}()
}

// flush writes the changes noted since the last flush in one transaction;
// on failure they are kept for the next one (a newer change wins).
func (p *presence) flush(ctx context.Context) error {
	// One flush at a time (the flusher's and a renewal's): two at once
	// could commit out of order, an older "online" over a newer "gone".
	p.flushMu.Lock()
	defer p.flushMu.Unlock()
	p.mu.Lock()
	dirty := p.dirty
	p.dirty = map[plaza.ID]bool{}
	p.mu.Unlock()
	if len(dirty) == 0 {
		return nil
	}
	var on, off []plaza.ID
	for a, online := range dirty {
		if online {
			on = append(on, a)
		} else {
			off = append(off, a)
		}
	}
	err := p.db.InTx(ctx, func(tx *sql.Tx) error {
		for chunk := range chunks(off, 500) {
			if _, err := tx.ExecContext(ctx, `DELETE FROM push_presence WHERE node_id = $1 AND account_id IN (`+placeholders(2, len(chunk))+`)`,
				append([]any{p.node}, ids(chunk)...)...); err != nil {
				return err
			}
		}
		for chunk := range chunks(on, 500) {
			var b strings.Builder
			args := []any{p.node}
			for i, a := range chunk {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString("($" + strconv.Itoa(i+2) + ", $1)")
				args = append(args, a)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO push_presence (account_id, node_id) VALUES `+b.String()+` ON CONFLICT DO NOTHING`, args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		p.mu.Lock()
		for a, online := range dirty {
			if _, newer := p.dirty[a]; !newer {
				p.dirty[a] = online
			}
		}
		p.mu.Unlock()
		return fmt.Errorf("push presence: %w", err)
	}
	return nil
}

// renew extends the node's lease and sweeps nodes long dead. A node whose
// row was swept meanwhile (it could not reach the database for minutes)
// registers again and rewrites all its presence.
func (p *presence) renew(ctx context.Context) error {
	res, err := p.db.Write().ExecContext(ctx, `UPDATE push_nodes SET lease_until = `+dbNow(p.db.Engine)+` + $2 WHERE node_id = $1`, p.node, p.cfg.Lease.Microseconds())
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if err := p.register(ctx); err != nil {
			return err
		}
		p.mu.Lock()
		for a := range p.local {
			p.dirty[a] = true
		}
		p.mu.Unlock()
		if err := p.flush(ctx); err != nil {
			return err
		}
	}
	_, err = p.db.Write().ExecContext(ctx, `DELETE FROM push_nodes WHERE lease_until < `+dbNow(p.db.Engine)+` - $1`, sweepAfter.Microseconds())
	return err
}

// leave removes this node and its presence (at shutdown).
func (p *presence) leave(ctx context.Context) {
	if _, err := p.db.Write().ExecContext(ctx, `DELETE FROM push_nodes WHERE node_id = $1`, p.node); err != nil {
		p.log.Warn("removing this node's push presence failed; it expires with its lease", "err", err)
	}
}

// placeholders returns "$from, $from+1, …" for n parameters.
func placeholders(from, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("$" + strconv.Itoa(from+i))
	}
	return b.String()
}

func ids(list []plaza.ID) []any {
	out := make([]any, len(list))
	for i, id := range list {
		out[i] = id
	}
	return out
}

// chunks yields list in pieces of at most n.
func chunks(list []plaza.ID, n int) func(func([]plaza.ID) bool) {
	return func(yield func([]plaza.ID) bool) {
		for len(list) > 0 {
			k := min(n, len(list))
			if !yield(list[:k]) {
				return
			}
			list = list[k:]
		}
	}
}
