package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func registration(handle string) map[string]any {
	return map[string]any{
		"handle": handle, "password": "long enough", "display_name": "Someone",
		"birth_date": "1990-05-17", "accepted_terms_version": 1,
	}
}

func with(m map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
		} else {
			out[kv[i].(string)] = kv[i+1]
		}
	}
	return out
}

func TestRegister(t *testing.T) {
	e := newEnv(t)
	e.register("taken")
	young := time.Now().UTC().AddDate(-13, 0, 0).Format(time.DateOnly)
	tests := []struct {
		name   string
		body   any
		status int
		code   string
		field  string
	}{
		{"ok", registration("newbie"), 201, "", ""},
		{"taken handle, other case", registration("TAKEN"), 409, "conflict", ""},
		{"missing terms version", with(registration("a_b"), "accepted_terms_version", nil), 403, "terms_acceptance_required", ""},
		{"outdated terms version", with(registration("a_b"), "accepted_terms_version", 0), 403, "terms_acceptance_required", ""},
		{"under minimum age", with(registration("kid"), "birth_date", young), 403, "age_requirement", ""},
		{"short handle", registration("ab"), 400, "invalid_request", "handle"},
		{"handle with dash", registration("a-b"), 400, "invalid_request", "handle"},
		{"short password", with(registration("pw_short"), "password", "1234567"), 400, "invalid_request", "password"},
		{"blank display name", with(registration("blank"), "display_name", "   "), 400, "invalid_request", "display_name"},
		{"control char in name", with(registration("ctl"), "display_name", "a\x07b"), 400, "invalid_request", "display_name"},
		{"bad birth date", with(registration("bday"), "birth_date", "17/05/1990"), 400, "invalid_request", "birth_date"},
		{"unknown field", with(registration("extra"), "admin", true), 400, "invalid_request", "admin"},
		{"wrong type", with(registration("typed"), "accepted_terms_version", "1"), 400, "invalid_request", "accepted_terms_version"},
		{"malformed JSON", `{"handle":`, 400, "invalid_request", "body"},
		{"two objects", `{} {}`, 400, "invalid_request", "body"},
		{"array body", `[1]`, 400, "invalid_request", "body"},
		{"oversize body", `{"display_name":"` + strings.Repeat("x", 2<<20) + `"}`, 413, "payload_too_large", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.do("POST", "/api/v1/accounts", "", tt.body).want(t, tt.status, tt.code)
			if tt.field != "" {
				fields, _ := res.details()["fields"].([]any)
				if len(fields) == 0 || fields[0].(map[string]any)["field"] != tt.field {
					t.Errorf("details.fields = %v, want the field %q named", fields, tt.field)
				}
			}
			if tt.code == "terms_acceptance_required" && res.details()["version"] != float64(1) {
				t.Errorf("details.version = %v, want 1", res.details()["version"])
			}
		})
	}

	t.Run("wrong content type", func(t *testing.T) {
		req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/accounts", strings.NewReader("handle=x"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnsupportedMediaType {
			t.Errorf("got %d, want 415", res.StatusCode)
		}
	})

	t.Run("all problems at once", func(t *testing.T) {
		res := e.do("POST", "/api/v1/accounts", "", map[string]any{"handle": "x", "password": "y", "display_name": "", "birth_date": "", "accepted_terms_version": 1})
		fields, _ := res.details()["fields"].([]any)
		if len(fields) != 4 {
			t.Errorf("got %d field problems (%v), want 4", len(fields), fields)
		}
	})

	t.Run("response shape", func(t *testing.T) {
		res := e.do("POST", "/api/v1/accounts", "", with(registration("ShapeCheck"), "display_name", "  Shape  ")).want(t, 201, "")
		a := res.body["account"].(map[string]any)
		if a["handle"] != "shapecheck" || a["display_name"] != "Shape" || a["status"] != "active" {
			t.Errorf("account = %v, want handle shapecheck, display name Shape, active", a)
		}
		if _, err := strconv.ParseInt(a["id"].(string), 10, 64); err != nil {
			t.Errorf("id %v is not a decimal string", a["id"])
		}
		if tok, _ := res.body["token"].(string); !strings.HasPrefix(tok, "plz_") {
			t.Errorf("token = %q, want plz_…", tok)
		}
		if loc := res.header.Get("Location"); loc != "/api/v1/accounts/"+a["id"].(string) {
			t.Errorf("Location = %q", loc)
		}
	})
}

