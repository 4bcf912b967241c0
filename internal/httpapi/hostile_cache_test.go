package httpapi

import (
	"net/http"
	"testing"
)

// TestHostileMediaNotKeptAfterSignOut checks that private media never
// lands in the browser's cache, where it would outlive the session on a
// shared computer.
func TestHostileMediaNotKeptAfterSignOut(t *testing.T) {
	e := newEnv(t)
	alice := e.verified("alice")
	id := idOf(t, e.upload(alice, "photo.png", "image/png", pngFixture(t, 64, 48)).want(t, http.StatusCreated, ""))
	for _, tt := range []struct{ path, rng string }{
		{mediaPath(id), ""},
		{mediaPath(id) + "/thumbnail", ""},
		{mediaPath(id), "bytes=0-9"},
	} {
		res := e.fetch(alice.token, tt.path, tt.rng)
		if res.status != http.StatusOK && res.status != http.StatusPartialContent {
			t.Fatalf("GET %s (range %q): got %d, want 200 or 206", tt.path, tt.rng, res.status)
		}
		if got := res.header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("GET %s (range %q): Cache-Control = %q, want no-store", tt.path, tt.rng, got)
		}
	}
}
