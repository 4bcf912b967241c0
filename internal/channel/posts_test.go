package channel

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/events"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// roomy lifts the quotas out of the way of tests about something else.
func roomy(c *Config) { c.SubscriptionDaily, c.ServiceMonthly = 1000, 1000 }

func TestSetCategory(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{})
		ctx := context.Background()
		for _, tt := range []struct {
			name, policy, desc string
			fields             []string
		}{
			{"", PolicyOpen, "", []string{"name"}},
			{strings.Repeat("n", 33), PolicyOpen, "", []string{"name"}},
			{"has space", PolicyOpen, "", []string{"name"}},
			{"ok", "sometimes", "", []string{"policy"}},
			{"ok", PolicyOpen, strings.Repeat("d", 501), []string{"description"}},
			{"bad name!", "", "", []string{"name", "policy"}},
		} {
			_, err := e.svc.SetCategory(ctx, e.reviewer, tt.name, tt.policy, tt.desc)
			wantFields(t, err, tt.fields...)
		}
		c, err := e.svc.SetCategory(ctx, e.reviewer, " Health-Care ", PolicyCredential, " Medical advice ")
		if err != nil {
			t.Fatalf("SetCategory: %v", err)
		}
		if c != (Category{Name: "health-care", Policy: PolicyCredential, Description: "Medical advice"}) {
			t.Errorf("category = %+v", c)
		}
		e.category(t, "news", PolicyOpen)
		e.category(t, "health-care", PolicyReview) // changes the policy
		cats, err := e.svc.Categories(ctx)
		if err != nil {
			t.Fatalf("Categories: %v", err)
		}
		want := []Category{{"health-care", PolicyReview, "the health-care category"}, {"news", PolicyOpen, "the news category"}}
		if !slices.Equal(cats, want) {
			t.Errorf("categories = %+v, want %+v", cats, want)
		}
		if n := e.countAudit(t, "category.set"); n != 3 {
			t.Errorf("category.set audited %d times, want 3", n)
		}
	})
}

func TestCreatePostValidation(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 2, cfg: roomy})
		ctx := context.Background()
		owner := e.user(1)
		ch := e.newChannel(t, owner, "valid", ServiceKind)
		e.category(t, "news", PolicyOpen)
		w := watch(t, e.bus, ch)
		many := make([]plaza.ID, 21)
		for i := range many {
			many[i] = plaza.NewID()
		}
		for _, tt := range []struct {
			name   string
			in     PostInput
			fields []string
		}{
			{"no title", PostInput{Body: "b", Category: "news"}, []string{"title"}},
			{"blank title", PostInput{Title: "  ", Body: "b", Category: "news"}, []string{"title"}},
			{"long title", PostInput{Title: strings.Repeat("t", 65), Body: "b", Category: "news"}, []string{"title"}},
			{"no body", PostInput{Title: "t", Category: "news"}, []string{"body"}},
			{"blank body", PostInput{Title: "t", Body: " \n\t", Category: "news"}, []string{"body"}},
			{"long body", PostInput{Title: "t", Body: strings.Repeat("b", 20001), Category: "news"}, []string{"body"}},
			{"invalid UTF-8", PostInput{Title: "t", Body: "b\xff", Category: "news"}, []string{"body"}},
			{"no category", PostInput{Title: "t", Body: "b"}, []string{"category"}},
			{"unknown category", PostInput{Title: "t", Body: "b", Category: "gossip"}, []string{"category"}},
			{"too many media", PostInput{Title: "t", Body: "b", Category: "news", MediaIDs: many}, []string{"media_ids"}},
			{"everything", PostInput{}, []string{"title", "body", "category"}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				_, err := e.svc.CreatePost(ctx, owner, ch, tt.in)
				wantFields(t, err, tt.fields...)
			})
		}
		_, err := e.svc.CreatePost(ctx, owner, plaza.NewID(), PostInput{Title: "t", Body: "b", Category: "news"})
		wantCode(t, err, plaza.ENotFound)

		// Limits are inclusive, and the category is matched case-insensitively.
		p, err := e.svc.CreatePost(ctx, owner, ch, PostInput{Title: strings.Repeat("题", 64), Body: strings.Repeat("b", 20000), Category: " NEWS "})
		if err != nil {
			t.Fatalf("CreatePost at the limits: %v", err)
		}
		if p.Category != "news" {
			t.Errorf("category = %q, want news", p.Category)
		}
		if got := w.take(t); len(got) != 1 {
			t.Errorf("%d frames after one valid post among invalid ones, want 1", len(got))
		}
		if posts, _ := e.svc.Posts(ctx, owner, ch, "", 0, 50); len(posts) != 1 {
			t.Errorf("stored posts = %d, want 1", len(posts))
		}
	})
}

