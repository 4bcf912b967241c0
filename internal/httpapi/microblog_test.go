package httpapi

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/plazatest"
)

// newPost has u post body and returns the response.
func (e *testEnv) newPost(u user, body map[string]any) resp {
	e.t.Helper()
	return e.do("POST", "/api/v1/posts", u.token, body)
}

// postText has u post text publicly and returns the post's ID.
func (e *testEnv) postText(u user, text string, extra ...any) string {
	e.t.Helper()
	return e.newPost(u, with(map[string]any{"text": text}, extra...)).want(e.t, http.StatusCreated, "").body["id"].(string)
}

// followAccount has u follow v.
func (e *testEnv) followAccount(u, v user) {
	e.t.Helper()
	e.do("POST", "/api/v1/accounts/"+v.id.String()+"/follow", u.token, nil).want(e.t, http.StatusNoContent, "")
}

// blockUser has u block v.
func (e *testEnv) blockUser(u, v user) {
	e.t.Helper()
	e.do("POST", "/api/v1/blocks", u.token, map[string]any{"account_id": v.id.String()}).want(e.t, http.StatusNoContent, "")
}

// waitList polls a list until its item IDs are want, in order.
func (e *testEnv) waitList(tb testing.TB, u user, path string, want ...string) {
	tb.Helper()
	plazatest.Eventually(tb, 10*time.Second, func() error {
		r := e.do("GET", path, u.token, nil)
		if r.status != http.StatusOK {
			return fmt.Errorf("GET %s: %d %s", path, r.status, r.raw)
		}
		if got := itemIDs(tb, r); !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
			return fmt.Errorf("GET %s as %s = %v, want %v", path, u.handle, got, want)
		}
		return nil
	})
}

// square is the cast of the microblog's HTTP tests: an author, and a
// viewer of each kind.
type square struct {
	author, stranger, follower, contact, blocked user
	// pub, fol and con are the author's public, followers and contacts
	// posts.
	pub, fol, con string
}

func (e *testEnv) newSquare() square {
	e.t.Helper()
	sq := square{author: e.verified("author"), stranger: e.verified("stranger"), follower: e.verified("follower"),
		contact: e.verified("contact"), blocked: e.verified("blocked")}
	e.followAccount(sq.follower, sq.author)
	e.followAccount(sq.blocked, sq.author)
	e.befriend(sq.contact, sq.author)
	e.blockUser(sq.author, sq.blocked)
	sq.pub = e.postText(sq.author, "Hello #Plaza from the author")
	sq.fol = e.postText(sq.author, "for my followers", "visibility", "followers")
	sq.con = e.postText(sq.author, "for my contacts", "visibility", "contacts")
	return sq
}

