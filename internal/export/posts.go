package export

import (
	"context"
	"fmt"
	"strings"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/channel"
	"github.com/plaza-im/plaza/internal/microblog"
)

// microblog writes posts.json (the subject's posts, replies and reposts),
// likes.json, follows.json (both directions) and microblog.html.
func (x *run) microblog(ctx context.Context) (string, error) {
	mb := x.s.d.Microblog
	eachPost := func(fn func(microblog.Post) error) error {
		return pages(ctx, x.p, func(after plaza.ID, limit int) ([]microblog.Post, error) {
			return mb.YourPosts(ctx, x.subject, after, limit)
		}, func(p microblog.Post) plaza.ID { return p.ID }, fn)
	}
	eachLike := func(fn func(microblog.YourLike) error) error {
		return pages(ctx, x.p, func(after plaza.ID, limit int) ([]microblog.YourLike, error) {
			return mb.YourLikes(ctx, x.subject, after, limit)
		}, func(l microblog.YourLike) plaza.ID { return l.PostID }, fn)
	}
	eachFollow := func(followers bool, fn func(microblog.YourFollow) error) error {
		return pages(ctx, x.p, func(after plaza.ID, limit int) ([]microblog.YourFollow, error) {
			return mb.YourFollows(ctx, x.subject, followers, after, limit)
		}, func(f microblog.YourFollow) plaza.ID { return f.ID }, fn)
	}
	var posts, likes, following, followers int
	if err := x.listFile("posts.json", "posts", func(add func(any) error) error {
		return eachPost(func(p microblog.Post) error { posts++; return add(p) })
	}); err != nil {
		return "", err
	}
	if err := x.listFile("likes.json", "likes", func(add func(any) error) error {
		return eachLike(func(l microblog.YourLike) error { likes++; return add(l) })
	}); err != nil {
		return "", err
	}
	f, err := x.w.Create("follows.json")
	if err != nil {
		return "", err
	}
	o := newJSONObject(f)
	for _, dir := range []struct {
		name      string
		followers bool
		n         *int
	}{{"following", false, &following}, {"followers", true, &followers}} {
		l := o.List(dir.name)
		if err := eachFollow(dir.followers, func(fl microblog.YourFollow) error { *dir.n++; return l.Add(fl) }); err != nil {
			return "", err
		}
		l.Close()
	}
	if err := o.Close(); err != nil {
		return "", err
	}

	pg, err := openPage(x.w, "microblog.html", "Posts, likes and follows", "", x.exported)
	if err != nil {
		return "", err
	}
	pg.heading("posts", "Your posts, replies and reposts")
	pg.table("Posted", "Post", "Visibility", "Status", "Likes", "Replies", "Reposts")
	if err := eachPost(func(p microblog.Post) error {
		return pg.row(p.CreatedAt, postText(p), p.Visibility, p.Status, p.LikeCount, p.ReplyCount, p.RepostCount)
	}); err != nil {
		return "", err
	}
	pg.endTable()
	pg.heading("likes", "Posts you like")
	pg.table("Post ID", "Liked")
	if err := eachLike(func(l microblog.YourLike) error { return pg.row(l.PostID, l.CreatedAt) }); err != nil {
		return "", err
	}
	pg.endTable()
	for _, dir := range []struct {
		id, title, who string
		followers      bool
	}{{"following", "Accounts you follow", "Account ID", false}, {"followers", "Accounts that follow you", "Account ID", true}} {
		pg.heading(dir.id, dir.title)
		pg.table(dir.who, "Since")
		if err := eachFollow(dir.followers, func(f microblog.YourFollow) error { return pg.row(f.AccountID, f.Since) }); err != nil {
			return "", err
		}
		pg.endTable()
	}
	return fmt.Sprintf("posts: %d; likes: %d; following: %d; followers: %d", posts, likes, following, followers), pg.close()
}

// postText renders a post's content for a page.
func postText(p microblog.Post) string {
	var b strings.Builder
	b.WriteString(p.Text)
	line := func(s string) {
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		b.WriteString(s)
	}
	if p.ReplyTo != nil {
		line("(a reply to post " + p.ReplyTo.String() + ")")
	}
	if p.RepostOf != nil {
		line("(a repost of post " + p.RepostOf.String() + ")")
	}
	if len(p.MediaIDs) > 0 {
		ids := make([]string, len(p.MediaIDs))
		for i, id := range p.MediaIDs {
			ids[i] = id.String()
		}
		line("media: " + strings.Join(ids, ", ") + " (see Media)")
	}
	if p.Label != "" {
		line("[" + p.Label + "]")
	}
	if p.Removed {
		line("(removed by a moderation decision)")
	}
	if p.Limited {
		line("(limited by a moderation decision)")
	}
	return b.String()
}

