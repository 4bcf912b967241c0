package export_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/channel"
	"github.com/plaza-im/plaza/internal/export"
	"github.com/plaza-im/plaza/internal/identity"
	"github.com/plaza-im/plaza/internal/microblog"
	"github.com/plaza-im/plaza/internal/moderation"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// Texts whose presence or absence the test checks. The subject (user0)
// must find everything of theirs; nothing private of the others may be in
// the export.
const (
	subjectLegalName = "张三丰真名"
	subjectDocNumber = "E99887766"
	otherLegalName   = "李四秘密真名"
	otherDocNumber   = "G12345678"
	otherPhone       = "+8613900139000"
	subjectPhone     = "+8613800138000"

	directFromSubject = "你好世界, from the subject"
	directFromOther   = "the other says hello 你好"
	beforeJoin        = "sent before the subject joined"
	afterJoin         = "sent after the subject joined"
	notAMember        = "a group the subject is not in"
	recalledText      = "the subject recalled this"
	removedText       = "the other's message a moderator removed"
	otherComment      = "the other's comment on a report about the subject"
	subjectComment    = "the subject's own report comment"
	appealText        = "the subject's appeal, 申诉"
	subjectPost       = "今天天气很好 #天气# from the subject"
)

// TestExportHoldsEveryKind builds an account with every kind of data an
// export holds, next to other people's data that it must not hold,
// exports it and checks the unzipped files.
func TestExportHoldsEveryKind(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db, 6, export.Config{PageSize: 2})
		const subject, other, third, fourth, fifth = 0, 1, 2, 3, 4
		s, o := e.user(subject), e.user(other)
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}

		// Account, sessions, verification, legal identities.
		_, _, err := e.accts.Login(ctx, e.users[subject].Handle, "password123", "ExportTest/1.0")
		must(err)
		e.verifyPhone(t, subject, subjectPhone)
		e.verifyPhone(t, other, otherPhone)
		_, err = e.ids.Submit(ctx, s, identity.Submission{LegalName: subjectLegalName, DocumentType: identity.Passport, DocumentNumber: subjectDocNumber, DocumentCountry: "CN"})
		must(err)
		_, err = e.ids.Submit(ctx, o, identity.Submission{LegalName: otherLegalName, DocumentType: identity.Passport, DocumentNumber: otherDocNumber, DocumentCountry: "CN"})
		must(err)

		// Contacts, requests both ways, blocks both ways.
		req, err := e.chat.RequestContact(ctx, s, o, "let us talk")
		must(err)
		_, err = e.chat.AcceptContact(ctx, o, req.ID)
		must(err)
		_, err = e.chat.RequestContact(ctx, e.user(third), s, "the third asks")
		must(err)
		_, err = e.chat.RequestContact(ctx, s, e.user(fourth), "the subject asks the fourth")
		must(err)
		must(e.chat.Block(ctx, s, e.user(fifth)))
		must(e.chat.Block(ctx, e.user(fourth), e.user(third)))

		// A direct conversation with media both ways, a recall and a
		// moderated message.
		direct, _, err := e.chat.OpenDirect(ctx, s, o)
		must(err)
		own := e.upload(t, subject, 1)
		theirs := e.upload(t, other, 2)
		e.send(t, subject, direct.ID, directFromSubject, nil)
		e.send(t, other, direct.ID, directFromOther, nil)
		e.send(t, subject, direct.ID, "", &own.ID)
		e.send(t, other, direct.ID, "", &theirs.ID)
		rec := e.send(t, subject, direct.ID, recalledText, nil)
		_, err = e.chat.Recall(ctx, s, direct.ID, rec.ID)
		must(err)
		bad := e.send(t, other, direct.ID, removedText, nil)
		rep, err := e.mod.File(ctx, e.actor(subject), moderation.ReportInput{TargetType: moderation.TargetMessage, TargetID: bad.ID, RuleID: 1, Comment: subjectComment})
		must(err)
		_, err = e.mod.DecideReport(ctx, e.staff[0], rep.ItemID, moderation.DecisionInput{Action: moderation.Remove, RuleID: 1, Reason: "abusive"})
		must(err)

		// A group the subject joined late, and one it is not in.
		late, err := e.chat.CreateGroup(ctx, o, "late group", []plaza.ID{e.user(third)})
		must(err)
		e.send(t, other, late.ID, beforeJoin, nil)
		_, err = e.chat.AddMembers(ctx, o, late.ID, []plaza.ID{s})
		must(err)
		e.send(t, third, late.ID, afterJoin, nil)
		outside, err := e.chat.CreateGroup(ctx, o, "not yours", []plaza.ID{e.user(third)})
		must(err)
		e.send(t, other, outside.ID, notAMember, nil)

		// Posts, a reply and a repost, likes, follows both ways.
		theirPost, err := e.blog.Create(ctx, o, microblog.PostInput{Text: "the other's post"})
		must(err)
		post, err := e.blog.Create(ctx, s, microblog.PostInput{Text: subjectPost, MediaIDs: []plaza.ID{own.ID}})
		must(err)
		reply, err := e.blog.Create(ctx, s, microblog.PostInput{Text: "a reply", ReplyTo: &theirPost.ID})
		must(err)
		repost, err := e.blog.Create(ctx, s, microblog.PostInput{RepostOf: &theirPost.ID})
		must(err)
		must(e.blog.Like(ctx, s, theirPost.ID))
		must(e.blog.Like(ctx, o, post.ID))
		must(e.blog.Follow(ctx, s, o))
		must(e.blog.Follow(ctx, e.user(third), s))

		// Channels: one owned with a post, one followed, a refused
		// application.
		_, err = e.channels.SetCategory(ctx, e.staff[2], "news", channel.PolicyOpen, "News")
		must(err)
		app, err := e.channels.Apply(ctx, s, channel.ApplicationInput{Handle: "subject_news", Name: "主题新闻", Description: "the subject's channel", Kind: channel.Subscription})
		must(err)
		app, err = e.channels.DecideApplication(ctx, e.staff[2], app.ID, true, "fine")
		must(err)
		owned := *app.ChannelID
		cpost, err := e.channels.CreatePost(ctx, s, owned, channel.PostInput{Title: "频道文章", Body: "the body of the subject's article", Category: "news"})
		must(err)
		oapp, err := e.channels.Apply(ctx, o, channel.ApplicationInput{Handle: "other_news", Name: "Other news", Description: "theirs", Kind: channel.Subscription})
		must(err)
		oapp, err = e.channels.DecideApplication(ctx, e.staff[2], oapp.ID, true, "fine")
		must(err)
		must(e.channels.Follow(ctx, s, *oapp.ChannelID))
		refused, err := e.channels.Apply(ctx, s, channel.ApplicationInput{Handle: "subject_two", Name: "Second", Description: "another", Kind: "service"})
		must(err)
		_, err = e.channels.DecideApplication(ctx, e.staff[2], refused.ID, false, "one is enough")
		must(err)

		// A report about the subject by the other, decided and appealed.
		about, err := e.mod.File(ctx, e.actor(other), moderation.ReportInput{TargetType: moderation.TargetPost, TargetID: post.ID, RuleID: 1, Comment: otherComment})
		must(err)
		dec, err := e.mod.DecideReport(ctx, e.staff[0], about.ItemID, moderation.DecisionInput{Action: moderation.Label, Label: "disputed", RuleID: 1, Reason: "needs context"})
		must(err)
		_, err = e.mod.Appeal(ctx, e.actor(subject), dec.ID, appealText)
		must(err)

		ex, err := e.svc.Request(ctx, s, s)
		must(err)
		if got := e.waitExport(t, s, ex.ID); got.Status != export.Ready || got.Progress != 1 || got.Size == 0 || got.ExpiresAt.IsZero() {
			t.Fatalf("got export %+v, want ready with progress 1, a size and an expiry", got)
		}
		files := e.download(t, s, ex.ID)

		// Every file is there.
		want := []string{"index.html", "README.txt", "schema.json", "account.json", "account.html", "contacts.json", "blocks.json", "contacts.html",
			"conversations/index.json", "conversations.html", "posts.json", "likes.json", "follows.json", "microblog.html",
			"channels.json", "channels.html", "moderation.json", "moderation.html", "media/index.json", "media.html",
			fmt.Sprintf("conversations/%d.json", direct.ID), fmt.Sprintf("conversations/%d.html", direct.ID),
			fmt.Sprintf("conversations/%d.json", late.ID), fmt.Sprintf("conversations/%d.html", late.ID),
			fmt.Sprintf("channels/%d/posts.json", owned), fmt.Sprintf("media/%d.png", own.ID)}
		for _, name := range want {
			if _, ok := files[name]; !ok {
				t.Errorf("the export has no %s", name)
			}
		}
		for _, name := range []string{fmt.Sprintf("conversations/%d.json", outside.ID), fmt.Sprintf("media/%d.png", theirs.ID),
			fmt.Sprintf("channels/%d/posts.json", *oapp.ChannelID)} {
			if _, ok := files[name]; ok {
				t.Errorf("the export holds %s, which is not the subject's", name)
			}
		}
		if !bytes.Equal(files[fmt.Sprintf("media/%d.png", own.ID)], pngBytesOf(t, e, own.ID)) {
			t.Error("the subject's media file differs from what the store holds")
		}

		// Every kind is present.
		var acct struct {
			Account struct {
				ID       plaza.ID          `json:"id"`
				Handle   string            `json:"handle"`
				Sessions []json.RawMessage `json:"sessions"`
				Consents []json.RawMessage `json:"consents"`
			} `json:"account"`
			Verification identity.YourVerification `json:"verification"`
		}
		files.json(t, "account.json", &acct)
		if acct.Account.ID != s || len(acct.Account.Sessions) == 0 || len(acct.Account.Consents) == 0 {
			t.Errorf("account.json: got %+v, want the subject with sessions and consents", acct.Account)
		}
		if v := acct.Verification; v.Phone == nil || v.Phone.Ending != subjectPhone[len(subjectPhone)-4:] || v.Identity != identity.StatusPending ||
			len(v.Submissions) != 1 || v.Submissions[0].DocumentType != identity.Passport || v.Submissions[0].DocumentCountry != "CN" {
			t.Errorf("account.json verification: got %+v, want the phone and one pending passport from CN", v)
		}
		var contacts struct {
			Contacts []struct {
				ID plaza.ID `json:"id"`
			} `json:"contacts"`
			Received []struct {
				FromID plaza.ID `json:"from_id"`
			} `json:"requests_received"`
			Sent []struct {
				ToID plaza.ID `json:"to_id"`
			} `json:"requests_sent"`
		}
		files.json(t, "contacts.json", &contacts)
		if len(contacts.Contacts) != 1 || contacts.Contacts[0].ID != o || len(contacts.Received) != 1 || contacts.Received[0].FromID != e.user(third) ||
			len(contacts.Sent) != 2 {
			t.Errorf("contacts.json: got %+v, want the other as contact, one request received from the third, two sent", contacts)
		}
		var blocks struct {
			Blocks []struct {
				AccountID plaza.ID `json:"account_id"`
			} `json:"blocks"`
		}
		files.json(t, "blocks.json", &blocks)
		if len(blocks.Blocks) != 1 || blocks.Blocks[0].AccountID != e.user(fifth) {
			t.Errorf("blocks.json: got %+v, want the fifth only", blocks)
		}
		var convs struct {
			Conversations []struct {
				ID   plaza.ID `json:"id"`
				File string   `json:"file"`
			} `json:"conversations"`
		}
		files.json(t, "conversations/index.json", &convs)
		if len(convs.Conversations) != 2 {
			t.Errorf("conversations/index.json: got %+v, want the direct and the late group", convs)
		}
		directMsgs := messagesOf(t, files, direct.ID)
		if len(directMsgs) != 6 {
			t.Errorf("direct conversation: got %d messages, want 6", len(directMsgs))
		}
		for _, m := range directMsgs {
			switch {
			case m.ID == rec.ID && (!m.Recalled || m.Text != ""):
				t.Errorf("the recalled message: got %+v, want recalled without text", m)
			case m.ID == bad.ID && (!m.Removed || m.Text != ""):
				t.Errorf("the removed message: got %+v, want a tombstone", m)
			case m.MediaID != nil && *m.MediaID == theirs.ID && m.SenderID != o:
				t.Errorf("the other's media message: got %+v", m)
			case m.SenderID != s && m.ClientID != "":
				t.Errorf("the other's message carries its device's client_id: %+v", m)
			}
		}
		lateMsgs := messagesOf(t, files, late.ID)
		if len(lateMsgs) != 1 || lateMsgs[0].Text != afterJoin {
			t.Errorf("late group: got %+v, want only the message sent after joining", lateMsgs)
		}
		var posts struct {
			Posts []microblog.Post `json:"posts"`
		}
		files.json(t, "posts.json", &posts)
		ids := func(ps []microblog.Post) []plaza.ID {
			var out []plaza.ID
			for _, p := range ps {
				out = append(out, p.ID)
			}
			return out
		}
		if got := ids(posts.Posts); !slices.Equal(got, []plaza.ID{post.ID, reply.ID, repost.ID}) {
			t.Errorf("posts.json: got %v, want the post, the reply and the repost", got)
		}
		if len(posts.Posts) > 0 && posts.Posts[0].Label != "disputed" {
			t.Errorf("posts.json: got label %q on the labelled post, want disputed", posts.Posts[0].Label)
		}
		var likes struct {
			Likes []microblog.YourLike `json:"likes"`
		}
		files.json(t, "likes.json", &likes)
		if len(likes.Likes) != 1 || likes.Likes[0].PostID != theirPost.ID {
			t.Errorf("likes.json: got %+v, want the other's post", likes)
		}
		var follows struct {
			Following, Followers []microblog.YourFollow
		}
		files.json(t, "follows.json", &follows)
		if len(follows.Following) != 1 || follows.Following[0].AccountID != o || len(follows.Followers) != 1 || follows.Followers[0].AccountID != e.user(third) {
			t.Errorf("follows.json: got %+v, want following the other, followed by the third", follows)
		}
		var chans struct {
			Owned []struct {
				ID plaza.ID `json:"id"`
			} `json:"owned"`
			Following    []channel.YourFollowedChannel `json:"following"`
			Applications []channel.Application         `json:"applications"`
		}
		files.json(t, "channels.json", &chans)
		if len(chans.Owned) != 1 || chans.Owned[0].ID != owned || len(chans.Following) != 1 || chans.Following[0].ChannelID != *oapp.ChannelID || len(chans.Applications) != 2 {
			t.Errorf("channels.json: got %+v, want one owned, one followed, two applications", chans)
		}
		var cposts struct {
			Posts []channel.Post `json:"posts"`
		}
		files.json(t, fmt.Sprintf("channels/%d/posts.json", owned), &cposts)
		if len(cposts.Posts) != 1 || cposts.Posts[0].ID != cpost.ID {
			t.Errorf("channel posts: got %+v, want the subject's article", cposts)
		}
		var mod struct {
			Reports   []moderation.Report       `json:"reports"`
			Decisions []moderation.YourDecision `json:"decisions"`
		}
		files.json(t, "moderation.json", &mod)
		if len(mod.Reports) != 1 || mod.Reports[0].Comment != subjectComment || mod.Reports[0].Outcome == nil || len(mod.Reports[0].Evidence) != 0 {
			t.Errorf("moderation.json reports: got %+v, want the subject's report with its outcome and no evidence", mod.Reports)
		}
		if len(mod.Decisions) != 1 || mod.Decisions[0].ID != dec.ID || mod.Decisions[0].AppealText != appealText || mod.Decisions[0].Appeal == nil {
			t.Errorf("moderation.json decisions: got %+v, want the label with the subject's appeal", mod.Decisions)
		}
		var mediaIndex struct {
			Media []struct {
				ID   plaza.ID `json:"id"`
				File string   `json:"file"`
			} `json:"media"`
		}
		files.json(t, "media/index.json", &mediaIndex)
		if len(mediaIndex.Media) != 1 || mediaIndex.Media[0].ID != own.ID || mediaIndex.Media[0].File != fmt.Sprintf("media/%d.png", own.ID) {
			t.Errorf("media/index.json: got %+v, want the subject's one upload", mediaIndex)
		}

		// Texts that must be there, and others' private data that must not.
		all := bytes.Join(func() [][]byte {
			var out [][]byte
			for _, b := range files {
				out = append(out, b)
			}
			return out
		}(), []byte{0})
		for _, s := range []string{directFromSubject, directFromOther, afterJoin, subjectPost, appealText, subjectComment, "频道文章", "主题新闻"} {
			if !bytes.Contains(all, []byte(s)) {
				t.Errorf("the export does not hold %q", s)
			}
		}
		for _, s := range []string{subjectLegalName, subjectDocNumber, otherLegalName, otherDocNumber, otherPhone, subjectPhone[3:], beforeJoin, notAMember,
			recalledText, removedText, otherComment} {
			if bytes.Contains(all, []byte(s)) {
				t.Errorf("the export holds %q", s)
			}
		}
		if bytes.Contains(all, pngBytesOf(t, e, theirs.ID)) {
			t.Error("the export holds the bytes of the other's media")
		}

		// The pages: UTF-8, a CSP and no script; Chinese text is in them.
		for name, b := range files {
			if !strings.HasSuffix(name, ".html") {
				continue
			}
			page := string(b)
			if !strings.Contains(page, `<meta charset="utf-8">`) || !strings.Contains(page, `Content-Security-Policy`) || strings.Contains(strings.ToLower(page), "<script") {
				t.Errorf("%s: want a UTF-8 charset, a CSP and no script", name)
			}
		}
		if page := string(files[fmt.Sprintf("conversations/%d.html", direct.ID)]); !strings.Contains(page, "你好世界") || !strings.Contains(page, "media.html#m"+own.ID.String()) {
			t.Errorf("the direct conversation's page lacks the Chinese text or the link to the subject's image:\n%s", page)
		}
		if page := string(files["index.html"]); !strings.Contains(page, "conversations.html") || !strings.Contains(page, "@"+e.users[subject].Handle) {
			t.Errorf("index.html lacks the sections or the handle:\n%s", page)
		}
		checkSchema(t, files)
	})
}

// exportedMessage is a message as the export writes it.
type exportedMessage struct {
	ID       plaza.ID  `json:"id"`
	SenderID plaza.ID  `json:"sender_id"`
	ClientID string    `json:"client_id"`
	Text     string    `json:"text"`
	MediaID  *plaza.ID `json:"media_id"`
	Recalled bool      `json:"recalled"`
	Removed  bool      `json:"removed"`
}

func messagesOf(tb testing.TB, files unzipped, conv plaza.ID) []exportedMessage {
	tb.Helper()
	var c struct {
		Messages []exportedMessage `json:"messages"`
	}
	files.json(tb, fmt.Sprintf("conversations/%d.json", conv), &c)
	return c.Messages
}

// pngBytesOf returns the stored bytes of a media item.
func pngBytesOf(tb testing.TB, e *env, id plaza.ID) []byte {
	tb.Helper()
	it, err := e.media.Get(context.Background(), id)
	if err != nil {
		tb.Fatal(err)
	}
	obj, err := e.media.Open(context.Background(), it, false)
	if err != nil {
		tb.Fatal(err)
	}
	defer obj.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(obj); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}
