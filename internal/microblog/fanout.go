package microblog

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/events"
	"github.com/plaza-im/plaza/internal/sqldb"
)

// The fan-out worker writes published posts into their readers'
// timelines. A job (one post, one audience: the author's followers or,
// for a contacts post, contacts) is written in the post's own
// transaction. The worker leases jobs (several nodes may run one; a
// lease that is not renewed lapses and another node takes the job over),
// then batch after batch inserts up to FanoutBatch timeline rows —
// finishing as many small jobs as fit, with one statement each, or
// advancing a large one — and moves each job's done_up_to (or deletes the
// finished job) in the same transaction. A restart resumes after the last committed batch, and
// the inserts ignore rows that exist, so nothing is ever doubled. After
// each batch the readers' connected devices get a post.created frame.

// job is a leased fan-out job.
type job struct {
	id, post, author plaza.ID
	audience         string
	doneUpTo         int64
	// gone: its post is no longer published; done: nothing is left to do.
	gone, done bool
}

// jobsPerLease is how many jobs one lease takes at once, and batchesPerTx
// how many statements' worth of readers (FanoutBatch each) one
// transaction writes: a reader's timeline rows sit together, so the more
// posts one commit carries, the fewer pages it writes per row.
const (
	jobsPerLease = 64
	batchesPerTx = 1
)

// RunFanout runs this node's fan-out worker until ctx ends. On SQLite,
// where one process owns the database, leases left by an earlier run are
// released at once instead of waiting for them to lapse.
func (s *Service) RunFanout(ctx context.Context) {
	if s.db.Engine == sqldb.SQLite {
		if _, err := s.db.Write().ExecContext(ctx, `UPDATE fanout_jobs SET lease_until = 0 WHERE lease_until > 0`); err != nil && ctx.Err() == nil {
			s.log.Error("releasing fan-out leases failed", "err", err)
		}
	}
	tick := time.NewTicker(s.cfg.FanoutPoll)
	defer tick.Stop()
	for {
		n, err := s.fanoutRound(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			s.log.Error("fan-out failed; retrying", "err", err)
		}
		if n > 0 && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-tick.C:
		}
	}
}