func TestOpenPolicy(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 3, cfg: roomy})
		ctx := context.Background()
		owner, reader := e.user(1), e.user(2)
		ch := e.newChannel(t, owner, "opennews", Subscription)
		e.category(t, "news", PolicyOpen)
		w := watch(t, e.bus, ch)
		otherCh := e.newChannel(t, reader, "bystander", Subscription)
		wOther := watch(t, e.bus, otherCh)

		p, err := e.svc.CreatePost(ctx, owner, ch, PostInput{Title: " Hello ", Body: "Hello **world**", Category: "news"})
		if err != nil {
			t.Fatalf("CreatePost: %v", err)
		}
		if p.Status != PostPublished || p.PublishedAt == nil || !p.PublishedAt.Equal(t0) || p.Title != "Hello" ||
			p.ChannelID != ch || p.AuthorID != owner || !strings.Contains(p.BodyHTML, "<strong>world</strong>") || p.MediaIDs == nil {
			t.Errorf("post = %+v", p)
		}
		got := w.take(t)
		if len(got) != 1 {
			t.Fatalf("frames on %s = %d, want exactly 1", events.ChannelSubject(ch), len(got))
		}
		if got[0].Type != "channel.post" || got[0].Data.ID != p.ID || got[0].Data.Status != PostPublished ||
			got[0].Data.BodyHTML != p.BodyHTML || got[0].Data.ChannelID != ch || got[0].Data.PublishedAt == nil {
			t.Errorf("frame = %+v, want channel.post of %d", got[0], p.ID)
		}
		if other := wOther.take(t); len(other) != 0 {
			t.Errorf("another channel's subject got %v", other)
		}

		posts, err := e.svc.Posts(ctx, reader, ch, PostPublished, 0, 20)
		if err != nil || len(posts) != 1 || posts[0].ID != p.ID || posts[0].BodyHTML != p.BodyHTML || !posts[0].PublishedAt.Equal(t0) {
			t.Errorf("Posts = %+v, %v, want the post", posts, err)
		}
		if q, _ := e.svc.Reviews(ctx, PostPending, 0, 50); len(q) != 0 {
			t.Errorf("review queue = %v, want empty", q)
		}
	})
}

