package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/sqldb"
)

// Run is one claimed run of a job: the Job as claimed, and the lease that
// every write of the run is matched against.
type Run struct {
	Job

	q          *Queue
	token      int64
	maxAttempt int
	lost       atomic.Bool
	cancel     context.CancelCauseFunc
}

// Checkpoint saves state, from which a later attempt resumes (it is the
// next run's Job.State), and renews the lease. It returns ErrLeaseLost
// when another node has taken the job over.
func (r *Run) Checkpoint(ctx context.Context, state []byte) error {
	if r.lost.Load() {
		return fmt.Errorf("checkpoint %s job: %w", r.Kind, ErrLeaseLost)
	}
	if state == nil {
		state = []byte{}
	}
	now := r.q.now()
	res, err := r.q.db.Write().ExecContext(ctx, `UPDATE jobs SET state = $1, lease_until = $2, updated_at = $3
		WHERE id = $4 AND lease_token = $5`, state, now.Add(r.q.cfg.Lease).UnixMicro(), now.UnixMicro(), r.ID, r.token)
	if err := r.held(res, err); err != nil {
		return fmt.Errorf("checkpoint %s job: %w", r.Kind, err)
	}
	r.State = state
	return nil
}

// Tx runs fn in a transaction that commits only while this run holds the
// lease: the transaction first renews the lease (on PostgreSQL that locks
// the job's row until commit, so no other node can claim it meanwhile)
// and returns ErrLeaseLost without calling fn when another node has taken
// the job over. fn must do all its work through tx: on SQLite the one
// writer connection is tx's until it ends.
func (r *Run) Tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if r.lost.Load() {
		return fmt.Errorf("%s job: %w", r.Kind, ErrLeaseLost)
	}
	return r.q.db.InTx(ctx, func(tx *sql.Tx) error {
		now := r.q.now()
		res, err := tx.ExecContext(ctx, `UPDATE jobs SET lease_until = $1, updated_at = $2 WHERE id = $3 AND lease_token = $4`,
			now.Add(r.q.cfg.Lease).UnixMicro(), now.UnixMicro(), r.ID, r.token)
		if err := r.held(res, err); err != nil {
			return fmt.Errorf("%s job: %w", r.Kind, err)
		}
		return fn(tx)
	})
}

// renew extends the lease.
func (r *Run) renew(ctx context.Context) error {
	now := r.q.now()
	res, err := r.q.db.Write().ExecContext(ctx, `UPDATE jobs SET lease_until = $1, updated_at = $2 WHERE id = $3 AND lease_token = $4`,
		now.Add(r.q.cfg.Lease).UnixMicro(), now.UnixMicro(), r.ID, r.token)
	return r.held(res, err)
}

// held turns the result of a write matched on the lease into
// ErrLeaseLost when it matched nothing, and ends the run's context then.
func (r *Run) held(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		r.lost.Store(true)
		r.cancel(ErrLeaseLost)
		return ErrLeaseLost
	}
	return nil
}

// Run claims due jobs and runs them, at most Config.Workers at a time,
// until ctx ends; it then waits for the running handlers to return and
// gives their leases back, so that another node (or this one, restarted)
// need not wait for them to lapse. On SQLite, where one process owns the
// database, it first frees the leases a killed process left behind.
// Register every handler before calling Run, and call it once.
func (q *Queue) Run(ctx context.Context) {
	q.mu.Lock()
	if q.started {
		q.mu.Unlock()
		panic("jobs: Run called twice")
	}
	q.started = true
	kinds := make([]string, 0, len(q.handlers))
	for k := range q.handlers {
		kinds = append(kinds, k)
	}
	q.mu.Unlock()
	if len(kinds) == 0 {
		<-ctx.Done()
		return
	}
	slices.Sort(kinds)
	claimSQL := q.claimSQL(len(kinds))

	if q.db.Engine == sqldb.SQLite {
		if _, err := q.db.Write().ExecContext(ctx, `UPDATE jobs SET lease_until = 0 WHERE status = 'running' AND lease_until > 0`); err != nil && ctx.Err() == nil {
			q.log.Error("freeing the job leases of an earlier run failed", "err", err)
		}
	}
	q.schedulePeriodic(ctx)

	var wg sync.WaitGroup
	defer wg.Wait()
	busy := 0
	var mu sync.Mutex
	freed := make(chan struct{}, 1)
	tick := time.NewTicker(q.cfg.Poll)
	defer tick.Stop()
	for {
		mu.Lock()
		free := q.cfg.Workers - busy
		mu.Unlock()
		claimed := 0
		if free > 0 {
			runs, err := q.claim(ctx, claimSQL, kinds, free)
			if err != nil && ctx.Err() == nil {
				q.log.Error("claiming jobs failed; trying again at the next poll", "err", err)
			}
			claimed = len(runs)
			mu.Lock()
			busy += claimed
			mu.Unlock()
			for _, r := range runs {
				wg.Go(func() {
					q.execute(ctx, r)
					mu.Lock()
					busy--
					mu.Unlock()
					select {
					case freed <- struct{}{}:
					default:
					}
				})
			}
			if q.afterRound != nil {
				q.afterRound(claimed)
			}
		}
		if ctx.Err() != nil {
			return
		}
		if claimed > 0 && claimed == free {
			// More may be due: look again once a worker is free.
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-q.wake:
		case <-freed:
		case <-tick.C:
		}
	}
}

