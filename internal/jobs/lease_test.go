package jobs_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/jobs"
	"github.com/plaza-im/plaza/internal/plazatest"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// TestLeaseTakenOver checks that a run whose lease another run took over
// (simulated by bumping lease_token, as a claim does) can neither commit
// a transaction, nor checkpoint, nor finish the job.
func TestLeaseTakenOver(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		started, release := make(chan struct{}), make(chan struct{})
		type outcome struct {
			txErr, ckErr error
			fnCalled     bool
			cause        error
		}
		got := make(chan outcome, 1)
		r := startQueue(t, db, testConfig(), nil, func(q *jobs.Queue) {
			q.Handle("test.lease", func(ctx context.Context, r *jobs.Run) error {
				close(started)
				<-release
				var o outcome
				o.txErr = r.Tx(ctx, func(tx *sql.Tx) error {
					o.fnCalled = true
					return nil
				})
				o.ckErr = r.Checkpoint(ctx, []byte(`"late"`))
				o.cause = context.Cause(ctx)
				got <- o
				return nil
			})
		})
		id := enqueue(t, r.q, jobs.Spec{Kind: "test.lease"})
		<-started
		if _, err := db.Write().ExecContext(ctx, `UPDATE jobs SET lease_token = lease_token + 1 WHERE id = $1`, id); err != nil {
			t.Fatal(err)
		}
		close(release)
		o := <-got
		if !errors.Is(o.txErr, jobs.ErrLeaseLost) || o.fnCalled {
			t.Errorf("Tx after a takeover: got %v (fn called: %v), want ErrLeaseLost without calling fn", o.txErr, o.fnCalled)
		}
		if !errors.Is(o.ckErr, jobs.ErrLeaseLost) {
			t.Errorf("Checkpoint after a takeover: got %v, want ErrLeaseLost", o.ckErr)
		}
		if !errors.Is(o.cause, jobs.ErrLeaseLost) {
			t.Errorf("the handler's context: got cause %v, want ErrLeaseLost", o.cause)
		}
		r.settle(t)
		// The run returned nil, but the job is the new lease holder's:
		// it is neither deleted nor changed.
		j, err := r.q.Get(ctx, id)
		if err != nil || j.Status != jobs.Running || j.State != nil {
			t.Errorf("got %+v, %v, want the job still running with no state", j, err)
		}
	})
}