func TestReviewPolicy(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 3, cfg: roomy})
		ctx := context.Background()
		owner, stranger := e.user(1), e.user(2)
		ch := e.newChannel(t, owner, "clinic", ServiceKind)
		e.category(t, "health", PolicyReview)
		w := watch(t, e.bus, ch)

		held := e.post(t, owner, ch, "Vitamins", "health")
		if held.Status != PostPending || held.PublishedAt != nil {
			t.Fatalf("post = %+v, want pending_review and unpublished", held)
		}
		held2 := e.post(t, owner, ch, "Miracle cure", "health")
		if got := w.take(t); len(got) != 0 {
			t.Errorf("held posts were published: %v", got)
		}
		queue, err := e.svc.Reviews(ctx, PostPending, 0, 50)
		if err != nil || len(queue) != 2 || queue[0].ID != held.ID || queue[1].ID != held2.ID {
			t.Fatalf("Reviews(pending) = %v, %v, want both, oldest first", queue, err)
		}
		if page, _ := e.svc.Reviews(ctx, PostPending, held.ID, 50); len(page) != 1 || page[0].ID != held2.ID {
			t.Errorf("Reviews after the first = %v", page)
		}
		if pub, _ := e.svc.Posts(ctx, stranger, ch, "", 0, 20); len(pub) != 0 {
			t.Errorf("readers see held posts: %v", pub)
		}
		if mine, err := e.svc.Posts(ctx, owner, ch, PostPending, 0, 20); err != nil || len(mine) != 2 {
			t.Errorf("owner's pending = %v, %v, want 2", mine, err)
		}
		for _, s := range []string{PostPending, PostRejected} {
			_, err := e.svc.Posts(ctx, stranger, ch, s, 0, 20)
			wantCode(t, err, plaza.EForbidden)
		}
		_, err = e.svc.Posts(ctx, owner, ch, "draft", 0, 20)
		wantFields(t, err, "status")
		_, err = e.svc.Reviews(ctx, "draft", 0, 20)
		wantFields(t, err, "status")

		e.clock.Advance(2 * time.Hour)
		approved, err := e.svc.DecidePost(ctx, e.reviewer, held.ID, true, "")
		if err != nil {
			t.Fatalf("approve: %v", err)
		}
		if approved.Status != PostPublished || approved.PublishedAt == nil || !approved.PublishedAt.Equal(e.clock.Now()) {
			t.Errorf("approved = %+v, want published at %v", approved, e.clock.Now())
		}
		got := w.take(t)
		if len(got) != 1 || got[0].Type != "channel.post" || got[0].Data.ID != held.ID || got[0].Data.Status != PostPublished {
			t.Errorf("frames after approval = %+v, want one channel.post of %d", got, held.ID)
		}
		if pub, _ := e.svc.Posts(ctx, stranger, ch, "", 0, 20); len(pub) != 1 || pub[0].ID != held.ID {
			t.Errorf("published after approval = %v", pub)
		}
		a := e.lastAudit(t, "post.approve")
		if a.TargetType != "channel_post" || a.TargetID != held.ID.String() || a.Details["channel_id"] != ch.String() || a.Details["category"] != "health" {
			t.Errorf("post.approve entry = %+v", a)
		}

		_, err = e.svc.DecidePost(ctx, e.reviewer, held2.ID, false, " ")
		wantFields(t, err, "reason")
		rejected, err := e.svc.DecidePost(ctx, e.reviewer, held2.ID, false, "unproven medical claim")
		if err != nil {
			t.Fatalf("reject: %v", err)
		}
		if rejected.Status != PostRejected || rejected.Reason != "unproven medical claim" || rejected.PublishedAt != nil {
			t.Errorf("rejected = %+v", rejected)
		}
		if got := w.take(t); len(got) != 0 {
			t.Errorf("a rejected post was published: %v", got)
		}
		seen, err := e.svc.Posts(ctx, owner, ch, PostRejected, 0, 20)
		if err != nil || len(seen) != 1 || seen[0].ID != held2.ID || seen[0].Reason != "unproven medical claim" {
			t.Errorf("owner's rejected posts = %+v, %v, want the reason", seen, err)
		}
		r := e.lastAudit(t, "post.reject")
		if r.TargetID != held2.ID.String() || r.Reason != "unproven medical claim" || r.ActorID != e.reviewer.ID {
			t.Errorf("post.reject entry = %+v", r)
		}

		for _, id := range []plaza.ID{held.ID, held2.ID} {
			for _, approve := range []bool{true, false} {
				_, err := e.svc.DecidePost(ctx, e.reviewer, id, approve, "again")
				wantCode(t, err, plaza.EConflict)
			}
		}
		_, err = e.svc.DecidePost(ctx, e.reviewer, plaza.NewID(), true, "")
		wantCode(t, err, plaza.ENotFound)
		if got := w.take(t); len(got) != 0 {
			t.Errorf("failed decisions published %v", got)
		}
		if q, _ := e.svc.Reviews(ctx, PostPending, 0, 50); len(q) != 0 {
			t.Errorf("queue after deciding = %v", q)
		}
		if q, _ := e.svc.Reviews(ctx, PostRejected, 0, 50); len(q) != 1 || q[0].ID != held2.ID {
			t.Errorf("Reviews(rejected) = %v", q)
		}
	})
}

