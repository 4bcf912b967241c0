package httpapi

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/bus"
	"github.com/plaza-im/plaza/internal/channel"
)

var identityCounter atomic.Int64

// identityVerified registers handle and takes it through the whole
// identity flow: a fresh phone number, then a national ID that a
// compliance officer (registered as handle_kyc) approves.
func (e *testEnv) identityVerified(handle string) user {
	e.t.Helper()
	u := e.register(handle)
	e.verifyPhone(u, fmt.Sprintf("+86137%08d", identityCounter.Add(1)))
	sub := e.do("POST", "/api/v1/me/identity", u.token, map[string]any{
		"legal_name": "Chen Jing", "document_type": "national_id", "document_number": validCNID, "document_country": "CN",
	}).want(e.t, http.StatusAccepted, "")
	officer := e.withRole(handle+"_kyc", account.Compliance)
	e.do("POST", "/api/v1/admin/identity-reviews/"+sub.body["id"].(string)+"/decision", officer.token, map[string]any{"approve": true}).
		want(e.t, http.StatusOK, "")
	return u
}

// generousQuotas lifts the posting quotas so that tests about something
// else can post freely.
func generousQuotas(c *envConfig) {
	c.channels = channel.Config{Location: time.UTC, SubscriptionDaily: 100, ServiceMonthly: 100}
}

// openChannel has owner apply for a channel and reviewer approve it; it
// returns the channel's ID.
func (e *testEnv) openChannel(owner, reviewer user, handle, name, kind string) string {
	e.t.Helper()
	app := e.do("POST", "/api/v1/channel-applications", owner.token, map[string]any{
		"handle": handle, "name": name, "description": "About " + name, "kind": kind,
	}).want(e.t, http.StatusCreated, "")
	dec := e.do("POST", "/api/v1/admin/channel-applications/"+app.body["id"].(string)+"/decision", reviewer.token, map[string]any{"approve": true}).
		want(e.t, http.StatusOK, "")
	return dec.body["channel_id"].(string)
}

// putCategory has admin set a category's policy.
func (e *testEnv) putCategory(admin user, name, policy string) {
	e.t.Helper()
	e.do("PUT", "/api/v1/admin/categories/"+name, admin.token, map[string]any{"policy": policy, "description": policy + " posts"}).
		want(e.t, http.StatusOK, "")
}

// postTo has u post on a channel.
func (e *testEnv) postTo(u user, ch, title, category string, mediaIDs ...string) resp {
	e.t.Helper()
	body := map[string]any{"title": title, "body": "The *" + title + "* story.", "category": category}
	if len(mediaIDs) > 0 {
		body["media_ids"] = mediaIDs
	}
	return e.do("POST", "/api/v1/channels/"+ch+"/posts", u.token, body)
}

// follow has u follow a channel.
func (e *testEnv) follow(u user, ch string) {
	e.t.Helper()
	e.do("POST", "/api/v1/channels/"+ch+"/follow", u.token, nil).want(e.t, http.StatusNoContent, "")
}

// itemIDs returns the ids of a list's items, in order.
func itemIDs(tb testing.TB, r resp) []string {
	tb.Helper()
	items, ok := r.body["items"].([]any)
	if !ok {
		tb.Fatalf("response has no items list: %s", r.raw)
	}
	ids := make([]string, 0, len(items))
	for _, it := range items {
		ids = append(ids, it.(map[string]any)["id"].(string))
	}
	return ids
}

// nextPost returns the data of the next channel.post frame on s.
func (s *stream) nextPost() map[string]any {
	s.t.Helper()
	return s.until("channel.post")["data"].(map[string]any)
}

// anonUser calls without a token.
var anonUser = user{handle: "anonymous"}

func TestChannelApplications(t *testing.T) {
	e := newEnv(t)
	reviewer := e.withRole("reviewer", account.Reviewer)
	admin := e.withRole("admin", account.Admin)
	alice, bob := e.identityVerified("alice"), e.identityVerified("bob")
	const apply, queue = "/api/v1/channel-applications", "/api/v1/admin/channel-applications"
	app := map[string]any{"handle": "city_news", "name": "City News", "description": "Daily news of the city", "kind": "subscription"}

	t.Run("needs a verified identity", func(t *testing.T) {
		for _, u := range []user{e.sub(t).verified("phoneonly"), e.sub(t).register("nobody")} {
			res := e.do("POST", apply, u.token, app).want(t, http.StatusForbidden, "verification_required")
			if res.details()["level"] != "identity" {
				t.Errorf("%s: details.level = %v, want identity", u.handle, res.details()["level"])
			}
		}
		e.do("POST", apply, "", app).want(t, http.StatusUnauthorized, "unauthenticated")
	})
	t.Run("invalid applications", func(t *testing.T) {
		for field, bad := range map[string]map[string]any{
			"kind":   with(app, "kind", "newsletter"),
			"handle": with(app, "handle", "City News"),
			"name":   with(app, "name", " "),
		} {
			wantField(t, e.do("POST", apply, alice.token, bad), field)
		}
	})

	created := e.do("POST", apply, alice.token, app).want(t, http.StatusCreated, "")
	appID, _ := created.body["id"].(string)
	if appID == "" || created.body["status"] != "pending" {
		t.Fatalf("apply answered %s, want an id and status pending", created.raw)
	}
	e.do("POST", apply, bob.token, app).want(t, http.StatusConflict, "conflict")

	t.Run("the reviewer's queue", func(t *testing.T) {
		q := e.do("GET", queue+"?status=pending", reviewer.token, nil).want(t, http.StatusOK, "")
		if ids := itemIDs(t, q); !slices.Equal(ids, []string{appID}) {
			t.Fatalf("pending queue = %v, want [%s]", ids, appID)
		}
		it := q.body["items"].([]any)[0].(map[string]any)
		if it["applicant_id"] != alice.id.String() || it["handle"] != "city_news" || it["kind"] != "subscription" {
			t.Errorf("queue item = %v", it)
		}
		e.do("GET", queue+"?status=bogus", reviewer.token, nil).want(t, http.StatusBadRequest, "invalid_request")
		for _, u := range []user{alice, admin} {
			e.do("GET", queue+"?status=pending", u.token, nil).want(t, http.StatusForbidden, "forbidden")
		}
		e.do("GET", queue+"?status=pending", "", nil).want(t, http.StatusUnauthorized, "unauthenticated")
	})

	mine := e.do("GET", apply, alice.token, nil).want(t, http.StatusOK, "")
	if ids := itemIDs(t, mine); !slices.Equal(ids, []string{appID}) || mine.body["items"].([]any)[0].(map[string]any)["status"] != "pending" {
		t.Errorf("alice's applications = %s, want hers, pending", mine.raw)
	}
	e.do("GET", apply, "", nil).want(t, http.StatusUnauthorized, "unauthenticated")

	decide := queue + "/" + appID + "/decision"
	t.Run("deciding", func(t *testing.T) {
		for _, u := range []user{alice, admin} {
			e.do("POST", decide, u.token, map[string]any{"approve": true}).want(t, http.StatusForbidden, "forbidden")
		}
		e.do("POST", decide, "", map[string]any{"approve": true}).want(t, http.StatusUnauthorized, "unauthenticated")
		e.do("POST", decide, reviewer.token, map[string]any{}).want(t, http.StatusBadRequest, "invalid_request")
		wantField(t, e.do("POST", decide, reviewer.token, map[string]any{"approve": false}), "reason")
		wantField(t, e.do("POST", decide, reviewer.token, map[string]any{"approve": false, "reason": "   "}), "reason")
		e.do("POST", queue+"/99/decision", reviewer.token, map[string]any{"approve": true}).want(t, http.StatusNotFound, "not_found")
	})

	ok := e.do("POST", decide, reviewer.token, map[string]any{"approve": true, "reason": "Welcome"}).want(t, http.StatusOK, "")
	chID, _ := ok.body["channel_id"].(string)
	if ok.body["status"] != "approved" || chID == "" {
		t.Fatalf("approval answered %s, want status approved and a channel_id", ok.raw)
	}
	e.do("POST", decide, reviewer.token, map[string]any{"approve": false, "reason": "changed my mind"}).want(t, http.StatusConflict, "conflict")

	// Bob's application is rejected; he sees why, and alice sees only hers.
	bobApp := e.do("POST", apply, bob.token, with(app, "handle", "spam_daily", "name", "Spam Daily")).want(t, http.StatusCreated, "").body["id"].(string)
	e.do("POST", queue+"/"+bobApp+"/decision", reviewer.token, map[string]any{"approve": false, "reason": "Looks like spam"}).want(t, http.StatusOK, "")
	bobs := e.do("GET", apply, bob.token, nil).want(t, http.StatusOK, "").body["items"].([]any)
	if len(bobs) != 1 || bobs[0].(map[string]any)["status"] != "rejected" || bobs[0].(map[string]any)["reason"] != "Looks like spam" {
		t.Errorf("bob's applications = %v, want one rejected with the reason", bobs)
	}
	// A rejected applicant may try again with the same handle.
	e.do("POST", apply, bob.token, with(app, "handle", "spam_daily", "name", "Spam Daily", "description", "Local deals, curated")).want(t, http.StatusCreated, "")
	alices := e.do("GET", apply, alice.token, nil).want(t, http.StatusOK, "").body["items"].([]any)
	if len(alices) != 1 || alices[0].(map[string]any)["status"] != "approved" || alices[0].(map[string]any)["channel_id"] != chID {
		t.Errorf("alice's applications = %v, want one approved with channel_id %s", alices, chID)
	}
	if ids := itemIDs(t, e.do("GET", queue+"?status=pending", reviewer.token, nil)); len(ids) != 1 || ids[0] == bobApp {
		t.Errorf("pending queue after decisions = %v, want only bob's second application", ids)
	}
	if ids := itemIDs(t, e.do("GET", queue+"?status=rejected", reviewer.token, nil)); !slices.Equal(ids, []string{bobApp}) {
		t.Errorf("rejected list = %v, want [%s]", ids, bobApp)
	}

	// The channel exists, verified, owned by alice; its handle is taken.
	c := e.do("GET", "/api/v1/channels/"+chID, bob.token, nil).want(t, http.StatusOK, "")
	for k, want := range map[string]any{"id": chID, "handle": "city_news", "name": "City News", "kind": "subscription", "owner_id": alice.id.String(),
		"verified": true, "status": "active", "follower_count": float64(0), "following": false} {
		if c.body[k] != want {
			t.Errorf("channel %s = %v, want %v", k, c.body[k], want)
		}
	}
	if at, err := time.Parse(time.RFC3339, fmt.Sprint(c.body["approved_at"])); err != nil || time.Since(at) > time.Minute {
		t.Errorf("approved_at = %v, want the approval time in RFC 3339", c.body["approved_at"])
	}
	e.do("POST", apply, bob.token, app).want(t, http.StatusConflict, "conflict")
}

