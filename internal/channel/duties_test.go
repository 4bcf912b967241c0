package channel

import (
	"context"
	"testing"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/audit"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// wantRefused fails unless err is forbidden with details.reason.
func wantRefused(tb testing.TB, what string, err error, reason string) {
	tb.Helper()
	pe := plaza.AsError(err)
	if pe == nil || pe.Code != plaza.EForbidden || pe.Details["reason"] != reason {
		tb.Fatalf("%s: got %v, want forbidden with reason %q", what, err, reason)
	}
}

// TestHostileReviewerDecidesOwnApplication has a reviewer decide their
// own channel application: refused either way, nothing changes.
func TestHostileReviewerDecidesOwnApplication(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 2})
		ctx := context.Background()
		rev := e.user(1)
		a, err := e.svc.Apply(ctx, rev, ApplicationInput{Handle: "mine", Name: "Mine", Kind: Subscription})
		if err != nil {
			t.Fatal(err)
		}
		self := audit.Actor{ID: rev, Name: "reviewer user1"}
		for _, approve := range []bool{true, false} {
			_, err := e.svc.DecideApplication(ctx, self, a.ID, approve, "fine by me")
			wantRefused(t, "decide own application", err, account.ReasonOwnSubmission)
		}
		if got, _ := e.svc.Applications(ctx, StatusPending, rev, 0, 10); len(got) != 1 {
			t.Errorf("%d pending applications after the refusals, want 1", len(got))
		}
		if n := e.countAudit(t, "channel.approve") + e.countAudit(t, "channel.reject"); n != 0 {
			t.Errorf("%d decisions audited, want none", n)
		}
		if _, err := e.svc.DecideApplication(ctx, e.reviewer, a.ID, true, ""); err != nil {
			t.Fatalf("another reviewer approves: %v", err)
		}
	})
}

// TestHostileReviewerDecidesOwnChannelsPost has the owner and an editor of
// a channel, both reviewers, decide a held post of that channel: refused;
// and an admin who owns or edits a channel may not change its status.
func TestHostileReviewerDecidesOwnChannelsPost(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 3, cfg: roomy})
		ctx := context.Background()
		owner, editor := e.user(1), e.user(2)
		ch := e.newChannel(t, owner, "clinic", Subscription)
		if _, err := e.svc.AddEditor(ctx, owner, ch, editor); err != nil {
			t.Fatal(err)
		}
		e.category(t, "health", PolicyReview)
		held := e.post(t, owner, ch, "Flu season", "health")
		for _, who := range []plaza.ID{owner, editor} {
			actor := audit.Actor{ID: who, Name: "staff"}
			for _, approve := range []bool{true, false} {
				_, err := e.svc.DecidePost(ctx, actor, held.ID, approve, "fine")
				wantRefused(t, "decide own channel's post", err, account.ReasonOwnSubmission)
			}
			_, err := e.svc.SetStatus(ctx, actor, ch, StatusSuspended, "pause")
			wantRefused(t, "suspend own channel", err, account.ReasonSelf)
		}
		if got := e.get(t, e.user(0), ch); got.Status != StatusActive {
			t.Errorf("channel status %q after the refusals, want active", got.Status)
		}
		if n := e.countAudit(t, "post.approve") + e.countAudit(t, "post.reject"); n != 0 {
			t.Errorf("%d post decisions audited, want none", n)
		}
		p, err := e.svc.DecidePost(ctx, e.reviewer, held.ID, true, "")
		if err != nil || p.Status != PostPublished {
			t.Fatalf("another reviewer approves: %v, %v", p.Status, err)
		}
	})
}
