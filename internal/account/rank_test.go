package account_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/audit"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// staff registers handle holding roles, written straight to the table so
// that the audit log stays empty for the test's own checks. It returns
// the account as an actor.
func staff(tb testing.TB, svc *account.Service, db *sqldb.DB, handle string, roles ...account.Role) audit.Actor {
	tb.Helper()
	a, _ := register(tb, svc, handle)
	for _, r := range roles {
		exec(tb, db, `INSERT INTO account_roles (account_id, role, granted_at) VALUES ($1, $2, $3)`, a.ID, string(r), time.Now().UnixMicro())
	}
	return audit.Actor{ID: a.ID, Name: handle}
}

// wantRefused fails unless err is a 403 forbidden with details.reason.
func wantRefused(tb testing.TB, err error, reason string) {
	tb.Helper()
	wantCode(tb, err, plaza.EForbidden)
	if got := plaza.AsError(err).Details["reason"]; got != reason {
		tb.Fatalf("got details.reason %v, want %q (error: %v)", got, reason, err)
	}
}

func TestRoleRank(t *testing.T) {
	for _, tt := range []struct {
		roles []account.Role
		want  int
	}{
		{nil, 0},
		{[]account.Role{account.Reviewer}, 1},
		{[]account.Role{account.Compliance}, 1},
		{[]account.Role{account.Compliance, account.Moderator}, 2},
		{[]account.Role{account.Reviewer, account.Admin}, 3},
	} {
		a := account.Account{Roles: tt.roles}
		if got := a.Rank(); got != tt.want {
			t.Errorf("Rank(%v) = %d, want %d", tt.roles, got, tt.want)
		}
	}
}

// TestHostileStaffActOnlyBelowTheirRank walks suspension, reinstatement,
// closure and role changes through the hierarchy: staff act only on lower
// ranks, admins also on admins, the operator on anyone, nobody on
// themselves; a refusal changes nothing.
func TestHostileStaffActOnlyBelowTheirRank(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		admin := staff(t, svc, db, "admin", account.Admin)
		admin2 := staff(t, svc, db, "admin2", account.Admin)
		mod := staff(t, svc, db, "mod", account.Moderator)
		mod2 := staff(t, svc, db, "mod2", account.Moderator)
		rev := staff(t, svc, db, "rev", account.Reviewer)
		kyc := staff(t, svc, db, "kyc", account.Compliance)
		user := staff(t, svc, db, "user")

		suspend := func(actor, target audit.Actor) error {
			_, err := svc.Suspend(ctx, actor, target.ID, "test", time.Time{})
			return err
		}
		unsuspend := func(actor, target audit.Actor) error {
			_, err := svc.Unsuspend(ctx, actor, target.ID, "test")
			return err
		}
		closeAcct := func(actor, target audit.Actor) error {
			_, err := svc.Close(ctx, actor, target.ID, "test")
			return err
		}
		grant := func(role account.Role) func(actor, target audit.Actor) error {
			return func(actor, target audit.Actor) error { return svc.GrantRole(ctx, actor, target.ID, role) }
		}
		revoke := func(role account.Role) func(actor, target audit.Actor) error {
			return func(actor, target audit.Actor) error { return svc.RevokeRole(ctx, actor, target.ID, role) }
		}
		refused := []struct {
			name          string
			do            func(actor, target audit.Actor) error
			actor, target audit.Actor
			reason        string
		}{
			{"moderator suspends admin", suspend, mod, admin, account.ReasonEqualOrHigherRole},
			{"moderator suspends moderator", suspend, mod, mod2, account.ReasonEqualOrHigherRole},
			{"moderator closes admin", closeAcct, mod, admin, account.ReasonEqualOrHigherRole},
			{"reviewer suspends compliance", suspend, rev, kyc, account.ReasonEqualOrHigherRole},
			{"compliance suspends reviewer", suspend, kyc, rev, account.ReasonEqualOrHigherRole},
			{"ordinary account suspends ordinary account", suspend, user, staff(t, svc, db, "user2"), account.ReasonEqualOrHigherRole},
			{"moderator grants moderator", grant(account.Moderator), mod, user, account.ReasonEqualOrHigherRole},
			{"moderator grants admin to itself", grant(account.Admin), mod, mod, account.ReasonSelf},
			{"moderator revokes admin", revoke(account.Admin), mod, admin, account.ReasonEqualOrHigherRole},
			{"reviewer grants compliance", grant(account.Compliance), rev, user, account.ReasonEqualOrHigherRole},
			{"admin grants itself compliance", grant(account.Compliance), admin, admin, account.ReasonSelf},
			{"admin suspends itself", suspend, admin, admin, account.ReasonSelf},
		}
		for _, tt := range refused {
			before := snapshot(t, db)
			wantRefusedIn(t, tt.name, tt.do(tt.actor, tt.target), tt.reason)
			if diff := cmp.Diff(before, snapshot(t, db)); diff != "" {
				t.Fatalf("%s: a refused action changed the database:\n%s", tt.name, diff)
			}
		}

		allowed := []struct {
			name          string
			do            func(actor, target audit.Actor) error
			actor, target audit.Actor
		}{
			{"moderator suspends reviewer", suspend, mod, rev},
			{"moderator reinstates reviewer", unsuspend, mod, rev},
			{"moderator suspends an ordinary account", suspend, mod, user},
			{"moderator grants reviewer", grant(account.Reviewer), mod, staff(t, svc, db, "newrev")},
			{"admin suspends admin", suspend, admin, admin2},
			{"admin reinstates admin", unsuspend, admin, admin2},
			{"admin suspends moderator", suspend, admin, mod2},
			{"operator suspends admin", suspend, audit.CLI, admin},
			{"operator reinstates admin", unsuspend, audit.CLI, admin},
			{"admin closes moderator", closeAcct, admin, mod2},
			{"admin revokes admin", revoke(account.Admin), admin, admin2},
		}
		for _, tt := range allowed {
			if err := tt.do(tt.actor, tt.target); err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
		}
	})
}

// TestHostileCheckAuthority is the same rule offered to other domains.
func TestHostileCheckAuthority(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		admin := staff(t, svc, db, "admin", account.Admin)
		mod := staff(t, svc, db, "mod", account.Moderator)
		user := staff(t, svc, db, "user")
		wantRefused(t, svc.CheckAuthority(ctx, mod, admin.ID), account.ReasonEqualOrHigherRole)
		wantRefused(t, svc.CheckAuthority(ctx, mod, mod.ID), account.ReasonSelf)
		if err := svc.CheckAuthority(ctx, mod, user.ID); err != nil {
			t.Errorf("moderator on an ordinary account: %v", err)
		}
		if err := svc.CheckAuthority(ctx, audit.CLI, admin.ID); err != nil {
			t.Errorf("operator on an admin: %v", err)
		}
		wantCode(t, svc.CheckAuthority(ctx, admin, plaza.NewID()), plaza.ENotFound)
		wantRefused(t, account.RefuseOwn(mod, "an identity", user.ID, mod.ID), account.ReasonOwnSubmission)
		if err := account.RefuseOwn(audit.CLI, "an identity", 0); err != nil {
			t.Errorf("RefuseOwn for the operator: %v", err)
		}
	})
}

func wantRefusedIn(tb testing.TB, name string, err error, reason string) {
	tb.Helper()
	e := plaza.AsError(err)
	if e == nil || e.Code != plaza.EForbidden || e.Details["reason"] != reason {
		tb.Fatalf("%s: got %v, want forbidden with reason %q", name, err, reason)
	}
}
