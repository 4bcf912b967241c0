package httpapi

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"slices"
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

// lockClock moves the database's clock, as the lockers see it, only when
// told: leases are written and compared with the database's clock, which
// the test cannot stop, so the test adds an offset that it moves on.
type lockClock struct {
	mu sync.Mutex
	d  time.Duration
}

func (c *lockClock) skew() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.d
}

func (c *lockClock) advance(d time.Duration) {
	c.mu.Lock()
	c.d += d
	c.mu.Unlock()
}

// testLocker returns a locker on db as one node would have it, with quick
// renewals and retries. With a clock, leases end only when the test moves
// it (a test takes far less than the margin); without, the lease is an
// hour, longer than any test.
func testLocker(db *sqldb.DB, clock *lockClock) *dbLocker {
	l := newDBLocker(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	l.renew, l.poll, l.maxPoll = 10*time.Millisecond, 5*time.Millisecond, 20*time.Millisecond
	l.lease = time.Hour
	if clock != nil {
		l.lease, l.margin = time.Minute, 30*time.Second
		l.skew = clock.skew
	}
	return l
}

// insertLock writes the row of a holder that will never renew it, its
// lease ending after d by the database's clock moved on by clock.
func insertLock(tb testing.TB, db *sqldb.DB, clock *lockClock, id, holder string, d time.Duration) {
	tb.Helper()
	if _, err := db.Write().ExecContext(context.Background(), `INSERT INTO upload_locks (upload_id, holder, expires_at, release_requested)
		VALUES ($1, $2, `+dbNow(db.Engine)+` + $3, 0)`, id, holder, (clock.skew() + d).Microseconds()); err != nil {
		tb.Fatal(err)
	}
}

// releaseRequested reports whether the row of the lock on id asks its
// holder to release it.
func releaseRequested(tb testing.TB, db *sqldb.DB, id string) bool {
	tb.Helper()
	var req int
	if err := db.Read().QueryRowContext(context.Background(), `SELECT release_requested FROM upload_locks WHERE upload_id = $1`, id).Scan(&req); err != nil {
		tb.Fatal(err)
	}
	return req != 0
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
// once its lease and the margin after it have run out, and not before.
func TestUploadLockDeadHolderLeaseRunsOut(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		clock := &lockClock{}
		nodeB := testLocker(db, clock)
		// The dead node's last renewal.
		insertLock(t, db, clock, "9+y", "dead", nodeB.lease)
		waiter := nodeB.newLock("9+y")
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		if err := waiter.Lock(ctx, func() {}); !errors.Is(err, tus.ErrLockTimeout) {
			t.Fatalf("Lock within the dead holder's lease: got %v, want ErrLockTimeout", err)
		}
		// Expired, but a part the holder was sending may still land.
		clock.advance(nodeB.lease + time.Second)
		ctx, cancel = context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		if err := waiter.Lock(ctx, func() {}); !errors.Is(err, tus.ErrLockTimeout) {
			t.Fatalf("Lock within the margin after the dead holder's lease: got %v, want ErrLockTimeout", err)
		}
		if h, _ := lockHolder(t, db, "9+y"); h != "dead" {
			t.Fatalf("holder within the margin = %q, want the dead one", h)
		}
		clock.advance(nodeB.margin)
		if err := waiter.Lock(t.Context(), func() {}); err != nil {
			t.Fatalf("Lock after the dead holder's lease and margin: %v", err)
		}
		if h, _ := lockHolder(t, db, "9+y"); h == "dead" || h == "" {
			t.Errorf("holder after the takeover = %q, want the new one", h)
		}
		if err := waiter.Unlock(); err != nil {
			t.Fatal(err)
		}
	})
}

