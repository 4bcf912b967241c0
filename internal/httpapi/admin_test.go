package httpapi

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/plaza-im/plaza/internal/account"
)

func TestTermsReconsentGate(t *testing.T) {
	e := newEnv(t)
	admin := e.withRole("boss", account.Admin)
	u := e.register("reader")

	// Only admins publish.
	e.do("POST", "/api/v1/admin/terms", u.token, map[string]any{"title": "T", "body": "B"}).want(t, 403, "forbidden")
	e.do("POST", "/api/v1/admin/terms", admin.token, map[string]any{"title": "", "body": "B"}).want(t, 400, "invalid_request")

	// A version that does not require re-consent gates nobody.
	v2 := e.do("POST", "/api/v1/admin/terms", admin.token, map[string]any{"title": "Terms v2", "body": "Typo fixes."}).want(t, 201, "")
	if v2.body["version"] != float64(2) {
		t.Fatalf("published version %v, want 2", v2.body["version"])
	}
	e.do("PATCH", "/api/v1/me", u.token, map[string]any{"display_name": "Still fine"}).want(t, 200, "")

	// Version 3 requires re-consent: everything but the allowed few is gated.
	e.do("POST", "/api/v1/admin/terms", admin.token, map[string]any{"title": "Terms v3", "body": "New rules.", "requires_reconsent": true}).want(t, 201, "")
	gated := e.do("PATCH", "/api/v1/me", u.token, map[string]any{"display_name": "Blocked"}).want(t, 403, "terms_acceptance_required")
	if gated.details()["version"] != float64(3) {
		t.Errorf("details.version = %v, want 3", gated.details()["version"])
	}
	e.do("GET", "/api/v1/accounts/"+admin.id.String(), u.token, nil).want(t, 403, "terms_acceptance_required")
	// The admin is gated too until they accept.
	e.do("GET", "/api/v1/admin/audit-log", admin.token, nil).want(t, 403, "terms_acceptance_required")

	// Always allowed: read the terms, read oneself, list sessions, export.
	if got := e.do("GET", "/api/v1/terms", "", nil).want(t, 200, "").body["version"]; got != float64(3) {
		t.Errorf("GET /terms version = %v, want 3", got)
	}
	me := e.do("GET", "/api/v1/me", u.token, nil).want(t, 200, "")
	if ts := me.body["terms"].(map[string]any); ts["reconsent_required"] != true || ts["current_version"] != float64(3) {
		t.Errorf("GET /me terms = %v, want reconsent_required with current 3", ts)
	}
	e.exportZip(u)

	// Accepting an old version does not lift the gate.
	e.do("POST", "/api/v1/me/consents", u.token, map[string]any{"version": 2}).want(t, 400, "invalid_request")
	e.do("POST", "/api/v1/me/consents", u.token, map[string]any{"version": 3}).want(t, 204, "")
	e.do("PATCH", "/api/v1/me", u.token, map[string]any{"display_name": "Free again"}).want(t, 200, "")
	e.do("POST", "/api/v1/me/consents", u.token, map[string]any{"version": 3}).want(t, 204, "") // idempotent

	// New registrations must accept the current version.
	e.do("POST", "/api/v1/accounts", "", registration("latecomer")).want(t, 403, "terms_acceptance_required")
	e.do("POST", "/api/v1/accounts", "", with(registration("latecomer"), "accepted_terms_version", 3)).want(t, 201, "")
}

func TestGatedUserMayLeave(t *testing.T) {
	e := newEnv(t)
	admin := e.withRole("boss", account.Admin)
	quitter := e.register("quitter")
	other := e.register("other")
	e.do("POST", "/api/v1/admin/terms", admin.token, map[string]any{"title": "v2", "body": "x", "requires_reconsent": true}).want(t, 201, "")

	e.do("GET", "/api/v1/me/sessions", other.token, nil).want(t, 200, "")
	e.do("DELETE", "/api/v1/sessions/current", other.token, nil).want(t, 204, "")
	e.do("GET", "/api/v1/me", other.token, nil).want(t, 401, "unauthenticated")

	e.do("DELETE", "/api/v1/me", quitter.token, map[string]any{"password": "password-quitter"}).want(t, 202, "")
	// Still gated, they may change their mind as well.
	tok := e.do("POST", "/api/v1/sessions", "", map[string]any{"handle": "quitter", "password": "password-quitter"}).want(t, 201, "").body["token"].(string)
	e.do("PATCH", "/api/v1/me", tok, map[string]any{"display_name": "Gated"}).want(t, 403, "terms_acceptance_required")
	e.do("POST", "/api/v1/me/deletion/cancel", tok, nil).want(t, 200, "")
}

