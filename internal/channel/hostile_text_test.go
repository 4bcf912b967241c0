package channel

import (
	"context"
	"testing"

	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

func TestHostileChannelText(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db, envOptions{users: 2})
		for _, name := range []string{"a\x00b", "\u202eevil", "two\nlines", "\u3164", "\u2800\u200d"} {
			_, err := e.svc.Apply(ctx, e.user(1), ApplicationInput{Handle: "news", Name: name, Description: "d", Kind: Subscription})
			wantFields(t, err, "name")
		}
		_, err := e.svc.Apply(ctx, e.user(1), ApplicationInput{Handle: "news", Name: "News", Description: "a\x00", Kind: Subscription})
		wantFields(t, err, "description")
		ch := e.newChannel(t, e.user(1), "daily", Subscription)
		e.category(t, "general", "open")
		for _, title := range []string{"a\x00b", "\u202eevil", "two\nlines"} {
			_, err := e.svc.CreatePost(ctx, e.user(1), ch, PostInput{Title: title, Body: "body", Category: "general"})
			wantFields(t, err, "title")
		}
		_, err = e.svc.CreatePost(ctx, e.user(1), ch, PostInput{Title: "t", Body: "a\x00b", Category: "general"})
		wantFields(t, err, "body")
		_, err = e.svc.Search(ctx, "a\x00", 0, 10)
		wantFields(t, err, "q")
		for i, name := range []string{"新闻频道", "أخبار اليوم", "🌍 News"} {
			if _, err := e.svc.Apply(ctx, e.user(0), ApplicationInput{Handle: "legit" + string(rune('a'+i)), Name: name, Description: "d", Kind: Subscription}); err != nil {
				t.Fatalf("apply with name %q: %v", name, err)
			}
		}
	})
}
