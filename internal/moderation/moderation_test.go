package moderation

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/events"
	"github.com/plaza-im/plaza/internal/microblog"
	"github.com/plaza-im/plaza/internal/plazatest"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

func TestRulesSeededAndEdited(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, 1)
		ctx := context.Background()
		rules, err := e.svc.Rules(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(rules) != len(defaultRules) || rules[0].ID != 1 || !strings.HasPrefix(rules[0].Title, "Spam") {
			t.Fatalf("seeded rules = %+v", rules)
		}
		// Seeding again (a restart) keeps the operator's edits.
		if _, err := e.svc.PutRule(ctx, e.admin, Rule{ID: 1, Title: "Spam and scams", Description: "No spam."}); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.seedRules(ctx); err != nil {
			t.Fatal(err)
		}
		rules, _ = e.svc.Rules(ctx)
		if rules[0].Title != "Spam and scams" {
			t.Fatalf("after reseed rule 1 = %+v, want the edit kept", rules[0])
		}
		_, err = e.svc.PutRule(ctx, e.admin, Rule{ID: 0, Title: "", Description: "a\x00"})
		plazatest.WantInvalid(t, err, "id", "title", "description")
	})
}

func TestReportValidation(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, 2)
		ctx := context.Background()
		for _, c := range []struct {
			name  string
			in    ReportInput
			field string
		}{
			{"unknown type", ReportInput{TargetType: "planet", TargetID: e.user(1), RuleID: 1}, "target_type"},
			{"no id", ReportInput{TargetType: TargetAccount, RuleID: 1}, "target_id"},
			{"no rule", ReportInput{TargetType: TargetAccount, TargetID: e.user(1)}, "rule_id"},
			{"unknown rule", ReportInput{TargetType: TargetAccount, TargetID: e.user(1), RuleID: 77}, "rule_id"},
			{"NUL comment", ReportInput{TargetType: TargetAccount, TargetID: e.user(1), RuleID: 1, Comment: "a\x00b"}, "comment"},
			{"long comment", ReportInput{TargetType: TargetAccount, TargetID: e.user(1), RuleID: 1, Comment: strings.Repeat("字", MaxComment+1)}, "comment"},
			{"context on account", ReportInput{TargetType: TargetAccount, TargetID: e.user(1), RuleID: 1, Context: true}, "context"},
			{"oneself", ReportInput{TargetType: TargetAccount, TargetID: e.user(0), RuleID: 1}, "target_id"},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, err := e.svc.File(ctx, e.actor(0), c.in)
				plazatest.WantInvalidField(t, err, c.field)
			})
		}
		_, err := e.svc.File(ctx, e.actor(0), ReportInput{TargetType: TargetAccount, TargetID: plaza.NewID(), RuleID: 1})
		plazatest.WantCode(t, err, plaza.ENotFound)
		q, _ := e.svc.Queue(ctx, QueueFilter{Limit: 10})
		if len(q) != 0 {
			t.Fatalf("refused reports left %d queue items", len(q))
		}
	})
}

func TestDuplicateReportsGroupIntoOneItem(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, 8)
		ctx := context.Background()
		target := e.user(7)
		// Six people report at once: one item, six reports.
		var wg sync.WaitGroup
		errs := make([]error, 6)
		for i := range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = e.svc.File(ctx, e.actor(i), ReportInput{TargetType: TargetAccount, TargetID: target, RuleID: int64(1 + i%2)})
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("report %d: %v", i, err)
			}
		}
		q, err := e.svc.Queue(ctx, QueueFilter{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(q) != 1 || q[0].ReportCount != 6 || len(q[0].Reports) != 6 {
			t.Fatalf("queue = %d items (count %v), want 1 item of 6", len(q), q)
		}
		// The same person again: a conflict, and nothing counted.
		_, err = e.svc.File(ctx, e.actor(0), ReportInput{TargetType: TargetAccount, TargetID: target, RuleID: 1})
		plazatest.WantCode(t, err, plaza.EConflict)
		// Filters.
		for _, c := range []struct {
			f    QueueFilter
			want int
		}{
			{QueueFilter{RuleID: 2, Limit: 10}, 1},
			{QueueFilter{RuleID: 3, Limit: 10}, 0},
			{QueueFilter{TargetType: TargetAccount, Limit: 10}, 1},
			{QueueFilter{TargetType: TargetPost, Limit: 10}, 0},
			{QueueFilter{Status: StatusDecided, Limit: 10}, 0},
		} {
			got, err := e.svc.Queue(ctx, c.f)
			if err != nil || len(got) != c.want {
				t.Errorf("Queue(%+v) = %d items, %v; want %d", c.f, len(got), err, c.want)
			}
		}
		_, err = e.svc.Queue(ctx, QueueFilter{Status: "closed", TargetType: "planet", Limit: 10})
		plazatest.WantInvalid(t, err, "status", "target_type")
	})
}

