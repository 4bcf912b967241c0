package jobs_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/jobs"
	"github.com/plaza-im/plaza/internal/plazatest"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

func TestJobRunsOnce(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		var runs counter
		var mu sync.Mutex
		seen := map[plaza.ID]jobs.Job{}
		r := startQueue(t, db, testConfig(), nil, func(q *jobs.Queue) {
			q.Handle("test.once", func(ctx context.Context, r *jobs.Run) error {
				runs.add(r.ID)
				mu.Lock()
				seen[r.ID] = r.Job
				mu.Unlock()
				return nil
			})
		})
		payloads := []string{`{"n":1}`, `{"n":2}`, `"三"`, ``}
		var ids []plaza.ID
		for i, p := range payloads {
			ids = append(ids, enqueue(t, r.q, jobs.Spec{Kind: "test.once", Key: string(rune('a' + i)), Payload: []byte(p)}))
		}
		for _, id := range ids {
			waitGone(t, r.q, id)
		}
		r.settle(t)
		for i, id := range ids {
			if got := runs.get(id); got != 1 {
				t.Errorf("job %d ran %d times, want 1", i, got)
			}
			mu.Lock()
			j := seen[id]
			mu.Unlock()
			if string(j.Payload) != payloads[i] || j.Attempt != 1 || j.State != nil || j.Status != jobs.Running || j.Kind != "test.once" {
				t.Errorf("job %d ran as %+v, want payload %q, attempt 1, no state, running", i, j, payloads[i])
			}
		}
	})
}

func TestRetryWithBackoffThenFailed(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		clk := newClock()
		cfg := testConfig()
		cfg.Backoff, cfg.MaxBackoff, cfg.MaxAttempts = time.Second, 3*time.Second, 4
		var runs counter
		r := startQueue(t, db, cfg, clk, func(q *jobs.Queue) {
			q.Handle("test.flaky", func(ctx context.Context, r *jobs.Run) error {
				runs.add(r.ID)
				return errors.New("boom " + strings.Repeat("!", r.Attempt))
			})
		})
		id := enqueue(t, r.q, jobs.Spec{Kind: "test.flaky"})
		// Each failure puts the job back, due after a delay that doubles
		// up to MaxBackoff.
		for i, delay := range []time.Duration{time.Second, 2 * time.Second, 3 * time.Second} {
			attempt := i + 1
			want := clk.Now().Add(delay)
			j := waitJob(t, r.q, id, "queued for a retry", func(j jobs.Job, err error) bool {
				return err == nil && j.Status == jobs.Queued && j.Attempt == attempt
			})
			if !j.RunAfter.Equal(want) {
				t.Errorf("after attempt %d: got run_after %v, want %v", attempt, j.RunAfter, want)
			}
			if wantErr := "boom " + strings.Repeat("!", attempt); j.LastError != wantErr {
				t.Errorf("after attempt %d: got last error %q, want %q", attempt, j.LastError, wantErr)
			}
			r.settle(t)
			if got := runs.get(id); got != attempt {
				t.Fatalf("before its retry was due the job ran %d times, want %d", got, attempt)
			}
			clk.Advance(delay)
			r.q.Wake()
		}
		j := waitJob(t, r.q, id, "failed", func(j jobs.Job, err error) bool { return err == nil && j.Status == jobs.Failed })
		if j.Attempt != 4 || j.LastError != "boom !!!!" {
			t.Errorf("got failed job %+v, want attempt 4 and last error %q", j, "boom !!!!")
		}
		clk.Advance(time.Hour)
		r.settle(t)
		if got := runs.get(id); got != 4 {
			t.Errorf("a failed job ran again: %d runs, want 4", got)
		}
	})
}

func TestPermanentAndPanic(t *testing.T) {
	tests := []struct {
		name    string
		handler jobs.Handler
		status  jobs.Status
		attempt int
		errHas  string
	}{
		{"permanent fails at once", func(context.Context, *jobs.Run) error { return jobs.Permanent(errors.New("bad input")) }, jobs.Failed, 1, "bad input"},
		{"a panic is retried", func(context.Context, *jobs.Run) error { panic("kaboom") }, jobs.Queued, 1, "panic: kaboom"},
	}
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		r := startQueue(t, db, testConfig(), newClock(), func(q *jobs.Queue) {
			for i, tt := range tests {
				q.Handle("test.case"+string(rune('a'+i)), tt.handler)
			}
		})
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				id := enqueue(t, r.q, jobs.Spec{Kind: "test.case" + string(rune('a'+i)), MaxAttempts: 5})
				j := waitJob(t, r.q, id, string(tt.status)+" after a run", func(j jobs.Job, err error) bool {
					return err == nil && j.Attempt == tt.attempt && j.Status == tt.status
				})
				if !strings.Contains(j.LastError, tt.errHas) {
					t.Errorf("got last error %q, want it to contain %q", j.LastError, tt.errHas)
				}
			})
		}
	})
	if jobs.Permanent(nil) != nil {
		t.Error("Permanent(nil) is not nil")
	}
}