func TestForbiddenPolicy(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 2, cfg: roomy})
		ctx := context.Background()
		owner := e.user(1)
		ch := e.newChannel(t, owner, "casino", ServiceKind)
		e.category(t, "gambling", PolicyForbidden)
		w := watch(t, e.bus, ch)
		_, err := e.svc.CreatePost(ctx, owner, ch, PostInput{Title: "Bet now", Body: "b", Category: "gambling"})
		pe := wantCode(t, err, plaza.ECategoryNotAuthorized)
		if pe.Details["policy"] != PolicyForbidden || pe.Details["category"] != "gambling" {
			t.Errorf("details = %v, want policy forbidden, category gambling", pe.Details)
		}
		// Even a credential does not open a forbidden category.
		e.category(t, "gambling", PolicyCredential)
		if _, err := e.svc.GrantCredential(ctx, e.reviewer, ch, "gambling", t0.Add(time.Hour)); err != nil {
			t.Fatalf("GrantCredential: %v", err)
		}
		e.category(t, "gambling", PolicyForbidden)
		_, err = e.svc.CreatePost(ctx, owner, ch, PostInput{Title: "Bet now", Body: "b", Category: "gambling"})
		wantCode(t, err, plaza.ECategoryNotAuthorized)
		if got := w.take(t); len(got) != 0 {
			t.Errorf("forbidden posts published: %v", got)
		}
		for _, s := range []string{PostPublished, PostPending, PostRejected} {
			if posts, _ := e.svc.Posts(ctx, owner, ch, s, 0, 20); len(posts) != 0 {
				t.Errorf("%s posts stored: %v", s, posts)
			}
		}
	})
}

