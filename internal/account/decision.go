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
	switch {
	case a.Status == Deleted:
		return plaza.Errorf(plaza.ENotFound, "account not found")
	case a.Status == Closed:
		return plaza.Errorf(plaza.EConflict, "the account is already closed")
	case a.Status == Memorialised:
		return plaza.Errorf(plaza.EConflict, "the account is memorialised")
	case a.Status == Suspended && to == Suspended && a.StatusDecision != 0 && (a.StatusUntil.IsZero() || !a.StatusUntil.Before(until)):
		// A shorter suspension would quietly cut a longer one short. (A
		// direct suspension, which no statement explains, gives way.)
		details := map[string]any{}
		if !a.StatusUntil.IsZero() {
			details["until"] = a.StatusUntil.Format(time.RFC3339)
		}
		if a.StatusDecision != 0 {
			details["decision_id"] = a.StatusDecision.String()
		}
		return plaza.Errorf(plaza.EConflict, "the account is already suspended at least as long").WithDetails(details)
	}
	if err := checkAuthority(ctx, tx, actor, a, 0); err != nil {
		return err
	}
	if !until.IsZero() {
		until = until.UTC().Truncate(time.Microsecond)
	}
	return setStatus(ctx, tx, id, to, reason, until, decision, now)
}

// Restriction is a decision's hold on an account: the status it puts the
// account in, the reason shown, and until when.
type Restriction struct {
	Status   Status
	Reason   string
	Until    time.Time
	Decision plaza.ID
}

// UndoDecision lifts decision from the account, inside tx, if it is what
// suspended or closed it, and reports whether it did: the account falls
// back to next (another decision still in force) or, with none, becomes
// active. A later decision, or a suspension that has already ended, is
// left alone. Call StandingChanged once tx has committed.
func (s *Service) UndoDecision(ctx context.Context, tx *sql.Tx, id, decision plaza.ID, next *Restriction) (bool, error) {
	st, reason, until, by := Active, "", any(nil), any(nil)
	if next != nil {
		st, reason, by = next.Status, next.Reason, next.Decision
		if !next.Until.IsZero() {
			until = micros(next.Until)
		}
	}
	res, err := tx.ExecContext(ctx, `UPDATE accounts SET status = $1, status_reason = $2, status_until = $3, status_decision = $4, updated_at = $5
		WHERE id = $6 AND status_decision = $7 AND status IN ('suspended', 'closed')`, st, reason, until, by, micros(s.now()), id, decision)
	if err != nil {
		return false, fmt.Errorf("undo decision: %w", err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// StandingChanged tells this node's caches and hooks that the account's
// standing changed in a transaction that has now committed.
func (s *Service) StandingChanged(ctx context.Context, id plaza.ID) { s.standingChanged(ctx, id) }
