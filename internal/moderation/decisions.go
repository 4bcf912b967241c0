package moderation

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
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

// DecisionInput is what a moderator decides. TargetType, TargetID and
// AuthorityOrderID are for decisions taken without a report.
type DecisionInput struct {
	Action           string
	RuleID           int64
	Reason           string
	Label            string
	DurationDays     int
	TargetType       string
	TargetID         plaza.ID
	AuthorityOrderID plaza.ID
}

// Limits on a decision's fields.
const (
	MaxReason       = 5000
	MaxLabel        = 200
	MaxDurationDays = 3650
)

// Decision statuses.
const (
	DecisionInForce  = "in_force"
	DecisionReversed = "reversed"
)

// Grounds of a decision (DSA Art. 17(3)(d)–(e)).
const (
	GroundTerms = "terms"
	GroundLaw   = "law"
)

// RuleRef names the rule a decision cites.
type RuleRef struct {
	ID    int64  `json:"id"`
	Title string `json:"title"`
}

// Decision is a moderation decision as its statement of reasons: every
// point of DSA Art. 17(3) is a field.
type Decision struct {
	ID         plaza.ID `json:"id"`
	TargetType string   `json:"target_type"`
	TargetID   plaza.ID `json:"target_id"`
	// Action and its duration (EndsAt) — Art. 17(3)(a).
	Action       string     `json:"action"`
	Label        string     `json:"label,omitempty"`
	DurationDays *int       `json:"duration_days,omitempty"`
	EndsAt       *time.Time `json:"ends_at"`
	// Rule, Ground and LegalBasis — the terms and rule, or the law and
	// provision, relied on (Art. 17(3)(d)–(e)).
	Rule       RuleRef `json:"rule"`
	Ground     string  `json:"ground"`
	LegalBasis string  `json:"legal_basis"`
	// Reason states the facts and circumstances (Art. 17(3)(b)).
	Reason string `json:"reason"`
	// Content is what the decision concerns, as it was.
	Content Snapshot `json:"content"`
	// Source says whether a report, the operator's own initiative or an
	// authority's order led to it (Art. 17(3)(b)).
	Source           string    `json:"source"`
	AuthorityOrderID *plaza.ID `json:"authority_order_id,omitempty"`
	// Automated is always false: people decide, and say so (Art. 17(3)(c)).
	Automated bool      `json:"automated"`
	CreatedAt time.Time `json:"created_at"`
	// AppealDeadline and HowToAppeal are the redress (Art. 17(3)(f)).
	AppealDeadline time.Time    `json:"appeal_deadline"`
	HowToAppeal    string       `json:"how_to_appeal"`
	Status         string       `json:"status"`
	Appeal         *AppealState `json:"appeal"`

	AccountID   plaza.ID `json:"-"`
	ModeratorID plaza.ID `json:"-"`
	ItemID      plaza.ID `json:"-"`
}

// AppealState is a decision's appeal, as the statement shows it.
type AppealState struct {
	ID        plaza.ID   `json:"id"`
	Status    string     `json:"status"`
	Outcome   string     `json:"outcome"`
	Reason    string     `json:"reason"`
	CreatedAt time.Time  `json:"created_at"`
	DecidedAt *time.Time `json:"decided_at,omitempty"`
}

// DecideReport decides the queue item itemID: every report in it gets
// the outcome. When two moderators decide one item at once, one wins and
// the other gets a conflict.
func (s *Service) DecideReport(ctx context.Context, actor audit.Actor, itemID plaza.ID, in DecisionInput) (Decision, error) {
	it, err := loadItem(ctx, s.db.Read(), itemID)
	if err != nil {
		return Decision{}, err
	}
	if it.Status != StatusOpen {
		return Decision{}, errDecided
	}
	in.TargetType, in.TargetID, in.AuthorityOrderID = it.TargetType, it.TargetID, 0
	return s.decide(ctx, actor, &it, in, it.Snapshot)
}

var errDecided = plaza.Errorf(plaza.EConflict, "this report has already been decided")

