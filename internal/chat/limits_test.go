package chat

import (
	"context"
	"testing"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/ratelimit"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// withLimits sets the per-account rate limits.
func withLimits(l Limits) func(*setup) {
	return withChat(func(c *Config) { c.Limits = l })
}

// wantRateLimited checks that err is rate_limited, naming the budget and
// a retry of at least a second.
func wantRateLimited(tb testing.TB, err error, limit string) {
	tb.Helper()
	e := plaza.AsError(err)
	if e == nil || e.Code != plaza.ERateLimited {
		tb.Fatalf("got %v, want rate_limited", err)
	}
	if secs, _ := e.Details["retry_after_seconds"].(int); secs < 1 || e.Details["limit"] != limit {
		tb.Errorf("details = %v, want retry_after_seconds >= 1 and limit %s", e.Details, limit)
	}
}

var perHour = func(n int) ratelimit.Rate { return ratelimit.Rate{N: n, Per: time.Hour} }

func TestHostileSendsLimitedPerAccount(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, withLimits(Limits{Sends: perHour(3)}))
		a, b := e.account(t, "alice"), e.account(t, "bob")
		conv := e.direct(t, a, b)
		for i := 0; i < 3; i++ {
			e.send(t, a, conv.ID, "hi")
		}
		_, _, err := e.svc.Send(context.Background(), a, SendInput{ConversationID: conv.ID, ClientID: "over", Kind: KindText, Text: "one too many"})
		wantRateLimited(t, err, "sends")
		if n := len(e.history(t, a, conv.ID)); n != 3 {
			t.Errorf("history holds %d messages, want 3: a refused send stores nothing", n)
		}
		e.send(t, b, conv.ID, "the other account is not limited")
	})
}

func TestHostileContactRequestsLimited(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db, withLimits(Limits{ContactRequests: perHour(2)}))
		a, b := e.account(t, "alice"), e.account(t, "bob")
		others := e.accountsN(t, "target", 3)
		for _, to := range others[:2] {
			if _, err := e.svc.RequestContact(ctx, a, to, ""); err != nil {
				t.Fatal(err)
			}
		}
		_, err := e.svc.RequestContact(ctx, a, others[2], "")
		wantRateLimited(t, err, "contact_requests")
		if reqs, err := e.svc.Requests(ctx, others[2], false); err != nil || len(reqs) != 0 {
			t.Errorf("the refused request reached its target: %v, %v", reqs, err)
		}
		if _, err := e.svc.RequestContact(ctx, b, others[2], ""); err != nil {
			t.Errorf("another account: %v, want allowed", err)
		}
	})
}

func TestHostileGroupCreationLimited(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db, withLimits(Limits{Groups: perHour(2)}))
		a, b, friend := e.account(t, "alice"), e.account(t, "bob"), e.account(t, "friend")
		e.befriend(t, a, friend)
		e.befriend(t, b, friend)
		e.group(t, a, "one", friend)
		e.group(t, a, "two", friend)
		_, err := e.svc.CreateGroup(ctx, a, "three", []plaza.ID{friend})
		wantRateLimited(t, err, "groups")
		if list, _, err := e.svc.List(ctx, friend, ListCursor{}, 100); err != nil || len(list) != 2 {
			t.Errorf("friend is in %d conversations (%v), want 2", len(list), err)
		}
		e.group(t, b, "b's", friend)
	})
}

func TestHostileInvitationsLimited(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db, withLimits(Limits{Invitations: perHour(3)}))
		a := e.account(t, "alice")
		friends := e.accountsN(t, "friend", 5)
		for _, f := range friends {
			e.befriend(t, a, f)
		}
		g := e.group(t, a, "g", friends[:2]...) // 2 of 3
		_, err := e.svc.AddMembers(ctx, a, g.ID, friends[2:4])
		wantRateLimited(t, err, "invitations")
		if c, err := e.svc.AddMembers(ctx, a, g.ID, friends[2:3]); err != nil || len(c.MemberIDs) != 4 {
			t.Fatalf("add the third: %v members, %v; want 4 members", c.MemberIDs, err)
		}
		_, err = e.svc.AddMembers(ctx, a, g.ID, friends[4:5])
		wantRateLimited(t, err, "invitations")
		// A friend who is a member may still invite on their own budget.
		e.befriend(t, friends[0], friends[4])
		if _, err := e.svc.AddMembers(ctx, friends[0], g.ID, friends[4:5]); err != nil {
			t.Errorf("another member: %v, want allowed", err)
		}
	})
}
