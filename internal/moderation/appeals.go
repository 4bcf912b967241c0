package moderation

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/audit"
	"github.com/plaza-im/plaza/internal/events"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/textcheck"
)

// Appeal outcomes.
const (
	Upheld   = "upheld"
	Reversed = "reversed"
)

// MaxAppealText bounds an appeal's text, in characters.
const MaxAppealText = 5000

// Appeal is an appeal in the moderators' queue, with the decision it
// contests.
type Appeal struct {
	ID        plaza.ID   `json:"id"`
	AccountID plaza.ID   `json:"account_id"`
	Text      string     `json:"text"`
	Status    string     `json:"status"`
	Outcome   string     `json:"outcome"`
	Reason    string     `json:"reason"`
	CreatedAt time.Time  `json:"created_at"`
	DecidedAt *time.Time `json:"decided_at,omitempty"`
	DecidedBy plaza.ID   `json:"decided_by,omitempty"`
	Decision  Decision   `json:"decision"`
}

// File an appeal: one per decision, by the person it is addressed to,
// until the decision's appeal deadline. A suspended or closed account may
// appeal.
func (s *Service) Appeal(ctx context.Context, actor audit.Actor, decisionID plaza.ID, text string) (Appeal, error) {
	text = strings.TrimSpace(text)
	if rule := textcheck.Multiline(text); rule != "" {
		return Appeal{}, plaza.Invalid("text", rule)
	}
	if n := utf8.RuneCountInString(text); n < 1 || n > MaxAppealText {
		return Appeal{}, plaza.Invalid("text", fmt.Sprintf("is required: 1 to %d characters saying why the decision is wrong", MaxAppealText))
	}
	d, err := s.MyDecision(ctx, actor.ID, decisionID)
	if err != nil {
		return Appeal{}, err
	}
	now := s.now().Truncate(time.Microsecond)
	switch {
	case d.Appeal != nil:
		return Appeal{}, plaza.Errorf(plaza.EConflict, "this decision has already been appealed; each decision can be appealed once")
	case d.Status == DecisionReversed:
		return Appeal{}, plaza.Errorf(plaza.EConflict, "this decision has already been reversed")
	case now.After(d.AppealDeadline):
		return Appeal{}, plaza.Errorf(plaza.EForbidden, "the time to appeal this decision ended on %s", d.AppealDeadline.Format(time.RFC3339)).
			WithDetails(map[string]any{"reason": "appeal_window_closed", "appeal_deadline": d.AppealDeadline.Format(time.RFC3339)})
	}
	a := Appeal{ID: plaza.NewID(), AccountID: actor.ID, Text: text, Status: StatusOpen, CreatedAt: now}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO appeals (id, decision_id, account_id, text, status, outcome, reason, created_at)
			VALUES ($1, $2, $3, $4, 'open', '', '', $5)`, a.ID, d.ID, actor.ID, text, micros(now)); err != nil {
			if plaza.ErrorCode(sqldb.MapError(err, "appeal")) == plaza.EConflict {
				return plaza.Errorf(plaza.EConflict, "this decision has already been appealed; each decision can be appealed once")
			}
			return err
		}
		_, err := s.audit.Append(ctx, tx, audit.Record{Actor: actor, Action: "appeal.create", TargetType: "decision", TargetID: d.ID.String(),
			Details: map[string]any{"appeal_id": a.ID.String(), "decision_id": d.ID.String(), "action": d.Action, "rule_id": d.Rule.ID}})
		return err
	})
	if err != nil {
		return Appeal{}, fmt.Errorf("appeal: %w", err)
	}
	d.Appeal = &AppealState{ID: a.ID, Status: a.Status, CreatedAt: now}
	a.Decision = d
	return a, nil
}

const appealColumns = `p.id, p.account_id, p.text, p.status, p.outcome, p.reason, p.created_at, p.decided_at, p.decided_by, p.decision_id`

func scanAppeal(row interface{ Scan(...any) error }) (Appeal, plaza.ID, error) {
	var a Appeal
	var decided, by *int64
	var created int64
	var decision plaza.ID
	if err := row.Scan(&a.ID, &a.AccountID, &a.Text, &a.Status, &a.Outcome, &a.Reason, &created, &decided, &by, &decision); err != nil {
		return Appeal{}, 0, err
	}
	a.CreatedAt = fromMicros(created)
	if decided != nil {
		t := fromMicros(*decided)
		a.DecidedAt = &t
	}
	if by != nil {
		a.DecidedBy = plaza.ID(*by)
	}
	return a, decision, nil
}

// Appeals returns appeals with the given status (open by default),
// oldest first, each with the decision it contests.
func (s *Service) Appeals(ctx context.Context, status string, after plaza.ID, limit int) ([]Appeal, error) {
	switch status {
	case "":
		status = StatusOpen
	case StatusOpen, StatusDecided:
	default:
		return nil, plaza.Invalid("status", "must be open or decided")
	}
	q := s.db.Read()
	rows, err := q.QueryContext(ctx, `SELECT `+appealColumns+` FROM appeals p WHERE p.status = $1 AND p.id > $2 ORDER BY p.id LIMIT $3`, status, after, limit)
	if err != nil {
		return nil, fmt.Errorf("appeals: %w", err)
	}
	var out []Appeal
	var decisions []plaza.ID
	for rows.Next() {
		a, d, err := scanAppeal(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("appeals: %w", err)
		}
		out, decisions = append(out, a), append(decisions, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("appeals: %w", err)
	}
	for i := range out {
		if out[i].Decision, err = getDecision(ctx, q, decisions[i]); err != nil {
			return nil, err
		}
	}
	if out == nil {
		out = []Appeal{}
	}
	return out, nil
}

// DecideAppeal upholds or reverses the decision an appeal contests. The
// moderator who took the decision may not decide its appeal. Reversing
// undoes the action completely: the content is back everywhere and the
// account is reinstated, unless a later decision governs them now.
func (s *Service) DecideAppeal(ctx context.Context, actor audit.Actor, appealID plaza.ID, uphold bool, reason string) (Appeal, error) {
	reason = strings.TrimSpace(reason)
	if rule := textcheck.Multiline(reason); rule != "" {
		return Appeal{}, plaza.Invalid("reason", rule)
	}
	if n := utf8.RuneCountInString(reason); n < 1 || n > MaxReason {
		return Appeal{}, plaza.Invalid("reason", fmt.Sprintf("is required: 1 to %d characters explaining the outcome to the person", MaxReason))
	}
	q := s.db.Read()
	a, decisionID, err := scanAppeal(q.QueryRowContext(ctx, `SELECT `+appealColumns+` FROM appeals p WHERE p.id = $1`, appealID))
	if err != nil {
		return Appeal{}, sqldb.MapError(err, "appeal")
	}
	d, err := getDecision(ctx, q, decisionID)
	if err != nil {
		return Appeal{}, err
	}
	if d.ModeratorID == actor.ID {
		return Appeal{}, plaza.Errorf(plaza.EForbidden, "you took this decision; another moderator must decide its appeal").
			WithDetails(map[string]any{"reason": "same_moderator"})
	}
	if a.Status != StatusOpen {
		return Appeal{}, errAppealDecided
	}
	now := s.now().Truncate(time.Microsecond)
	outcome := Upheld
	if !uphold {
		outcome = Reversed
	}
	t, err := s.target(d.TargetType)
	if err != nil {
		return Appeal{}, err
	}
	if err := s.checkDecider(ctx, actor, d.TargetType, t, d.TargetID); err != nil {
		return Appeal{}, err
	}
	var reinstated bool
	var pending []events.Pending
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE appeals SET status = 'decided', outcome = $1, reason = $2, decided_by = $3, decided_at = $4
			WHERE id = $5 AND status = 'open'`, outcome, reason, actor.ID, micros(now), a.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errAppealDecided
		}
		if !uphold {
			if _, err := tx.ExecContext(ctx, `UPDATE decisions SET status = 'reversed' WHERE id = $1`, d.ID); err != nil {
				return err
			}
			if d.Action == Label || d.Action == Limit || d.Action == Remove {
				// Only if this decision is still the one in force (a later
				// one stays; not_found: nothing to do), the content falls
				// back to the strictest other decision in force, if any.
				next := plaza.Moderation{Replaces: d.ID}
				if in, err := strictestInForce(ctx, tx, d.TargetType, d.TargetID, d.ID); err != nil {
					return err
				} else if in != nil {
					next.Action, next.Label, next.DecisionID = in.Action, in.Label, in.ID
				}
				cleared, err := t.Apply(ctx, tx, d.TargetID, next)
				if err != nil && plaza.ErrorCode(err) != plaza.ENotFound {
					return err
				}
				pending = append(pending, cleared...)
			}
			if d.Action == Suspend || d.Action == Close {
				next, err := s.nextRestriction(ctx, tx, d.AccountID, d.ID, now)
				if err != nil {
					return err
				}
				if reinstated, err = s.accounts.UndoDecision(ctx, tx, d.AccountID, d.ID, next); err != nil {
					return err
				}
			}
		}
		if _, err := s.audit.Append(ctx, tx, audit.Record{Actor: actor, Action: "appeal.decide", TargetType: "decision", TargetID: d.ID.String(),
			Reason: reason, Details: map[string]any{"appeal_id": a.ID.String(), "decision_id": d.ID.String(), "outcome": outcome, "action": d.Action}}); err != nil {
			return err
		}
		// Both sides learn the outcome: the person (the statement now
		// carries it) and, when a report led to it, the reporters.
		if d, err = getDecision(ctx, tx, d.ID); err != nil {
			return err
		}
		var reporters []Report
		if d.ItemID != 0 {
			if reporters, err = itemReporters(ctx, tx, d.ItemID); err != nil {
				return err
			}
		}
		told, err := s.notify(ctx, tx, d, reporters)
		pending = append(pending, told...)
		return err
	})
	if err != nil {
		return Appeal{}, fmt.Errorf("decide appeal: %w", err)
	}
	s.events.Publish(ctx, pending)
	if reinstated {
		s.accounts.StandingChanged(ctx, d.AccountID)
	}
	a.Status, a.Outcome, a.Reason, a.DecidedAt, a.DecidedBy, a.Decision = StatusDecided, outcome, reason, &now, actor.ID, d
	return a, nil
}

