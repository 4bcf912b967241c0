package account

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/audit"
)

// GrantRole gives role to the account and records it in the audit log.
// Granting a role the account already has changes nothing and logs
// nothing.
func (s *Service) GrantRole(ctx context.Context, actor audit.Actor, id plaza.ID, role Role) error {
	return s.changeRole(ctx, actor, id, role, true)
}

// RevokeRole takes role from the account and records it in the audit log.
func (s *Service) RevokeRole(ctx context.Context, actor audit.Actor, id plaza.ID, role Role) error {
	return s.changeRole(ctx, actor, id, role, false)
}

func (s *Service) changeRole(ctx context.Context, actor audit.Actor, id plaza.ID, role Role, grant bool) error {
	if _, err := ParseRole(string(role)); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		a, err := getAccount(ctx, tx, id)
		if err != nil {
			return err
		}
		if a.Status == Deleted {
			return plaza.Errorf(plaza.ENotFound, "account not found")
		}
		// Granting or taking a role needs a rank above both the account's
		// and the role's: nobody hands out powers they do not outrank.
		if err := checkAuthority(ctx, tx, actor, a, role.Rank()); err != nil {
			return err
		}
		now := s.now()
		var changed bool
		action := "role.grant"
		if grant {
			changed, err = insertRole(ctx, tx, id, role, now)
		} else {
			action = "role.revoke"
			changed, err = deleteRole(ctx, tx, id, role)
		}
		if err != nil || !changed {
			return err
		}
		_, err = s.audit.Append(ctx, tx, audit.Record{
			Actor: actor, Action: action, TargetType: "account", TargetID: id.String(),
			Details: map[string]any{"role": string(role), "handle": a.Handle},
		})
		return err
	})
}

// Suspend suspends an account until the given time (zero: until lifted).
// From the next request on, its sessions may only read their own account,
// which shows the reason, sign out or delete the account.
func (s *Service) Suspend(ctx context.Context, actor audit.Actor, id plaza.ID, reason string, until time.Time) (Account, error) {
	reason = strings.TrimSpace(reason)
	var p plaza.Problems
	if rule := reasonRule(reason); rule != "" {
		p.Add("reason", rule)
	}
	now := s.now()
	if !until.IsZero() && !until.After(now) {
		p.Add("until", "must be in the future")
	}
	if err := p.Err(); err != nil {
		return Account{}, err
	}
	details := map[string]any{}
	if !until.IsZero() {
		until = until.UTC().Truncate(time.Microsecond)
		details["until"] = until.Format(time.RFC3339)
	}
	return s.changeStatus(ctx, actor, id, Suspended, reason, until, "account.suspend", details)
}

// Unsuspend lifts a suspension.
func (s *Service) Unsuspend(ctx context.Context, actor audit.Actor, id plaza.ID, reason string) (Account, error) {
	reason = strings.TrimSpace(reason)
	if rule := reasonRule(reason); rule != "" {
		return Account{}, plaza.Invalid("reason", rule)
	}
	return s.changeStatus(ctx, actor, id, Active, "", time.Time{}, "account.unsuspend", map[string]any{"reason": reason})
}

// Close closes an account for good. Its owner can still sign in to read
// the reason, and export or delete their data.
func (s *Service) Close(ctx context.Context, actor audit.Actor, id plaza.ID, reason string) (Account, error) {
	reason = strings.TrimSpace(reason)
	if rule := reasonRule(reason); rule != "" {
		return Account{}, plaza.Invalid("reason", rule)
	}
	return s.changeStatus(ctx, actor, id, Closed, reason, time.Time{}, "account.close", nil)
}

func (s *Service) changeStatus(ctx context.Context, actor audit.Actor, id plaza.ID, to Status, reason string, until time.Time, action string, details map[string]any) (Account, error) {
	if actor.ID == id {
		return Account{}, Refuse(ReasonSelf, "you cannot change the status of your own account")
	}
	now := s.now()
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		a, err := getAccount(ctx, tx, id)
		if err != nil {
			return err
		}
		a.effectiveStatus(now)
		if a.Status != Deleted {
			if err := checkAuthority(ctx, tx, actor, a, 0); err != nil {
				return err
			}
		}
		switch {
		case a.Status == Deleted:
			return plaza.Errorf(plaza.ENotFound, "account not found")
		case a.Status == Closed:
			return plaza.Errorf(plaza.EConflict, "the account is closed")
		case a.Status == Memorialised:
			return plaza.Errorf(plaza.EConflict, "the account is memorialised")
		case to == Active && a.Status != Suspended:
			return plaza.Errorf(plaza.EConflict, "the account is not suspended")
		case to != Closed && a.StatusDecision != 0:
			// A decision's hold is changed only by a decision or its
			// appeal, which the person is told about and may contest.
			return plaza.Errorf(plaza.EConflict, "the account is suspended by moderation decision %s: change it with a decision (POST /api/v1/admin/decisions) or its appeal", a.StatusDecision).
				WithDetails(map[string]any{"decision_id": a.StatusDecision.String()})
		}
		if err := setStatus(ctx, tx, id, to, reason, until, 0, now); err != nil {
			return err
		}
		auditReason := reason
		if to == Active {
			auditReason, _ = details["reason"].(string)
			details = nil
		}
		_, err = s.audit.Append(ctx, tx, audit.Record{
			Actor: actor, Action: action, TargetType: "account", TargetID: id.String(),
			Reason: auditReason, Details: details,
		})
		return err
	})
	if err != nil {
		return Account{}, fmt.Errorf("%s: %w", action, err)
	}
	s.standingChanged(ctx, id)
	return s.Get(ctx, id)
}