// Act takes a decision without a report: on the moderators' own
// initiative or, with AuthorityOrderID, on an authority's order.
func (s *Service) Act(ctx context.Context, actor audit.Actor, in DecisionInput) (Decision, error) {
	t, err := s.target(in.TargetType)
	if err != nil {
		return Decision{}, err
	}
	if in.TargetType == TargetMessage {
		// Private messages reach moderators only as a member's report's
		// evidence: nobody looks one up by its ID.
		return Decision{}, plaza.Invalid("target_type", "a message is decided only from a member's report (the report queue), never looked up by its ID")
	}
	if in.TargetID <= 0 {
		return Decision{}, plaza.Invalid("target_id", "must be the ID of what the decision is about")
	}
	if in.Action == Dismiss {
		return Decision{}, plaza.Invalid("action", "dismiss applies only to a report: without one there is nothing to dismiss")
	}
	if err := s.checkInput(ctx, in); err != nil {
		return Decision{}, err
	}
	// On their own initiative moderators act on what they can see as
	// anyone can: private content reaches them only through a report.
	snap, err := t.Visible(ctx, actor.ID, in.TargetID)
	if err != nil {
		return Decision{}, err
	}
	if id, err := openItem(ctx, s.db.Read(), in.TargetType, in.TargetID); err != nil {
		return Decision{}, err
	} else if id != 0 {
		return Decision{}, plaza.Errorf(plaza.EConflict, "this has open reports: decide it from the report queue (item %s)", id).
			WithDetails(map[string]any{"item_id": id.String()})
	}
	return s.decide(ctx, actor, nil, in, snap)
}

func (s *Service) checkInput(ctx context.Context, in DecisionInput) error {
	var p plaza.Problems
	acts := allowed[in.TargetType]
	if !slices.Contains(acts, in.Action) {
		p.Add("action", fmt.Sprintf("must be one of %s for a %s", strings.Join(acts, ", "), in.TargetType))
	}
	if in.RuleID < 1 || in.RuleID > MaxRuleID {
		p.Add("rule_id", "must be the number of a published rule (GET /api/v1/rules)")
	} else if _, err := ruleTitle(ctx, s.db.Read(), in.RuleID); err != nil {
		if plaza.ErrorCode(err) != plaza.EInvalid {
			return err
		}
		p.Add("rule_id", "must be the number of a published rule (GET /api/v1/rules)")
	}
	switch n := utf8.RuneCountInString(strings.TrimSpace(in.Reason)); {
	case textcheck.Multiline(in.Reason) != "":
		p.Add("reason", textcheck.Multiline(in.Reason))
	case n == 0 && in.Action != Dismiss:
		p.Add("reason", "is required: say what was found and why it breaks the rule")
	case n > MaxReason:
		p.Add("reason", fmt.Sprintf("must be at most %d characters", MaxReason))
	}
	if in.Action == Label {
		if rule := textcheck.PlainLine(in.Label); rule != "" {
			p.Add("label", rule)
		} else if rule := textcheck.Visible(in.Label); rule != "" {
			p.Add("label", rule)
		} else if n := utf8.RuneCountInString(strings.TrimSpace(in.Label)); n < 1 || n > MaxLabel {
			p.Add("label", fmt.Sprintf("is required for a label: 1 to %d characters shown with the content", MaxLabel))
		}
	} else if in.Label != "" {
		p.Add("label", "applies only to the label action")
	}
	if in.Action == Suspend {
		if in.DurationDays < 1 || in.DurationDays > MaxDurationDays {
			p.Add("duration_days", fmt.Sprintf("is required for a suspension: 1 to %d days", MaxDurationDays))
		}
	} else if in.DurationDays != 0 {
		p.Add("duration_days", "applies only to the suspend action")
	}
	return p.Err()
}

