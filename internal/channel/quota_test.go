package channel

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

func mustLoad(tb testing.TB, name string) *time.Location {
	tb.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		tb.Fatalf("LoadLocation(%s): %v", name, err)
	}
	return loc
}

// wantQuota fails unless err is quota_exceeded for limit a period, with
// next_allowed_at next (RFC 3339 UTC).
func wantQuota(tb testing.TB, err error, limit int, period, next string) {
	tb.Helper()
	pe := wantCode(tb, err, plaza.EQuotaExceeded)
	if pe.Details["next_allowed_at"] != next || pe.Details["period"] != period || pe.Details["limit"] != limit {
		tb.Errorf("quota details = %v, want limit %d a %s, next_allowed_at %s", pe.Details, limit, period, next)
	}
}

func TestSubscriptionQuotaDayBoundary(t *testing.T) {
	for _, tt := range []struct {
		name          string
		zone          string
		first, second [6]int // local year, month, day, hour, minute, second
		next          string // the next local midnight, in UTC
	}{
		{"UTC", "UTC", [6]int{2026, 3, 15, 23, 59, 0}, [6]int{2026, 3, 15, 23, 59, 59}, "2026-03-16T00:00:00Z"},
		{"Shanghai", "Asia/Shanghai", [6]int{2026, 3, 15, 23, 59, 0}, [6]int{2026, 3, 15, 23, 59, 30}, "2026-03-15T16:00:00Z"},
		// A 23-hour day (clocks go forward at 02:00) and a 25-hour one.
		{"New York, spring forward", "America/New_York", [6]int{2026, 3, 8, 0, 30, 0}, [6]int{2026, 3, 8, 23, 59, 0}, "2026-03-09T04:00:00Z"},
		{"New York, fall back", "America/New_York", [6]int{2026, 11, 1, 0, 30, 0}, [6]int{2026, 11, 1, 23, 30, 0}, "2026-11-02T05:00:00Z"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			loc := mustLoad(t, tt.zone)
			at := func(v [6]int) time.Time { return time.Date(v[0], time.Month(v[1]), v[2], v[3], v[4], v[5], 0, loc) }
			sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
				e := newEnv(t, db, envOptions{users: 2, cfg: func(c *Config) { c.Location = loc }})
				ctx := context.Background()
				owner := e.user(1)
				ch := e.newChannel(t, owner, "daily", Subscription)
				e.category(t, "news", PolicyOpen)
				in := PostInput{Title: "t", Body: "b", Category: "news"}

				e.clock.Set(at(tt.first))
				e.post(t, owner, ch, "first", "news")
				e.clock.Set(at(tt.second))
				_, err := e.svc.CreatePost(ctx, owner, ch, in)
				wantQuota(t, err, 1, "day", tt.next)
				next, _ := time.Parse(time.RFC3339, tt.next)
				if pe := plaza.AsError(err); pe != nil && pe.Details["retry_after_seconds"] != int(next.Sub(at(tt.second)).Seconds())+1 {
					t.Errorf("retry_after_seconds = %v, want %d", pe.Details["retry_after_seconds"], int(next.Sub(at(tt.second)).Seconds())+1)
				}

				e.clock.Set(next.Add(-time.Microsecond))
				_, err = e.svc.CreatePost(ctx, owner, ch, in)
				wantQuota(t, err, 1, "day", tt.next)

				// Local midnight starts a new day.
				e.clock.Set(next)
				e.post(t, owner, ch, "second", "news")
				e.clock.Set(next.Add(time.Second))
				_, err = e.svc.CreatePost(ctx, owner, ch, in)
				wantQuota(t, err, 1, "day", next.In(loc).AddDate(0, 0, 1).UTC().Format(time.RFC3339))
			})
		})
	}
}

func TestQuotaCountsPublishedAndPendingOnly(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 2})
		ctx := context.Background()
		owner := e.user(1)
		ch := e.newChannel(t, owner, "counted", Subscription)
		e.category(t, "news", PolicyOpen)
		e.category(t, "health", PolicyReview)
		e.category(t, "medicine", PolicyCredential)
		e.category(t, "gambling", PolicyForbidden)

		// Refused posts leave the day's one post free.
		for _, cat := range []string{"gambling", "medicine", "gambling"} {
			_, err := e.svc.CreatePost(ctx, owner, ch, PostInput{Title: "t", Body: "b", Category: cat})
			wantCode(t, err, plaza.ECategoryNotAuthorized)
		}
		_, err := e.svc.CreatePost(ctx, owner, ch, PostInput{Title: "", Body: "b", Category: "news"})
		wantCode(t, err, plaza.EInvalid)
		e.post(t, owner, ch, "the one", "news")
		_, err = e.svc.CreatePost(ctx, owner, ch, PostInput{Title: "t", Body: "b", Category: "news"})
		wantQuota(t, err, 1, "day", "2026-03-16T00:00:00Z")
		// The quota is checked for held posts too.
		_, err = e.svc.CreatePost(ctx, owner, ch, PostInput{Title: "t", Body: "b", Category: "health"})
		wantQuota(t, err, 1, "day", "2026-03-16T00:00:00Z")

		// Next day: a post held for review takes the day's post.
		e.clock.Set(time.Date(2026, 3, 16, 9, 0, 0, 0, time.UTC))
		held := e.post(t, owner, ch, "held", "health")
		if held.Status != PostPending {
			t.Fatalf("status = %q, want pending_review", held.Status)
		}
		_, err = e.svc.CreatePost(ctx, owner, ch, PostInput{Title: "t", Body: "b", Category: "news"})
		wantQuota(t, err, 1, "day", "2026-03-17T00:00:00Z")
		// Approving it later does not need more room.
		if _, err := e.svc.DecidePost(ctx, e.reviewer, held.ID, true, ""); err != nil {
			t.Fatalf("approve: %v", err)
		}
	})
}

