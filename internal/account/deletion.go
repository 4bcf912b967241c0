package account

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/audit"
)

// An erasure runs in two parts. The scrub is one short transaction: the
// account keeps only its ID and handle, its sessions and roles go, every
// DeleteHook removes what its domain keeps in a few rows, and the audit
// row is written, all or nothing. Then each EraseStep removes what comes
// in bulk (sync logs, timelines) or lives outside the database (media
// bytes), in batches of their own, so that the single SQLite writer is
// never held for long. Every part is idempotent: an erasure that stopped
// half-way (a crash, a lost lease) is run again from the start, skips the
// scrub it already did and finishes the steps.

// TxFunc runs fn in a transaction. An erasure's steps get the database's
// own, or a job run's, which commits only while the run holds its lease.
type TxFunc func(ctx context.Context, fn func(tx *sql.Tx) error) error

// EraseStep removes what a domain keeps about the account id after it has
// been scrubbed: rows by the thousand, or bytes outside the database. It
// runs each batch in a transaction of its own through inTx and must be
// idempotent, because an erasure that was interrupted runs every step
// again from the start.
type EraseStep func(ctx context.Context, id plaza.ID, inTx TxFunc) error

// OnErase registers a step that runs, in registration order, after an
// account has been scrubbed. Call it while wiring, before serving.
func (s *Service) OnErase(step EraseStep) { s.onErase = append(s.onErase, step) }

// ErasureActor is the audit log's actor for a deletion: the person asked
// for it, and Plaza carries it out once the grace period is over.
var ErasureActor = audit.Actor{Name: "plaza (scheduled deletion)"}

// Erase deletes the account id now, whatever its schedule, and returns
// once every step is done: the account keeps its ID and handle, and
// nothing else of it is left. Erasing an account that is already deleted
// finishes any step left undone and writes no second audit row. An ID
// that never was an account is not found.
func (s *Service) Erase(ctx context.Context, id plaza.ID) error {
	return s.erase(ctx, id, s.db.InTx, false)
}

// errNotScheduled is a scheduled erasure that found the account's
// deletion cancelled, or the account memorialised meanwhile; errNotDue
// one that found it not due yet (another node's clock may be ahead).
var (
	errNotScheduled = errors.New("no deletion is scheduled")
	errNotDue       = errors.New("the deletion is not due yet")
)

// erase scrubs id in one transaction of inTx (unless it already is), then
// runs every EraseStep. With scheduled set, it scrubs only an account
// whose deletion is scheduled and due, and answers errNotScheduled or
// errNotDue otherwise.
func (s *Service) erase(ctx context.Context, id plaza.ID, inTx TxFunc, scheduled bool) error {
	scrubbed := false
	err := inTx(ctx, func(tx *sql.Tx) error {
		scrubbed = false
		now := s.now()
		a, err := getAccount(ctx, tx, id)
		if err != nil {
			return err
		}
		if a.Status == Deleted {
			return nil
		}
		if scheduled {
			switch {
			case a.DeletionScheduledAt.IsZero() || a.Status == Memorialised:
				return errNotScheduled
			case a.DeletionScheduledAt.After(now):
				return errNotDue
			}
		}
		// The status check in the UPDATE (rather than the read above)
		// decides: on PostgreSQL a concurrent erasure holds the row, and
		// this one then finds it deleted.
		done, err := scrubAccount(ctx, tx, id, now)
		if err != nil || !done {
			return err
		}
		for _, h := range s.onDelete {
			if err := h(ctx, tx, id); err != nil {
				return fmt.Errorf("erase account: %w", err)
			}
		}
		details := map[string]any{"handle": a.Handle}
		if !a.DeletionScheduledAt.IsZero() {
			details["scheduled_at"] = a.DeletionScheduledAt.Format(time.RFC3339)
		}
		if _, err := s.audit.Append(ctx, tx, audit.Record{
			Actor: ErasureActor, Action: "account.delete", TargetType: "account", TargetID: id.String(), Details: details,
		}); err != nil {
			return err
		}
		scrubbed = true
		return nil
	})
	if err != nil {
		return fmt.Errorf("erase account: %w", err)
	}
	if scrubbed {
		// Its streams close on every node, and no node keeps a good
		// answer about it.
		s.standingChanged(ctx, id)
	}
	for _, step := range s.onErase {
		if err := step(ctx, id, inTx); err != nil {
			return fmt.Errorf("erase account: %w", err)
		}
	}
	return nil
}
