package account_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/audit"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

func TestParseRole(t *testing.T) {
	for _, r := range account.Roles {
		if got, err := account.ParseRole(string(r)); err != nil || got != r {
			t.Errorf("ParseRole(%q): got %q, %v; want %q", r, got, err, r)
		}
	}
	for _, s := range []string{"", "Admin", "root", "admin "} {
		_, err := account.ParseRole(s)
		wantInvalid(t, err, "role")
	}
}

func TestGrantAndRevokeRole(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		a, _ := register(t, svc, "alice")
		actor := staff(t, svc, db, "boss", account.Admin)
		boss := account.Account{ID: actor.ID}

		roles := func(want ...account.Role) {
			t.Helper()
			got, err := svc.Get(ctx, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			if want == nil {
				want = []account.Role{}
			}
			if diff := cmp.Diff(want, got.Roles); diff != "" {
				t.Fatalf("roles (-want +got):\n%s", diff)
			}
		}
		steps := []struct {
			name  string
			do    func() error
			roles []account.Role
		}{
			{"grant reviewer", func() error { return svc.GrantRole(ctx, actor, a.ID, account.Reviewer) }, []account.Role{account.Reviewer}},
			{"grant admin", func() error { return svc.GrantRole(ctx, audit.CLI, a.ID, account.Admin) }, []account.Role{account.Admin, account.Reviewer}},
			{"grant admin again", func() error { return svc.GrantRole(ctx, audit.CLI, a.ID, account.Admin) }, []account.Role{account.Admin, account.Reviewer}},
			{"revoke reviewer", func() error { return svc.RevokeRole(ctx, actor, a.ID, account.Reviewer) }, []account.Role{account.Admin}},
			{"revoke reviewer again", func() error { return svc.RevokeRole(ctx, actor, a.ID, account.Reviewer) }, []account.Role{account.Admin}},
		}
		for _, s := range steps {
			if err := s.do(); err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			roles(s.roles...)
		}

		err := svc.GrantRole(ctx, audit.CLI, a.ID+12345, account.Admin)
		wantCode(t, err, plaza.ENotFound)

		// Only actual changes are logged.
		entries := auditEntries(t, db)
		if got, want := actions(entries), []string{"role.grant", "role.grant", "role.revoke"}; !slices.Equal(got, want) {
			t.Fatalf("got audit actions %v, want %v", got, want)
		}
		type row struct {
			ActorID          plaza.ID
			Actor, TargetID  string
			TargetType, Role string
			Handle           string
		}
		var got []row
		for _, e := range entries {
			got = append(got, row{e.ActorID, e.Actor, e.TargetID, e.TargetType, e.Details["role"].(string), e.Details["handle"].(string)})
		}
		id := a.ID.String()
		want := []row{
			{boss.ID, "boss", id, "account", "reviewer", "alice"},
			{0, audit.CLI.Name, id, "account", "admin", "alice"},
			{boss.ID, "boss", id, "account", "reviewer", "alice"},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("audit entries (-want +got):\n%s", diff)
		}
	})
}

// TestGrantUnknownRole checks that the domain refuses a role that does not
// exist rather than storing it and logging it for good.
func TestGrantUnknownRole(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		a, _ := register(t, svc, "alice")
		err := svc.GrantRole(ctx, audit.CLI, a.ID, account.Role("superuser"))
		wantInvalid(t, err, "role")
		if n := countRows(t, db, `account_roles`); n != 0 {
			t.Errorf("got %d role rows, want 0", n)
		}
		if entries := auditEntries(t, db); len(entries) != 0 {
			t.Errorf("got audit actions %v, want none", actions(entries))
		}
	})
}

