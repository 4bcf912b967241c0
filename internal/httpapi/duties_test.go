package httpapi

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/audit"
	"github.com/plaza-im/plaza/internal/channel"
)

// wantReason fails unless r is a 403 forbidden with details.reason.
func (r resp) wantReason(tb testing.TB, reason string) {
	tb.Helper()
	r.want(tb, http.StatusForbidden, "forbidden")
	if got := r.details()["reason"]; got != reason {
		tb.Fatalf("got details.reason %v, want %q; body: %s", got, reason, r.raw)
	}
}

// grant gives u role as the operator would.
func (e *testEnv) grant(u user, role account.Role) {
	e.t.Helper()
	if err := e.accounts.GrantRole(context.Background(), audit.CLI, u.id, role); err != nil {
		e.t.Fatal(err)
	}
}

// TestHostileStaffRanks: a moderator may not suspend, reinstate or close
// an admin or another moderator; an admin may act on another admin;
// nobody on themselves; anonymous callers and ordinary accounts are
// refused before any of that.
func TestHostileStaffRanks(t *testing.T) {
	e := newEnv(t)
	admin, admin2 := e.withRole("admin1", account.Admin), e.withRole("admin2", account.Admin)
	mod, mod2 := e.withRole("mod1", account.Moderator), e.withRole("mod2", account.Moderator)
	rev := e.withRole("rev1", account.Reviewer)
	u := e.register("someone")
	acct := func(v user) string { return "/api/v1/admin/accounts/" + v.id.String() }
	why := map[string]any{"reason": "test"}

	for _, path := range []string{acct(admin) + "/suspension", acct(admin) + "/reinstatement", acct(admin) + "/closure", acct(rev) + "/roles/moderator"} {
		method := "POST"
		if path == acct(rev)+"/roles/moderator" {
			method = "PUT"
		}
		e.do(method, path, "", why).want(t, http.StatusUnauthorized, "unauthenticated")
		e.do(method, path, u.token, why).want(t, http.StatusForbidden, "forbidden")
	}

	e.do("POST", acct(admin)+"/suspension", mod.token, why).wantReason(t, account.ReasonEqualOrHigherRole)
	e.do("POST", acct(mod2)+"/suspension", mod.token, why).wantReason(t, account.ReasonEqualOrHigherRole)
	e.do("POST", acct(mod)+"/suspension", mod.token, why).wantReason(t, account.ReasonSelf)
	e.do("POST", acct(admin)+"/suspension", admin.token, why).wantReason(t, account.ReasonSelf)
	e.do("PUT", acct(admin)+"/roles/compliance", admin.token, nil).wantReason(t, account.ReasonSelf)
	if me := e.do("GET", "/api/v1/me", admin.token, nil).want(t, http.StatusOK, ""); me.body["status"] != "active" {
		t.Fatalf("the admin after a moderator's attempt: %s", me.raw)
	}

	// Admins act on admins; moderators on lower ranks.
	e.do("POST", acct(admin2)+"/suspension", admin.token, why).want(t, http.StatusOK, "")
	e.do("POST", acct(admin2)+"/reinstatement", mod.token, why).wantReason(t, account.ReasonEqualOrHigherRole)
	e.do("POST", acct(admin2)+"/reinstatement", admin.token, why).want(t, http.StatusOK, "")
	e.do("POST", acct(rev)+"/suspension", mod.token, why).want(t, http.StatusOK, "")
	e.do("POST", acct(rev)+"/reinstatement", mod.token, why).want(t, http.StatusOK, "")
	e.do("POST", acct(mod2)+"/closure", admin.token, why).want(t, http.StatusOK, "")
}

