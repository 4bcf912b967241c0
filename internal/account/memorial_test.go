package account_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/audit"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// TestMemorialise: an admin memorialises an account with a reason. Every
// session ends (and the hook that closes streams hears of it), nobody can
// sign in or act, nobody can message it, its profile stays readable and
// says so, and the audit log records the reason. It is final.
func TestMemorialise(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		var h hookLog
		svc.OnStandingChange(h.record)
		admin, _ := register(t, svc, "admin")
		if err := svc.GrantRole(ctx, audit.CLI, admin.ID, account.Admin); err != nil {
			t.Fatal(err)
		}
		actor := audit.Actor{ID: admin.ID, Name: "admin"}
		a, tok := register(t, svc, "alice")
		tok2 := login(t, svc, "alice", "phone")
		if _, err := svc.Suspend(ctx, audit.CLI, a.ID, "spam", time.Time{}); err != nil {
			t.Fatal(err)
		}
		h.take()

		got, err := svc.Memorialise(ctx, actor, a.ID, "  Her family sent the death certificate.  ")
		if err != nil {
			t.Fatalf("memorialise: %v", err)
		}
		if got.Status != account.Memorialised || got.StatusReason != "" || !got.StatusUntil.IsZero() {
			t.Errorf("got %+v, want status memorialised with no suspension left", got)
		}
		if ids := h.take(); !slices.Equal(ids, []plaza.ID{a.ID}) {
			t.Errorf("standing hook got %v, want [%s]", ids, a.ID)
		}
		if n := countRows(t, db, `sessions WHERE account_id = $1`, a.ID); n != 0 {
			t.Errorf("%d sessions left, want 0", n)
		}
		for _, tk := range []string{tok, tok2} {
			_, err := svc.Authenticate(ctx, tk)
			wantCode(t, err, plaza.EUnauthenticated)
		}
		_, _, err = svc.Login(ctx, "alice", testPassword, "")
		if e := wantCode(t, err, plaza.EForbidden); e.Details["reason"] != account.ReasonMemorialised {
			t.Errorf("sign-in refusal details %v, want reason %q", e.Details, account.ReasonMemorialised)
		}
		wantCode(t, svc.CheckStanding(ctx, a.ID), plaza.EUnauthenticated)
		err = svc.Reachable(ctx, a.ID)
		if e := wantCode(t, err, plaza.EGone); e.Details["status"] != "memorialised" {
			t.Errorf("reachable details %v, want status memorialised", e.Details)
		}
		p, err := svc.Profile(ctx, a.ID)
		if err != nil || !p.Memorialised() || p.DisplayName != "Person alice" {
			t.Errorf("profile: %+v, %v; want it readable and memorialised", p, err)
		}
		entries := auditEntries(t, db)
		last := entries[len(entries)-1]
		if last.Action != "account.memorialise" || last.Reason != "Her family sent the death certificate." || last.ActorID != admin.ID || last.TargetID != a.ID.String() {
			t.Errorf("last audit entry %+v, want account.memorialise by the admin with the reason", last)
		}

		// Final.
		_, err = svc.Memorialise(ctx, actor, a.ID, "again")
		wantCode(t, err, plaza.EConflict)
		_, err = svc.Suspend(ctx, actor, a.ID, "spam", time.Time{})
		wantCode(t, err, plaza.EConflict)
		_, err = svc.Close(ctx, actor, a.ID, "spam")
		wantCode(t, err, plaza.EConflict)
	})
}

// TestMemorialiseRefused: bad input, the actor's own account, an account
// of equal rank, a closed, a deleted or an unknown one change nothing.
func TestMemorialiseRefused(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		mod, _ := register(t, svc, "mod")
		other, _ := register(t, svc, "othermod")
		for _, id := range []plaza.ID{mod.ID, other.ID} {
			if err := svc.GrantRole(ctx, audit.CLI, id, account.Moderator); err != nil {
				t.Fatal(err)
			}
		}
		actor := audit.Actor{ID: mod.ID, Name: "mod"}
		closed, _ := register(t, svc, "closed")
		if _, err := svc.Close(ctx, audit.CLI, closed.ID, "fraud"); err != nil {
			t.Fatal(err)
		}
		erased, _ := register(t, svc, "erased")
		if err := svc.Erase(ctx, erased.ID); err != nil {
			t.Fatal(err)
		}
		alice, _ := register(t, svc, "alice")
		before := snapshot(t, db)
		for _, c := range []struct {
			name   string
			id     plaza.ID
			reason string
			code   string
		}{
			{"no reason", alice.ID, "  ", plaza.EInvalid},
			{"own account", mod.ID, "x", plaza.EForbidden},
			{"equal rank", other.ID, "x", plaza.EForbidden},
			{"closed", closed.ID, "x", plaza.EConflict},
			{"deleted", erased.ID, "x", plaza.EGone},
			{"unknown", alice.ID + 12345, "x", plaza.ENotFound},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, err := svc.Memorialise(ctx, actor, c.id, c.reason)
				wantCode(t, err, c.code)
			})
		}
		if diff := cmp.Diff(before, snapshot(t, db)); diff != "" {
			t.Errorf("a refused memorialisation changed the database (-before +after):\n%s", diff)
		}
	})
}
