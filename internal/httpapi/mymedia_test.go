package httpapi

import (
	"net/http"
	"slices"
	"testing"

	"github.com/plaza-im/plaza"
)

// GET /me/media lists only the caller's own undeleted media, newest
// first, page by page, and marks what a sent message carries.
func TestListMyMedia(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *testEnv) {
		alice, bob := e.verified("alice"), e.verified("bob")
		e.befriend(alice, bob)
		conv := e.direct(alice, bob)
		var ids []string
		for i := range 4 {
			ids = append(ids, idOf(t, e.upload(alice, "a.png", "image/png", pngFixture(t, 8+i, 8)).want(t, http.StatusCreated, "")))
		}
		theirs := idOf(t, e.upload(bob, "b.png", "image/png", pngFixture(t, 8, 8)).want(t, http.StatusCreated, ""))
		e.sendMedia(alice, conv, "m-1", "image", ids[2]).want(t, http.StatusCreated, "")
		e.do("DELETE", mediaPath(ids[0]), alice.token, nil).want(t, http.StatusNoContent, "")

		var got []string
		path := "/api/v1/me/media?limit=2"
		for range 5 {
			r := e.do("GET", path, alice.token, nil).want(t, http.StatusOK, "")
			items, _ := r.body["items"].([]any)
			for _, it := range items {
				m := it.(map[string]any)
				for _, f := range []string{"id", "kind", "content_type", "size", "width", "height", "duration_ms", "created_at", "has_thumbnail", "in_messages"} {
					if _, ok := m[f]; !ok {
						t.Errorf("listed item %v lacks %q", m, f)
					}
				}
				if m["kind"] != "image" || m["in_messages"] != (m["id"] == ids[2]) {
					t.Errorf("listed item %v: want an image, in_messages only for %s", m, ids[2])
				}
				got = append(got, m["id"].(string))
			}
			next, _ := r.body["next_cursor"].(string)
			if next == "" {
				break
			}
			path = "/api/v1/me/media?limit=2&before=" + next
		}
		if want := []string{ids[3], ids[2], ids[1]}; !slices.Equal(got, want) {
			t.Errorf("alice's media = %v, want %v (newest first, the deleted one left out)", got, want)
		}
		r := e.do("GET", "/api/v1/me/media", bob.token, nil).want(t, http.StatusOK, "")
		if items := r.body["items"].([]any); len(items) != 1 || items[0].(map[string]any)["id"] != theirs {
			t.Errorf("bob's media = %s, want only %s", r.raw, theirs)
		}
		e.do("GET", "/api/v1/me/media", "", nil).want(t, http.StatusUnauthorized, plaza.EUnauthenticated)
		for _, q := range []struct{ query, field string }{
			{"limit=0", "limit"}, {"limit=101", "limit"}, {"limit=x", "limit"}, {"before=x", "before"}, {"before=-1", "before"},
		} {
			wantField(t, e.do("GET", "/api/v1/me/media?"+q.query, alice.token, nil), q.field)
		}
	})
}