// TestSuspendedUserMayLeave: a suspended account may schedule its
// deletion and cancel it.
func TestSuspendedUserMayLeave(t *testing.T) {
	e := newEnv(t)
	admin := e.withRole("boss", account.Admin)
	u := e.register("suspended")
	e.do("POST", "/api/v1/admin/accounts/"+u.id.String()+"/suspension", admin.token, map[string]any{"reason": "spam"}).want(t, 200, "")
	e.do("PATCH", "/api/v1/me", u.token, map[string]any{"display_name": "x"}).want(t, 403, "account_suspended")
	e.do("DELETE", "/api/v1/me", u.token, map[string]any{"password": "password-suspended"}).want(t, 202, "")
	tok := e.do("POST", "/api/v1/sessions", "", map[string]any{"handle": "suspended", "password": "password-suspended"}).want(t, 201, "").body["token"].(string)
	e.do("POST", "/api/v1/me/deletion/cancel", tok, nil).want(t, 200, "")
}

func TestSuspendAndClose(t *testing.T) {
	e := newEnv(t)
	admin := e.withRole("admin1", account.Admin)
	mod := e.withRole("mod1", account.Moderator)
	u := e.register("troll")
	c := e.register("closeme")
	path := "/api/v1/admin/accounts/" + u.id.String()

	e.do("POST", path+"/suspension", mod.token, map[string]any{}).want(t, 400, "invalid_request")
	e.do("POST", path+"/suspension", mod.token, map[string]any{"reason": "spam", "until": time.Now().Add(-time.Hour)}).want(t, 400, "invalid_request")
	e.do("POST", "/api/v1/admin/accounts/999/suspension", mod.token, map[string]any{"reason": "x"}).want(t, 404, "not_found")
	e.do("POST", "/api/v1/admin/accounts/"+mod.id.String()+"/suspension", mod.token, map[string]any{"reason": "x"}).want(t, 403, "forbidden")

	until := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	res := e.do("POST", path+"/suspension", mod.token, map[string]any{"reason": "Spamming links (rule 2)", "until": until}).want(t, 200, "")
	if res.body["status"] != "suspended" {
		t.Errorf("suspension answered %s", res.raw)
	}

	// The suspended user: every session refused except reading oneself,
	// which shows the reason, signing out and leaving.
	blocked := e.do("PATCH", "/api/v1/me", u.token, map[string]any{"display_name": "x"}).want(t, 403, "account_suspended")
	if blocked.details()["reason"] != "Spamming links (rule 2)" || blocked.details()["until"] != until.Format(time.RFC3339) {
		t.Errorf("suspension details = %v", blocked.details())
	}
	me := e.do("GET", "/api/v1/me", u.token, nil).want(t, 200, "")
	if me.body["status"] != "suspended" || me.body["status_reason"] != "Spamming links (rule 2)" {
		t.Errorf("GET /me of suspended account = %s", me.raw)
	}
	e.do("GET", "/api/v1/me/sessions", u.token, nil).want(t, 200, "")

	// A new sign-in works but is as restricted.
	tok := e.do("POST", "/api/v1/sessions", "", map[string]any{"handle": "troll", "password": "password-troll"}).want(t, 201, "").body["token"].(string)
	e.do("GET", "/api/v1/accounts/"+admin.id.String(), tok, nil).want(t, 403, "account_suspended")

	e.do("POST", path+"/reinstatement", u.token, map[string]any{"reason": "please"}).want(t, 403, "account_suspended")
	e.do("POST", path+"/reinstatement", mod.token, map[string]any{"reason": "Appeal upheld"}).want(t, 200, "")
	e.do("PATCH", "/api/v1/me", u.token, map[string]any{"display_name": "Reformed"}).want(t, 200, "")
	e.do("POST", path+"/reinstatement", mod.token, map[string]any{"reason": "again"}).want(t, 409, "conflict")

	// Closure: admins only, final.
	cpath := "/api/v1/admin/accounts/" + c.id.String()
	e.do("POST", cpath+"/closure", mod.token, map[string]any{"reason": "x"}).want(t, 403, "forbidden")
	e.do("POST", cpath+"/closure", admin.token, map[string]any{"reason": "Court order 2026/17"}).want(t, 200, "")
	e.do("PATCH", "/api/v1/me", c.token, map[string]any{"display_name": "x"}).want(t, 403, "account_closed")
	if me := e.do("GET", "/api/v1/me", c.token, nil).want(t, 200, ""); me.body["status"] != "closed" || me.body["status_reason"] != "Court order 2026/17" {
		t.Errorf("GET /me of closed account = %s", me.raw)
	}
	e.do("POST", cpath+"/suspension", admin.token, map[string]any{"reason": "x"}).want(t, 409, "conflict")

	// Every action is in the audit log, and the chain holds.
	log := e.do("GET", "/api/v1/admin/audit-log", admin.token, nil).want(t, 200, "")
	var actions []string
	for _, it := range log.body["items"].([]any) {
		actions = append(actions, it.(map[string]any)["action"].(string))
	}
	want := "account.close account.unsuspend account.suspend role.grant role.grant"
	if got := strings.Join(actions, " "); got != want {
		t.Errorf("audit actions = %q, want %q", got, want)
	}
	if v := e.do("GET", "/api/v1/admin/audit-log/verification", admin.token, nil).want(t, 200, ""); v.body["ok"] != true || v.body["rows"] != float64(5) {
		t.Errorf("verification = %s", v.raw)
	}
}