func TestChannelFollowAndSearch(t *testing.T) {
	e := newEnv(t)
	reviewer := e.withRole("reviewer", account.Reviewer)
	news := e.openChannel(e.identityVerified("alice"), reviewer, "city_news", "City News", "subscription")
	cook := e.openChannel(e.identityVerified("bob"), reviewer, "cookbook", "Sichuan Cooking", "service")
	ann, ben := e.register("ann"), e.register("ben")

	e.do("POST", "/api/v1/channels/"+news+"/follow", "", nil).want(t, http.StatusUnauthorized, "unauthenticated")
	e.follow(ann, news)
	e.follow(ann, news) // again: no change
	e.follow(ben, news)
	e.follow(ben, cook)
	c := e.do("GET", "/api/v1/channels/"+news, ann.token, nil).want(t, http.StatusOK, "")
	if c.body["follower_count"] != float64(2) || c.body["following"] != true {
		t.Errorf("after two follows: follower_count %v following %v, want 2 and true", c.body["follower_count"], c.body["following"])
	}

	for _, tt := range []struct {
		q    string
		want []string
	}{
		{"", []string{news, cook}}, // most followed first
		{"NEWS", []string{news}},
		{"sichuan", []string{cook}},
		{"cook", []string{cook}},
		{"%", nil},
		{"_", []string{news}}, // a literal underscore, not a wildcard
		{"nothing-like-it", nil},
	} {
		res := e.do("GET", "/api/v1/channels?q="+url.QueryEscape(tt.q), ann.token, nil).want(t, http.StatusOK, "")
		if got := itemIDs(t, res); !slices.Equal(got, tt.want) {
			t.Errorf("search %q = %v, want %v", tt.q, got, tt.want)
		}
	}
	e.do("GET", "/api/v1/channels?q=news", "", nil).want(t, http.StatusUnauthorized, "unauthenticated")

	e.do("DELETE", "/api/v1/channels/"+news+"/follow", "", nil).want(t, http.StatusUnauthorized, "unauthenticated")
	e.do("DELETE", "/api/v1/channels/"+news+"/follow", ann.token, nil).want(t, http.StatusNoContent, "")
	e.do("DELETE", "/api/v1/channels/"+news+"/follow", ann.token, nil).want(t, http.StatusNotFound, "not_found")
	c = e.do("GET", "/api/v1/channels/"+news, ann.token, nil).want(t, http.StatusOK, "")
	if c.body["follower_count"] != float64(1) || c.body["following"] != false {
		t.Errorf("after unfollowing: follower_count %v following %v, want 1 and false", c.body["follower_count"], c.body["following"])
	}

	for _, path := range []string{"/api/v1/channels/99", "/api/v1/channels/abc"} {
		e.do("GET", path, ann.token, nil).want(t, http.StatusNotFound, "not_found")
		e.do("POST", path+"/follow", ann.token, nil).want(t, http.StatusNotFound, "not_found")
	}
	e.do("GET", "/api/v1/channels/"+news, "", nil).want(t, http.StatusUnauthorized, "unauthenticated")
}

