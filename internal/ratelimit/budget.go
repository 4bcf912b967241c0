package ratelimit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/sqldb"
)

// Budget limits one kind of event per key (an account), allowing bursts of
// up to Rate.N and Rate.N per Rate.Per sustained. On SQLite, where Plaza
// runs as one node, the budget lives in memory; on PostgreSQL it lives in
// the rate_buckets table, so every node that shares the database charges
// the same budget. A nil *Budget allows everything ("--rate-limits off").
type Budget struct {
	name string // key prefix and the error's details.limit
	what string // the events in words, for the error message
	rate Rate
	mem  *Limiter
	db   *sqldb.DB
	now  func() time.Time
}

// budgetKeys bounds the memory of an in-memory budget.
const budgetKeys = 100_000

// NewBudget returns a budget named name (a short word such as "sends")
// whose refusals speak of what ("messages"). db decides where it lives: in
// the database on PostgreSQL, in memory otherwise (also when db is nil).
// A rate with N < 1 means no limit, and NewBudget returns nil.
func NewBudget(db *sqldb.DB, name, what string, r Rate) *Budget {
	if r.N < 1 || r.Per <= 0 {
		return nil
	}
	b := &Budget{name: name, what: what, rate: r, now: time.Now}
	if db != nil && db.Engine == sqldb.Postgres {
		b.db = db
	} else {
		b.mem = New(r, budgetKeys)
	}
	return b
}

// Take charges n events to key's budget. It returns nil when they fit, a
// rate_limited error with details.retry_after_seconds when they do not
// (and then charges nothing), or the database's error. A batch larger than
// the whole burst is charged as one full burst: it passes only when the
// budget is untouched, and empties it.
func (b *Budget) Take(ctx context.Context, key string, n int) error {
	if b == nil || n < 1 {
		return nil
	}
	n = min(n, b.rate.N)
	var ok bool
	var retry time.Duration
	if b.db != nil {
		var err error
		if ok, retry, err = b.takeShared(ctx, key, n); err != nil {
			return fmt.Errorf("rate limit %s: %w", b.name, err)
		}
	} else {
		ok, retry = b.mem.AllowN(key, n)
	}
	if ok {
		return nil
	}
	return Refused(b.name, b.what, retry)
}

// Refused returns the rate_limited error for a refused event: the message
// names what was refused and when to retry, details.retry_after_seconds
// (at least 1) says the same for programs, and details.limit names the
// budget.
func Refused(name, what string, retryAfter time.Duration) error {
	secs := int(math.Ceil(retryAfter.Seconds()))
	if secs < 1 {
		secs = 1
	}
	return plaza.Errorf(plaza.ERateLimited, "too many %s; try again in %d seconds", what, secs).
		WithDetails(map[string]any{"retry_after_seconds": secs, "limit": name})
}

// The shared budget is GCRA (the generic cell rate algorithm), which is a
// token bucket kept as one number per key: tat, the "theoretical arrival
// time" at which the bucket would be full again, in Unix microseconds. Each
// event pushes tat later by Per/N; an event fits when tat, after the
// charge, is at most Per ahead of now. A key whose tat has passed has a
// full bucket, so such rows carry nothing and Prune deletes them.
//
// One statement decides and charges: PostgreSQL locks the conflicting row
// for ON CONFLICT DO UPDATE and evaluates the WHERE on its newest version,
// so concurrent takes on any node queue on the row and never overspend.
// The table is UNLOGGED: no WAL, so a charge costs no disk flush; a crash
// empties it, which only ever makes the limits more lenient for a moment.
const takeSQL = `INSERT INTO rate_buckets AS b (key, tat) VALUES ($1, $2::BIGINT + $3::BIGINT)
	ON CONFLICT (key) DO UPDATE SET tat = GREATEST(b.tat, $2::BIGINT) + $3::BIGINT
	WHERE GREATEST(b.tat, $2::BIGINT) + $3::BIGINT <= $2::BIGINT + $4::BIGINT
	RETURNING tat`

func (b *Budget) takeShared(ctx context.Context, key string, n int) (bool, time.Duration, error) {
	key = b.name + ":" + key
	now := b.now().UnixMicro()
	per := b.rate.Per.Microseconds()
	cost := int64(n) * per / int64(b.rate.N)
	var tat int64
	err := b.db.Write().QueryRowContext(ctx, takeSQL, key, now, cost, per).Scan(&tat)
	if err == nil {
		return true, 0, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return false, 0, err
	}
	// Refused: read tat only to say when to retry (a slow path, and a
	// hint, so a race here is harmless).
	if err := b.db.Read().QueryRowContext(ctx, `SELECT tat FROM rate_buckets WHERE key = $1`, key).Scan(&tat); err != nil {
		return false, 0, err
	}
	wait := max(tat, now) + cost - per - now
	return false, time.Duration(max(wait, 1)) * time.Microsecond, nil
}

// Prune deletes the shared budgets that have refilled completely by now;
// it does nothing on SQLite, whose budgets live in memory.
func Prune(ctx context.Context, db *sqldb.DB, now time.Time) (int64, error) {
	if db.Engine != sqldb.Postgres {
		return 0, nil
	}
	res, err := db.Write().ExecContext(ctx, `DELETE FROM rate_buckets WHERE tat < $1`, now.UnixMicro())
	if err != nil {
		return 0, fmt.Errorf("prune rate limits: %w", err)
	}
	return res.RowsAffected()
}

// RunPruner calls Prune every interval until ctx ends, so the shared
// table holds only the keys active within their window.
func RunPruner(ctx context.Context, db *sqldb.DB, every time.Duration, log *slog.Logger) {
	if db.Engine != sqldb.Postgres {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if _, err := Prune(ctx, db, now); err != nil && ctx.Err() == nil {
				log.Warn("pruning rate limits failed", "err", err)
			}
		}
	}
}