// TestUnderAgeLeavesNoTrace counts every table's rows before and after a
// refused registration.
func TestUnderAgeLeavesNoTrace(t *testing.T) {
	e := newEnv(t)
	e.register("existing")
	counts := func() map[string]int {
		rows, err := e.db.Read().QueryContext(context.Background(), `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
		if err != nil {
			t.Fatal(err)
		}
		var tables []string
		for rows.Next() {
			var n string
			rows.Scan(&n)
			tables = append(tables, n)
		}
		rows.Close()
		out := map[string]int{}
		for _, tb := range tables {
			var n int
			if err := e.db.Read().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM `+tb).Scan(&n); err != nil {
				t.Fatal(err)
			}
			out[tb] = n
		}
		return out
	}
	before := counts()
	young := time.Now().UTC().AddDate(-14, 0, 1).Format(time.DateOnly) // 14 tomorrow
	e.do("POST", "/api/v1/accounts", "", with(registration("young"), "birth_date", young)).want(t, 403, "age_requirement")
	after := counts()
	for tb, n := range before {
		if after[tb] != n {
			t.Errorf("table %s: %d rows before, %d after the refused registration", tb, n, after[tb])
		}
	}
	if logs := e.logText(); strings.Contains(logs, young) {
		t.Errorf("the refused birth date reached the log")
	}
	// Fourteen today is old enough.
	e.do("POST", "/api/v1/accounts", "", with(registration("fourteen"), "birth_date", time.Now().UTC().AddDate(-14, 0, 0).Format(time.DateOnly))).want(t, 201, "")
}

func TestLogin(t *testing.T) {
	e := newEnv(t)
	e.register("alice")
	ok := e.do("POST", "/api/v1/sessions", "", map[string]any{"handle": "ALICE", "password": "password-alice"}).want(t, 201, "")
	if ok.body["account"].(map[string]any)["handle"] != "alice" {
		t.Errorf("login answered %v", ok.body)
	}
	wrong := e.do("POST", "/api/v1/sessions", "", map[string]any{"handle": "alice", "password": "nope-nope"}).want(t, 401, "unauthenticated")
	unknown := e.do("POST", "/api/v1/sessions", "", map[string]any{"handle": "nobody", "password": "nope-nope"}).want(t, 401, "unauthenticated")
	if string(wrong.raw) != string(unknown.raw) {
		t.Errorf("wrong password answered %s but unknown handle %s: they must not differ", wrong.raw, unknown.raw)
	}
	e.do("POST", "/api/v1/sessions", "", map[string]any{"handle": "alice"}).want(t, 401, "unauthenticated")
}

func TestLoginRateLimits(t *testing.T) {
	e := newEnv(t, withRateLimits, func(c *envConfig) {
		c.LoginPerAccount.N = 3
		c.LoginPerIP.N = 5
	})
	e.register("target")
	for i := 0; i < 3; i++ {
		e.do("POST", "/api/v1/sessions", "", map[string]any{"handle": "target", "password": "wrong-wrong"}).want(t, 401, "unauthenticated")
	}
	res := e.do("POST", "/api/v1/sessions", "", map[string]any{"handle": "Target", "password": "password-target"}).want(t, 429, "rate_limited")
	if ra, err := strconv.Atoi(res.header.Get("Retry-After")); err != nil || ra < 1 {
		t.Errorf("Retry-After = %q, want a positive number of seconds", res.header.Get("Retry-After"))
	}
	// Another account from the same address is limited per IP after 5.
	e.do("POST", "/api/v1/sessions", "", map[string]any{"handle": "other", "password": "wrong-wrong"}).want(t, 401, "unauthenticated")
	e.do("POST", "/api/v1/sessions", "", map[string]any{"handle": "other", "password": "wrong-wrong"}).want(t, 429, "rate_limited")
}

func TestRegisterRateLimit(t *testing.T) {
	e := newEnv(t, withRateLimits, func(c *envConfig) { c.RegisterPerIP.N = 2 })
	e.register("one")
	e.register("two")
	e.do("POST", "/api/v1/accounts", "", registration("three")).want(t, 429, "rate_limited")
}