func TestSuspend(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc, clk := newClockedService(t, db, march15, nil)
		a, tok := register(t, svc, "alice")
		actor := staff(t, svc, db, "mod", account.Moderator)
		mod := account.Account{ID: actor.ID}

		got, err := svc.Suspend(ctx, actor, a.ID, "  spam  ", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != account.Suspended || got.StatusReason != "spam" || !got.StatusUntil.IsZero() {
			t.Errorf("got status %q, reason %q, until %v; want suspended, spam, indefinite", got.Status, got.StatusReason, got.StatusUntil)
		}
		auth := authenticate(t, svc, tok)
		if auth.Account.Status != account.Suspended || auth.Account.StatusReason != "spam" {
			t.Errorf("authenticate: got status %q, reason %q; want suspended, spam", auth.Account.Status, auth.Account.StatusReason)
		}
		if p, _ := svc.Profile(ctx, a.ID); p.Status != account.Suspended {
			t.Errorf("profile: got status %q, want suspended", p.Status)
		}

		// Suspending again replaces the suspension, now with an end.
		until := march15.Add(72*time.Hour + 123456789*time.Nanosecond)
		got, err = svc.Suspend(ctx, actor, a.ID, "spam, second warning", until)
		if err != nil {
			t.Fatal(err)
		}
		wantUntil := until.Truncate(time.Microsecond)
		if got.Status != account.Suspended || got.StatusReason != "spam, second warning" || !got.StatusUntil.Equal(wantUntil) {
			t.Errorf("got status %q, reason %q, until %v; want suspended, spam, second warning, %v", got.Status, got.StatusReason, got.StatusUntil, wantUntil)
		}

		// When the end passes, the account reads as active again, with no
		// job to run.
		clk.Set(until)
		if auth := authenticate(t, svc, tok); auth.Account.Status != account.Active || auth.Account.StatusReason != "" || !auth.Account.StatusUntil.IsZero() {
			t.Errorf("after the end: got %q %q %v, want active with no reason and no end", auth.Account.Status, auth.Account.StatusReason, auth.Account.StatusUntil)
		}
		if g, _ := svc.Get(ctx, a.ID); g.Status != account.Active {
			t.Errorf("get after the end: got %q, want active", g.Status)
		}
		_, err = svc.Unsuspend(ctx, actor, a.ID, "already over")
		wantCode(t, err, plaza.EConflict)

		entries := auditEntries(t, db)
		if got, want := actions(entries), []string{"account.suspend", "account.suspend"}; !slices.Equal(got, want) {
			t.Fatalf("got audit actions %v, want %v", got, want)
		}
		if e := entries[0]; e.ActorID != mod.ID || e.TargetType != "account" || e.TargetID != a.ID.String() || e.Reason != "spam" || len(e.Details) != 0 {
			t.Errorf("got audit entry %+v, want mod suspending alice for spam", e)
		}
		if diff := cmp.Diff(map[string]any{"until": wantUntil.Format(time.RFC3339)}, entries[1].Details); diff != "" {
			t.Errorf("audit details (-want +got):\n%s", diff)
		}
	})
}

// TestSuspensionEndsOnItsOwn writes a past end straight into the database,
// as the real clock passing it would, and checks every read lifts it.
func TestSuspensionEndsOnItsOwn(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		a, tok := register(t, svc, "alice")
		if _, err := svc.Suspend(ctx, audit.CLI, a.ID, "cool off", time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if auth := authenticate(t, svc, tok); auth.Account.Status != account.Suspended {
			t.Fatalf("got status %q, want suspended", auth.Account.Status)
		}
		exec(t, db, `UPDATE accounts SET status_until = $1 WHERE id = $2`, time.Now().Add(-time.Second).UnixMicro(), a.ID)

		auth := authenticate(t, svc, tok)
		g, _ := svc.Get(ctx, a.ID)
		p, _ := svc.Profile(ctx, a.ID)
		l, _, err := svc.Login(ctx, "alice", testPassword, "")
		if err != nil {
			t.Fatal(err)
		}
		for name, st := range map[string]account.Status{"authenticate": auth.Account.Status, "get": g.Status, "profile": p.Status, "login": l.Status} {
			if st != account.Active {
				t.Errorf("%s: got status %q, want active", name, st)
			}
		}
		// A lapsed suspension can be replaced by a new one.
		if got, err := svc.Suspend(ctx, audit.CLI, a.ID, "again", time.Time{}); err != nil || got.Status != account.Suspended {
			t.Errorf("suspend again: got %q, %v; want suspended", got.Status, err)
		}
	})
}

func TestSuspendValidation(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc, _ := newClockedService(t, db, march15, nil)
		a, _ := register(t, svc, "alice")
		tests := []struct {
			name   string
			reason string
			until  time.Time
			fields []string
		}{
			{"until in the past", "spam", march15.Add(-time.Minute), []string{"until"}},
			{"until now", "spam", march15, []string{"until"}},
			{"empty reason", "", time.Time{}, []string{"reason"}},
			{"whitespace reason", "  \n", time.Time{}, []string{"reason"}},
			{"reason too long", strings.Repeat("r", 1001), time.Time{}, []string{"reason"}},
			{"both", "", march15.Add(-time.Hour), []string{"reason", "until"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := svc.Suspend(ctx, audit.CLI, a.ID, tt.reason, tt.until)
				wantInvalid(t, err, tt.fields...)
			})
		}
		for name, do := range map[string]func() error{
			"unsuspend": func() error { _, err := svc.Unsuspend(ctx, audit.CLI, a.ID, " "); return err },
			"close":     func() error { _, err := svc.Close(ctx, audit.CLI, a.ID, ""); return err },
		} {
			t.Run(name, func(t *testing.T) { wantInvalid(t, do(), "reason") })
		}
		if g, _ := svc.Get(ctx, a.ID); g.Status != account.Active {
			t.Errorf("got status %q after refused actions, want active", g.Status)
		}
		if entries := auditEntries(t, db); len(entries) != 0 {
			t.Errorf("got audit actions %v after refused actions, want none", actions(entries))
		}
	})
}

