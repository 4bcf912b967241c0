package export

import (
	"context"
	"fmt"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/jobs"
)

// sweepBatch is how many expired exports one statement picks.
const sweepBatch = 100

// expireJob is the periodic "export.expire" job: it deletes the ZIPs of
// exports past their expiry, fails exports whose job gave up without
// saying so (a run that kept dying), and removes the temp files a killed
// write left in a disk store.
func (s *Service) expireJob(ctx context.Context, _ *jobs.Run) error {
	if err := s.sweep(ctx, 0); err != nil {
		return err
	}
	if err := s.failStuck(ctx); err != nil {
		return err
	}
	if n, err := s.CleanTemp(time.Hour); err != nil {
		s.log.Warn("removing the temp files of interrupted exports failed", "err", err)
	} else if n > 0 {
		s.log.Info("removed the temp files of interrupted exports", "files", n)
	}
	return nil
}

// sweep deletes the ZIPs of ready exports whose expiry has passed, of the
// account (as subject or requester) only when it is not 0, and marks them
// expired. It also deletes any ZIP a failed or expired export still names
// (an export failed by an erasure whose job then never ran again): a
// person's whole data must not outlive what it was written for. The ZIP
// goes first: a crash in between leaves a row that the next sweep handles
// again (deleting a missing key is no error).
func (s *Service) sweep(ctx context.Context, account plaza.ID) error {
	for {
		rows, err := s.db.Read().QueryContext(ctx, `SELECT id, blob_key FROM exports
			WHERE ((status = 'ready' AND expires_at <= $1) OR (status IN ('failed', 'expired') AND blob_key <> ''))
			AND (CAST($2 AS BIGINT) = 0 OR account_id = $2 OR requester_id = $2)
			ORDER BY id LIMIT $3`, s.now().UnixMicro(), account, sweepBatch)
		if err != nil {
			return fmt.Errorf("expired exports: %w", err)
		}
		type expired struct {
			id  plaza.ID
			key string
		}
		var batch []expired
		for rows.Next() {
			var e expired
			if err := rows.Scan(&e.id, &e.key); err != nil {
				rows.Close()
				return fmt.Errorf("expired exports: %w", err)
			}
			batch = append(batch, e)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("expired exports: %w", err)
		}
		for _, e := range batch {
			if e.key != "" {
				if err := s.store.Delete(ctx, e.key); err != nil {
					return fmt.Errorf("delete expired export %s: %w", e.id, err)
				}
			}
			if _, err := s.db.Write().ExecContext(ctx, `UPDATE exports SET status = CASE WHEN status = 'ready' THEN 'expired' ELSE status END, blob_key = ''
				WHERE id = $1 AND status IN ('ready', 'failed', 'expired') AND blob_key = $2`, e.id, e.key); err != nil {
				return fmt.Errorf("expire export %s: %w", e.id, err)
			}
		}
		if len(batch) < sweepBatch {
			return nil
		}
	}
}

// failStuck fails the exports still pending or running whose job has
// ended without finishing them: the jobs package gives up on a job whose
// runs all died without a word, and such an export would otherwise block
// its account's next one forever.
func (s *Service) failStuck(ctx context.Context) error {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT id, job_id, blob_key FROM exports WHERE status IN ('pending', 'running')`)
	if err != nil {
		return fmt.Errorf("exports under way: %w", err)
	}
	type open struct {
		id, job plaza.ID
		key     string
	}
	var list []open
	for rows.Next() {
		var o open
		if err := rows.Scan(&o.id, &o.job, &o.key); err != nil {
			rows.Close()
			return fmt.Errorf("exports under way: %w", err)
		}
		list = append(list, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("exports under way: %w", err)
	}
	for _, o := range list {
		j, err := s.jobs.Get(ctx, o.job)
		switch {
		case plaza.ErrorCode(err) == plaza.ENotFound:
		case err != nil:
			return err
		case j.Status != jobs.Failed:
			continue
		}
		// The job is gone or failed: nobody writes this export. The row
		// changes first, so a run that did finish (and made it ready) is
		// left alone.
		res, err := s.db.Write().ExecContext(ctx, `UPDATE exports SET status = 'failed', error = $1, blob_key = '', finished_at = $2
			WHERE id = $3 AND status IN ('pending', 'running')`, errWriteFailed, s.now().UnixMicro(), o.id)
		if err != nil {
			return fmt.Errorf("fail export %s: %w", o.id, err)
		}
		if n, _ := res.RowsAffected(); n > 0 && o.key != "" {
			s.log.Error("an export's job ended without finishing it; marked failed", "export", o.id, "job", o.job)
			if err := s.store.Delete(ctx, o.key); err != nil {
				return fmt.Errorf("delete failed export %s: %w", o.id, err)
			}
		}
	}
	return nil
}

// tempRemover is a store that can remove the temp files of writes a
// killed process left behind (blob.Disk).
type tempRemover interface {
	RemoveTemp(prefix string, olderThan time.Duration) (int, error)
}

// CleanTemp removes the temp files that exports interrupted by a crash
// left in a disk store, untouched for olderThan, and returns how many.
// With 0, call it only while no export runs on this node (at start). An
// S3 store keeps no such files; its incomplete multipart uploads are
// aborted by the bucket's lifecycle rule (see docs/operations.md).
func (s *Service) CleanTemp(olderThan time.Duration) (int, error) {
	tr, ok := s.store.(tempRemover)
	if !ok {
		return 0, nil
	}
	return tr.RemoveTemp("exports", olderThan)
}
