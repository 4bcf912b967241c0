package channel

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// moderate applies m to a channel post (or, with onChannel, a channel)
// the way package moderation does: in its own transaction.
func (e *env) moderate(tb testing.TB, onChannel bool, id plaza.ID, m plaza.Moderation) plaza.ID {
	tb.Helper()
	var who plaza.ID
	err := e.db.InTx(context.Background(), func(tx *sql.Tx) error {
		var err error
		if onChannel {
			who, err = e.svc.ModerateChannel(context.Background(), tx, id, m)
		} else {
			who, err = e.svc.ModeratePost(context.Background(), tx, id, m)
		}
		return err
	})
	if err != nil {
		tb.Fatalf("moderate %d with %+v: %v", id, m, err)
	}
	return who
}

// decision returns the moderation state of a step: none for "", a label
// with its note, or limit or remove, each with a new decision ID.
func decision(action string) plaza.Moderation {
	m := plaza.Moderation{Action: action}
	if action != "" {
		m.DecisionID = plaza.NewID()
	}
	if action == plaza.ModLabel {
		m.Label = "Misleading: see the correction"
	}
	return m
}

// modCast is a channel with an owner, an editor (who wrote the post), a
// follower and a stranger, all of whom but the stranger follow it.
type modCast struct {
	ch                                plaza.ID
	owner, editor, follower, stranger plaza.ID
	post                              Post
	img                               plaza.ID
}

var modRoles = []string{"owner", "editor", "follower", "stranger"}

func newModCast(tb testing.TB, e *env) modCast {
	tb.Helper()
	ctx := context.Background()
	c := modCast{owner: e.user(1), editor: e.user(2), follower: e.user(3), stranger: e.user(4)}
	c.ch = e.newChannel(tb, c.owner, "ledger", Subscription)
	e.category(tb, "news", PolicyOpen)
	if _, err := e.svc.AddEditor(ctx, c.owner, c.ch, c.editor); err != nil {
		tb.Fatal(err)
	}
	for _, a := range []plaza.ID{c.owner, c.editor, c.follower} {
		if err := e.svc.Follow(ctx, a, c.ch); err != nil {
			tb.Fatal(err)
		}
	}
	e.clock.Advance(time.Second) // after the follows' read positions
	c.img = e.uploadPNG(tb, c.editor)
	p, err := e.svc.CreatePost(ctx, c.editor, c.ch, PostInput{Title: "Leaked memo", Body: "The memo says", Category: "news", MediaIDs: []plaza.ID{c.img}})
	if err != nil {
		tb.Fatal(err)
	}
	c.post = p
	return c
}

func (c modCast) viewer(role string) plaza.ID {
	return map[string]plaza.ID{"owner": c.owner, "editor": c.editor, "follower": c.follower, "stranger": c.stranger}[role]
}

// modSees reports whether role sees content under action: staff (owner,
// editor) always; followers unless removed; strangers without limit or
// remove.
func modSees(action, role string) bool {
	switch action {
	case plaza.ModRemove:
		return role == "owner" || role == "editor"
	case plaza.ModLimit:
		return role != "stranger"
	}
	return true
}

// checkMarks checks what role sees of decision m on content rendered as
// got, in Go and in JSON.
func checkMarks(tb testing.TB, where, role string, m plaza.Moderation, got Marks, rendered any) {
	tb.Helper()
	staff := role == "owner" || role == "editor"
	var want Marks
	switch {
	case m.Action == plaza.ModLabel:
		want = Marks{Label: m.Label, DecisionID: m.DecisionID}
	case staff && m.Action == plaza.ModLimit:
		want = Marks{Limited: true, DecisionID: m.DecisionID}
	case staff && m.Action == plaza.ModRemove:
		want = Marks{Removed: true, DecisionID: m.DecisionID}
	}
	if got != want {
		tb.Fatalf("%s, %s: got marks %+v, want %+v", where, role, got, want)
	}
	b, _ := json.Marshal(rendered)
	for key, present := range map[string]bool{"label": want.Label != "", "limited": want.Limited, "removed": want.Removed, "decision_id": want.DecisionID != 0} {
		if strings.Contains(string(b), `"`+key+`":`) != present {
			tb.Fatalf("%s, %s: JSON %s: has %q, want %v", where, role, b, key, present)
		}
	}
}

