package httpapi

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/hmacsig"
)

// lastCode returns the code of the newest message in the SMS outbox sent
// to phone.
func (e *testEnv) lastCode(phone string) string {
	e.t.Helper()
	f, err := os.Open(e.outbox)
	if err != nil {
		e.t.Fatal(err)
	}
	defer f.Close()
	code := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m struct{ To, Code string }
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			e.t.Fatal(err)
		}
		if m.To == phone {
			code = m.Code
		}
	}
	if code == "" {
		e.t.Fatalf("no code was sent to %s", phone)
	}
	return code
}

// verifyPhone takes u through phone verification with phone.
func (e *testEnv) verifyPhone(u user, phone string) {
	e.t.Helper()
	e.do("POST", "/api/v1/me/phone", u.token, map[string]any{"phone": phone}).want(e.t, http.StatusAccepted, "")
	e.do("POST", "/api/v1/me/phone/verify", u.token, map[string]any{"code": e.lastCode(phone)}).want(e.t, http.StatusOK, "")
}

const validCNID = "11010519491231002X"

func TestPhoneVerification(t *testing.T) {
	e := newEnv(t)
	u := e.register("phoney")
	e.do("POST", "/api/v1/me/phone", u.token, map[string]any{"phone": "12345"}).want(t, 400, "invalid_request")
	res := e.do("POST", "/api/v1/me/phone", u.token, map[string]any{"phone": "+86 138 0013 8000"}).want(t, 202, "")
	if res.body["status"] != "sent" || res.body["expires_at"] == nil {
		t.Errorf("POST /me/phone = %s", res.raw)
	}
	code := e.lastCode("+8613800138000")
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	bad := e.do("POST", "/api/v1/me/phone/verify", u.token, map[string]any{"code": wrong}).want(t, 400, "invalid_request")
	if !strings.Contains(string(bad.raw), "4 attempts left") {
		t.Errorf("wrong code answered %s, want the attempts left", bad.raw)
	}
	e.do("POST", "/api/v1/me/phone", u.token, map[string]any{"phone": "+8613800138000"}).want(t, 429, "rate_limited")
	ok := e.do("POST", "/api/v1/me/phone/verify", u.token, map[string]any{"code": code}).want(t, 200, "")
	if ok.body["phone"] != true {
		t.Errorf("verify answered %s", ok.raw)
	}
	if v := e.do("GET", "/api/v1/me", u.token, nil).body["verification"].(map[string]any); v["phone"] != true || v["identity"] != "none" {
		t.Errorf("GET /me verification = %v", v)
	}
	// One account per number.
	other := e.register("second")
	e.do("POST", "/api/v1/me/phone", other.token, map[string]any{"phone": "+8613800138000"}).want(t, 409, "conflict")
	e.do("POST", "/api/v1/me/phone/verify", other.token, map[string]any{"code": "123456"}).want(t, 400, "invalid_request")
}

func TestPhoneRateLimits(t *testing.T) {
	e := newEnv(t, withRateLimits, func(c *envConfig) { c.PhonePerNumber.N = 1 })
	a := e.register("first")
	b := e.register("second")
	e.do("POST", "/api/v1/me/phone", a.token, map[string]any{"phone": "+8613811112222"}).want(t, 202, "")
	e.do("POST", "/api/v1/me/phone", b.token, map[string]any{"phone": "+8613811112222"}).want(t, 429, "rate_limited")
}

