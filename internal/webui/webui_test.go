//go:build !noui

package webui

import (
	"io/fs"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHandler(t *testing.T) {
	// The entry script; the other chunks (each language's catalogue) are
	// imported by it, not named in index.html.
	assets, err := fs.Glob(dist, "dist/assets/index-*.js")
	if err != nil || len(assets) == 0 {
		t.Fatalf("no built script in dist/assets (run make web): %v", err)
	}
	script := strings.TrimPrefix(assets[0], "dist")
	h := Handler()
	tests := []struct {
		method, path string
		status       int
		contentType  string
		cache        string
		bodyHas      string
	}{
		{"GET", "/", 200, "text/html; charset=utf-8", "no-cache", `<div id="app">`},
		{"GET", "/index.html", 200, "text/html; charset=utf-8", "no-cache", `<div id="app">`},
		{"GET", "/chats/384509780243079168", 200, "text/html; charset=utf-8", "no-cache", `<div id="app">`},
		{"GET", "/settings?x=1", 200, "text/html; charset=utf-8", "no-cache", script},
		{"GET", "/add/q8Zc1vX0aLw9Rk2mNp4sTu7y", 200, "text/html; charset=utf-8", "no-cache", `<div id="app">`},
		{"GET", script, 200, "text/javascript; charset=utf-8", "public, max-age=31536000, immutable", ""},
		{"HEAD", script, 200, "text/javascript; charset=utf-8", "public, max-age=31536000, immutable", ""},
		{"GET", "/assets/missing-0000.js", 404, "text/plain; charset=utf-8", "no-store", "not found"},
		{"GET", "/manifest.webmanifest", 200, "application/manifest+json", "no-cache", `"start_url"`},
		{"GET", "/icons/icon-192.png", 200, "image/png", "no-cache", ""},
		// The service worker is revalidated on every load, so a new release
		// reaches browsers that keep the old shell.
		{"GET", "/sw.js", 200, "text/javascript; charset=utf-8", "no-cache", "addEventListener('fetch'"},
		{"GET", "/../../etc/passwd", 200, "text/html; charset=utf-8", "no-cache", `<div id="app">`},
		{"POST", "/", 405, "text/plain; charset=utf-8", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d", rec.Code, tt.status)
			}
			if got := rec.Header().Get("Content-Type"); got != tt.contentType {
				t.Errorf("Content-Type = %q, want %q", got, tt.contentType)
			}
			if got := rec.Header().Get("Cache-Control"); got != tt.cache {
				t.Errorf("Cache-Control = %q, want %q", got, tt.cache)
			}
			if got := rec.Header().Get("Content-Security-Policy"); got != ContentSecurityPolicy {
				t.Errorf("Content-Security-Policy = %q, want the app's policy", got)
			}
			if !strings.Contains(rec.Body.String(), tt.bodyHas) {
				t.Errorf("body lacks %q", tt.bodyHas)
			}
			if tt.method == "HEAD" && rec.Body.Len() != 0 {
				t.Errorf("HEAD answered a body of %d bytes", rec.Body.Len())
			}
		})
	}
}

// TestBuildKeepsCSP fails when the built index.html carries an inline
// script or style, which the Content-Security-Policy would block.
func TestBuildKeepsCSP(t *testing.T) {
	b, err := fs.ReadFile(dist, "dist/index.html")
	if err != nil {
		t.Fatal(err)
	}
	html := string(b)
	for _, bad := range []string{"<script>", "<script type=\"module\">", "<style", " style=", "onload="} {
		if strings.Contains(html, bad) {
			t.Errorf("dist/index.html contains %q, which script-src/style-src 'self' blocks", bad)
		}
	}
}
