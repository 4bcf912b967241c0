package httpapi

import (
	"bytes"
	"encoding/json"
	"image"
	_ "image/jpeg" // decodes the photos served
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/plaza-im/plaza/internal/ratelimit"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// missBody is an error response without what differs per request.
func missBody(r resp) map[string]any {
	e, _ := r.body["error"].(map[string]any)
	return map[string]any{"status": r.status, "code": e["code"], "message": e["message"], "details": e["details"]}
}

func TestLookupByHandle(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *testEnv) {
		alice, bob := e.register("alice"), e.register("bob")
		e.do("GET", "/api/v1/accounts/lookup?handle=alice", "", nil).want(t, http.StatusUnauthorized, "unauthenticated")

		r := e.do("GET", "/api/v1/accounts/lookup?handle=%20ALICE", bob.token, nil).want(t, http.StatusOK, "")
		if r.body["id"] != alice.id.String() || r.body["handle"] != "alice" || r.body["avatar_url"] != nil {
			t.Fatalf("found %s, want alice's profile without a photo", r.raw)
		}
		if _, ok := r.body["avatar_url"]; !ok {
			t.Errorf("profile lacks avatar_url: %s", r.raw)
		}
		for _, k := range []string{"phone", "birth_date", "legal_name", "language"} {
			if _, ok := r.body[k]; ok {
				t.Errorf("the public profile shows %s: %s", k, r.raw)
			}
		}
		unknown := missBody(e.do("GET", "/api/v1/accounts/lookup?handle=nobody", bob.token, nil).want(t, http.StatusNotFound, "not_found"))

		for _, q := range []string{"", "?handle=alice&phone=%2B8613800138000", "?handle=alice&handle=bob", "?handle=a%20b"} {
			e.do("GET", "/api/v1/accounts/lookup"+q, bob.token, nil).want(t, http.StatusBadRequest, "invalid_request")
		}

		// Hidden by its owner: the same 404 as nobody.
		e.do("PATCH", "/api/v1/me/privacy", alice.token, map[string]any{"find_by_handle": false}).want(t, http.StatusOK, "")
		hidden := missBody(e.do("GET", "/api/v1/accounts/lookup?handle=alice", bob.token, nil).want(t, http.StatusNotFound, "not_found"))
		if diff := cmp.Diff(unknown, hidden); diff != "" {
			t.Errorf("hidden and unknown handles answer differently (-unknown +hidden):\n%s", diff)
		}
		e.do("PATCH", "/api/v1/me/privacy", alice.token, map[string]any{"find_by_handle": true}).want(t, http.StatusOK, "")
		e.do("GET", "/api/v1/accounts/lookup?handle=alice", bob.token, nil).want(t, http.StatusOK, "")

		// alice blocks bob: bob no longer finds her.
		e.do("POST", "/api/v1/blocks", alice.token, map[string]any{"account_id": bob.id.String()}).want(t, http.StatusNoContent, "")
		blocked := missBody(e.do("GET", "/api/v1/accounts/lookup?handle=alice", bob.token, nil).want(t, http.StatusNotFound, "not_found"))
		if diff := cmp.Diff(unknown, blocked); diff != "" {
			t.Errorf("a blocker and an unknown handle answer differently (-unknown +blocked):\n%s", diff)
		}
		// The blocker still finds the person she blocked.
		e.do("GET", "/api/v1/accounts/lookup?handle=bob", alice.token, nil).want(t, http.StatusOK, "")
	})
}

