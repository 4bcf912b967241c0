package microblog

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/plazatest"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// TestHashtagPages: a tag's page lists the published public posts tagged
// with it in any case or width, newest first; posts for followers or
// contacts, and deleted ones, are not there.
func TestHashtagPages(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 3})
		ctx := context.Background()
		a, b, blocked := e.user(0), e.user(1), e.user(2)
		p1 := e.post(t, a, "learning #Go")
		p2 := e.post(t, b, "#go is fun")
		p3 := e.post(t, a, "full width #Ｇｏ")
		e.postWith(t, a, PostInput{Text: "private #go", Visibility: Followers})
		gone := e.post(t, b, "soon gone #go")
		e.post(t, b, "another #topic")
		if err := e.svc.Delete(ctx, b, gone.ID); err != nil {
			t.Fatal(err)
		}
		for _, tag := range []string{"go", "GO", "#Go", "Ｇｏ"} {
			got := collect(t, func(cursor plaza.ID) (Page, error) { return e.svc.HashtagPosts(ctx, 0, tag, cursor, 2) })
			if want := ids(p3, p2, p1); !slices.Equal(got, want) {
				t.Errorf("posts tagged %q = %v, want %v", tag, got, want)
			}
		}
		e.block(t, blocked, a)
		page, err := e.svc.HashtagPosts(ctx, blocked, "go", 0, 10)
		if err != nil || !slices.Equal(ids(page.Posts...), ids(p2)) {
			t.Errorf("as someone who blocked a: %v, %v; want only b's post", ids(page.Posts...), err)
		}
		_, err = e.svc.HashtagPosts(ctx, 0, "#", 0, 10)
		plazatest.WantInvalidField(t, err, "tag")
	})
}

// TestTrending: tags ranked by distinct accounts, so one account
// repeating a tag cannot push it up; windows of 1h and 24h; deleted posts
// and closed accounts leave the counts.
func TestTrending(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 4})
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Microsecond)
		e.clock.Set(now)
		spammer := e.user(0)
		for i := 0; i < 10; i++ {
			e.post(t, spammer, "buy now #spam")
		}
		var del Post
		for i := 1; i <= 3; i++ {
			p := e.post(t, e.user(i), "#Weather today, #天气#")
			if i == 3 {
				del = p
			}
		}
		e.post(t, e.user(1), "#spam is bad")
		e.postWith(t, e.user(2), PostInput{Text: "quiet #secret", Visibility: Followers})
		got, err := e.svc.Trending(ctx, "1h")
		if err != nil {
			t.Fatal(err)
		}
		want := []Trend{{"weather", 3, 3}, {"天气", 3, 3}, {"spam", 11, 2}}
		if !slices.Equal(got, want) {
			t.Errorf("trending = %+v, want %+v", got, want)
		}
		if err := e.svc.Delete(ctx, e.user(3), del.ID); err != nil {
			t.Fatal(err)
		}
		got, _ = e.svc.Trending(ctx, "24h")
		if want := []Trend{{"spam", 11, 2}, {"weather", 2, 2}, {"天气", 2, 2}}; !slices.Equal(got, want) {
			t.Errorf("after a deletion: %+v, want %+v", got, want)
		}
		// Two hours on, the hour's window is empty; the day's is not.
		e.clock.Set(now.Add(2 * time.Hour))
		if got, _ := e.svc.Trending(ctx, "1h"); len(got) != 0 {
			t.Errorf("1h window two hours later = %+v, want nothing", got)
		}
		if got, _ := e.svc.Trending(ctx, "24h"); len(got) != 3 {
			t.Errorf("24h window two hours later = %+v, want 3 tags", got)
		}
		for _, w := range []string{"", "7d", "1H"} {
			_, err := e.svc.Trending(ctx, w)
			plazatest.WantInvalidField(t, err, "window")
		}
	})
}