func TestIdentityContract(t *testing.T) {
	e := newEnv(t)
	officer := e.withRole("officer", account.Compliance)
	reviewer := e.withRole("reviewer", account.Reviewer)
	u := e.register("citizen")
	sub := map[string]any{"legal_name": "Zhang Wei", "document_type": "national_id", "document_number": validCNID, "document_country": "CN"}

	need := e.do("POST", "/api/v1/me/identity", u.token, sub).want(t, 403, "verification_required")
	if need.details()["level"] != "phone" {
		t.Errorf("details.level = %v, want phone", need.details()["level"])
	}
	e.verifyPhone(u, "+8613900139000")

	bad := e.do("POST", "/api/v1/me/identity", u.token, with(sub, "document_number", "110105194912310021")).want(t, 400, "invalid_request")
	if f := bad.details()["fields"].([]any)[0].(map[string]any); f["field"] != "document_number" || !strings.Contains(f["rule"].(string), "check digit") {
		t.Errorf("bad check digit answered %s", bad.raw)
	}
	e.do("POST", "/api/v1/me/identity", u.token, with(sub, "document_type", "driving_licence")).want(t, 400, "invalid_request")

	res := e.do("POST", "/api/v1/me/identity", u.token, sub).want(t, 202, "")
	if res.body["status"] != "pending" {
		t.Errorf("submit answered %s", res.raw)
	}
	idID := res.body["id"].(string)
	e.do("POST", "/api/v1/me/identity", u.token, sub).want(t, 409, "conflict")
	if v := e.do("GET", "/api/v1/me", u.token, nil).body["verification"].(map[string]any); v["identity"] != "pending" {
		t.Errorf("verification = %v, want identity pending", v)
	}

	// Only compliance sees the queue.
	e.do("GET", "/api/v1/admin/identity-reviews?status=pending", reviewer.token, nil).want(t, 403, "forbidden")
	e.do("GET", "/api/v1/admin/identity-reviews?status=pending", u.token, nil).want(t, 403, "forbidden")
	e.do("GET", "/api/v1/admin/identity-reviews?status=pending", "", nil).want(t, 401, "unauthenticated")
	e.do("GET", "/api/v1/admin/identity-reviews?status=bogus", officer.token, nil).want(t, 400, "invalid_request")
	q := e.do("GET", "/api/v1/admin/identity-reviews?status=pending", officer.token, nil).want(t, 200, "")
	items := q.body["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("queue has %d items, want 1", len(items))
	}
	it := items[0].(map[string]any)
	for k, want := range map[string]any{"id": idID, "account_id": u.id.String(), "legal_name": "Zhang Wei", "document_type": "national_id", "document_number": validCNID} {
		if it[k] != want {
			t.Errorf("review item %s = %v, want %v", k, it[k], want)
		}
	}
	if it["submitted_at"] == nil {
		t.Error("review item lacks submitted_at")
	}

	dpath := "/api/v1/admin/identity-reviews/" + idID + "/decision"
	e.do("POST", dpath, reviewer.token, map[string]any{"approve": true}).want(t, 403, "forbidden")
	e.do("POST", dpath, u.token, map[string]any{"approve": true}).want(t, 403, "forbidden")
	e.do("POST", dpath, "", map[string]any{"approve": true}).want(t, 401, "unauthenticated")
	e.do("POST", dpath, officer.token, map[string]any{}).want(t, 400, "invalid_request")
	e.do("POST", "/api/v1/admin/identity-reviews/99/decision", officer.token, map[string]any{"approve": true}).want(t, 404, "not_found")
	e.do("POST", dpath, officer.token, map[string]any{"approve": true, "reason": "Document checked"}).want(t, 200, "")
	e.do("POST", dpath, officer.token, map[string]any{"approve": false, "reason": "again"}).want(t, 409, "conflict")

	if v := e.do("GET", "/api/v1/me", u.token, nil).body["verification"].(map[string]any); v["identity"] != "verified" {
		t.Errorf("verification = %v, want identity verified", v)
	}
	if p := e.do("GET", "/api/v1/accounts/"+u.id.String(), reviewer.token, nil).want(t, 200, ""); p.body["verified"] != true {
		t.Errorf("public profile = %s, want verified true", p.raw)
	}
	mine := e.do("GET", "/api/v1/me/identity", u.token, nil).want(t, 200, "")
	if mine.body["status"] != "verified" {
		t.Errorf("GET /me/identity = %s", mine.raw)
	}
	e.do("GET", "/api/v1/me/identity", reviewer.token, nil).want(t, 404, "not_found")
}