func TestLookupByPhone(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *testEnv) {
		alice, bob, carol := e.register("alice"), e.register("bob"), e.register("carol")
		const number = "+8613800138000"
		e.verifyPhone(alice, number)
		q := "/api/v1/accounts/lookup?phone=" + url.QueryEscape(number)

		// Hidden by default: the same 404 as a number nobody has.
		hidden := missBody(e.do("GET", q, bob.token, nil).want(t, http.StatusNotFound, "not_found"))
		unknown := missBody(e.do("GET", "/api/v1/accounts/lookup?phone="+url.QueryEscape("+8613900139000"), bob.token, nil).want(t, http.StatusNotFound, "not_found"))
		if diff := cmp.Diff(unknown, hidden); diff != "" {
			t.Errorf("hidden and unknown numbers answer differently (-unknown +hidden):\n%s", diff)
		}

		r := e.do("PATCH", "/api/v1/me/privacy", alice.token, map[string]any{"find_by_phone": true}).want(t, http.StatusOK, "")
		if want := map[string]any{"find_by_phone": true, "find_by_handle": true}; !cmp.Equal(r.body, want) {
			t.Errorf("privacy = %s, want %v", r.raw, want)
		}
		for _, path := range []string{q, "/api/v1/accounts/lookup?phone=" + url.QueryEscape("+86 138 0013 8000"), "/api/v1/accounts/lookup?phone=+8613800138000"} {
			r = e.do("GET", path, bob.token, nil).want(t, http.StatusOK, "")
			if r.body["id"] != alice.id.String() {
				t.Fatalf("%s: found %s, want alice", path, r.raw)
			}
			// The whole number, not a part of it: IDs are digits too.
			if bytes.Contains(r.raw, []byte("13800138000")) || bytes.Contains(r.raw, []byte("138 0013")) {
				t.Errorf("the answer repeats the number: %s", r.raw)
			}
		}
		// A number that is not verified finds nobody, even opted in.
		e.do("POST", "/api/v1/me/phone", carol.token, map[string]any{"phone": "+8613700137000"}).want(t, http.StatusAccepted, "")
		e.do("PATCH", "/api/v1/me/privacy", carol.token, map[string]any{"find_by_phone": true}).want(t, http.StatusOK, "")
		e.do("GET", "/api/v1/accounts/lookup?phone="+url.QueryEscape("+8613700137000"), bob.token, nil).want(t, http.StatusNotFound, "not_found")

		r = e.do("GET", "/api/v1/accounts/lookup?phone=12345", bob.token, nil).want(t, http.StatusBadRequest, "invalid_request")
		if !strings.Contains(string(r.raw), `"phone"`) {
			t.Errorf("a bad number's error does not name the field: %s", r.raw)
		}
		e.do("POST", "/api/v1/blocks", alice.token, map[string]any{"account_id": bob.id.String()}).want(t, http.StatusNoContent, "")
		blocked := missBody(e.do("GET", q, bob.token, nil).want(t, http.StatusNotFound, "not_found"))
		if diff := cmp.Diff(unknown, blocked); diff != "" {
			t.Errorf("a blocker and an unknown number answer differently (-unknown +blocked):\n%s", diff)
		}
		if strings.Contains(e.logText(), "13800138000") {
			t.Errorf("the number reached the logs")
		}
	})
}

// TestLookupRateLimited: each kind of lookup has its own per-account
// limit, charged whether or not anyone is found.
func TestLookupRateLimited(t *testing.T) {
	e := newEnv(t, withRateLimits, func(c *envConfig) {
		c.LookupHandlePerAccount = ratelimit.Rate{N: 3, Per: time.Hour}
		c.LookupPhonePerAccount = ratelimit.Rate{N: 2, Per: time.Hour}
	})
	e.register("alice")
	bob, carol := e.register("bob"), e.register("carol")
	for range 2 {
		e.do("GET", "/api/v1/accounts/lookup?phone=%2B8613900139000", bob.token, nil).want(t, http.StatusNotFound, "not_found")
	}
	r := e.do("GET", "/api/v1/accounts/lookup?phone=%2B8613900139000", bob.token, nil).want(t, http.StatusTooManyRequests, "rate_limited")
	if r.details()["retry_after_seconds"] == nil {
		t.Errorf("429 without retry_after_seconds: %s", r.raw)
	}
	for _, h := range []string{"alice", "nobody", "alice"} {
		e.do("GET", "/api/v1/accounts/lookup?handle="+h, bob.token, nil)
	}
	e.do("GET", "/api/v1/accounts/lookup?handle=alice", bob.token, nil).want(t, http.StatusTooManyRequests, "rate_limited")
	// Per account: carol is not slowed by bob.
	e.do("GET", "/api/v1/accounts/lookup?handle=alice", carol.token, nil).want(t, http.StatusOK, "")
}