func (s *Service) decide(ctx context.Context, actor audit.Actor, it *Item, in DecisionInput, snap Snapshot) (Decision, error) {
	if err := s.checkInput(ctx, in); err != nil {
		return Decision{}, err
	}
	t, err := s.target(in.TargetType)
	if err != nil {
		return Decision{}, err
	}
	now := s.now().Truncate(time.Microsecond)
	d := Decision{
		ID: plaza.NewID(), TargetType: in.TargetType, TargetID: in.TargetID, Action: in.Action,
		Label: strings.TrimSpace(in.Label), Reason: strings.TrimSpace(in.Reason), Rule: RuleRef{ID: in.RuleID},
		Ground: GroundTerms, Content: snap, Source: SourceOwnInitiative, CreatedAt: now,
		AppealDeadline: now.Add(s.cfg.AppealWindow), Status: DecisionInForce,
		AccountID: snap.OwnerID, ModeratorID: actor.ID,
	}
	if it != nil {
		d.Source, d.ItemID = SourceReport, it.ID
	}
	if in.Action == Suspend {
		days := in.DurationDays
		d.DurationDays = &days
		ends := now.Add(time.Duration(days) * 24 * time.Hour)
		d.EndsAt = &ends
	}
	if err := s.checkDecider(ctx, actor, in.TargetType, t, in.TargetID); err != nil {
		return Decision{}, err
	}
	if in.Action == Close {
		// Closing is for good: admins only, as with a direct closure.
		a, err := s.accounts.Get(ctx, actor.ID)
		if err != nil {
			return Decision{}, err
		}
		if !a.HasRole(account.Admin) {
			return Decision{}, plaza.Errorf(plaza.EForbidden, "closing an account needs the admin role; a moderator may suspend it").
				WithDetails(map[string]any{"reason": "admin_only"})
		}
	}
	if (in.Action == Suspend || in.Action == Close) && d.AccountID == 0 {
		return Decision{}, plaza.Invalid("action", "needs an account behind the target")
	}
	d.HowToAppeal = howToAppeal(d)
	var pending []events.Pending
	var reporters []Report
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		if it != nil {
			res, err := tx.ExecContext(ctx, `UPDATE report_items SET status = 'decided', decided_at = $1, decision_id = $2 WHERE id = $3 AND status = 'open'`,
				micros(now), d.ID, it.ID)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return errDecided
			}
		}
		title, err := ruleTitle(ctx, tx, in.RuleID)
		if err != nil {
			return err
		}
		d.Rule.Title = title
		if in.AuthorityOrderID != 0 {
			o, err := getOrder(ctx, tx, in.AuthorityOrderID)
			if err != nil {
				if plaza.ErrorCode(err) == plaza.ENotFound {
					return plaza.Invalid("authority_order_id", "must be a recorded authority order (POST /api/v1/admin/authority-orders)")
				}
				return err
			}
			if o.Outcome == Rejected {
				return plaza.Invalid("authority_order_id", "names an order that was rejected: nothing may be done on it")
			}
			if o.TargetID == nil {
				return plaza.Invalid("authority_order_id", "names an order without a target: record the order with what it is about")
			}
			if o.TargetType != d.TargetType || *o.TargetID != d.TargetID {
				return plaza.Invalid("authority_order_id", "names an order about another target")
			}
			id := o.ID
			d.Source, d.AuthorityOrderID, d.Ground, d.LegalBasis = SourceAuthorityOrder, &id, GroundLaw, o.LegalBasis
		}
		if severity[d.Action] > 0 {
			// A milder decision must not quietly replace a stricter one
			// in force: reverse that one first (its appeal).
			in, err := strictestInForce(ctx, tx, d.TargetType, d.TargetID, 0)
			if err != nil {
				return err
			}
			if in != nil && severity[in.Action] > severity[d.Action] {
				return plaza.Errorf(plaza.EConflict, "a stricter decision (%s) is in force on this content", in.Action).
					WithDetails(map[string]any{"decision_id": in.ID.String()})
			}
		}
		if err := insertDecision(ctx, tx, d); err != nil {
			return err
		}
		applied, err := s.apply(ctx, tx, actor, t, d)
		if err != nil {
			return err
		}
		pending = append(pending, applied...)
		details := map[string]any{"decision_id": d.ID.String(), "action": d.Action, "rule_id": d.Rule.ID, "rule_title": d.Rule.Title, "source": d.Source}
		if it != nil {
			details["item_id"] = it.ID.String()
			// Hours from the first report to the decision, for the
			// transparency report's median.
			details["hours_to_decision"] = math.Round(now.Sub(it.CreatedAt).Hours()*1000) / 1000
		}
		if d.AuthorityOrderID != nil {
			details["authority_order_id"] = d.AuthorityOrderID.String()
		}
		if _, err := s.audit.Append(ctx, tx, audit.Record{Actor: actor, Action: "moderation.decide", TargetType: d.TargetType,
			TargetID: d.TargetID.String(), Reason: d.Reason, Details: details}); err != nil {
			return err
		}
		if it != nil {
			if reporters, err = itemReporters(ctx, tx, it.ID); err != nil {
				return err
			}
		}
		told, err := s.notify(ctx, tx, d, reporters)
		pending = append(pending, told...)
		return err
	})
	if err != nil {
		return Decision{}, fmt.Errorf("decide: %w", err)
	}
	s.events.Publish(ctx, pending)
	if d.Action == Suspend || d.Action == Close {
		s.accounts.StandingChanged(ctx, d.AccountID)
	}
	return d, nil
}

