package channel

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/identity"
	"github.com/plaza-im/plaza/internal/sms"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

func TestApplyValidation(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 2})
		ctx := context.Background()
		for _, tt := range []struct {
			name   string
			in     ApplicationInput
			fields []string // nil: accepted
		}{
			{"short handle", ApplicationInput{Handle: "ab", Name: "N", Kind: Subscription}, []string{"handle"}},
			{"long handle", ApplicationInput{Handle: strings.Repeat("a", 31), Name: "N", Kind: Subscription}, []string{"handle"}},
			{"hyphen in handle", ApplicationInput{Handle: "my-news", Name: "N", Kind: Subscription}, []string{"handle"}},
			{"space in handle", ApplicationInput{Handle: "my news", Name: "N", Kind: Subscription}, []string{"handle"}},
			{"non-ASCII handle", ApplicationInput{Handle: "naïve", Name: "N", Kind: Subscription}, []string{"handle"}},
			{"empty name", ApplicationInput{Handle: "okhandle", Name: "", Kind: Subscription}, []string{"name"}},
			{"blank name", ApplicationInput{Handle: "okhandle", Name: "   ", Kind: Subscription}, []string{"name"}},
			{"name of 65 runes", ApplicationInput{Handle: "okhandle", Name: strings.Repeat("频", 65), Kind: Subscription}, []string{"name"}},
			{"description of 1001 runes", ApplicationInput{Handle: "okhandle", Name: "N", Description: strings.Repeat("d", 1001), Kind: Subscription}, []string{"description"}},
			{"no kind", ApplicationInput{Handle: "okhandle", Name: "N"}, []string{"kind"}},
			{"unknown kind", ApplicationInput{Handle: "okhandle", Name: "N", Kind: "enterprise"}, []string{"kind"}},
			{"every problem at once", ApplicationInput{Handle: "x", Name: "", Kind: "x"}, []string{"handle", "name", "kind"}},
			{"handle of 3", ApplicationInput{Handle: "abc", Name: "N", Kind: Subscription}, nil},
			{"handle of 30", ApplicationInput{Handle: strings.Repeat("b", 30), Name: "N", Kind: ServiceKind}, nil},
			{"name of 64 runes", ApplicationInput{Handle: "cjk_name", Name: strings.Repeat("频", 64), Description: strings.Repeat("d", 1000), Kind: Subscription}, nil},
		} {
			t.Run(tt.name, func(t *testing.T) {
				a, err := e.svc.Apply(ctx, e.user(1), tt.in)
				if tt.fields != nil {
					wantFields(t, err, tt.fields...)
					return
				}
				if err != nil {
					t.Fatalf("Apply: %v", err)
				}
				if a.Status != StatusPending || a.ApplicantID != e.user(1) || a.ID == 0 || a.ChannelID != nil || a.DecidedAt != nil {
					t.Errorf("application = %+v, want a pending one by %d", a, e.user(1))
				}
			})
		}

		t.Run("handle is trimmed and lowercased", func(t *testing.T) {
			a, err := e.svc.Apply(ctx, e.user(1), ApplicationInput{Handle: "  Daily_News ", Name: "  Daily News ", Kind: Subscription})
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if a.Handle != "daily_news" || a.Name != "Daily News" {
				t.Errorf("handle, name = %q, %q, want daily_news, Daily News", a.Handle, a.Name)
			}
		})
	})
}

func TestApplyHandleConflicts(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 4})
		ctx := context.Background()
		in := ApplicationInput{Handle: "news", Name: "News", Kind: Subscription}
		first, err := e.svc.Apply(ctx, e.user(1), in)
		if err != nil {
			t.Fatalf("Apply: %v", err)
		}

		// A second pending application for the same handle, by anyone.
		_, err = e.svc.Apply(ctx, e.user(2), ApplicationInput{Handle: "NEWS", Name: "Other", Kind: ServiceKind})
		pe := wantCode(t, err, plaza.EConflict)
		if pe.Details["field"] != "handle" {
			t.Errorf("details = %v, want field handle", pe.Details)
		}

		// Once the first is rejected, the handle is free to apply for again.
		if _, err := e.svc.DecideApplication(ctx, e.reviewer, first.ID, false, "too generic"); err != nil {
			t.Fatalf("reject: %v", err)
		}
		second, err := e.svc.Apply(ctx, e.user(2), in)
		if err != nil {
			t.Fatalf("Apply after a rejection: %v", err)
		}

		// Once a channel has the handle, nobody can apply for it.
		if _, err := e.svc.DecideApplication(ctx, e.reviewer, second.ID, true, ""); err != nil {
			t.Fatalf("approve: %v", err)
		}
		_, err = e.svc.Apply(ctx, e.user(3), in)
		pe = wantCode(t, err, plaza.EConflict)
		if pe.Details["field"] != "handle" {
			t.Errorf("details = %v, want field handle", pe.Details)
		}
	})
}

