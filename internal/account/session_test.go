package account_test

import (
	"context"
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

func TestLogin(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		a, _ := register(t, svc, "alice")

		for _, h := range []string{"alice", "ALICE", " Alice "} {
			t.Run(h, func(t *testing.T) {
				got, tok, err := svc.Login(ctx, h, testPassword, "laptop")
				if err != nil {
					t.Fatalf("got %v, want success", err)
				}
				if got.ID != a.ID || got.Handle != "alice" {
					t.Errorf("got account %d %q, want %d %q", got.ID, got.Handle, a.ID, "alice")
				}
				if !strings.HasPrefix(tok, "plz_") {
					t.Errorf("got token %q, want prefix %q", tok, "plz_")
				}
				if auth := authenticate(t, svc, tok); auth.Account.ID != a.ID {
					t.Errorf("got account %d for the new token, want %d", auth.Account.ID, a.ID)
				}
			})
		}
		if s, err := svc.Sessions(ctx, a.ID); err != nil || len(s) != 4 {
			t.Errorf("got %d sessions, %v; want 4 (registration and three logins)", len(s), err)
		}
	})
}

// TestLoginFailuresLookAlike checks that a wrong password and an unknown
// handle cannot be told apart from the answer.
func TestLoginFailuresLookAlike(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		a, _ := register(t, svc, "alice")
		before := countRows(t, db, `sessions`)

		_, _, wrong := svc.Login(ctx, "alice", testPassword+"!", "")
		_, _, unknown := svc.Login(ctx, "nobody", testPassword, "")
		_, _, empty := svc.Login(ctx, "alice", "", "")
		wantCode(t, wrong, plaza.EUnauthenticated)
		for name, err := range map[string]error{"unknown handle": unknown, "empty password": empty} {
			if diff := cmp.Diff(plaza.AsError(wrong), plaza.AsError(err)); diff != "" {
				t.Errorf("%s: error differs from a wrong password's (-wrong +%s):\n%s", name, name, diff)
			}
		}
		if after := countRows(t, db, `sessions`); after != before {
			t.Errorf("got %d sessions after failed logins, want %d", after, before)
		}

		// A deleted account answers like an unknown handle.
		if err := svc.Erase(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		_, _, deleted := svc.Login(ctx, "alice", testPassword, "")
		if diff := cmp.Diff(plaza.AsError(unknown), plaza.AsError(deleted)); diff != "" {
			t.Errorf("deleted account: error differs from an unknown handle's (-unknown +deleted):\n%s", diff)
		}
	})
}

// TestLoginWhileSuspendedOrClosed lets the owner of a suspended or closed
// account sign in: they must be able to read the reason and leave.
func TestLoginWhileSuspendedOrClosed(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		s, _ := register(t, svc, "suspended")
		c, _ := register(t, svc, "closed")
		if _, err := svc.Suspend(ctx, audit.CLI, s.ID, "spam", time.Time{}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Close(ctx, audit.CLI, c.ID, "fraud"); err != nil {
			t.Fatal(err)
		}
		for handle, want := range map[string]account.Status{"suspended": account.Suspended, "closed": account.Closed} {
			a, tok, err := svc.Login(ctx, handle, testPassword, "")
			if err != nil {
				t.Fatalf("login %s: got %v, want success", handle, err)
			}
			if a.Status != want {
				t.Errorf("login %s: got status %q, want %q", handle, a.Status, want)
			}
			if auth := authenticate(t, svc, tok); auth.Account.Status != want {
				t.Errorf("authenticate %s: got status %q, want %q", handle, auth.Account.Status, want)
			}
		}
	})
}

// TestLoginUpgradesStaleHash raises the Argon2id cost and checks that the
// next successful login stores a hash at the new cost.
func TestLoginUpgradesStaleHash(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		a, _ := register(t, newService(t, db), "alice")
		hashOf := func() string {
			t.Helper()
			var h string
			if err := db.Read().QueryRowContext(ctx, `SELECT password_hash FROM accounts WHERE id = $1`, a.ID).Scan(&h); err != nil {
				t.Fatal(err)
			}
			return h
		}
		const cheap, stronger = "$argon2id$v=19$m=64,t=1,p=1$", "$argon2id$v=19$m=128,t=2,p=1$"
		if h := hashOf(); !strings.HasPrefix(h, cheap) {
			t.Fatalf("got hash %q, want prefix %q", h, cheap)
		}

		svc := newServiceWith(t, db, func(c *account.Config) {
			c.Password = account.PasswordParams{MemoryKiB: 128, Time: 2, Threads: 1}
		})
		if _, _, err := svc.Login(ctx, "alice", "wrong password", ""); plaza.ErrorCode(err) != plaza.EUnauthenticated {
			t.Fatalf("wrong password: got %v, want %s", err, plaza.EUnauthenticated)
		}
		if h := hashOf(); !strings.HasPrefix(h, cheap) {
			t.Errorf("after a failed login: got hash %q, want it unchanged (prefix %q)", h, cheap)
		}
		login(t, svc, "alice", "")
		if h := hashOf(); !strings.HasPrefix(h, stronger) {
			t.Errorf("after a login: got hash %q, want prefix %q", h, stronger)
		}
		login(t, svc, "alice", "")
		login(t, newService(t, db), "alice", "") // cheaper settings still verify it
	})
}

