package microblog

import (
	"context"
	"testing"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// TestDeleteAccountData: erasing an account takes its follows (with the
// others' counts), its posts (with the counts they added), its
// notifications, timeline and likes (whose counts stay) with it, and
// erasing it again changes nothing.
func TestDeleteAccountData(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 3})
		e.accts.OnDelete(e.svc.DeleteAccountData)
		e.accts.OnErase(e.svc.EraseAccount)
		ctx := context.Background()
		leaving, a, b := e.user(0), e.user(1), e.user(2)
		e.follows(t, leaving, a)
		e.follows(t, b, leaving)
		p := e.post(t, a, "a post")
		e.postWith(t, leaving, PostInput{Text: "bye #farewell", ReplyTo: &p.ID, MediaIDs: []plaza.ID{e.uploadPNG(t, leaving)}})
		e.postWith(t, leaving, PostInput{RepostOf: &p.ID})
		e.post(t, a, "hi @user0")
		liked := e.post(t, a, "likeable")
		if err := e.svc.Like(ctx, leaving, liked.ID); err != nil {
			t.Fatal(err)
		}
		e.drain(t)
		if n := e.count(t, `SELECT COUNT(*) FROM timeline WHERE account_id = $1`, leaving); n == 0 {
			t.Fatal("the leaving account has no timeline to erase")
		}
		if err := e.accts.Erase(ctx, leaving); err != nil {
			t.Fatal(err)
		}
		if err := e.accts.Erase(ctx, leaving); err != nil {
			t.Fatalf("erase again: %v", err)
		}
		if got, _ := e.svc.Get(ctx, 0, liked.ID); got.LikeCount != 1 {
			t.Errorf("the liked post counts %d likes, want the 1 it had", got.LikeCount)
		}
		if c := e.counts(t, a); c.FollowerCount != 0 {
			t.Errorf("a still has %d followers", c.FollowerCount)
		}
		if c := e.counts(t, b); c.FollowingCount != 0 {
			t.Errorf("b still follows %d", c.FollowingCount)
		}
		if got, _ := e.svc.Get(ctx, 0, p.ID); got.ReplyCount != 0 || got.RepostCount != 0 {
			t.Errorf("a's post keeps %d replies and %d reposts, want 0", got.ReplyCount, got.RepostCount)
		}
		for table, n := range map[string]int64{
			"follows":         e.count(t, `SELECT COUNT(*) FROM follows`),
			"live posts":      e.count(t, `SELECT COUNT(*) FROM posts WHERE author_id = $1 AND status <> 'deleted'`, leaving),
			"hashtags":        e.count(t, `SELECT COUNT(*) FROM hashtags`),
			"post_media":      e.count(t, `SELECT COUNT(*) FROM post_media`),
			"its mentions":    e.count(t, `SELECT COUNT(*) FROM mentions m JOIN posts p ON p.id = m.post_id WHERE p.author_id = $1`, leaving),
			"timeline":        e.count(t, `SELECT COUNT(*) FROM timeline WHERE account_id = $1`, leaving),
			"notifications":   e.count(t, `SELECT COUNT(*) FROM notifications WHERE account_id = $1`, leaving),
			"likes":           e.count(t, `SELECT COUNT(*) FROM likes WHERE account_id = $1`, leaving),
			"stats of leaver": e.count(t, `SELECT COUNT(*) FROM microblog_stats WHERE account_id = $1`, leaving),
		} {
			if n != 0 {
				t.Errorf("%s: %d rows left, want 0", table, n)
			}
		}
		if trends, _ := e.svc.Trending(ctx, "24h"); len(trends) != 0 {
			t.Errorf("trending keeps %+v", trends)
		}
	})
}
