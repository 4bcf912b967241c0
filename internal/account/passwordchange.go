package account

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/plaza-im/plaza"
)

// ChangePassword replaces the account's password after checking the
// current one, and ends every other session (and so their streams): a
// person who changes a password because it leaked wants whoever holds it
// signed out. The session the change is made in stays signed in.
func (s *Service) ChangePassword(ctx context.Context, id, keepSession plaza.ID, current, next string) error {
	var p plaza.Problems
	if current == "" {
		p.Add("current_password", "is required")
	}
	if rule := passwordRule(next); rule != "" {
		p.Add("new_password", rule)
	} else if next == current {
		p.Add("new_password", "must differ from the current password")
	}
	if err := p.Err(); err != nil {
		return err
	}
	hash, err := passwordHashOf(ctx, s.db.Read(), id)
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	ok, _, err := s.hasher.Verify(ctx, current, hash)
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	if !ok {
		return plaza.Errorf(plaza.EForbidden, "the current password is incorrect").WithDetails(map[string]any{"field": "current_password"})
	}
	// Hash before taking the writer (see Login).
	fresh, err := s.hasher.Hash(ctx, next)
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		if err := setPasswordHash(ctx, tx, id, fresh, s.now()); err != nil {
			return err
		}
		return deleteOtherSessions(ctx, tx, id, keepSession)
	})
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	s.standingChanged(ctx, id)
	return nil
}