// TestChannelOwnerEditorFollowerStranger calls the endpoints that only the
// owner, or the owner and editors, may use as each kind of caller.
func TestChannelOwnerEditorFollowerStranger(t *testing.T) {
	e := newEnv(t, generousQuotas)
	reviewer := e.withRole("reviewer", account.Reviewer)
	admin := e.withRole("admin", account.Admin)
	owner, editor, stranger := e.identityVerified("owner"), e.identityVerified("editor"), e.identityVerified("stranger")
	follower, helper := e.register("follower"), e.register("helper")
	ch := e.openChannel(owner, reviewer, "city_news", "City News", "subscription")
	e.putCategory(admin, "news", channel.PolicyOpen)
	e.putCategory(admin, "health", channel.PolicyReview)
	e.follow(follower, ch)
	base := "/api/v1/channels/" + ch
	e.do("POST", base+"/editors", owner.token, map[string]any{"account_id": editor.id.String()}).want(t, http.StatusOK, "")
	held := e.postTo(owner, ch, "Held", "health").want(t, http.StatusCreated, "").body["id"].(string)

	addHelper := map[string]any{"account_id": helper.id.String()}
	article := map[string]any{"title": "Hello", "body": "First *post*", "category": "news"}
	tests := []struct {
		name         string
		who          user
		method, path string
		body         any
		status       int
		code         string
	}{
		{"add editor/anonymous", anonUser, "POST", base + "/editors", addHelper, 401, "unauthenticated"},
		{"add editor/stranger", stranger, "POST", base + "/editors", addHelper, 403, "forbidden"},
		{"add editor/follower", follower, "POST", base + "/editors", addHelper, 403, "forbidden"},
		{"add editor/editor", editor, "POST", base + "/editors", addHelper, 403, "forbidden"},
		{"add editor/owner", owner, "POST", base + "/editors", addHelper, 200, ""},

		{"remove editor/anonymous", anonUser, "DELETE", base + "/editors/" + helper.id.String(), nil, 401, "unauthenticated"},
		{"remove editor/stranger", stranger, "DELETE", base + "/editors/" + helper.id.String(), nil, 403, "forbidden"},
		{"remove editor/follower", follower, "DELETE", base + "/editors/" + helper.id.String(), nil, 403, "forbidden"},
		{"remove editor/editor", editor, "DELETE", base + "/editors/" + helper.id.String(), nil, 403, "forbidden"},
		{"remove editor/owner", owner, "DELETE", base + "/editors/" + helper.id.String(), nil, 204, ""},

		{"create post/anonymous", anonUser, "POST", base + "/posts", article, 401, "unauthenticated"},
		{"create post/stranger", stranger, "POST", base + "/posts", article, 403, "forbidden"},
		{"create post/follower", follower, "POST", base + "/posts", article, 403, "forbidden"},
		{"create post/editor", editor, "POST", base + "/posts", article, 201, ""},
		{"create post/owner", owner, "POST", base + "/posts", article, 201, ""},

		{"pending posts/anonymous", anonUser, "GET", base + "/posts?status=pending_review", nil, 401, "unauthenticated"},
		{"pending posts/stranger", stranger, "GET", base + "/posts?status=pending_review", nil, 403, "forbidden"},
		{"pending posts/follower", follower, "GET", base + "/posts?status=pending_review", nil, 403, "forbidden"},
		{"pending posts/editor", editor, "GET", base + "/posts?status=pending_review", nil, 200, ""},
		{"pending posts/owner", owner, "GET", base + "/posts?status=pending_review", nil, 200, ""},

		{"rejected posts/anonymous", anonUser, "GET", base + "/posts?status=rejected", nil, 401, "unauthenticated"},
		{"rejected posts/stranger", stranger, "GET", base + "/posts?status=rejected", nil, 403, "forbidden"},
		{"rejected posts/follower", follower, "GET", base + "/posts?status=rejected", nil, 403, "forbidden"},
		{"rejected posts/editor", editor, "GET", base + "/posts?status=rejected", nil, 200, ""},
		{"rejected posts/owner", owner, "GET", base + "/posts?status=rejected", nil, 200, ""},

		{"published posts/anonymous", anonUser, "GET", base + "/posts", nil, 401, "unauthenticated"},
		{"published posts/stranger", stranger, "GET", base + "/posts", nil, 200, ""},
		{"published posts/follower", follower, "GET", base + "/posts", nil, 200, ""},
		{"published posts/editor", editor, "GET", base + "/posts", nil, 200, ""},
		{"published posts/owner", owner, "GET", base + "/posts", nil, 200, ""},

		{"mark read/anonymous", anonUser, "POST", base + "/read", nil, 401, "unauthenticated"},
		{"mark read/stranger", stranger, "POST", base + "/read", nil, 404, "not_found"}, // follows nothing
		{"mark read/follower", follower, "POST", base + "/read", nil, 204, ""},

		{"get/anonymous", anonUser, "GET", base, nil, 401, "unauthenticated"},
		{"get/stranger", stranger, "GET", base, nil, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.sub(t).do(tt.method, tt.path, tt.who.token, tt.body).want(t, tt.status, tt.code)
		})
	}

	c := e.do("GET", base, owner.token, nil).want(t, http.StatusOK, "")
	if ids := c.body["editor_ids"].([]any); len(ids) != 1 || ids[0] != editor.id.String() {
		t.Errorf("editor_ids = %v, want only the editor (the helper was added, then removed)", ids)
	}
	if pending := itemIDs(t, e.do("GET", base+"/posts?status=pending_review", editor.token, nil)); !slices.Equal(pending, []string{held}) {
		t.Errorf("pending posts seen by the editor = %v, want [%s]", pending, held)
	}
	published := e.do("GET", base+"/posts", stranger.token, nil).want(t, http.StatusOK, "").body["items"].([]any)
	var authors []any
	for _, p := range published {
		authors = append(authors, p.(map[string]any)["author_id"])
	}
	if !slices.Equal(authors, []any{owner.id.String(), editor.id.String()}) {
		t.Errorf("published posts' authors = %v, want the owner's then the editor's (newest first)", authors)
	}

	t.Run("editors", func(t *testing.T) {
		e := e.sub(t)
		e.do("POST", base+"/editors", owner.token, map[string]any{"account_id": owner.id.String()}).want(t, http.StatusBadRequest, "invalid_request")
		e.do("POST", base+"/editors", owner.token, map[string]any{}).want(t, http.StatusBadRequest, "invalid_request")
		e.do("POST", base+"/editors", owner.token, map[string]any{"account_id": "99"}).want(t, http.StatusNotFound, "not_found")
		e.do("DELETE", base+"/editors/"+stranger.id.String(), owner.token, nil).want(t, http.StatusNotFound, "not_found")
		// An editor needs a verified identity to publish, like the owner.
		phoneOnly := e.verified("phoneonly")
		e.do("POST", base+"/editors", owner.token, map[string]any{"account_id": phoneOnly.id.String()}).want(t, http.StatusOK, "")
		if res := e.do("POST", base+"/posts", phoneOnly.token, article).want(t, http.StatusForbidden, "verification_required"); res.details()["level"] != "identity" {
			t.Errorf("details.level = %v, want identity", res.details()["level"])
		}
		// A removed editor may no longer post or see held posts.
		e.do("DELETE", base+"/editors/"+editor.id.String(), owner.token, nil).want(t, http.StatusNoContent, "")
		e.do("POST", base+"/posts", editor.token, article).want(t, http.StatusForbidden, "forbidden")
		e.do("GET", base+"/posts?status=pending_review", editor.token, nil).want(t, http.StatusForbidden, "forbidden")
		e.do("GET", base+"/posts?status=bogus", owner.token, nil).want(t, http.StatusBadRequest, "invalid_request")
	})
}

// TestChannelAdminRoutes calls each review and operator route anonymously,
// as the channel's owner, as a holder of an unrelated role, and with the
// role it needs.
func TestChannelAdminRoutes(t *testing.T) {
	e := newEnv(t, generousQuotas)
	reviewer := e.withRole("reviewer", account.Reviewer)
	admin := e.withRole("admin", account.Admin)
	compliance := e.withRole("officer", account.Compliance)
	owner := e.identityVerified("owner")
	ch := e.openChannel(owner, reviewer, "city_news", "City News", "subscription")
	e.putCategory(admin, "health", channel.PolicyReview)
	e.putCategory(admin, "medicine", channel.PolicyCredential)
	app := e.do("POST", "/api/v1/channel-applications", owner.token, map[string]any{"handle": "second", "name": "Second", "kind": "service"}).
		want(t, http.StatusCreated, "").body["id"].(string)
	held := e.postTo(owner, ch, "Held", "health").want(t, http.StatusCreated, "").body["id"].(string)
	future := time.Now().Add(30 * 24 * time.Hour).UTC().Format(time.RFC3339)
	cred := e.do("POST", "/api/v1/admin/channels/"+ch+"/credentials", admin.token, map[string]any{"category": "medicine", "expires_at": future}).
		want(t, http.StatusCreated, "").body["id"].(string)

	for _, tt := range []struct {
		method, path string
		body         any
		role         user // the one caller allowed
		status       int  // its answer
	}{
		{"GET", "/api/v1/admin/channel-applications?status=pending", nil, reviewer, 200},
		{"POST", "/api/v1/admin/channel-applications/" + app + "/decision", map[string]any{"approve": false, "reason": "Duplicate"}, reviewer, 200},
		{"GET", "/api/v1/admin/post-reviews?status=pending", nil, reviewer, 200},
		{"POST", "/api/v1/admin/post-reviews/" + held + "/decision", map[string]any{"approve": true}, reviewer, 200},
		{"PUT", "/api/v1/admin/categories/sports", map[string]any{"policy": "open", "description": "Games"}, admin, 200},
		{"POST", "/api/v1/admin/channels/" + ch + "/credentials", map[string]any{"category": "medicine", "expires_at": future}, admin, 201},
		{"GET", "/api/v1/admin/channels/" + ch + "/credentials", nil, admin, 200},
		{"DELETE", "/api/v1/admin/channels/" + ch + "/credentials/" + cred, nil, admin, 204},
		{"PATCH", "/api/v1/admin/channels/" + ch, map[string]any{"daily_post_limit": 5}, admin, 200},
		{"POST", "/api/v1/admin/channels/" + ch + "/status", map[string]any{"status": "active", "reason": "Checked"}, admin, 200},
	} {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			e := e.sub(t)
			e.do(tt.method, tt.path, "", tt.body).want(t, http.StatusUnauthorized, "unauthenticated")
			wrong := admin
			if tt.role == admin {
				wrong = reviewer
			}
			for _, u := range []user{owner, compliance, wrong} {
				if res := e.do(tt.method, tt.path, u.token, tt.body); res.status != http.StatusForbidden || res.code() != "forbidden" {
					t.Errorf("as %s: got %d %q, want 403 forbidden", u.handle, res.status, res.code())
				}
			}
			e.do(tt.method, tt.path, tt.role.token, tt.body).want(t, tt.status, "")
		})
	}
}

