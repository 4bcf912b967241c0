package httpapi

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	tus "github.com/tus/tusd/v2/pkg/handler"

	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// testClock is a clock that moves only when told, shared by the lockers
// of a test's "nodes".
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// testLocker returns a locker on db as one node would have it, with quick
// renewals and retries. With a clock, leases end only when the test moves
// it; without, the lease is an hour, longer than any test.
func testLocker(db *sqldb.DB, clock *testClock) *dbLocker {
	l := newDBLocker(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	l.renew, l.poll = 10*time.Millisecond, 5*time.Millisecond
	l.lease = time.Hour
	if clock != nil {
		l.lease = time.Minute
		l.now = clock.now
	}
	return l
}

// lockHolder returns who holds the lock on id, "" if nobody has a row.
func lockHolder(tb testing.TB, db *sqldb.DB, id string) (holder string, expires int64) {
	tb.Helper()
	err := db.Read().QueryRowContext(context.Background(), `SELECT holder, expires_at FROM upload_locks WHERE upload_id = $1`, id).Scan(&holder, &expires)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		tb.Fatal(err)
	}
	return holder, expires
}

// waitFor polls cond until it holds, failing the test after a deadline.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond) // polling, with a deadline
	}
}

// signal returns a requestRelease callback and the channel it closes.
func signal() (func(), chan struct{}) {
	ch := make(chan struct{})
	var once sync.Once
	return func() { once.Do(func() { close(ch) }) }, ch
}

// wait fails the test unless ch closes before a deadline.
func wait(tb testing.TB, ch <-chan struct{}, what string) {
	tb.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		tb.Fatalf("gave up waiting for %s", what)
	}
}

// A request wanting a held lock asks the holder (on another node) to
// release it, and gets it once released; not before.
func TestUploadLockRequestsRelease(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		nodeA, nodeB := testLocker(db, nil), testLocker(db, nil)
		const id = "1+abc"
		held, _ := nodeA.NewLock(id)
		release, asked := signal()
		if err := held.Lock(t.Context(), release); err != nil {
			t.Fatalf("first Lock: %v", err)
		}
		waiter, _ := nodeB.NewLock(id)
		got := make(chan error, 1)
		go func() { got <- waiter.Lock(t.Context(), func() {}) }()
		wait(t, asked, "the holder to be asked to release the lock")
		select {
		case err := <-got:
			t.Fatalf("second Lock returned %v while the lock was held, want it to wait", err)
		default:
		}
		if err := held.Unlock(); err != nil {
			t.Fatalf("Unlock: %v", err)
		}
		select {
		case err := <-got:
			if err != nil {
				t.Fatalf("second Lock after the release: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("second Lock did not get the released lock")
		}
		if err := waiter.Unlock(); err != nil {
			t.Fatal(err)
		}
		if h, _ := lockHolder(t, db, id); h != "" {
			t.Errorf("after both unlocked the row of holder %q is left", h)
		}
	})
}

// A waiter whose context ends gets tusd's ErrLockTimeout, and the lock
// stays with its holder.
func TestUploadLockTimesOut(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		nodeA, nodeB := testLocker(db, nil), testLocker(db, nil)
		held, _ := nodeA.NewLock("7+x")
		if err := held.Lock(t.Context(), func() {}); err != nil {
			t.Fatal(err)
		}
		defer held.Unlock()
		before, _ := lockHolder(t, db, "7+x")
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		waiter, _ := nodeB.NewLock("7+x")
		if err := waiter.Lock(ctx, func() {}); !errors.Is(err, tus.ErrLockTimeout) {
			t.Fatalf("Lock of a held lock: got %v, want ErrLockTimeout", err)
		}
		if after, _ := lockHolder(t, db, "7+x"); after != before {
			t.Errorf("holder changed from %q to %q", before, after)
		}
	})
}

