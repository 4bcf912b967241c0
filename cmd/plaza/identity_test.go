package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// outboxCode returns the newest code the development SMS outbox holds for
// phone.
func outboxCode(tb testing.TB, data, phone string) string {
	tb.Helper()
	f, err := os.Open(filepath.Join(data, "outbox", "sms.jsonl"))
	if err != nil {
		tb.Fatalf("open the SMS outbox: %v", err)
	}
	defer f.Close()
	code := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m struct{ To, Code string }
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			tb.Fatalf("outbox line %q: %v", sc.Text(), err)
		}
		if m.To == phone {
			code = m.Code
		}
	}
	if code == "" {
		tb.Fatalf("no code for %s in the outbox", phone)
	}
	return code
}

// TestIdentityKeyRotationWhileServing verifies a phone with the code from
// the outbox, submits a legal identity, rotates the encryption key with the
// CLI while the server runs, and checks that the compliance queue still
// reads it and that the key file was generated with mode 0600.
func TestIdentityKeyRotationWhileServing(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	srv := startServer(t, "--data", data)
	officer := register(t, srv.URL, "officer")
	wantCLI(t, 0, "role compliance granted to officer", "admin", "grant", "--data", data, "officer", "compliance")
	u := register(t, srv.URL, "zhang")

	keyFile := filepath.Join(data, "secret.key")
	st, err := os.Stat(keyFile)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, mode %v; want a 0600 file generated at first start", err, st.Mode().Perm())
	}
	if !strings.Contains(srv.logs(), "generated a new secret key") {
		t.Error("the server did not log that it generated a key")
	}
	before, _ := os.ReadFile(keyFile)

	call(t, "POST", srv.URL+"/api/v1/me/phone", u.Token, map[string]any{"phone": "+8613800138000"}).want(t, http.StatusAccepted, nil)
	call(t, "POST", srv.URL+"/api/v1/me/phone/verify", u.Token, map[string]any{"code": outboxCode(t, data, "+8613800138000")}).want(t, http.StatusOK, nil)
	call(t, "POST", srv.URL+"/api/v1/me/identity", u.Token, map[string]any{
		"legal_name": "Zhang San", "document_type": "national_id", "document_number": "11010519491231002X", "document_country": "CN",
	}).want(t, http.StatusAccepted, nil)

	res := wantCLI(t, 0, "key rotated", "admin", "rotate-key", "--data", data)
	if !strings.Contains(res.stdout, "1 identities re-encrypted") {
		t.Errorf("rotate-key said %q, want 1 identity re-encrypted", res.stdout)
	}
	after, _ := os.ReadFile(keyFile)
	if string(after) == string(before) {
		t.Error("the key file did not change")
	}
	retired, _ := filepath.Glob(keyFile + ".retired-*")
	if len(retired) != 1 {
		t.Errorf("retired keys: %v, want one", retired)
	}

	var raw struct {
		Items []map[string]string `json:"items"`
	}
	r := call(t, "GET", srv.URL+"/api/v1/admin/identity-reviews?status=pending", officer.Token, nil)
	r.want(t, http.StatusOK, &raw)
	if len(raw.Items) != 1 || raw.Items[0]["legal_name"] != "Zhang San" || raw.Items[0]["open_error"] != "" {
		t.Errorf("after rotation the running server's queue = %s, want Zhang San readable", r.body)
	}
	wantCLI(t, 0, "audit log OK", "admin", "audit", "verify", "--data", data)
	if strings.Contains(srv.logs(), "Zhang San") || strings.Contains(srv.logs(), "13800138000") {
		t.Error("the server log contains the legal name or the phone number")
	}
}