// TestChannelEndpointsNeedSession sends every public-account route, with
// real IDs, without a token: each answers 401 and changes nothing.
func TestChannelEndpointsNeedSession(t *testing.T) {
	e := newEnv(t, generousQuotas)
	reviewer := e.withRole("reviewer", account.Reviewer)
	admin := e.withRole("admin", account.Admin)
	owner := e.identityVerified("owner")
	ch := e.openChannel(owner, reviewer, "city_news", "City News", "subscription")
	e.putCategory(admin, "health", channel.PolicyReview)
	e.putCategory(admin, "medicine", channel.PolicyCredential)
	held := e.postTo(owner, ch, "Held", "health").want(t, http.StatusCreated, "").body["id"].(string)
	app := e.do("POST", "/api/v1/channel-applications", owner.token, map[string]any{"handle": "second", "name": "Second", "kind": "service"}).
		want(t, http.StatusCreated, "").body["id"].(string)
	cred := e.do("POST", "/api/v1/admin/channels/"+ch+"/credentials", admin.token, map[string]any{"category": "medicine", "expires_at": time.Now().Add(time.Hour)}).
		want(t, http.StatusCreated, "").body["id"].(string)
	editor := e.register("editor")

	routes := []struct {
		method, path string
		body         any
	}{
		{"POST", "/api/v1/channel-applications", map[string]any{"handle": "third", "name": "Third", "kind": "service"}},
		{"GET", "/api/v1/channel-applications", nil},
		{"GET", "/api/v1/channels?q=news", nil},
		{"GET", "/api/v1/channels/" + ch, nil},
		{"POST", "/api/v1/channels/" + ch + "/follow", nil},
		{"DELETE", "/api/v1/channels/" + ch + "/follow", nil},
		{"POST", "/api/v1/channels/" + ch + "/read", nil},
		{"POST", "/api/v1/channels/" + ch + "/editors", map[string]any{"account_id": editor.id.String()}},
		{"DELETE", "/api/v1/channels/" + ch + "/editors/" + editor.id.String(), nil},
		{"POST", "/api/v1/channels/" + ch + "/posts", map[string]any{"title": "T", "body": "B", "category": "health"}},
		{"GET", "/api/v1/channels/" + ch + "/posts", nil},
		{"GET", "/api/v1/channels/" + ch + "/posts?status=pending_review", nil},
		{"GET", "/api/v1/feeds/channels", nil},
		{"GET", "/api/v1/categories", nil},
		{"GET", "/api/v1/admin/channel-applications?status=pending", nil},
		{"POST", "/api/v1/admin/channel-applications/" + app + "/decision", map[string]any{"approve": true}},
		{"GET", "/api/v1/admin/post-reviews?status=pending", nil},
		{"POST", "/api/v1/admin/post-reviews/" + held + "/decision", map[string]any{"approve": true}},
		{"PUT", "/api/v1/admin/categories/health", map[string]any{"policy": "forbidden"}},
		{"POST", "/api/v1/admin/channels/" + ch + "/credentials", map[string]any{"category": "medicine", "expires_at": time.Now().Add(time.Hour)}},
		{"GET", "/api/v1/admin/channels/" + ch + "/credentials", nil},
		{"DELETE", "/api/v1/admin/channels/" + ch + "/credentials/" + cred, nil},
		{"PATCH", "/api/v1/admin/channels/" + ch, map[string]any{"daily_post_limit": 0}},
		{"POST", "/api/v1/admin/channels/" + ch + "/status", map[string]any{"status": "suspended", "reason": "x"}},
	}
	for _, r := range routes {
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			for _, tok := range []string{"", "plz_not-a-real-token-but-the-right-length-000"} {
				e.sub(t).do(r.method, r.path, tok, r.body).want(t, http.StatusUnauthorized, "unauthenticated")
			}
		})
	}

	// Nothing changed.
	c := e.do("GET", "/api/v1/channels/"+ch, owner.token, nil).want(t, http.StatusOK, "")
	if c.body["status"] != "active" || c.body["daily_post_limit"] != float64(100) || len(c.body["editor_ids"].([]any)) != 0 {
		t.Errorf("channel after anonymous calls = %s", c.raw)
	}
	if ids := itemIDs(t, e.do("GET", "/api/v1/admin/post-reviews?status=pending", reviewer.token, nil)); !slices.Equal(ids, []string{held}) {
		t.Errorf("post reviews = %v, want the held post still pending", ids)
	}
	if ids := itemIDs(t, e.do("GET", "/api/v1/admin/channel-applications?status=pending", reviewer.token, nil)); !slices.Equal(ids, []string{app}) {
		t.Errorf("pending applications = %v, want only %s", ids, app)
	}
	creds := e.do("GET", "/api/v1/admin/channels/"+ch+"/credentials", admin.token, nil).body["items"].([]any)
	if len(creds) != 1 || creds[0].(map[string]any)["revoked_at"] != nil {
		t.Errorf("credentials = %v, want one, not revoked", creds)
	}
}