// FanoutPending returns how many fan-out jobs are queued or running.
func (s *Service) FanoutPending(ctx context.Context) (int, error) {
	var n int
	err := s.db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM fanout_jobs`).Scan(&n)
	return n, err
}

// fanoutRound leases up to jobsPerLease jobs and finishes them, and
// returns how many it leased.
func (s *Service) fanoutRound(ctx context.Context) (int, error) {
	now := s.now()
	rows, err := s.db.Write().QueryContext(ctx, `UPDATE fanout_jobs SET lease_until = $1
		WHERE id IN (SELECT id FROM fanout_jobs WHERE lease_until < $2 ORDER BY id LIMIT $3) AND lease_until < $2
		RETURNING id, post_id, author_id, audience, done_up_to`, now.Add(s.cfg.FanoutLease).UnixMicro(), now.UnixMicro(), jobsPerLease)
	if err != nil {
		return 0, fmt.Errorf("lease fan-out jobs: %w", err)
	}
	var jobs []*job
	for rows.Next() {
		var j job
		if err := rows.Scan(&j.id, &j.post, &j.author, &j.audience, &j.doneUpTo); err != nil {
			rows.Close()
			return 0, fmt.Errorf("lease fan-out jobs: %w", err)
		}
		jobs = append(jobs, &j)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("lease fan-out jobs: %w", err)
	}
	if len(jobs) == 0 {
		return 0, nil
	}
	frames, err := s.jobFrames(ctx, jobs)
	if err != nil {
		return len(jobs), err
	}
	// Batch after batch: each transaction writes up to FanoutBatch
	// readers, finishing as many small jobs as fit and advancing a large
	// one; the jobs it finishes leave the queue.
	queue := jobs
	for len(queue) > 0 {
		sent, err := s.fanoutBatch(ctx, queue)
		if err != nil {
			if ctx.Err() != nil {
				s.release(queue)
			}
			return len(jobs), err
		}
		for _, d := range sent {
			if len(d.readers) > 0 && frames[d.post] != nil {
				if err := s.events.PublishEphemeral(ctx, d.readers, events.PostCreated, frames[d.post]); err != nil {
					s.log.Warn("bus publish of a post failed; it is in the timelines", "err", err)
				}
			}
		}
		if s.afterBatch != nil {
			s.afterBatch()
		}
		rest := queue[:0]
		for _, j := range queue {
			if !j.done {
				rest = append(rest, j)
			}
		}
		queue = rest
	}
	return len(jobs), nil
}

// jobFrames loads the posts of jobs and renders their post.created data.
// A job whose post is no longer published is done at once: it delivers
// nothing (its rows are deleted by the next batch).
func (s *Service) jobFrames(ctx context.Context, jobs []*job) (map[plaza.ID][]byte, error) {
	ids := make([]plaza.ID, len(jobs))
	for i, j := range jobs {
		ids[i] = j.post
	}
	in, args := idList(1, distinct(ids))
	posts, err := queryPosts(ctx, s.db.Read(), `SELECT `+postColumns+` FROM posts p WHERE p.id IN (`+in+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("fan-out posts: %w", err)
	}
	frames := map[plaza.ID][]byte{}
	for _, p := range posts {
		if p.Status == StatusPublished {
			frames[p.ID], _ = json.Marshal(p)
		}
	}
	for _, j := range jobs {
		if frames[j.post] == nil {
			j.gone = true
		}
	}
	return frames, nil
}

// release gives the leases of unfinished jobs back when the worker stops,
// so another node (or this one, restarted) need not wait for them to
// lapse. A job that moved on since is someone else's and stays as it is.
func (s *Service) release(jobs []*job) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, j := range jobs {
		if _, err := s.db.Write().ExecContext(ctx, `UPDATE fanout_jobs SET lease_until = 0 WHERE id = $1 AND done_up_to = $2`, j.id, j.doneUpTo); err != nil {
			s.log.Warn("releasing a fan-out lease failed; it lapses by itself", "err", err)
			return
		}
	}
}

// delivery is what one batch wrote for one job: the readers to tell.
type delivery struct {
	post    plaza.ID
	readers []plaza.ID
}

// fanoutBatch writes, in one transaction, up to batchesPerTx ×
// FanoutBatch readers' timeline rows (FanoutBatch at most per statement)
// for the jobs at the head of queue, moving each job's
// done_up_to (or deleting the job when it is done) in the same
// transaction, and marks the jobs it finished done.
func (s *Service) fanoutBatch(ctx context.Context, queue []*job) ([]delivery, error) {
	var out []delivery
	type step struct {
		j        *job
		hi       int64
		finished bool
	}
	var steps []step
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		out, steps = out[:0], steps[:0]
		budget := batchesPerTx * s.cfg.FanoutBatch
		for _, j := range queue {
			if budget == 0 {
				break
			}
			n := min(budget, s.cfg.FanoutBatch)
			readers, hi, err := s.fanoutJob(ctx, tx, j, n)
			if err != nil {
				return err
			}
			finished := j.gone || len(readers) < n
			budget -= len(readers)
			var res sql.Result
			if finished {
				res, err = s.inTx(tx).ExecContext(ctx, sqlFinishJob, j.id, j.doneUpTo)
			} else {
				res, err = s.inTx(tx).ExecContext(ctx, sqlAdvanceJob, hi, s.now().Add(s.cfg.FanoutLease).UnixMicro(), j.id, j.doneUpTo)
			}
			if err != nil {
				return err
			}
			if k, _ := res.RowsAffected(); k == 0 {
				// Another node took the job over after our lease lapsed
				// (or it went with its post): leave it to them. The rows
				// written for it here exist either way.
				steps = append(steps, step{j: j, hi: j.doneUpTo, finished: true})
				continue
			}
			steps = append(steps, step{j: j, hi: hi, finished: finished})
			out = append(out, delivery{post: j.post, readers: readers})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("fan-out batch: %w", err)
	}
	for _, st := range steps {
		st.j.doneUpTo, st.j.done = st.hi, st.finished
	}
	return out, nil
}

// fanoutJob writes up to n of j's next readers' timeline rows in tx and
// returns them and the key of the last one.
func (s *Service) fanoutJob(ctx context.Context, tx *sql.Tx, j *job, n int) ([]plaza.ID, int64, error) {
	if j.gone {
		return nil, j.doneUpTo, nil
	}
	sel, ins := sqlNextFollowers, sqlFanFollowers
	if j.audience == "contacts" {
		sel, ins = sqlNextContacts, sqlFanContacts
	}
	q := s.inTx(tx)
	rows, err := q.QueryContext(ctx, sel, j.author, j.doneUpTo, n)
	if err != nil {
		return nil, 0, err
	}
	hi := j.doneUpTo
	var readers []plaza.ID
	for rows.Next() {
		var key int64
		var reader plaza.ID
		if err := rows.Scan(&key, &reader); err != nil {
			rows.Close()
			return nil, 0, err
		}
		hi = key
		readers = append(readers, reader)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	if len(readers) > 0 {
		if _, err := q.ExecContext(ctx, ins, j.author, j.doneUpTo, hi, j.post); err != nil {
			return nil, 0, err
		}
	}
	return readers, hi, nil
}
