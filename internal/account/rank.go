package account

import (
	"context"
	"fmt"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/audit"
	"github.com/plaza-im/plaza/internal/sqldb"
)

// Reasons a privileged action is refused for the separation of duties,
// sent as details.reason of a 403 forbidden. Clients branch on them; the
// set is small and fixed.
const (
	// ReasonEqualOrHigherRole: the target account holds a role of equal
	// or higher rank than the actor's highest.
	ReasonEqualOrHigherRole = "equal_or_higher_role"
	// ReasonOwnSubmission: the actor would decide something they
	// submitted, or that is about a channel they own or edit.
	ReasonOwnSubmission = "own_submission"
	// ReasonSelf: the actor would act on their own account or channel.
	ReasonSelf = "self"
)

// Rank orders roles for the separation of duties: admin 3, moderator 2,
// reviewer and compliance 1. It is the one place the hierarchy is written.
func (r Role) Rank() int {
	switch r {
	case Admin:
		return 3
	case Moderator:
		return 2
	case Reviewer, Compliance:
		return 1
	}
	return 0
}

// Rank returns the rank of a's highest role, 0 for an account without one.
func (a *Account) Rank() int {
	n := 0
	for _, r := range a.Roles {
		n = max(n, r.Rank())
	}
	return n
}

// outranks reports whether staff of rank actor may act on an account of
// rank target: only on lower ranks, except that admins may act on other
// admins (so that an admin can be stopped without the command line).
func outranks(actor, target int) bool {
	return actor > target || actor == Admin.Rank()
}

// Refuse returns a forbidden error whose details carry reason, one of the
// Reason constants.
func Refuse(reason, format string, args ...any) error {
	return plaza.Errorf(plaza.EForbidden, format, args...).WithDetails(map[string]any{"reason": reason})
}

// RefuseOwn returns the refusal for actor deciding something submitted by
// (or about) one of owners, and nil otherwise. The operator at the command
// line and verification providers (actor ID zero) are never refused.
func RefuseOwn(actor audit.Actor, what string, owners ...plaza.ID) error {
	if actor.ID == 0 {
		return nil
	}
	for _, o := range owners {
		if o == actor.ID {
			return Refuse(ReasonOwnSubmission, "you cannot decide %s of your own: another staff member must", what)
		}
	}
	return nil
}

// checkAuthority refuses actor acting on target unless actor outranks the
// target's highest role and, when not zero, minRank (the rank of a role
// being granted or taken). The operator at the command line may do
// anything; nobody acts on their own account.
func checkAuthority(ctx context.Context, q sqldb.Queryer, actor audit.Actor, target Account, minRank int) error {
	if actor.ID == 0 {
		return nil
	}
	if actor.ID == target.ID {
		return Refuse(ReasonSelf, "you cannot act on your own account")
	}
	roles, err := listRoles(ctx, q, actor.ID)
	if err != nil {
		return fmt.Errorf("check authority: %w", err)
	}
	self := Account{Roles: roles}
	if !outranks(self.Rank(), max(target.Rank(), minRank)) {
		return Refuse(ReasonEqualOrHigherRole, "your role does not allow acting on an account with an equal or higher role")
	}
	return nil
}

// CheckAuthority refuses actor acting on the account id by the same
// rules as suspension: staff act only on accounts of a lower rank (admins
// also on admins), never on their own. Other domains call it before they
// act on an account.
func (s *Service) CheckAuthority(ctx context.Context, actor audit.Actor, id plaza.ID) error {
	target, err := getAccount(ctx, s.db.Read(), id)
	if err != nil {
		return err
	}
	return checkAuthority(ctx, s.db.Read(), actor, target, 0)
}
