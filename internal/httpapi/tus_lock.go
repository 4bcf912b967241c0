package httpapi

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	tus "github.com/tus/tusd/v2/pkg/handler"

	"github.com/plaza-im/plaza/internal/sqldb"
)

// Uploads kept in S3 can be continued on any node, so the lock that stops
// two requests writing one upload at once must hold across nodes; tusd's
// filelocker sees one machine only. dbLocker keeps the locks in the
// database all nodes share, as leases: the holder renews its row while it
// holds the lock, and a lock whose lease ran out (a margin ago) is free,
// so a node that is killed holds its locks at most that much longer. Session advisory
// locks on PostgreSQL would end with the dead node's connection, but only
// once the server notices it gone (TCP keepalive, minutes when the node's
// host vanishes), and SQLite has none: one table works on both.
//
// tusd's Lock contract: a request that finds the lock held asks the holder
// to let go (requestRelease) and waits for it until its context ends. The
// waiter asks by setting release_requested on the row; the holder sees it
// at its next renewal and interrupts its request, which saves what it
// received and unlocks.

// Lock timings. A waiter takes over a lock only a margin after its lease
// ran out, so that the part a stalled holder was sending when it stopped
// (it stops itself within its lease when it cannot renew, see keep) has
// time to reach S3 or fail: S3 checks no fencing token. Lease, margin and
// one longest poll stay under tusd's AcquireLockTimeout (20 s): a client
// that resumes on another node after its node died gets the lock within
// that request. The holder renews several times per lease, so one slow or
// failed renewal does not lose the lock. A waiter polls at first quickly,
// then less and less often.
const (
	defaultLockLease   = 10 * time.Second
	defaultLockMargin  = 5 * time.Second
	defaultLockRenew   = time.Second
	defaultLockPoll    = 200 * time.Millisecond
	defaultLockMaxPoll = 2 * time.Second
)

// defaultLockWaiters bounds the requests of one node that wait for a held
// lock at once, each of which writes its row every poll: HEAD, PATCH and
// DELETE cost a client nothing from its upload budget.
const defaultLockWaiters = 64

// dbNow is the database's clock in Unix microseconds, as each engine
// writes it; both take it once per statement. All leases are written and
// compared with it, never with a node's own clock: nodes' clocks drift
// apart, and a lease judged with a clock ahead of its holder's would be
// taken over while its holder still writes.
func dbNow(e sqldb.Engine) string {
	if e == sqldb.SQLite {
		return `CAST(unixepoch('subsec') * 1000000 AS INTEGER)`
	}
	return `CAST(EXTRACT(EPOCH FROM now()) * 1000000 AS BIGINT)`
}

// dbLocker is a tusd Locker on the upload_locks table.
type dbLocker struct {
	db  *sqldb.DB
	log *slog.Logger
	// lease is how long a lock outlives its holder's last renewal, and
	// margin how much longer a waiter leaves it to its holder; renew is
	// how often the holder renews and looks for a release request; a
	// waiter tries again after poll, doubling up to maxPoll.
	lease, margin, renew, poll, maxPoll time.Duration
	// maxWaiters bounds the requests of this node waiting for held locks.
	maxWaiters int
	// skew is added to the database's clock: zero, but for tests that
	// move time on.
	skew func() time.Duration

	// Statements, with the engine's clock.
	lockSQL, renewSQL, pruneSQL string

	mu sync.Mutex
	// contending holds the uploads that a request of this node is trying
	// to lock; waiters counts those that found the lock held.
	contending map[string]bool
	waiters    int
}

func newDBLocker(db *sqldb.DB, log *slog.Logger) *dbLocker {
	now := dbNow(db.Engine)
	l := &dbLocker{
		db: db, log: log,
		lease: defaultLockLease, margin: defaultLockMargin, renew: defaultLockRenew,
		poll: defaultLockPoll, maxPoll: defaultLockMaxPoll, maxWaiters: defaultLockWaiters,
		skew:       func() time.Duration { return 0 },
		contending: map[string]bool{},
	}
	// One statement, atomic on both engines: on PostgreSQL a concurrent
	// waiter blocks on the row and then sees the winner's fresh lease.
	// SET expressions all read the row as it was, and the clock once.
	// $3 is the skew, $4 the lease, $5 the margin, $6 whether to ask the
	// holder to release the lock.
	l.lockSQL = `INSERT INTO upload_locks (upload_id, holder, expires_at, release_requested)
		VALUES ($1, $2, ` + now + ` + $3 + $4, 0)
		ON CONFLICT (upload_id) DO UPDATE SET
			holder = CASE WHEN upload_locks.expires_at <= ` + now + ` + $3 - $5 THEN excluded.holder ELSE upload_locks.holder END,
			release_requested = CASE WHEN upload_locks.expires_at <= ` + now + ` + $3 - $5 THEN 0
				WHEN $6 <> 0 THEN 1 ELSE upload_locks.release_requested END,
			expires_at = CASE WHEN upload_locks.expires_at <= ` + now + ` + $3 - $5 THEN excluded.expires_at ELSE upload_locks.expires_at END
		RETURNING holder`
	l.renewSQL = `UPDATE upload_locks SET expires_at = ` + now + ` + $3 + $4
		WHERE upload_id = $1 AND holder = $2 RETURNING release_requested`
	l.pruneSQL = `DELETE FROM upload_locks WHERE expires_at <= ` + now + ` + $1 - $2`
	return l
}

