package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/plaza-im/plaza/internal/account"
)

// TestOpenAPICoversRoutes fails when a route in routes.go is missing from
// the OpenAPI document, or the document describes a route that does not
// exist, or the two disagree on who may call it.
func TestOpenAPICoversRoutes(t *testing.T) {
	e := newEnv(t)
	documented := map[string]operation{}
	for _, op := range operations {
		key := op.method + " " + op.path
		if _, dup := documented[key]; dup {
			t.Errorf("%s is documented twice", key)
		}
		documented[key] = op
	}
	for _, r := range e.api.routes {
		op, ok := documented[r.pattern]
		if !ok {
			t.Errorf("route %s is missing from the OpenAPI document (openapi.go)", r.pattern)
			continue
		}
		delete(documented, r.pattern)
		if (op.auth == public) != (r.access == public) || !slices.Equal(op.roles, r.roles) {
			t.Errorf("%s: documented auth %v roles %v, route has %v %v", r.pattern, op.auth, op.roles, r.access, r.roles)
		}
	}
	for key := range documented {
		t.Errorf("the OpenAPI document describes %s, which routes.go does not serve", key)
	}

	// The served document is valid JSON with every path and its schemas.
	res := e.do("GET", "/api/v1/openapi.json", "", nil).want(t, http.StatusOK, "")
	if res.body["openapi"] != "3.1.0" {
		t.Errorf("openapi = %v, want 3.1.0", res.body["openapi"])
	}
	paths := res.body["paths"].(map[string]any)
	for _, r := range e.api.routes {
		method, path, _ := strings.Cut(r.pattern, " ")
		if _, ok := paths[path].(map[string]any)[strings.ToLower(method)]; !ok {
			t.Errorf("served document lacks %s", r.pattern)
		}
	}
	refs := regexp.MustCompile(`"#/components/schemas/([A-Za-z]+)"`).FindAllStringSubmatch(string(res.raw), -1)
	schemas := res.body["components"].(map[string]any)["schemas"].(map[string]any)
	for _, m := range refs {
		if _, ok := schemas[m[1]]; !ok {
			t.Errorf("the document refers to schema %s, which it does not define", m[1])
		}
	}
}

// samplePath fills a route's path parameters with plausible values.
func samplePath(pattern string) (method, path string) {
	method, path, _ = strings.Cut(pattern, " ")
	path = strings.NewReplacer("{id}", "384509780243079168", "{role}", "moderator", "{tag}", "go").Replace(path)
	return method, path
}

// TestAnonymousCallers sends every non-public route without a token and
// with a bogus one: each must answer 401 unauthenticated and change
// nothing. Routes open to anonymous callers (public posts) refuse a bogus
// token all the same.
func TestAnonymousCallers(t *testing.T) {
	e := newEnv(t)
	for _, r := range e.api.routes {
		if r.access == public {
			continue
		}
		method, path := samplePath(r.pattern)
		t.Run(r.pattern, func(t *testing.T) {
			tokens := []string{"", "plz_not-a-real-token-but-the-right-length-000", "garbage"}
			if r.access == optional {
				if res := e.do(method, path, "", map[string]any{}); res.status == http.StatusUnauthorized {
					t.Errorf("a route open to anonymous callers answered 401 without a token")
				}
				tokens = tokens[1:]
			}
			for _, tok := range tokens {
				res := e.do(method, path, tok, map[string]any{})
				if method == "HEAD" { // no body to carry the code
					if res.status != http.StatusUnauthorized {
						t.Errorf("got %d, want 401", res.status)
					}
				} else {
					res.want(t, http.StatusUnauthorized, "unauthenticated")
				}
				if res.header.Get("WWW-Authenticate") == "" {
					t.Errorf("401 without WWW-Authenticate")
				}
			}
		})
	}
}

// TestRolesEnforced calls every role-restricted route as an ordinary user
// (403 forbidden) and checks the role table itself.
func TestRolesEnforced(t *testing.T) {
	e := newEnv(t)
	plain := e.register("plain")
	mod := e.withRole("mod", account.Moderator)
	for _, r := range e.api.routes {
		if len(r.roles) == 0 {
			continue
		}
		method, path := samplePath(r.pattern)
		t.Run(r.pattern, func(t *testing.T) {
			e.do(method, path, plain.token, map[string]any{}).want(t, http.StatusForbidden, "forbidden")
			if !slices.Contains(r.roles, account.Moderator) {
				e.do(method, path, mod.token, map[string]any{}).want(t, http.StatusForbidden, "forbidden")
			}
		})
	}
}