func TestAdminRolesAndLookup(t *testing.T) {
	e := newEnv(t)
	admin := e.withRole("root", account.Admin)
	mod := e.withRole("watch", account.Moderator)
	u := e.register("helper")
	path := "/api/v1/admin/accounts/" + u.id.String() + "/roles/"

	e.do("PUT", path+"reviewer", mod.token, nil).want(t, 403, "forbidden")
	e.do("PUT", path+"emperor", admin.token, nil).want(t, 400, "invalid_request")
	e.do("PUT", "/api/v1/admin/accounts/1/roles/reviewer", admin.token, nil).want(t, 404, "not_found")
	e.do("PUT", path+"reviewer", admin.token, nil).want(t, 204, "")
	e.do("PUT", path+"reviewer", admin.token, nil).want(t, 204, "") // idempotent, logged once
	if roles := e.do("GET", "/api/v1/me", u.token, nil).body["roles"].([]any); len(roles) != 1 || roles[0] != "reviewer" {
		t.Errorf("roles after grant = %v, want [reviewer]", roles)
	}
	e.do("DELETE", path+"reviewer", admin.token, nil).want(t, 204, "")
	if roles := e.do("GET", "/api/v1/me", u.token, nil).body["roles"].([]any); len(roles) != 0 {
		t.Errorf("roles after revoke = %v, want none", roles)
	}

	found := e.do("GET", "/api/v1/admin/accounts?handle=HELPER", mod.token, nil).want(t, 200, "")
	if items := found.body["items"].([]any); len(items) != 1 || items[0].(map[string]any)["id"] != u.id.String() {
		t.Errorf("lookup = %s", found.raw)
	}
	if items := e.do("GET", "/api/v1/admin/accounts?handle=nobody", mod.token, nil).want(t, 200, "").body["items"].([]any); len(items) != 0 {
		t.Errorf("lookup of unknown handle = %v, want none", items)
	}
	e.do("GET", "/api/v1/admin/accounts", mod.token, nil).want(t, 400, "invalid_request")
	if got := e.do("GET", "/api/v1/admin/accounts/"+u.id.String(), mod.token, nil).want(t, 200, "").body["handle"]; got != "helper" {
		t.Errorf("admin get = %v", got)
	}

	// Audit log paging.
	page := e.do("GET", "/api/v1/admin/audit-log?limit=2", admin.token, nil).want(t, 200, "")
	next := page.body["next_cursor"].(string)
	if len(page.body["items"].([]any)) != 2 || next == "" {
		t.Fatalf("first page = %s", page.raw)
	}
	rest := e.do("GET", "/api/v1/admin/audit-log?limit=10&cursor="+next, admin.token, nil).want(t, 200, "")
	if n := len(rest.body["items"].([]any)); n != 2 || rest.body["next_cursor"] != "" {
		t.Errorf("second page has %d items, cursor %v; want 2 and none", n, rest.body["next_cursor"])
	}
	e.do("GET", "/api/v1/admin/audit-log?limit=0", admin.token, nil).want(t, 400, "invalid_request")
	e.do("GET", "/api/v1/admin/audit-log?cursor=abc", admin.token, nil).want(t, 400, "invalid_request")
}

func TestAuditVerificationSeesTampering(t *testing.T) {
	e := newEnv(t)
	admin := e.withRole("root", account.Admin)
	e.withRole("second", account.Reviewer)
	if _, err := e.db.Write().ExecContext(t.Context(), `UPDATE audit_log SET actor = 'someone else' WHERE seq = 1`); err != nil {
		t.Fatal(err)
	}
	v := e.do("GET", "/api/v1/admin/audit-log/verification", admin.token, nil).want(t, http.StatusOK, "")
	if v.body["ok"] != false || v.body["first_broken_seq"] != float64(1) {
		t.Errorf("verification after tampering = %s, want ok false at row 1", v.raw)
	}
}
