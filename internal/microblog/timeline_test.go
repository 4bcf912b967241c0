package microblog

import (
	"context"
	"slices"
	"testing"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// TestTimeline: the reader's own posts and those of followed accounts
// that the reader may see, newest first; a new follow brings the author's
// recent posts; an unfollow takes them away; a deleted post vanishes.
func TestTimeline(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 5, cfg: func(c *Config) { c.Backfill = 2 }})
		ctx := context.Background()
		reader, a, b, stranger, friend := e.user(0), e.user(1), e.user(2), e.user(3), e.user(4)
		e.follows(t, reader, a)
		e.befriend(t, reader, friend)
		own := e.post(t, reader, "mine")
		a1 := e.post(t, a, "a one")
		a2 := e.postWith(t, a, PostInput{Text: "a for followers", Visibility: Followers})
		a3 := e.postWith(t, a, PostInput{Text: "a for contacts", Visibility: Contacts}) // reader is not a's contact
		e.post(t, stranger, "not followed")
		b1 := e.post(t, b, "b one")
		b2 := e.post(t, b, "b two")
		b3 := e.post(t, b, "b three")
		f1 := e.postWith(t, friend, PostInput{Text: "a moment for contacts", Visibility: Contacts})
		e.postWith(t, friend, PostInput{Text: "friend's public post, not followed"})
		_ = a3
		if got, want := e.timeline(t, reader), ids(f1, a2, a1, own); !slices.Equal(got, want) {
			t.Fatalf("timeline = %v, want %v", got, want)
		}

		// Following b brings b's two newest posts (Backfill 2).
		e.follows(t, reader, b)
		if got, want := e.timeline(t, reader), ids(f1, b3, b2, a2, a1, own); !slices.Equal(got, want) {
			t.Fatalf("after following b: %v, want %v", got, want)
		}
		_ = b1

		// Deleting a post takes it out; unfollowing a takes a's out.
		if err := e.svc.Delete(ctx, b, b3.ID); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Unfollow(ctx, reader, a); err != nil {
			t.Fatal(err)
		}
		if got, want := e.timeline(t, reader), ids(f1, b2, own); !slices.Equal(got, want) {
			t.Fatalf("after a deletion and an unfollow: %v, want %v", got, want)
		}

		// A block hides the blocker's posts at once.
		e.block(t, b, reader)
		if got, want := e.timeline(t, reader), ids(f1, own); !slices.Equal(got, want) {
			t.Fatalf("after b blocked the reader: %v, want %v", got, want)
		}
	})
}

// TestTimelineCursorWhilePostsArrive pages through a timeline while new
// posts keep arriving: no post comes twice, none of those there at the
// start is missed, and the newcomers are on top of a fresh first page.
func TestTimelineCursorWhilePostsArrive(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 3})
		ctx := context.Background()
		reader, a, b := e.user(0), e.user(1), e.user(2)
		e.follows(t, reader, a)
		e.follows(t, reader, b)
		var before []plaza.ID
		for i := 0; i < 10; i++ {
			before = append([]plaza.ID{e.post(t, []plaza.ID{a, b}[i%2], "early").ID}, before...)
		}
		e.drain(t)
		var seen []plaza.ID
		cursor := plaza.ID(0)
		var newer []plaza.ID
		for {
			page, err := e.svc.Timeline(ctx, reader, cursor, 3)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range page.Posts {
				if slices.Contains(seen, p.ID) {
					t.Fatalf("post %d came twice", p.ID)
				}
				seen = append(seen, p.ID)
			}
			// Two more posts land between pages.
			newer = append(newer, e.post(t, a, "late").ID, e.post(t, b, "late").ID)
			e.drain(t)
			if page.Next == 0 {
				break
			}
			cursor = page.Next
		}
		if !slices.Equal(seen, before) {
			t.Errorf("paged %v, want exactly the posts there at the start %v", seen, before)
		}
		first, err := e.svc.Timeline(ctx, reader, 0, 3)
		if err != nil {
			t.Fatal(err)
		}
		slices.Reverse(newer)
		if got := ids(first.Posts...); !slices.Equal(got, newer[:3]) {
			t.Errorf("a fresh first page = %v, want the newest %v", got, newer[:3])
		}
	})
}

// TestCelebrityMergedAtRead: an author at the fan-out threshold is no
// longer fanned out (no job, no timeline rows); the followers' timelines
// merge the author's posts at read time, with the older, fanned-out ones
// once each; live delivery goes to the author's subject, and the hub is
// told of follows of such an author.
func TestCelebrityMergedAtRead(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 5, cfg: func(c *Config) { c.FanoutThreshold = 3; c.Backfill = 0 }})
		ctx := context.Background()
		star, r1, r2, r3, late := e.user(0), e.user(1), e.user(2), e.user(3), e.user(4)
		e.follows(t, r1, star)
		e.follows(t, r2, star)
		early := e.post(t, star, "before the threshold")
		e.drain(t)
		if n := e.count(t, `SELECT COUNT(*) FROM timeline WHERE post_id = $1`, early.ID); n != 2 {
			t.Fatalf("the early post is in %d timeline rows, want 2 (the followers'; the author's own posts are read from posts)", n)
		}
		e.follows(t, r3, star) // the third follower: the threshold
		jobsBefore := e.count(t, `SELECT COUNT(*) FROM fanout_jobs`)
		p := e.post(t, star, "after the threshold")
		if n := e.count(t, `SELECT COUNT(*) FROM fanout_jobs`); n != jobsBefore {
			t.Errorf("a post above the threshold queued %d fan-out jobs, want none", n-jobsBefore)
		}
		e.drain(t)
		if n := e.count(t, `SELECT COUNT(*) FROM timeline WHERE post_id = $1`, p.ID); n != 0 {
			t.Errorf("the post above the threshold is in %d timeline rows, want none", n)
		}
		for _, r := range []plaza.ID{r1, r2, r3} {
			if got, want := e.timeline(t, r), ids(p, early); !slices.Equal(got, want) {
				t.Errorf("timeline of a follower = %v, want %v", got, want)
			}
		}
		// Dropping below the threshold again changes nothing: the author
		// stays merged at read, so no post falls between the two ways.
		if err := e.svc.Unfollow(ctx, r3, star); err != nil {
			t.Fatal(err)
		}
		p2 := e.post(t, star, "still merged at read")
		if got, want := e.timeline(t, r1), ids(p2, p, early); !slices.Equal(got, want) {
			t.Errorf("after dropping below: %v, want %v", got, want)
		}
		if got := e.timeline(t, r3); len(got) != 0 {
			t.Errorf("the unfollower still sees %v", got)
		}
		e.follows(t, late, star)
		e.mu.Lock()
		told := slices.Clone(e.followed)
		e.mu.Unlock()
		// Crossing the threshold tells every follower's devices; later
		// follows and unfollows tell the one account's.
		want := []string{"user1 follows", "user2 follows", "user3 follows", "user3 unfollows", "user4 follows"}
		if !slices.Equal(told, want) {
			t.Errorf("hub told %q, want %q", told, want)
		}
		authors, err := e.svc.FollowedAuthors(ctx, late)
		if err != nil || !slices.Equal(authors, []plaza.ID{star}) {
			t.Errorf("FollowedAuthors = %v, %v; want the star", authors, err)
		}
	})
}
