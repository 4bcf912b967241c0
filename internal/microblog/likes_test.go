package microblog

import (
	"context"
	"slices"
	"testing"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// TestLike: likes are idempotent and counted, liked is per viewer, the
// author hears once however often a like is taken back and given again
// (and never of their own like), and an invisible post cannot be liked.
func TestLike(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 4})
		ctx := context.Background()
		author, fan, other, blocked := e.user(0), e.user(1), e.user(2), e.user(3)
		p := e.post(t, author, "like me")
		for i := 0; i < 3; i++ {
			if err := e.svc.Like(ctx, fan, p.ID); err != nil {
				t.Fatal(err)
			}
			if err := e.svc.Like(ctx, fan, p.ID); err != nil {
				t.Fatal(err)
			}
			if i < 2 {
				if err := e.svc.Unlike(ctx, fan, p.ID); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := e.svc.Like(ctx, author, p.ID); err != nil {
			t.Fatal(err)
		}
		got, _ := e.svc.Get(ctx, fan, p.ID)
		if got.LikeCount != 2 || !got.Liked {
			t.Errorf("as the fan: like_count %d liked %v, want 2 and true", got.LikeCount, got.Liked)
		}
		if got, _ := e.svc.Get(ctx, other, p.ID); got.Liked {
			t.Error("liked = true for someone who did not like it")
		}
		if got, _ := e.svc.Get(ctx, 0, p.ID); got.Liked || got.LikeCount != 2 {
			t.Errorf("anonymous: %+v, want liked false and 2 likes", got)
		}
		ns := e.notifications(t, author)
		if len(ns) != 1 || ns[0].Kind != KindLike || ns[0].ActorID != fan {
			t.Errorf("author's notifications = %+v, want one like by the fan", ns)
		}

		e.block(t, author, blocked)
		wantCode(t, e.svc.Like(ctx, blocked, p.ID), plaza.ENotFound)
		wantCode(t, e.svc.Like(ctx, fan, plaza.NewID()), plaza.ENotFound)
		priv := e.postWith(t, author, PostInput{Text: "followers only", Visibility: Followers})
		wantCode(t, e.svc.Like(ctx, other, priv.ID), plaza.ENotFound)
		if n := e.count(t, `SELECT COUNT(*) FROM likes`); n != 2 {
			t.Errorf("%d likes stored, want 2", n)
		}
	})
}

// TestRepliesAndReposts: replies list oldest first with cursors, counts
// follow replies and reposts (and their deletion), and the authors hear
// of them.
func TestRepliesAndReposts(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 4})
		ctx := context.Background()
		author, a, b := e.user(0), e.user(1), e.user(2)
		p := e.post(t, author, "a thread")
		r1 := e.postWith(t, a, PostInput{Text: "first reply", ReplyTo: &p.ID})
		r2 := e.postWith(t, b, PostInput{Text: "second reply", ReplyTo: &p.ID})
		r3 := e.postWith(t, a, PostInput{Text: "third reply", ReplyTo: &p.ID})
		rp := e.postWith(t, b, PostInput{RepostOf: &p.ID})
		got := collect(t, func(cursor plaza.ID) (Page, error) { return e.svc.Replies(ctx, 0, p.ID, cursor, 2) })
		if want := ids(r1, r2, r3); !slices.Equal(got, want) {
			t.Errorf("replies = %v, want %v oldest first", got, want)
		}
		if got, _ := e.svc.Get(ctx, 0, p.ID); got.ReplyCount != 3 || got.RepostCount != 1 {
			t.Errorf("counts = %d replies %d reposts, want 3 and 1", got.ReplyCount, got.RepostCount)
		}
		kinds := map[string]int{}
		for _, n := range e.notifications(t, author) {
			kinds[n.Kind]++
		}
		if kinds[KindReply] != 3 || kinds[KindRepost] != 1 {
			t.Errorf("author's notifications by kind = %v, want 3 replies and 1 repost", kinds)
		}
		if err := e.svc.Delete(ctx, a, r1.ID); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Delete(ctx, b, rp.ID); err != nil {
			t.Fatal(err)
		}
		if got, _ := e.svc.Get(ctx, 0, p.ID); got.ReplyCount != 2 || got.RepostCount != 0 {
			t.Errorf("after deletions: %d replies %d reposts, want 2 and 0", got.ReplyCount, got.RepostCount)
		}
		got = collect(t, func(cursor plaza.ID) (Page, error) { return e.svc.Replies(ctx, 0, p.ID, cursor, 10) })
		if want := ids(r2, r3); !slices.Equal(got, want) {
			t.Errorf("replies after a deletion = %v, want %v", got, want)
		}

	})
}

// TestHostileRepliesOutOfSight: nobody replies to or reposts what they
// cannot see — across a block, a followers post, a post that does not
// exist — all alike not_found, and nothing is stored.
func TestHostileRepliesOutOfSight(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 3})
		ctx := context.Background()
		author, a, blocked := e.user(0), e.user(1), e.user(2)
		p := e.post(t, author, "a thread")
		e.block(t, blocked, author)
		priv := e.postWith(t, author, PostInput{Text: "followers only", Visibility: Followers})
		before := e.count(t, `SELECT COUNT(*) FROM posts`)
		for name, in := range map[string]PostInput{
			"reply across a block":      {Text: "hey", ReplyTo: &p.ID},
			"repost across a block":     {RepostOf: &p.ID},
			"repost of an invisible":    {RepostOf: &priv.ID},
			"reply to an invisible":     {Text: "hey", ReplyTo: &priv.ID},
			"reply to a post not there": {Text: "hey", ReplyTo: ptr(plaza.NewID())},
		} {
			who := blocked
			if name == "repost of an invisible" || name == "reply to an invisible" {
				who = a
			}
			if _, err := e.svc.Create(ctx, who, in); plaza.ErrorCode(err) != plaza.ENotFound {
				t.Errorf("%s: %v, want not_found", name, err)
			}
		}
		if _, err := e.svc.Replies(ctx, blocked, p.ID, 0, 10); plaza.ErrorCode(err) != plaza.ENotFound {
			t.Errorf("replies across a block: %v, want not_found", err)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM posts`); n != before {
			t.Errorf("refused posts stored %d rows", n-before)
		}
	})
}
