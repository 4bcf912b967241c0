package microblog

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// moderate applies m to a post the way package moderation does: in its
// own transaction.
func (e *env) moderate(tb testing.TB, id plaza.ID, m plaza.Moderation) plaza.ID {
	tb.Helper()
	var author plaza.ID
	err := e.db.InTx(context.Background(), func(tx *sql.Tx) error {
		var err error
		author, err = e.svc.Moderate(context.Background(), tx, id, m)
		return err
	})
	if err != nil {
		tb.Fatalf("Moderate(%d, %+v): %v", id, m, err)
	}
	return author
}

// TestModeration applies each decision to posts and checks every read
// path for the author, a follower, a stranger and an anonymous reader:
// a label shows to everyone; limit keeps a post to its author and the
// author's followers and out of hashtag pages, trending and search;
// remove keeps it to its author, marked. Reversing a decision puts the
// post back everywhere. One post's author is below the fan-out threshold
// (timeline rows), the other above it (merged at read time).
func TestModeration(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 5, cfg: func(c *Config) { c.FanoutThreshold = 2 }})
		ctx := context.Background()
		author, follower, stranger, celeb, other := e.user(0), e.user(1), e.user(2), e.user(3), e.user(4)
		e.follows(t, follower, author)
		e.follows(t, follower, celeb)
		e.follows(t, other, celeb) // celeb reaches the threshold
		img := e.uploadPNG(t, author)
		p := e.postWith(t, author, PostInput{Text: "moderated zebrafish #plazamod @" + e.users[2].Handle, MediaIDs: []plaza.ID{img}})
		q := e.post(t, author, "a question")
		r := e.postWith(t, author, PostInput{Text: "an answer", ReplyTo: &q.ID})
		c := e.post(t, celeb, "celebrated zebrafish #plazamod")
		repost := e.postWith(t, stranger, PostInput{RepostOf: &p.ID})
		if err := e.svc.Like(ctx, follower, c.ID); err != nil {
			t.Fatal(err)
		}
		moderated := []Post{p, r, c}
		roles := []string{"author", "follower", "stranger", "anonymous"}
		viewerOf := func(role string, post Post) plaza.ID {
			return map[string]plaza.ID{"author": post.AuthorID, "follower": follower, "stranger": stranger, "anonymous": 0}[role]
		}
		sees := func(action, role string) bool {
			switch action {
			case plaza.ModLimit:
				return role == "author" || role == "follower"
			case plaza.ModRemove:
				return role == "author"
			}
			return true
		}
		has := func(posts []Post, id plaza.ID) (Post, bool) {
			i := slices.IndexFunc(posts, func(p Post) bool { return p.ID == id })
			if i < 0 {
				return Post{}, false
			}
			return posts[i], true
		}
		for step, action := range []string{"", plaza.ModLabel, plaza.ModLimit, plaza.ModRemove, "", plaza.ModLimit, "", plaza.ModRemove, ""} {
			m := plaza.Moderation{Action: action}
			if action != "" {
				m.DecisionID = plaza.NewID()
			}
			if action == plaza.ModLabel {
				m.Label = "Independent fact-checkers dispute this"
			}
			for _, post := range moderated {
				if got := e.moderate(t, post.ID, m); got != post.AuthorID {
					t.Fatalf("Moderate returned author %d, want %d", got, post.AuthorID)
				}
			}
			name := action
			if name == "" {
				name = "none"
			}
			t.Logf("step %d: %s", step, name)
			// checkMarks checks what a viewer sees of the decision.
			checkMarks := func(where, role string, got Post) {
				t.Helper()
				want := Post{}
				switch {
				case action == plaza.ModLabel:
					want.Label, want.DecisionID = m.Label, m.DecisionID
				case action == plaza.ModLimit && role == "author":
					want.Limited, want.DecisionID = true, m.DecisionID
				case action == plaza.ModRemove && role == "author":
					want.Removed, want.DecisionID = true, m.DecisionID
				}
				if got.Label != want.Label || got.Limited != want.Limited || got.Removed != want.Removed || got.DecisionID != want.DecisionID {
					t.Fatalf("%s, %s, %s: got label %q limited %v removed %v decision %d, want %q %v %v %d", name, where, role,
						got.Label, got.Limited, got.Removed, got.DecisionID, want.Label, want.Limited, want.Removed, want.DecisionID)
				}
				b, _ := json.Marshal(got)
				for _, key := range []string{"label", "limited", "removed", "decision_id"} {
					present := strings.Contains(string(b), `"`+key+`":`)
					wantKey := map[string]bool{"label": want.Label != "", "limited": want.Limited, "removed": want.Removed, "decision_id": want.DecisionID != 0}[key]
					if present != wantKey {
						t.Fatalf("%s, %s, %s: JSON %s has %q: %v, want %v", name, where, role, b, key, present, wantKey)
					}
				}
			}
			for _, role := range roles {
				for _, post := range moderated {
					viewer := viewerOf(role, post)
					want := sees(action, role)
					got, err := e.svc.Get(ctx, viewer, post.ID)
					if want {
						if err != nil {
							t.Fatalf("%s: %s Get(%q): %v", name, role, post.Text, err)
						}
						checkMarks("Get", role, got)
					} else {
						wantCode(t, err, plaza.ENotFound)
					}
					page, err := e.svc.AuthorPosts(ctx, viewer, post.AuthorID, 0, 50)
					if err != nil {
						t.Fatal(err)
					}
					if got, ok := has(page.Posts, post.ID); ok != want {
						t.Fatalf("%s: %s sees %q in the author's posts: %v, want %v", name, role, post.Text, ok, want)
					} else if ok {
						checkMarks("AuthorPosts", role, got)
					}
					if role == "author" || role == "follower" {
						e.drain(t)
						page, err := e.svc.Timeline(ctx, viewer, 0, 50)
						if err != nil {
							t.Fatal(err)
						}
						if got, ok := has(page.Posts, post.ID); ok != want {
							t.Fatalf("%s: %s sees %q in the timeline: %v, want %v", name, role, post.Text, ok, want)
						} else if ok {
							checkMarks("Timeline", role, got)
						}
					}
				}
				viewer := viewerOf(role, p)
				// The reply, among the replies to q.
				page, err := e.svc.Replies(ctx, viewer, q.ID, 0, 50)
				if err != nil {
					t.Fatal(err)
				}
				if _, ok := has(page.Posts, r.ID); ok != sees(action, role) {
					t.Fatalf("%s: %s sees the reply: %v, want %v", name, role, ok, sees(action, role))
				}
				// Found by strangers' ways only without limit or remove.
				discoverable := action != plaza.ModLimit && action != plaza.ModRemove
				tagged, err := e.svc.HashtagPosts(ctx, viewer, "plazamod", 0, 50)
				if err != nil {
					t.Fatal(err)
				}
				found, err := e.svc.Search(ctx, viewer, "zebrafish", 0, 50)
				if err != nil {
					t.Fatal(err)
				}
				for _, post := range []Post{p, c} {
					if got, ok := has(tagged.Posts, post.ID); ok != discoverable {
						t.Fatalf("%s: %s sees %q on the hashtag page: %v, want %v", name, role, post.Text, ok, discoverable)
					} else if ok {
						checkMarks("HashtagPosts", role, got)
					}
					if _, ok := has(found.Posts, post.ID); ok != discoverable {
						t.Fatalf("%s: %s finds %q: %v, want %v", name, role, post.Text, ok, discoverable)
					}
				}
				// The post's media goes with the post.
				ok, err := e.svc.CanSeeMedia(ctx, viewer, img)
				if err != nil {
					t.Fatal(err)
				}
				if ok != sees(action, role) {
					t.Fatalf("%s: %s sees the media: %v, want %v", name, role, ok, sees(action, role))
				}
			}
			trends, err := e.svc.Trending(ctx, "1h")
			if err != nil {
				t.Fatal(err)
			}
			var count int64
			for _, tr := range trends {
				if tr.Tag == "plazamod" {
					count = tr.PostCount
				}
			}
			if want := map[bool]int64{true: 2, false: 0}[action != plaza.ModLimit && action != plaza.ModRemove]; count != want {
				t.Fatalf("%s: #plazamod trends with %d posts, want %d", name, count, want)
			}
			// The stranger's mention of p, and the celeb's like of c
			// (the author's own post: always).
			mentioned := slices.ContainsFunc(e.notifications(t, stranger), func(n Notification) bool { return n.PostID != nil && *n.PostID == p.ID })
			if want := sees(action, "stranger"); mentioned != want {
				t.Fatalf("%s: the stranger's notification of the mention: %v, want %v", name, mentioned, want)
			}
			if !slices.ContainsFunc(e.notifications(t, celeb), func(n Notification) bool { return n.Kind == KindLike }) {
				t.Fatalf("%s: the author lost the notification of a like", name)
			}
			// The repost shows nothing of the original to anyone.
			got, err := e.svc.Get(ctx, follower, repost.ID)
			if err != nil {
				t.Fatal(err)
			}
			if b, _ := json.Marshal(got); strings.Contains(string(b), "zebrafish") {
				t.Fatalf("%s: the repost shows the original: %s", name, b)
			}
			// Nobody likes, replies to or reposts what they cannot see.
			likeErr := e.svc.Like(ctx, stranger, p.ID)
			_, replyErr := e.svc.Create(ctx, stranger, PostInput{Text: "re", ReplyTo: &p.ID})
			_, repostErr := e.svc.Create(ctx, stranger, PostInput{RepostOf: &p.ID})
			for _, err := range []error{likeErr, replyErr, repostErr} {
				if sees(action, "stranger") {
					if err != nil {
						t.Fatalf("%s: the stranger could not act on the post: %v", name, err)
					}
				} else {
					wantCode(t, err, plaza.ENotFound)
				}
			}
			if err := e.svc.Unlike(ctx, stranger, p.ID); sees(action, "stranger") && err != nil {
				t.Fatal(err)
			}
		}
	})
}