func TestPrivacyEndpoints(t *testing.T) {
	e := newEnv(t)
	alice := e.register("alice")
	e.do("GET", "/api/v1/me/privacy", "", nil).want(t, http.StatusUnauthorized, "unauthenticated")
	e.do("PATCH", "/api/v1/me/privacy", "", map[string]any{"find_by_phone": true}).want(t, http.StatusUnauthorized, "unauthenticated")
	r := e.do("GET", "/api/v1/me/privacy", alice.token, nil).want(t, http.StatusOK, "")
	if want := map[string]any{"find_by_phone": false, "find_by_handle": true}; !cmp.Equal(r.body, want) {
		t.Errorf("defaults = %s, want %v", r.raw, want)
	}
	for _, body := range []any{map[string]any{}, map[string]any{"find_by_phone": "yes"}, map[string]any{"find_by_email": true}} {
		e.do("PATCH", "/api/v1/me/privacy", alice.token, body).want(t, http.StatusBadRequest, "invalid_request")
	}
	r = e.do("GET", "/api/v1/me/privacy", alice.token, nil)
	if r.body["find_by_phone"] != false || r.body["find_by_handle"] != true {
		t.Errorf("refused changes changed the settings: %s", r.raw)
	}
}

func TestInviteLinks(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *testEnv) {
		alice, bob, carol := e.verified("alice"), e.verified("bob"), e.verified("carol")
		for _, c := range []struct{ method, path string }{
			{"POST", "/api/v1/me/invites"}, {"GET", "/api/v1/me/invites"}, {"DELETE", "/api/v1/me/invites/1"}, {"GET", "/api/v1/invites/abc"},
		} {
			e.do(c.method, c.path, "", nil).want(t, http.StatusUnauthorized, "unauthenticated")
		}

		r := e.do("POST", "/api/v1/me/invites", alice.token, nil).want(t, http.StatusCreated, "")
		token, _ := r.body["token"].(string)
		id, _ := r.body["id"].(string)
		if len(token) < 22 || r.body["url"] != "/add/"+token || r.body["expires_at"] == nil {
			t.Fatalf("created %s, want a token of at least 128 bits, its /add/ URL and expires_at", r.raw)
		}
		list := e.do("GET", "/api/v1/me/invites", alice.token, nil).want(t, http.StatusOK, "")
		if items, _ := list.body["items"].([]any); len(items) != 1 || bytes.Contains(list.raw, []byte(token)) {
			t.Fatalf("list = %s, want one invite without its token", list.raw)
		}
		if items := e.do("GET", "/api/v1/me/invites", bob.token, nil).body["items"].([]any); len(items) != 0 {
			t.Errorf("bob sees alice's invites: %v", items)
		}

		r = e.do("GET", "/api/v1/invites/"+token, bob.token, nil).want(t, http.StatusOK, "")
		acct, _ := r.body["account"].(map[string]any)
		if acct["id"] != alice.id.String() || r.body["expires_at"] == nil {
			t.Fatalf("invite = %s, want alice's profile and expires_at", r.raw)
		}
		r = e.do("GET", "/api/v1/invites/"+token, alice.token, nil).want(t, http.StatusConflict, "conflict")
		if r.details()["reason"] != "own_invite" {
			t.Errorf("own invite: details %v, want reason own_invite", r.details())
		}
		e.do("POST", "/api/v1/contacts/requests", alice.token, map[string]any{"invite_token": token}).want(t, http.StatusConflict, "conflict")
		e.do("GET", "/api/v1/invites/"+token+"x", bob.token, nil).want(t, http.StatusNotFound, "not_found")

		// The token opens a contact request to its owner.
		r = e.do("POST", "/api/v1/contacts/requests", bob.token, map[string]any{"invite_token": token, "note": "from your QR code"}).want(t, http.StatusCreated, "")
		if r.body["to_id"] != alice.id.String() {
			t.Fatalf("request = %s, want one to alice", r.raw)
		}
		r = e.do("POST", "/api/v1/contacts/requests", carol.token, map[string]any{"invite_token": token, "account_id": bob.id.String()}).want(t, http.StatusBadRequest, "invalid_request")
		if !bytes.Contains(r.raw, []byte("invite_token")) {
			t.Errorf("mismatch does not name invite_token: %s", r.raw)
		}

		// Blocked by the owner: the link is the same 404 as a dead one.
		e.do("POST", "/api/v1/blocks", alice.token, map[string]any{"account_id": carol.id.String()}).want(t, http.StatusNoContent, "")
		e.do("GET", "/api/v1/invites/"+token, carol.token, nil).want(t, http.StatusNotFound, "not_found")
		e.do("POST", "/api/v1/contacts/requests", carol.token, map[string]any{"invite_token": token}).want(t, http.StatusNotFound, "not_found")

		// Revocation: only by its owner.
		e.do("DELETE", "/api/v1/me/invites/"+id, bob.token, nil).want(t, http.StatusNotFound, "not_found")
		e.do("DELETE", "/api/v1/me/invites/"+id, alice.token, nil).want(t, http.StatusNoContent, "")
		e.do("GET", "/api/v1/invites/"+token, bob.token, nil).want(t, http.StatusNotFound, "not_found")
		e.do("DELETE", "/api/v1/me/invites/"+id, alice.token, nil).want(t, http.StatusNotFound, "not_found")
		if strings.Contains(e.logText(), token) {
			t.Errorf("an invite token reached the logs")
		}
	})
}