func TestDedupeAndCancel(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		started, release := make(chan plaza.ID, 1), make(chan struct{})
		r := startQueue(t, db, testConfig(), nil, func(q *jobs.Queue) {
			q.Handle("test.block", func(ctx context.Context, r *jobs.Run) error {
				started <- r.ID
				<-release
				return nil
			})
			q.Handle("test.fail", func(context.Context, *jobs.Run) error { return jobs.Permanent(errBoom) })
		})
		q := r.q

		// A queued job (not due for an hour) holds its key.
		later := time.Now().Add(time.Hour)
		first := enqueue(t, q, jobs.Spec{Kind: "test.block", Key: "k", RunAfter: later})
		_, err := q.Enqueue(ctx, nil, jobs.Spec{Kind: "test.block", Key: "k"})
		if e := plazatest.WantCode(t, err, plaza.EConflict); e.Details["job_id"] != first.String() {
			t.Errorf("got details %v, want job_id %s", e.Details, first)
		}
		// Keys are per kind, and jobs without a key never conflict.
		enqueue(t, q, jobs.Spec{Kind: "test.other", Key: "k", RunAfter: later})
		enqueue(t, q, jobs.Spec{Kind: "test.block", RunAfter: later})
		enqueue(t, q, jobs.Spec{Kind: "test.block", RunAfter: later})

		if ok, err := q.Cancel(ctx, nil, "test.block", "k"); err != nil || !ok {
			t.Fatalf("cancel a queued job: got %v, %v, want true", ok, err)
		}
		if _, err := q.Get(ctx, first); plaza.ErrorCode(err) != plaza.ENotFound {
			t.Errorf("a cancelled job: got %v, want not_found", err)
		}
		if ok, err := q.Cancel(ctx, nil, "test.block", "k"); err != nil || ok {
			t.Errorf("cancel an absent job: got %v, %v, want false", ok, err)
		}

		// Cancel inside a transaction that rolls back changes nothing; an
		// Enqueue inside one that rolls back leaves no job.
		held := enqueue(t, q, jobs.Spec{Kind: "test.block", Key: "tx", RunAfter: later})
		var inTx plaza.ID
		rollback := errors.New("roll back")
		err = db.InTx(ctx, func(tx *sql.Tx) error {
			if ok, err := q.Cancel(ctx, tx, "test.block", "tx"); err != nil || !ok {
				t.Errorf("cancel in a transaction: got %v, %v, want true", ok, err)
			}
			var err error
			inTx, err = q.Enqueue(ctx, tx, jobs.Spec{Kind: "test.block", Key: "tx2"})
			if err != nil {
				return err
			}
			return rollback
		})
		if !errors.Is(err, rollback) {
			t.Fatalf("got %v, want the rollback", err)
		}
		if _, err := q.Get(ctx, held); err != nil {
			t.Errorf("a job whose cancel rolled back: %v", err)
		}
		if _, err := q.Get(ctx, inTx); plaza.ErrorCode(err) != plaza.ENotFound {
			t.Errorf("a job whose enqueue rolled back: got %v, want not_found", err)
		}

		// A running job can be neither cancelled nor queued twice.
		running := enqueue(t, q, jobs.Spec{Kind: "test.block", Key: "run"})
		if got := <-started; got != running {
			t.Fatalf("got job %s started, want %s", got, running)
		}
		if ok, err := q.Cancel(ctx, nil, "test.block", "run"); err != nil || ok {
			t.Errorf("cancel a running job: got %v, %v, want false", ok, err)
		}
		_, err = q.Enqueue(ctx, nil, jobs.Spec{Kind: "test.block", Key: "run"})
		plazatest.WantCode(t, err, plaza.EConflict)
		close(release)
		waitGone(t, q, running)
		enqueue(t, q, jobs.Spec{Kind: "test.block", Key: "run", RunAfter: later})

		// A failed job frees its key, and can be withdrawn: an owner can
		// take back what it asked for even when the work kept failing.
		failed := enqueue(t, q, jobs.Spec{Kind: "test.fail", Key: "f"})
		waitJob(t, q, failed, "failed", func(j jobs.Job, err error) bool { return err == nil && j.Status == jobs.Failed })
		enqueue(t, q, jobs.Spec{Kind: "test.fail", Key: "f", RunAfter: later})
		if ok, err := q.Cancel(ctx, nil, "test.fail", "f"); err != nil || !ok {
			t.Errorf("cancel a failed job: got %v, %v, want true", ok, err)
		}
		if _, err := q.Get(ctx, failed); plaza.ErrorCode(err) != plaza.ENotFound {
			t.Errorf("the cancelled failed job: got %v, want not found", err)
		}
	})
}