// TestModerateTargets: a reply or repost checked again in the transaction
// that stores it is refused when a decision has meanwhile removed its
// target, or limited it and the replier does not follow the author; the
// author still may.
func TestModerateTargets(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 3})
		author, follower, stranger := e.user(0), e.user(1), e.user(2)
		e.follows(t, follower, author)
		p := e.post(t, author, "target")
		check := func(replier plaza.ID) error {
			t.Helper()
			var refused []error
			err := e.db.InTx(context.Background(), func(tx *sql.Tx) error {
				var err error
				refused, err = checkTargets(context.Background(), tx, []Post{{AuthorID: replier, ReplyTo: &p.ID}})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return refused[0]
		}
		for _, c := range []struct {
			action string
			ok     map[plaza.ID]bool
		}{
			{"", map[plaza.ID]bool{author: true, follower: true, stranger: true}},
			{plaza.ModLimit, map[plaza.ID]bool{author: true, follower: true}},
			{plaza.ModRemove, map[plaza.ID]bool{author: true}},
		} {
			m := plaza.Moderation{Action: c.action}
			if c.action != "" {
				m.DecisionID = plaza.NewID()
			}
			e.moderate(t, p.ID, m)
			for _, who := range []plaza.ID{author, follower, stranger} {
				err := check(who)
				if c.ok[who] && err != nil {
					t.Fatalf("%q: %d refused: %v", c.action, who, err)
				}
				if !c.ok[who] {
					wantCode(t, err, plaza.ENotFound)
				}
			}
		}
	})
}