func TestIdentityRejectionShowsReason(t *testing.T) {
	e := newEnv(t)
	officer := e.withRole("officer", account.Compliance)
	u := e.register("blurry")
	e.verifyPhone(u, "+8613700137000")
	id := e.do("POST", "/api/v1/me/identity", u.token, map[string]any{"legal_name": "Li Na", "document_type": "passport", "document_number": "E12345678", "document_country": "CN"}).want(t, 202, "").body["id"].(string)
	e.do("POST", "/api/v1/admin/identity-reviews/"+id+"/decision", officer.token, map[string]any{"approve": false}).want(t, 400, "invalid_request")
	e.do("POST", "/api/v1/admin/identity-reviews/"+id+"/decision", officer.token, map[string]any{"approve": false, "reason": "The photo page is unreadable"}).want(t, 200, "")
	v := e.do("GET", "/api/v1/me", u.token, nil).body["verification"].(map[string]any)
	if v["identity"] != "rejected" || v["identity_reason"] != "The photo page is unreadable" {
		t.Errorf("verification = %v", v)
	}
	// A rejected person may try again.
	e.do("POST", "/api/v1/me/identity", u.token, map[string]any{"legal_name": "Li Na", "document_type": "passport", "document_number": "E12345679", "document_country": "CN"}).want(t, 202, "")
}

// TestLegalIdentityNeverLeaks runs the whole flow with canary values and
// checks that no log line and no response outside the compliance queue
// contains them or the phone number.
func TestLegalIdentityNeverLeaks(t *testing.T) {
	e := newEnv(t)
	admin := e.withRole("admin", account.Admin)
	officer := e.withRole("officer", account.Compliance)
	u := e.register("canary")
	const name, phone = "CANARYNAME Qian", "+8613512345678"
	e.verifyPhone(u, phone)
	var seen []resp
	seen = append(seen, e.do("POST", "/api/v1/me/identity", u.token, map[string]any{"legal_name": name, "document_type": "national_id", "document_number": "x" + validCNID, "document_country": "CN"}))
	seen = append(seen, e.do("POST", "/api/v1/me/identity", u.token, map[string]any{"legal_name": name, "document_type": "national_id", "document_number": validCNID, "document_country": "CN"}))
	id := seen[len(seen)-1].body["id"].(string)
	e.do("GET", "/api/v1/admin/identity-reviews", officer.token, nil).want(t, 200, "")
	seen = append(seen,
		e.do("POST", "/api/v1/admin/identity-reviews/"+id+"/decision", officer.token, map[string]any{"approve": true}),
		e.do("GET", "/api/v1/me", u.token, nil),
		e.do("GET", "/api/v1/me/identity", u.token, nil),
		e.exportZip(u),
		e.do("GET", "/api/v1/accounts/"+u.id.String(), admin.token, nil),
		e.do("GET", "/api/v1/admin/accounts/"+u.id.String(), admin.token, nil),
		e.do("GET", "/api/v1/admin/audit-log?limit=1000", admin.token, nil),
		e.do("POST", "/api/v1/me/phone", u.token, map[string]any{"phone": phone}),
		e.do("POST", "/api/v1/me/phone", e.register("copycat").token, map[string]any{"phone": phone}),
	)
	for _, canary := range []string{"CANARYNAME", validCNID, "13512345678"} {
		for i, r := range seen {
			if bytes.Contains(r.raw, []byte(canary)) {
				t.Errorf("response %d contains %q: %s", i, canary, r.raw)
			}
		}
		if strings.Contains(e.logText(), canary) {
			t.Errorf("the log contains %q", canary)
		}
	}
	// The audit log records each read of the legal name.
	log := e.do("GET", "/api/v1/admin/audit-log", admin.token, nil).body["items"].([]any)
	reads := 0
	for _, it := range log {
		if it.(map[string]any)["action"] == "identity.read" {
			reads++
		}
	}
	if reads != 1 {
		t.Errorf("%d identity.read audit entries, want 1", reads)
	}
}