// TestStatusChanges walks an account through unsuspension and closure and
// checks each refused transition, and that exactly the accepted ones are
// in an intact audit log.
func TestStatusChanges(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		a, tok := register(t, svc, "alice")
		admin, _ := register(t, svc, "admin")
		self := audit.Actor{ID: admin.ID, Name: "admin"}
		mod := staff(t, svc, db, "mod", account.Moderator)

		type result struct {
			status account.Status
			reason string
		}
		steps := []struct {
			name string
			do   func() (account.Account, error)
			code string // "" for success
			want result // the status after a successful step
		}{
			{"unsuspend an active account", func() (account.Account, error) { return svc.Unsuspend(ctx, mod, a.ID, "why not") }, plaza.EConflict, result{}},
			{"suspend", func() (account.Account, error) { return svc.Suspend(ctx, mod, a.ID, "spam", time.Time{}) }, "", result{account.Suspended, "spam"}},
			{"unsuspend", func() (account.Account, error) { return svc.Unsuspend(ctx, mod, a.ID, "appeal upheld") }, "", result{account.Active, ""}},
			{"close", func() (account.Account, error) { return svc.Close(ctx, mod, a.ID, "  fraud ") }, "", result{account.Closed, "fraud"}},
			{"close a closed account", func() (account.Account, error) { return svc.Close(ctx, mod, a.ID, "fraud") }, plaza.EConflict, result{}},
			{"suspend a closed account", func() (account.Account, error) { return svc.Suspend(ctx, mod, a.ID, "x", time.Time{}) }, plaza.EConflict, result{}},
			{"unsuspend a closed account", func() (account.Account, error) { return svc.Unsuspend(ctx, mod, a.ID, "x") }, plaza.EConflict, result{}},
			{"suspend yourself", func() (account.Account, error) { return svc.Suspend(ctx, self, admin.ID, "x", time.Time{}) }, plaza.EForbidden, result{}},
			{"unsuspend yourself", func() (account.Account, error) { return svc.Unsuspend(ctx, self, admin.ID, "x") }, plaza.EForbidden, result{}},
			{"close yourself", func() (account.Account, error) { return svc.Close(ctx, self, admin.ID, "x") }, plaza.EForbidden, result{}},
			{"suspend an unknown account", func() (account.Account, error) { return svc.Suspend(ctx, mod, a.ID+12345, "x", time.Time{}) }, plaza.ENotFound, result{}},
			{"close an unknown account", func() (account.Account, error) { return svc.Close(ctx, mod, a.ID+12345, "x") }, plaza.ENotFound, result{}},
		}
		for _, s := range steps {
			got, err := s.do()
			if s.code != "" {
				if c := plaza.ErrorCode(err); c != s.code {
					t.Fatalf("%s: got %v (code %q), want code %q", s.name, err, c, s.code)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			if r := (result{got.Status, got.StatusReason}); r != s.want {
				t.Fatalf("%s: got %+v, want %+v", s.name, r, s.want)
			}
			if auth := authenticate(t, svc, tok); auth.Account.Status != s.want.status || auth.Account.StatusReason != s.want.reason {
				t.Fatalf("%s: authenticate got %q %q, want %q %q", s.name, auth.Account.Status, auth.Account.StatusReason, s.want.status, s.want.reason)
			}
		}
		if g, _ := svc.Get(ctx, admin.ID); g.Status != account.Active {
			t.Errorf("admin: got status %q, want active", g.Status)
		}

		entries := auditEntries(t, db)
		type row struct {
			ActorID                  plaza.ID
			Action, TargetID, Reason string
		}
		var got []row
		for _, e := range entries {
			got = append(got, row{e.ActorID, e.Action, e.TargetID, e.Reason})
		}
		id := a.ID.String()
		want := []row{
			{mod.ID, "account.suspend", id, "spam"},
			{mod.ID, "account.unsuspend", id, "appeal upheld"},
			{mod.ID, "account.close", id, "fraud"},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("audit entries (-want +got):\n%s", diff)
		}
	})
}

func TestStatusOfDeletedAccount(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		a, _ := register(t, svc, "alice")
		if err := svc.Erase(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		_, err := svc.Suspend(ctx, audit.CLI, a.ID, "spam", time.Time{})
		wantCode(t, err, plaza.ENotFound)
		_, err = svc.Close(ctx, audit.CLI, a.ID, "spam")
		wantCode(t, err, plaza.ENotFound)
		err = svc.RevokeRole(ctx, audit.CLI, a.ID, account.Admin)
		wantCode(t, err, plaza.ENotFound)
		if got := actions(auditEntries(t, db)); !slices.Equal(got, []string{"account.delete"}) {
			t.Errorf("got audit actions %v, want only the deletion's", got)
		}
	})
}
