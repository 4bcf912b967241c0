package moderation

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// TestDeleteAccountData: erasing a reporter empties their report comments
// and erasing an appellant their appeal texts, while the reports,
// decisions and appeals stay, so that the transparency report counts the
// same.
func TestDeleteAccountData(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db, 3)
		e.accts.OnDelete(DeleteAccountData)
		r := e.report(t, 0, TargetAccount, e.user(2), 2)
		d := e.decide(t, 0, r, DecisionInput{Action: Suspend, RuleID: 2, Reason: "Threats.", DurationDays: 7})
		if _, err := e.svc.Appeal(ctx, e.actor(2), d.ID, "I was quoting a film."); err != nil {
			t.Fatal(err)
		}
		today := e.clock.Now().Format(time.DateOnly)
		from, to, _ := e.svc.ParsePeriod(today, today)
		before, err := e.svc.Transparency(ctx, from, to)
		if err != nil {
			t.Fatal(err)
		}

		for _, i := range []int{0, 2} {
			if err := e.accts.Erase(ctx, e.user(i)); err != nil {
				t.Fatal(err)
			}
		}
		var comment, text string
		if err := db.Read().QueryRowContext(ctx, `SELECT comment FROM reports WHERE id = $1`, r.ID).Scan(&comment); err != nil {
			t.Fatal(err)
		}
		if err := db.Read().QueryRowContext(ctx, `SELECT text FROM appeals WHERE decision_id = $1`, d.ID).Scan(&text); err != nil {
			t.Fatal(err)
		}
		if comment != "" || text != "" {
			t.Errorf("got comment %q and appeal text %q, want both empty", comment, text)
		}
		if got, err := e.svc.GetDecision(ctx, d.ID); err != nil || got.Reason != "Threats." {
			t.Errorf("decision after the erasure: %+v, %v; want it kept", got, err)
		}
		after, err := e.svc.Transparency(ctx, from, to)
		if err != nil {
			t.Fatal(err)
		}
		// GeneratedAt is the wall clock at which each report was made.
		if diff := cmp.Diff(before, after, cmpopts.IgnoreFields(Transparency{}, "GeneratedAt")); diff != "" {
			t.Errorf("the transparency report changed (-before +after):\n%s", diff)
		}
	})
}
