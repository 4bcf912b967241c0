package main

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// TestAdminRoleChangeWhileServing checks the contract that `plaza admin
// grant|revoke` works against a running server and that the server sees
// the change on the very next request, on SQLite and (when
// PLAZA_TEST_POSTGRES is set) on PostgreSQL.
func TestAdminRoleChangeWhileServing(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		testRoleChangeWhileServing(t, nil)
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		testRoleChangeWhileServing(t, []string{"--db", sqldbtest.URL(t, sqldb.Postgres)})
	})
}

func testRoleChangeWhileServing(t *testing.T, dbArgs []string) {
	data := t.TempDir()
	srv := startServer(t, append([]string{"--data", data}, dbArgs...)...)
	alice := register(t, srv.URL, "alice")
	verification := srv.URL + "/api/v1/admin/audit-log/verification"
	admin := func(cmd string, rest ...string) []string {
		args := append([]string{"admin", cmd, "--data", data}, dbArgs...)
		return append(args, rest...)
	}

	call(t, "GET", verification, alice.Token, nil).wantError(t, http.StatusForbidden, "forbidden")

	res := wantCLI(t, 0, "role admin granted to alice (account "+alice.ID+")", admin("grant", "alice", "admin")...)
	if res.stderr != "" {
		t.Errorf("plaza admin grant: got stderr %q, want none", res.stderr)
	}
	var rep struct {
		OK   bool  `json:"ok"`
		Rows int64 `json:"rows"`
	}
	call(t, "GET", verification, alice.Token, nil).want(t, http.StatusOK, &rep)
	if !rep.OK || rep.Rows != 1 {
		t.Errorf("verification after grant: got ok=%v rows=%d, want ok=true rows=1 (the grant)", rep.OK, rep.Rows)
	}
	if me := getMe(t, srv.URL, alice.Token); !slices.Equal(me.Roles, []string{"admin"}) {
		t.Errorf("GET /api/v1/me after grant: got roles %q, want [admin]", me.Roles)
	}

	wantCLI(t, 0, "role admin revoked from alice (account "+alice.ID+")", admin("revoke", "alice", "admin")...)
	call(t, "GET", verification, alice.Token, nil).wantError(t, http.StatusForbidden, "forbidden")
	if me := getMe(t, srv.URL, alice.Token); len(me.Roles) != 0 {
		t.Errorf("GET /api/v1/me after revoke: got roles %q, want none", me.Roles)
	}

	// The operator's mistakes leave the account as it is.
	wantCLI(t, 2, "", admin("grant", "alice", "overlord")...)
	res = wantCLI(t, 1, "", admin("grant", "mallory", "admin")...)
	if !strings.Contains(res.stderr, `account "mallory"`) {
		t.Errorf("plaza admin grant for a missing account: got stderr %q, want it to name account \"mallory\"", res.stderr)
	}
	call(t, "GET", verification, alice.Token, nil).wantError(t, http.StatusForbidden, "forbidden")
}

// TestServeGracefulShutdown stops the server with SIGTERM, as an init
// system does, and starts it again on the same data.
func TestServeGracefulShutdown(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	srv := startServer(t, "--data", data)
	alice := register(t, srv.URL, "alice")
	if _, ok := srv.logRecord("database migrated"); !ok {
		t.Errorf("first start: got no \"database migrated\" log line, want one for the fresh database")
	}

	srv.terminate(t)
	if code := srv.wait(t, exitTimeout); code != 0 {
		t.Fatalf("after SIGTERM: got exit status %d, want 0; stderr:\n%s", code, srv.logs())
	}
	for _, msg := range []string{"shutting down", "stopped"} {
		if _, ok := srv.logRecord(msg); !ok {
			t.Errorf("after SIGTERM: got no %q log line; stderr:\n%s", msg, srv.logs())
		}
	}

	srv = startServer(t, "--data", data)
	if rec, ok := srv.logRecord("database migrated"); ok {
		t.Errorf("restart: got %v, want no migration of an up-to-date database", rec)
	}
	var signedIn struct {
		Account meJSON `json:"account"`
		Token   string `json:"token"`
	}
	call(t, "POST", srv.URL+"/api/v1/sessions", "", map[string]string{"handle": "alice", "password": testPassword}).
		want(t, http.StatusCreated, &signedIn)
	if signedIn.Account.ID != alice.ID || !strings.HasPrefix(signedIn.Token, "plz_") {
		t.Errorf("sign in after restart: got account %q and token %q, want account %q and a plz_ token", signedIn.Account.ID, signedIn.Token, alice.ID)
	}
	if me := getMe(t, srv.URL, signedIn.Token); me.Handle != "alice" {
		t.Errorf("GET /api/v1/me with the new session: got handle %q, want alice", me.Handle)
	}
	// Sessions are in the database, so one from before the restart still
	// works.
	if me := getMe(t, srv.URL, alice.Token); me.ID != alice.ID {
		t.Errorf("GET /api/v1/me with the session from before the restart: got id %q, want %q", me.ID, alice.ID)
	}
}