// UseIn makes l the composer's locker.
func (l *dbLocker) UseIn(c *tus.StoreComposer) { c.UseLocker(l) }

// NewLock implements tus.Locker.
func (l *dbLocker) NewLock(id string) (tus.Lock, error) {
	return l.newLock(id), nil
}

func (l *dbLocker) newLock(id string) *dbLock { return &dbLock{l: l, id: id} }

// stmtTimeout bounds one statement of the locker, which runs detached from
// the request so that its outcome is always known (see tryLock).
func (l *dbLocker) stmtTimeout() time.Duration { return max(l.lease/3, time.Second) }

// contend records that a request of this node is trying to lock id; it
// reports false when one already is. Each such request writes the row
// every poll while the lock is held, and the first one's release request
// serves all: the others are turned away at once (423), before any
// statement, rather than piling up on the database.
func (l *dbLocker) contend(id string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.contending[id] {
		return false
	}
	l.contending[id] = true
	return true
}

func (l *dbLocker) uncontend(id string) {
	l.mu.Lock()
	delete(l.contending, id)
	l.mu.Unlock()
}

// startWaiting counts a request that found its lock held and will wait for
// it; false means too many already wait on this node.
func (l *dbLocker) startWaiting() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.waiters >= l.maxWaiters {
		return false
	}
	l.waiters++
	return true
}

func (l *dbLocker) stopWaiting() {
	l.mu.Lock()
	l.waiters--
	l.mu.Unlock()
}

// tryLock takes the lock on id for holder if it is free or its lease ran
// out a margin ago; otherwise, if ask, it asks the holder to release it.
// It reports whether holder has the lock.
//
// The statement runs to its end even when the request's context ends:
// cancelled midway, it could take the lock without the caller knowing,
// leaving it held (by nobody) for a lease.
func (l *dbLocker) tryLock(ctx context.Context, id, holder string, ask bool) (bool, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.stmtTimeout())
	defer cancel()
	askArg := 0
	if ask {
		askArg = 1
	}
	var got string
	err := l.db.Write().QueryRowContext(ctx, l.lockSQL,
		id, holder, l.skew().Microseconds(), l.lease.Microseconds(), l.margin.Microseconds(), askArg).Scan(&got)
	if err != nil {
		return false, fmt.Errorf("lock upload %s: %w", id, err)
	}
	return got == holder, nil
}

// renewLock extends holder's lease on id. held is false when the lock is
// no longer holder's (another took it over, or the pruner removed a row
// long expired); asked reports a waiter's release request.
func (l *dbLocker) renewLock(id, holder string) (held, asked bool, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), l.stmtTimeout())
	defer cancel()
	var req int
	err = l.db.Write().QueryRowContext(ctx, l.renewSQL,
		id, holder, l.skew().Microseconds(), l.lease.Microseconds()).Scan(&req)
	if errors.Is(err, sql.ErrNoRows) {
		return false, false, nil
	}
	if err != nil {
		return false, false, fmt.Errorf("renew upload lock %s: %w", id, err)
	}
	return true, req != 0, nil
}

// unlock deletes holder's lock on id; a lock taken over meanwhile stays.
func (l *dbLocker) unlock(id, holder string) error {
	ctx, cancel := context.WithTimeout(context.Background(), l.stmtTimeout())
	defer cancel()
	_, err := l.db.Write().ExecContext(ctx, `DELETE FROM upload_locks WHERE upload_id = $1 AND holder = $2`, id, holder)
	if err != nil {
		return fmt.Errorf("unlock upload %s: %w", id, err)
	}
	return nil
}

// prune deletes the rows of locks free for a lease or more (their lease
// and the margin ran out a lease ago): their holders died, and nobody has
// asked for those uploads since.
func (l *dbLocker) prune(ctx context.Context) (int64, error) {
	res, err := l.db.Write().ExecContext(ctx, l.pruneSQL,
		l.skew().Microseconds(), (l.lease + l.margin).Microseconds())
	if err != nil {
		return 0, fmt.Errorf("prune upload locks: %w", err)
	}
	return res.RowsAffected()
}