// TestMicroblogReadsByRole reads every microblog endpoint as an anonymous
// caller, a stranger, a follower, a contact, a blocked account and the
// author, on both engines.
func TestMicroblogReadsByRole(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *testEnv) {
		sq := e.newSquare()
		anon := anonUser
		who := map[string]user{"anonymous": anon, "stranger": sq.stranger, "follower": sq.follower, "contact": sq.contact, "blocked": sq.blocked, "author": sq.author}
		type sees struct{ pub, fol, con bool }
		want := map[string]sees{
			"anonymous": {pub: true}, "stranger": {pub: true}, "follower": {pub: true, fol: true},
			"contact": {pub: true, con: true}, "blocked": {}, "author": {pub: true, fol: true, con: true},
		}
		for name, u := range who {
			t.Run(name, func(t *testing.T) {
				w := want[name]
				for id, ok := range map[string]bool{sq.pub: w.pub, sq.fol: w.fol, sq.con: w.con} {
					r := e.do("GET", "/api/v1/posts/"+id, u.token, nil)
					if ok {
						r.want(t, http.StatusOK, "")
					} else {
						r.want(t, http.StatusNotFound, "not_found")
					}
				}
				var visible []string
				for _, x := range []struct {
					id string
					ok bool
				}{{sq.con, w.con}, {sq.fol, w.fol}, {sq.pub, w.pub}} {
					if x.ok {
						visible = append(visible, x.id)
					}
				}
				posts := e.do("GET", "/api/v1/accounts/"+sq.author.id.String()+"/posts", u.token, nil)
				if name == "blocked" {
					posts.want(t, http.StatusNotFound, "not_found")
					e.do("GET", "/api/v1/posts/"+sq.pub+"/replies", u.token, nil).want(t, http.StatusNotFound, "not_found")
				} else {
					if got := itemIDs(t, posts.want(t, http.StatusOK, "")); !slices.Equal(got, visible) {
						t.Errorf("the author's posts = %v, want %v", got, visible)
					}
					e.do("GET", "/api/v1/posts/"+sq.pub+"/replies", u.token, nil).want(t, http.StatusOK, "")
				}
				tagged := itemIDs(t, e.do("GET", "/api/v1/hashtags/plaza/posts", u.token, nil).want(t, http.StatusOK, ""))
				if wantTag := w.pub; (len(tagged) == 1) != wantTag {
					t.Errorf("hashtag page = %v, want the public post: %v", tagged, wantTag)
				}
				found := itemIDs(t, e.do("GET", "/api/v1/search/posts?q=author", u.token, nil).want(t, http.StatusOK, ""))
				if (len(found) == 1) != w.pub {
					t.Errorf("search = %v, want the public post: %v", found, w.pub)
				}
				trends := e.do("GET", "/api/v1/trending?window=1h", u.token, nil).want(t, http.StatusOK, "").body["items"].([]any)
				if len(trends) != 1 || trends[0].(map[string]any)["tag"] != "plaza" {
					t.Errorf("trending = %v, want plaza", trends)
				}
				if name == "anonymous" {
					for _, path := range []string{"/api/v1/timeline", "/api/v1/notifications", "/api/v1/accounts/" + sq.author.id.String() + "/followers"} {
						e.do("GET", path, "", nil).want(t, http.StatusUnauthorized, "unauthenticated")
					}
					return
				}
				// The timeline: own posts, followed accounts' and
				// contacts' contacts posts.
				var tl []string
				switch name {
				case "author":
					tl = []string{sq.con, sq.fol, sq.pub}
				case "follower":
					tl = []string{sq.fol, sq.pub}
				case "contact":
					tl = []string{sq.con}
				}
				e.waitList(t, u, "/api/v1/timeline", tl...)
				// The author's follow lists: not found across a block.
				lists, code := http.StatusOK, ""
				if name == "blocked" {
					lists, code = http.StatusNotFound, "not_found"
				}
				e.do("GET", "/api/v1/accounts/"+sq.author.id.String()+"/followers", u.token, nil).want(t, lists, code)
				e.do("GET", "/api/v1/accounts/"+sq.author.id.String()+"/following", u.token, nil).want(t, lists, code)
				e.do("GET", "/api/v1/notifications", u.token, nil).want(t, http.StatusOK, "")
			})
		}
		// A post of the followers' circle carries liked and counts for
		// the caller.
		p := e.do("GET", "/api/v1/posts/"+sq.fol, sq.follower.token, nil).want(t, http.StatusOK, "").body
		for _, f := range []string{"id", "author_id", "text", "media_ids", "visibility", "reply_to", "repost_of", "category", "status",
			"hashtags", "mentions", "like_count", "reply_count", "repost_count", "liked", "created_at"} {
			if _, ok := p[f]; !ok {
				t.Errorf("post lacks %q: %v", f, p)
			}
		}
		followers := itemIDs(t, e.do("GET", "/api/v1/accounts/"+sq.author.id.String()+"/followers", sq.stranger.token, nil).want(t, http.StatusOK, ""))
		if !slices.Equal(followers, []string{sq.follower.id.String()}) {
			t.Errorf("followers = %v, want the follower (the block ended the blocked account's follow)", followers)
		}
		prof := e.do("GET", "/api/v1/accounts/"+sq.author.id.String(), sq.follower.token, nil).want(t, http.StatusOK, "").body
		if prof["follower_count"] != 1.0 || prof["following_count"] != 0.0 || prof["post_count"] != 3.0 || prof["following"] != true {
			t.Errorf("profile = %v, want 1 follower, 0 following, 3 posts, following", prof)
		}
	})
}

