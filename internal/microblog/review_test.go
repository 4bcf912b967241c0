package microblog

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/audit"
	"github.com/plaza-im/plaza/internal/channel"
	"github.com/plaza-im/plaza/internal/plazatest"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// setCategory sets a category's policy in the table channel posts share.
func (e *env) setCategory(tb testing.TB, name, policy string) {
	tb.Helper()
	if _, err := e.db.Write().ExecContext(context.Background(), `INSERT INTO channel_categories (name, policy, description) VALUES ($1, $2, '')
		ON CONFLICT (name) DO UPDATE SET policy = excluded.policy`, name, policy); err != nil {
		tb.Fatal(err)
	}
}

// auditActions returns the actions in the audit log, oldest first, after
// checking the chain.
func (e *env) auditActions(tb testing.TB) []string {
	tb.Helper()
	ctx := context.Background()
	if rep, err := e.audit.Verify(ctx); err != nil || !rep.OK {
		tb.Fatalf("audit chain: %+v, %v", rep, err)
	}
	entries, err := e.audit.List(ctx, 0, 100)
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for i := len(entries) - 1; i >= 0; i-- {
		out = append(out, entries[i].Action+" "+entries[i].TargetType)
	}
	return out
}

// TestCategoryPolicies: the channel categories' policies hold for posts:
// open publishes, review holds, credential needs an account credential,
// forbidden refuses; the default category is open unless set.
func TestCategoryPolicies(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 2})
		ctx := context.Background()
		me := e.user(0)
		e.setCategory(t, "news", channel.PolicyOpen)
		e.setCategory(t, "health", channel.PolicyReview)
		e.setCategory(t, "medicine", channel.PolicyCredential)
		e.setCategory(t, "gambling", channel.PolicyForbidden)
		if p := e.postWith(t, me, PostInput{Text: "x", Category: "news"}); p.Status != StatusPublished {
			t.Errorf("open category: %s", p.Status)
		}
		if p := e.postWith(t, me, PostInput{Text: "x", Category: "Health"}); p.Status != StatusPending || p.Category != "health" {
			t.Errorf("review category: %s in %s, want pending_review in health", p.Status, p.Category)
		}
		for cat, policy := range map[string]string{"medicine": "credential", "gambling": "forbidden"} {
			_, err := e.svc.Create(ctx, me, PostInput{Text: "x", Category: cat})
			if pe := wantCode(t, err, plaza.ECategoryNotAuthorized); pe.Details["policy"] != policy || pe.Details["category"] != cat {
				t.Errorf("%s: details %v, want policy %s", cat, pe.Details, policy)
			}
		}
		_, err := e.svc.GrantCredential(ctx, e.staff, me, "medicine", time.Now().Add(-time.Hour))
		plazatest.WantInvalidField(t, err, "expires_at")
		_, err = e.svc.GrantCredential(ctx, e.staff, me, "news", time.Now().Add(time.Hour))
		plazatest.WantInvalidField(t, err, "category")
		_, err = e.svc.GrantCredential(ctx, e.staff, plaza.NewID(), "medicine", time.Now().Add(time.Hour))
		wantCode(t, err, plaza.ENotFound)
		cr, err := e.svc.GrantCredential(ctx, e.staff, me, "medicine", time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if p := e.postWith(t, me, PostInput{Text: "x", Category: "medicine"}); p.Status != StatusPublished {
			t.Errorf("with a credential: %s", p.Status)
		}
		if _, err := e.svc.Create(ctx, e.user(1), PostInput{Text: "x", Category: "medicine"}); plaza.ErrorCode(err) != plaza.ECategoryNotAuthorized {
			t.Errorf("another account with my credential: %v", err)
		}
		if err := e.svc.RevokeCredential(ctx, e.staff, me, cr.ID, "ended"); err != nil {
			t.Fatal(err)
		}
		wantCode(t, e.svc.RevokeCredential(ctx, e.staff, me, cr.ID, "again"), plaza.ENotFound)
		if _, err := e.svc.Create(ctx, me, PostInput{Text: "x", Category: "medicine"}); plaza.ErrorCode(err) != plaza.ECategoryNotAuthorized {
			t.Errorf("after revocation: %v", err)
		}
		list, err := e.svc.Credentials(ctx, me)
		if err != nil || len(list) != 1 || list[0].RevokedAt == nil {
			t.Errorf("Credentials = %+v, %v; want the revoked one", list, err)
		}
		e.setCategory(t, DefaultCategory, channel.PolicyReview)
		if p := e.post(t, me, "now reviewed"); p.Status != StatusPending {
			t.Errorf("general under review: %s", p.Status)
		}
		if got := e.auditActions(t); !slices.Equal(got, []string{"credential.grant account", "credential.revoke account"}) {
			t.Errorf("audit = %q", got)
		}
	})
}

