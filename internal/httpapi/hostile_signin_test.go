package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"testing"
)

// doFrom is do for a client at address ip, seen through a trusted proxy's
// X-Forwarded-For (the test server trusts loopback for it).
func (e *testEnv) doFrom(ip, method, path, token string, body any) resp {
	e.t.Helper()
	buf, err := json.Marshal(body)
	if err != nil {
		e.t.Fatal(err)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, bytes.NewReader(buf))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", ip)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := resp{status: res.StatusCode, header: res.Header, raw: raw}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			e.t.Fatalf("%s %s: response is not a JSON object: %v\n%s", method, path, err, raw)
		}
	}
	return r
}

// behindProxy trusts the loopback proxy, so doFrom chooses the address.
func behindProxy(c *envConfig) {
	c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
}

func TestHostileLoginLockoutFromOtherAddress(t *testing.T) {
	e := newEnv(t, withRateLimits, behindProxy)
	e.register("owner")
	const attacker, home = "203.0.113.7", "198.51.100.2"
	wrong := map[string]any{"handle": "owner", "password": "wrong-wrong"}
	for i := range 10 {
		if r := e.doFrom(attacker, "POST", "/api/v1/sessions", "", wrong); r.status != 401 {
			t.Fatalf("wrong password %d from the attacker: got %d %s, want 401", i+1, r.status, r.raw)
		}
	}
	e.doFrom(attacker, "POST", "/api/v1/sessions", "", wrong).want(t, 429, "rate_limited")
	// The owner, elsewhere, is not locked out by someone else's guesses.
	e.doFrom(home, "POST", "/api/v1/sessions", "", map[string]any{"handle": "owner", "password": "password-owner"}).want(t, 201, "")
}

func TestHostileLoginCeilingStopsDistributedGuess(t *testing.T) {
	e := newEnv(t, withRateLimits, behindProxy)
	e.register("owner")
	wrong := map[string]any{"handle": "owner", "password": "wrong-wrong"}
	ceiling := DefaultConfig().LoginPerAccount.N
	for i := range ceiling {
		ip := fmt.Sprintf("203.0.%d.%d", 113+i/250, 1+i%250)
		if r := e.doFrom(ip, "POST", "/api/v1/sessions", "", wrong); r.status != 401 {
			t.Fatalf("guess %d from %s: got %d %s, want 401", i+1, ip, r.status, r.raw)
		}
	}
	e.doFrom("192.0.2.200", "POST", "/api/v1/sessions", "", wrong).want(t, 429, "rate_limited")
}

func TestHostilePhoneVerifyRateLimited(t *testing.T) {
	e := newEnv(t, withRateLimits, behindProxy, func(c *envConfig) {
		c.PhoneVerifyPerAccount.N = 3
		c.PhoneVerifyPerIP.N = 4
	})
	a := e.register("first")
	b := e.register("second")
	guess := map[string]any{"code": "123456"}
	e.doFrom("203.0.113.9", "POST", "/api/v1/me/phone/verify", "", guess).want(t, 401, "unauthenticated")
	// Per account, whatever the address.
	for i := range 3 {
		e.doFrom(fmt.Sprintf("198.51.100.%d", i+1), "POST", "/api/v1/me/phone/verify", a.token, guess).want(t, 400, "invalid_request")
	}
	e.doFrom("198.51.100.99", "POST", "/api/v1/me/phone/verify", a.token, guess).want(t, 429, "rate_limited")
	// Per address, whatever the account: 4 entries from one place.
	for range 3 {
		e.doFrom("203.0.113.7", "POST", "/api/v1/me/phone/verify", b.token, guess).want(t, 400, "invalid_request")
	}
	c := e.register("third")
	e.doFrom("203.0.113.7", "POST", "/api/v1/me/phone/verify", c.token, guess).want(t, 400, "invalid_request")
	e.doFrom("203.0.113.7", "POST", "/api/v1/me/phone/verify", c.token, guess).want(t, 429, "rate_limited")
	e.doFrom("203.0.113.8", "POST", "/api/v1/me/phone/verify", c.token, guess).want(t, 400, "invalid_request")
}