func TestCredentialPolicy(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 3, cfg: roomy})
		ctx := context.Background()
		owner := e.user(1)
		ch := e.newChannel(t, owner, "pharmacy", ServiceKind)
		other := e.newChannel(t, e.user(2), "otherpharm", ServiceKind)
		e.category(t, "medicine", PolicyCredential)
		e.category(t, "news", PolicyOpen)
		w := watch(t, e.bus, ch)
		in := PostInput{Title: "Dosage", Body: "Take two.", Category: "medicine"}
		refused := func(when string) {
			t.Helper()
			_, err := e.svc.CreatePost(ctx, owner, ch, in)
			pe := wantCode(t, err, plaza.ECategoryNotAuthorized)
			if pe.Details["policy"] != PolicyCredential || pe.Details["category"] != "medicine" {
				t.Errorf("%s: details = %v, want policy credential", when, pe.Details)
			}
		}
		refused("without a credential")

		t.Run("grant validation", func(t *testing.T) {
			_, err := e.svc.GrantCredential(ctx, e.reviewer, ch, "news", t0.Add(time.Hour))
			wantFields(t, err, "category")
			_, err = e.svc.GrantCredential(ctx, e.reviewer, ch, "nosuch", t0.Add(time.Hour))
			wantFields(t, err, "category")
			_, err = e.svc.GrantCredential(ctx, e.reviewer, ch, "medicine", t0)
			wantFields(t, err, "expires_at")
			_, err = e.svc.GrantCredential(ctx, e.reviewer, ch, "medicine", t0.Add(-time.Second))
			wantFields(t, err, "expires_at")
			_, err = e.svc.GrantCredential(ctx, e.reviewer, plaza.NewID(), "medicine", t0.Add(time.Hour))
			wantCode(t, err, plaza.ENotFound)
		})

		// Another channel's credential does not count.
		if _, err := e.svc.GrantCredential(ctx, e.reviewer, other, "medicine", t0.Add(48*time.Hour)); err != nil {
			t.Fatalf("GrantCredential(other): %v", err)
		}
		refused("with another channel's credential")

		expires := t0.Add(time.Hour)
		cr, err := e.svc.GrantCredential(ctx, e.reviewer, ch, " Medicine ", expires)
		if err != nil {
			t.Fatalf("GrantCredential: %v", err)
		}
		if cr.ChannelID != ch || cr.Category != "medicine" || !cr.ExpiresAt.Equal(expires) || cr.RevokedAt != nil || !cr.CreatedAt.Equal(t0) {
			t.Errorf("credential = %+v", cr)
		}
		p, err := e.svc.CreatePost(ctx, owner, ch, in)
		if err != nil {
			t.Fatalf("CreatePost with a credential: %v", err)
		}
		if p.Status != PostPublished {
			t.Errorf("status = %q, want published", p.Status)
		}
		if got := w.take(t); len(got) != 1 || got[0].Data.ID != p.ID {
			t.Errorf("frames = %+v, want the post", got)
		}

		e.clock.Set(expires.Add(-time.Microsecond))
		if _, err := e.svc.CreatePost(ctx, owner, ch, in); err != nil {
			t.Errorf("CreatePost just before expiry: %v", err)
		}
		e.clock.Set(expires)
		refused("at expiry")
		e.clock.Set(expires.Add(24 * time.Hour))
		refused("a day after expiry")

		cr2, err := e.svc.GrantCredential(ctx, e.reviewer, ch, "medicine", e.clock.Now().Add(30*24*time.Hour))
		if err != nil {
			t.Fatalf("GrantCredential again: %v", err)
		}
		e.post(t, owner, ch, "Renewed", "medicine")
		if err := e.svc.RevokeCredential(ctx, e.reviewer, ch, cr2.ID, " fake licence "); err != nil {
			t.Fatalf("RevokeCredential: %v", err)
		}
		refused("after revocation")
		wantCode(t, e.svc.RevokeCredential(ctx, e.reviewer, ch, cr2.ID, "again"), plaza.ENotFound)
		wantCode(t, e.svc.RevokeCredential(ctx, e.reviewer, other, cr.ID, "wrong channel"), plaza.ENotFound)
		w.take(t)

		creds, err := e.svc.Credentials(ctx, ch)
		if err != nil || len(creds) != 2 || creds[0].ID != cr2.ID || creds[0].RevokedAt == nil || !creds[0].RevokedAt.Equal(e.clock.Now()) ||
			creds[1].ID != cr.ID || creds[1].RevokedAt != nil {
			t.Errorf("Credentials = %+v, %v, want the revoked one first", creds, err)
		}

		if n := e.countAudit(t, "credential.grant"); n != 3 {
			t.Errorf("credential.grant audited %d times, want 3", n)
		}
		g := e.lastAudit(t, "credential.grant")
		if g.TargetID != ch.String() || g.Details["category"] != "medicine" || g.Details["credential_id"] != cr2.ID.String() {
			t.Errorf("credential.grant entry = %+v", g)
		}
		r := e.lastAudit(t, "credential.revoke")
		if r.TargetID != ch.String() || r.Reason != "fake licence" || r.Details["credential_id"] != cr2.ID.String() {
			t.Errorf("credential.revoke entry = %+v", r)
		}
	})
}