// claimSQL returns the statement that leases up to a given number of due
// jobs of the n kinds this queue handles. The outer conditions repeat the
// inner ones: on PostgreSQL a claim that waited for another's row lock
// re-reads the row and skips it if that claim took it (and SKIP LOCKED
// makes it look past such rows instead of waiting). The claim bumps
// lease_token and attempts.
func (q *Queue) claimSQL(n int) string {
	ph := make([]string, n)
	for i := range ph {
		ph[i] = "$" + strconv.Itoa(4+i)
	}
	lock := ""
	if q.db.Engine == sqldb.Postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	return `UPDATE jobs SET status = 'running', attempts = attempts + 1, lease_token = lease_token + 1, lease_until = $1, updated_at = $2
		WHERE id IN (SELECT id FROM jobs WHERE status <> 'failed' AND run_after <= $2 AND lease_until < $2
			AND kind IN (` + strings.Join(ph, ", ") + `) ORDER BY run_after, id LIMIT $3` + lock + `)
		AND status <> 'failed' AND run_after <= $2 AND lease_until < $2
		RETURNING ` + jobColumns + `, lease_token, max_attempts`
}

// claim leases up to n due jobs.
func (q *Queue) claim(ctx context.Context, query string, kinds []string, n int) ([]*Run, error) {
	now := q.now()
	args := []any{now.Add(q.cfg.Lease).UnixMicro(), now.UnixMicro(), n}
	for _, k := range kinds {
		args = append(args, k)
	}
	rows, err := q.db.Write().QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("claim jobs: %w", err)
	}
	defer rows.Close()
	var runs []*Run
	for rows.Next() {
		r := &Run{q: q}
		if r.Job, err = scanJob(rows, &r.token, &r.maxAttempt); err != nil {
			return nil, fmt.Errorf("claim jobs: %w", err)
		}
		runs = append(runs, r)
	}
	return runs, rows.Err()
}

// schedulePeriodic creates the row of each periodic job that has none,
// due at once.
func (q *Queue) schedulePeriodic(ctx context.Context) {
	for kind := range q.periodic {
		now := q.now()
		_, err := q.db.Write().ExecContext(ctx, `INSERT INTO jobs (id, kind, dedupe_key, payload, state, status, attempts, max_attempts,
				run_after, lease_until, lease_token, last_error, created_at, updated_at)
			VALUES ($1, $2, $3, '', NULL, 'queued', 0, $4, $5, 0, 0, '', $5, $5)
			ON CONFLICT (kind, dedupe_key) WHERE dedupe_key <> '' AND status <> 'failed' DO NOTHING`,
			plaza.NewID(), kind, everyKey, q.cfg.MaxAttempts, now.UnixMicro())
		if err != nil && ctx.Err() == nil {
			q.log.Error("scheduling a periodic job failed", "kind", kind, "err", err)
		}
	}
}

