package httpapi

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"strings"
	"testing"

	"github.com/plaza-im/plaza/internal/bus"
)

// TestRequestID checks that a sane X-Request-Id from a trusted proxy is
// kept, echoed, logged and put in the request's context for the bus, and
// that anything else, and any ID from an untrusted peer, is replaced by a
// fresh ID.
func TestRequestID(t *testing.T) {
	// httptest's requests come from 192.0.2.1.
	e := newEnv(t, func(c *envConfig) { c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")} })
	untrusted := newEnv(t)
	fresh := regexp.MustCompile(`^[0-9a-f]{16}$`)
	for _, tc := range []struct {
		name, sent string
		kept       bool
	}{
		{"absent", "", false},
		{"uuid", "3f2c9a1e-6b7d-4e21-9c3a-0d5e8f7a6b41", true},
		{"dots and underscores", "lb.eu_1.abc-DEF", true},
		{"64 characters", strings.Repeat("a", 64), true},
		{"65 characters", strings.Repeat("a", 65), false},
		{"space", "a b", false},
		{"quote", `a"b`, false},
		{"slash", "a/b", false},
		{"non-ASCII", "ид", false},
		{"equals", "request_id=forged", false},
		{"sane, from an untrusted peer", "3f2c9a1e-6b7d-4e21-9c3a-0d5e8f7a6b41", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var inCtx string
			env := e
			if strings.Contains(tc.name, "untrusted") {
				env = untrusted
			}
			h := env.api.outer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				inCtx = bus.RequestID(r.Context())
			}))
			req := httptest.NewRequest("GET", "/healthz", nil)
			if tc.sent != "" {
				req.Header.Set("X-Request-Id", tc.sent)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			got := rec.Header().Get("X-Request-Id")
			if tc.kept && got != tc.sent {
				t.Errorf("X-Request-Id: got %q, want %q echoed", got, tc.sent)
			}
			if !tc.kept && !fresh.MatchString(got) {
				t.Errorf("X-Request-Id: got %q, want a fresh one of 16 hex digits", got)
			}
			if inCtx != got {
				t.Errorf("request ID in the context: got %q, want %q", inCtx, got)
			}
			if !strings.Contains(env.logText(), `"request_id":"`+got+`"`) {
				t.Errorf("access log does not name request %q", got)
			}
		})
	}
}
