package httpapi

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/blob"
)

// keyStore is a media store that remembers every key written, so a test
// can check that deleting an item removed all of its objects.
type keyStore struct {
	blob.Store
	mu   sync.Mutex
	keys []string
}

func (s *keyStore) Put(ctx context.Context, key string, r io.Reader, size int64, ctype string) error {
	s.mu.Lock()
	s.keys = append(s.keys, key)
	s.mu.Unlock()
	return s.Store.Put(ctx, key, r, size, ctype)
}

// objects returns the keys written for media id that are still stored.
func (s *keyStore) objects(tb testing.TB, id string) []string {
	tb.Helper()
	s.mu.Lock()
	keys := slices.Clone(s.keys)
	s.mu.Unlock()
	var out []string
	for _, k := range keys {
		if !strings.Contains(k, id) {
			continue
		}
		obj, err := s.Store.Open(context.Background(), k)
		if errors.Is(err, blob.ErrNotFound) {
			continue
		}
		if err != nil {
			tb.Fatalf("open %s: %v", k, err)
		}
		obj.Close()
		out = append(out, k)
	}
	return out
}

// Deleting media: only its uploader may; it frees the quota, removes the
// bytes and thumbnail, and a message carrying it keeps its place while the
// media answers 404 to everyone.
func TestDeleteMedia(t *testing.T) {
	var store *keyStore
	wrap := func(c *envConfig) {
		c.wrapStore = func(s blob.Store) blob.Store { store = &keyStore{Store: s}; return store }
	}
	eachEngine(t, func(t *testing.T, e *testEnv) {
		alice, bob := e.verified("alice"), e.verified("bob")
		e.befriend(alice, bob)
		conv := e.direct(alice, bob)
		id := idOf(t, e.upload(alice, "a.jpg", "image/jpeg", jpegFixture(t, 64, 64)).want(t, http.StatusCreated, ""))
		if got := store.objects(t, id); len(got) != 2 {
			t.Fatalf("stored objects for the image = %q, want the image and its thumbnail", got)
		}
		msg := e.sendMedia(alice, conv, "m-1", "image", id).want(t, http.StatusCreated, "")
		e.fetch(bob.token, mediaPath(id), "").want(t, http.StatusOK, "")
		if used := e.do("GET", "/api/v1/me/media-usage", alice.token, nil).want(t, http.StatusOK, "").body["used_bytes"]; used == float64(0) {
			t.Fatalf("used_bytes after the upload = %v, want more than 0", used)
		}

		// Nobody but the uploader may delete it, and trying reveals nothing.
		e.do("DELETE", mediaPath(id), "", nil).want(t, http.StatusUnauthorized, plaza.EUnauthenticated)
		e.do("DELETE", mediaPath(id), bob.token, nil).want(t, http.StatusNotFound, plaza.ENotFound)
		e.fetch(alice.token, mediaPath(id), "").want(t, http.StatusOK, "")
		for _, p := range []string{plaza.NewID().String(), "not-an-id"} {
			e.do("DELETE", mediaPath(p), alice.token, nil).want(t, http.StatusNotFound, plaza.ENotFound)
		}

		e.do("DELETE", mediaPath(id), alice.token, nil).want(t, http.StatusNoContent, "")
		if used := e.do("GET", "/api/v1/me/media-usage", alice.token, nil).want(t, http.StatusOK, "").body["used_bytes"]; used != float64(0) {
			t.Errorf("used_bytes after the delete = %v, want 0", used)
		}
		if got := store.objects(t, id); len(got) != 0 {
			t.Errorf("objects left in the store after the delete: %q, want none", got)
		}
		for _, u := range []user{alice, bob} {
			for _, p := range []string{mediaPath(id), mediaPath(id) + "/thumbnail"} {
				e.fetch(u.token, p, "").want(t, http.StatusNotFound, plaza.ENotFound)
			}
		}
		// The message stays, naming the media it carried.
		hist := e.do("GET", "/api/v1/conversations/"+conv+"/messages", bob.token, nil).want(t, http.StatusOK, "")
		items, _ := hist.body["items"].([]any)
		found := false
		for _, it := range items {
			m, _ := it.(map[string]any)
			if m["id"] == msg.body["id"] && m["media_id"] == id {
				found = true
			}
		}
		if !found {
			t.Errorf("history after the delete = %s, want message %v with media_id %s", hist.raw, msg.body["id"], id)
		}
		// It cannot be attached again, nor deleted twice.
		wantField(t, e.sendMedia(alice, conv, "m-2", "image", id), "media_id")
		e.do("DELETE", mediaPath(id), alice.token, nil).want(t, http.StatusNotFound, plaza.ENotFound)
	}, wrap)
}