func TestClientIPBehindTrustedProxy(t *testing.T) {
	e := newEnv(t)
	e.api.cfg.TrustedProxies = mustPrefixes(t, "127.0.0.0/8", "10.0.0.0/8")
	req, _ := http.NewRequest("GET", "/", nil)
	req.RemoteAddr = "127.0.0.1:5555"
	req.Header.Set("X-Forwarded-For", "203.0.113.7, 198.51.100.2, 10.1.2.3")
	if got := e.api.clientIP(req).String(); got != "198.51.100.2" {
		t.Errorf("clientIP = %s, want 198.51.100.2 (the last untrusted hop)", got)
	}
	req.RemoteAddr = "192.0.2.1:5555" // not a trusted proxy: its header is ignored
	if got := e.api.clientIP(req).String(); got != "192.0.2.1" {
		t.Errorf("clientIP = %s, want 192.0.2.1", got)
	}
}

func TestSessions(t *testing.T) {
	e := newEnv(t)
	alice := e.register("alice")
	bob := e.register("bob")
	second := e.do("POST", "/api/v1/sessions", "", map[string]any{"handle": "alice", "password": "password-alice"}).want(t, 201, "").body["token"].(string)

	list := e.do("GET", "/api/v1/me/sessions", alice.token, nil).want(t, 200, "")
	items := list.body["items"].([]any)
	if len(items) != 2 {
		t.Fatalf("alice has %d sessions, want 2", len(items))
	}
	var other string
	for _, it := range items {
		s := it.(map[string]any)
		if s["current"] == false {
			other = s["id"].(string)
		}
	}
	// Bob cannot revoke Alice's session: it is not found for him.
	e.do("DELETE", "/api/v1/me/sessions/"+other, bob.token, nil).want(t, 404, "not_found")
	e.do("GET", "/api/v1/me", second, nil).want(t, 200, "")
	e.do("DELETE", "/api/v1/me/sessions/"+other, alice.token, nil).want(t, 204, "")
	e.do("GET", "/api/v1/me", second, nil).want(t, 401, "unauthenticated")
	e.do("DELETE", "/api/v1/me/sessions/not-an-id", alice.token, nil).want(t, 404, "not_found")

	e.do("DELETE", "/api/v1/sessions/current", alice.token, nil).want(t, 204, "")
	e.do("GET", "/api/v1/me", alice.token, nil).want(t, 401, "unauthenticated")
	e.do("GET", "/api/v1/me", bob.token, nil).want(t, 200, "")
}

func TestMe(t *testing.T) {
	e := newEnv(t)
	u := e.register("meme")
	me := e.do("GET", "/api/v1/me", u.token, nil).want(t, 200, "")
	v := me.body["verification"].(map[string]any)
	if me.body["handle"] != "meme" || v["phone"] != false || v["identity"] != "none" || len(me.body["roles"].([]any)) != 0 {
		t.Errorf("GET /me = %s", me.raw)
	}
	if terms := me.body["terms"].(map[string]any); terms["accepted_version"] != float64(1) || terms["reconsent_required"] != false {
		t.Errorf("terms state = %v, want accepted 1, no reconsent", terms)
	}
	e.do("PATCH", "/api/v1/me", u.token, map[string]any{"display_name": "  New Name "}).want(t, 200, "")
	if got := e.do("GET", "/api/v1/me", u.token, nil).body["display_name"]; got != "New Name" {
		t.Errorf("display name = %v, want New Name", got)
	}
	e.do("PATCH", "/api/v1/me", u.token, map[string]any{"display_name": strings.Repeat("長", 65)}).want(t, 400, "invalid_request")
	e.do("PATCH", "/api/v1/me", u.token, map[string]any{"handle": "renamed"}).want(t, 400, "invalid_request")
}

