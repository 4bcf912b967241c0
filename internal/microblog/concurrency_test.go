package microblog

import (
	"context"
	"sync"
	"testing"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// storm runs fn(i) for i in [0, n) on n goroutines at once and fails on
// any error.
func storm(t *testing.T, n int, fn func(i int) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Go(func() {
			<-start
			if err := fn(i); err != nil {
				errs <- err
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestHostileLikeStorm: many accounts like and unlike one post at once,
// each several times; like_count equals the likes stored afterwards.
func TestHostileLikeStorm(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		const n = 24
		e := newEnv(t, db, envOptions{users: n + 1})
		ctx := context.Background()
		p := e.post(t, e.user(n), "a viral post")
		storm(t, n, func(i int) error {
			for k := 0; k < 5; k++ {
				if err := e.svc.Like(ctx, e.user(i), p.ID); err != nil {
					return err
				}
				// Odd accounts end unliked, even ones liked.
				if k < 4 || i%2 == 1 {
					if err := e.svc.Unlike(ctx, e.user(i), p.ID); err != nil {
						return err
					}
				}
			}
			return nil
		})
		got, err := e.svc.Get(ctx, 0, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		stored := e.count(t, `SELECT COUNT(*) FROM likes WHERE post_id = $1`, p.ID)
		if got.LikeCount != stored || stored != n/2 {
			t.Errorf("like_count = %d, likes stored = %d, want both %d", got.LikeCount, stored, n/2)
		}
		if notes := e.count(t, `SELECT COUNT(*) FROM notifications WHERE kind = 'like'`); notes != n {
			t.Errorf("%d like notifications, want one per liker (%d)", notes, n)
		}
	})
}

// TestHostileFollowStorm: many accounts follow and unfollow one account,
// and it follows them back, all at once; every count equals the follows
// stored afterwards.
func TestHostileFollowStorm(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		const n = 20
		e := newEnv(t, db, envOptions{users: n + 1})
		ctx := context.Background()
		star := e.user(n)
		storm(t, 2*n, func(i int) error {
			fan := e.user(i % n)
			if i >= n {
				// The star follows everyone back meanwhile (locks in the
				// other order).
				return e.svc.Follow(ctx, star, fan)
			}
			for k := 0; k < 4; k++ {
				if err := e.svc.Follow(ctx, fan, star); err != nil {
					return err
				}
				if k < 3 || i%3 == 0 {
					if err := e.svc.Unfollow(ctx, fan, star); err != nil {
						return err
					}
				}
			}
			return nil
		})
		for _, id := range append([]plaza.ID{star}, e.user(0), e.user(1)) {
			c := e.counts(t, id)
			followers := e.count(t, `SELECT COUNT(*) FROM follows WHERE followee_id = $1`, id)
			following := e.count(t, `SELECT COUNT(*) FROM follows WHERE follower_id = $1`, id)
			if c.FollowerCount != followers || c.FollowingCount != following {
				t.Errorf("counts of %d = %+v, stored %d followers and %d following", id, c, followers, following)
			}
		}
		if got := e.counts(t, star).FollowerCount; got != n-(n+2)/3 {
			t.Errorf("star has %d followers, want %d", got, n-(n+2)/3)
		}
	})
}

// TestConcurrentReplies: replies posted at once all count.
func TestConcurrentReplies(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		const n = 16
		e := newEnv(t, db, envOptions{users: n + 1})
		ctx := context.Background()
		p := e.post(t, e.user(n), "ask me anything")
		storm(t, n, func(i int) error {
			for k := 0; k < 3; k++ {
				r, err := e.svc.Create(ctx, e.user(i), PostInput{Text: "a reply", ReplyTo: &p.ID})
				if err != nil {
					return err
				}
				if k == 2 && i%2 == 0 {
					if err := e.svc.Delete(ctx, e.user(i), r.ID); err != nil {
						return err
					}
				}
			}
			return nil
		})
		got, _ := e.svc.Get(ctx, 0, p.ID)
		stored := e.count(t, `SELECT COUNT(*) FROM posts WHERE reply_to = $1 AND status = 'published'`, p.ID)
		if got.ReplyCount != stored || stored != 3*n-n/2 {
			t.Errorf("reply_count = %d, replies stored = %d, want both %d", got.ReplyCount, stored, 3*n-n/2)
		}
		for i := 0; i < n; i++ {
			c := e.counts(t, e.user(i))
			if posts := e.count(t, `SELECT COUNT(*) FROM posts WHERE author_id = $1 AND status = 'published'`, e.user(i)); c.PostCount != posts {
				t.Errorf("post_count = %d, stored %d", c.PostCount, posts)
			}
		}
	})
}