// TestServeSuspensionAndClosure walks the moderation path end to end: the
// operator makes alice an admin at the command line, alice suspends bob
// and closes carol, and each of them can still read why but do nothing
// else.
func TestServeSuspensionAndClosure(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	srv := startServer(t, "--data", data)
	alice := register(t, srv.URL, "alice")
	bob := register(t, srv.URL, "bob")
	carol := register(t, srv.URL, "carol")
	wantCLI(t, 0, "role admin granted to alice", "admin", "grant", "--data", data, "alice", "admin")

	const suspendReason = "spam in public groups (rule 4.2)"
	var suspended meJSON
	call(t, "POST", srv.URL+"/api/v1/admin/accounts/"+bob.ID+"/suspension", alice.Token, map[string]string{"reason": suspendReason}).
		want(t, http.StatusOK, &suspended)
	if suspended.ID != bob.ID || suspended.Status != "suspended" {
		t.Errorf("suspend bob: got account %q status %q, want %q status suspended", suspended.ID, suspended.Status, bob.ID)
	}
	const closeReason = "repeated fraud (rule 2.1)"
	call(t, "POST", srv.URL+"/api/v1/admin/accounts/"+carol.ID+"/closure", alice.Token, map[string]string{"reason": closeReason}).
		want(t, http.StatusOK, nil)

	tests := []struct {
		name       string
		who        user
		wantStatus string
		wantReason string
		wantCode   string
	}{
		{name: "suspended", who: bob, wantStatus: "suspended", wantReason: suspendReason, wantCode: "account_suspended"},
		{name: "closed", who: carol, wantStatus: "closed", wantReason: closeReason, wantCode: "account_closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			me := getMe(t, srv.URL, tt.who.Token)
			if me.Status != tt.wantStatus || me.StatusReason != tt.wantReason {
				t.Errorf("GET /api/v1/me: got status %q reason %q, want %q reason %q", me.Status, me.StatusReason, tt.wantStatus, tt.wantReason)
			}
			blocked := []struct {
				method, path string
				body         any
			}{
				{"PATCH", "/api/v1/me", map[string]string{"display_name": "Someone else"}},
				{"GET", "/api/v1/accounts/" + alice.ID, nil},
			}
			for _, b := range blocked {
				e := call(t, b.method, srv.URL+b.path, tt.who.Token, b.body).wantError(t, http.StatusForbidden, tt.wantCode)
				if got := e.Error.Details["reason"]; got != tt.wantReason {
					t.Errorf("%s %s: got details.reason %v, want %q", b.method, b.path, got, tt.wantReason)
				}
			}
		})
	}

	// The grant, the suspension and the closure are in the audit log, and
	// the chain holds.
	var rep struct {
		OK   bool  `json:"ok"`
		Rows int64 `json:"rows"`
	}
	call(t, "GET", srv.URL+"/api/v1/admin/audit-log/verification", alice.Token, nil).want(t, http.StatusOK, &rep)
	if !rep.OK || rep.Rows != 3 {
		t.Errorf("audit verification: got ok=%v rows=%d, want ok=true rows=3", rep.OK, rep.Rows)
	}
}

// TestServeReadsEnvironment starts the server configured only through
// PLAZA_* variables, as a container would.
func TestServeReadsEnvironment(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "from-env")
	srv := startProcess(t, []string{
		"PLAZA_LISTEN=127.0.0.1:0", "PLAZA_DATA=" + data, "PLAZA_RATE_LIMITS=off", "PLAZA_LOG_FORMAT=json",
	}, "serve")
	u, err := url.Parse(srv.URL)
	if err != nil || u.Hostname() != "127.0.0.1" || u.Port() == "" || u.Port() == "8080" {
		t.Errorf("got address %q, want 127.0.0.1 with the port picked for PLAZA_LISTEN=127.0.0.1:0", srv.URL)
	}
	call(t, "GET", srv.URL+"/healthz", "", nil).want(t, http.StatusOK, nil)
	if _, err := os.Stat(filepath.Join(data, "plaza.db")); err != nil {
		t.Errorf("PLAZA_DATA=%s: got %v, want the database there", data, err)
	}
	if _, ok := srv.logRecord("rate limiting is OFF"); !ok {
		t.Errorf("PLAZA_RATE_LIMITS=off: got no \"rate limiting is OFF\" warning; stderr:\n%s", srv.logs())
	}
}