// checkDecider refuses a moderator deciding about a target they answer
// for (their own account or content, a channel they own or edit), or a
// report they filed.
func (s *Service) checkDecider(ctx context.Context, actor audit.Actor, typ string, t Target, id plaza.ID) error {
	who, err := t.Responsible(ctx, id)
	if err != nil && plaza.ErrorCode(err) != plaza.ENotFound {
		return err
	}
	if slices.Contains(who, actor.ID) {
		return account.Refuse(account.ReasonSelf, "you cannot decide about your own account or content, or a channel you own or edit; another moderator must")
	}
	var n int
	if err := s.db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM reports WHERE target_type = $1 AND target_id = $2 AND reporter_id = $3`,
		typ, id, actor.ID).Scan(&n); err != nil {
		return fmt.Errorf("check decider: %w", err)
	}
	if n > 0 {
		return account.Refuse(account.ReasonSelf, "you reported this; another moderator must decide it")
	}
	return nil
}

// severity orders the content actions: a decision never gives way to a
// milder one.
var severity = map[string]int{Label: 1, Limit: 2, Remove: 3}

// strictestInForce returns the strictest content decision in force on a
// target (the latest among equals), other than except; nil when none.
func strictestInForce(ctx context.Context, q sqldb.Queryer, typ string, id, except plaza.ID) (*Decision, error) {
	ds, err := queryDecisions(ctx, q, `d.target_type = $1 AND d.target_id = $2 AND d.id <> $3 AND d.status = 'in_force'
		AND d.action IN ('label', 'limit', 'remove')`, typ, id, except)
	var best *Decision
	for i, d := range ds {
		if best == nil || severity[d.Action] > severity[best.Action] || severity[d.Action] == severity[best.Action] && d.ID > best.ID {
			best = &ds[i]
		}
	}
	return best, err
}

// openItem returns the open queue item about a target, or 0.
func openItem(ctx context.Context, q sqldb.Queryer, typ string, id plaza.ID) (plaza.ID, error) {
	var item plaza.ID
	err := q.QueryRowContext(ctx, `SELECT id FROM report_items WHERE target_type = $1 AND target_id = $2 AND status = 'open'`, typ, id).Scan(&item)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return item, err
}

// apply carries out the decision's action inside its transaction. A
// target deleted since it was reported is not an error: the decision is
// still recorded.
func (s *Service) apply(ctx context.Context, tx *sql.Tx, actor audit.Actor, t Target, d Decision) ([]events.Pending, error) {
	var err error
	var pending []events.Pending
	switch d.Action {
	case Dismiss:
		return nil, nil
	case Label, Limit, Remove:
		pending, err = t.Apply(ctx, tx, d.TargetID, plaza.Moderation{Action: d.Action, Label: d.Label, DecisionID: d.ID})
	case Suspend:
		err = s.accounts.ApplyDecision(ctx, tx, actor, d.AccountID, account.Suspended, statusReason(d), *d.EndsAt, d.ID)
	case Close:
		err = s.accounts.ApplyDecision(ctx, tx, actor, d.AccountID, account.Closed, statusReason(d), time.Time{}, d.ID)
	}
	if plaza.ErrorCode(err) == plaza.ENotFound {
		return nil, nil
	}
	return pending, err
}

// statusReason is what a suspended or closed account is told with every
// refusal: the rule, and where the full statement is.
func statusReason(d Decision) string {
	return fmt.Sprintf("rule %d (%s): %s", d.Rule.ID, d.Rule.Title, d.Reason)
}

func howToAppeal(d Decision) string {
	return fmt.Sprintf("You may appeal until %s with POST /api/v1/me/decisions/%s/appeal {\"text\": \"...\"} or the Appeal button in the app. A moderator other than the one who decided will review it. You may also use an out-of-court dispute settlement body or the courts.",
		d.AppealDeadline.Format(time.RFC3339), d.ID)
}

func insertDecision(ctx context.Context, tx *sql.Tx, d Decision) error {
	content, err := json.Marshal(d.Content)
	if err != nil {
		return err
	}
	var item, acct, days, ends, order any
	if d.ItemID != 0 {
		item = d.ItemID
	}
	if d.AccountID != 0 {
		acct = d.AccountID
	}
	if d.DurationDays != nil {
		days = *d.DurationDays
	}
	if d.EndsAt != nil {
		ends = micros(*d.EndsAt)
	}
	if d.AuthorityOrderID != nil {
		order = *d.AuthorityOrderID
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO decisions (id, item_id, target_type, target_id, account_id, action, rule_id, rule_title, ground, legal_basis,
			reason, label, duration_days, source, authority_order_id, content, moderator_id, status, created_at, ends_at, appeal_deadline)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $21, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)`,
		d.ID, item, d.TargetType, d.TargetID, acct, d.Action, d.Rule.ID, d.Ground, d.LegalBasis,
		d.Reason, d.Label, days, d.Source, order, string(content), d.ModeratorID, d.Status, micros(d.CreatedAt), ends, micros(d.AppealDeadline), d.Rule.Title)
	if err != nil {
		return fmt.Errorf("insert decision: %w", err)
	}
	return nil
}