func TestChannelCategoryPolicies(t *testing.T) {
	e := newEnv(t, generousQuotas)
	reviewer := e.withRole("reviewer", account.Reviewer)
	admin := e.withRole("admin", account.Admin)
	owner := e.identityVerified("owner")
	ch := e.openChannel(owner, reviewer, "city_news", "City News", "subscription")
	for name, policy := range map[string]string{"news": "open", "medicine": "credential", "health": "review", "gambling": "forbidden"} {
		e.putCategory(admin, name, policy)
	}

	t.Run("setting categories", func(t *testing.T) {
		e := e.sub(t)
		res := e.do("PUT", "/api/v1/admin/categories/finance", admin.token, map[string]any{"policy": "review", "description": "Money"}).want(t, http.StatusOK, "")
		if res.body["name"] != "finance" || res.body["policy"] != "review" || res.body["description"] != "Money" {
			t.Errorf("PUT category answered %s", res.raw)
		}
		e.do("PUT", "/api/v1/admin/categories/finance", admin.token, map[string]any{"policy": "open"}).want(t, http.StatusOK, "")
		wantField(t, e.do("PUT", "/api/v1/admin/categories/finance", admin.token, map[string]any{"policy": "maybe"}), "policy")
		wantField(t, e.do("PUT", "/api/v1/admin/categories/Bad%20Name", admin.token, map[string]any{"policy": "open"}), "name")
		e.do("PUT", "/api/v1/admin/categories/finance", admin.token, map[string]any{"policy": "open", "extra": 1}).want(t, http.StatusBadRequest, "invalid_request")
		list := e.do("GET", "/api/v1/categories", owner.token, nil).want(t, http.StatusOK, "").body["items"].([]any)
		got := map[string]any{}
		for _, c := range list {
			got[c.(map[string]any)["name"].(string)] = c.(map[string]any)["policy"]
		}
		want := map[string]any{"finance": "open", "gambling": "forbidden", "health": "review", "medicine": "credential", "news": "open"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("categories = %v, want %v", got, want)
		}
	})

	t.Run("posting by policy", func(t *testing.T) {
		e := e.sub(t)
		if p := e.postTo(owner, ch, "Open", "news").want(t, http.StatusCreated, ""); p.body["status"] != "published" || p.body["published_at"] == nil {
			t.Errorf("open category post = %s, want published", p.raw)
		}
		if p := e.postTo(owner, ch, "Held", "health").want(t, http.StatusCreated, ""); p.body["status"] != "pending_review" || p.body["published_at"] != nil {
			t.Errorf("review category post = %s, want pending_review without published_at", p.raw)
		}
		for category, policy := range map[string]string{"gambling": "forbidden", "medicine": "credential"} {
			res := e.postTo(owner, ch, "Refused", category).want(t, http.StatusForbidden, "category_not_authorized")
			if res.details()["policy"] != policy {
				t.Errorf("%s: details.policy = %v, want %s", category, res.details()["policy"], policy)
			}
		}
		wantField(t, e.postTo(owner, ch, "Unknown", "astrology"), "category")
		wantField(t, e.postTo(owner, ch, "", "news"), "title")
		wantField(t, e.do("POST", "/api/v1/channels/"+ch+"/posts", owner.token, map[string]any{"title": "No body", "body": " ", "category": "news"}), "body")
	})

	t.Run("credentials", func(t *testing.T) {
		e := e.sub(t)
		creds := "/api/v1/admin/channels/" + ch + "/credentials"
		future := time.Now().Add(24 * time.Hour).UTC()
		wantField(t, e.do("POST", creds, admin.token, map[string]any{"category": "medicine", "expires_at": time.Now().Add(-time.Minute)}), "expires_at")
		wantField(t, e.do("POST", creds, admin.token, map[string]any{"category": "news", "expires_at": future}), "category")
		e.do("POST", "/api/v1/admin/channels/99/credentials", admin.token, map[string]any{"category": "medicine", "expires_at": future}).want(t, http.StatusNotFound, "not_found")
		cr := e.do("POST", creds, admin.token, map[string]any{"category": "medicine", "expires_at": future}).want(t, http.StatusCreated, "")
		exp, err := time.Parse(time.RFC3339, fmt.Sprint(cr.body["expires_at"]))
		if cr.body["channel_id"] != ch || cr.body["category"] != "medicine" || err != nil || exp.Sub(future).Abs() > time.Millisecond {
			t.Errorf("credential = %s, want channel %s, category medicine, expires_at %s", cr.raw, ch, future.Format(time.RFC3339Nano))
		}
		if p := e.postTo(owner, ch, "Vaccines", "medicine").want(t, http.StatusCreated, ""); p.body["status"] != "published" {
			t.Errorf("credential category post = %s, want published", p.raw)
		}
		if ids := itemIDs(t, e.do("GET", creds, admin.token, nil)); !slices.Equal(ids, []string{cr.body["id"].(string)}) {
			t.Errorf("credentials = %v, want the one granted", ids)
		}
		e.do("DELETE", creds+"/"+cr.body["id"].(string)+"?reason=expired+licence", admin.token, nil).want(t, http.StatusNoContent, "")
		e.do("DELETE", creds+"/"+cr.body["id"].(string), admin.token, nil).want(t, http.StatusNotFound, "not_found")
		res := e.postTo(owner, ch, "Again", "medicine").want(t, http.StatusForbidden, "category_not_authorized")
		if res.details()["policy"] != "credential" {
			t.Errorf("after revocation details.policy = %v, want credential", res.details()["policy"])
		}
	})
}

// nextDay and nextMonth return the start of the next calendar day and
// month in loc, in UTC, as quota errors report them.
func nextDay(now time.Time, loc *time.Location) string {
	l := now.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day()+1, 0, 0, 0, 0, loc).UTC().Format(time.RFC3339)
}

func nextMonth(now time.Time, loc *time.Location) string {
	l := now.In(loc)
	return time.Date(l.Year(), l.Month()+1, 1, 0, 0, 0, 0, loc).UTC().Format(time.RFC3339)
}

// wantQuota fails unless r is a quota_exceeded whose next_allowed_at is
// next(t) for t before or after the request.
func wantQuota(tb testing.TB, r resp, before time.Time, next func(time.Time) string, period string) {
	tb.Helper()
	r.want(tb, http.StatusTooManyRequests, "quota_exceeded")
	d := r.details()
	if got := d["next_allowed_at"]; got != next(before) && got != next(time.Now()) {
		tb.Errorf("details.next_allowed_at = %v, want %s", got, next(before))
	}
	if d["period"] != period {
		tb.Errorf("details.period = %v, want %s", d["period"], period)
	}
	if secs, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || secs <= 0 {
		tb.Errorf("Retry-After = %q, want the seconds until next_allowed_at", r.header.Get("Retry-After"))
	}
}

func TestChannelQuotas(t *testing.T) {
	// The operator's day starts at 16:00 UTC: quotas follow it, not UTC.
	loc := time.FixedZone("UTC+8", 8*3600)
	e := newEnv(t, func(c *envConfig) {
		c.channels = channel.Config{Location: loc, SubscriptionDaily: 1, ServiceMonthly: 4}
	})
	reviewer := e.withRole("reviewer", account.Reviewer)
	admin := e.withRole("admin", account.Admin)
	owner := e.identityVerified("owner")
	daily := e.openChannel(owner, reviewer, "daily", "Daily", "subscription")
	monthly := e.openChannel(owner, reviewer, "monthly", "Monthly", "service")
	e.putCategory(admin, "news", channel.PolicyOpen)
	e.putCategory(admin, "health", channel.PolicyReview)
	e.putCategory(admin, "gambling", channel.PolicyForbidden)
	day := func(t time.Time) string { return nextDay(t, loc) }
	month := func(t time.Time) string { return nextMonth(t, loc) }

	c := e.do("GET", "/api/v1/channels/"+daily, owner.token, nil).want(t, http.StatusOK, "")
	if c.body["daily_post_limit"] != float64(1) || c.body["monthly_post_limit"] != nil {
		t.Errorf("subscription limits = %v/%v, want 1 a day and no monthly limit", c.body["daily_post_limit"], c.body["monthly_post_limit"])
	}

	// Refused posts do not count; published and pending ones do.
	e.postTo(owner, daily, "Refused", "gambling").want(t, http.StatusForbidden, "category_not_authorized")
	e.postTo(owner, daily, "First", "news").want(t, http.StatusCreated, "")
	now := time.Now()
	wantQuota(t, e.postTo(owner, daily, "Second", "news"), now, day, "day")
	wantQuota(t, e.postTo(owner, daily, "Held", "health"), now, day, "day")

	t.Run("raising the daily limit", func(t *testing.T) {
		e := e.sub(t)
		patch := "/api/v1/admin/channels/" + daily
		wantField(t, e.do("PATCH", patch, admin.token, map[string]any{"daily_post_limit": -1}), "daily_post_limit")
		e.do("PATCH", "/api/v1/admin/channels/99", admin.token, map[string]any{"daily_post_limit": 3}).want(t, http.StatusNotFound, "not_found")
		res := e.do("PATCH", patch, admin.token, map[string]any{"daily_post_limit": 3}).want(t, http.StatusOK, "")
		if res.body["daily_post_limit"] != float64(3) {
			t.Errorf("PATCH answered daily_post_limit %v, want 3", res.body["daily_post_limit"])
		}
		e.postTo(owner, daily, "Held", "health").want(t, http.StatusCreated, "")
		e.postTo(owner, daily, "Third", "news").want(t, http.StatusCreated, "")
		res = e.postTo(owner, daily, "Fourth", "news")
		wantQuota(t, res, now, day, "day")
		if res.details()["limit"] != float64(3) {
			t.Errorf("details.limit = %v, want 3", res.details()["limit"])
		}
	})

	t.Run("service accounts count months", func(t *testing.T) {
		e := e.sub(t)
		for i := range 4 {
			e.postTo(owner, monthly, fmt.Sprintf("Issue %d", i+1), "news").want(t, http.StatusCreated, "")
		}
		wantQuota(t, e.postTo(owner, monthly, "Issue 5", "news"), now, month, "month")
	})
}