// TestTwoQueuesRunEachJobOnce runs two queues, as two nodes, on one
// PostgreSQL database.
func TestTwoQueuesRunEachJobOnce(t *testing.T) {
	url := sqldbtest.URL(t, sqldb.Postgres)
	ctx := context.Background()
	open := func() *sqldb.DB {
		db, err := sqldb.Open(ctx, url, sqldb.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	db1, db2 := open(), open()
	if _, err := db1.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	const n = 200
	q := jobs.New(db1, testConfig(), nil)
	ids := make([]plaza.ID, n)
	for i := range ids {
		ids[i] = enqueue(t, q, jobs.Spec{Kind: "test.many", Key: fmt.Sprint(i), Payload: []byte(fmt.Sprint(i))})
	}
	var runs counter
	var mu sync.Mutex
	byNode := map[int]int{}
	cfg := testConfig()
	cfg.Workers = 4
	for node, db := range []*sqldb.DB{db1, db2} {
		startQueue(t, db, cfg, nil, func(q *jobs.Queue) {
			q.Handle("test.many", func(ctx context.Context, r *jobs.Run) error {
				runs.add(r.ID)
				mu.Lock()
				byNode[node]++
				mu.Unlock()
				return nil
			})
		})
	}
	plazatest.Eventually(t, time.Minute, func() error {
		var left int
		if err := db1.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM jobs`).Scan(&left); err != nil {
			return err
		}
		if left > 0 {
			return fmt.Errorf("%d jobs left", left)
		}
		return nil
	})
	for i, id := range ids {
		if got := runs.get(id); got != 1 {
			t.Errorf("job %d ran %d times, want 1", i, got)
		}
	}
	if got := runs.total(); got != n {
		t.Errorf("got %d runs in all, want %d", got, n)
	}
	t.Logf("runs per node: %v", byNode)
}

// TestEveryRunsOncePerInterval runs a periodic job on two queues (one on
// SQLite, which has one node) sharing a clock: each interval it runs once.
func TestEveryRunsOncePerInterval(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		clk := newClock()
		var mu sync.Mutex
		runs := 0
		nodes := 2
		if db.Engine == sqldb.SQLite {
			nodes = 1
		}
		var queues []*runner
		for range nodes {
			queues = append(queues, startQueue(t, db, testConfig(), clk, func(q *jobs.Queue) {
				q.Every("test.tick", time.Hour, func(ctx context.Context, r *jobs.Run) error {
					mu.Lock()
					runs++
					mu.Unlock()
					return nil
				})
			}))
		}
		for want := 1; want <= 4; want++ {
			// Wait until the run is recorded and the job rescheduled an
			// interval on, then let every queue look again.
			plazatest.Eventually(t, 30*time.Second, func() error {
				for _, r := range queues {
					r.q.Wake()
				}
				var rows int
				var runAfter int64
				var status string
				err := db.Read().QueryRowContext(ctx, `SELECT COUNT(*), MAX(run_after), MAX(status) FROM jobs WHERE kind = 'test.tick'`).Scan(&rows, &runAfter, &status)
				if err != nil {
					return err
				}
				if next := clk.Now().Add(time.Hour).UnixMicro(); rows != 1 || runAfter != next || status != string(jobs.Queued) {
					return fmt.Errorf("got %d rows, run_after %d, status %q; want one queued row due at %d", rows, runAfter, status, next)
				}
				return nil
			})
			for _, r := range queues {
				r.settle(t)
			}
			mu.Lock()
			got := runs
			mu.Unlock()
			if got != want {
				t.Fatalf("after %d intervals: got %d runs, want %d", want, got, want)
			}
			clk.Advance(time.Hour)
		}
	})
}

// TestRestartResumes stops a queue in the middle of a job, once as a
// killed process does (the lease is left behind) and once cleanly (the
// lease is given back), and checks that a new queue resumes the job from
// its checkpoint.
func TestRestartResumes(t *testing.T) {
	tests := []struct {
		name        string
		crash       bool
		wantAttempt int
	}{
		{"crash", true, 2},
		{"clean stop", false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
				ctx := context.Background()
				clk := newClock()
				cfg := testConfig()
				checkpointed := make(chan struct{})
				var opts []func(*jobs.Queue)
				if tt.crash {
					opts = append(opts, jobs.CrashOnStop)
				}
				first := startQueue(t, db, cfg, clk, func(q *jobs.Queue) {
					q.Handle("test.resume", func(ctx context.Context, r *jobs.Run) error {
						if err := r.Checkpoint(ctx, []byte(`{"done":"half"}`)); err != nil {
							return err
						}
						close(checkpointed)
						<-ctx.Done()
						return ctx.Err()
					})
				}, opts...)
				id := enqueue(t, first.q, jobs.Spec{Kind: "test.resume", Key: "x"})
				<-checkpointed
				first.stop()

				resumed := make(chan jobs.Job, 1)
				second := startQueue(t, db, cfg, clk, func(q *jobs.Queue) {
					q.Handle("test.resume", func(ctx context.Context, r *jobs.Run) error {
						resumed <- r.Job
						return nil
					})
				})
				if tt.crash && db.Engine == sqldb.Postgres {
					// Another node may still hold the lease: it must lapse
					// first.
					second.settle(t)
					if j, err := second.q.Get(ctx, id); err != nil || j.Status != jobs.Running {
						t.Fatalf("before the lease lapsed: got %+v, %v, want the job still running", j, err)
					}
					clk.Advance(cfg.Lease + time.Microsecond)
					second.q.Wake()
				}
				j := <-resumed
				if string(j.State) != `{"done":"half"}` || j.Attempt != tt.wantAttempt {
					t.Errorf("resumed with state %q at attempt %d, want %q at attempt %d", j.State, j.Attempt, `{"done":"half"}`, tt.wantAttempt)
				}
				waitGone(t, second.q, id)
			})
		})
	}
}

// TestCrashLoopGivesUp checks that a job whose every run dies without a
// word is marked failed once its attempts are used up.
func TestCrashLoopGivesUp(t *testing.T) {
	db := sqldbtest.Open(t, sqldb.SQLite)
	cfg := testConfig()
	cfg.MaxAttempts = 2
	var id plaza.ID
	for range 2 {
		started := make(chan struct{})
		r := startQueue(t, db, cfg, nil, func(q *jobs.Queue) {
			q.Handle("test.crash", func(ctx context.Context, r *jobs.Run) error {
				close(started)
				<-ctx.Done()
				return ctx.Err()
			})
		}, jobs.CrashOnStop)
		if id == 0 {
			id = enqueue(t, r.q, jobs.Spec{Kind: "test.crash"})
		}
		<-started
		r.stop()
	}
	r := startQueue(t, db, cfg, nil, func(q *jobs.Queue) {
		q.Handle("test.crash", func(context.Context, *jobs.Run) error {
			t.Error("a job past its attempts ran")
			return nil
		})
	})
	j := waitJob(t, r.q, id, "failed", func(j jobs.Job, err error) bool { return err == nil && j.Status == jobs.Failed })
	if j.LastError == "" {
		t.Error("a job that gave up has no last error")
	}
}