// A live holder renews its lease, by the database's clock, so its lock
// outlasts the first lease; the pruner deletes only rows free for a lease.
func TestUploadLockRenewsLease(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		clock := &lockClock{}
		nodeA, nodeB := testLocker(db, clock), testLocker(db, clock)
		held, _ := nodeA.NewLock("3+z")
		if err := held.Lock(t.Context(), func() {}); err != nil {
			t.Fatal(err)
		}
		_, first := lockHolder(t, db, "3+z")
		clock.advance(nodeA.lease / 2)
		// A renewal sent before the clock moved also ends later than the
		// first lease, by the milliseconds between them; only one sent
		// after it ends half a lease later.
		renewed := first + (nodeA.lease / 2).Microseconds()
		waitFor(t, "a renewal", func() bool { _, e := lockHolder(t, db, "3+z"); return e >= renewed })
		clock.advance(nodeA.lease/2 + nodeA.margin + time.Second) // past the first lease and margin
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		waiter, _ := nodeB.NewLock("3+z")
		if err := waiter.Lock(ctx, func() {}); !errors.Is(err, tus.ErrLockTimeout) {
			t.Fatalf("Lock past the first lease of a renewed lock: got %v, want ErrLockTimeout", err)
		}
		if n, err := nodeB.prune(t.Context()); err != nil || n != 0 {
			t.Errorf("prune with a live lock: %d, %v; want 0 rows", n, err)
		}
		if err := held.Unlock(); err != nil {
			t.Fatal(err)
		}

		// A dead holder's row goes a lease after it became free.
		insertLock(t, db, clock, "4+w", "dead", 0)
		clock.advance(nodeB.margin + nodeB.lease - time.Second)
		if n, err := nodeB.prune(t.Context()); err != nil || n != 0 {
			t.Errorf("prune just before a lease after the dead lock became free: %d, %v; want 0 rows", n, err)
		}
		clock.advance(2 * time.Second)
		if n, err := nodeB.prune(t.Context()); err != nil || n != 1 {
			t.Errorf("prune a lease after: %d, %v; want 1 row", n, err)
		}
	})
}

// Leases are kept in the database's time, Unix microseconds on both
// engines (the database runs on this machine: its clock is the test's).
func TestUploadLockLeaseInDatabaseTime(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		node := testLocker(db, nil)
		held := node.newLock("8+u")
		before := time.Now()
		if err := held.Lock(t.Context(), func() {}); err != nil {
			t.Fatal(err)
		}
		defer held.Unlock()
		_, expires := lockHolder(t, db, "8+u")
		got := time.UnixMicro(expires).Sub(before.Add(node.lease))
		if got < -10*time.Second || got > 10*time.Second {
			t.Errorf("lease ends %v from a lease after Lock, want within seconds", got)
		}
	})
}

// waiting returns how many requests of l's node wait for a held lock.
func (l *dbLocker) waiting() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.waiters
}

// lockIn runs k.Lock in the background until cancel, returning its result.
func lockIn(ctx context.Context, k *dbLock) (<-chan error, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	got := make(chan error, 1)
	go func() { got <- k.Lock(ctx, func() {}) }()
	return got, cancel
}

// At most one request per node waits for a held lock on one upload; the
// others are turned away at once with tusd's 423, before any statement,
// so a client cannot have a node hammer the database with waiting
// requests. Another node's request may still wait.
func TestUploadLockOneWaiterPerUploadPerNode(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		nodeA, nodeB, nodeC := testLocker(db, nil), testLocker(db, nil), testLocker(db, nil)
		held := nodeA.newLock("2+t")
		if err := held.Lock(t.Context(), func() {}); err != nil {
			t.Fatal(err)
		}
		defer held.Unlock()
		got, cancel := lockIn(t.Context(), nodeB.newLock("2+t"))
		defer cancel()
		waitFor(t, "B's first request to wait", func() bool { return nodeB.waiting() == 1 })

		ctx, cancelCtx := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancelCtx()
		if err := nodeB.newLock("2+t").Lock(ctx, func() {}); !errors.Is(err, tus.ErrFileLocked) {
			t.Errorf("B's second request for the held lock: got %v, want ErrFileLocked", err)
		}
		ctx, cancelCtx = context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancelCtx()
		if err := nodeC.newLock("2+t").Lock(ctx, func() {}); !errors.Is(err, tus.ErrLockTimeout) {
			t.Errorf("C's request while B's waits: got %v, want it to wait (ErrLockTimeout)", err)
		}

		cancel()
		if err := <-got; !errors.Is(err, tus.ErrLockTimeout) {
			t.Errorf("B's first request: got %v, want ErrLockTimeout", err)
		}
		// Once it gave up, B's next request may wait in its turn.
		ctx, cancelCtx = context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancelCtx()
		if err := nodeB.newLock("2+t").Lock(ctx, func() {}); !errors.Is(err, tus.ErrLockTimeout) {
			t.Errorf("B's request after the first gave up: got %v, want it to wait (ErrLockTimeout)", err)
		}
		if n := nodeB.waiting(); n != 0 {
			t.Errorf("%d requests of B still counted as waiting, want 0", n)
		}
	})
}