func TestChannelPostReview(t *testing.T) {
	e := newEnv(t, generousQuotas)
	reviewer := e.withRole("reviewer", account.Reviewer)
	admin := e.withRole("admin", account.Admin)
	owner := e.identityVerified("owner")
	follower, stranger := e.register("follower"), e.register("stranger")
	ch := e.openChannel(owner, reviewer, "clinic", "Clinic", "subscription")
	e.putCategory(admin, "health", channel.PolicyReview)
	e.putCategory(admin, "news", channel.PolicyOpen)
	e.follow(follower, ch)
	live := e.dial(follower, "")
	live.until("ready")
	posts := "/api/v1/channels/" + ch + "/posts"

	chart := idOf(t, e.upload(owner, "chart.png", "image/png", pngFixture(t, 16, 16)).want(t, http.StatusCreated, ""))
	notMine := idOf(t, e.upload(stranger, "other.png", "image/png", pngFixture(t, 8, 8)).want(t, http.StatusCreated, ""))
	wantField(t, e.postTo(owner, ch, "Borrowed", "health", notMine), "media_ids")

	held := e.postTo(owner, ch, "Flu season", "health", chart).want(t, http.StatusCreated, "")
	heldID := held.body["id"].(string)
	if held.body["status"] != "pending_review" || fmt.Sprint(held.body["media_ids"]) != fmt.Sprint([]any{chart}) {
		t.Errorf("held post = %s, want pending_review with the chart", held.raw)
	}

	// Held: the owner sees it, readers do not, nor its media.
	if ids := itemIDs(t, e.do("GET", posts, follower.token, nil).want(t, http.StatusOK, "")); len(ids) != 0 {
		t.Errorf("published posts while held = %v, want none", ids)
	}
	pending := e.do("GET", posts+"?status=pending_review", owner.token, nil).want(t, http.StatusOK, "")
	if ids := itemIDs(t, pending); !slices.Equal(ids, []string{heldID}) || pending.body["items"].([]any)[0].(map[string]any)["status"] != "pending_review" {
		t.Errorf("owner's pending posts = %s, want the held one", pending.raw)
	}
	for _, u := range []user{follower, stranger} {
		e.do("GET", mediaPath(chart), u.token, nil).want(t, http.StatusNotFound, "not_found")
		e.do("GET", mediaPath(chart)+"/thumbnail", u.token, nil).want(t, http.StatusNotFound, "not_found")
	}
	if got := e.fetch(owner.token, mediaPath(chart), ""); got.status != http.StatusOK {
		t.Errorf("the uploader got %d for their own media, want 200", got.status)
	}

	queue := e.do("GET", "/api/v1/admin/post-reviews?status=pending", reviewer.token, nil).want(t, http.StatusOK, "")
	if ids := itemIDs(t, queue); !slices.Equal(ids, []string{heldID}) {
		t.Fatalf("review queue = %v, want [%s]", ids, heldID)
	}
	decide := "/api/v1/admin/post-reviews/" + heldID + "/decision"
	e.do("POST", decide, reviewer.token, map[string]any{}).want(t, http.StatusBadRequest, "invalid_request")
	wantField(t, e.do("POST", decide, reviewer.token, map[string]any{"approve": false}), "reason")
	e.do("POST", "/api/v1/admin/post-reviews/99/decision", reviewer.token, map[string]any{"approve": true}).want(t, http.StatusNotFound, "not_found")

	ok := e.do("POST", decide, reviewer.token, map[string]any{"approve": true, "reason": "Sources checked"}).want(t, http.StatusOK, "")
	if ok.body["status"] != "published" || ok.body["published_at"] == nil {
		t.Errorf("approval answered %s, want published with published_at", ok.raw)
	}
	// The held post reaches followers only now, as the first post frame.
	if got := live.nextPost(); got["id"] != heldID || got["status"] != "published" || got["channel_id"] != ch {
		t.Errorf("follower's post frame = %v, want %s published", got, heldID)
	}
	e.do("POST", decide, reviewer.token, map[string]any{"approve": false, "reason": "late"}).want(t, http.StatusConflict, "conflict")

	if ids := itemIDs(t, e.do("GET", posts, stranger.token, nil)); !slices.Equal(ids, []string{heldID}) {
		t.Errorf("published posts after approval = %v, want [%s]", ids, heldID)
	}
	if ids := itemIDs(t, e.do("GET", posts+"?status=pending_review", owner.token, nil)); len(ids) != 0 {
		t.Errorf("owner's pending posts after approval = %v, want none", ids)
	}
	// Published media is visible to any signed-in account, not anonymously.
	for _, u := range []user{stranger, follower, reviewer} {
		for _, path := range []string{mediaPath(chart), mediaPath(chart) + "/thumbnail"} {
			if got := e.fetch(u.token, path, ""); got.status != http.StatusOK {
				t.Errorf("%s got %d for %s of a published post, want 200", u.handle, got.status, path)
			}
		}
	}
	e.do("GET", mediaPath(chart), "", nil).want(t, http.StatusUnauthorized, "unauthenticated")

	// A rejected post shows its reason to the owner and never reaches readers.
	rejected := e.postTo(owner, ch, "Miracle cure", "health").want(t, http.StatusCreated, "").body["id"].(string)
	e.do("POST", "/api/v1/admin/post-reviews/"+rejected+"/decision", reviewer.token, map[string]any{"approve": false, "reason": "Unsupported medical claims"}).
		want(t, http.StatusOK, "")
	mine := e.do("GET", posts+"?status=rejected", owner.token, nil).want(t, http.StatusOK, "")
	if ids := itemIDs(t, mine); !slices.Equal(ids, []string{rejected}) {
		t.Fatalf("owner's rejected posts = %v, want [%s]", ids, rejected)
	}
	if p := mine.body["items"].([]any)[0].(map[string]any); p["status"] != "rejected" || p["reason"] != "Unsupported medical claims" {
		t.Errorf("rejected post = %v, want status rejected with the reason", p)
	}
	if ids := itemIDs(t, e.do("GET", "/api/v1/admin/post-reviews?status=rejected", reviewer.token, nil)); !slices.Equal(ids, []string{rejected}) {
		t.Errorf("reviewed-and-rejected list = %v, want [%s]", ids, rejected)
	}
	next := e.postTo(owner, ch, "Weekly roundup", "news").want(t, http.StatusCreated, "").body["id"].(string)
	if got := live.nextPost(); got["id"] != next {
		t.Errorf("follower's next post frame = %v, want %s (the rejected post must not be sent)", got["id"], next)
	}
	if ids := itemIDs(t, e.do("GET", posts, follower.token, nil)); !slices.Equal(ids, []string{next, heldID}) {
		t.Errorf("published posts = %v, want [%s %s]", ids, next, heldID)
	}
}