func TestServiceMonthlyQuota(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		loc := mustLoad(t, "Asia/Shanghai")
		e := newEnv(t, db, envOptions{users: 2, cfg: func(c *Config) { c.Location = loc }})
		ctx := context.Background()
		owner := e.user(1)
		ch := e.newChannel(t, owner, "monthly", ServiceKind)
		e.category(t, "news", PolicyOpen)
		local := func(m time.Month, d, h, min, s int) time.Time { return time.Date(2026, m, d, h, min, s, 0, loc) }

		// The last minute of January in Shanghai is still January.
		e.clock.Set(local(time.January, 31, 23, 59, 0))
		e.post(t, owner, ch, "january", "news")

		// Four in February, two of them on one day (no daily quota).
		for i, at := range []time.Time{local(time.February, 1, 0, 0, 0), local(time.February, 10, 12, 0, 0),
			local(time.February, 28, 8, 0, 0), local(time.February, 28, 9, 0, 0)} {
			e.clock.Set(at)
			e.post(t, owner, ch, fmt.Sprintf("february %d", i+1), "news")
		}
		for _, at := range []time.Time{local(time.February, 28, 9, 0, 1), local(time.February, 28, 23, 59, 59)} {
			e.clock.Set(at)
			_, err := e.svc.CreatePost(ctx, owner, ch, PostInput{Title: "fifth", Body: "b", Category: "news"})
			wantQuota(t, err, 4, "month", "2026-02-28T16:00:00Z") // 1 March, 00:00 in Shanghai
		}

		e.clock.Set(local(time.March, 1, 0, 0, 0))
		for i := range 4 {
			e.post(t, owner, ch, fmt.Sprintf("march %d", i+1), "news")
		}
		_, err := e.svc.CreatePost(ctx, owner, ch, PostInput{Title: "fifth", Body: "b", Category: "news"})
		wantQuota(t, err, 4, "month", "2026-03-31T16:00:00Z")
	})
}

func TestSetLimits(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 2})
		ctx := context.Background()
		owner := e.user(1)
		ch := e.newChannel(t, owner, "limited", Subscription)
		e.category(t, "news", PolicyOpen)
		ptr := func(n int) *int { return &n }

		for _, tt := range []struct {
			daily, monthly *int
			field          string
		}{
			{ptr(-1), nil, "daily_post_limit"},
			{ptr(10001), nil, "daily_post_limit"},
			{nil, ptr(-5), "monthly_post_limit"},
		} {
			_, err := e.svc.SetLimits(ctx, e.reviewer, ch, tt.daily, tt.monthly)
			wantFields(t, err, tt.field)
		}
		_, err := e.svc.SetLimits(ctx, e.reviewer, plaza.NewID(), ptr(3), nil)
		wantCode(t, err, plaza.ENotFound)

		c, err := e.svc.SetLimits(ctx, e.reviewer, ch, ptr(3), nil)
		if err != nil {
			t.Fatalf("SetLimits: %v", err)
		}
		if got := quotas(c); got != "3 a day, none a month" {
			t.Errorf("quotas = %s, want 3 a day, none a month", got)
		}
		for i := range 3 {
			e.post(t, owner, ch, fmt.Sprintf("post %d", i+1), "news")
		}
		_, err = e.svc.CreatePost(ctx, owner, ch, PostInput{Title: "fourth", Body: "b", Category: "news"})
		wantQuota(t, err, 3, "day", "2026-03-16T00:00:00Z")

		a := e.lastAudit(t, "channel.limits")
		if a.TargetType != "channel" || a.TargetID != ch.String() || a.ActorID != e.reviewer.ID || a.Details["daily_post_limit"] != float64(3) {
			t.Errorf("channel.limits entry = %+v", a)
		}

		// A monthly quota on top; the daily override stays.
		c, err = e.svc.SetLimits(ctx, e.reviewer, ch, nil, ptr(4))
		if err != nil {
			t.Fatalf("SetLimits(monthly): %v", err)
		}
		if got := quotas(c); got != "3 a day, 4 a month" {
			t.Errorf("quotas = %s, want 3 a day, 4 a month", got)
		}
		e.clock.Advance(24 * time.Hour)
		e.post(t, owner, ch, "fourth this month", "news")
		_, err = e.svc.CreatePost(ctx, owner, ch, PostInput{Title: "fifth", Body: "b", Category: "news"})
		wantQuota(t, err, 4, "month", "2026-04-01T00:00:00Z")
		if n := e.countAudit(t, "channel.limits"); n != 2 {
			t.Errorf("channel.limits audited %d times, want 2", n)
		}
	})
}

// TestZeroLimit: a quota of 0 set by an admin allows no posts at all,
// unlike no quota.
func TestZeroLimit(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 2})
		ctx := context.Background()
		owner := e.user(1)
		ch := e.newChannel(t, owner, "muted", ServiceKind)
		e.category(t, "news", PolicyOpen)
		zero := 0
		c, err := e.svc.SetLimits(ctx, e.reviewer, ch, &zero, nil)
		if err != nil {
			t.Fatalf("SetLimits: %v", err)
		}
		if got := quotas(c); got != "0 a day, 4 a month" {
			t.Errorf("quotas = %s, want 0 a day, 4 a month", got)
		}
		_, err = e.svc.CreatePost(ctx, owner, ch, PostInput{Title: "t", Body: "b", Category: "news"})
		wantQuota(t, err, 0, "day", "2026-03-16T00:00:00Z")
	})
}
