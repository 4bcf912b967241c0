package channel

import (
	"context"
	"slices"
	"testing"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// TestHostileSuspendedChannelPostsHidden suspends a channel: its posts
// vanish from its post list (but for its owner and editors), from
// followers' feeds and unread counts, from channel search and from live
// delivery; reinstated, they are back; closed, gone again.
func TestHostileSuspendedChannelPostsHidden(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 5, cfg: roomy})
		ctx := context.Background()
		owner, editor, follower, stranger := e.user(1), e.user(2), e.user(3), e.user(4)
		ch := e.newChannel(t, owner, "gazette", Subscription)
		e.category(t, "news", PolicyOpen)
		if _, err := e.svc.AddEditor(ctx, owner, ch, editor); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Follow(ctx, follower, ch); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(1)
		p := e.post(t, editor, ch, "Front page", "news")
		w := watch(t, e.bus, ch)

		list := func(viewer plaza.ID) []plaza.ID {
			t.Helper()
			posts, err := e.svc.Posts(ctx, viewer, ch, "", 0, 10)
			if err != nil {
				t.Fatalf("Posts: %v", err)
			}
			var ids []plaza.ID
			for _, p := range posts {
				ids = append(ids, p.ID)
			}
			return ids
		}
		searched := func() bool {
			t.Helper()
			found, err := e.svc.Search(ctx, "gazette", 0, 10)
			if err != nil {
				t.Fatalf("Search: %v", err)
			}
			return slices.ContainsFunc(found, func(c Channel) bool { return c.ID == ch })
		}
		visible := func(when string, want bool) {
			t.Helper()
			for _, v := range []plaza.ID{follower, stranger} {
				if got := slices.Contains(list(v), p.ID); got != want {
					t.Errorf("%s: account %d lists the post: %v, want %v", when, v, got, want)
				}
			}
			if got := slices.Contains(e.feedAll(t, follower, 10), p.ID); got != want {
				t.Errorf("%s: the follower's feed has the post: %v, want %v", when, got, want)
			}
			if _, got := e.unread(t, follower)[ch]; got != want {
				t.Errorf("%s: the follower's unread counts include the channel: %v, want %v", when, got, want)
			}
			if got := searched(); got != want {
				t.Errorf("%s: search finds the channel: %v, want %v", when, got, want)
			}
			// Its own people still see what they published, with the
			// channel's status on the channel.
			for _, v := range []plaza.ID{owner, editor} {
				if !slices.Contains(list(v), p.ID) {
					t.Errorf("%s: the channel's own account %d does not see its post", when, v)
				}
			}
		}

		visible("active", true)
		for _, step := range []struct{ status, when string }{
			{StatusSuspended, "suspended"},
			{StatusActive, "reinstated"},
			{StatusClosed, "closed"},
		} {
			if _, err := e.svc.SetStatus(ctx, e.reviewer, ch, step.status, "step "+step.when); err != nil {
				t.Fatalf("SetStatus(%s): %v", step.status, err)
			}
			visible(step.when, step.status == StatusActive)
			if step.status == StatusActive {
				continue
			}
			// No live delivery while it is not active.
			_, err := e.svc.CreatePost(ctx, owner, ch, PostInput{Title: "Still here", Body: "x", Category: "news"})
			wantCode(t, err, plaza.EForbidden)
			if got := w.take(t); len(got) != 0 {
				t.Errorf("%s: %d frames on the channel's subject, want none", step.when, len(got))
			}
		}
	})
}