func TestChannelStreamDelivery(t *testing.T) {
	e := newEnv(t, generousQuotas)
	reviewer := e.withRole("reviewer", account.Reviewer)
	admin := e.withRole("admin", account.Admin)
	owner := e.identityVerified("owner")
	fan, passer := e.register("fan"), e.register("passer")
	ch := e.openChannel(owner, reviewer, "city_news", "City News", "subscription")
	e.putCategory(admin, "news", channel.PolicyOpen)

	e.follow(fan, ch)
	fanLive := e.dial(fan, "")
	fanLive.until("ready")
	passerLive := e.dial(passer, "")
	passerLive.until("ready")

	p1 := e.postTo(owner, ch, "One", "news").want(t, http.StatusCreated, "")
	got := fanLive.nextPost()
	for _, k := range []string{"id", "channel_id", "author_id", "title", "body", "category", "status", "published_at"} {
		if fmt.Sprint(got[k]) != fmt.Sprint(p1.body[k]) {
			t.Errorf("frame data %s = %v, want %v as POST answered", k, got[k], p1.body[k])
		}
	}
	if !strings.Contains(fmt.Sprint(got["body_html"]), "<em>One</em>") {
		t.Errorf("frame body_html = %v, want the rendered Markdown", got["body_html"])
	}

	// The passer, connected but not following, gets nothing until they
	// follow; then, without reconnecting, the next post arrives first.
	e.follow(passer, ch)
	p2 := e.postTo(owner, ch, "Two", "news").want(t, http.StatusCreated, "").body["id"].(string)
	if got := passerLive.nextPost(); got["id"] != p2 {
		t.Errorf("passer's first post frame = %v, want %s (post %s came before following)", got["id"], p2, p1.body["id"])
	}
	if got := fanLive.nextPost(); got["id"] != p2 {
		t.Errorf("fan's post frame = %v, want %s", got["id"], p2)
	}

	// Unfollowing stops delivery at once; following again resumes it.
	e.do("DELETE", "/api/v1/channels/"+ch+"/follow", fan.token, nil).want(t, http.StatusNoContent, "")
	p3 := e.postTo(owner, ch, "Three", "news").want(t, http.StatusCreated, "").body["id"].(string)
	if got := passerLive.nextPost(); got["id"] != p3 {
		t.Errorf("passer's post frame = %v, want %s", got["id"], p3)
	}
	e.follow(fan, ch)
	p4 := e.postTo(owner, ch, "Four", "news").want(t, http.StatusCreated, "").body["id"].(string)
	if got := fanLive.nextPost(); got["id"] != p4 {
		t.Errorf("fan's post frame after unfollowing and following again = %v, want %s (not %s, posted while unfollowed)", got["id"], p4, p3)
	}
	if got := passerLive.nextPost(); got["id"] != p4 {
		t.Errorf("passer's post frame = %v, want %s", got["id"], p4)
	}

	// A device that connects later follows from the start.
	late := e.dial(fan, "")
	late.until("ready")
	p5 := e.postTo(owner, ch, "Five", "news").want(t, http.StatusCreated, "").body["id"].(string)
	for name, s := range map[string]*stream{"fan's first device": fanLive, "fan's second device": late, "passer": passerLive} {
		if got := s.nextPost(); got["id"] != p5 {
			t.Errorf("%s: post frame = %v, want %s", name, got["id"], p5)
		}
	}
}

func TestChannelFeed(t *testing.T) {
	e := newEnv(t, generousQuotas)
	reviewer := e.withRole("reviewer", account.Reviewer)
	admin := e.withRole("admin", account.Admin)
	alice, bob := e.identityVerified("alice"), e.identityVerified("bob")
	reader, loner := e.register("reader"), e.register("loner")
	a := e.openChannel(alice, reviewer, "alpha", "Alpha", "subscription")
	b := e.openChannel(bob, reviewer, "beta", "Beta", "service")
	e.putCategory(admin, "news", channel.PolicyOpen)
	id := func(r resp) string { return r.want(t, http.StatusCreated, "").body["id"].(string) }

	// A post from before following is in the feed but not unread.
	old := id(e.postTo(alice, a, "Old", "news"))
	e.follow(reader, a)
	e.follow(reader, b)
	a1 := id(e.postTo(alice, a, "A1", "news"))
	b1 := id(e.postTo(bob, b, "B1", "news"))
	a2 := id(e.postTo(alice, a, "A2", "news"))

	unread := func(tb testing.TB, r resp) map[string]any {
		tb.Helper()
		out := map[string]any{}
		for _, u := range r.body["unread"].([]any) {
			out[u.(map[string]any)["channel_id"].(string)] = u.(map[string]any)["unread_count"]
		}
		return out
	}
	feed := e.do("GET", "/api/v1/feeds/channels", reader.token, nil).want(t, http.StatusOK, "")
	if ids := itemIDs(t, feed); !slices.Equal(ids, []string{a2, b1, a1, old}) {
		t.Errorf("feed = %v, want newest first [%s %s %s %s]", ids, a2, b1, a1, old)
	}
	if u := unread(t, feed); u[a] != float64(2) || u[b] != float64(1) || len(u) != 2 {
		t.Errorf("unread = %v, want %s:2 and %s:1", u, a, b)
	}
	if feed.body["next_cursor"] != "" {
		t.Errorf("next_cursor = %v, want empty on the last page", feed.body["next_cursor"])
	}

	t.Run("pages", func(t *testing.T) {
		e := e.sub(t)
		first := e.do("GET", "/api/v1/feeds/channels?limit=3", reader.token, nil).want(t, http.StatusOK, "")
		cursor, _ := first.body["next_cursor"].(string)
		if ids := itemIDs(t, first); !slices.Equal(ids, []string{a2, b1, a1}) || cursor == "" {
			t.Fatalf("first page = %s, want three posts and a next_cursor", first.raw)
		}
		second := e.do("GET", "/api/v1/feeds/channels?limit=3&cursor="+cursor, reader.token, nil).want(t, http.StatusOK, "")
		if ids := itemIDs(t, second); !slices.Equal(ids, []string{old}) {
			t.Errorf("second page = %v, want [%s]", ids, old)
		}
		e.do("GET", "/api/v1/feeds/channels?cursor=abc", reader.token, nil).want(t, http.StatusBadRequest, "invalid_request")
	})

	e.do("POST", "/api/v1/channels/"+a+"/read", reader.token, nil).want(t, http.StatusNoContent, "")
	if u := unread(t, e.do("GET", "/api/v1/feeds/channels", reader.token, nil)); u[a] != float64(0) || u[b] != float64(1) {
		t.Errorf("unread after reading %s = %v, want %s:0 and %s:1", a, u, a, b)
	}
	a3 := id(e.postTo(alice, a, "A3", "news"))
	if u := unread(t, e.do("GET", "/api/v1/feeds/channels", reader.token, nil)); u[a] != float64(1) {
		t.Errorf("unread after %s = %v, want %s:1", a3, u, a)
	}
	e.do("POST", "/api/v1/channels/"+a+"/read", loner.token, nil).want(t, http.StatusNotFound, "not_found")
	e.do("POST", "/api/v1/channels/"+a+"/read", "", nil).want(t, http.StatusUnauthorized, "unauthenticated")

	empty := e.do("GET", "/api/v1/feeds/channels", loner.token, nil).want(t, http.StatusOK, "")
	if string(empty.raw) != `{"items":[],"next_cursor":"","unread":[]}`+"\n" && string(empty.raw) != `{"items":[],"next_cursor":"","unread":[]}` {
		t.Errorf("feed of someone who follows nothing = %s, want empty lists", empty.raw)
	}
	e.do("GET", "/api/v1/feeds/channels", "", nil).want(t, http.StatusUnauthorized, "unauthenticated")

	// Unfollowing removes the channel from the feed.
	e.do("DELETE", "/api/v1/channels/"+b+"/follow", reader.token, nil).want(t, http.StatusNoContent, "")
	after := e.do("GET", "/api/v1/feeds/channels", reader.token, nil).want(t, http.StatusOK, "")
	if ids := itemIDs(t, after); !slices.Equal(ids, []string{a3, a2, a1, old}) {
		t.Errorf("feed after unfollowing %s = %v, want only %s's posts", b, ids, a)
	}
	if u := unread(t, after); len(u) != 1 {
		t.Errorf("unread after unfollowing = %v, want only %s", u, a)
	}
}

