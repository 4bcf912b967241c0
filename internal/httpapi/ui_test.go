package httpapi

import (
	"net/http"
	"testing"
)

// TestUIMount checks which requests reach the web client: GET and HEAD
// outside /api/, /healthz and /metrics, with the client's own CSP; the
// API keeps its JSON errors and strict CSP everywhere else.
func TestUIMount(t *testing.T) {
	const uiCSP = "default-src 'self'"
	ui := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", uiCSP)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte("<!doctype html>ui"))
	})
	e := newEnv(t, func(c *envConfig) { c.ui = ui })
	tests := []struct {
		method, path string
		status       int
		ui           bool
		code         string
	}{
		{"GET", "/", 200, true, ""},
		{"GET", "/chats/123", 200, true, ""},
		{"GET", "/add/q8Zc1vX0aLw9Rk2mNp4sTu7y", 200, true, ""},
		{"HEAD", "/settings", 200, true, ""},
		{"GET", "/assets/index-abc.js", 200, true, ""},
		{"GET", "/apifoo", 200, true, ""},
		{"POST", "/", 404, false, "not_found"},
		{"GET", "/api", 404, false, "not_found"},
		{"GET", "/api/v1/nope", 404, false, "not_found"},
		{"GET", "/api/v1/sessions", 405, false, "method_not_allowed"},
		{"GET", "/healthz/x", 404, false, "not_found"},
		{"GET", "/metrics/x", 404, false, "not_found"},
		{"GET", "/healthz", 200, false, ""},
		{"GET", "/api/v1/terms", 200, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			r := e.do(tt.method, tt.path, "", nil)
			if r.status != tt.status {
				t.Fatalf("status = %d, want %d; body %s", r.status, tt.status, r.raw)
			}
			isUI := r.header.Get("Content-Security-Policy") == uiCSP
			if isUI != tt.ui {
				t.Errorf("served by the UI = %v, want %v (CSP %q)", isUI, tt.ui, r.header.Get("Content-Security-Policy"))
			}
			if !tt.ui && r.header.Get("Content-Security-Policy") != "default-src 'none'; frame-ancestors 'none'" {
				t.Errorf("API CSP = %q, want the strict one", r.header.Get("Content-Security-Policy"))
			}
			if r.header.Get("X-Request-Id") == "" || r.header.Get("X-Frame-Options") != "DENY" {
				t.Errorf("security headers missing: %v", r.header)
			}
			if tt.code != "" {
				if got := r.code(); got != tt.code {
					t.Errorf("error code = %q, want %q", got, tt.code)
				}
			}
		})
	}

	// Without a UI, the same paths are the API's JSON 404.
	bare := newEnv(t)
	r := bare.do("GET", "/chats/123", "", nil)
	if r.status != 404 || r.code() != "not_found" {
		t.Errorf("no UI: GET /chats/123 = %d %s, want 404 not_found", r.status, r.raw)
	}
}