const decisionColumns = `d.id, d.item_id, d.target_type, d.target_id, d.account_id, d.action, d.rule_id, d.rule_title, d.ground, d.legal_basis,
	d.reason, d.label, d.duration_days, d.source, d.authority_order_id, d.content, d.moderator_id, d.status, d.created_at, d.ends_at, d.appeal_deadline,
	a.id, a.status, a.outcome, a.reason, a.created_at, a.decided_at`

const decisionFrom = ` FROM decisions d LEFT JOIN appeals a ON a.decision_id = d.id`

func scanDecision(row interface{ Scan(...any) error }) (Decision, error) {
	var d Decision
	var item, acct, days, order, ends, appealID, appealCreated, appealDecided *int64
	var appealStatus, appealOutcome, appealReason *string
	var content string
	var created, deadline int64
	if err := row.Scan(&d.ID, &item, &d.TargetType, &d.TargetID, &acct, &d.Action, &d.Rule.ID, &d.Rule.Title, &d.Ground, &d.LegalBasis,
		&d.Reason, &d.Label, &days, &d.Source, &order, &content, &d.ModeratorID, &d.Status, &created, &ends, &deadline,
		&appealID, &appealStatus, &appealOutcome, &appealReason, &appealCreated, &appealDecided); err != nil {
		return Decision{}, err
	}
	if item != nil {
		d.ItemID = plaza.ID(*item)
	}
	if acct != nil {
		d.AccountID = plaza.ID(*acct)
	}
	if days != nil {
		n := int(*days)
		d.DurationDays = &n
	}
	if order != nil {
		id := plaza.ID(*order)
		d.AuthorityOrderID = &id
	}
	if ends != nil {
		t := fromMicros(*ends)
		d.EndsAt = &t
	}
	d.CreatedAt, d.AppealDeadline = fromMicros(created), fromMicros(deadline)
	if err := json.Unmarshal([]byte(content), &d.Content); err != nil {
		return Decision{}, fmt.Errorf("decision %d content: %w", d.ID, err)
	}
	if appealID != nil {
		a := &AppealState{ID: plaza.ID(*appealID), Status: *appealStatus, Outcome: *appealOutcome, Reason: *appealReason, CreatedAt: fromMicros(*appealCreated)}
		if appealDecided != nil {
			t := fromMicros(*appealDecided)
			a.DecidedAt = &t
		}
		d.Appeal = a
	}
	d.HowToAppeal = howToAppeal(d)
	return d, nil
}