func TestAvatar(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *testEnv) {
		alice, bob := e.verified("alice"), e.verified("bob")
		e.befriend(bob, alice)
		photo := withSegment(jpegFixture(t, 400, 300), 0xE1, exifGPS())
		mid := e.upload(alice, "me.jpg", "image/jpeg", photo).want(t, http.StatusCreated, "").body["id"].(string)
		file := e.upload(alice, "notes.txt", "text/plain", []byte("plain text, not an image")).want(t, http.StatusCreated, "").body["id"].(string)
		bobs := e.upload(bob, "b.jpg", "image/jpeg", jpegFixture(t, 50, 50)).want(t, http.StatusCreated, "").body["id"].(string)

		e.do("PUT", "/api/v1/me/avatar", "", map[string]any{"media_id": mid}).want(t, http.StatusUnauthorized, "unauthenticated")
		e.do("DELETE", "/api/v1/me/avatar", "", nil).want(t, http.StatusUnauthorized, "unauthenticated")
		e.do("GET", "/api/v1/accounts/"+alice.id.String()+"/avatar", "", nil).want(t, http.StatusUnauthorized, "unauthenticated")
		e.do("PUT", "/api/v1/me/avatar", alice.token, map[string]any{"media_id": bobs}).want(t, http.StatusNotFound, "not_found")
		e.do("PUT", "/api/v1/me/avatar", alice.token, map[string]any{"media_id": "123456789"}).want(t, http.StatusNotFound, "not_found")
		r := e.do("PUT", "/api/v1/me/avatar", alice.token, map[string]any{"media_id": file}).want(t, http.StatusBadRequest, "invalid_request")
		if !bytes.Contains(r.raw, []byte("media_id")) {
			t.Errorf("non-image error does not name media_id: %s", r.raw)
		}
		e.do("PUT", "/api/v1/me/avatar", alice.token, map[string]any{}).want(t, http.StatusBadRequest, "invalid_request")
		e.do("GET", "/api/v1/accounts/"+alice.id.String()+"/avatar", bob.token, nil).want(t, http.StatusNotFound, "not_found")

		r = e.do("PUT", "/api/v1/me/avatar", alice.token, map[string]any{"media_id": mid}).want(t, http.StatusOK, "")
		want := "/api/v1/accounts/" + alice.id.String() + "/avatar?v=1"
		if r.body["avatar_url"] != want || r.body["id"] != alice.id.String() {
			t.Fatalf("profile = %s, want avatar_url %s", r.raw, want)
		}
		for _, c := range []struct{ token, path string }{
			{alice.token, "/api/v1/me"}, {bob.token, "/api/v1/accounts/" + alice.id.String()}, {bob.token, "/api/v1/accounts/lookup?handle=alice"},
		} {
			if got := e.do("GET", c.path, c.token, nil).body["avatar_url"]; got != want {
				t.Errorf("%s: avatar_url = %v, want %s", c.path, got, want)
			}
		}
		contacts := e.do("GET", "/api/v1/contacts", bob.token, nil).want(t, http.StatusOK, "").body["items"].([]any)
		if len(contacts) != 1 || contacts[0].(map[string]any)["avatar_url"] != want {
			t.Errorf("bob's contacts = %v, want alice with avatar_url %s", contacts, want)
		}
		for _, c := range []struct {
			query string
			size  int
		}{{"", 256}, {"&size=64", 64}, {"&size=256", 256}} {
			got := e.fetch(bob.token, want+c.query, "")
			if got.status != http.StatusOK {
				t.Fatalf("%s: status %d: %s", c.query, got.status, got.raw)
			}
			cfg, format, err := image.DecodeConfig(bytes.NewReader(got.raw))
			if err != nil || format != "jpeg" || cfg.Width != c.size || cfg.Height != c.size {
				t.Errorf("%s: %s %d×%d (%v), want a %d-pixel square JPEG", c.query, format, cfg.Width, cfg.Height, err, c.size)
			}
			if bytes.Contains(got.raw, []byte("Exif")) || bytes.Contains(got.raw, []byte("GPSCANARY")) {
				t.Errorf("%s: metadata survived", c.query)
			}
			if cc := got.header.Get("Cache-Control"); !strings.Contains(cc, "max-age=31536000") || !strings.Contains(cc, "private") {
				t.Errorf("%s: Cache-Control = %q, want private and a year", c.query, cc)
			}
			if got.header.Get("X-Content-Type-Options") != "nosniff" || got.header.Get("Content-Type") != "image/jpeg" {
				t.Errorf("%s: headers %v", c.query, got.header)
			}
		}
		e.do("GET", want+"&size=7", bob.token, nil).want(t, http.StatusBadRequest, "invalid_request")

		// A new photo gets a new version; the old copy is deleted.
		first := e.do("GET", "/api/v1/me/media", alice.token, nil).body["items"].([]any)
		r = e.do("PUT", "/api/v1/me/avatar", alice.token, map[string]any{"media_id": mid}).want(t, http.StatusOK, "")
		if r.body["avatar_url"] != "/api/v1/accounts/"+alice.id.String()+"/avatar?v=2" {
			t.Errorf("second photo: avatar_url = %v, want v=2", r.body["avatar_url"])
		}
		if again := e.do("GET", "/api/v1/me/media", alice.token, nil).body["items"].([]any); len(again) != len(first) {
			t.Errorf("media after replacing the photo: %d items, want %d (the old copy deleted)", len(again), len(first))
		}

		// Blocked: no photo for bob.
		e.do("POST", "/api/v1/blocks", alice.token, map[string]any{"account_id": bob.id.String()}).want(t, http.StatusNoContent, "")
		e.do("GET", "/api/v1/accounts/"+alice.id.String()+"/avatar", bob.token, nil).want(t, http.StatusNotFound, "not_found")
		e.do("DELETE", "/api/v1/blocks/"+bob.id.String(), alice.token, nil).want(t, http.StatusNoContent, "")

		e.do("DELETE", "/api/v1/me/avatar", alice.token, nil).want(t, http.StatusNoContent, "")
		if r := e.do("GET", "/api/v1/me", alice.token, nil); r.body["avatar_url"] != nil {
			t.Errorf("avatar_url after removal = %v, want null", r.body["avatar_url"])
		}
		e.do("GET", "/api/v1/accounts/"+alice.id.String()+"/avatar", bob.token, nil).want(t, http.StatusNotFound, "not_found")
	})
}

