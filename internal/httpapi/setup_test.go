package httpapi

import (
	"net/http"
	"slices"
	"testing"
)

// TestSetupRegistersTheFirstAdmin: the first-run link's token registers
// an administrator once; a wrong token, or any token on a server that
// logged none, is not_found, and once an administrator exists the link
// is a conflict.
func TestSetupRegistersTheFirstAdmin(t *testing.T) {
	const token = "0123456789abcdef0123456789abcdef"
	e := newEnv(t, func(c *envConfig) { c.SetupToken = token })
	e.do("POST", "/api/v1/setup", "", with(registration("guesser"), "token", "0123456789abcdef0123456789abcdee")).want(t, http.StatusNotFound, "not_found")
	e.do("POST", "/api/v1/setup", "", registration("tokenless")).want(t, http.StatusNotFound, "not_found")
	e.do("POST", "/api/v1/setup", "", with(registration("x"), "token", token)).want(t, http.StatusBadRequest, "invalid_request")

	res := e.do("POST", "/api/v1/setup", "", with(registration("founder"), "token", token)).want(t, http.StatusCreated, "")
	acct := res.body["account"].(map[string]any)
	roles, _ := acct["roles"].([]any)
	if !slices.Contains(roles, any("admin")) {
		t.Fatalf("the first administrator's roles: %v, want admin", acct["roles"])
	}
	tok := res.body["token"].(string)
	e.do("GET", "/api/v1/admin/audit-log", tok, nil).want(t, http.StatusOK, "")

	e.do("POST", "/api/v1/setup", "", with(registration("second"), "token", token)).want(t, http.StatusConflict, "conflict")
	// The refused one left no account: its handle is still free.
	e.do("POST", "/api/v1/accounts", "", registration("second")).want(t, http.StatusCreated, "")

	// A server started with an administrator logs no token: the link
	// does not exist there.
	other := newEnv(t)
	other.do("POST", "/api/v1/setup", "", with(registration("someone"), "token", "")).want(t, http.StatusNotFound, "not_found")
}
