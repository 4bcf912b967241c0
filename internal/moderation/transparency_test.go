package moderation

import (
	"bytes"
	"context"
	"encoding/csv"
	"testing"
	"time"

	"github.com/plaza-im/plaza/internal/audit"
	"github.com/plaza-im/plaza/internal/identity"
	"github.com/plaza-im/plaza/internal/plazatest"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// TestTransparencyCountsEqualWhatHappened makes a known mix of reports,
// decisions, appeals, orders and identity reviews and checks every
// number of the report, and that what happened outside the period is
// left out.
func TestTransparencyCountsEqualWhatHappened(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, 10)
		ctx := context.Background()
		day := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
		// Before the period: a report and a decision that must not count.
		e.clock.Set(day.AddDate(0, 0, -3))
		old := e.report(t, 0, TargetAccount, e.user(9), 1)
		e.decide(t, 0, old, DecisionInput{Action: Dismiss, RuleID: 1})

		e.clock.Set(day)
		// Reports: user5 reported by four people (rules 1, 1, 2, 2), user6
		// by two (rule 3), user7 and user8 by one each (rule 5).
		var items []Report
		for i, rule := range []int64{1, 1, 2, 2} {
			r := e.report(t, i, TargetAccount, e.user(5), rule)
			if i == 0 {
				items = append(items, r)
			}
		}
		items = append(items, e.report(t, 0, TargetAccount, e.user(6), 3))
		e.report(t, 1, TargetAccount, e.user(6), 3)
		items = append(items, e.report(t, 0, TargetAccount, e.user(7), 5))
		items = append(items, e.report(t, 0, TargetAccount, e.user(8), 5))

		// Decisions 2, 4 and 6 hours after the reports; one more on the
		// moderators' own initiative.
		e.clock.Set(day.Add(2 * time.Hour))
		d1 := e.decide(t, 0, items[0], DecisionInput{Action: Suspend, RuleID: 2, Reason: "abuse", DurationDays: 3})
		e.clock.Set(day.Add(4 * time.Hour))
		d2 := e.decide(t, 2, items[1], DecisionInput{Action: Close, RuleID: 3, Reason: "illegal"})
		e.clock.Set(day.Add(6 * time.Hour))
		e.decide(t, 1, items[2], DecisionInput{Action: Dismiss, RuleID: 5})
		if _, err := e.svc.Act(ctx, e.mods[1], DecisionInput{TargetType: TargetAccount, TargetID: e.user(4), Action: Suspend, RuleID: 1, Reason: "spam run", DurationDays: 1}); err != nil {
			t.Fatal(err)
		}
		// items[3] stays open.

		// Appeals: d1 reversed, d2 upheld.
		e.clock.Set(day.Add(24 * time.Hour))
		a1, err := e.svc.Appeal(ctx, e.actor(5), d1.ID, "context missing")
		if err != nil {
			t.Fatal(err)
		}
		a2, err := e.svc.Appeal(ctx, e.actor(6), d2.ID, "not illegal")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.DecideAppeal(ctx, e.mods[1], a1.ID, false, "fair point"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.DecideAppeal(ctx, e.mods[1], a2.ID, true, "it was"); err != nil {
			t.Fatal(err)
		}
		// Orders: two from one authority, one from another.
		for _, o := range []struct{ who, outcome string }{{"Court A", Complied}, {"Court A", Rejected}, {"Police B", PartiallyComplied}} {
			if _, err := e.svc.RecordOrder(ctx, e.admin, Order{Authority: o.who, LegalBasis: "Act 1", ReceivedAt: day, Scope: "x", Outcome: o.outcome}); err != nil {
				t.Fatal(err)
			}
		}
		// Identity reviews on the second day.
		for i, approve := range []bool{true, true, false} {
			id, err := e.ids.Submit(ctx, e.user(i), identity.Submission{LegalName: "Li Lei", DocumentType: "passport", DocumentNumber: "E1234567" + string(rune('0'+i)), DocumentCountry: "GB"})
			if err != nil {
				t.Fatalf("Submit: %v", err)
			}
			if _, err := e.ids.Decide(ctx, audit.Actor{ID: e.admin.ID, Name: "staff2"}, id.ID, approve, "checked"); err != nil {
				t.Fatalf("Decide: %v", err)
			}
		}

		from, to, err := e.svc.ParsePeriod("2026-03-10", "2026-03-11")
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.svc.Transparency(ctx, from, to)
		if err != nil {
			t.Fatal(err)
		}
		check := func(name string, got, want int) {
			t.Helper()
			if got != want {
				t.Errorf("%s = %d, want %d", name, got, want)
			}
		}
		check("reports.total", got.Reports.Total, 8)
		check("reports.by_rule[1]", got.Reports.ByRule["1"], 2)
		check("reports.by_rule[2]", got.Reports.ByRule["2"], 2)
		check("reports.by_rule[3]", got.Reports.ByRule["3"], 2)
		check("reports.by_rule[5]", got.Reports.ByRule["5"], 2)
		check("reports.by_target_type[account]", got.Reports.ByTargetType["account"], 8)
		check("decisions.total", got.Decisions.Total, 4)
		check("decisions.by_action[suspend]", got.Decisions.ByAction["suspend"], 2)
		check("decisions.by_action[close]", got.Decisions.ByAction["close"], 1)
		check("decisions.by_action[dismiss]", got.Decisions.ByAction["dismiss"], 1)
		check("decisions.by_rule[1]", got.Decisions.ByRule["1"], 1)
		check("decisions.by_source[report]", got.Decisions.BySource["report"], 3)
		check("decisions.by_source[own_initiative]", got.Decisions.BySource["own_initiative"], 1)
		check("decisions.automated", got.Decisions.Automated, 0)
		if m := got.Decisions.MedianHoursToDecision; m == nil || *m != 4 {
			t.Errorf("median_hours_to_decision = %v, want 4", m)
		}
		check("appeals.total", got.Appeals.Total, 2)
		check("appeals.reversed", got.Appeals.Reversed, 1)
		check("appeals.upheld", got.Appeals.Upheld, 1)
		check("authority_orders.total", got.AuthorityOrders.Total, 3)
		check("authority_orders.by_authority[Court A]", got.AuthorityOrders.ByAuthority["Court A"], 2)
		check("authority_orders.by_outcome[rejected]", got.AuthorityOrders.ByOutcome["rejected"], 1)
		check("identity_reviews.approved", got.IdentityReviews.Approved, 2)
		check("identity_reviews.rejected", got.IdentityReviews.Rejected, 1)

		// A period of the first day alone leaves the second day's out.
		f2, t2, _ := e.svc.ParsePeriod("2026-03-10", "2026-03-10")
		first, err := e.svc.Transparency(ctx, f2, t2)
		if err != nil {
			t.Fatal(err)
		}
		check("first day reports.total", first.Reports.Total, 8)
		check("first day appeals.total", first.Appeals.Total, 0)
		check("first day authority_orders.total", first.AuthorityOrders.Total, 0)
		check("first day identity_reviews.approved", first.IdentityReviews.Approved, 0)

		// The CSV says the same.
		rows, err := csv.NewReader(bytes.NewReader(got.CSV())).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"reports/total": "8", "decisions_by_action/suspend": "2", "appeals/reversed": "1",
			"authority_orders_by_authority/Court A": "2", "decisions/median_hours_to_decision": "4.000"}
		for _, r := range rows {
			if v, ok := want[r[0]+"/"+r[1]]; ok {
				if r[2] != v {
					t.Errorf("CSV %s/%s = %s, want %s", r[0], r[1], r[2], v)
				}
				delete(want, r[0]+"/"+r[1])
			}
		}
		if len(want) > 0 {
			t.Errorf("CSV lacks %v", want)
		}
		// And the log that was counted is intact.
		rep, err := e.audit.Verify(ctx)
		if err != nil || !rep.OK {
			t.Fatalf("audit chain: %+v, %v", rep, err)
		}
	})
}

func TestTransparencyPeriod(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, 1)
		for _, c := range []struct{ from, to, field string }{
			{"2026-13-01", "", "from"},
			{"", "yesterday", "to"},
			{"2026-03-02", "2026-03-01", "to"},
			{"2010-01-01", "2026-01-01", "from"},
		} {
			_, _, err := e.svc.ParsePeriod(c.from, c.to)
			plazatest.WantInvalidField(t, err, c.field)
		}
		from, to, err := e.svc.ParsePeriod("", "")
		if err != nil || to.Sub(from) != 29*24*time.Hour {
			t.Fatalf("default period %v–%v, %v; want the last 30 days", from, to, err)
		}
	})
}
