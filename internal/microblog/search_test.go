package microblog

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/plazatest"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// TestSearch: public posts match every term of a query, Chinese and
// Japanese without spaces as well as Latin text, newest first with
// cursors, with the same results on both engines; posts for followers,
// held posts, deleted posts and posts across a block are not found.
func TestSearch(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 3})
		ctx := context.Background()
		a, b, blocker := e.user(0), e.user(1), e.user(2)
		weather := e.post(t, a, "今天天气很好，我们去公园散步吧")
		tokyo := e.post(t, b, "東京の天気は晴れです")
		mixed := e.post(t, a, "Plaza 的天气 widget is great")
		e.postWith(t, a, PostInput{Text: "天气 only for followers", Visibility: Followers})
		gone := e.post(t, b, "天气 soon deleted")
		if err := e.svc.Delete(ctx, b, gone.ID); err != nil {
			t.Fatal(err)
		}
		e.setCategory(t, "health", "review")
		e.postWith(t, a, PostInput{Text: "天气 held for review", Category: "health"})
		search := func(viewer plaza.ID, q string) []plaza.ID {
			t.Helper()
			return collect(t, func(cursor plaza.ID) (Page, error) { return e.svc.Search(ctx, viewer, q, cursor, 1) })
		}
		for _, c := range []struct {
			q    string
			want []plaza.ID
		}{
			{"天气", ids(mixed, weather)},
			{"公园", ids(weather)},
			{"天气很好", ids(weather)},
			{"天气 公园", ids(weather)},
			{"天", ids(mixed, tokyo, weather)},
			{"天気", ids(tokyo)},
			{"東京 晴れ", ids(tokyo)},
			{"WIDGET", ids(mixed)},
			{"plaza great", ids(mixed)},
			{"weather", nil},
			// Query syntax is text: the quotes go, and OR, NEAR and x
			// are words every match must hold.
			{"\"天气\"", ids(mixed, weather)},
			{"天气 OR NEAR(x) * :", nil},
		} {
			if got := search(0, c.q); !slices.Equal(got, c.want) {
				t.Errorf("search %q = %v, want %v", c.q, got, c.want)
			}
		}
		e.block(t, blocker, a)
		if got := search(blocker, "天气"); len(got) != 0 {
			t.Errorf("across a block the search finds %v", got)
		}
		for _, q := range []string{"", "  ！！ ", strings.Repeat("长", 201), "a\x00b"} {
			_, err := e.svc.Search(ctx, 0, q, 0, 10)
			plazatest.WantInvalidField(t, err, "q")
		}
	})
}

// TestSearchAfterReviewAndAccountDeletion: an approved post becomes
// searchable; a deleted account's posts leave the index.
func TestSearchAfterReviewAndAccountDeletion(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 2})
		e.accts.OnDelete(e.svc.DeleteAccountData)
		ctx := context.Background()
		e.setCategory(t, "health", "review")
		held := e.postWith(t, e.user(0), PostInput{Text: "公园 walk", Category: "health"})
		if page, _ := e.svc.Search(ctx, 0, "公园", 0, 10); len(page.Posts) != 0 {
			t.Fatalf("a held post is found")
		}
		if _, err := e.svc.Decide(ctx, e.staff, held.ID, true, ""); err != nil {
			t.Fatal(err)
		}
		leaving := e.post(t, e.user(1), "公园 too")
		if page, _ := e.svc.Search(ctx, 0, "公园", 0, 10); !slices.Equal(ids(page.Posts...), ids(leaving, held)) {
			t.Fatalf("search = %v, want both", ids(page.Posts...))
		}
		if err := e.accts.Erase(ctx, e.user(1)); err != nil {
			t.Fatal(err)
		}
		if page, _ := e.svc.Search(ctx, 0, "公园", 0, 10); !slices.Equal(ids(page.Posts...), ids(held)) {
			t.Errorf("after the account's deletion: %v, want only the approved post", ids(page.Posts...))
		}
	})
}