// queryDecisions returns the decisions that where (a condition on
// decisions d, with args) selects.
func queryDecisions(ctx context.Context, q sqldb.Queryer, where string, args ...any) ([]Decision, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+decisionColumns+decisionFrom+` WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("decisions: %w", err)
	}
	defer rows.Close()
	out := []Decision{}
	for rows.Next() {
		d, err := scanDecision(rows)
		if err != nil {
			return nil, fmt.Errorf("decisions: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

func getDecision(ctx context.Context, q sqldb.Queryer, id plaza.ID) (Decision, error) {
	d, err := scanDecision(q.QueryRowContext(ctx, `SELECT `+decisionColumns+decisionFrom+` WHERE d.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Decision{}, plaza.Errorf(plaza.ENotFound, "decision not found")
	}
	return d, err
}

// GetDecision returns any decision, for moderators.
func (s *Service) GetDecision(ctx context.Context, id plaza.ID) (Decision, error) {
	return getDecision(ctx, s.db.Read(), id)
}

// MyDecisions returns the decisions that restrict account or its content,
// newest first: their statements of reasons. A dismissed report restricts
// nothing and is not listed.
func (s *Service) MyDecisions(ctx context.Context, acct, before plaza.ID, limit int) ([]Decision, error) {
	if before == 0 {
		before = plaza.ID(math.MaxInt64)
	}
	return queryDecisions(ctx, s.db.Read(), `d.account_id = $1 AND d.action <> 'dismiss' AND d.id < $2 ORDER BY d.id DESC LIMIT $3`, acct, before, limit)
}

// MyDecision returns one statement of reasons addressed to acct; any
// other decision is not found.
func (s *Service) MyDecision(ctx context.Context, acct, id plaza.ID) (Decision, error) {
	d, err := getDecision(ctx, s.db.Read(), id)
	if err != nil {
		return Decision{}, err
	}
	if d.AccountID != acct || d.Action == Dismiss {
		return Decision{}, plaza.Errorf(plaza.ENotFound, "decision not found")
	}
	return d, nil
}

func itemReporters(ctx context.Context, q sqldb.Queryer, itemID plaza.ID) ([]Report, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, reporter_id, target_type, target_id, rule_id, rule_title, comment, created_at FROM reports WHERE item_id = $1 ORDER BY id`, itemID)
	if err != nil {
		return nil, fmt.Errorf("reporters: %w", err)
	}
	defer rows.Close()
	var out []Report
	for rows.Next() {
		var r Report
		var created int64
		if err := rows.Scan(&r.ID, &r.ReporterID, &r.TargetType, &r.TargetID, &r.RuleID, &r.RuleTitle, &r.Comment, &created); err != nil {
			return nil, err
		}
		r.CreatedAt = fromMicros(created)
		out = append(out, r)
	}
	return out, rows.Err()
}

// notify stores, in the decision's transaction, the statement of reasons
// for the affected person and each reporter's outcome, as durable events.
func (s *Service) notify(ctx context.Context, tx *sql.Tx, d Decision, reporters []Report) ([]events.Pending, error) {
	var evs []events.Event
	if d.Action != Dismiss && d.AccountID != 0 {
		data, err := json.Marshal(d)
		if err != nil {
			return nil, err
		}
		evs = append(evs, events.Event{Account: d.AccountID, Type: events.ModerationDecision, Ref: d.ID, Data: data, Stored: data})
	}
	for _, r := range reporters {
		r.Status = StatusDecided
		r.Outcome = &Outcome{Action: d.Action, DecidedAt: d.CreatedAt, Reversed: d.Status == DecisionReversed}
		to := r.ReporterID
		r.ReporterID = 0
		data, err := json.Marshal(r)
		if err != nil {
			return nil, err
		}
		evs = append(evs, events.Event{Account: to, Type: events.ModerationReport, Ref: r.ID, Data: data, Stored: data})
	}
	if len(evs) == 0 {
		return nil, nil
	}
	return s.events.Append(ctx, tx, evs)
}