// A node lets at most maxWaiters requests wait for held locks; one more
// is turned away, without asking the holder to release its lock.
func TestUploadLockWaitersPerNodeBounded(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		nodeA, nodeB := testLocker(db, nil), testLocker(db, nil)
		nodeB.maxWaiters = 1
		for _, id := range []string{"6+a", "6+b"} {
			held := nodeA.newLock(id)
			if err := held.Lock(t.Context(), func() {}); err != nil {
				t.Fatal(err)
			}
			defer held.Unlock()
		}
		got, cancel := lockIn(t.Context(), nodeB.newLock("6+a"))
		defer cancel()
		waitFor(t, "B's request to wait", func() bool { return nodeB.waiting() == 1 })

		ctx, cancelCtx := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancelCtx()
		if err := nodeB.newLock("6+b").Lock(ctx, func() {}); !errors.Is(err, tus.ErrFileLocked) {
			t.Errorf("B's request for another held lock beyond maxWaiters: got %v, want ErrFileLocked", err)
		}
		if releaseRequested(t, db, "6+b") {
			t.Error("the request turned away asked the holder to release its lock")
		}
		if !releaseRequested(t, db, "6+a") {
			t.Error("the waiting request did not ask the holder to release its lock")
		}
		cancel()
		<-got
	})
}

// A waiter polls at first every poll, then twice as long each time up to
// maxPoll.
func TestUploadLockPollBacksOff(t *testing.T) {
	l := &dbLocker{poll: defaultLockPoll, maxPoll: defaultLockMaxPoll}
	var got []time.Duration
	for d, i := l.poll, 0; i < 6; d, i = l.nextPoll(d), i+1 {
		got = append(got, d)
	}
	want := []time.Duration{200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, 1600 * time.Millisecond, 2 * time.Second, 2 * time.Second}
	if !slices.Equal(got, want) {
		t.Errorf("polls %v, want %v", got, want)
	}
}

// A request waiting for the lock of a dead node's upload gets it before
// tusd gives up: the lease, the margin and one longest poll fit in the wait.
func TestUploadLockTakeoverWithinWait(t *testing.T) {
	if d := defaultLockLease + defaultLockMargin + defaultLockMaxPoll; d >= tusLockWait {
		t.Errorf("a dead holder's lock is taken over up to %v after its last renewal, but requests wait only %v", d, tusLockWait)
	}
}

// TryLock, the pruner's, takes a free lock but passes over a held one
// without asking its holder to release it.
func TestUploadLockTryLockNeverAsks(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		nodeA, nodeB := testLocker(db, nil), testLocker(db, nil)
		held := nodeA.newLock("1+p")
		if err := held.Lock(t.Context(), func() {}); err != nil {
			t.Fatal(err)
		}
		try := nodeB.newLock("1+p")
		if got, err := try.TryLock(t.Context()); got || err != nil {
			t.Fatalf("TryLock of a held lock: %t, %v; want false", got, err)
		}
		if releaseRequested(t, db, "1+p") {
			t.Error("TryLock asked the holder to release its lock")
		}
		if err := held.Unlock(); err != nil {
			t.Fatal(err)
		}
		if got, err := try.TryLock(t.Context()); !got || err != nil {
			t.Fatalf("TryLock of a free lock: %t, %v; want true", got, err)
		}
		if h, _ := lockHolder(t, db, "1+p"); h != try.holder {
			t.Errorf("holder after TryLock = %q, want %q", h, try.holder)
		}
		if err := try.Unlock(); err != nil {
			t.Fatal(err)
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
