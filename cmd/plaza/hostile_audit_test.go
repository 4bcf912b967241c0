package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestHostileAdminAuditAnchor records the chain's head with `plaza admin
// audit anchor`, checks it with `verify --anchor`, and rotates the audit
// key with the chain still verifying.
func TestHostileAdminAuditAnchor(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	srv := startServer(t, "--data", data)
	register(t, srv.URL, "alice")
	if st, err := os.Stat(filepath.Join(data, "audit.key")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("audit key file: %v; want DATA/audit.key with mode 0600, made at first start", err)
	}
	wantCLI(t, 0, "granted", "admin", "grant", "--data", data, "alice", "moderator")
	wantCLI(t, 0, "granted", "admin", "grant", "--data", data, "alice", "admin")
	res := wantCLI(t, 0, "row 2 head ", "admin", "audit", "anchor", "--data", data)
	m := regexp.MustCompile(`row (\d+) head ([0-9a-f]{64})`).FindStringSubmatch(res.stdout)
	if m == nil {
		t.Fatalf("anchor printed %q, want row N head HASH", res.stdout)
	}
	anchor := m[1] + ":" + m[2]

	wantCLI(t, 0, "audit key rotated", "admin", "audit", "rotate-key", "--data", data)
	wantCLI(t, 0, "revoked", "admin", "revoke", "--data", data, "alice", "moderator")
	wantCLI(t, 0, "audit log OK: 3 rows, hash chain intact, 1 anchor matched", "admin", "audit", "verify", "--data", data, "--anchor", anchor)

	wrong := m[1] + ":" + strings.Repeat("0", 64)
	res = wantCLI(t, 1, "audit log BROKEN at row 2", "admin", "audit", "verify", "--data", data, "--anchor", wrong)
	if !strings.Contains(res.stdout, "anchor") {
		t.Errorf("verify with a wrong anchor printed %q, want it to name the anchor", res.stdout)
	}
	wantCLI(t, 2, "", "admin", "audit", "verify", "--data", data, "--anchor", "2:nothex")
}
