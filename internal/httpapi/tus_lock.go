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
// holds the lock, and a lock whose lease ran out is free, so a node that
// is killed holds its locks at most one lease longer. Session advisory
// locks on PostgreSQL would end with the dead node's connection, but only
// once the server notices it gone (TCP keepalive, minutes when the node's
// host vanishes), and SQLite has none: one table works on both.
//
// tusd's Lock contract: a request that finds the lock held asks the holder
// to let go (requestRelease) and waits for it until its context ends. The
// waiter asks by setting release_requested on the row; the holder sees it
// at its next renewal and interrupts its request, which saves what it
// received and unlocks.

// Lock timings. The lease is shorter than tusd's AcquireLockTimeout (20 s),
// so a client that resumes on another node after its node died gets the
// lock within that request. The holder renews several times per lease,
// so one slow or failed renewal does not lose the lock.
const (
	defaultLockLease = 15 * time.Second
	defaultLockRenew = time.Second
	defaultLockPoll  = 200 * time.Millisecond
)

// dbLocker is a tusd Locker on the upload_locks table.
type dbLocker struct {
	db  *sqldb.DB
	log *slog.Logger
	// lease is how long a lock outlives its holder's last renewal; renew
	// is how often the holder renews and looks for a release request;
	// poll is how often a waiter tries again.
	lease, renew, poll time.Duration
	now                func() time.Time
}

func newDBLocker(db *sqldb.DB, log *slog.Logger) *dbLocker {
	return &dbLocker{db: db, log: log, lease: defaultLockLease, renew: defaultLockRenew, poll: defaultLockPoll, now: time.Now}
}

// UseIn makes l the composer's locker.
func (l *dbLocker) UseIn(c *tus.StoreComposer) { c.UseLocker(l) }

// NewLock implements tus.Locker.
func (l *dbLocker) NewLock(id string) (tus.Lock, error) {
	return &dbLock{l: l, id: id}, nil
}

// stmtTimeout bounds one statement of the locker, which runs detached from
// the request so that its outcome is always known (see tryLock).
func (l *dbLocker) stmtTimeout() time.Duration { return max(l.lease/3, time.Second) }

// tryLock takes the lock on id for holder if it is free or its lease ran
// out; otherwise it asks the holder to release it. It reports whether
// holder has the lock.
//
// The statement runs to its end even when the request's context ends:
// cancelled midway, it could take the lock without the caller knowing,
// leaving it held (by nobody) for a lease.
func (l *dbLocker) tryLock(ctx context.Context, id, holder string) (bool, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.stmtTimeout())
	defer cancel()
	now := l.now()
	// One statement, atomic on both engines: on PostgreSQL a concurrent
	// waiter blocks on the row and then sees the winner's fresh lease.
	// SET expressions all read the row as it was.
	var got string
	err := l.db.Write().QueryRowContext(ctx, `INSERT INTO upload_locks (upload_id, holder, expires_at, release_requested)
		VALUES ($1, $2, $3, 0)
		ON CONFLICT (upload_id) DO UPDATE SET
			holder = CASE WHEN upload_locks.expires_at <= $4 THEN excluded.holder ELSE upload_locks.holder END,
			release_requested = CASE WHEN upload_locks.expires_at <= $4 THEN 0 ELSE 1 END,
			expires_at = CASE WHEN upload_locks.expires_at <= $4 THEN excluded.expires_at ELSE upload_locks.expires_at END
		RETURNING holder`,
		id, holder, now.Add(l.lease).UnixMicro(), now.UnixMicro()).Scan(&got)
	if err != nil {
		return false, fmt.Errorf("lock upload %s: %w", id, err)
	}
	return got == holder, nil
}

// renewLock extends holder's lease on id. held is false when the lock is
// no longer holder's (its lease ran out and another took it); asked
// reports a waiter's release request.
func (l *dbLocker) renewLock(id, holder string) (held, asked bool, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), l.stmtTimeout())
	defer cancel()
	var req int
	err = l.db.Write().QueryRowContext(ctx, `UPDATE upload_locks SET expires_at = $3
		WHERE upload_id = $1 AND holder = $2 RETURNING release_requested`,
		id, holder, l.now().Add(l.lease).UnixMicro()).Scan(&req)
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

// prune deletes the rows of locks whose lease ran out a lease ago or more:
// their holders died, and nobody has asked for those uploads since.
func (l *dbLocker) prune(ctx context.Context, now time.Time) (int64, error) {
	res, err := l.db.Write().ExecContext(ctx, `DELETE FROM upload_locks WHERE expires_at <= $1`, now.Add(-l.lease).UnixMicro())
	if err != nil {
		return 0, fmt.Errorf("prune upload locks: %w", err)
	}
	return res.RowsAffected()
}

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
// (tus.ErrLockTimeout). While held, a goroutine renews the lease and calls
// requestRelease when a waiter asks for the lock or the lease is lost.
func (k *dbLock) Lock(ctx context.Context, requestRelease func()) error {
	if k.stop != nil {
		return fmt.Errorf("lock upload %s: already held", k.id)
	}
	holder := rand.Text()
	for {
		got, err := k.l.tryLock(ctx, k.id, holder)
		if err != nil {
			return err
		}
		if got {
			break
		}
		select {
		case <-ctx.Done():
			return tus.ErrLockTimeout
		case <-time.After(k.l.poll):
		}
	}
	k.holder = holder
	k.stop, k.done = make(chan struct{}), make(chan struct{})
	go k.keep(requestRelease)
	return nil
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
	renewed := k.l.now()
	for {
		select {
		case <-k.stop:
			return
		case <-t.C:
		}
		held, asked, err := k.l.renewLock(k.id, k.holder)
		switch {
		case err != nil:
			k.l.log.Warn("could not renew an upload lock", "upload", k.id, "err", err)
			if k.l.now().Sub(renewed) > k.l.lease/2 {
				release()
			}
		case !held:
			k.l.log.Warn("lost an upload lock: its lease ran out and another request took it", "upload", k.id)
			release()
			return
		default:
			renewed = k.l.now()
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