// TestReviewQueue: a held post is seen only by its author until a
// reviewer approves it; then it is published like any other (counts,
// timelines, notifications). A rejection needs a reason; nobody reviews
// their own post; every decision is audited.
func TestReviewQueue(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 3})
		ctx := context.Background()
		author, follower, mentioned := e.user(0), e.user(1), e.user(2)
		e.follows(t, follower, author)
		e.setCategory(t, "health", channel.PolicyReview)
		held := e.postWith(t, author, PostInput{Text: "ask your doctor @user2 #health", Category: "health"})
		other := e.postWith(t, author, PostInput{Text: "also held", Category: "health"})
		if _, err := e.svc.Get(ctx, follower, held.ID); plaza.ErrorCode(err) != plaza.ENotFound {
			t.Errorf("a follower sees a held post: %v", err)
		}
		if got, err := e.svc.Get(ctx, author, held.ID); err != nil || got.Status != StatusPending {
			t.Errorf("the author's view: %+v, %v", got, err)
		}
		if _, err := e.svc.Create(ctx, author, PostInput{Text: "replying to my held post", ReplyTo: &held.ID}); plaza.ErrorCode(err) != plaza.ENotFound {
			t.Errorf("a reply to a held post: %v, want not_found", err)
		}
		if got := e.timeline(t, follower); len(got) != 0 || e.counts(t, author).PostCount != 0 || len(e.notifications(t, mentioned)) != 0 {
			t.Errorf("a held post reached timelines (%v), counts or notifications", got)
		}
		queue, err := e.svc.Reviews(ctx, "pending", 0, 10)
		if err != nil || !slices.Equal(ids(queue...), ids(held, other)) {
			t.Fatalf("queue = %v, %v", ids(queue...), err)
		}
		_, err = e.svc.Decide(ctx, audit.Actor{ID: author, Name: "user0"}, held.ID, true, "")
		wantCode(t, err, plaza.EForbidden)
		_, err = e.svc.Decide(ctx, e.staff, other.ID, false, "")
		plazatest.WantInvalidField(t, err, "reason")

		p, err := e.svc.Decide(ctx, e.staff, held.ID, true, "fine")
		if err != nil || p.Status != StatusPublished || p.PublishedAt == nil {
			t.Fatalf("approve: %+v, %v", p, err)
		}
		if _, err := e.svc.Decide(ctx, e.staff, held.ID, false, "changed my mind"); plaza.ErrorCode(err) != plaza.EConflict {
			t.Errorf("deciding twice: %v, want conflict", err)
		}
		if got := e.timeline(t, follower); !slices.Equal(got, ids(held)) {
			t.Errorf("follower's timeline after approval = %v", got)
		}
		if ns := e.notifications(t, mentioned); len(ns) != 1 || ns[0].Kind != KindMention {
			t.Errorf("mentioned account's notifications = %+v", ns)
		}
		if c := e.counts(t, author); c.PostCount != 1 {
			t.Errorf("post_count = %d, want 1", c.PostCount)
		}
		tagged, _ := e.svc.HashtagPosts(ctx, 0, "health", 0, 10)
		if !slices.Equal(ids(tagged.Posts...), ids(held)) {
			t.Errorf("hashtag page = %v", ids(tagged.Posts...))
		}

		r, err := e.svc.Decide(ctx, e.staff, other.ID, false, "not medical advice")
		if err != nil || r.Status != StatusRejected || r.Reason != "not medical advice" {
			t.Fatalf("reject: %+v, %v", r, err)
		}
		if got, _ := e.svc.Get(ctx, author, other.ID); got.Status != StatusRejected || got.Reason != "not medical advice" {
			t.Errorf("the author sees %+v, want the rejection and its reason", got)
		}
		if q, _ := e.svc.Reviews(ctx, "rejected", 0, 10); !slices.Equal(ids(q...), ids(other)) {
			t.Errorf("rejected list = %v", ids(q...))
		}
		if q, _ := e.svc.Reviews(ctx, "", 0, 10); len(q) != 0 {
			t.Errorf("pending after decisions = %v", ids(q...))
		}
		_, err = e.svc.Reviews(ctx, "maybe", 0, 10)
		plazatest.WantInvalidField(t, err, "status")
		wantCode(t, func() error { _, err := e.svc.Decide(ctx, e.staff, plaza.NewID(), true, ""); return err }(), plaza.ENotFound)
		if got := e.auditActions(t); !slices.Equal(got, []string{"microblog_post.approve post", "microblog_post.reject post"}) {
			t.Errorf("audit = %q", got)
		}
	})
}

