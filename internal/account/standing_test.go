package account_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/audit"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// hookLog records the accounts the standing hook was told about.
type hookLog struct {
	mu  sync.Mutex
	ids []plaza.ID
}

func (h *hookLog) record(_ context.Context, id plaza.ID) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ids = append(h.ids, id)
}

func (h *hookLog) take() []plaza.ID {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := h.ids
	h.ids = nil
	return out
}

// TestHostileStandingHookFires: every way a session or an account's
// standing ends tells the hook (which closes streams), after the commit.
func TestHostileStandingHookFires(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		var h hookLog
		svc.OnStandingChange(h.record)
		a, tok := register(t, svc, "alice")
		b, _ := register(t, svc, "bob")
		auth := authenticate(t, svc, tok)
		want := func(what string, ids ...plaza.ID) {
			t.Helper()
			got := h.take()
			if len(got) != len(ids) || len(ids) > 0 && got[0] != ids[0] {
				t.Errorf("%s: hook got %v, want %v", what, got, ids)
			}
		}
		want("register")
		tok2 := login(t, svc, "alice", "phone")
		want("login (may prune)", a.ID)
		if err := svc.RevokeSession(ctx, a.ID, authenticate(t, svc, tok2).SessionID); err != nil {
			t.Fatal(err)
		}
		want("revoke", a.ID)
		if err := svc.ChangePassword(ctx, a.ID, auth.SessionID, testPassword, "a different password"); err != nil {
			t.Fatal(err)
		}
		want("password change", a.ID)
		if _, err := svc.Suspend(ctx, audit.CLI, b.ID, "spam", time.Time{}); err != nil {
			t.Fatal(err)
		}
		want("suspend", b.ID)
		if _, err := svc.PublishTerms(ctx, audit.CLI, "v2", "body", true); err != nil {
			t.Fatal(err)
		}
		want("terms with re-consent", 0)
		if _, err := svc.PublishTerms(ctx, audit.CLI, "v3", "body", false); err != nil {
			t.Fatal(err)
		}
		want("terms without re-consent")
		if err := svc.Erase(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		want("delete", a.ID)
	})
}

// TestHostileCheckStanding: the send path's check refuses a suspended,
// closed, deleted or terms-gated account, and an ended session.
func TestHostileCheckStanding(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		a, tok := register(t, svc, "alice")
		b, _ := register(t, svc, "bob")
		c, _ := register(t, svc, "carol")
		d, _ := register(t, svc, "dave")
		sess := authenticate(t, svc, tok).SessionID
		if err := svc.CheckStanding(account.WithSession(ctx, sess), a.ID); err != nil {
			t.Fatalf("active account: got %v, want nil", err)
		}
		if _, err := svc.Suspend(ctx, audit.CLI, b.ID, "spam", time.Time{}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Close(ctx, audit.CLI, c.ID, "fraud"); err != nil {
			t.Fatal(err)
		}
		if err := svc.Erase(ctx, d.ID); err != nil {
			t.Fatal(err)
		}
		wantCode(t, svc.CheckStanding(ctx, b.ID), plaza.EAccountSuspended)
		wantCode(t, svc.CheckStanding(ctx, c.ID), plaza.EAccountClosed)
		wantCode(t, svc.CheckStanding(ctx, d.ID), plaza.EUnauthenticated)
		wantCode(t, svc.Reachable(ctx, c.ID), plaza.EGone)
		wantCode(t, svc.Reachable(ctx, d.ID), plaza.EGone)
		if err := svc.Reachable(ctx, b.ID); err != nil {
			t.Errorf("a suspended account: got %v, want reachable", err)
		}

		if _, err := svc.PublishTerms(ctx, audit.CLI, "v2", "body", true); err != nil {
			t.Fatal(err)
		}
		wantCode(t, svc.CheckStanding(ctx, a.ID), plaza.ETermsAcceptanceRequired)
		if err := svc.Accept(ctx, a.ID, 2); err != nil {
			t.Fatal(err)
		}
		if err := svc.CheckStanding(ctx, a.ID); err != nil {
			t.Errorf("after accepting: got %v, want nil", err)
		}
		if err := svc.RevokeSession(ctx, a.ID, sess); err != nil {
			t.Fatal(err)
		}
		wantCode(t, svc.CheckStanding(account.WithSession(ctx, sess), a.ID), plaza.EUnauthenticated)
	})
}

