package account

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/audit"
)

// ReasonMemorialised is details.reason of the refusal to sign in to a
// memorialised account.
const ReasonMemorialised = "memorialised"

// Memorialise turns the account id into a memorial for a person who has
// died, at the request of their family, and records it in the audit log
// with the reason. The account becomes read-only for good: every session
// and role ends, nobody can sign in to it, nobody can message it, and a deletion it
// had scheduled is cancelled. Its profile and public posts stay, marked
// as a memorial, and its legacy contact may download its data if the
// person allowed it. Memorialising twice is a conflict; a deleted account
// is gone.
func (s *Service) Memorialise(ctx context.Context, actor audit.Actor, id plaza.ID, reason string) (Account, error) {
	reason = strings.TrimSpace(reason)
	if rule := reasonRule(reason); rule != "" {
		return Account{}, plaza.Invalid("reason", rule)
	}
	if actor.ID == id {
		return Account{}, Refuse(ReasonSelf, "you cannot memorialise your own account")
	}
	now := s.now()
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		// Lock the row first, so that a concurrent erasure or status change
		// waits (PostgreSQL) and then sees the memorial.
		if _, err := tx.ExecContext(ctx, `UPDATE accounts SET updated_at = updated_at WHERE id = $1`, id); err != nil {
			return err
		}
		a, err := getAccount(ctx, tx, id)
		if err != nil {
			return err
		}
		a.effectiveStatus(now)
		switch a.Status {
		case Deleted:
			return errDeletedAccount(id)
		case Memorialised:
			return plaza.Errorf(plaza.EConflict, "the account is already memorialised")
		case Closed:
			return plaza.Errorf(plaza.EConflict, "the account is closed")
		}
		if err := checkAuthority(ctx, tx, actor, a, 0); err != nil {
			return err
		}
		details := map[string]any{"handle": a.Handle}
		if !a.DeletionScheduledAt.IsZero() {
			if err := s.unschedule(ctx, tx, id); err != nil {
				return err
			}
			details["deletion_cancelled"] = true
		}
		// A suspension, by decision or not, gives way: the account
		// takes no further part.
		if _, err := tx.ExecContext(ctx, `UPDATE accounts SET status = 'memorialised', status_reason = '', status_until = NULL, status_decision = NULL,
			deletion_scheduled_at = NULL, updated_at = $2 WHERE id = $1`, id, micros(now)); err != nil {
			return err
		}
		for _, q := range []string{`DELETE FROM sessions WHERE account_id = $1`, `DELETE FROM account_roles WHERE account_id = $1`} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return err
			}
		}
		_, err = s.audit.Append(ctx, tx, audit.Record{
			Actor: actor, Action: "account.memorialise", TargetType: "account", TargetID: id.String(), Reason: reason, Details: details,
		})
		return err
	})
	if err != nil {
		return Account{}, fmt.Errorf("memorialise account: %w", err)
	}
	s.standingChanged(ctx, id)
	return s.Get(ctx, id)
}