func TestAccountLanguage(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *testEnv) {
		r := e.do("POST", "/api/v1/accounts", "", map[string]any{
			"handle": "li_lei", "password": "password-li", "display_name": "李", "birth_date": "1990-05-17",
			"accepted_terms_version": 1, "language": "zh-CN",
		}).want(t, http.StatusCreated, "")
		acct := r.body["account"].(map[string]any)
		token := r.body["token"].(string)
		if acct["language"] != "zh-CN" {
			t.Fatalf("registered language = %v, want zh-CN", acct["language"])
		}
		e.do("POST", "/api/v1/accounts", "", map[string]any{
			"handle": "frank", "password": "password-fr", "display_name": "F", "birth_date": "1990-05-17",
			"accepted_terms_version": 1, "language": "fr",
		}).want(t, http.StatusBadRequest, "invalid_request")
		en := e.register("alice")
		if got := e.do("GET", "/api/v1/me", en.token, nil).body["language"]; got != "en" {
			t.Errorf("default language = %v, want en", got)
		}

		const phone = "+8613800138000"
		e.do("POST", "/api/v1/me/phone", token, map[string]any{"phone": phone}).want(t, http.StatusAccepted, "")
		code := e.lastCode(phone)
		if body := e.lastBody(phone); body != "您的 Plaza 验证码是 "+code+"，10 分钟内有效。请勿告诉他人。" {
			t.Errorf("SMS = %q, want the Chinese text", body)
		}

		// A bad language changes nothing, not even the valid display name.
		e.do("PATCH", "/api/v1/me", token, map[string]any{"language": "fr", "display_name": "Li"}).want(t, http.StatusBadRequest, "invalid_request")
		if me := e.do("GET", "/api/v1/me", token, nil).body; me["display_name"] != "李" || me["language"] != "zh-CN" {
			t.Errorf("after a refused change: %v", me)
		}
		r = e.do("PATCH", "/api/v1/me", token, map[string]any{"language": "en"}).want(t, http.StatusOK, "")
		if r.body["language"] != "en" {
			t.Errorf("language = %v, want en", r.body["language"])
		}
		const phone2 = "+8613800138001"
		e.do("POST", "/api/v1/me/phone", en.token, map[string]any{"phone": phone2}).want(t, http.StatusAccepted, "")
		if body := e.lastBody(phone2); !strings.HasPrefix(body, "Your Plaza verification code is ") {
			t.Errorf("SMS = %q, want the English text", body)
		}
	})
}