// TestMicroblogWritesByRole: who may reply, like, follow and delete.
func TestMicroblogWritesByRole(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *testEnv) {
		sq := e.newSquare()
		author := sq.author.id.String()
		for _, c := range []struct {
			who          user
			reply, like  int
			follow       int
			followCode   string
			deleteStatus int
		}{
			{anonUser, 401, 401, 401, "unauthenticated", 401},
			{sq.stranger, 201, 204, 204, "", 403},
			{sq.follower, 201, 204, 204, "", 403},
			{sq.contact, 201, 204, 204, "", 403},
			{sq.blocked, 404, 404, 403, "blocked", 404},
			{sq.author, 201, 204, 400, "invalid_request", 204},
		} {
			t.Run(c.who.handle, func(t *testing.T) {
				r := e.newPost(c.who, map[string]any{"text": "re", "reply_to": sq.pub})
				if r.status != c.reply {
					t.Errorf("reply: %d %s, want %d", r.status, r.raw, c.reply)
				}
				for _, m := range []string{"POST", "DELETE", "POST"} {
					if r := e.do(m, "/api/v1/posts/"+sq.pub+"/like", c.who.token, nil); r.status != c.like {
						t.Errorf("%s like: %d %s, want %d", m, r.status, r.raw, c.like)
					}
				}
				for _, m := range []string{"POST", "DELETE"} {
					r := e.do(m, "/api/v1/accounts/"+author+"/follow", c.who.token, nil)
					want, code := c.follow, c.followCode
					if m == "DELETE" && c.follow == 403 {
						want, code = 204, "" // unfollowing across a block: nothing to undo
					}
					r.want(t, want, code)
				}
				own := e.postText(sq.author, "to delete")
				r = e.do("DELETE", "/api/v1/posts/"+own, c.who.token, nil)
				if r.status != c.deleteStatus {
					t.Errorf("delete: %d %s, want %d", r.status, r.raw, c.deleteStatus)
				}
			})
		}
		e.do("DELETE", "/api/v1/posts/"+sq.pub, sq.author.token, nil).want(t, http.StatusNoContent, "")
		e.do("DELETE", "/api/v1/posts/"+sq.pub, sq.author.token, nil).want(t, http.StatusNotFound, "not_found")
		e.do("GET", "/api/v1/posts/"+sq.pub, "", nil).want(t, http.StatusNotFound, "not_found")
		e.do("DELETE", "/api/v1/posts/"+sq.con, sq.follower.token, nil).want(t, http.StatusNotFound, "not_found")
		// The follower unfollowed above: the followers' post is out of
		// reach until they follow again.
		e.do("POST", "/api/v1/posts/"+sq.fol+"/like", sq.follower.token, nil).want(t, http.StatusNotFound, "not_found")
		e.followAccount(sq.follower, sq.author)
		e.do("POST", "/api/v1/posts/"+sq.fol+"/like", sq.follower.token, nil).want(t, http.StatusNoContent, "")
		if p := e.do("GET", "/api/v1/posts/"+sq.fol, sq.follower.token, nil).body; p["like_count"] != 1.0 || p["liked"] != true {
			t.Errorf("liked post = %v", p)
		}
	})
}