func TestPostMedia(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 3, cfg: roomy})
		ctx := context.Background()
		owner, editor, stranger := e.user(1), e.user(2), e.user(0)
		ch := e.newChannel(t, owner, "gallery", ServiceKind)
		if _, err := e.svc.AddEditor(ctx, owner, ch, editor); err != nil {
			t.Fatal(err)
		}
		e.category(t, "photos", PolicyOpen)
		mine, mine2 := e.uploadPNG(t, owner), e.uploadPNG(t, owner)
		doc := e.uploadFile(t, owner)
		theirs := e.uploadPNG(t, stranger)
		editors := e.uploadPNG(t, editor)
		missing := plaza.NewID()

		for _, tt := range []struct {
			name   string
			media  []plaza.ID
			cover  *plaza.ID
			fields []string
		}{
			{"someone else's media", []plaza.ID{mine, theirs}, nil, []string{"media_ids"}},
			{"the editor's media in the owner's post", []plaza.ID{editors}, nil, []string{"media_ids"}},
			{"media that does not exist", []plaza.ID{missing}, nil, []string{"media_ids"}},
			{"someone else's cover", nil, &theirs, []string{"cover_media_id"}},
			{"a cover that does not exist", nil, &missing, []string{"cover_media_id"}},
			{"a cover that is not an image", []plaza.ID{mine}, &doc, []string{"cover_media_id"}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				_, err := e.svc.CreatePost(ctx, owner, ch, PostInput{Title: "t", Body: "b", Category: "photos", MediaIDs: tt.media, CoverID: tt.cover})
				wantFields(t, err, tt.fields...)
			})
		}

		p, err := e.svc.CreatePost(ctx, owner, ch, PostInput{Title: "Album", Body: "b", Category: "photos", MediaIDs: []plaza.ID{mine, doc}, CoverID: &mine2})
		if err != nil {
			t.Fatalf("CreatePost with media: %v", err)
		}
		if !slices.Equal(p.MediaIDs, []plaza.ID{mine, doc}) || p.CoverID == nil || *p.CoverID != mine2 {
			t.Errorf("post media = %v cover %v", p.MediaIDs, p.CoverID)
		}
		got, err := e.svc.Posts(ctx, stranger, ch, "", 0, 10)
		if err != nil || len(got) != 1 || !slices.Equal(got[0].MediaIDs, []plaza.ID{mine, doc}) || got[0].CoverID == nil || *got[0].CoverID != mine2 {
			t.Errorf("stored post = %+v, %v", got, err)
		}
		if _, err := e.svc.CreatePost(ctx, editor, ch, PostInput{Title: "Editor's", Body: "b", Category: "photos", MediaIDs: []plaza.ID{editors}}); err != nil {
			t.Errorf("an editor's post with their own media: %v", err)
		}
	})
}

func TestMediaIsPublic(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 2, cfg: roomy})
		ctx := context.Background()
		owner := e.user(1)
		ch := e.newChannel(t, owner, "public", ServiceKind)
		e.category(t, "checked", PolicyReview)
		img, cover, unused, refusedImg := e.uploadPNG(t, owner), e.uploadPNG(t, owner), e.uploadPNG(t, owner), e.uploadPNG(t, owner)
		public := func(id plaza.ID) bool {
			t.Helper()
			ok, err := e.svc.MediaIsPublic(ctx, id)
			if err != nil {
				t.Fatalf("MediaIsPublic: %v", err)
			}
			return ok
		}
		check := func(when string, want bool) {
			t.Helper()
			if img, cover := public(img), public(cover); img != want || cover != want {
				t.Errorf("%s: public = %v (media), %v (cover), want %v", when, img, cover, want)
			}
		}

		p, err := e.svc.CreatePost(ctx, owner, ch, PostInput{Title: "t", Body: "b", Category: "checked", MediaIDs: []plaza.ID{img}, CoverID: &cover})
		if err != nil {
			t.Fatalf("CreatePost: %v", err)
		}
		check("while pending", false)
		if _, err := e.svc.DecidePost(ctx, e.reviewer, p.ID, true, ""); err != nil {
			t.Fatalf("approve: %v", err)
		}
		check("once published", true)
		if public(unused) {
			t.Error("media in no post is public")
		}

		r, err := e.svc.CreatePost(ctx, owner, ch, PostInput{Title: "t2", Body: "b", Category: "checked", MediaIDs: []plaza.ID{refusedImg}})
		if err != nil {
			t.Fatalf("CreatePost: %v", err)
		}
		if _, err := e.svc.DecidePost(ctx, e.reviewer, r.ID, false, "no"); err != nil {
			t.Fatalf("reject: %v", err)
		}
		if public(refusedImg) {
			t.Error("media of a rejected post is public")
		}

		if _, err := e.svc.SetStatus(ctx, e.reviewer, ch, StatusSuspended, "review"); err != nil {
			t.Fatal(err)
		}
		check("after the channel is suspended", false)
		if _, err := e.svc.SetStatus(ctx, e.reviewer, ch, StatusActive, "cleared"); err != nil {
			t.Fatal(err)
		}
		check("after reinstatement", true)
		if _, err := e.svc.SetStatus(ctx, e.reviewer, ch, StatusClosed, "gone"); err != nil {
			t.Fatal(err)
		}
		check("after the channel is closed", false)
	})
}