// TestHostileOwnSubmissions: staff may not decide their own identity,
// their own channel application, a held post of a channel they own or
// edit, or the status of such a channel.
func TestHostileOwnSubmissions(t *testing.T) {
	e := newEnv(t, generousQuotas)
	admin := e.withRole("admin", account.Admin)
	reviewer := e.withRole("reviewer", account.Reviewer)
	u := e.register("someone")

	// Identity: a compliance officer's own submission.
	officer := e.register("officer")
	e.verifyPhone(officer, "+8613912345678")
	sub := e.do("POST", "/api/v1/me/identity", officer.token, map[string]any{
		"legal_name": "Chen Jing", "document_type": "national_id", "document_number": validCNID, "document_country": "CN",
	}).want(t, http.StatusAccepted, "")
	e.grant(officer, account.Compliance)
	idPath := "/api/v1/admin/identity-reviews/" + sub.body["id"].(string) + "/decision"
	e.do("POST", idPath, "", map[string]any{"approve": true}).want(t, http.StatusUnauthorized, "unauthenticated")
	e.do("POST", idPath, u.token, map[string]any{"approve": true}).want(t, http.StatusForbidden, "forbidden")
	e.do("POST", idPath, officer.token, map[string]any{"approve": true}).wantReason(t, account.ReasonOwnSubmission)
	if got := e.do("GET", "/api/v1/me/identity", officer.token, nil).want(t, http.StatusOK, ""); got.body["status"] != "pending" {
		t.Fatalf("own identity after the refusal: %s", got.raw)
	}
	e.do("POST", idPath, e.withRole("colleague", account.Compliance).token, map[string]any{"approve": true}).want(t, http.StatusOK, "")

	// Channel application: a reviewer's own.
	revOwner := e.identityVerified("revowner")
	e.grant(revOwner, account.Reviewer)
	app := e.do("POST", "/api/v1/channel-applications", revOwner.token, map[string]any{
		"handle": "own_news", "name": "Own News", "description": "mine", "kind": "subscription",
	}).want(t, http.StatusCreated, "")
	appPath := "/api/v1/admin/channel-applications/" + app.body["id"].(string) + "/decision"
	e.do("POST", appPath, "", map[string]any{"approve": true}).want(t, http.StatusUnauthorized, "unauthenticated")
	e.do("POST", appPath, u.token, map[string]any{"approve": true}).want(t, http.StatusForbidden, "forbidden")
	e.do("POST", appPath, revOwner.token, map[string]any{"approve": true}).wantReason(t, account.ReasonOwnSubmission)
	ch := e.do("POST", appPath, reviewer.token, map[string]any{"approve": true}).want(t, http.StatusOK, "").body["channel_id"].(string)

	// A held post of one's own channel.
	e.putCategory(admin, "health", channel.PolicyReview)
	held := e.postTo(revOwner, ch, "Flu season", "health").want(t, http.StatusCreated, "").body["id"].(string)
	postPath := "/api/v1/admin/post-reviews/" + held + "/decision"
	e.do("POST", postPath, "", map[string]any{"approve": true}).want(t, http.StatusUnauthorized, "unauthenticated")
	e.do("POST", postPath, u.token, map[string]any{"approve": true}).want(t, http.StatusForbidden, "forbidden")
	e.do("POST", postPath, revOwner.token, map[string]any{"approve": true}).wantReason(t, account.ReasonOwnSubmission)
	e.do("POST", postPath, reviewer.token, map[string]any{"approve": true}).want(t, http.StatusOK, "")

	// The status of a channel an admin edits.
	e.do("POST", "/api/v1/channels/"+ch+"/editors", revOwner.token, map[string]any{"account_id": admin.id.String()}).want(t, http.StatusOK, "")
	statusPath := "/api/v1/admin/channels/" + ch + "/status"
	suspend := map[string]any{"status": "suspended", "reason": "x"}
	e.do("POST", statusPath, "", suspend).want(t, http.StatusUnauthorized, "unauthenticated")
	e.do("POST", statusPath, u.token, suspend).want(t, http.StatusForbidden, "forbidden")
	e.do("POST", statusPath, admin.token, suspend).wantReason(t, account.ReasonSelf)
	e.do("POST", statusPath, e.withRole("admin2", account.Admin).token, suspend).want(t, http.StatusOK, "")
}

// TestHostileSuspendedChannelHidden: while a channel is suspended its
// posts are gone from its post list (but for its owner), from followers'
// feeds and unread counts, and from search; reinstated, they are back.
func TestHostileSuspendedChannelHidden(t *testing.T) {
	e := newEnv(t, generousQuotas)
	reviewer := e.withRole("reviewer", account.Reviewer)
	admin := e.withRole("admin", account.Admin)
	owner := e.identityVerified("owner")
	follower, stranger := e.register("follower"), e.register("stranger")
	ch := e.openChannel(owner, reviewer, "tribune", "Tribune", "subscription")
	e.putCategory(admin, "news", channel.PolicyOpen)
	e.follow(follower, ch)
	post := e.postTo(owner, ch, "Headline", "news").want(t, http.StatusCreated, "").body["id"].(string)
	posts := "/api/v1/channels/" + ch + "/posts"
	e.do("GET", posts, "", nil).want(t, http.StatusUnauthorized, "unauthenticated")
	e.do("GET", "/api/v1/feeds/channels", "", nil).want(t, http.StatusUnauthorized, "unauthenticated")

	visible := func(when string, want bool) {
		t.Helper()
		for _, u := range []user{follower, stranger} {
			if got := slices.Contains(itemIDs(t, e.do("GET", posts, u.token, nil).want(t, http.StatusOK, "")), post); got != want {
				t.Errorf("%s: %s lists the post: %v, want %v", when, u.handle, got, want)
			}
		}
		feed := e.do("GET", "/api/v1/feeds/channels", follower.token, nil).want(t, http.StatusOK, "")
		if got := slices.Contains(itemIDs(t, feed), post); got != want {
			t.Errorf("%s: the feed has the post: %v, want %v", when, got, want)
		}
		unread, _ := feed.body["unread"].([]any)
		listed := slices.ContainsFunc(unread, func(u any) bool { return u.(map[string]any)["channel_id"] == ch })
		if listed != want {
			t.Errorf("%s: unread counts list the channel: %v, want %v", when, listed, want)
		}
		if got := slices.Contains(itemIDs(t, e.do("GET", "/api/v1/channels?q=tribune", stranger.token, nil)), ch); got != want {
			t.Errorf("%s: search finds the channel: %v, want %v", when, got, want)
		}
		if !slices.Contains(itemIDs(t, e.do("GET", posts, owner.token, nil).want(t, http.StatusOK, "")), post) {
			t.Errorf("%s: the owner does not see their post", when)
		}
	}
	visible("active", true)
	status := "/api/v1/admin/channels/" + ch + "/status"
	e.do("POST", status, admin.token, map[string]any{"status": "suspended", "reason": "Investigation"}).want(t, http.StatusOK, "")
	visible("suspended", false)
	e.do("POST", status, admin.token, map[string]any{"status": "active", "reason": "Cleared"}).want(t, http.StatusOK, "")
	visible("reinstated", true)
	e.do("POST", status, admin.token, map[string]any{"status": "closed", "reason": "Gone"}).want(t, http.StatusOK, "")
	visible("closed", false)
}