// TestMicroblogBadInput: every bad field is named, and nothing is stored.
func TestMicroblogBadInput(t *testing.T) {
	e := newEnv(t)
	u := e.verified("writer")
	other := e.verified("other")
	theirs := idOf(t, e.upload(other, "x.png", "image/png", pngFixture(t, 8, 8)))
	var ten []string
	for i := 0; i < 10; i++ {
		ten = append(ten, idOf(t, e.upload(u, "x.png", "image/png", pngFixture(t, 8, 8))))
	}
	for name, c := range map[string]struct {
		body  any
		field string
	}{
		"2,001 characters":      {map[string]any{"text": strings.Repeat("好", 2001)}, "text"},
		"a NUL":                 {`{"text": "a\u0000b"}`, "text"},
		"empty":                 {map[string]any{"text": ""}, "text"},
		"visibility":            {map[string]any{"text": "x", "visibility": "friends"}, "visibility"},
		"ten media":             {map[string]any{"text": "x", "media_ids": ten}, "media_ids"},
		"someone else's media":  {map[string]any{"text": "x", "media_ids": []string{theirs}}, "media_ids"},
		"reply_to not a string": {map[string]any{"text": "x", "reply_to": 12}, "reply_to"},
		"repost_of not an ID":   {map[string]any{"repost_of": "abc"}, "repost_of"},
		"media_ids not IDs":     {map[string]any{"media_ids": []any{"1", "x"}}, "media_ids"},
		"unknown field":         {map[string]any{"text": "x", "title": "no"}, "title"},
		"category":              {map[string]any{"text": "x", "category": "No Such"}, "category"},
	} {
		t.Run(name, func(t *testing.T) {
			e.do("POST", "/api/v1/posts", u.token, c.body).wantField(t, c.field)
		})
	}
	if items := itemIDs(t, e.do("GET", "/api/v1/accounts/"+u.id.String()+"/posts", u.token, nil).want(t, http.StatusOK, "")); len(items) != 0 {
		t.Errorf("refused posts were stored: %v", items)
	}
	e.do("POST", "/api/v1/posts", u.token, map[string]any{"text": "x", "repost_of": "384509780243079168"}).want(t, http.StatusNotFound, "not_found")
	for path, field := range map[string]string{
		"/api/v1/search/posts?q=%EF%BC%81":   "q",
		"/api/v1/search/posts":               "q",
		"/api/v1/timeline?limit=0":           "limit",
		"/api/v1/timeline?cursor=abc":        "cursor",
		"/api/v1/trending?window=7d":         "window",
		"/api/v1/notifications?unread=maybe": "unread",
		"/api/v1/hashtags/%23/posts":         "tag",
		"/api/v1/accounts/1/posts?cursor=-5": "cursor",
	} {
		e.do("GET", path, u.token, nil).wantField(t, field)
	}
	e.do("POST", "/api/v1/notifications/read", u.token, map[string]any{"up_to": "0"}).wantField(t, "up_to")
	e.do("POST", "/api/v1/notifications/read", u.token, map[string]any{}).wantField(t, "up_to")
	e.do("POST", "/api/v1/accounts/"+u.id.String()+"/follow", u.token, nil).wantField(t, "id")
	e.do("POST", "/api/v1/accounts/384509780243079168/follow", u.token, nil).want(t, http.StatusNotFound, "not_found")
}

// TestMicroblogNeedsStanding: posting needs a verified phone; suspended
// and terms-gated accounts are refused like any write.
func TestMicroblogNeedsStanding(t *testing.T) {
	e := newEnv(t)
	admin := e.withRole("admin", account.Admin)
	plain := e.register("plain")
	r := e.newPost(plain, map[string]any{"text": "hi"}).want(t, http.StatusForbidden, "verification_required")
	if r.details()["level"] != "phone" {
		t.Errorf("details = %v, want level phone", r.details())
	}
	u := e.verified("writer")
	pub := e.postText(u, "before")
	suspended := e.verified("suspended")
	e.do("POST", "/api/v1/admin/accounts/"+suspended.id.String()+"/suspension", admin.token, map[string]any{"reason": "spam"}).want(t, http.StatusOK, "")
	e.newPost(suspended, map[string]any{"text": "hi"}).want(t, http.StatusForbidden, "account_suspended")
	e.do("POST", "/api/v1/posts/"+pub+"/like", suspended.token, nil).want(t, http.StatusForbidden, "account_suspended")
	e.do("GET", "/api/v1/posts/"+pub, suspended.token, nil).want(t, http.StatusForbidden, "account_suspended")
	e.do("POST", "/api/v1/admin/terms", admin.token, map[string]any{"title": "v2", "body": "new", "requires_reconsent": true}).want(t, http.StatusCreated, "")
	e.newPost(u, map[string]any{"text": "hi"}).want(t, http.StatusForbidden, "terms_acceptance_required")
	e.do("POST", "/api/v1/accounts/"+plain.id.String()+"/follow", u.token, nil).want(t, http.StatusForbidden, "terms_acceptance_required")
	// Anonymous readers are not gated.
	e.do("GET", "/api/v1/posts/"+pub, "", nil).want(t, http.StatusOK, "")
}

