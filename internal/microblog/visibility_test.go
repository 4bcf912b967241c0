package microblog

import (
	"context"
	"testing"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// cast is the cast of a visibility test: the author and a viewer of each
// kind.
type cast struct {
	author, stranger, follower, contact, blocked, blocker plaza.ID
}

// newCast makes user0 the author; user1 a stranger; user2 a follower;
// user3 a contact (not a follower); user4 a follower the author blocked;
// user5 a follower who blocked the author.
func newCast(tb testing.TB, e *env) cast {
	tb.Helper()
	c := cast{author: e.user(0), stranger: e.user(1), follower: e.user(2), contact: e.user(3), blocked: e.user(4), blocker: e.user(5)}
	e.follows(tb, c.follower, c.author)
	e.befriend(tb, c.contact, c.author)
	e.follows(tb, c.blocked, c.author)
	e.follows(tb, c.blocker, c.author)
	e.block(tb, c.author, c.blocked)
	e.block(tb, c.blocker, c.author)
	return c
}

// TestVisibility: who sees a post of each visibility, through Get and the
// author's post list; a block in either direction hides everything.
func TestVisibility(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 6})
		ctx := context.Background()
		c := newCast(t, e)
		posts := map[string]Post{
			Public:    e.postWith(t, c.author, PostInput{Text: "for everyone", Visibility: Public}),
			Followers: e.postWith(t, c.author, PostInput{Text: "for followers", Visibility: Followers}),
			Contacts:  e.postWith(t, c.author, PostInput{Text: "for contacts", Visibility: Contacts}),
		}
		want := map[string]map[string]bool{
			"anonymous": {Public: true},
			"stranger":  {Public: true},
			"follower":  {Public: true, Followers: true},
			"contact":   {Public: true, Contacts: true},
			"blocked":   {},
			"blocker":   {},
			"author":    {Public: true, Followers: true, Contacts: true},
		}
		viewers := map[string]plaza.ID{"anonymous": 0, "stranger": c.stranger, "follower": c.follower, "contact": c.contact,
			"blocked": c.blocked, "blocker": c.blocker, "author": c.author}
		for who, viewer := range viewers {
			listed := map[plaza.ID]bool{}
			page, err := e.svc.AuthorPosts(ctx, viewer, c.author, 0, 10)
			if who == "blocked" || who == "blocker" {
				wantCode(t, err, plaza.ENotFound)
			} else if err != nil {
				t.Fatalf("%s: AuthorPosts: %v", who, err)
			}
			for _, p := range page.Posts {
				listed[p.ID] = true
			}
			for vis, p := range posts {
				_, err := e.svc.Get(ctx, viewer, p.ID)
				if sees := err == nil; sees != want[who][vis] {
					t.Errorf("%s sees the %s post: %v (%v), want %v", who, vis, sees, err, want[who][vis])
				} else if err != nil && plaza.ErrorCode(err) != plaza.ENotFound {
					t.Errorf("%s: %v, want not_found", who, err)
				}
				if listed[p.ID] != want[who][vis] {
					t.Errorf("%s's list of the author's posts has the %s post: %v, want %v", who, vis, listed[p.ID], want[who][vis])
				}
			}
		}
		if _, err := e.svc.Get(ctx, c.stranger, plaza.NewID()); plaza.ErrorCode(err) != plaza.ENotFound {
			t.Errorf("Get of no post = %v, want not_found", err)
		}
	})
}

// TestBlockEndsFollowsBothWays: blocking removes the follows between the
// two, with the counts, and refuses new ones either way.
func TestBlockEndsFollowsBothWays(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 2})
		ctx := context.Background()
		a, b := e.user(0), e.user(1)
		e.follows(t, a, b)
		e.follows(t, b, a)
		e.block(t, a, b)
		if n := e.count(t, `SELECT COUNT(*) FROM follows`); n != 0 {
			t.Errorf("%d follows left after the block, want 0", n)
		}
		for _, id := range []plaza.ID{a, b} {
			if c := e.counts(t, id); c.FollowerCount != 0 || c.FollowingCount != 0 {
				t.Errorf("counts of %d = %+v, want 0 and 0", id, c)
			}
		}
		wantCode(t, e.svc.Follow(ctx, a, b), plaza.EBlocked)
		wantCode(t, e.svc.Follow(ctx, b, a), plaza.EBlocked)
	})
}
