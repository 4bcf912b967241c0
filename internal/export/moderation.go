package export

import (
	"context"
	"fmt"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/moderation"
)

// moderation writes moderation.json (the reports the subject made, with
// their outcomes, and the decisions about them with their appeals) and
// moderation.html.
func (x *run) moderation(ctx context.Context) (string, error) {
	mod := x.s.d.Moderation
	eachReport := func(fn func(moderation.Report) error) error {
		return pages(ctx, x.p, func(after plaza.ID, limit int) ([]moderation.Report, error) {
			return mod.YourReports(ctx, x.subject, after, limit)
		}, func(r moderation.Report) plaza.ID { return r.ID }, fn)
	}
	eachDecision := func(fn func(moderation.YourDecision) error) error {
		return pages(ctx, x.p, func(after plaza.ID, limit int) ([]moderation.YourDecision, error) {
			return mod.YourDecisions(ctx, x.subject, after, limit)
		}, func(d moderation.YourDecision) plaza.ID { return d.ID }, fn)
	}
	var reports, decisions int
	f, err := x.w.Create("moderation.json")
	if err != nil {
		return "", err
	}
	o := newJSONObject(f)
	l := o.List("reports")
	if err := eachReport(func(r moderation.Report) error { reports++; return l.Add(r) }); err != nil {
		return "", err
	}
	l.Close()
	l = o.List("decisions")
	if err := eachDecision(func(d moderation.YourDecision) error { decisions++; return l.Add(d) }); err != nil {
		return "", err
	}
	l.Close()
	if err := o.Close(); err != nil {
		return "", err
	}

	pg, err := openPage(x.w, "moderation.html", "Reports and decisions", "", x.exported)
	if err != nil {
		return "", err
	}
	pg.heading("reports", "Reports you made")
	pg.table("Reported", "What", "Rule", "Your comment", "Status", "Outcome")
	if err := eachReport(func(r moderation.Report) error {
		outcome := ""
		if r.Outcome != nil {
			outcome = r.Outcome.Action
			if r.Outcome.Reversed {
				outcome += " (reversed on appeal)"
			}
		}
		return pg.row(r.CreatedAt, r.TargetType+" "+r.TargetID.String(), r.RuleTitle, r.Comment, r.Status, outcome)
	}); err != nil {
		return "", err
	}
	pg.endTable()
	pg.heading("decisions", "Decisions about you or your content")
	pg.table("Decided", "Action", "Rule", "Reason", "Concerning", "Status", "Your appeal")
	if err := eachDecision(func(d moderation.YourDecision) error {
		appeal := d.AppealText
		if d.Appeal != nil {
			appeal = joinNonEmpty(appeal, d.Appeal.Status+" "+d.Appeal.Outcome+" "+d.Appeal.Reason)
		}
		concerning := joinNonEmpty(d.Content.Type+" "+d.Content.ID.String(), d.Content.Text)
		return pg.row(d.CreatedAt, d.Action, d.Rule.Title, d.Reason, concerning, d.Status, appeal)
	}); err != nil {
		return "", err
	}
	pg.endTable()
	return fmt.Sprintf("reports made: %d; decisions: %d", reports, decisions), pg.close()
}
