package main

import (
	"context"
	"database/sql"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite" // the "sqlite" driver, to tamper with the file as an attacker would
)

// TestAdminAuditVerify builds an audit log with the admin CLI, checks that
// `plaza admin audit verify` accepts it, then alters a row directly in the
// SQLite file and checks that both the CLI and the API name that row.
func TestAdminAuditVerify(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	srv := startServer(t, "--data", data)
	alice := register(t, srv.URL, "alice")
	for _, step := range []struct{ cmd, want string }{
		{"grant", "role moderator granted to alice"},    // seq 1
		{"revoke", "role moderator revoked from alice"}, // seq 2
		{"grant", "role moderator granted to alice"},    // seq 3
	} {
		wantCLI(t, 0, step.want, "admin", step.cmd, "--data", data, "alice", "moderator")
	}
	// Granting a role the account has already changes and logs nothing.
	wantCLI(t, 0, "role admin granted to alice", "admin", "grant", "--data", data, "alice", "admin") // seq 4
	wantCLI(t, 0, "role admin granted to alice", "admin", "grant", "--data", data, "alice", "admin")

	res := wantCLI(t, 0, "audit log OK: 4 rows", "admin", "audit", "verify", "--data", data)
	if res.stderr != "" {
		t.Errorf("plaza admin audit verify: got stderr %q, want none", res.stderr)
	}

	db, err := sql.Open("sqlite", "file:"+filepath.Join(data, "plaza.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatalf("open the SQLite file: %v", err)
	}
	defer db.Close()
	r, err := db.ExecContext(context.Background(), `UPDATE audit_log SET reason = 'forged' WHERE seq = 2`)
	if err != nil {
		t.Fatalf("tamper with audit row 2: %v", err)
	}
	if n, err := r.RowsAffected(); err != nil || n != 1 {
		t.Fatalf("tamper with audit row 2: got %d rows changed (%v), want 1", n, err)
	}

	res = wantCLI(t, 1, "audit log BROKEN at row 2", "admin", "audit", "verify", "--data", data)
	if !strings.Contains(res.stdout, "altered") || !strings.Contains(res.stdout, "1 rows before it are intact") {
		t.Errorf("plaza admin audit verify: got stdout %q, want it to say the row was altered and 1 row before it is intact", res.stdout)
	}
	if !strings.Contains(res.stderr, "row 2") {
		t.Errorf("plaza admin audit verify: got stderr %q, want it to name row 2", res.stderr)
	}

	// The running server sees the same break.
	var rep struct {
		OK          bool  `json:"ok"`
		Rows        int64 `json:"rows"`
		FirstBroken int64 `json:"first_broken_seq"`
	}
	call(t, "GET", srv.URL+"/api/v1/admin/audit-log/verification", alice.Token, nil).want(t, http.StatusOK, &rep)
	if rep.OK || rep.FirstBroken != 2 || rep.Rows != 1 {
		t.Errorf("verification endpoint: got ok=%v first_broken_seq=%d rows=%d, want ok=false first_broken_seq=2 rows=1", rep.OK, rep.FirstBroken, rep.Rows)
	}
}

// TestHostileOperatorSuspendsAdmin: a moderator cannot suspend an admin
// over the API; the operator at the command line can, and can lift it.
func TestHostileOperatorSuspendsAdmin(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	srv := startServer(t, "--data", data)
	alice, bob := register(t, srv.URL, "alice"), register(t, srv.URL, "bob")
	wantCLI(t, 0, "role admin granted to alice", "admin", "grant", "--data", data, "alice", "admin")
	wantCLI(t, 0, "role moderator granted to bob", "admin", "grant", "--data", data, "bob", "moderator")

	e := call(t, "POST", srv.URL+"/api/v1/admin/accounts/"+alice.ID+"/suspension", bob.Token, map[string]any{"reason": "coup"}).
		wantError(t, http.StatusForbidden, "forbidden")
	if e.Error.Details["reason"] != "equal_or_higher_role" {
		t.Errorf("moderator suspending an admin: got details %v, want reason equal_or_higher_role", e.Error.Details)
	}

	wantCLI(t, 0, "account alice ("+alice.ID+") is suspended", "admin", "suspend", "--data", data, "alice", "compromised session")
	call(t, "GET", srv.URL+"/api/v1/admin/audit-log", alice.Token, nil).wantError(t, http.StatusForbidden, "account_suspended")
	wantCLI(t, 0, "is active", "admin", "reinstate", "--data", data, "alice", "password changed")
	call(t, "GET", srv.URL+"/api/v1/admin/audit-log", alice.Token, nil).want(t, http.StatusOK, nil)
	wantCLI(t, 2, "", "admin", "suspend", "--data", data, "alice")
}