// TestHostileStreamsStanding: re-checking many streams in one look-up
// answers each as re-checking it alone would: a live session of an active
// account passes; an ended or unknown session, a session named with
// another account, and a suspended, closed, deleted or terms-gated account
// do not, wherever they fall among more streams than one look-up takes.
func TestHostileStreamsStanding(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		session := func(name string) (plaza.ID, plaza.ID) {
			a, tok := register(t, svc, name)
			return a.ID, authenticate(t, svc, tok).SessionID
		}
		alice, aliceS := session("alice")
		bob, bobS := session("bob")
		carol, carolS := session("carol")
		dave, daveS := session("dave")
		eve, eveS := session("eve")
		if _, err := svc.Suspend(ctx, audit.CLI, bob, "spam", time.Time{}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Close(ctx, audit.CLI, carol, "fraud"); err != nil {
			t.Fatal(err)
		}
		if err := svc.Erase(ctx, dave); err != nil {
			t.Fatal(err)
		}
		if err := svc.RevokeSession(ctx, eve, eveS); err != nil {
			t.Fatal(err)
		}
		kinds := []struct {
			ref  account.StreamRef
			want string
		}{
			{account.StreamRef{Account: alice, Session: aliceS}, ""},
			{account.StreamRef{Account: bob, Session: aliceS}, plaza.EUnauthenticated},
			{account.StreamRef{Account: bob, Session: bobS}, plaza.EAccountSuspended},
			{account.StreamRef{Account: carol, Session: carolS}, plaza.EAccountClosed},
			{account.StreamRef{Account: dave, Session: daveS}, plaza.EUnauthenticated},
			{account.StreamRef{Account: eve, Session: eveS}, plaza.EUnauthenticated},
			{account.StreamRef{Account: alice, Session: 987654321}, plaza.EUnauthenticated},
		}
		check := func(what string, wantAlice string) {
			t.Helper()
			var refs []account.StreamRef
			for len(refs) < 300 { // more than one look-up takes
				for _, k := range kinds {
					refs = append(refs, k.ref)
				}
			}
			errs, err := svc.StreamsStanding(ctx, refs)
			if err != nil || len(errs) != len(refs) {
				t.Fatalf("%s: %d answers for %d streams, err %v", what, len(errs), len(refs), err)
			}
			for i, got := range errs {
				k := kinds[i%len(kinds)]
				want := k.want
				if i%len(kinds) == 0 {
					want = wantAlice
				}
				if plaza.ErrorCode(got) != want {
					t.Fatalf("%s: stream %d (%+v): got %v, want %q", what, i, k.ref, got, want)
				}
				one, err := svc.SessionStanding(ctx, k.ref.Account, k.ref.Session)
				if err == nil {
					err = one.Standing(true)
				}
				if plaza.ErrorCode(err) != plaza.ErrorCode(got) || err != nil && err.Error() != got.Error() {
					t.Fatalf("%s: stream %d: %v together, %v alone", what, i, got, err)
				}
			}
		}
		check("before new terms", "")
		if _, err := svc.PublishTerms(ctx, audit.CLI, "v2", "body", true); err != nil {
			t.Fatal(err)
		}
		check("after terms needing consent", plaza.ETermsAcceptanceRequired)
		if errs, err := svc.StreamsStanding(ctx, nil); err != nil || len(errs) != 0 {
			t.Errorf("no streams: %v, %v", errs, err)
		}
	})
}

// TestHostileStreamsStandingOverTime: re-checking streams together
// follows the clock as re-checking one does: a suspension whose end has
// passed no longer refuses, and a session that expired (its row still
// there) is ended.
func TestHostileStreamsStandingOverTime(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc, clock := newClockedService(t, db, time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC), nil)
		var refs []account.StreamRef
		for _, name := range []string{"alice", "bob"} {
			a, tok := register(t, svc, name)
			refs = append(refs, account.StreamRef{Account: a.ID, Session: authenticate(t, svc, tok).SessionID})
		}
		if _, err := svc.Suspend(ctx, audit.CLI, refs[1].Account, "spam", clock.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		want := func(what string, codes ...string) {
			t.Helper()
			errs, err := svc.StreamsStanding(ctx, refs)
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			for i, code := range codes {
				if plaza.ErrorCode(errs[i]) != code {
					t.Errorf("%s: stream %d: got %v, want %q", what, i, errs[i], code)
				}
				one, err := svc.SessionStanding(ctx, refs[i].Account, refs[i].Session)
				if err == nil {
					err = one.Standing(true)
				}
				if plaza.ErrorCode(err) != code {
					t.Errorf("%s: stream %d alone: got %v, want %q", what, i, err, code)
				}
			}
		}
		want("suspended for an hour", "", plaza.EAccountSuspended)
		clock.Advance(2 * time.Hour)
		want("the suspension over", "", "")
		clock.Advance(account.DefaultConfig().SessionTTL)
		want("the sessions expired", plaza.EUnauthenticated, plaza.EUnauthenticated)
		if n := countRows(t, db, `sessions WHERE id = $1 OR id = $2`, refs[0].Session, refs[1].Session); n != 2 {
			t.Errorf("%d session rows, want both still there (expired, not deleted)", n)
		}
	})
}

// TestHostileChangePasswordEndsOtherSessions checks the domain rules of a
// password change on both engines.
func TestHostileChangePasswordEndsOtherSessions(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		a, tok := register(t, svc, "alice")
		_, btok := register(t, svc, "bob")
		other := login(t, svc, "alice", "phone")
		sess := authenticate(t, svc, tok).SessionID

		wantCode(t, svc.ChangePassword(ctx, a.ID, sess, "wrong", "a new password"), plaza.EForbidden)
		wantCode(t, svc.ChangePassword(ctx, a.ID, sess, testPassword, "short"), plaza.EInvalid)
		wantCode(t, svc.ChangePassword(ctx, a.ID, sess, testPassword, testPassword), plaza.EInvalid)
		// Nothing changed so far.
		authenticate(t, svc, other)

		if err := svc.ChangePassword(ctx, a.ID, sess, testPassword, "a new password"); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Authenticate(ctx, other); plaza.ErrorCode(err) != plaza.EUnauthenticated {
			t.Errorf("other session: got %v, want unauthenticated", err)
		}
		authenticate(t, svc, tok)
		authenticate(t, svc, btok)
		if _, _, err := svc.Login(ctx, "alice", testPassword, ""); plaza.ErrorCode(err) != plaza.EUnauthenticated {
			t.Errorf("old password: got %v, want unauthenticated", err)
		}
		if _, _, err := svc.Login(ctx, "alice", "a new password", ""); err != nil {
			t.Errorf("new password: got %v", err)
		}
	})
}
