package account

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/audit"
)

// ApplyDecision suspends (until a time, or indefinitely when until is
// zero) or closes an account for a moderation decision, inside the
// decision's transaction tx. The refusals the account meets from then on
// name the decision. The decision's own audit row records the change, so
// none is added here. Call StandingChanged once tx has committed.
func (s *Service) ApplyDecision(ctx context.Context, tx *sql.Tx, actor audit.Actor, id plaza.ID, to Status, reason string, until time.Time, decision plaza.ID) error {
	if to != Suspended && to != Closed {
		return fmt.Errorf("apply decision: status %q", to)
	}
	if actor.ID == id {
		return Refuse(ReasonSelf, "you cannot change the status of your own account")
	}
	now := s.now()
	a, err := getAccount(ctx, tx, id)
	if err != nil {
		return err
	}
	a.effectiveStatus(now)
	switch a.Status {
	case Deleted:
		return plaza.Errorf(plaza.ENotFound, "account not found")
	case Closed:
		return plaza.Errorf(plaza.EConflict, "the account is already closed")
	}
	if err := checkAuthority(ctx, tx, actor, a, 0); err != nil {
		return err
	}
	if !until.IsZero() {
		until = until.UTC().Truncate(time.Microsecond)
	}
	return setStatus(ctx, tx, id, to, reason, until, decision, now)
}

// UndoDecision makes the account active again if decision is what
// suspended or closed it, inside tx, and reports whether it did. A later
// decision (or a suspension that has already ended) is left alone. Call
// StandingChanged once tx has committed.
func (s *Service) UndoDecision(ctx context.Context, tx *sql.Tx, id, decision plaza.ID) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE accounts SET status = 'active', status_reason = '', status_until = NULL, status_decision = NULL, updated_at = $1
		WHERE id = $2 AND status_decision = $3 AND status IN ('suspended', 'closed')`, micros(s.now()), id, decision)
	if err != nil {
		return false, fmt.Errorf("undo decision: %w", err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// StandingChanged tells this node's caches and hooks that the account's
// standing changed in a transaction that has now committed.
func (s *Service) StandingChanged(ctx context.Context, id plaza.ID) { s.standingChanged(ctx, id) }