// TestModeratePost applies each decision to a channel post and checks the
// post list, feeds and unread counts, VisiblePost and the post's media
// for the owner, the editor who wrote it, a follower and a stranger; then
// reverses it.
func TestModeratePost(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 5, cfg: roomy})
		ctx := context.Background()
		c := newModCast(t, e)
		for _, action := range []string{"", plaza.ModLabel, plaza.ModLimit, plaza.ModRemove, "", plaza.ModRemove, plaza.ModLimit, ""} {
			m := decision(action)
			if got := e.moderate(t, false, c.post.ID, m); got != c.editor {
				t.Fatalf("ModeratePost returned %d, want the author %d", got, c.editor)
			}
			name := fmt.Sprintf("post %q", action)
			for _, role := range modRoles {
				v, want := c.viewer(role), modSees(action, role)
				posts, err := e.svc.Posts(ctx, v, c.ch, "", 0, 10)
				if err != nil {
					t.Fatal(err)
				}
				i := slices.IndexFunc(posts, func(p Post) bool { return p.ID == c.post.ID })
				if (i >= 0) != want {
					t.Fatalf("%s: %s lists it: %v, want %v", name, role, i >= 0, want)
				}
				if i >= 0 {
					checkMarks(t, name+" Posts", role, m, posts[i].Marks, posts[i])
				}
				got, err := e.svc.VisiblePost(ctx, v, c.post.ID)
				if want {
					if err != nil {
						t.Fatalf("%s: %s VisiblePost: %v", name, role, err)
					}
					checkMarks(t, name+" VisiblePost", role, m, got.Marks, got)
				} else {
					wantCode(t, err, plaza.ENotFound)
				}
				ok, err := e.svc.CanSeeMedia(ctx, v, c.img)
				if err != nil {
					t.Fatal(err)
				}
				if ok != want {
					t.Fatalf("%s: %s sees the media: %v, want %v", name, role, ok, want)
				}
				if role == "stranger" {
					continue
				}
				feed, _, err := e.svc.Feed(ctx, v, FeedCursor{}, 10)
				if err != nil {
					t.Fatal(err)
				}
				i = slices.IndexFunc(feed, func(p Post) bool { return p.ID == c.post.ID })
				if (i >= 0) != want {
					t.Fatalf("%s: %s has it in the feed: %v, want %v", name, role, i >= 0, want)
				}
				if i >= 0 {
					checkMarks(t, name+" Feed", role, m, feed[i].Marks, feed[i])
				}
				if n := e.unread(t, v)[c.ch]; n != map[bool]int64{true: 1, false: 0}[want] {
					t.Fatalf("%s: %s's unread count is %d, want it to count the post: %v", name, role, n, want)
				}
			}
			public, err := e.svc.MediaIsPublic(ctx, c.img)
			if err != nil {
				t.Fatal(err)
			}
			if want := modSees(action, "stranger"); public != want {
				t.Fatalf("%s: MediaIsPublic = %v, want %v", name, public, want)
			}
		}
		v, err := e.svc.PostModerationView(ctx, c.post.ID)
		if err != nil || v.Moderation != (plaza.Moderation{}) {
			t.Fatalf("PostModerationView after reversal: %+v, %v", v.Moderation, err)
		}
		_, err = e.svc.PostModerationView(ctx, plaza.NewID())
		wantCode(t, err, plaza.ENotFound)
	})
}