func TestEnqueueRefusesBadSpecs(t *testing.T) {
	db := sqldbtest.Open(t, sqldb.SQLite)
	q := jobs.New(db, jobs.DefaultConfig(), nil)
	tests := []struct {
		name  string
		spec  jobs.Spec
		field string
	}{
		{"no kind", jobs.Spec{}, "kind"},
		{"bad kind", jobs.Spec{Kind: "Export Now"}, "kind"},
		{"long key", jobs.Spec{Kind: "k", Key: strings.Repeat("x", 257)}, "key"},
		{"reserved key", jobs.Spec{Kind: "k", Key: "@every"}, "key"},
		{"payload not JSON", jobs.Spec{Kind: "k", Payload: []byte("{")}, "payload"},
		{"payload too big", jobs.Spec{Kind: "k", Payload: []byte(`"` + strings.Repeat("x", 64<<10) + `"`)}, "payload"},
		{"negative attempts", jobs.Spec{Kind: "k", MaxAttempts: -1}, "max_attempts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := q.Enqueue(context.Background(), nil, tt.spec)
			plazatest.WantInvalid(t, err, tt.field)
		})
	}
	var n int
	if err := db.Read().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM jobs`).Scan(&n); err != nil || n != 0 {
		t.Errorf("got %d jobs (err %v), want none", n, err)
	}
}

func TestRunAfterIsNotRunEarly(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		clk := newClock()
		var runs counter
		r := startQueue(t, db, testConfig(), clk, func(q *jobs.Queue) {
			q.Handle("test.later", func(ctx context.Context, r *jobs.Run) error {
				runs.add(r.ID)
				return nil
			})
		})
		id := enqueue(t, r.q, jobs.Spec{Kind: "test.later", RunAfter: clk.Now().Add(time.Hour)})
		clk.Advance(time.Hour - time.Microsecond)
		r.settle(t)
		if got := runs.get(id); got != 0 {
			t.Fatalf("a job due in a microsecond ran %d times, want 0", got)
		}
		if j, err := r.q.Get(context.Background(), id); err != nil || j.Status != jobs.Queued {
			t.Fatalf("got %+v, %v, want a queued job", j, err)
		}
		clk.Advance(time.Microsecond)
		r.q.Wake()
		waitGone(t, r.q, id)
		if got := runs.get(id); got != 1 {
			t.Errorf("got %d runs, want 1", got)
		}
	})
}

func TestQueueWithoutHandlersStops(t *testing.T) {
	db := sqldbtest.Open(t, sqldb.SQLite)
	r := startQueue(t, db, testConfig(), nil, func(*jobs.Queue) {})
	r.stop()
}

func TestRegisterMistakesPanic(t *testing.T) {
	db := sqldbtest.Open(t, sqldb.SQLite)
	nop := func(context.Context, *jobs.Run) error { return nil }
	tests := []struct {
		name string
		fn   func(q *jobs.Queue)
	}{
		{"duplicate kind", func(q *jobs.Queue) { q.Handle("a", nop); q.Handle("a", nop) }},
		{"duplicate periodic kind", func(q *jobs.Queue) { q.Handle("a", nop); q.Every("a", time.Hour, nop) }},
		{"bad kind", func(q *jobs.Queue) { q.Handle("A B", nop) }},
		{"zero interval", func(q *jobs.Queue) { q.Every("a", 0, nop) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("got no panic, want one")
				}
			}()
			tt.fn(jobs.New(db, jobs.DefaultConfig(), nil))
		})
	}
}