// nextRestriction returns the decision that holds the account once
// decision is reversed: another closure, or the suspension in force that
// ends last; nil when none does.
func (s *Service) nextRestriction(ctx context.Context, tx *sql.Tx, acct, decision plaza.ID, now time.Time) (*account.Restriction, error) {
	ds, err := queryDecisions(ctx, tx, `d.account_id = $1 AND d.id <> $2 AND d.status = 'in_force' AND d.action IN ('suspend', 'close')
		AND (d.ends_at IS NULL OR d.ends_at > $3)`, acct, decision, micros(now))
	if err != nil {
		return nil, err
	}
	var best *Decision
	for i, d := range ds {
		switch {
		case best == nil,
			d.Action == Close && best.Action != Close,
			d.Action == best.Action && d.EndsAt != nil && best.EndsAt != nil && d.EndsAt.After(*best.EndsAt):
			best = &ds[i]
		}
	}
	if best == nil {
		return nil, nil
	}
	r := &account.Restriction{Status: account.Suspended, Reason: statusReason(*best), Decision: best.ID}
	if best.Action == Close {
		r.Status = account.Closed
	} else if best.EndsAt != nil {
		r.Until = *best.EndsAt
	}
	return r, nil
}

var errAppealDecided = plaza.Errorf(plaza.EConflict, "this appeal has already been decided")

// maxID is the cursor that starts a newest-first list.
const maxID = plaza.ID(math.MaxInt64)