func TestChannelSuspension(t *testing.T) {
	e := newEnv(t, generousQuotas)
	reviewer := e.withRole("reviewer", account.Reviewer)
	admin := e.withRole("admin", account.Admin)
	owner, editor := e.identityVerified("owner"), e.identityVerified("editor")
	follower, newcomer := e.register("follower"), e.register("newcomer")
	ch := e.openChannel(owner, reviewer, "city_news", "City News", "subscription")
	e.putCategory(admin, "news", channel.PolicyOpen)
	e.follow(follower, ch)
	e.do("POST", "/api/v1/channels/"+ch+"/editors", owner.token, map[string]any{"account_id": editor.id.String()}).want(t, http.StatusOK, "")
	status := "/api/v1/admin/channels/" + ch + "/status"

	wantField(t, e.do("POST", status, admin.token, map[string]any{"status": "suspended"}), "reason")
	wantField(t, e.do("POST", status, admin.token, map[string]any{"status": "paused", "reason": "x"}), "status")
	e.do("POST", "/api/v1/admin/channels/99/status", admin.token, map[string]any{"status": "suspended", "reason": "x"}).want(t, http.StatusNotFound, "not_found")

	const why = "Repeated misinformation"
	res := e.do("POST", status, admin.token, map[string]any{"status": "suspended", "reason": why}).want(t, http.StatusOK, "")
	if res.body["status"] != "suspended" || res.body["status_reason"] != why {
		t.Errorf("suspension answered %s", res.raw)
	}
	c := e.do("GET", "/api/v1/channels/"+ch, follower.token, nil).want(t, http.StatusOK, "")
	if c.body["status"] != "suspended" || c.body["status_reason"] != why || c.body["following"] != true {
		t.Errorf("follower sees %s, want status suspended with the reason", c.raw)
	}
	if ids := itemIDs(t, e.do("GET", "/api/v1/channels?q=news", follower.token, nil)); len(ids) != 0 {
		t.Errorf("search lists the suspended channel: %v", ids)
	}
	for _, u := range []user{owner, editor} {
		e.postTo(u, ch, "Still here", "news").want(t, http.StatusForbidden, "forbidden")
	}
	e.do("POST", "/api/v1/channels/"+ch+"/follow", newcomer.token, nil).want(t, http.StatusConflict, "conflict")

	// Reinstated, it posts again and the reason is gone.
	res = e.do("POST", status, admin.token, map[string]any{"status": "active", "reason": "Appeal upheld"}).want(t, http.StatusOK, "")
	if res.body["status"] != "active" || res.body["status_reason"] != nil {
		t.Errorf("reinstatement answered %s, want active without status_reason", res.raw)
	}
	e.postTo(owner, ch, "Back", "news").want(t, http.StatusCreated, "")

	// Closed is final.
	e.do("POST", status, admin.token, map[string]any{"status": "closed", "reason": "Owner asked"}).want(t, http.StatusOK, "")
	e.do("POST", status, admin.token, map[string]any{"status": "active", "reason": "Oops"}).want(t, http.StatusConflict, "conflict")
	e.postTo(owner, ch, "Gone", "news").want(t, http.StatusForbidden, "forbidden")
}

// TestChannelSearchFoldsCase searches names outside ASCII: the service
// lower-cases the query with Unicode rules, so the names it compares with
// must be folded the same way, on every engine.
func TestChannelSearchFoldsCase(t *testing.T) {
	e := newEnv(t)
	reviewer := e.withRole("reviewer", account.Reviewer)
	elan := e.openChannel(e.identityVerified("owner"), reviewer, "elan", "Élan Vital", "subscription")
	reader := e.register("reader")
	for _, q := range []string{"vital", "VITAL", "Élan", "élan", "ÉLAN"} {
		res := e.do("GET", "/api/v1/channels?q="+url.QueryEscape(q), reader.token, nil).want(t, http.StatusOK, "")
		if ids := itemIDs(t, res); !slices.Equal(ids, []string{elan}) {
			t.Errorf("search %q = %v, want [%s] (the channel named %q)", q, ids, elan, "Élan Vital")
		}
	}
}

// TestChannelSuspensionHoldsReviewedPosts approves a post held for review
// while its channel is suspended: it must not be published then.
func TestChannelSuspensionHoldsReviewedPosts(t *testing.T) {
	e := newEnv(t, generousQuotas)
	reviewer := e.withRole("reviewer", account.Reviewer)
	admin := e.withRole("admin", account.Admin)
	owner, follower := e.identityVerified("owner"), e.register("follower")
	ch := e.openChannel(owner, reviewer, "clinic", "Clinic", "subscription")
	e.putCategory(admin, "health", channel.PolicyReview)
	e.follow(follower, ch)
	held := e.postTo(owner, ch, "Flu season", "health").want(t, http.StatusCreated, "").body["id"].(string)
	e.do("POST", "/api/v1/admin/channels/"+ch+"/status", admin.token, map[string]any{"status": "suspended", "reason": "Under investigation"}).
		want(t, http.StatusOK, "")

	res := e.do("POST", "/api/v1/admin/post-reviews/"+held+"/decision", reviewer.token, map[string]any{"approve": true})
	if res.status == http.StatusOK && res.body["status"] == "published" {
		t.Errorf("approving a held post of a suspended channel published it: %s", res.raw)
	}
	if ids := itemIDs(t, e.do("GET", "/api/v1/channels/"+ch+"/posts", follower.token, nil)); slices.Contains(ids, held) {
		t.Errorf("the suspended channel's posts include %s, approved during the suspension", held)
	}
}

// TestChannelFollowControlTravelsOverTheBus loses the follow control on
// the bus: the device connected at the time then misses the channel's live
// posts, as documented, while the feed has them; the next control that
// gets through starts delivery.
func TestChannelFollowControlTravelsOverTheBus(t *testing.T) {
	lossy := &lossyBus{}
	e := newEnv(t, generousQuotas, func(c *envConfig) {
		c.wrapBus = func(b bus.Bus) bus.Bus { lossy.Bus = b; return lossy }
	})
	reviewer := e.withRole("reviewer", account.Reviewer)
	admin := e.withRole("admin", account.Admin)
	owner, reader := e.identityVerified("owner"), e.register("reader")
	ch := e.openChannel(owner, reviewer, "city_news", "City News", "subscription")
	e.putCategory(admin, "news", channel.PolicyOpen)
	live := e.dial(reader, "")
	live.until("ready")

	lossy.prefix = "acct." + reader.id.String()
	lossy.drop.Store(1)
	e.follow(reader, ch) // its control is lost
	missed := e.postTo(owner, ch, "Missed live", "news").want(t, http.StatusCreated, "").body["id"].(string)
	if ids := itemIDs(t, e.do("GET", "/api/v1/feeds/channels", reader.token, nil)); !slices.Equal(ids, []string{missed}) {
		t.Errorf("feed = %v, want [%s]", ids, missed)
	}
	e.do("DELETE", "/api/v1/channels/"+ch+"/follow", reader.token, nil).want(t, http.StatusNoContent, "")
	e.follow(reader, ch)
	seen := e.postTo(owner, ch, "Seen live", "news").want(t, http.StatusCreated, "").body["id"].(string)
	if got := live.nextPost(); got["id"] != seen {
		t.Errorf("first post frame = %v, want %s (%s was posted while the follow control was lost)", got["id"], seen, missed)
	}
}

// TestChannelQuotaUnderConcurrency posts many times at once on a channel
// allowed one post a day: exactly one gets through.
func TestChannelQuotaUnderConcurrency(t *testing.T) {
	e := newEnv(t)
	reviewer := e.withRole("reviewer", account.Reviewer)
	admin := e.withRole("admin", account.Admin)
	owner := e.identityVerified("owner")
	ch := e.openChannel(owner, reviewer, "city_news", "City News", "subscription")
	e.putCategory(admin, "news", channel.PolicyOpen)

	const n = 8
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = e.postTo(owner, ch, fmt.Sprintf("Race %d", i), "news").status
		}()
	}
	wg.Wait()
	created := 0
	for _, s := range statuses {
		switch s {
		case http.StatusCreated:
			created++
		case http.StatusTooManyRequests:
		default:
			t.Errorf("a concurrent post got %d, want 201 or 429", s)
		}
	}
	if created != 1 {
		t.Errorf("%d concurrent posts were accepted, want 1 (statuses %v)", created, statuses)
	}
	if ids := itemIDs(t, e.do("GET", "/api/v1/channels/"+ch+"/posts", owner.token, nil)); len(ids) != 1 {
		t.Errorf("%d posts published, want 1", len(ids))
	}
}