func TestPostsPaging(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 2, cfg: roomy})
		ctx := context.Background()
		owner := e.user(1)
		ch := e.newChannel(t, owner, "paged", ServiceKind)
		e.category(t, "news", PolicyOpen)
		var ids []plaza.ID
		for i := range 5 {
			e.clock.Advance(time.Minute)
			ids = append(ids, e.post(t, owner, ch, "p"+string(rune('a'+i)), "news").ID)
		}
		slices.Reverse(ids)
		var got []plaza.ID
		var before plaza.ID
		for range 4 {
			page, err := e.svc.Posts(ctx, e.user(0), ch, "", before, 2)
			if err != nil {
				t.Fatalf("Posts: %v", err)
			}
			if len(page) == 0 {
				break
			}
			for _, p := range page {
				got = append(got, p.ID)
			}
			before = page[len(page)-1].ID
		}
		if !slices.Equal(got, ids) {
			t.Errorf("paged posts = %v, want %v (newest first)", got, ids)
		}
	})
}

// TestDecidePostOnInactiveChannel: a held post of a suspended channel can
// be rejected but not approved until the channel is active again.
func TestDecidePostOnInactiveChannel(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 2, cfg: roomy})
		ctx := context.Background()
		owner := e.user(1)
		ch := e.newChannel(t, owner, "paused", ServiceKind)
		e.category(t, "health", PolicyReview)
		keep, drop := e.post(t, owner, ch, "keep", "health"), e.post(t, owner, ch, "drop", "health")
		w := watch(t, e.bus, ch)
		if _, err := e.svc.SetStatus(ctx, e.reviewer, ch, StatusSuspended, "investigation"); err != nil {
			t.Fatal(err)
		}
		_, err := e.svc.DecidePost(ctx, e.reviewer, keep.ID, true, "")
		wantCode(t, err, plaza.EConflict)
		if _, err := e.svc.DecidePost(ctx, e.reviewer, drop.ID, false, "part of the spam run"); err != nil {
			t.Errorf("reject while suspended: %v", err)
		}
		if got := w.take(t); len(got) != 0 {
			t.Errorf("a suspended channel published %v", got)
		}
		if _, err := e.svc.SetStatus(ctx, e.reviewer, ch, StatusActive, "cleared"); err != nil {
			t.Fatal(err)
		}
		if p, err := e.svc.DecidePost(ctx, e.reviewer, keep.ID, true, ""); err != nil || p.Status != PostPublished {
			t.Errorf("approve after reinstatement = %+v, %v", p, err)
		}
		if got := w.take(t); len(got) != 1 {
			t.Errorf("%d frames after approval, want 1", len(got))
		}
	})
}
