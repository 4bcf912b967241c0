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

// Deleting media: only its uploader may; it frees the quota at once and
// cannot be attached again, but a sent message keeps carrying it for the
// conversation (the uploader too, as a member) until the message is
// recalled; then it answers 404 to everyone and the sweep removes the
// bytes and thumbnail.
func TestDeleteMedia(t *testing.T) {
	var store *keyStore
	wrap := func(c *envConfig) {
		c.wrapStore = func(s blob.Store) blob.Store { store = &keyStore{Store: s}; return store }
	}
	eachEngine(t, func(t *testing.T, e *testEnv) {
		alice, bob, carol := e.verified("alice"), e.verified("bob"), e.verified("carol")
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
		e.do("DELETE", mediaPath(id), carol.token, nil).want(t, http.StatusNotFound, plaza.ENotFound)
		e.fetch(alice.token, mediaPath(id), "").want(t, http.StatusOK, "")
		for _, p := range []string{plaza.NewID().String(), "not-an-id"} {
			e.do("DELETE", mediaPath(p), alice.token, nil).want(t, http.StatusNotFound, plaza.ENotFound)
		}

		e.do("DELETE", mediaPath(id), alice.token, nil).want(t, http.StatusNoContent, "")
		if used := e.do("GET", "/api/v1/me/media-usage", alice.token, nil).want(t, http.StatusOK, "").body["used_bytes"]; used != float64(0) {
			t.Errorf("used_bytes after the delete = %v, want 0", used)
		}
		// The conversation still reads it, the uploader as a member;
		// nobody else does.
		for _, u := range []user{alice, bob} {
			for _, p := range []string{mediaPath(id), mediaPath(id) + "/thumbnail"} {
				e.fetch(u.token, p, "").want(t, http.StatusOK, "")
			}
		}
		e.fetch(carol.token, mediaPath(id), "").want(t, http.StatusNotFound, plaza.ENotFound)
		if got := store.objects(t, id); len(got) != 2 {
			t.Errorf("stored objects while a message carries the deleted image = %q, want both", got)
		}
		if items := e.do("GET", "/api/v1/me/media", alice.token, nil).want(t, http.StatusOK, "").body["items"].([]any); len(items) != 0 {
			t.Errorf("GET /me/media after the delete lists %v, want nothing", items)
		}
		// It cannot be attached again, nor deleted twice.
		wantField(t, e.sendMedia(alice, conv, "m-2", "image", id), "media_id")
		e.do("DELETE", mediaPath(id), alice.token, nil).want(t, http.StatusNotFound, plaza.ENotFound)

		// Recalled, no message carries it: gone for everyone, then swept.
		mid, _ := msg.body["id"].(string)
		e.do("POST", "/api/v1/conversations/"+conv+"/messages/"+mid+"/recall", alice.token, nil).want(t, http.StatusOK, "")
		for _, u := range []user{alice, bob} {
			for _, p := range []string{mediaPath(id), mediaPath(id) + "/thumbnail"} {
				e.fetch(u.token, p, "").want(t, http.StatusNotFound, plaza.ENotFound)
			}
		}
		if n, err := e.api.media.SweepReleased(context.Background()); err != nil || n != 1 {
			t.Errorf("sweep after the recall: removed %d, %v; want 1", n, err)
		}
		if got := store.objects(t, id); len(got) != 0 {
			t.Errorf("objects left in the store after the recall and the sweep: %q, want none", got)
		}
	}, wrap)
}

// Deleting media no message carries removes it, bytes and all, at once;
// in a post, deleted means gone for the post's readers too.
func TestDeleteUnsentMedia(t *testing.T) {
	var store *keyStore
	wrap := func(c *envConfig) {
		c.wrapStore = func(s blob.Store) blob.Store { store = &keyStore{Store: s}; return store }
	}
	eachEngine(t, func(t *testing.T, e *testEnv) {
		author, follower := e.verified("author"), e.verified("follower")
		unsent := idOf(t, e.upload(author, "a.png", "image/png", pngFixture(t, 8, 8)).want(t, http.StatusCreated, ""))
		e.do("DELETE", mediaPath(unsent), author.token, nil).want(t, http.StatusNoContent, "")
		if got := store.objects(t, unsent); len(got) != 0 {
			t.Errorf("objects left after deleting unsent media: %q, want none", got)
		}
		e.fetch(author.token, mediaPath(unsent), "").want(t, http.StatusNotFound, plaza.ENotFound)

		e.followAccount(follower, author)
		posted := idOf(t, e.upload(author, "b.png", "image/png", pngFixture(t, 8, 8)).want(t, http.StatusCreated, ""))
		e.newPost(author, map[string]any{"media_ids": []string{posted}, "visibility": "followers"}).want(t, http.StatusCreated, "")
		e.fetch(follower.token, mediaPath(posted), "").want(t, http.StatusOK, "")
		e.do("DELETE", mediaPath(posted), author.token, nil).want(t, http.StatusNoContent, "")
		for _, u := range []user{author, follower} {
			e.fetch(u.token, mediaPath(posted), "").want(t, http.StatusNotFound, plaza.ENotFound)
		}
		if got := store.objects(t, posted); len(got) != 0 {
			t.Errorf("objects left after deleting media in a post: %q, want none", got)
		}
	}, wrap)
}

// Concurrent deletes of one item: one answers 204, the rest 404.
func TestHostileConcurrentMediaDeletes(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *testEnv) {
		alice, bob := e.verified("alice"), e.verified("bob")
		e.befriend(alice, bob)
		conv := e.direct(alice, bob)
		id := idOf(t, e.upload(alice, "a.png", "image/png", pngFixture(t, 8, 8)).want(t, http.StatusCreated, ""))
		e.sendMedia(alice, conv, "m-1", "image", id).want(t, http.StatusCreated, "")
		const n = 6
		codes := make([]int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, err := http.NewRequest("DELETE", e.srv.URL+mediaPath(id), nil)
				if err != nil {
					t.Error(err)
					return
				}
				req.Header.Set("Authorization", "Bearer "+alice.token)
				res, err := e.srv.Client().Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				res.Body.Close()
				codes[i] = res.StatusCode
			}()
		}
		wg.Wait()
		deleted := 0
		for _, c := range codes {
			switch c {
			case http.StatusNoContent:
				deleted++
			case http.StatusNotFound:
			default:
				t.Errorf("a concurrent delete answered %d, want 204 or 404", c)
			}
		}
		if deleted != 1 {
			t.Errorf("%d of %d concurrent deletes answered 204 (%v), want exactly 1", deleted, n, codes)
		}
		e.fetch(bob.token, mediaPath(id), "").want(t, http.StatusOK, "")
	})
}
