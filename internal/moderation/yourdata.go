package moderation

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/plaza-im/plaza"
)

// The readers below give one account's moderation data to its export
// (package export), a page at a time in ascending ID order after a
// cursor. They show what the person sees through GET /me/reports and
// GET /me/decisions, plus the text of their own appeals, and nothing
// else: not the evidence a report carries (it may hold other people's
// messages), not who moderated.

// YourReports returns up to limit of reporter's reports, after the report
// ID after, in ID order, with their outcomes and without evidence.
func (s *Service) YourReports(ctx context.Context, reporter, after plaza.ID, limit int) ([]Report, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT r.id, r.target_type, r.target_id, r.rule_id, r.rule_title, r.comment, r.created_at,
			i.status, d.action, d.created_at, d.status
		FROM reports r JOIN report_items i ON i.id = r.item_id LEFT JOIN decisions d ON d.id = i.decision_id
		WHERE r.reporter_id = $1 AND r.id > $2 ORDER BY r.id LIMIT $3`, reporter, after, limit)
	if err != nil {
		return nil, fmt.Errorf("your reports: %w", err)
	}
	defer rows.Close()
	var out []Report
	for rows.Next() {
		var r Report
		var created int64
		var action, dstatus sql.NullString
		var decided sql.NullInt64
		if err := rows.Scan(&r.ID, &r.TargetType, &r.TargetID, &r.RuleID, &r.RuleTitle, &r.Comment, &created, &r.Status, &action, &decided, &dstatus); err != nil {
			return nil, fmt.Errorf("your reports: %w", err)
		}
		r.CreatedAt = fromMicros(created)
		if action.Valid {
			r.Outcome = &Outcome{Action: action.String, DecidedAt: fromMicros(decided.Int64), Reversed: dstatus.String == DecisionReversed}
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// YourDecision is a statement of reasons with the text of its appeal, if
// its addressee appealed.
type YourDecision struct {
	Decision
	AppealText string `json:"appeal_text,omitempty"`
}

// YourDecisions returns up to limit of the decisions that restrict acct
// or its content (their statements of reasons, as GET /me/decisions
// shows them), after the decision ID after, in ID order, each with the
// text of acct's appeal.
func (s *Service) YourDecisions(ctx context.Context, acct, after plaza.ID, limit int) ([]YourDecision, error) {
	ds, err := queryDecisions(ctx, s.db.Read(), `d.account_id = $1 AND d.action <> 'dismiss' AND d.id > $2 ORDER BY d.id LIMIT $3`, acct, after, limit)
	if err != nil {
		return nil, fmt.Errorf("your decisions: %w", err)
	}
	out := make([]YourDecision, len(ds))
	for i, d := range ds {
		out[i].Decision = d
		if d.Appeal == nil {
			continue
		}
		err := s.db.Read().QueryRowContext(ctx, `SELECT text FROM appeals WHERE id = $1 AND account_id = $2`, d.Appeal.ID, acct).Scan(&out[i].AppealText)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("your decisions: %w", err)
		}
	}
	return out, nil
}