// TestMicroblogReviewAndCredentials: a review category holds posts until
// a reviewer approves; a credential category needs a credential an admin
// grants the account; a forbidden one refuses with its policy.
func TestMicroblogReviewAndCredentials(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *testEnv) {
		admin := e.withRole("admin", account.Admin)
		reviewer := e.withRole("reviewer", account.Reviewer)
		u := e.verified("writer")
		fan := e.verified("fan")
		e.followAccount(fan, u)
		e.putCategory(admin, "health", "review")
		e.putCategory(admin, "medicine", "credential")
		e.putCategory(admin, "gambling", "forbidden")
		for cat, policy := range map[string]string{"medicine": "credential", "gambling": "forbidden"} {
			r := e.newPost(u, map[string]any{"text": "x", "category": cat}).want(t, http.StatusForbidden, "category_not_authorized")
			if r.details()["policy"] != policy {
				t.Errorf("%s: details = %v", cat, r.details())
			}
		}
		cred := e.do("POST", "/api/v1/admin/accounts/"+u.id.String()+"/credentials", admin.token,
			map[string]any{"category": "medicine", "expires_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}).want(t, http.StatusCreated, "")
		if cred.body["account_id"] != u.id.String() || cred.body["category"] != "medicine" {
			t.Errorf("credential = %s", cred.raw)
		}
		e.do("POST", "/api/v1/admin/accounts/"+u.id.String()+"/credentials", admin.token, map[string]any{"category": "medicine"}).wantField(t, "expires_at")
		if r := e.newPost(u, map[string]any{"text": "dosage", "category": "medicine"}).want(t, http.StatusCreated, ""); r.body["status"] != "published" {
			t.Errorf("with a credential: %s", r.raw)
		}
		list := itemIDs(t, e.do("GET", "/api/v1/admin/accounts/"+u.id.String()+"/credentials", admin.token, nil).want(t, http.StatusOK, ""))
		if !slices.Equal(list, []string{cred.body["id"].(string)}) {
			t.Errorf("credentials = %v", list)
		}
		e.do("DELETE", "/api/v1/admin/accounts/"+u.id.String()+"/credentials/"+cred.body["id"].(string)+"?reason=ended", admin.token, nil).want(t, http.StatusNoContent, "")
		e.newPost(u, map[string]any{"text": "x", "category": "medicine"}).want(t, http.StatusForbidden, "category_not_authorized")

		held := e.newPost(u, map[string]any{"text": "see a doctor", "category": "health"}).want(t, http.StatusCreated, "")
		if held.body["status"] != "pending_review" {
			t.Fatalf("review category: %s", held.raw)
		}
		id := held.body["id"].(string)
		e.do("GET", "/api/v1/posts/"+id, fan.token, nil).want(t, http.StatusNotFound, "not_found")
		queue := itemIDs(t, e.do("GET", "/api/v1/admin/microblog-reviews?status=pending", reviewer.token, nil).want(t, http.StatusOK, ""))
		if !slices.Equal(queue, []string{id}) {
			t.Fatalf("queue = %v", queue)
		}
		e.do("POST", "/api/v1/admin/microblog-reviews/"+id+"/decision", reviewer.token, map[string]any{"approve": false}).wantField(t, "reason")
		d := e.do("POST", "/api/v1/admin/microblog-reviews/"+id+"/decision", reviewer.token, map[string]any{"approve": true, "reason": "ok"}).want(t, http.StatusOK, "")
		if d.body["status"] != "published" {
			t.Errorf("decision = %s", d.raw)
		}
		e.do("POST", "/api/v1/admin/microblog-reviews/"+id+"/decision", reviewer.token, map[string]any{"approve": true}).want(t, http.StatusConflict, "conflict")
		e.do("GET", "/api/v1/posts/"+id, fan.token, nil).want(t, http.StatusOK, "")
		audit := e.do("GET", "/api/v1/admin/audit-log", admin.token, nil).want(t, http.StatusOK, "").body["items"].([]any)
		var actions []string
		for _, a := range audit {
			actions = append(actions, a.(map[string]any)["action"].(string))
		}
		for _, a := range []string{"microblog_post.approve", "credential.grant", "credential.revoke"} {
			if !slices.Contains(actions, a) {
				t.Errorf("audit log lacks %s: %v", a, actions)
			}
		}
	})
}

