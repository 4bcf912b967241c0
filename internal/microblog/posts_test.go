package microblog

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/identity"
	"github.com/plaza-im/plaza/internal/plazatest"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// TestCreatePublishes: a post stores its text, parsed hashtags and
// mentions, counts for its author, lands in the author's own timeline and
// tells the mentioned account.
func TestCreatePublishes(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 3})
		alice, bob := e.user(0), e.user(1)
		p := e.post(t, alice, "Hello #Go and #go, #话题# with @user1 and @nobody_here and @USER0")
		if p.Status != StatusPublished || p.Visibility != Public || p.Category != DefaultCategory || p.PublishedAt == nil {
			t.Errorf("post = %+v, want published, public, general", p)
		}
		if !slices.Equal(p.Hashtags, []string{"go", "话题"}) || !slices.Equal(p.Mentions, []string{"user1", "user0"}) {
			t.Errorf("hashtags %q mentions %q, want [go 话题] and [user1 user0] (unknown handles dropped)", p.Hashtags, p.Mentions)
		}
		got, err := e.svc.Get(context.Background(), 0, p.ID)
		if err != nil || got.Text != p.Text || got.LikeCount != 0 || !got.CreatedAt.Equal(p.CreatedAt) {
			t.Fatalf("Get = %+v, %v; want the post", got, err)
		}
		if c := e.counts(t, alice); c.PostCount != 1 {
			t.Errorf("post_count = %d, want 1", c.PostCount)
		}
		if tl := e.timeline(t, alice); !slices.Equal(tl, ids(p)) {
			t.Errorf("author's timeline = %v, want the post", tl)
		}
		ns := e.notifications(t, bob)
		if len(ns) != 1 || ns[0].Kind != KindMention || ns[0].ActorID != alice || *ns[0].PostID != p.ID || ns[0].Read {
			t.Errorf("bob's notifications = %+v, want one unread mention", ns)
		}
		if self := e.notifications(t, alice); len(self) != 0 {
			t.Errorf("mentioning yourself notified you: %+v", self)
		}
	})
}

// TestHostilePostInput: each bad field (NUL, invalid UTF-8, control
// characters, 2,001 code points, ten media, eleven hashtags or mentions,
// …) is named, and nothing is stored.
func TestHostilePostInput(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 1})
		ctx := context.Background()
		me := e.user(0)
		var tags, mentions []string
		for i := 0; i < 11; i++ {
			tags = append(tags, "#tag"+string(rune('a'+i)))
			mentions = append(mentions, "@someone"+string(rune('a'+i)))
		}
		for _, tc := range []struct {
			name  string
			in    PostInput
			field string
		}{
			{"2,001 code points", PostInput{Text: strings.Repeat("长", 2001)}, "text"},
			{"NUL", PostInput{Text: "a\x00b"}, "text"},
			{"invalid UTF-8", PostInput{Text: "a\xffb"}, "text"},
			{"control character", PostInput{Text: "ring \a"}, "text"},
			{"bidi override", PostInput{Text: "\u202eevil"}, "text"},
			{"nothing at all", PostInput{}, "text"},
			{"only spaces", PostInput{Text: " \n\t "}, "text"},
			{"eleven hashtags", PostInput{Text: strings.Join(tags, " ")}, "text"},
			{"eleven mentions", PostInput{Text: strings.Join(mentions, " ")}, "text"},
			{"visibility", PostInput{Text: "x", Visibility: "everyone"}, "visibility"},
			{"ten media", PostInput{Text: "x", MediaIDs: []plaza.ID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}}, "media_ids"},
			{"a media item twice", PostInput{Text: "x", MediaIDs: []plaza.ID{1, 1}}, "media_ids"},
			{"reply and repost", PostInput{Text: "x", ReplyTo: ptr(1), RepostOf: ptr(2)}, "repost_of"},
			{"category", PostInput{Text: "x", Category: "Not A Name"}, "category"},
			{"unknown category", PostInput{Text: "x", Category: "nosuch"}, "category"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := e.svc.Create(ctx, me, tc.in)
				plazatest.WantInvalidField(t, err, tc.field)
			})
		}
		if n := e.count(t, `SELECT COUNT(*) FROM posts`); n != 0 {
			t.Errorf("%d posts stored after refusals, want 0", n)
		}
		// 2,000 code points (of three bytes each) are fine.
		e.post(t, me, strings.Repeat("长", 2000))
	})
}

// TestHostileMedia: a post carries only its author's own images (up to
// 9) or one video; anything else is refused naming media_ids, and nothing
// is stored.
func TestHostileMedia(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 2})
		ctx := context.Background()
		me, other := e.user(0), e.user(1)
		var nine []plaza.ID
		for i := 0; i < 9; i++ {
			nine = append(nine, e.uploadPNG(t, me))
		}
		theirs := e.uploadPNG(t, other)
		video := e.videoRow(t, me)
		file := e.uploadFile(t, me)
		before := e.count(t, `SELECT COUNT(*) FROM posts`)
		for name, mediaIDs := range map[string][]plaza.ID{
			"someone else's media":    {nine[0], theirs},
			"media that do not exist": {plaza.NewID()},
			"ten images":              append(slices.Clone(nine), e.uploadPNG(t, me)),
			"a video and an image":    {video, nine[0]},
			"a file":                  {file},
		} {
			_, err := e.svc.Create(ctx, me, PostInput{Text: "look", MediaIDs: mediaIDs})
			if plaza.ErrorCode(err) != plaza.EInvalid {
				t.Errorf("%s: got %v, want invalid_request", name, err)
				continue
			}
			plazatest.WantInvalidField(t, err, "media_ids")
		}
		if n := e.count(t, `SELECT COUNT(*) FROM posts`) + e.count(t, `SELECT COUNT(*) FROM post_media`); n != before {
			t.Errorf("refused posts stored rows: %d, want %d", n, before)
		}
		p := e.postWith(t, me, PostInput{MediaIDs: nine})
		if !slices.Equal(p.MediaIDs, nine) {
			t.Errorf("media_ids = %v, want the nine images", p.MediaIDs)
		}
		e.postWith(t, me, PostInput{Text: "a film", MediaIDs: []plaza.ID{video}})
		if n := e.count(t, `SELECT COUNT(*) FROM post_media`); n != 10 {
			t.Errorf("post_media holds %d rows, want 10", n)
		}
	})
}

// TestPostingNeedsAVerifiedPhone under the default verification policy.
func TestPostingNeedsAVerifiedPhone(t *testing.T) {
	ic := identity.DefaultConfig()
	e := newEnv(t, sqldbtest.Open(t, sqldb.SQLite), envOptions{users: 1, ic: &ic})
	_, err := e.svc.Create(context.Background(), e.user(0), PostInput{Text: "hello"})
	if pe := wantCode(t, err, plaza.EVerificationRequired); pe.Details["level"] != "phone" {
		t.Errorf("details = %v, want level phone", pe.Details)
	}
}