// lastBody returns the text of the newest message in the SMS outbox sent
// to phone.
func (e *testEnv) lastBody(phone string) string {
	e.t.Helper()
	data, err := os.ReadFile(e.outbox)
	if err != nil {
		e.t.Fatal(err)
	}
	body := ""
	for _, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		var m struct{ To, Body string }
		if err := json.Unmarshal(line, &m); err != nil {
			e.t.Fatal(err)
		}
		if m.To == phone {
			body = m.Body
		}
	}
	if body == "" {
		e.t.Fatalf("no message was sent to %s", phone)
	}
	return body
}

// TestLookupLimitIsSharedByNodes: on PostgreSQL two API servers on one
// database share an account's lookup budget, so a cluster of N nodes does
// not allow N times the lookups.
func TestLookupLimitIsSharedByNodes(t *testing.T) {
	if os.Getenv("PLAZA_TEST_POSTGRES") == "" {
		t.Skip("PLAZA_TEST_POSTGRES not set")
	}
	db := sqldbtest.Open(t, sqldb.Postgres)
	node := func() *testEnv {
		return newEnv(t, withRateLimits, func(c *envConfig) {
			c.db = db
			c.LookupHandlePerAccount = ratelimit.Rate{N: 2, Per: time.Hour}
		})
	}
	e, other := node(), node()
	bob := e.register("bob")
	e.do("GET", "/api/v1/accounts/lookup?handle=nobody", bob.token, nil).want(t, http.StatusNotFound, "not_found")
	other.do("GET", "/api/v1/accounts/lookup?handle=nobody", bob.token, nil).want(t, http.StatusNotFound, "not_found")
	e.do("GET", "/api/v1/accounts/lookup?handle=nobody", bob.token, nil).want(t, http.StatusTooManyRequests, "rate_limited")
	other.do("GET", "/api/v1/accounts/lookup?handle=nobody", bob.token, nil).want(t, http.StatusTooManyRequests, "rate_limited")
}

// TestMessageSearchRateLimited: searches are limited per account.
func TestMessageSearchRateLimited(t *testing.T) {
	e := newEnv(t, withRateLimits, func(c *envConfig) {
		c.SearchPerAccount = ratelimit.Rate{N: 2, Per: time.Minute}
	})
	u := e.register("searcher")
	for range 2 {
		e.do("GET", "/api/v1/messages/search?q=hello", u.token, nil).want(t, http.StatusOK, "")
	}
	e.do("GET", "/api/v1/messages/search?q=hello", u.token, nil).want(t, http.StatusTooManyRequests, "rate_limited")
}

// TestAvatarChargesUploads: making a profile photo decodes, scales and
// stores an image, so it counts against the uploads budget like an upload.
func TestAvatarChargesUploads(t *testing.T) {
	e := newEnv(t, withRateLimits, func(c *envConfig) {
		c.UploadsPerAccount = ratelimit.Rate{N: 2, Per: time.Hour}
	})
	alice := e.verified("alice")
	mid := e.upload(alice, "me.jpg", "image/jpeg", jpegFixture(t, 400, 300)).want(t, http.StatusCreated, "").body["id"].(string)
	e.do("PUT", "/api/v1/me/avatar", alice.token, map[string]any{"media_id": mid}).want(t, http.StatusOK, "")
	e.do("PUT", "/api/v1/me/avatar", alice.token, map[string]any{"media_id": mid}).want(t, http.StatusTooManyRequests, "rate_limited")
}
