package microblog

import (
	"context"
	"slices"
	"testing"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/audit"
	"github.com/plaza-im/plaza/internal/plazatest"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// TestFollow: follows are one-way and idempotent, counted exactly, listed
// newest first with cursors, and refused for oneself and for accounts that
// do not exist or are closed.
func TestFollow(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 5})
		ctx := context.Background()
		star := e.user(0)
		fans := []plaza.ID{e.user(1), e.user(2), e.user(3)}
		for _, f := range fans {
			e.follows(t, f, star)
			e.follows(t, f, star) // again: nothing changes
		}
		if c := e.counts(t, star); c.FollowerCount != 3 || c.FollowingCount != 0 {
			t.Errorf("star's counts = %+v, want 3 followers", c)
		}
		if c := e.counts(t, fans[0]); c.FollowingCount != 1 || c.FollowerCount != 0 {
			t.Errorf("a fan's counts = %+v, want following 1", c)
		}
		if c, _ := e.svc.Counts(ctx, fans[0], star); !c.Following {
			t.Error("Counts.Following = false for a follower")
		}
		if c, _ := e.svc.Counts(ctx, e.user(4), star); c.Following {
			t.Error("Counts.Following = true for a stranger")
		}
		// Newest first, two at a time.
		var got []plaza.ID
		cursor := plaza.ID(0)
		for {
			page, err := e.svc.Followers(ctx, 0, star, cursor, 2)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range page {
				got = append(got, f.ID)
			}
			if len(page) < 2 {
				break
			}
			cursor = page[len(page)-1].Cursor
		}
		if want := []plaza.ID{fans[2], fans[1], fans[0]}; !slices.Equal(got, want) {
			t.Errorf("followers = %v, want %v", got, want)
		}
		following, err := e.svc.Following(ctx, 0, fans[1], 0, 10)
		if err != nil || len(following) != 1 || following[0].ID != star || following[0].Handle != "user0" {
			t.Errorf("Following = %+v, %v; want the star", following, err)
		}

		if err := e.svc.Unfollow(ctx, fans[0], star); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Unfollow(ctx, fans[0], star); err != nil {
			t.Fatalf("unfollowing twice: %v, want nothing to happen", err)
		}
		if c := e.counts(t, star); c.FollowerCount != 2 {
			t.Errorf("after an unfollow: %d followers, want 2", c.FollowerCount)
		}

		plazatest.WantInvalidField(t, e.svc.Follow(ctx, star, star), "id")
		wantCode(t, e.svc.Follow(ctx, star, plaza.NewID()), plaza.ENotFound)
		if _, err := e.accts.Close(ctx, audit.CLI, e.user(4), "gone"); err != nil {
			t.Fatal(err)
		}
		wantCode(t, e.svc.Follow(ctx, star, e.user(4)), plaza.ENotFound)
		if _, err := e.svc.Followers(ctx, 0, e.user(4), 0, 10); plaza.ErrorCode(err) != plaza.ENotFound {
			t.Errorf("followers of a closed account: %v, want not_found", err)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM follows`); n != 2 {
			t.Errorf("%d follows stored, want 2", n)
		}
	})
}

// TestFollowNotifiesOnce: a new follower notifies the followee once, how
// ever often they unfollow and follow again.
func TestFollowNotifiesOnce(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 2})
		ctx := context.Background()
		a, b := e.user(0), e.user(1)
		for i := 0; i < 3; i++ {
			e.follows(t, a, b)
			if err := e.svc.Unfollow(ctx, a, b); err != nil {
				t.Fatal(err)
			}
		}
		ns := e.notifications(t, b)
		if len(ns) != 1 || ns[0].Kind != KindFollow || ns[0].ActorID != a || ns[0].PostID != nil {
			t.Errorf("notifications = %+v, want one follow", ns)
		}
		if synced := e.syncedNotifications(t, b); len(synced) != 1 || synced[0].ID != ns[0].ID {
			t.Errorf("sync log holds %+v, want the one notification", synced)
		}
	})
}

// TestHostileFollowListsAcrossABlock: a blocked account cannot read the
// blocker's follow lists, and other accounts' lists leave out whoever is
// on the other side of a block from the viewer.
func TestHostileFollowListsAcrossABlock(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 4})
		ctx := context.Background()
		blocker, blocked, fan, other := e.user(0), e.user(1), e.user(2), e.user(3)
		e.follows(t, fan, blocker)
		e.follows(t, other, blocker)
		e.follows(t, fan, other)
		e.block(t, blocker, blocked)
		if _, err := e.svc.Followers(ctx, blocked, blocker, 0, 10); plaza.ErrorCode(err) != plaza.ENotFound {
			t.Errorf("the blocked account reads the blocker's followers: %v, want not_found", err)
		}
		if _, err := e.svc.Following(ctx, blocker, blocked, 0, 10); plaza.ErrorCode(err) != plaza.ENotFound {
			t.Errorf("the blocker reads the blocked account's following: %v, want not_found", err)
		}
		following, err := e.svc.Following(ctx, blocked, fan, 0, 10)
		if err != nil || len(following) != 1 || following[0].ID != other {
			t.Errorf("the fan's following as the blocked account sees it = %v, %v; want only the other account", following, err)
		}
		if following, err := e.svc.Following(ctx, fan, fan, 0, 10); err != nil || len(following) != 2 {
			t.Errorf("the fan's own following = %v, %v; want both", following, err)
		}
	})
}