func TestIdentityWebhook(t *testing.T) {
	secret := []byte("provider-secret-123456")
	e := newEnv(t, func(c *envConfig) { c.IdentityProviders = map[string][]byte{"acme": secret} })
	u := e.register("remote")
	e.verifyPhone(u, "+8613600136000")
	id := e.do("POST", "/api/v1/me/identity", u.token, map[string]any{"legal_name": "Wang Fang", "document_type": "national_id", "document_number": validCNID, "document_country": "CN"}).want(t, 202, "").body["id"].(string)

	send := func(provider string, body []byte, key []byte, at time.Time, sign bool) resp {
		t.Helper()
		req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/webhooks/identity/"+provider, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if sign {
			ts, sig := hmacsig.Header(key, at, body)
			req.Header.Set(hmacsig.TimestampHeader, ts)
			req.Header.Set(hmacsig.SignatureHeader, sig)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var r resp
		r.status = res.StatusCode
		_ = json.NewDecoder(res.Body).Decode(&r.body)
		return r
	}
	body := []byte(`{"identity_id":"` + id + `","approve":true,"reason":"matched"}`)
	now := time.Now()
	for name, r := range map[string]resp{
		"unsigned":         send("acme", body, secret, now, false),
		"wrong secret":     send("acme", body, []byte("guess-guess-guess"), now, true),
		"unknown provider": send("other", body, secret, now, true),
		"stale":            send("acme", body, secret, now.Add(-10*time.Minute), true),
	} {
		if r.status != 401 || r.code() != "unauthenticated" {
			t.Errorf("%s: got %d %q, want 401 unauthenticated", name, r.status, r.code())
		}
	}
	if v := e.do("GET", "/api/v1/me", u.token, nil).body["verification"].(map[string]any); v["identity"] != "pending" {
		t.Fatalf("after refused webhooks identity = %v, want still pending", v["identity"])
	}
	if r := send("acme", []byte(`{"identity_id":"`+id+`"}`), secret, now, true); r.status != 400 {
		t.Errorf("decision without approve: got %d, want 400", r.status)
	}
	if r := send("acme", body, secret, now, true); r.status != 200 || r.body["status"] != "verified" {
		t.Errorf("signed webhook: got %d %v, want 200 verified", r.status, r.body)
	}
	if v := e.do("GET", "/api/v1/me", u.token, nil).body["verification"].(map[string]any); v["identity"] != "verified" {
		t.Errorf("identity = %v, want verified", v["identity"])
	}
}

func TestVerificationPolicyIsPublished(t *testing.T) {
	e := newEnv(t)
	p := e.do("GET", "/api/v1/verification-policy", "", nil).want(t, 200, "")
	if p.body["message.send"] != "phone" || p.body["channel.apply"] != "identity" {
		t.Errorf("policy = %s", p.raw)
	}
}

func TestDeletingAccountRemovesIdentity(t *testing.T) {
	e := newEnv(t)
	u := e.register("goner")
	e.verifyPhone(u, "+8613300133000")
	e.do("POST", "/api/v1/me/identity", u.token, map[string]any{"legal_name": "Zhao Lei", "document_type": "national_id", "document_number": validCNID, "document_country": "CN"}).want(t, 202, "")
	e.do("DELETE", "/api/v1/me", u.token, map[string]any{"password": "password-goner"}).want(t, 202, "")
	if err := e.accounts.Erase(t.Context(), u.id); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"identities", "phones", "phone_challenges"} {
		var n int
		if err := e.db.Read().QueryRowContext(t.Context(), `SELECT COUNT(*) FROM `+table+` WHERE account_id = $1`, u.id).Scan(&n); err != nil || n != 0 {
			t.Errorf("%s: %d rows left (err %v), want 0", table, n, err)
		}
	}
}
