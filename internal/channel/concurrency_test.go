package channel

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// race runs fns at once and waits for them. On SQLite, whose writers take
// the database lock at BEGIN, that is all. On PostgreSQL a transaction of
// the test first runs gate, a statement taking a lock that lets the racers
// read but makes their first write wait; the racers are started one by
// one, each once the previous one waits, and let go together. So every
// racer has read before any has written: the interleaving that
// check-then-write code gets wrong, on every run. With a row lock as the
// gate, the racers also write in the order given (PostgreSQL queues the
// waiters for a row first come, first served).
func race(tb testing.TB, db *sqldb.DB, gate string, gateArgs []any, fns ...func()) {
	tb.Helper()
	var wg sync.WaitGroup
	if db.Engine != sqldb.Postgres {
		for _, f := range fns {
			wg.Go(f)
		}
		wg.Wait()
		return
	}
	ctx := context.Background()
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, gate, gateArgs...)
		if err != nil {
			return err
		}
		rows.Close()
		for i, f := range fns {
			wg.Go(f)
			if err := waitForLockWaiters(ctx, db, i+1); err != nil {
				tb.Errorf("racer %d: %v", i, err)
				return nil
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("race gate: %v", err)
	}
	wg.Wait()
}

// waitForLockWaiters waits until n sessions of this database wait for a
// lock. It asks outside the gate's transaction, in which pg_stat_activity
// would stay one snapshot.
func waitForLockWaiters(ctx context.Context, db *sqldb.DB, n int) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		var waiting int
		if err := db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting); err != nil {
			return err
		}
		if waiting >= n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d sessions wait for a lock after 10s, want %d", waiting, n)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// outcomes collects the error codes of racers.
type outcomes struct {
	mu    sync.Mutex
	codes map[string]int
}

func (o *outcomes) add(err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.codes == nil {
		o.codes = map[string]int{}
	}
	o.codes[plaza.ErrorCode(err)]++
}

// TestQuotaConcurrent posts at once to a channel with room for one post a
// day: exactly one may pass.
func TestQuotaConcurrent(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 2})
		ctx := context.Background()
		owner := e.user(1)
		ch := e.newChannel(t, owner, "racy", Subscription)
		e.category(t, "news", PolicyOpen)
		var o outcomes
		var fns []func()
		for i := range 4 {
			fns = append(fns, func() {
				_, err := e.svc.CreatePost(ctx, owner, ch, PostInput{Title: fmt.Sprintf("racer %d", i), Body: "b", Category: "news"})
				o.add(err)
			})
		}
		race(t, db, `LOCK TABLE channel_posts IN SHARE MODE`, nil, fns...)
		if o.codes[""] != 1 || o.codes[plaza.EQuotaExceeded] != 3 {
			t.Errorf("outcomes = %v, want 1 success and 3 quota_exceeded", o.codes)
		}
		if posts, _ := e.svc.Posts(ctx, owner, ch, "", 0, 50); len(posts) != 1 {
			t.Errorf("%d posts stored today on a channel allowed 1 a day", len(posts))
		}
	})
}

// TestDecideApplicationConcurrent has two reviewers decide one
// application at once, approve first: one decision stands, the other gets
// a conflict, and the application agrees with whether a channel exists.
func TestDecideApplicationConcurrent(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 2})
		ctx := context.Background()
		a, err := e.svc.Apply(ctx, e.user(1), ApplicationInput{Handle: "contested", Name: "Contested", Kind: Subscription})
		if err != nil {
			t.Fatal(err)
		}
		var o outcomes
		race(t, db, `SELECT id FROM channel_applications WHERE id = $1 FOR SHARE`, []any{a.ID},
			func() { _, err := e.svc.DecideApplication(ctx, e.reviewer, a.ID, true, ""); o.add(err) },
			func() { _, err := e.svc.DecideApplication(ctx, e.reviewer, a.ID, false, "no"); o.add(err) })
		if o.codes[""] != 1 || o.codes[plaza.EConflict] != 1 {
			t.Errorf("outcomes = %v, want 1 success and 1 conflict", o.codes)
		}
		apps, err := e.svc.Applications(ctx, "", 0, 0, 10)
		if err != nil || len(apps) != 1 {
			t.Fatalf("Applications = %v, %v", apps, err)
		}
		channels, _ := e.svc.Search(ctx, "contested", 0, 10)
		if (apps[0].Status == StatusApproved) != (len(channels) == 1) {
			t.Errorf("application is %s, yet %d channels exist for it", apps[0].Status, len(channels))
		}
		if n := e.countAudit(t, "channel.approve") + e.countAudit(t, "channel.reject"); n != 1 {
			t.Errorf("%d decisions audited, want 1", n)
		}
	})
}

// TestDecidePostConcurrent has two reviewers decide one held post at once,
// approve first: one decision stands and followers are told only of a post
// that stays published.
func TestDecidePostConcurrent(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 2, cfg: roomy})
		ctx := context.Background()
		owner := e.user(1)
		ch := e.newChannel(t, owner, "heldpost", ServiceKind)
		e.category(t, "health", PolicyReview)
		p := e.post(t, owner, ch, "held", "health")
		w := watch(t, e.bus, ch)
		var o outcomes
		race(t, db, `SELECT id FROM channel_posts WHERE id = $1 FOR SHARE`, []any{p.ID},
			func() { _, err := e.svc.DecidePost(ctx, e.reviewer, p.ID, true, ""); o.add(err) },
			func() { _, err := e.svc.DecidePost(ctx, e.reviewer, p.ID, false, "no"); o.add(err) })
		if o.codes[""] != 1 || o.codes[plaza.EConflict] != 1 {
			t.Errorf("outcomes = %v, want 1 success and 1 conflict", o.codes)
		}
		published, _ := e.svc.Posts(ctx, owner, ch, PostPublished, 0, 10)
		rejected, _ := e.svc.Posts(ctx, owner, ch, PostRejected, 0, 10)
		frames := w.take(t)
		if len(published)+len(rejected) != 1 || len(frames) != len(published) {
			t.Errorf("published %d, rejected %d, frames %d: want one outcome, and a frame only if published",
				len(published), len(rejected), len(frames))
		}
	})
}

// TestSetStatusConcurrent closes and reinstates a suspended channel at
// once, close first: closed is final, so the channel must end closed.
func TestSetStatusConcurrent(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 2})
		ctx := context.Background()
		ch := e.newChannel(t, e.user(1), "closing", Subscription)
		if _, err := e.svc.SetStatus(ctx, e.reviewer, ch, StatusSuspended, "spam"); err != nil {
			t.Fatal(err)
		}
		var o outcomes
		race(t, db, `SELECT id FROM channels WHERE id = $1 FOR SHARE`, []any{ch},
			func() { _, err := e.svc.SetStatus(ctx, e.reviewer, ch, StatusClosed, "confirmed spam"); o.add(err) },
			func() { _, err := e.svc.SetStatus(ctx, e.reviewer, ch, StatusActive, "appeal"); o.add(err) })
		if c := e.get(t, e.user(1), ch); c.Status != StatusClosed {
			t.Errorf("status = %s after close and reinstate raced (%v), want closed", c.Status, o.codes)
		}
	})
}