// A lock whose holder died (killed: it never unlocks nor renews) is free
// once its lease has run out, and not before.
func TestUploadLockDeadHolderLeaseRunsOut(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		clock := &testClock{t: time.Unix(1_800_000_000, 0)}
		nodeB := testLocker(db, clock)
		// The dead node's last renewal.
		if _, err := db.Write().ExecContext(t.Context(), `INSERT INTO upload_locks (upload_id, holder, expires_at, release_requested) VALUES ($1, 'dead', $2, 0)`,
			"9+y", clock.now().Add(nodeB.lease).UnixMicro()); err != nil {
			t.Fatal(err)
		}
		waiter, _ := nodeB.NewLock("9+y")
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		if err := waiter.Lock(ctx, func() {}); !errors.Is(err, tus.ErrLockTimeout) {
			t.Fatalf("Lock within the dead holder's lease: got %v, want ErrLockTimeout", err)
		}
		clock.advance(nodeB.lease)
		if err := waiter.Lock(t.Context(), func() {}); err != nil {
			t.Fatalf("Lock after the dead holder's lease: %v", err)
		}
		if h, _ := lockHolder(t, db, "9+y"); h == "dead" || h == "" {
			t.Errorf("holder after the takeover = %q, want the new one", h)
		}
		if err := waiter.Unlock(); err != nil {
			t.Fatal(err)
		}
	})
}

// A live holder renews its lease, so its lock outlasts the first lease;
// the pruner deletes only rows whose lease ended a lease ago.
func TestUploadLockRenewsLease(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		clock := &testClock{t: time.Unix(1_800_000_000, 0)}
		nodeA, nodeB := testLocker(db, clock), testLocker(db, clock)
		held, _ := nodeA.NewLock("3+z")
		if err := held.Lock(t.Context(), func() {}); err != nil {
			t.Fatal(err)
		}
		_, first := lockHolder(t, db, "3+z")
		clock.advance(nodeA.lease / 2)
		waitFor(t, "a renewal", func() bool { _, e := lockHolder(t, db, "3+z"); return e > first })
		clock.advance(nodeA.lease/2 + time.Second) // past the first lease
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		waiter, _ := nodeB.NewLock("3+z")
		if err := waiter.Lock(ctx, func() {}); !errors.Is(err, tus.ErrLockTimeout) {
			t.Fatalf("Lock past the first lease of a renewed lock: got %v, want ErrLockTimeout", err)
		}
		if n, err := nodeB.prune(t.Context(), clock.now()); err != nil || n != 0 {
			t.Errorf("prune with a live lock: %d, %v; want 0 rows", n, err)
		}
		if err := held.Unlock(); err != nil {
			t.Fatal(err)
		}

		// A dead holder's row goes a lease after its lease.
		if _, err := db.Write().ExecContext(t.Context(), `INSERT INTO upload_locks (upload_id, holder, expires_at, release_requested) VALUES ('4+w', 'dead', $1, 0)`,
			clock.now().UnixMicro()); err != nil {
			t.Fatal(err)
		}
		if n, err := nodeB.prune(t.Context(), clock.now()); err != nil || n != 0 {
			t.Errorf("prune at the dead lock's expiry: %d, %v; want 0 rows", n, err)
		}
		if n, err := nodeB.prune(t.Context(), clock.now().Add(nodeB.lease)); err != nil || n != 1 {
			t.Errorf("prune a lease after: %d, %v; want 1 row", n, err)
		}
	})
}

// A holder that lost its lock (stalled past its lease while another took
// over) stops its request at its next renewal.
func TestUploadLockLostStopsHolder(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		nodeA := testLocker(db, nil)
		held, _ := nodeA.NewLock("5+v")
		release, stopped := signal()
		if err := held.Lock(t.Context(), release); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Write().ExecContext(t.Context(), `UPDATE upload_locks SET holder = 'other' WHERE upload_id = '5+v'`); err != nil {
			t.Fatal(err)
		}
		wait(t, stopped, "the holder that lost its lock to stop")
		if err := held.Unlock(); err != nil {
			t.Fatal(err)
		}
		if h, _ := lockHolder(t, db, "5+v"); h != "other" {
			t.Errorf("after the loser's Unlock the holder is %q, want the new holder's row kept", h)
		}
	})
}
