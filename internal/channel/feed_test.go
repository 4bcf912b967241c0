package channel

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// feedAll reads account's whole feed in pages of size, following the
// (published_at, id) cursor the way a client does, and returns the post IDs.
func (e *env) feedAll(tb testing.TB, account plaza.ID, size int) []plaza.ID {
	tb.Helper()
	var out []plaza.ID
	var before FeedCursor
	for range 100 {
		posts, _, err := e.svc.Feed(context.Background(), account, before, size)
		if err != nil {
			tb.Fatalf("Feed: %v", err)
		}
		for _, p := range posts {
			out = append(out, p.ID)
		}
		if len(posts) < size {
			return out
		}
		last := posts[len(posts)-1]
		if last.PublishedAt == nil {
			tb.Fatalf("feed post %d has no published_at", last.ID)
		}
		before = FeedCursor{PublishedAt: last.PublishedAt.UnixMicro(), ID: last.ID}
	}
	tb.Fatal("the feed never ended")
	return nil
}

// unread returns account's unread counts by channel.
func (e *env) unread(tb testing.TB, account plaza.ID) map[plaza.ID]int64 {
	tb.Helper()
	_, unread, err := e.svc.Feed(context.Background(), account, FeedCursor{}, 1)
	if err != nil {
		tb.Fatalf("Feed: %v", err)
	}
	out := map[plaza.ID]int64{}
	for _, u := range unread {
		out[u.ChannelID] = u.UnreadCount
	}
	return out
}

func TestFeed(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 4, cfg: roomy})
		ctx := context.Background()
		reader, ownerA, ownerB := e.user(1), e.user(2), e.user(3)
		a := e.newChannel(t, ownerA, "alpha", Subscription)
		b := e.newChannel(t, ownerB, "beta", ServiceKind)
		c := e.newChannel(t, ownerB, "gamma", ServiceKind) // not followed
		e.category(t, "news", PolicyOpen)
		e.category(t, "health", PolicyReview)

		// Published before following: in the feed, but not unread.
		e.clock.Advance(time.Minute)
		old := e.post(t, ownerA, a, "old", "news")
		e.clock.Advance(time.Minute)
		for _, ch := range []plaza.ID{a, b} {
			if err := e.svc.Follow(ctx, reader, ch); err != nil {
				t.Fatalf("Follow: %v", err)
			}
		}
		if got := e.unread(t, reader); !maps.Equal(got, map[plaza.ID]int64{a: 0, b: 0}) {
			t.Errorf("unread right after following = %v, want zeros", got)
		}

		// Interleaved posts, a held one, one on an unfollowed channel.
		var want []plaza.ID // newest first
		var held Post
		var betaPosts []plaza.ID
		for i := range 7 {
			e.clock.Advance(time.Minute)
			ch, owner := a, ownerA
			if i%2 == 1 {
				ch, owner = b, ownerB
			}
			id := e.post(t, owner, ch, fmt.Sprintf("post %d", i), "news").ID
			want = append([]plaza.ID{id}, want...)
			if ch == b {
				betaPosts = append(betaPosts, id)
			}
			if i == 3 {
				e.post(t, ownerB, c, "elsewhere", "news")
				held = e.post(t, ownerA, a, "held", "health")
			}
		}
		want = append(want, old.ID)

		for _, size := range []int{1, 2, 3, 50} {
			if got := e.feedAll(t, reader, size); !slices.Equal(got, want) {
				t.Errorf("feed in pages of %d = %v, want %v", size, got, want)
			}
		}
		posts, _, err := e.svc.Feed(ctx, reader, FeedCursor{}, 3)
		if err != nil || len(posts) != 3 {
			t.Fatalf("Feed = %v, %v", posts, err)
		}
		for i := 1; i < len(posts); i++ {
			if !posts[i].PublishedAt.Before(*posts[i-1].PublishedAt) {
				t.Errorf("feed not newest first: %v then %v", posts[i-1].PublishedAt, posts[i].PublishedAt)
			}
		}
		if posts[0].Title != "post 6" || posts[0].BodyHTML == "" || posts[0].Status != PostPublished {
			t.Errorf("first feed post = %+v", posts[0])
		}
		if got := e.unread(t, reader); !maps.Equal(got, map[plaza.ID]int64{a: 4, b: 3}) {
			t.Errorf("unread = %v, want 4 on alpha, 3 on beta", got)
		}

		// Approval publishes the held post now: newest, and unread.
		e.clock.Advance(time.Minute)
		if _, err := e.svc.DecidePost(ctx, e.reviewer, held.ID, true, ""); err != nil {
			t.Fatalf("approve: %v", err)
		}
		if got := e.feedAll(t, reader, 4); len(got) != len(want)+1 || got[0] != held.ID {
			t.Errorf("feed after approval = %v, want %d first", got, held.ID)
		}
		if got := e.unread(t, reader); got[a] != 5 {
			t.Errorf("unread on alpha after approval = %d, want 5", got[a])
		}

		// MarkRead zeroes one channel only; later posts count again.
		e.clock.Advance(time.Minute)
		if err := e.svc.MarkRead(ctx, reader, a); err != nil {
			t.Fatalf("MarkRead: %v", err)
		}
		if got := e.unread(t, reader); !maps.Equal(got, map[plaza.ID]int64{a: 0, b: 3}) {
			t.Errorf("unread after MarkRead(alpha) = %v, want 0 and 3", got)
		}
		e.clock.Advance(time.Minute)
		e.post(t, ownerA, a, "after reading", "news")
		if got := e.unread(t, reader); got[a] != 1 {
			t.Errorf("unread on alpha after a new post = %d, want 1", got[a])
		}

		wantCode(t, e.svc.MarkRead(ctx, reader, c), plaza.ENotFound)
		wantCode(t, e.svc.MarkRead(ctx, ownerA, a), plaza.ENotFound)
		wantCode(t, e.svc.MarkRead(ctx, reader, plaza.NewID()), plaza.ENotFound)

		// Unfollowing takes the channel out of the feed and the counts.
		if err := e.svc.Unfollow(ctx, reader, b); err != nil {
			t.Fatal(err)
		}
		for _, id := range e.feedAll(t, reader, 50) {
			if slices.Contains(betaPosts, id) {
				t.Errorf("feed still has beta's post %d after unfollowing", id)
			}
		}
		if got := e.unread(t, reader); len(got) != 1 || got[a] != 1 {
			t.Errorf("unread after unfollowing beta = %v, want only alpha", got)
		}
		posts, unread, err := e.svc.Feed(ctx, ownerB, FeedCursor{}, 20)
		if err != nil || len(posts) != 0 || len(unread) != 0 {
			t.Errorf("feed of someone following nothing = %v, %v, %v", posts, unread, err)
		}
	})
}