// TestMicroblogMedia: media in a post is served to whoever may see the
// post, and 404 to everyone else.
func TestMicroblogMedia(t *testing.T) {
	e := newEnv(t)
	author, follower, stranger := e.verified("author"), e.verified("follower"), e.verified("stranger")
	e.followAccount(follower, author)
	img := idOf(t, e.upload(author, "x.png", "image/png", pngFixture(t, 8, 8)))
	e.newPost(author, map[string]any{"media_ids": []string{img}, "visibility": "followers"}).want(t, http.StatusCreated, "")
	e.fetch(follower.token, mediaPath(img), "").want(t, http.StatusOK, "")
	e.fetch(stranger.token, mediaPath(img), "").want(t, http.StatusNotFound, "not_found")
}

// TestMicroblogRateLimits: posting, following and liking are limited per
// account when limits are on.
func TestMicroblogRateLimits(t *testing.T) {
	e := newEnv(t, withRateLimits, func(c *envConfig) {
		c.microblog.Limits.Posts.N, c.microblog.Limits.Posts.Per = 2, time.Hour
		c.microblog.Limits.Follows.N, c.microblog.Limits.Follows.Per = 1, time.Hour
		c.microblog.Limits.Likes.N, c.microblog.Limits.Likes.Per = 1, time.Hour
	})
	u, v := e.verified("busy"), e.verified("other")
	p := e.postText(u, "one")
	e.postText(u, "two")
	r := e.newPost(u, map[string]any{"text": "three"}).want(t, http.StatusTooManyRequests, "rate_limited")
	if r.header.Get("Retry-After") == "" || r.details()["limit"] != "posts" {
		t.Errorf("refusal: %v %s", r.header, r.raw)
	}
	e.followAccount(u, v)
	e.do("DELETE", "/api/v1/accounts/"+v.id.String()+"/follow", u.token, nil).want(t, http.StatusTooManyRequests, "rate_limited")
	e.do("POST", "/api/v1/posts/"+p+"/like", v.token, nil).want(t, http.StatusNoContent, "")
	e.do("POST", "/api/v1/posts/"+p+"/like", v.token, nil).want(t, http.StatusTooManyRequests, "rate_limited")
}

// TestMicroblogLive: a follower's stream gets post.created; the author's
// stream gets a notification frame, which is in the sync log too.
func TestMicroblogLive(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *testEnv) {
		author, follower := e.verified("author"), e.verified("follower")
		fs := e.dial(follower, "")
		fs.until("ready")
		as := e.dial(author, "")
		as.until("ready")
		e.followAccount(follower, author)
		n := as.until("notification")
		if d := n["data"].(map[string]any); d["kind"] != "follow" || d["actor_id"] != follower.id.String() || d["read"] != false || n["cursor"] == nil {
			t.Errorf("notification frame = %v", n)
		}
		id := e.postText(author, "live from the square")
		if got := fs.until("post.created")["data"].(map[string]any); got["id"] != id || got["text"] != "live from the square" {
			t.Errorf("post.created = %v", got)
		}
		sync := e.do("GET", "/api/v1/sync?since=0", author.token, nil).want(t, http.StatusOK, "")
		found := false
		for _, ev := range sync.body["events"].([]any) {
			found = found || ev.(map[string]any)["type"] == "notification"
		}
		if !found {
			t.Errorf("the sync log has no notification: %s", sync.raw)
		}
		list := e.do("GET", "/api/v1/notifications", author.token, nil).want(t, http.StatusOK, "")
		if list.body["unread_count"] != 1.0 {
			t.Errorf("notifications = %s", list.raw)
		}
		nid := itemIDs(t, list)[0]
		e.do("POST", "/api/v1/notifications/read", author.token, map[string]any{"up_to": nid}).want(t, http.StatusNoContent, "")
		if after := e.do("GET", "/api/v1/notifications", author.token, nil).body; after["unread_count"] != 0.0 {
			t.Errorf("after reading: %v", after)
		}
	})
}