// TestDeleteMe: DELETE /me schedules the deletion after the grace period
// and ends every session; signing in again shows the date, scheduling
// twice is a conflict, and cancelling keeps the account. Once erased, the
// profile answers gone, nobody signs in, and the handle stays taken.
func TestDeleteMe(t *testing.T) {
	e := newEnv(t)
	u := e.register("leaver")
	other := e.register("stayer")
	e.do("DELETE", "/api/v1/me", u.token, map[string]any{}).want(t, 400, "invalid_request")
	e.do("DELETE", "/api/v1/me", u.token, map[string]any{"password": "wrong-password"}).want(t, 403, "forbidden")
	e.do("GET", "/api/v1/me", u.token, nil).want(t, 200, "")
	before := time.Now()
	r := e.do("DELETE", "/api/v1/me", u.token, map[string]any{"password": "password-leaver"}).want(t, 202, "")
	at, err := time.Parse(time.RFC3339, r.body["deletion_scheduled_at"].(string))
	if err != nil {
		t.Fatalf("deletion_scheduled_at: %v in %s", err, r.raw)
	}
	if grace := at.Sub(before); grace < 14*24*time.Hour-time.Minute || grace > 14*24*time.Hour+time.Minute {
		t.Errorf("scheduled %v ahead, want the default 14 days", grace)
	}
	e.do("GET", "/api/v1/me", u.token, nil).want(t, 401, "unauthenticated")
	e.do("GET", "/api/v1/accounts/"+u.id.String(), other.token, nil).want(t, 200, "")

	// Signing in within the grace period shows the date.
	in := e.do("POST", "/api/v1/sessions", "", map[string]any{"handle": "leaver", "password": "password-leaver"}).want(t, 201, "")
	if got := in.body["account"].(map[string]any)["deletion_scheduled_at"]; got != r.body["deletion_scheduled_at"] {
		t.Errorf("sign-in shows deletion_scheduled_at %v, want %v", got, r.body["deletion_scheduled_at"])
	}
	tok := in.body["token"].(string)
	if got := e.do("GET", "/api/v1/me", tok, nil).want(t, 200, "").body["deletion_scheduled_at"]; got != r.body["deletion_scheduled_at"] {
		t.Errorf("GET /me shows deletion_scheduled_at %v, want %v", got, r.body["deletion_scheduled_at"])
	}
	e.do("DELETE", "/api/v1/me", tok, map[string]any{"password": "password-leaver"}).want(t, 409, "conflict")

	// Cancelling keeps the account; only its owner can, once.
	e.do("POST", "/api/v1/me/deletion/cancel", "", nil).want(t, 401, "unauthenticated")
	e.do("POST", "/api/v1/me/deletion/cancel", other.token, nil).want(t, 409, "conflict")
	kept := e.do("POST", "/api/v1/me/deletion/cancel", tok, nil).want(t, 200, "")
	if _, ok := kept.body["deletion_scheduled_at"]; ok || kept.body["handle"] != "leaver" {
		t.Errorf("cancel answered %s, want the account without deletion_scheduled_at", kept.raw)
	}
	e.do("POST", "/api/v1/me/deletion/cancel", tok, nil).want(t, 409, "conflict")
	if _, ok := e.do("GET", "/api/v1/me", tok, nil).want(t, 200, "").body["deletion_scheduled_at"]; ok {
		t.Error("GET /me still shows a deletion after cancelling")
	}

	// Erased (as the job does once the grace period is over).
	e.do("DELETE", "/api/v1/me", tok, map[string]any{"password": "password-leaver"}).want(t, 202, "")
	if err := e.accounts.Erase(t.Context(), u.id); err != nil {
		t.Fatal(err)
	}
	e.do("GET", "/api/v1/accounts/"+u.id.String(), other.token, nil).want(t, 410, "gone")
	e.do("POST", "/api/v1/sessions", "", map[string]any{"handle": "leaver", "password": "password-leaver"}).want(t, 401, "unauthenticated")
	e.do("POST", "/api/v1/accounts", "", registration("leaver")).want(t, 409, "conflict")
}

func TestProfile(t *testing.T) {
	e := newEnv(t)
	a := e.register("viewer")
	b := e.register("viewed")
	res := e.do("GET", "/api/v1/accounts/"+b.id.String(), a.token, nil).want(t, 200, "")
	for _, k := range []string{"id", "handle", "display_name", "verified"} {
		if _, ok := res.body[k]; !ok {
			t.Errorf("profile lacks %q: %s", k, res.raw)
		}
	}
	for _, k := range []string{"birth_date", "roles", "legal_name", "phone"} {
		if _, ok := res.body[k]; ok {
			t.Errorf("public profile exposes %q: %s", k, res.raw)
		}
	}
	e.do("GET", "/api/v1/accounts/12345", a.token, nil).want(t, 404, "not_found")
	e.do("GET", "/api/v1/accounts/-1", a.token, nil).want(t, 404, "not_found")
}