// TestFeedPagingSameInstant publishes two posts at the same microsecond
// (two channels of a busy server; the clock's resolution) and reads the
// feed one post per page: following next_cursor must not skip either.
func TestFeedPagingSameInstant(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 3, cfg: roomy})
		ctx := context.Background()
		reader := e.user(0)
		a := e.newChannel(t, e.user(1), "same_a", ServiceKind)
		b := e.newChannel(t, e.user(2), "same_b", ServiceKind)
		e.category(t, "news", PolicyOpen)
		for _, ch := range []plaza.ID{a, b} {
			if err := e.svc.Follow(ctx, reader, ch); err != nil {
				t.Fatal(err)
			}
		}
		e.clock.Advance(time.Minute)
		p1 := e.post(t, e.user(1), a, "one", "news")
		p2 := e.post(t, e.user(2), b, "two", "news")
		got := e.feedAll(t, reader, 1)
		if len(got) != 2 || !slices.Contains(got, p1.ID) || !slices.Contains(got, p2.ID) {
			t.Errorf("feed paged one at a time = %v, want both %d and %d", got, p1.ID, p2.ID)
		}
	})
}

// TestPublishWritesNothingPerFollower counts the rows of every table
// around one post, on a channel with no followers and with 500: only the
// post and its media links are written, whatever the followers.
func TestPublishWritesNothingPerFollower(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 502, cfg: roomy})
		ctx := context.Background()
		owner := e.user(0)
		lonely := e.newChannel(t, owner, "lonely", ServiceKind)
		popular := e.newChannel(t, owner, "popular", ServiceKind)
		e.category(t, "news", PolicyOpen)
		for i := 2; i < 502; i++ {
			if err := e.svc.Follow(ctx, e.user(i), popular); err != nil {
				t.Fatalf("Follow: %v", err)
			}
		}
		if n := e.get(t, owner, popular).FollowerCount; n != 500 {
			t.Fatalf("follower_count = %d, want 500", n)
		}
		img := e.uploadPNG(t, owner)
		e.clock.Advance(time.Minute) // after the followers' read positions
		want := map[string]int64{"channel_posts": 1, "channel_post_media": 1}
		for _, ch := range []plaza.ID{lonely, popular} {
			w := watch(t, e.bus, ch)
			before := tableCounts(t, db)
			p, err := e.svc.CreatePost(ctx, owner, ch, PostInput{Title: "Hello", Body: "Hello all", Category: "news", MediaIDs: []plaza.ID{img}})
			if err != nil {
				t.Fatalf("CreatePost: %v", err)
			}
			if got := diffCounts(before, tableCounts(t, db)); !maps.Equal(got, want) {
				t.Errorf("channel %d (%d followers): rows changed %v, want %v", ch, e.get(t, owner, ch).FollowerCount, got, want)
			}
			if got := w.take(t); len(got) != 1 || got[0].Data.ID != p.ID {
				t.Errorf("%d frames on the channel's subject, want the one post", len(got))
			}
		}
		if got := e.unread(t, e.user(2)); got[popular] != 1 {
			t.Errorf("a follower's unread = %d, want 1", got[popular])
		}
	})
}