func TestAuthenticate(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		a, tok := register(t, svc, "alice")

		auth := authenticate(t, svc, tok)
		if auth.Account.ID != a.ID || auth.Account.Handle != "alice" || auth.Account.Status != account.Active {
			t.Errorf("got account %+v, want alice, active", auth.Account)
		}
		if len(auth.Account.Roles) != 0 || auth.NeedsConsent() || auth.AcceptedTerms != 1 {
			t.Errorf("got roles %v, needs consent %v, accepted %d; want none, false, 1", auth.Account.Roles, auth.NeedsConsent(), auth.AcceptedTerms)
		}

		unknown := "plz_" + strings.Repeat("A", 43)
		for name, bad := range map[string]string{
			"empty":                "",
			"prefix only":          "plz_",
			"no prefix":            strings.TrimPrefix(tok, "plz_"),
			"other prefix":         "plx_" + strings.TrimPrefix(tok, "plz_"),
			"one character more":   tok + "A",
			"one character less":   tok[:len(tok)-1],
			"well formed, unknown": unknown,
			"bearer header":        "Bearer " + tok,
		} {
			t.Run(name, func(t *testing.T) {
				_, err := svc.Authenticate(ctx, bad)
				wantCode(t, err, plaza.EUnauthenticated)
			})
		}
	})
}

func TestAuthenticateSeesNewRoles(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		a, tok := register(t, svc, "alice")
		if auth := authenticate(t, svc, tok); auth.Account.HasRole(account.Admin) {
			t.Fatalf("got roles %v, want none", auth.Account.Roles)
		}
		// Another Service on the same database stands for `plaza admin
		// grant` running beside the server.
		if err := newService(t, db).GrantRole(ctx, audit.CLI, a.ID, account.Admin); err != nil {
			t.Fatal(err)
		}
		if err := svc.GrantRole(ctx, audit.CLI, a.ID, account.Compliance); err != nil {
			t.Fatal(err)
		}
		auth := authenticate(t, svc, tok)
		if diff := cmp.Diff([]account.Role{account.Admin, account.Compliance}, auth.Account.Roles); diff != "" {
			t.Errorf("roles after grant (-want +got):\n%s", diff)
		}
		if !auth.Account.HasRole(account.Moderator, account.Admin) || auth.Account.HasRole(account.Reviewer) {
			t.Errorf("HasRole: got wrong answers for roles %v", auth.Account.Roles)
		}
		if err := svc.RevokeRole(ctx, audit.CLI, a.ID, account.Admin); err != nil {
			t.Fatal(err)
		}
		auth = authenticate(t, svc, tok)
		if diff := cmp.Diff([]account.Role{account.Compliance}, auth.Account.Roles); diff != "" {
			t.Errorf("roles after revoke (-want +got):\n%s", diff)
		}
	})
}

func TestSessions(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc, clk := newClockedService(t, db, march15, nil)
		a, _ := register(t, svc, "alice")
		clk.Advance(time.Minute)
		login(t, svc, "alice", strings.Repeat("ü", 200)) // 400 bytes
		clk.Advance(time.Minute)
		login(t, svc, "alice", "bad \xff utf-8")

		sessions, err := svc.Sessions(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		ttl := account.DefaultConfig().SessionTTL
		var want []account.Session
		for i, ua := range []string{"bad  utf-8", strings.Repeat("ü", 128), "test/1.0"} {
			at := march15.Add(time.Duration(2-i) * time.Minute)
			want = append(want, account.Session{AccountID: a.ID, UserAgent: ua, CreatedAt: at, LastUsedAt: at, ExpiresAt: at.Add(ttl)})
		}
		for i := range sessions {
			if sessions[i].ID == 0 {
				t.Errorf("session %d: got ID 0, want an ID", i)
			}
			sessions[i].ID = 0
		}
		if diff := cmp.Diff(want, sessions); diff != "" {
			t.Errorf("sessions, most recently used first (-want +got):\n%s", diff)
		}
	})
}