func TestDecideApplication(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 3})
		ctx := context.Background()
		applicant, other := e.user(1), e.user(2)

		okApp, err := e.svc.Apply(ctx, applicant, ApplicationInput{Handle: "weather", Name: "Weather", Description: "Forecasts", Kind: ServiceKind})
		if err != nil {
			t.Fatalf("Apply: %v", err)
		}
		badApp, err := e.svc.Apply(ctx, applicant, ApplicationInput{Handle: "spam", Name: "Spam", Kind: Subscription})
		if err != nil {
			t.Fatalf("Apply: %v", err)
		}
		otherApp, err := e.svc.Apply(ctx, other, ApplicationInput{Handle: "others", Name: "Others", Kind: Subscription})
		if err != nil {
			t.Fatalf("Apply: %v", err)
		}

		pending, err := e.svc.Applications(ctx, StatusPending, 0, 0, 50)
		if err != nil {
			t.Fatalf("Applications(pending): %v", err)
		}
		if len(pending) != 3 || pending[0].ID != okApp.ID || pending[2].ID != otherApp.ID {
			t.Fatalf("pending queue = %v, want the 3 applications oldest first", pending)
		}

		e.clock.Advance(90 * time.Minute)
		decidedAt := e.clock.Now()
		approved, err := e.svc.DecideApplication(ctx, e.reviewer, okApp.ID, true, "")
		if err != nil {
			t.Fatalf("approve: %v", err)
		}
		if approved.Status != StatusApproved || approved.ChannelID == nil || approved.DecidedAt == nil || !approved.DecidedAt.Equal(decidedAt) {
			t.Fatalf("approved = %+v, want approved with a channel, decided at %v", approved, decidedAt)
		}
		c := e.get(t, other, *approved.ChannelID)
		if c.OwnerID != applicant || !c.Verified || !c.ApprovedAt.Equal(decidedAt) || c.Status != StatusActive ||
			c.Handle != "weather" || c.Name != "Weather" || c.Description != "Forecasts" || c.Kind != ServiceKind ||
			c.FollowerCount != 0 || len(c.EditorIDs) != 0 || c.Following {
			t.Errorf("channel = %+v, want an active verified channel owned by %d approved at %v", c, applicant, decidedAt)
		}
		if got := quotas(c); got != "none a day, 4 a month" {
			t.Errorf("service quotas = %s, want none a day, 4 a month", got)
		}

		t.Run("rejection needs a reason", func(t *testing.T) {
			for _, reason := range []string{"", "   ", strings.Repeat("r", 1001)} {
				_, err := e.svc.DecideApplication(ctx, e.reviewer, badApp.ID, false, reason)
				wantFields(t, err, "reason")
			}
			_, err := e.svc.DecideApplication(ctx, e.reviewer, badApp.ID, true, strings.Repeat("r", 1001))
			wantFields(t, err, "reason")
		})

		rejected, err := e.svc.DecideApplication(ctx, e.reviewer, badApp.ID, false, "  looks like spam  ")
		if err != nil {
			t.Fatalf("reject: %v", err)
		}
		if rejected.Status != StatusRejected || rejected.Reason != "looks like spam" || rejected.ChannelID != nil {
			t.Errorf("rejected = %+v, want rejected with the trimmed reason and no channel", rejected)
		}
		if got, err := e.svc.Search(ctx, "spam", 0, 10); err != nil || len(got) != 0 {
			t.Errorf("Search(spam) = %v, %v: a rejected application made a channel", got, err)
		}

		t.Run("the applicant sees the outcome and reason", func(t *testing.T) {
			mine, err := e.svc.Applications(ctx, "", applicant, 0, 50)
			if err != nil {
				t.Fatalf("Applications(applicant): %v", err)
			}
			if len(mine) != 2 {
				t.Fatalf("applicant's applications = %+v, want 2", mine)
			}
			if mine[0].ID != okApp.ID || mine[0].Status != StatusApproved || mine[0].ChannelID == nil || *mine[0].ChannelID != *approved.ChannelID {
				t.Errorf("first = %+v, want the approved one with its channel", mine[0])
			}
			if mine[1].ID != badApp.ID || mine[1].Status != StatusRejected || mine[1].Reason != "looks like spam" || mine[1].DecidedAt == nil {
				t.Errorf("second = %+v, want the rejected one with its reason", mine[1])
			}
			rej, err := e.svc.Applications(ctx, StatusRejected, applicant, 0, 50)
			if err != nil || len(rej) != 1 || rej[0].ID != badApp.ID {
				t.Errorf("Applications(rejected, applicant) = %v, %v, want only the rejected one", rej, err)
			}
			theirs, err := e.svc.Applications(ctx, "", other, 0, 50)
			if err != nil || len(theirs) != 1 || theirs[0].ID != otherApp.ID {
				t.Errorf("Applications(other) = %v, %v, want only theirs", theirs, err)
			}
		})

		t.Run("queue and paging", func(t *testing.T) {
			pending, err := e.svc.Applications(ctx, StatusPending, 0, 0, 50)
			if err != nil || len(pending) != 1 || pending[0].ID != otherApp.ID {
				t.Errorf("pending = %v, %v, want only the undecided one", pending, err)
			}
			page1, err := e.svc.Applications(ctx, "", 0, 0, 2)
			if err != nil || len(page1) != 2 {
				t.Fatalf("page 1 = %v, %v", page1, err)
			}
			page2, err := e.svc.Applications(ctx, "", 0, page1[1].ID, 2)
			if err != nil || len(page2) != 1 || page2[0].ID != otherApp.ID {
				t.Errorf("page 2 = %v, %v, want the third", page2, err)
			}
			_, err = e.svc.Applications(ctx, "closed", 0, 0, 50)
			wantFields(t, err, "status")
		})

		t.Run("deciding twice", func(t *testing.T) {
			for _, approve := range []bool{true, false} {
				for _, id := range []plaza.ID{okApp.ID, badApp.ID} {
					_, err := e.svc.DecideApplication(ctx, e.reviewer, id, approve, "again")
					wantCode(t, err, plaza.EConflict)
				}
			}
			_, err := e.svc.DecideApplication(ctx, e.reviewer, plaza.NewID(), true, "")
			wantCode(t, err, plaza.ENotFound)
		})

		t.Run("audited", func(t *testing.T) {
			entries := e.auditLog(t)
			var decisions []string
			for _, en := range entries {
				if en.TargetType == "channel_application" {
					decisions = append(decisions, en.Action+" "+en.TargetID+" "+en.Reason)
					if en.ActorID != e.reviewer.ID || en.Actor != e.reviewer.Name {
						t.Errorf("entry %d actor = %d %q, want the reviewer", en.Seq, en.ActorID, en.Actor)
					}
				}
			}
			want := []string{"channel.approve " + okApp.ID.String() + " ", "channel.reject " + badApp.ID.String() + " looks like spam"}
			if strings.Join(decisions, "|") != strings.Join(want, "|") {
				t.Errorf("audited decisions = %q, want %q", decisions, want)
			}
			a := e.lastAudit(t, "channel.approve")
			if a.Details["handle"] != "weather" || a.Details["applicant_id"] != applicant.String() {
				t.Errorf("approve details = %v", a.Details)
			}
		})
	})
}