// execute runs one claimed job and records how it ended.
func (q *Queue) execute(ctx context.Context, r *Run) {
	q.mu.Lock()
	h := q.handlers[r.Kind]
	interval := q.periodic[r.Kind]
	q.mu.Unlock()
	hctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	r.cancel = cancel
	// Bookkeeping after the handler must happen even when ctx has ended.
	wctx, wcancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer wcancel()

	if interval == 0 && r.Attempt > r.maxAttempt {
		// The earlier runs all ended without a word (the process died or
		// the lease was lost): give up rather than crash forever.
		q.m.failed.WithLabelValues(r.Kind).Inc()
		q.fail(wctx, r, fmt.Sprintf("gave up after %d attempts that ended without finishing", r.maxAttempt))
		return
	}

	done := make(chan struct{})
	var renewer sync.WaitGroup
	renewer.Go(func() { q.keepLease(hctx, r, done) })
	q.m.running.Inc()
	start := time.Now()
	err := call(hctx, h, r)
	took := time.Since(start)
	q.m.running.Dec()
	close(done)
	renewer.Wait()
	if !r.lost.Load() && !errors.Is(err, ErrLeaseLost) && (ctx.Err() == nil || err == nil) {
		// A run cut short by a lost lease or the queue stopping did not
		// fail: the run that finishes the job counts.
		q.m.ran(r.Kind, took, err)
	}

	switch {
	case r.lost.Load() || errors.Is(err, ErrLeaseLost):
		q.log.Warn("a job's lease was taken over by another run; leaving the job to it", "kind", r.Kind, "job", r.ID, "attempt", r.Attempt)
	case ctx.Err() != nil && err != nil:
		// The queue is stopping: the run did not fail, so it gets its
		// attempt back and the next claim resumes it.
		if q.crashOnStop {
			return
		}
		q.write(wctx, r, "release", `UPDATE jobs SET status = 'queued', attempts = attempts - 1, lease_until = 0, updated_at = $1
			WHERE id = $2 AND lease_token = $3`, q.now().UnixMicro(), r.ID, r.token)
	case interval > 0:
		msg := ""
		if err != nil {
			msg = errText(err)
			q.log.Error("a periodic job failed; it runs again at its next interval", "kind", r.Kind, "err", err)
		}
		now := q.now()
		q.write(wctx, r, "reschedule", `UPDATE jobs SET status = 'queued', attempts = 0, state = NULL, lease_until = 0,
			run_after = $1, last_error = $2, updated_at = $3 WHERE id = $4 AND lease_token = $5`,
			now.Add(interval).UnixMicro(), msg, now.UnixMicro(), r.ID, r.token)
	case err == nil:
		q.write(wctx, r, "finish", `DELETE FROM jobs WHERE id = $1 AND lease_token = $2`, r.ID, r.token)
	case errors.As(err, new(permanentError)) || r.Attempt >= r.maxAttempt:
		q.log.Error("a job failed for good", "kind", r.Kind, "job", r.ID, "attempt", r.Attempt, "err", err)
		q.fail(wctx, r, errText(err))
	default:
		now := q.now()
		delay := q.backoff(r.Attempt)
		q.log.Warn("a job failed; retrying", "kind", r.Kind, "job", r.ID, "attempt", r.Attempt, "retry_in", delay, "err", err)
		q.write(wctx, r, "retry", `UPDATE jobs SET status = 'queued', lease_until = 0, run_after = $1, last_error = $2, updated_at = $3
			WHERE id = $4 AND lease_token = $5`, now.Add(delay).UnixMicro(), errText(err), now.UnixMicro(), r.ID, r.token)
	}
}

// keepLease renews r's lease every Lease/3 until done closes; when it
// finds the lease lost it ends the handler's context (held does).
func (q *Queue) keepLease(ctx context.Context, r *Run, done <-chan struct{}) {
	t := time.NewTicker(q.cfg.Lease / 3)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-ctx.Done():
			return
		case <-t.C:
			if err := r.renew(ctx); err != nil {
				if errors.Is(err, ErrLeaseLost) {
					return
				}
				if ctx.Err() == nil {
					q.log.Warn("renewing a job's lease failed; trying again", "kind", r.Kind, "job", r.ID, "err", err)
				}
			}
		}
	}
}

// call runs h, turning a panic into an error so that one bad job cannot
// take the node down.
func call(ctx context.Context, h Handler, r *Run) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
		}
	}()
	return h(ctx, r)
}

// fail marks r's job failed with msg.
func (q *Queue) fail(ctx context.Context, r *Run, msg string) {
	q.write(ctx, r, "fail", `UPDATE jobs SET status = 'failed', lease_until = 0, last_error = $1, updated_at = $2
		WHERE id = $3 AND lease_token = $4`, msg, q.now().UnixMicro(), r.ID, r.token)
}

// write runs one of the statements that end a run, matched on its lease.
func (q *Queue) write(ctx context.Context, r *Run, what, query string, args ...any) {
	res, err := q.db.Write().ExecContext(ctx, query, args...)
	if err == nil {
		var n int64
		if n, err = res.RowsAffected(); err == nil && n == 0 {
			q.log.Warn("a job's lease was taken over before its run ended; leaving the job to the new run", "kind", r.Kind, "job", r.ID, "step", what)
			return
		}
	}
	if err != nil {
		q.log.Error("recording the end of a job's run failed; it runs again when its lease lapses", "kind", r.Kind, "job", r.ID, "step", what, "err", err)
	}
}

// backoff returns the delay before the retry that follows attempt.
func (q *Queue) backoff(attempt int) time.Duration {
	d := q.cfg.Backoff
	for i := 1; i < attempt && d < q.cfg.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, q.cfg.MaxBackoff)
}

// maxErrorLen bounds the error text kept with a job.
const maxErrorLen = 2000

func errText(err error) string {
	s := err.Error()
	if len(s) > maxErrorLen {
		s = s[:maxErrorLen]
	}
	return strings.ToValidUTF8(s, "")
}