// listFile writes a JSON file holding one list, fed by fill.
func (x *run) listFile(name, field string, fill func(add func(any) error) error) error {
	f, err := x.w.Create(name)
	if err != nil {
		return err
	}
	o := newJSONObject(f)
	l := o.List(field)
	if err := fill(l.Add); err != nil {
		return err
	}
	l.Close()
	return o.Close()
}

// channelPostsFile names the file of an owned channel's posts.
func channelPostsFile(id plaza.ID) string { return fmt.Sprintf("channels/%d/posts.json", id) }

// ownedChannel is a channel in channels.json's "owned" list.
type ownedChannel struct {
	channel.Channel
	PostsFile string `json:"posts_file"`
}

// channels writes channels.json (the channels the subject owns, follows
// and applied for), each owned channel's posts and channels.html.
func (x *run) channels(ctx context.Context) (string, error) {
	chs := x.s.d.Channels
	eachOwned := func(fn func(channel.Channel) error) error {
		return pages(ctx, x.p, func(after plaza.ID, limit int) ([]channel.Channel, error) {
			return chs.YourChannels(ctx, x.subject, after, limit)
		}, func(c channel.Channel) plaza.ID { return c.ID }, fn)
	}
	eachPost := func(ch plaza.ID, fn func(channel.Post) error) error {
		return pages(ctx, x.p, func(after plaza.ID, limit int) ([]channel.Post, error) {
			return chs.YourChannelPosts(ctx, x.subject, ch, after, limit)
		}, func(p channel.Post) plaza.ID { return p.ID }, fn)
	}
	eachFollowed := func(fn func(channel.YourFollowedChannel) error) error {
		return pages(ctx, x.p, func(after plaza.ID, limit int) ([]channel.YourFollowedChannel, error) {
			return chs.YourFollowedChannels(ctx, x.subject, after, limit)
		}, func(f channel.YourFollowedChannel) plaza.ID { return f.ChannelID }, fn)
	}
	eachApplication := func(fn func(channel.Application) error) error {
		return pages(ctx, x.p, func(after plaza.ID, limit int) ([]channel.Application, error) {
			return chs.YourApplications(ctx, x.subject, after, limit)
		}, func(a channel.Application) plaza.ID { return a.ID }, fn)
	}
	var owned, followed, applications int
	f, err := x.w.Create("channels.json")
	if err != nil {
		return "", err
	}
	o := newJSONObject(f)
	l := o.List("owned")
	if err := eachOwned(func(c channel.Channel) error { owned++; return l.Add(ownedChannel{c, channelPostsFile(c.ID)}) }); err != nil {
		return "", err
	}
	l.Close()
	l = o.List("following")
	if err := eachFollowed(func(c channel.YourFollowedChannel) error { followed++; return l.Add(c) }); err != nil {
		return "", err
	}
	l.Close()
	l = o.List("applications")
	if err := eachApplication(func(a channel.Application) error { applications++; return l.Add(a) }); err != nil {
		return "", err
	}
	l.Close()
	if err := o.Close(); err != nil {
		return "", err
	}
	if err := eachOwned(func(c channel.Channel) error {
		return x.listFile(channelPostsFile(c.ID), "posts", func(add func(any) error) error {
			return eachPost(c.ID, func(p channel.Post) error { return add(p) })
		})
	}); err != nil {
		return "", err
	}

	pg, err := openPage(x.w, "channels.html", "Channels", "", x.exported)
	if err != nil {
		return "", err
	}
	if err := eachOwned(func(c channel.Channel) error {
		pg.heading("c"+c.ID.String(), c.Name+" (@"+c.Handle+")")
		pg.fields("Kind", c.Kind, "Status", c.Status, "Followers", c.FollowerCount, "Approved", c.ApprovedAt, "Description", c.Description)
		pg.table("Created", "Title", "Body", "Category", "Status", "Author")
		if err := eachPost(c.ID, func(p channel.Post) error {
			return pg.row(p.CreatedAt, p.Title, p.Body, p.Category, p.Status, p.AuthorID)
		}); err != nil {
			return err
		}
		pg.endTable()
		return nil
	}); err != nil {
		return "", err
	}
	pg.heading("following", "Channels you follow")
	pg.table("Channel", "Handle", "Following since")
	if err := eachFollowed(func(c channel.YourFollowedChannel) error { return pg.row(c.Name, "@"+c.Handle, c.FollowedAt) }); err != nil {
		return "", err
	}
	pg.endTable()
	pg.heading("applications", "Your applications for a public account")
	pg.table("Applied", "Handle", "Name", "Kind", "Status", "Reason")
	if err := eachApplication(func(a channel.Application) error {
		return pg.row(a.CreatedAt, "@"+a.Handle, a.Name, a.Kind, a.Status, a.Reason)
	}); err != nil {
		return "", err
	}
	pg.endTable()
	return fmt.Sprintf("owned: %d; followed: %d; applications: %d", owned, followed, applications), pg.close()
}