// TestHostileApproveReplyWhoseParentWentAway: a held reply is not
// published once the post it replies to is deleted, or once its author
// and the parent's author have blocked each other; it stays held for the
// reviewer to reject.
func TestHostileApproveReplyWhoseParentWentAway(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 3})
		ctx := context.Background()
		author, replier := e.user(0), e.user(1)
		e.setCategory(t, "health", channel.PolicyReview)
		for _, gone := range []string{"deleted", "blocked"} {
			parent := e.post(t, author, "the parent, "+gone)
			reply := e.postWith(t, replier, PostInput{Text: "held reply", ReplyTo: &parent.ID, Category: "health"})
			switch gone {
			case "deleted":
				if err := e.svc.Delete(ctx, author, parent.ID); err != nil {
					t.Fatal(err)
				}
			case "blocked":
				e.block(t, author, replier)
			}
			_, err := e.svc.Decide(ctx, e.staff, reply.ID, true, "")
			wantCode(t, err, plaza.EConflict)
			if got, err := e.svc.Get(ctx, replier, reply.ID); err != nil || got.Status != StatusPending {
				t.Errorf("%s parent: the reply is %+v, %v; want it still held", gone, got, err)
			}
			if n := e.count(t, `SELECT reply_count FROM posts WHERE id = $1`, parent.ID); n != 0 {
				t.Errorf("%s parent: reply_count = %d, want 0", gone, n)
			}
			if _, err := e.svc.Decide(ctx, e.staff, reply.ID, false, "its parent is gone"); err != nil {
				t.Errorf("%s parent: rejecting the reply: %v", gone, err)
			}
		}
	})
}

// TestHostileReplyQueuedAsParentIsDeleted: the writer checks a reply's
// parent again in the transaction that stores it, so a reply that passed
// Create's check just before its parent was deleted is refused, alone:
// a reply to a live post queued beside it is stored.
func TestHostileReplyQueuedAsParentIsDeleted(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 2})
		ctx := context.Background()
		author, replier := e.user(0), e.user(1)
		gone, live := e.post(t, author, "to be deleted"), e.post(t, author, "stays")
		if err := e.svc.Delete(ctx, author, gone.ID); err != nil {
			t.Fatal(err)
		}
		// As Create would have queued them, its check done before the
		// deletion.
		reply := func(to plaza.ID) *createReq {
			return &createReq{post: Post{ID: plaza.NewID(), AuthorID: replier, Text: "reply", MediaIDs: []plaza.ID{}, Visibility: Public,
				ReplyTo: &to, Category: "general", Status: StatusPending, Hashtags: []string{}, Mentions: []string{}, CreatedAt: time.Now().UTC()}}
		}
		toGone, toLive := reply(gone.ID), reply(live.ID)
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i, r := range []*createReq{toGone, toLive} {
			wg.Go(func() { errs[i] = e.svc.w.submit(ctx, r) })
		}
		wg.Wait()
		wantCode(t, errs[0], plaza.ENotFound)
		if errs[1] != nil {
			t.Errorf("the reply to the live post: %v", errs[1])
		}
		if n := e.count(t, `SELECT COUNT(*) FROM posts WHERE id = $1`, toGone.post.ID); n != 0 {
			t.Errorf("the reply to the deleted post was stored")
		}
		if n := e.count(t, `SELECT COUNT(*) FROM posts WHERE id = $1`, toLive.post.ID); n != 1 {
			t.Errorf("the reply to the live post was not stored")
		}
	})
}
