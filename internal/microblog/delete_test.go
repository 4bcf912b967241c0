package microblog

import (
	"context"
	"slices"
	"testing"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// TestHostileDelete: only the author deletes a post (someone who sees it
// is forbidden, someone who does not gets not_found); a deleted post is
// gone everywhere, its counts are taken back, and deleting it twice is
// not_found.
func TestHostileDelete(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 3})
		ctx := context.Background()
		author, follower, stranger := e.user(0), e.user(1), e.user(2)
		e.follows(t, follower, author)
		img := e.uploadPNG(t, author)
		parent := e.post(t, stranger, "a question")
		p := e.postWith(t, author, PostInput{Text: "an answer #gone @user1", ReplyTo: &parent.ID, MediaIDs: []plaza.ID{img}})
		priv := e.postWith(t, author, PostInput{Text: "private", Visibility: Contacts})
		if err := e.svc.Like(ctx, follower, p.ID); err != nil {
			t.Fatal(err)
		}
		e.drain(t)
		wantCode(t, e.svc.Delete(ctx, follower, p.ID), plaza.EForbidden)
		wantCode(t, e.svc.Delete(ctx, stranger, priv.ID), plaza.ENotFound)
		wantCode(t, e.svc.Delete(ctx, author, plaza.NewID()), plaza.ENotFound)
		if err := e.svc.Delete(ctx, author, p.ID); err != nil {
			t.Fatal(err)
		}
		wantCode(t, e.svc.Delete(ctx, author, p.ID), plaza.ENotFound)

		for _, viewer := range []plaza.ID{0, author, follower} {
			if _, err := e.svc.Get(ctx, viewer, p.ID); plaza.ErrorCode(err) != plaza.ENotFound {
				t.Errorf("Get by %d after deletion: %v, want not_found", viewer, err)
			}
		}
		if got := e.timeline(t, follower); slices.Contains(got, p.ID) {
			t.Errorf("the follower's timeline still has it: %v", got)
		}
		if page, _ := e.svc.Replies(ctx, 0, parent.ID, 0, 10); len(page.Posts) != 0 {
			t.Errorf("replies still list it")
		}
		if page, _ := e.svc.HashtagPosts(ctx, 0, "gone", 0, 10); len(page.Posts) != 0 {
			t.Errorf("its hashtag page still lists it")
		}
		if trends, _ := e.svc.Trending(ctx, "1h"); len(trends) != 0 {
			t.Errorf("trending still counts it: %+v", trends)
		}
		if ns := e.notifications(t, follower); len(ns) != 0 {
			t.Errorf("the mention's notification is still listed: %+v", ns)
		}
		if got, _ := e.svc.Get(ctx, 0, parent.ID); got.ReplyCount != 0 {
			t.Errorf("parent's reply_count = %d, want 0", got.ReplyCount)
		}
		if c := e.counts(t, author); c.PostCount != 1 {
			t.Errorf("post_count = %d, want 1 (the private post)", c.PostCount)
		}
		var text, media string
		if err := db.Read().QueryRowContext(ctx, `SELECT text, media_ids FROM posts WHERE id = $1`, p.ID).Scan(&text, &media); err != nil || text != "" || media != "[]" {
			t.Errorf("the deleted row keeps text %q media %s (%v), want both emptied", text, media, err)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM post_media`) + e.count(t, `SELECT COUNT(*) FROM mentions`) + e.count(t, `SELECT COUNT(*) FROM hashtags`); n != 0 {
			t.Errorf("%d media, mention or hashtag rows left", n)
		}
		wantCode(t, e.svc.Like(ctx, follower, p.ID), plaza.ENotFound)
	})
}

// TestNotifications: the list is newest first with cursors, says which
// are read, counts the unread, and marking read moves forward only; a
// block stops notifications between the two.
func TestNotifications(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 4})
		ctx := context.Background()
		me, a, b, blocker := e.user(0), e.user(1), e.user(2), e.user(3)
		mine := e.post(t, me, "my post")
		e.follows(t, a, me)
		if err := e.svc.Like(ctx, b, mine.ID); err != nil {
			t.Fatal(err)
		}
		e.postWith(t, a, PostInput{Text: "replying", ReplyTo: &mine.ID})
		e.postWith(t, b, PostInput{RepostOf: &mine.ID})
		e.post(t, a, "hey @user0")
		e.block(t, me, blocker)
		e.post(t, blocker, "can you hear me @user0")
		if err := e.svc.Follow(ctx, blocker, me); plaza.ErrorCode(err) != plaza.EBlocked {
			t.Errorf("follow across a block: %v", err)
		}
		all, unread, err := e.svc.Notifications(ctx, me, 0, 10, false)
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for _, n := range all {
			kinds = append(kinds, n.Kind)
			if n.Read || n.ActorID == blocker {
				t.Errorf("notification %+v: read or from the blocked account", n)
			}
		}
		if want := []string{KindMention, KindRepost, KindReply, KindLike, KindFollow}; !slices.Equal(kinds, want) || unread != 5 {
			t.Fatalf("notifications = %q, %d unread; want %q, 5", kinds, unread, want)
		}
		if synced := e.syncedNotifications(t, me); len(synced) != 5 {
			t.Errorf("the sync log holds %d notifications, want 5 for an offline device", len(synced))
		}
		page, _, _ := e.svc.Notifications(ctx, me, all[1].ID, 2, false)
		if !slices.Equal([]plaza.ID{page[0].ID, page[1].ID}, []plaza.ID{all[2].ID, all[3].ID}) {
			t.Errorf("page after the cursor = %+v", page)
		}
		if err := e.svc.MarkRead(ctx, me, all[2].ID); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.MarkRead(ctx, me, all[4].ID); err != nil { // backwards: ignored
			t.Fatal(err)
		}
		got, unread, _ := e.svc.Notifications(ctx, me, 0, 10, false)
		for i, n := range got {
			if n.Read != (i >= 2) {
				t.Errorf("notification %d read = %v", i, n.Read)
			}
		}
		if unread != 2 {
			t.Errorf("unread = %d, want 2", unread)
		}
		if only, _, _ := e.svc.Notifications(ctx, me, 0, 10, true); len(only) != 2 {
			t.Errorf("unread only = %d items, want 2", len(only))
		}
		// Marking past the newest marks up to the newest only.
		if err := e.svc.MarkRead(ctx, me, plaza.ID(1<<62)); err != nil {
			t.Fatal(err)
		}
		e.post(t, a, "again @user0")
		if _, unread, _ := e.svc.Notifications(ctx, me, 0, 10, false); unread != 1 {
			t.Errorf("unread after a new one = %d, want 1", unread)
		}
		if err := e.svc.MarkRead(ctx, me, 0); plaza.ErrorCode(err) != plaza.EInvalid {
			t.Errorf("MarkRead(0) = %v", err)
		}
	})
}
