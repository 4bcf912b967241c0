package httpapi

import (
	"net/http"
	"testing"

	"github.com/plaza-im/plaza/internal/account"
)

// TestLegacyContact: the owner chooses, reads, replaces and removes their
// legacy contact; the rules come back as clear errors; a stranger only
// ever sees their own (none), and an anonymous caller is refused.
func TestLegacyContact(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *testEnv) {
		owner, friend, other, stranger := e.verified("owner"), e.verified("friend"), e.verified("other"), e.verified("stranger")
		e.befriend(owner, friend)
		e.befriend(owner, other)
		const path = "/api/v1/me/legacy-contact"

		e.do("GET", path, owner.token, nil).want(t, http.StatusNotFound, "not_found")
		for _, c := range []struct {
			name   string
			body   any
			status int
			code   string
		}{
			{"empty", map[string]any{}, 400, "invalid_request"},
			{"no may_download", map[string]any{"account_id": friend.id.String()}, 400, "invalid_request"},
			{"oneself", map[string]any{"account_id": owner.id.String(), "may_download": true}, 400, "invalid_request"},
			{"unknown", map[string]any{"account_id": "12345", "may_download": true}, 400, "invalid_request"},
			{"not a contact", map[string]any{"account_id": stranger.id.String(), "may_download": true}, 403, "not_a_contact"},
			{"unknown field", map[string]any{"account_id": friend.id.String(), "may_download": true, "extra": 1}, 400, "invalid_request"},
		} {
			t.Run(c.name, func(t *testing.T) {
				e.do("PUT", path, owner.token, c.body).want(t, c.status, c.code)
			})
		}
		e.do("GET", path, owner.token, nil).want(t, http.StatusNotFound, "not_found")

		got := e.do("PUT", path, owner.token, map[string]any{"account_id": friend.id.String(), "may_download": true}).want(t, 200, "")
		if got.body["account_id"] != friend.id.String() || got.body["may_download"] != true || got.body["handle"] != "friend" {
			t.Errorf("PUT answered %s", got.raw)
		}
		e.do("PUT", path, owner.token, map[string]any{"account_id": other.id.String(), "may_download": false}).want(t, 200, "")
		got = e.do("GET", path, owner.token, nil).want(t, 200, "")
		if got.body["account_id"] != other.id.String() || got.body["may_download"] != false {
			t.Errorf("GET answered %s, want the replacement", got.raw)
		}
		// Someone else reads and removes only their own, which they have not.
		e.do("GET", path, stranger.token, nil).want(t, http.StatusNotFound, "not_found")
		e.do("DELETE", path, stranger.token, nil).want(t, http.StatusNotFound, "not_found")
		e.do("GET", path, owner.token, nil).want(t, 200, "")
		for _, m := range []string{"GET", "PUT", "DELETE"} {
			e.do(m, path, "", map[string]any{"account_id": friend.id.String(), "may_download": true}).want(t, http.StatusUnauthorized, "unauthenticated")
		}

		e.do("DELETE", path, owner.token, nil).want(t, http.StatusNoContent, "")
		e.do("DELETE", path, owner.token, nil).want(t, http.StatusNotFound, "not_found")
		e.do("GET", path, owner.token, nil).want(t, http.StatusNotFound, "not_found")
	})
}

// TestMemorialisation: an admin memorialises an account with a reason.
// Its profile stays readable with memorialised: true and its public
// posts stay visible; nobody can sign in to it (forbidden, reason
// memorialised) or message it (gone); its sessions end. Only admins may;
// twice is a conflict, a deleted account gone, an unknown one not found.
func TestMemorialisation(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *testEnv) {
		admin := e.withRole("root", account.Admin)
		mod := e.withRole("moddy", account.Moderator)
		gone, friend := e.verified("remembered"), e.verified("friend")
		e.befriend(gone, friend)
		conv := e.direct(friend, gone)
		e.send(gone, conv, "last", "see you soon").want(t, 201, "")
		post := e.postText(gone, "a public post")
		path := "/api/v1/admin/accounts/" + gone.id.String() + "/memorialisation"
		body := map[string]any{"reason": "His family sent the death certificate."}

		e.do("POST", path, "", body).want(t, http.StatusUnauthorized, "unauthenticated")
		e.do("POST", path, friend.token, body).want(t, http.StatusForbidden, "forbidden")
		e.do("POST", path, mod.token, body).want(t, http.StatusForbidden, "forbidden")
		e.do("POST", path, admin.token, map[string]any{"reason": ""}).want(t, http.StatusBadRequest, "invalid_request")
		if p := e.do("GET", "/api/v1/accounts/"+gone.id.String(), friend.token, nil).want(t, 200, ""); p.body["memorialised"] != false {
			t.Errorf("profile before: %s, want memorialised false", p.raw)
		}

		got := e.do("POST", path, admin.token, body).want(t, 200, "")
		if got.body["status"] != "memorialised" {
			t.Errorf("answered %s, want status memorialised", got.raw)
		}
		e.do("POST", path, admin.token, body).want(t, http.StatusConflict, "conflict")

		p := e.do("GET", "/api/v1/accounts/"+gone.id.String(), friend.token, nil).want(t, 200, "")
		if p.body["memorialised"] != true || p.body["display_name"] != "REMEMBERED" {
			t.Errorf("profile after: %s, want it readable with memorialised true", p.raw)
		}
		e.do("GET", "/api/v1/posts/"+post, "", nil).want(t, 200, "")
		e.do("GET", "/api/v1/me", gone.token, nil).want(t, http.StatusUnauthorized, "unauthenticated")
		r := e.do("POST", "/api/v1/sessions", "", map[string]any{"handle": "remembered", "password": "password-remembered"}).want(t, http.StatusForbidden, "forbidden")
		if r.details()["reason"] != "memorialised" {
			t.Errorf("sign-in refusal details %v, want reason memorialised", r.details())
		}
		r = e.send(friend, conv, "after", "I miss you").want(t, http.StatusGone, "gone")
		if r.details()["status"] != "memorialised" {
			t.Errorf("send refusal details %v, want status memorialised", r.details())
		}
		if items := e.do("GET", "/api/v1/conversations/"+conv+"/messages", friend.token, nil).want(t, 200, "").body["items"].([]any); len(items) != 1 {
			t.Errorf("history has %d messages, want the 1 it had", len(items))
		}

		leaver := e.register("leaver")
		if err := e.accounts.Erase(t.Context(), leaver.id); err != nil {
			t.Fatal(err)
		}
		e.do("POST", "/api/v1/admin/accounts/"+leaver.id.String()+"/memorialisation", admin.token, body).want(t, http.StatusGone, "gone")
		e.do("POST", "/api/v1/admin/accounts/12345/memorialisation", admin.token, body).want(t, http.StatusNotFound, "not_found")
	})
}