func TestUnknownRoutesAnswerJSON(t *testing.T) {
	e := newEnv(t)
	e.do("GET", "/api/v1/nothing-here", "", nil).want(t, http.StatusNotFound, "not_found")
	res := e.do("PUT", "/api/v1/terms", "", nil).want(t, http.StatusMethodNotAllowed, "method_not_allowed")
	if !strings.Contains(res.header.Get("Allow"), "GET") {
		t.Errorf("Allow = %q, want it to list GET", res.header.Get("Allow"))
	}
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	u := e.register("hdr")
	pub := e.do("GET", "/api/v1/terms", "", nil)
	priv := e.do("GET", "/api/v1/me", u.token, nil)
	for name, res := range map[string]resp{"public": pub, "authenticated": priv} {
		for h, want := range map[string]string{
			"X-Content-Type-Options":  "nosniff",
			"X-Frame-Options":         "DENY",
			"Referrer-Policy":         "no-referrer",
			"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
		} {
			if got := res.header.Get(h); got != want {
				t.Errorf("%s response: %s = %q, want %q", name, h, got, want)
			}
		}
		if len(res.header.Get("X-Request-Id")) != 16 {
			t.Errorf("%s response: X-Request-Id = %q, want 16 hex digits", name, res.header.Get("X-Request-Id"))
		}
	}
	if got := priv.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("authenticated response: Cache-Control = %q, want no-store", got)
	}
}

func TestHealthAndMetrics(t *testing.T) {
	e := newEnv(t)
	res := e.do("GET", "/healthz", "", nil).want(t, http.StatusOK, "")
	if res.body["status"] != "ok" {
		t.Errorf("healthz status = %v, want ok", res.body["status"])
	}
	e.do("GET", "/api/v1/terms", "", nil)
	m := e.do("GET", "/metrics", "", nil).want(t, http.StatusOK, "")
	for _, want := range []string{
		`plaza_http_requests_total{code="200",method="GET",route="GET /api/v1/terms"} 1`,
		`plaza_http_request_duration_seconds_bucket{method="GET",route="GET /api/v1/terms"`,
		`plaza_http_open_connections`,
	} {
		if !strings.Contains(string(m.raw), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

// TestHostileMadeUpMethodsShareOneSeries: a client inventing a new HTTP
// method for every request must not create metric series without end.
func TestHostileMadeUpMethodsShareOneSeries(t *testing.T) {
	e := newEnv(t)
	for i := range 20 {
		e.do(fmt.Sprintf("EVIL%d", i), "/x", "", nil)
	}
	m := string(e.do("GET", "/metrics", "", nil).want(t, http.StatusOK, "").raw)
	if strings.Contains(m, `method="EVIL`) {
		t.Errorf("a made-up method became a label value")
	}
	if !strings.Contains(m, `method="OTHER"`) {
		t.Errorf("the made-up methods are not counted as OTHER")
	}
}

func TestHealthzReportsDatabaseDown(t *testing.T) {
	e := newEnv(t)
	e.db.Close()
	res := e.do("GET", "/healthz", "", nil)
	if res.status != http.StatusServiceUnavailable {
		t.Errorf("got %d, want 503 with the database closed", res.status)
	}
}

func TestInternalErrorsAreHidden(t *testing.T) {
	e := newEnv(t)
	u := e.register("victim")
	e.db.Close()
	res := e.do("GET", "/api/v1/me", u.token, nil).want(t, http.StatusInternalServerError, "internal")
	msg := res.body["error"].(map[string]any)["message"]
	if msg != "internal error" {
		t.Errorf("message = %q, want %q", msg, "internal error")
	}
	rid, _ := res.details()["request_id"].(string)
	if rid == "" || rid != res.header.Get("X-Request-Id") {
		t.Errorf("details.request_id = %q, want the X-Request-Id %q", rid, res.header.Get("X-Request-Id"))
	}
	if logs := e.logText(); !strings.Contains(logs, `"msg":"internal error"`) || !strings.Contains(logs, rid) {
		t.Errorf("the internal error was not logged with its request ID:\n%s", logs)
	}
}

func TestListShape(t *testing.T) {
	e := newEnv(t)
	u := e.register("lister")
	res := e.do("GET", "/api/v1/me/sessions", u.token, nil).want(t, http.StatusOK, "")
	var shape struct {
		Items      []json.RawMessage `json:"items"`
		NextCursor *string           `json:"next_cursor"`
	}
	if err := json.Unmarshal(res.raw, &shape); err != nil || shape.Items == nil || shape.NextCursor == nil {
		t.Errorf("list = %s, want {\"items\": [...], \"next_cursor\": \"...\"}", res.raw)
	}
}