func TestReportRateLimit(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, 5)
		e.svc.reports = newBudget(db, 2)
		ctx := context.Background()
		for i := 1; i <= 2; i++ {
			e.report(t, 0, TargetAccount, e.user(i), 1)
		}
		_, err := e.svc.File(ctx, e.actor(0), ReportInput{TargetType: TargetAccount, TargetID: e.user(3), RuleID: 1})
		plazatest.WantCode(t, err, plaza.ERateLimited)
		// Another person's budget is their own.
		e.report(t, 1, TargetAccount, e.user(3), 1)
	})
}

func TestSuspensionDecisionAndAppeal(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, 3)
		ctx := context.Background()
		r := e.report(t, 0, TargetAccount, e.user(2), 2)
		// Bad decisions change nothing.
		for _, c := range []struct {
			in    DecisionInput
			field []string
		}{
			{DecisionInput{Action: Suspend, RuleID: 2, Reason: "threats"}, []string{"duration_days"}},
			{DecisionInput{Action: Remove, RuleID: 2, Reason: "x"}, []string{"action"}},
			{DecisionInput{Action: Suspend, RuleID: 2, DurationDays: 7}, []string{"reason"}},
			{DecisionInput{Action: Close, RuleID: 99, Reason: "x", Label: "y", DurationDays: 3}, []string{"rule_id", "label", "duration_days"}},
		} {
			_, err := e.svc.DecideReport(ctx, e.mods[0], r.ItemID, c.in)
			plazatest.WantInvalid(t, err, c.field...)
		}
		if it := e.itemOf(t, r); it.Status != StatusOpen {
			t.Fatalf("after refused decisions item is %s", it.Status)
		}
		d := e.decide(t, 0, r, DecisionInput{Action: Suspend, RuleID: 2, Reason: "Repeated threats in messages to user0.", DurationDays: 7})
		if d.Source != SourceReport || d.Ground != GroundTerms || d.Automated || d.EndsAt == nil || d.Rule.Title == "" {
			t.Fatalf("statement = %+v", d)
		}
		if got := d.EndsAt.Sub(d.CreatedAt); got != 7*24*time.Hour {
			t.Fatalf("ends after %v, want 7 days", got)
		}
		if got := d.AppealDeadline.Sub(d.CreatedAt); got != 180*24*time.Hour {
			t.Fatalf("appeal window %v, want 180 days", got)
		}
		// The account is suspended, and the refusal names the decision.
		err := e.accts.CheckStanding(ctx, e.user(2))
		pe := plazatest.WantCode(t, err, plaza.EAccountSuspended)
		if pe.Details["decision_id"] != d.ID.String() {
			t.Fatalf("suspension details = %v, want decision_id %s", pe.Details, d.ID)
		}
		// The statement reaches the person as a durable event and in
		// their list; the reporter sees the outcome.
		page, err := e.chat.Events().Sync(ctx, e.user(2), 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		if !hasFrame(page.Events, events.ModerationDecision, d.ID.String()) {
			t.Fatalf("no moderation.decision event for the suspended person in %s", page.Events)
		}
		mine, _ := e.svc.MyDecisions(ctx, e.user(2), 0, 10)
		if len(mine) != 1 || mine[0].ID != d.ID {
			t.Fatalf("MyDecisions = %+v", mine)
		}
		reps, _ := e.svc.MyReports(ctx, e.user(0), 0, 10)
		if len(reps) != 1 || reps[0].Outcome == nil || reps[0].Outcome.Action != Suspend {
			t.Fatalf("MyReports = %+v", reps)
		}
		rp, _ := e.chat.Events().Sync(ctx, e.user(0), 0, 100)
		if !hasFrame(rp.Events, events.ModerationReport, r.ID.String()) {
			t.Fatalf("no moderation.report event for the reporter")
		}
		// Only the person it concerns sees or appeals it.
		_, err = e.svc.MyDecision(ctx, e.user(0), d.ID)
		plazatest.WantCode(t, err, plaza.ENotFound)
		_, err = e.svc.Appeal(ctx, e.actor(0), d.ID, "not me")
		plazatest.WantCode(t, err, plaza.ENotFound)
		_, err = e.svc.Appeal(ctx, e.actor(2), d.ID, "  ")
		plazatest.WantInvalidField(t, err, "text")
		a, err := e.svc.Appeal(ctx, e.actor(2), d.ID, "I was quoting a film.")
		if err != nil {
			t.Fatalf("appeal while suspended: %v", err)
		}
		_, err = e.svc.Appeal(ctx, e.actor(2), d.ID, "again")
		plazatest.WantCode(t, err, plaza.EConflict)
		// The moderator who decided may not decide the appeal.
		_, err = e.svc.DecideAppeal(ctx, e.mods[0], a.ID, false, "ok")
		pe = plazatest.WantCode(t, err, plaza.EForbidden)
		if pe.Details["reason"] != "same_moderator" {
			t.Fatalf("details = %v, want reason same_moderator", pe.Details)
		}
		_, err = e.svc.DecideAppeal(ctx, e.mods[1], a.ID, false, "")
		plazatest.WantInvalidField(t, err, "reason")
		got, err := e.svc.DecideAppeal(ctx, e.mods[1], a.ID, false, "The quote was clearly marked.")
		if err != nil {
			t.Fatal(err)
		}
		if got.Outcome != Reversed || got.Decision.Status != DecisionReversed {
			t.Fatalf("appeal = %+v", got)
		}
		if err := e.accts.CheckStanding(ctx, e.user(2)); err != nil {
			t.Fatalf("after reversal the account is still refused: %v", err)
		}
		_, err = e.svc.DecideAppeal(ctx, e.mods[1], a.ID, true, "changed my mind")
		plazatest.WantCode(t, err, plaza.EConflict)
		st, _ := e.svc.MyDecision(ctx, e.user(2), d.ID)
		if st.Status != DecisionReversed || st.Appeal == nil || st.Appeal.Outcome != Reversed || st.Appeal.Reason == "" {
			t.Fatalf("statement after appeal = %+v", st)
		}
		reps, _ = e.svc.MyReports(ctx, e.user(0), 0, 10)
		if !reps[0].Outcome.Reversed {
			t.Fatalf("reporter's outcome not marked reversed: %+v", reps[0].Outcome)
		}
		// Rewording the rule later does not change the ground given.
		before := st.Rule.Title
		if _, err := e.svc.PutRule(ctx, e.admin, Rule{ID: 2, Title: "Something else", Description: "changed"}); err != nil {
			t.Fatal(err)
		}
		st, _ = e.svc.MyDecision(ctx, e.user(2), d.ID)
		if st.Rule.Title != before {
			t.Fatalf("statement's rule became %q, want %q as decided", st.Rule.Title, before)
		}
		today := e.clock.Now().Format(time.DateOnly)
		from, to, _ := e.svc.ParsePeriod(today, today)
		tr, err := e.svc.Transparency(ctx, from, to)
		if err != nil {
			t.Fatal(err)
		}
		if tr.Rules["2"] != before {
			t.Fatalf("transparency names rule 2 %q, want %q as cited", tr.Rules["2"], before)
		}
	})
}

