package webui

import (
	"strings"
	"testing"
)

// TestHostileCSPConnectsOnlyToOwnOrigin fails when the web client may open
// connections (fetch, WebSocket) to any host but its own: a script that
// slipped in could otherwise send what it reads to a host of its choosing.
// Under CSP Level 3, 'self' also covers ws: and wss: to the same host.
func TestHostileCSPConnectsOnlyToOwnOrigin(t *testing.T) {
	var connect []string
	for _, d := range strings.Split(ContentSecurityPolicy, ";") {
		f := strings.Fields(d)
		if len(f) > 0 && f[0] == "connect-src" {
			if connect != nil {
				t.Fatalf("policy %q has connect-src twice", ContentSecurityPolicy)
			}
			connect = f[1:]
		}
	}
	if len(connect) != 1 || connect[0] != "'self'" {
		t.Errorf("connect-src = %q, want only 'self'", connect)
	}
}
