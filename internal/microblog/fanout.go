package microblog

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
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
// then for each job, batch after batch, inserts up to FanoutBatch
// timeline rows with one statement and moves the job's done_up_to in the
// same transaction. A restart resumes after the last committed batch, and
// the inserts ignore rows that exist, so nothing is ever doubled. After
// each batch the readers' connected devices get a post.created frame.

// job is a leased fan-out job.
type job struct {
	id, post, author plaza.ID
	audience         string
	doneUpTo         int64
}

// jobsPerLease is how many jobs one lease takes at once.
const jobsPerLease = 64

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
	var jobs []job
	for rows.Next() {
		var j job
		if err := rows.Scan(&j.id, &j.post, &j.author, &j.audience, &j.doneUpTo); err != nil {
			rows.Close()
			return 0, fmt.Errorf("lease fan-out jobs: %w", err)
		}
		jobs = append(jobs, j)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("lease fan-out jobs: %w", err)
	}
	for i := range jobs {
		if err := s.runJob(ctx, &jobs[i]); err != nil {
			if ctx.Err() != nil {
				s.release(jobs[i:])
			}
			return len(jobs), err
		}
	}
	return len(jobs), nil
}

// release gives the leases of unfinished jobs back when the worker stops,
// so another node (or this one, restarted) need not wait for them to
// lapse. A job that moved on since is someone else's and stays as it is.
func (s *Service) release(jobs []job) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, j := range jobs {
		if _, err := s.db.Write().ExecContext(ctx, `UPDATE fanout_jobs SET lease_until = 0 WHERE id = $1 AND done_up_to = $2`, j.id, j.doneUpTo); err != nil {
			s.log.Warn("releasing a fan-out lease failed; it lapses by itself", "err", err)
			return
		}
	}
}

// runJob writes a job's timeline rows batch by batch until it is done.
func (s *Service) runJob(ctx context.Context, j *job) error {
	p, err := getPost(ctx, s.db.Read(), j.post)
	if err != nil && plaza.ErrorCode(err) != plaza.ENotFound {
		return err
	}
	if err != nil || p.Status != StatusPublished {
		// Deleted (or never committed): nothing to deliver.
		_, err := s.db.Write().ExecContext(ctx, `DELETE FROM fanout_jobs WHERE id = $1`, j.id)
		return err
	}
	frame, _ := json.Marshal(p)
	for {
		readers, done, err := s.fanoutBatch(ctx, j)
		if err != nil {
			return err
		}
		if len(readers) > 0 {
			if err := s.events.PublishEphemeral(ctx, readers, events.PostCreated, frame); err != nil {
				s.log.Warn("bus publish of a post failed; it is in the timelines", "err", err)
			}
		}
		if s.afterBatch != nil {
			s.afterBatch()
		}
		if done {
			return nil
		}
	}
}

// fanoutBatch writes the next batch of j's readers, renewing the lease,
// and returns the readers and whether the job is done.
func (s *Service) fanoutBatch(ctx context.Context, j *job) ([]plaza.ID, bool, error) {
	n := s.cfg.FanoutBatch
	var sel, ins string
	switch j.audience {
	case "contacts":
		sel = `SELECT contact_id, contact_id FROM contacts WHERE account_id = $1 AND contact_id > $2 ORDER BY contact_id LIMIT $3`
		ins = `INSERT INTO timeline (account_id, post_id, author_id) SELECT contact_id, $4, account_id FROM contacts
			WHERE account_id = $1 AND contact_id > $2 AND contact_id <= $3 ON CONFLICT DO NOTHING`
	default:
		sel = `SELECT id, follower_id FROM follows WHERE followee_id = $1 AND id > $2 ORDER BY id LIMIT $3`
		ins = `INSERT INTO timeline (account_id, post_id, author_id) SELECT follower_id, $4, followee_id FROM follows
			WHERE followee_id = $1 AND id > $2 AND id <= $3 ON CONFLICT DO NOTHING`
	}
	var readers []plaza.ID
	done := false
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		readers, done = readers[:0], false
		rows, err := tx.QueryContext(ctx, sel, j.author, j.doneUpTo, n)
		if err != nil {
			return err
		}
		hi := j.doneUpTo
		for rows.Next() {
			var key int64
			var reader plaza.ID
			if err := rows.Scan(&key, &reader); err != nil {
				rows.Close()
				return err
			}
			hi = key
			readers = append(readers, reader)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(readers) > 0 {
			if _, err := tx.ExecContext(ctx, ins, j.author, j.doneUpTo, hi, j.post); err != nil {
				return err
			}
		}
		done = len(readers) < n
		var res sql.Result
		if done {
			res, err = tx.ExecContext(ctx, `DELETE FROM fanout_jobs WHERE id = $1 AND done_up_to = $2`, j.id, j.doneUpTo)
		} else {
			res, err = tx.ExecContext(ctx, `UPDATE fanout_jobs SET done_up_to = $1, lease_until = $2 WHERE id = $3 AND done_up_to = $4`,
				hi, s.now().Add(s.cfg.FanoutLease).UnixMicro(), j.id, j.doneUpTo)
		}
		if err != nil {
			return err
		}
		if k, _ := res.RowsAffected(); k == 0 {
			// Another node took the job over after our lease lapsed (or it
			// was deleted with its post): leave it to them.
			return errLostJob
		}
		j.doneUpTo = hi
		return nil
	})
	if errors.Is(err, errLostJob) {
		return nil, true, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("fan-out batch: %w", err)
	}
	return readers, done, nil
}

var errLostJob = errors.New("fan-out job taken over")