func TestAppealWindow(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, 3)
		ctx := context.Background()
		start := time.Now().UTC()
		e.clock.Set(start)
		r := e.report(t, 0, TargetAccount, e.user(2), 1)
		d := e.decide(t, 2, r, DecisionInput{Action: Close, RuleID: 1, Reason: "A spam account."})
		// A closed account may still read and appeal — until the window ends.
		if _, err := e.svc.MyDecisions(ctx, e.user(2), 0, 10); err != nil {
			t.Fatal(err)
		}
		e.clock.Set(start.Add(181 * 24 * time.Hour))
		_, err := e.svc.Appeal(ctx, e.actor(2), d.ID, "please")
		pe := plazatest.WantCode(t, err, plaza.EForbidden)
		if pe.Details["reason"] != "appeal_window_closed" {
			t.Fatalf("details = %v", pe.Details)
		}
	})
}

func TestConcurrentDecisionsOneWins(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, 3)
		ctx := context.Background()
		r := e.report(t, 0, TargetAccount, e.user(2), 1)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = e.svc.DecideReport(ctx, e.mods[i], r.ItemID, DecisionInput{Action: Suspend, RuleID: 1, Reason: "spam", DurationDays: 1 + i})
			}()
		}
		wg.Wait()
		var ok, conflict int
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case plaza.ErrorCode(err) == plaza.EConflict:
				conflict++
			default:
				t.Fatalf("unexpected error: %v", err)
			}
		}
		if ok != 1 || conflict != 1 {
			t.Fatalf("%d won and %d got 409, want 1 and 1", ok, conflict)
		}
		var n int
		if err := db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM decisions`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("%d decisions stored (%v), want 1", n, err)
		}
	})
}

func TestModeratorCannotActOnHigherRank(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, 1)
		ctx := context.Background()
		_, err := e.svc.Act(ctx, e.mods[0], DecisionInput{TargetType: TargetAccount, TargetID: e.admin.ID, Action: Close, RuleID: 1, Reason: "x"})
		plazatest.WantCode(t, err, plaza.EForbidden)
		_, err = e.svc.Act(ctx, e.mods[0], DecisionInput{TargetType: TargetAccount, TargetID: e.mods[0].ID, Action: Suspend, RuleID: 1, Reason: "x", DurationDays: 1})
		plazatest.WantCode(t, err, plaza.EForbidden)
		if n := countRows(t, db, "decisions"); n != 0 {
			t.Fatalf("%d decisions stored after refusals", n)
		}
	})
}

func TestAuthorityOrder(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, 2)
		ctx := context.Background()
		_, err := e.svc.RecordOrder(ctx, e.admin, Order{Outcome: "ignored", TargetType: TargetAccount})
		plazatest.WantInvalid(t, err, "authority", "legal_basis", "scope", "received_at", "target_id", "outcome")
		target := e.user(1)
		o, err := e.svc.RecordOrder(ctx, e.admin, Order{Authority: "Court of Example", LegalBasis: "Example Act §12", ReceivedAt: time.Now().Add(-time.Hour),
			Scope: "Close the account that posted the leaked files.", TargetType: TargetAccount, TargetID: &target, Outcome: Complied})
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.Act(ctx, e.admin, DecisionInput{TargetType: TargetAccount, TargetID: target, Action: Close, RuleID: 3, Reason: "Court order.", AuthorityOrderID: plaza.NewID()})
		plazatest.WantInvalidField(t, err, "authority_order_id")
		// Closing is for admins.
		_, err = e.svc.Act(ctx, e.mods[0], DecisionInput{TargetType: TargetAccount, TargetID: target, Action: Close, RuleID: 3, Reason: "Court order.", AuthorityOrderID: o.ID})
		plazatest.WantCode(t, err, plaza.EForbidden)
		// A rejected order, or one about something else, grounds nothing.
		other := e.user(0)
		rej, err := e.svc.RecordOrder(ctx, e.admin, Order{Authority: "Police", LegalBasis: "Act §1", ReceivedAt: time.Now(), Scope: "x", TargetType: TargetAccount, TargetID: &target, Outcome: Rejected})
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.Act(ctx, e.admin, DecisionInput{TargetType: TargetAccount, TargetID: target, Action: Suspend, DurationDays: 1, RuleID: 3, Reason: "x", AuthorityOrderID: rej.ID})
		plazatest.WantInvalidField(t, err, "authority_order_id")
		_, err = e.svc.Act(ctx, e.admin, DecisionInput{TargetType: TargetAccount, TargetID: other, Action: Suspend, DurationDays: 1, RuleID: 3, Reason: "x", AuthorityOrderID: o.ID})
		plazatest.WantInvalidField(t, err, "authority_order_id")
		d, err := e.svc.Act(ctx, e.admin, DecisionInput{TargetType: TargetAccount, TargetID: target, Action: Close, RuleID: 3, Reason: "Court order.", AuthorityOrderID: o.ID})
		if err != nil {
			t.Fatal(err)
		}
		if d.Source != SourceAuthorityOrder || d.Ground != GroundLaw || d.LegalBasis != "Example Act §12" || d.AuthorityOrderID == nil || *d.AuthorityOrderID != o.ID {
			t.Fatalf("statement = %+v", d)
		}
		plazatest.WantCode(t, e.accts.CheckStanding(ctx, target), plaza.EAccountClosed)
		orders, _ := e.svc.Orders(ctx, 0, 10)
		if len(orders) != 2 || orders[1].Authority != "Court of Example" {
			t.Fatalf("Orders = %+v", orders)
		}
	})
}

func hasFrame(frames []json.RawMessage, typ, id string) bool {
	for _, f := range frames {
		var fr struct {
			Type string `json:"type"`
			Data struct {
				ID string `json:"id"`
			} `json:"data"`
		}
		if json.Unmarshal(f, &fr) == nil && fr.Type == typ && fr.Data.ID == id {
			return true
		}
	}
	return false
}

func countRows(tb testing.TB, db *sqldb.DB, table string) int {
	tb.Helper()
	var n int
	if err := db.Read().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}

func TestNobodyDecidesAboutThemselves(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, 2)
		ctx := context.Background()
		// A report about a moderator: that moderator may not decide it,
		// nor the appeal of the other moderator's decision.
		r, err := e.svc.File(ctx, e.actor(0), ReportInput{TargetType: TargetAccount, TargetID: e.mods[0].ID, RuleID: 1})
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.DecideReport(ctx, e.mods[0], r.ItemID, DecisionInput{Action: Dismiss, RuleID: 1})
		pe := plazatest.WantCode(t, err, plaza.EForbidden)
		if pe.Details["reason"] != account.ReasonSelf {
			t.Fatalf("details = %v", pe.Details)
		}
		d, err := e.svc.DecideReport(ctx, e.admin, r.ItemID, DecisionInput{Action: Suspend, RuleID: 1, Reason: "spam", DurationDays: 1})
		if err != nil {
			t.Fatal(err)
		}
		a, err := e.svc.Appeal(ctx, e.mods[0], d.ID, "unfair")
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.DecideAppeal(ctx, e.mods[0], a.ID, false, "I agree with myself")
		plazatest.WantCode(t, err, plaza.EForbidden)
		if _, err := e.svc.DecideAppeal(ctx, e.mods[1], a.ID, true, "upheld"); err != nil {
			t.Fatal(err)
		}
	})
}

// TestSuspensionsDoNotShortenOrVanish: a shorter suspension does not cut
// a longer one short, and reversing a later suspension falls back to the
// earlier one still in force.
func TestSuspensionsDoNotShortenOrVanish(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, 2)
		ctx := context.Background()
		target := e.user(1)
		d1, err := e.svc.Act(ctx, e.mods[0], DecisionInput{TargetType: TargetAccount, TargetID: target, Action: Suspend, DurationDays: 3, RuleID: 2, Reason: "abuse"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.Act(ctx, e.mods[1], DecisionInput{TargetType: TargetAccount, TargetID: target, Action: Suspend, DurationDays: 1, RuleID: 2, Reason: "abuse"})
		plazatest.WantCode(t, err, plaza.EConflict)
		d2, err := e.svc.Act(ctx, e.mods[1], DecisionInput{TargetType: TargetAccount, TargetID: target, Action: Suspend, DurationDays: 10, RuleID: 2, Reason: "more abuse"})
		if err != nil {
			t.Fatal(err)
		}
		a, err := e.svc.Appeal(ctx, e.actor(1), d2.ID, "too long")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.DecideAppeal(ctx, e.mods[0], a.ID, false, "ten days is too long"); err != nil {
			t.Fatal(err)
		}
		pe := plazatest.WantCode(t, e.accts.CheckStanding(ctx, target), plaza.EAccountSuspended)
		if pe.Details["decision_id"] != d1.ID.String() {
			t.Fatalf("after reversing the longer suspension, details = %v; want the earlier decision %s", pe.Details, d1.ID)
		}
		acct, _ := e.accts.Get(ctx, target)
		if !acct.StatusUntil.Equal(*d1.EndsAt) {
			t.Fatalf("suspended until %v, want %v", acct.StatusUntil, d1.EndsAt)
		}
	})
}

// TestReversalRacingANewDecision: an appeal reversing a label while a
// removal lands leaves the removal in force whichever commits first.
func TestReversalRacingANewDecision(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, 3)
		ctx := context.Background()
		for i := range 5 {
			p, err := e.blog.Create(ctx, e.user(0), microblog.PostInput{Text: fmt.Sprintf("claim %d", i)})
			if err != nil {
				t.Fatal(err)
			}
			d1, err := e.svc.Act(ctx, e.mods[0], DecisionInput{TargetType: TargetPost, TargetID: p.ID, Action: Label, Label: "Disputed", RuleID: 4, Reason: "disputed"})
			if err != nil {
				t.Fatal(err)
			}
			a, err := e.svc.Appeal(ctx, e.actor(0), d1.ID, "it is true")
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			var d2 Decision
			var errs [2]error
			wg.Add(2)
			go func() { defer wg.Done(); _, errs[0] = e.svc.DecideAppeal(ctx, e.mods[1], a.ID, false, "fine") }()
			go func() {
				defer wg.Done()
				d2, errs[1] = e.svc.Act(ctx, e.admin, DecisionInput{TargetType: TargetPost, TargetID: p.ID, Action: Remove, RuleID: 4, Reason: "harmful"})
			}()
			wg.Wait()
			if errs[0] != nil || errs[1] != nil {
				t.Fatalf("errors: %v", errs)
			}
			v, _ := e.blog.ModerationView(ctx, p.ID)
			if v.Moderation.DecisionID != d2.ID || v.Moderation.Action != Remove {
				t.Fatalf("round %d: the post carries %+v, want the removal %d in force", i, v.Moderation, d2.ID)
			}
		}
	})
}

// TestDirectAndDecidedSuspensions: the direct endpoints do not change a
// decision's hold, and a decision takes the place of a direct suspension.
func TestDirectAndDecidedSuspensions(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, 2)
		ctx := context.Background()
		target := e.user(1)
		if _, err := e.accts.Suspend(ctx, e.mods[0], target, "direct", time.Time{}); err != nil {
			t.Fatal(err)
		}
		d, err := e.svc.Act(ctx, e.mods[1], DecisionInput{TargetType: TargetAccount, TargetID: target, Action: Suspend, DurationDays: 5, RuleID: 2, Reason: "abuse"})
		if err != nil {
			t.Fatalf("a decision over a direct suspension: %v", err)
		}
		_, err = e.accts.Suspend(ctx, e.mods[0], target, "shorter", e.clock.Now().Add(time.Hour))
		plazatest.WantCode(t, err, plaza.EConflict)
		_, err = e.accts.Unsuspend(ctx, e.mods[0], target, "lift")
		plazatest.WantCode(t, err, plaza.EConflict)
		pe := plazatest.WantCode(t, e.accts.CheckStanding(ctx, target), plaza.EAccountSuspended)
		if pe.Details["decision_id"] != d.ID.String() {
			t.Fatalf("details = %v", pe.Details)
		}
		_, err = e.svc.PutRule(ctx, e.admin, Rule{ID: 9, Title: "\u3164", Description: "x"})
		plazatest.WantInvalidField(t, err, "title")
		_, _, err = e.svc.ParsePeriod("1999-12-31", "2000-01-02")
		plazatest.WantInvalidField(t, err, "from")
		_, _, err = e.svc.ParsePeriod("", e.clock.Now().AddDate(0, 0, 2).Format(time.DateOnly))
		plazatest.WantInvalidField(t, err, "to")
	})
}