// nextPoll returns how long a waiter that waited d waits next.
func (l *dbLocker) nextPoll(d time.Duration) time.Duration { return min(2*d, l.maxPoll) }

// dbLock is one request's lock on one upload.
type dbLock struct {
	l      *dbLocker
	id     string
	holder string        // this lock's random token while held
	stop   chan struct{} // closed by Unlock to end keep
	done   chan struct{} // closed when keep has ended
}

// Lock implements tus.Lock: it takes the lock, asking its holder to
// release it and waiting while it is held, until ctx ends
// (tus.ErrLockTimeout). It fails at once with tus.ErrFileLocked (423) when
// another request of this node already tries to lock the upload, or too
// many wait for other uploads. While held, a goroutine renews the lease and
// calls requestRelease when a waiter asks for the lock or the lease is lost.
func (k *dbLock) Lock(ctx context.Context, requestRelease func()) error {
	if k.stop != nil {
		return fmt.Errorf("lock upload %s: already held", k.id)
	}
	if !k.l.contend(k.id) {
		return tus.ErrFileLocked
	}
	defer k.l.uncontend(k.id)
	holder := rand.Text()
	// The first attempt does not ask: a request turned away for want of
	// room to wait must not interrupt the holder.
	got, err := k.l.tryLock(ctx, k.id, holder, false)
	if err != nil {
		return err
	}
	if !got {
		if !k.l.startWaiting() {
			return tus.ErrFileLocked
		}
		defer k.l.stopWaiting()
		for poll := k.l.poll; ; poll = k.l.nextPoll(poll) {
			got, err := k.l.tryLock(ctx, k.id, holder, true)
			if err != nil {
				return err
			}
			if got {
				break
			}
			select {
			case <-ctx.Done():
				return tus.ErrLockTimeout
			case <-time.After(poll):
			}
		}
	}
	k.hold(holder, requestRelease)
	return nil
}

// TryLock takes the lock if it is free, once, without asking a holder to
// release it nor waiting: for the pruner, which passes over an upload in
// use rather than interrupt it.
func (k *dbLock) TryLock(ctx context.Context) (bool, error) {
	if k.stop != nil {
		return false, fmt.Errorf("lock upload %s: already held", k.id)
	}
	if !k.l.contend(k.id) {
		return false, nil
	}
	defer k.l.uncontend(k.id)
	holder := rand.Text()
	got, err := k.l.tryLock(ctx, k.id, holder, false)
	if err != nil || !got {
		return false, err
	}
	// A request that wants the upload meanwhile waits for the pruner,
	// which is quick, rather than find it half removed.
	k.hold(holder, func() {})
	return true, nil
}

// hold starts keeping the lock that holder has just taken.
func (k *dbLock) hold(holder string, requestRelease func()) {
	k.holder = holder
	k.stop, k.done = make(chan struct{}), make(chan struct{})
	go k.keep(requestRelease)
}

// keep renews the lease until Unlock. It asks the request to stop when a
// waiter wants the lock, and when the lock is lost or may soon be (the
// database unreachable for most of a lease): writing on without the lock
// could interleave with another node's writes.
func (k *dbLock) keep(requestRelease func()) {
	defer close(k.done)
	var once sync.Once
	release := func() { once.Do(requestRelease) }
	t := time.NewTicker(k.l.renew)
	defer t.Stop()
	// When the last renewal was sent, by this node's monotonic clock: the
	// lease it gave ends no sooner than a lease after. The holder stops
	// writing by half a lease, well before a waiter may take over.
	renewed := time.Now()
	for {
		select {
		case <-k.stop:
			return
		case <-t.C:
		}
		sent := time.Now()
		held, asked, err := k.l.renewLock(k.id, k.holder)
		switch {
		case err != nil:
			k.l.log.Warn("could not renew an upload lock", "upload", k.id, "err", err)
			if time.Since(renewed) > k.l.lease/2 {
				release()
			}
		case !held:
			k.l.log.Warn("lost an upload lock: its lease ran out and another request took it over", "upload", k.id)
			release()
			return
		default:
			renewed = sent
			if asked {
				release()
			}
		}
	}
}

// Unlock implements tus.Lock.
func (k *dbLock) Unlock() error {
	if k.stop == nil {
		return nil
	}
	close(k.stop)
	<-k.done
	k.stop = nil
	if err := k.l.unlock(k.id, k.holder); err != nil {
		// The lease ends it anyway.
		k.l.log.Warn("could not release an upload lock", "upload", k.id, "err", err)
		return err
	}
	return nil
}