// TestModerateChannel applies each decision to a channel and checks Get,
// channel search, its post list, feeds, VisiblePost, following and live
// delivery of new posts for the owner, an editor, a follower and a
// stranger; then reverses it.
func TestModerateChannel(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 5, cfg: roomy})
		ctx := context.Background()
		c := newModCast(t, e)
		w := watch(t, e.bus, c.ch)
		for _, action := range []string{"", plaza.ModLabel, plaza.ModLimit, plaza.ModRemove, "", plaza.ModLimit, plaza.ModRemove, ""} {
			m := decision(action)
			if got := e.moderate(t, true, c.ch, m); got != c.owner {
				t.Fatalf("ModerateChannel returned %d, want the owner %d", got, c.owner)
			}
			name := fmt.Sprintf("channel %q", action)
			for _, role := range modRoles {
				v, want := c.viewer(role), modSees(action, role)
				got, err := e.svc.Get(ctx, v, c.ch)
				if want {
					if err != nil {
						t.Fatalf("%s: %s Get: %v", name, role, err)
					}
					checkMarks(t, name+" Get", role, m, got.Marks, got)
				} else {
					wantCode(t, err, plaza.ENotFound)
				}
				posts, err := e.svc.Posts(ctx, v, c.ch, "", 0, 10)
				if want {
					if err != nil || !slices.ContainsFunc(posts, func(p Post) bool { return p.ID == c.post.ID }) {
						t.Fatalf("%s: %s's post list %v, %v, want the post", name, role, posts, err)
					}
				} else {
					wantCode(t, err, plaza.ENotFound)
				}
				if _, err := e.svc.VisiblePost(ctx, v, c.post.ID); want && err != nil {
					t.Fatalf("%s: %s VisiblePost: %v", name, role, err)
				} else if !want {
					wantCode(t, err, plaza.ENotFound)
				}
				if role != "stranger" {
					feed, _, err := e.svc.Feed(ctx, v, FeedCursor{}, 10)
					if err != nil {
						t.Fatal(err)
					}
					if got := slices.ContainsFunc(feed, func(p Post) bool { return p.ID == c.post.ID }); got != want {
						t.Fatalf("%s: %s has the post in the feed: %v, want %v", name, role, got, want)
					}
					if _, got := e.unread(t, v)[c.ch]; got != want {
						t.Fatalf("%s: %s has unread counts for the channel: %v, want %v", name, role, got, want)
					}
				}
			}
			found, err := e.svc.Search(ctx, "ledger", 0, 10)
			if err != nil {
				t.Fatal(err)
			}
			i := slices.IndexFunc(found, func(ch Channel) bool { return ch.ID == c.ch })
			if want := action == "" || action == plaza.ModLabel; (i >= 0) != want {
				t.Fatalf("%s: search finds it: %v, want %v", name, i >= 0, want)
			}
			if i >= 0 {
				checkMarks(t, name+" Search", "stranger", m, found[i].Marks, found[i])
			}
			// A stranger may follow only what they can see.
			err = e.svc.Follow(ctx, c.stranger, c.ch)
			if modSees(action, "stranger") {
				if err != nil {
					t.Fatalf("%s: Follow: %v", name, err)
				}
				if err := e.svc.Unfollow(ctx, c.stranger, c.ch); err != nil {
					t.Fatal(err)
				}
			} else {
				wantCode(t, err, plaza.ENotFound)
			}
			// The owner may still post, but a removed channel's new posts
			// reach no follower live.
			e.clock.Advance(time.Second)
			p := e.post(t, c.owner, c.ch, "Update "+name, "news")
			frames := w.take(t)
			if live := len(frames) == 1 && frames[0].Data.ID == p.ID; live != (action != plaza.ModRemove) {
				t.Fatalf("%s: a new post went out live: %v (%d frames)", name, live, len(frames))
			}
		}
	})
}

// TestModerateMissing: decisions on what does not exist are not_found;
// malformed ones invalid.
func TestModerateMissing(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 5, cfg: roomy})
		c := newModCast(t, e)
		for _, tc := range []struct {
			channel bool
			id      plaza.ID
			m       plaza.Moderation
			code    string
		}{
			{false, plaza.NewID(), decision(plaza.ModRemove), plaza.ENotFound},
			{true, plaza.NewID(), decision(plaza.ModRemove), plaza.ENotFound},
			{false, c.post.ID, plaza.Moderation{Action: "close", DecisionID: 1}, plaza.EInvalid},
			{true, c.ch, plaza.Moderation{Action: plaza.ModLabel, DecisionID: 1}, plaza.EInvalid},
		} {
			err := e.db.InTx(context.Background(), func(tx *sql.Tx) error {
				var err error
				if tc.channel {
					_, err = e.svc.ModerateChannel(context.Background(), tx, tc.id, tc.m)
				} else {
					_, err = e.svc.ModeratePost(context.Background(), tx, tc.id, tc.m)
				}
				return err
			})
			wantCode(t, err, tc.code)
		}
	})
}