func TestRevokeSession(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		a, tok := register(t, svc, "alice")
		other := login(t, svc, "alice", "phone")
		b, bobTok := register(t, svc, "bob")
		bobSession := authenticate(t, svc, bobTok).SessionID

		err := svc.RevokeSession(ctx, a.ID, bobSession)
		wantCode(t, err, plaza.ENotFound)
		authenticate(t, svc, bobTok)

		sid := authenticate(t, svc, tok).SessionID
		if err := svc.RevokeSession(ctx, a.ID, sid); err != nil {
			t.Fatalf("revoke own session: %v", err)
		}
		_, err = svc.Authenticate(ctx, tok)
		wantCode(t, err, plaza.EUnauthenticated)
		authenticate(t, svc, other)
		if s, _ := svc.Sessions(ctx, a.ID); len(s) != 1 {
			t.Errorf("got %d sessions, want 1", len(s))
		}

		err = svc.RevokeSession(ctx, a.ID, sid)
		wantCode(t, err, plaza.ENotFound)
		if s, _ := svc.Sessions(ctx, b.ID); len(s) != 1 {
			t.Errorf("got %d sessions for bob, want 1", len(s))
		}
	})
}

func TestMaxSessions(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc, clk := newClockedService(t, db, march15, func(c *account.Config) { c.MaxSessions = 2 })
		a, regTok := register(t, svc, "alice")
		var toks []string
		for range 3 {
			clk.Advance(time.Second)
			toks = append(toks, login(t, svc, "alice", ""))
		}
		if s, err := svc.Sessions(ctx, a.ID); err != nil || len(s) != 2 {
			t.Fatalf("got %d sessions, %v; want 2", len(s), err)
		}
		for i, tok := range []string{regTok, toks[0]} {
			if _, err := svc.Authenticate(ctx, tok); plaza.ErrorCode(err) != plaza.EUnauthenticated {
				t.Errorf("pruned token %d: got %v, want %s", i, err, plaza.EUnauthenticated)
			}
		}
		for _, tok := range toks[1:] {
			authenticate(t, svc, tok)
		}
	})
}

// TestMaxSessionsDropsLeastRecentlyUsed checks that pruning goes by last
// use, not by age: an old session in use survives a newer idle one.
func TestMaxSessionsDropsLeastRecentlyUsed(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc, clk := newClockedService(t, db, march15, func(c *account.Config) { c.MaxSessions = 2 })
		_, old := register(t, svc, "alice")
		clk.Advance(time.Minute)
		idle := login(t, svc, "alice", "")
		clk.Advance(2 * time.Hour) // long enough for a request to refresh last use
		authenticate(t, svc, old)
		clk.Advance(time.Minute)
		fresh := login(t, svc, "alice", "")

		authenticate(t, svc, old)
		authenticate(t, svc, fresh)
		_, err := svc.Authenticate(ctx, idle)
		wantCode(t, err, plaza.EUnauthenticated)
	})
}

// TestSessionLastUse checks that a request refreshes a session's last use
// and expiry at most once an hour, and that idle sessions expire.
func TestSessionLastUse(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		const ttl = 24 * time.Hour
		svc, clk := newClockedService(t, db, march15, func(c *account.Config) { c.SessionTTL = ttl })
		a, tok := register(t, svc, "alice")
		session := func() account.Session {
			t.Helper()
			s, err := svc.Sessions(ctx, a.ID)
			if err != nil || len(s) != 1 {
				t.Fatalf("got sessions %+v, %v; want one", s, err)
			}
			return s[0]
		}

		clk.Advance(30 * time.Minute)
		authenticate(t, svc, tok)
		if s := session(); !s.LastUsedAt.Equal(march15) || !s.ExpiresAt.Equal(march15.Add(ttl)) {
			t.Errorf("within the hour: got last use %v, expiry %v; want %v, %v", s.LastUsedAt, s.ExpiresAt, march15, march15.Add(ttl))
		}

		clk.Advance(time.Hour)
		now := clk.Now()
		authenticate(t, svc, tok)
		if s := session(); !s.LastUsedAt.Equal(now) || !s.ExpiresAt.Equal(now.Add(ttl)) {
			t.Errorf("after the hour: got last use %v, expiry %v; want %v, %v", s.LastUsedAt, s.ExpiresAt, now, now.Add(ttl))
		}

		clk.Advance(ttl)
		_, err := svc.Authenticate(ctx, tok)
		wantCode(t, err, plaza.EUnauthenticated)
		if s, err := svc.Sessions(ctx, a.ID); err != nil || len(s) != 0 {
			t.Errorf("got %d live sessions, %v; want none", len(s), err)
		}
	})
}

// TestExpiredSessionInDatabase ages a session by hand, as time passing
// would on the real clock.
func TestExpiredSessionInDatabase(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		a, tok := register(t, svc, "alice")
		exec(t, db, `UPDATE sessions SET expires_at = $1 WHERE account_id = $2`, time.Now().Add(-time.Second).UnixMicro(), a.ID)
		_, err := svc.Authenticate(ctx, tok)
		wantCode(t, err, plaza.EUnauthenticated)
	})
}