// TestModerateDeleted: a decision on a post deleted meanwhile still
// records, and moderators see it with ModerationView; a post that never
// existed is not_found, and a malformed decision invalid.
func TestModerateDeleted(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 1})
		ctx := context.Background()
		author := e.user(0)
		p := e.post(t, author, "soon gone")
		if err := e.svc.Delete(ctx, author, p.ID); err != nil {
			t.Fatal(err)
		}
		m := plaza.Moderation{Action: plaza.ModRemove, DecisionID: plaza.NewID()}
		if got := e.moderate(t, p.ID, m); got != author {
			t.Fatalf("Moderate returned %d, want the author %d", got, author)
		}
		v, err := e.svc.ModerationView(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if v.Status != StatusDeleted || v.Moderation != m || !v.Removed || v.DecisionID != m.DecisionID {
			t.Fatalf("ModerationView: got status %q, moderation %+v, removed %v, want deleted, %+v, true", v.Status, v.Moderation, v.Removed, m)
		}
		if _, err := e.svc.ModerationView(ctx, plaza.NewID()); err == nil {
			t.Fatal("ModerationView of no post: no error")
		} else {
			wantCode(t, err, plaza.ENotFound)
		}
		for _, c := range []struct {
			m    plaza.Moderation
			id   plaza.ID
			code string
		}{
			{plaza.Moderation{Action: plaza.ModLimit, DecisionID: 1}, plaza.NewID(), plaza.ENotFound},
			{plaza.Moderation{Action: "suspend", DecisionID: 1}, p.ID, plaza.EInvalid},
			{plaza.Moderation{Action: plaza.ModLabel, DecisionID: 1}, p.ID, plaza.EInvalid},
			{plaza.Moderation{Action: plaza.ModRemove}, p.ID, plaza.EInvalid},
		} {
			err := e.db.InTx(ctx, func(tx *sql.Tx) error {
				_, err := e.svc.Moderate(ctx, tx, c.id, c.m)
				return err
			})
			wantCode(t, err, c.code)
		}
	})
}