// TestVerificationRequired uses the default identity policy: applying for
// and publishing on a channel need a verified identity.
func TestVerificationRequired(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ic := identity.DefaultConfig()
		strict := newEnv(t, db, envOptions{users: 2, ic: &ic})
		ctx := context.Background()
		owner := strict.user(1)

		_, err := strict.svc.Apply(ctx, owner, ApplicationInput{Handle: "strict", Name: "Strict", Kind: Subscription})
		pe := wantCode(t, err, plaza.EVerificationRequired)
		if pe.Details["level"] != "identity" {
			t.Errorf("Apply details = %v, want level identity", pe.Details)
		}
		if apps, _ := strict.svc.Applications(ctx, "", owner, 0, 10); len(apps) != 0 {
			t.Errorf("a refused application was stored: %v", apps)
		}

		// A channel made while the policy allowed it: the strict service
		// still refuses its owner's posts.
		keys, _, err := identity.LoadKeyring(filepath.Join(t.TempDir(), "k2"), true)
		if err != nil {
			t.Fatal(err)
		}
		outbox, err := sms.NewOutbox(filepath.Join(t.TempDir(), "sms2.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		open := identity.DefaultConfig()
		open.Policy = identity.Policy{}
		lax := *strict.svc
		lax.identity = identity.NewService(db, keys, outbox, open)
		a, err := lax.Apply(ctx, owner, ApplicationInput{Handle: "strict", Name: "Strict", Kind: Subscription})
		if err != nil {
			t.Fatalf("Apply without a policy: %v", err)
		}
		a, err = lax.DecideApplication(ctx, strict.reviewer, a.ID, true, "")
		if err != nil {
			t.Fatalf("approve: %v", err)
		}
		strict.category(t, "news", PolicyOpen)
		w := watch(t, strict.bus, *a.ChannelID)
		_, err = strict.svc.CreatePost(ctx, owner, *a.ChannelID, PostInput{Title: "T", Body: "B", Category: "news"})
		pe = wantCode(t, err, plaza.EVerificationRequired)
		if pe.Details["level"] != "identity" {
			t.Errorf("CreatePost details = %v, want level identity", pe.Details)
		}
		if got := w.take(t); len(got) != 0 {
			t.Errorf("a refused post was published: %v", got)
		}
		if _, err := lax.CreatePost(ctx, owner, *a.ChannelID, PostInput{Title: "T", Body: "B", Category: "news"}); err != nil {
			t.Errorf("CreatePost without a policy: %v", err)
		}
	})
}
