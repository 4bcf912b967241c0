package account

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/jobs"
)

// EraseKind is the kind of the job that erases an account once its grace
// period is over; the job's key is the account's ID, so an account has at
// most one.
const EraseKind = "account.erase"

// eraseAttempts is how often an erasure is tried before it is left failed
// for the operator: with the queue's backoff (doubling to ten minutes),
// about eight hours of a store that does not answer.
const eraseAttempts = 50

// UseJobs lets the service schedule deletions on q and registers the
// handler that carries them out. Call it while wiring, before q runs.
func (s *Service) UseJobs(q *jobs.Queue) {
	s.jobs = q
	q.Handle(EraseKind, s.runErase)
}

// ScheduleDeletion schedules the deletion of the account id after checking
// its password, and returns when it takes effect: after the grace period
// (Config.DeletionGrace). Every session ends (and its streams close); the
// owner may sign in again until then, and cancel it (CancelDeletion). A
// deletion already scheduled is a conflict.
func (s *Service) ScheduleDeletion(ctx context.Context, id plaza.ID, password string) (time.Time, error) {
	if s.jobs == nil {
		return time.Time{}, errors.New("schedule deletion: no job queue (UseJobs)")
	}
	hash, err := passwordHashOf(ctx, s.db.Read(), id)
	if err != nil {
		return time.Time{}, fmt.Errorf("schedule deletion: %w", err)
	}
	ok, _, err := s.hasher.Verify(ctx, password, hash)
	if err != nil {
		return time.Time{}, fmt.Errorf("schedule deletion: %w", err)
	}
	if !ok {
		return time.Time{}, plaza.Errorf(plaza.EForbidden, "the password is incorrect").WithDetails(map[string]any{"field": "password"})
	}
	now := s.now()
	at := now.Add(s.cfg.DeletionGrace)
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE accounts SET deletion_scheduled_at = $2, updated_at = $3
			WHERE id = $1 AND deletion_scheduled_at IS NULL AND status NOT IN ('deleted', 'memorialised')`, id, micros(at), micros(now))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			a, err := getAccount(ctx, tx, id)
			switch {
			case err != nil:
				return err
			case a.gone():
				return plaza.Errorf(plaza.ENotFound, "account not found")
			}
			return plaza.Errorf(plaza.EConflict, "the account's deletion is already scheduled for %s", a.DeletionScheduledAt.Format(time.RFC3339)).
				WithDetails(map[string]any{"deletion_scheduled_at": a.DeletionScheduledAt.Format(time.RFC3339)})
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE account_id = $1`, id); err != nil {
			return err
		}
		_, err = s.jobs.Enqueue(ctx, tx, jobs.Spec{Kind: EraseKind, Key: id.String(), RunAfter: at, MaxAttempts: eraseAttempts})
		return err
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("schedule deletion: %w", err)
	}
	s.standingChanged(ctx, id)
	return at, nil
}

// CancelDeletion cancels the scheduled deletion of the account id and
// returns the account. Nothing scheduled is a conflict, and so is a
// deletion already under way: once the grace period is over and the
// erasure has started, it finishes.
func (s *Service) CancelDeletion(ctx context.Context, id plaza.ID) (Account, error) {
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		a, err := getAccount(ctx, tx, id)
		if err != nil {
			return err
		}
		if a.DeletionScheduledAt.IsZero() || a.gone() {
			return plaza.Errorf(plaza.EConflict, "no deletion of the account is scheduled")
		}
		return s.unschedule(ctx, tx, id)
	})
	if err != nil {
		return Account{}, fmt.Errorf("cancel deletion: %w", err)
	}
	return s.Get(ctx, id)
}

// unschedule cancels the account's scheduled deletion inside tx: its job,
// unless that has started, and the date. A started one is a conflict.
func (s *Service) unschedule(ctx context.Context, tx *sql.Tx, id plaza.ID) error {
	if s.jobs != nil {
		ok, err := s.jobs.Cancel(ctx, tx, EraseKind, id.String())
		if err != nil {
			return err
		}
		if !ok {
			return plaza.Errorf(plaza.EConflict, "the account's deletion is already under way")
		}
	}
	_, err := tx.ExecContext(ctx, `UPDATE accounts SET deletion_scheduled_at = NULL, updated_at = $2 WHERE id = $1`, id, micros(s.now()))
	return err
}

// runErase is the account.erase job: it erases the account named by the
// job's key, every transaction through the run so that only the run
// holding the lease commits. An account whose deletion was cancelled (or
// which was memorialised meanwhile) is left alone; one whose deletion is
// not due yet, as another node's clock may say, is tried again later.
func (s *Service) runErase(ctx context.Context, r *jobs.Run) error {
	id, err := plaza.ParseID("key", r.Key)
	if err != nil {
		return jobs.Permanent(err)
	}
	err = s.erase(ctx, id, r.Tx, true)
	switch {
	case errors.Is(err, errNotScheduled):
		return nil
	case plaza.ErrorCode(err) == plaza.ENotFound:
		return jobs.Permanent(err)
	}
	return err
}
