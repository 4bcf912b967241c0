package moderation

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/audit"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/textcheck"
)

// ReportInput is a report as a person files it.
type ReportInput struct {
	TargetType string
	TargetID   plaza.ID
	RuleID     int64
	Comment    string
	// Context asks, for a message, that the messages before it be
	// attached as evidence too.
	Context bool
}

// MaxComment bounds a report's comment, in characters.
const MaxComment = 2000

// Report is one person's report. Evidence is shown only to moderators.
type Report struct {
	ID         plaza.ID   `json:"id"`
	ItemID     plaza.ID   `json:"-"`
	ReporterID plaza.ID   `json:"reporter_id,omitempty"`
	TargetType string     `json:"target_type"`
	TargetID   plaza.ID   `json:"target_id"`
	RuleID     int64      `json:"rule_id"`
	RuleTitle  string     `json:"rule_title"`
	Comment    string     `json:"comment"`
	Evidence   []Snapshot `json:"evidence,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	// Status and Outcome are what the reporter sees of the decision.
	Status  string   `json:"status"`
	Outcome *Outcome `json:"outcome"`
}

// Outcome is the decision on a report, as its reporter sees it.
type Outcome struct {
	Action    string    `json:"action"`
	DecidedAt time.Time `json:"decided_at"`
	// Reversed says the decision was reversed on appeal.
	Reversed bool `json:"reversed"`
}

// Queue item statuses.
const (
	StatusOpen    = "open"
	StatusDecided = "decided"
)

// File stores a report by reporter of something they can see: anything
// else is not_found, exactly as if it did not exist. Reports of a target
// already in the queue join its item (a count goes up); reporting the
// same open item twice is a conflict.
func (s *Service) File(ctx context.Context, actor audit.Actor, in ReportInput) (Report, error) {
	reporter := actor.ID
	in.Comment = strings.TrimSpace(in.Comment)
	var p plaza.Problems
	t, err := s.target(in.TargetType)
	if err != nil {
		p.Add("target_type", "must be one of post, message, account, channel, channel_post")
	}
	if in.TargetID <= 0 {
		p.Add("target_id", "must be the ID of what you report")
	}
	if in.RuleID < 1 || in.RuleID > MaxRuleID {
		p.Add("rule_id", "must be the number of a published rule (GET /api/v1/rules)")
	}
	if rule := textcheck.Multiline(in.Comment); rule != "" {
		p.Add("comment", rule)
	} else if utf8.RuneCountInString(in.Comment) > MaxComment {
		p.Add("comment", fmt.Sprintf("must be at most %d characters", MaxComment))
	}
	if in.Context && in.TargetType != TargetMessage {
		p.Add("context", "applies only to reports of a message")
	}
	if err := p.Err(); err != nil {
		return Report{}, err
	}
	title, err := ruleTitle(ctx, s.db.Read(), in.RuleID)
	if err != nil {
		return Report{}, err
	}
	if err := s.reports.Take(ctx, reporter.String(), 1); err != nil {
		return Report{}, err
	}
	// What the reporter sees is what is kept: the moderator reviews the
	// content as reported, even if it is edited or deleted later.
	var snap Snapshot
	var evidence []Snapshot
	if ev, ok := t.(Evidencer); ok {
		before := 0
		if in.Context {
			before = s.cfg.MaxContext
		}
		if evidence, err = ev.Evidence(ctx, reporter, in.TargetID, before); err != nil {
			return Report{}, err
		}
		if len(evidence) == 0 {
			return Report{}, plaza.Errorf(plaza.ENotFound, "%s not found", in.TargetType)
		}
		snap = evidence[len(evidence)-1]
	} else if snap, err = t.Visible(ctx, reporter, in.TargetID); err != nil {
		return Report{}, err
	}
	if snap.OwnerID == reporter {
		return Report{}, plaza.Invalid("target_id", "must not be your own: delete or change it yourself")
	}
	snapJSON, _ := json.Marshal(snap)
	evJSON, _ := json.Marshal(evidence)
	if evidence == nil {
		evJSON = []byte("[]")
	}
	now := s.now().Truncate(time.Microsecond)
	r := Report{ID: plaza.NewID(), ReporterID: reporter, TargetType: in.TargetType, TargetID: in.TargetID, RuleID: in.RuleID, RuleTitle: title,
		Comment: in.Comment, Evidence: evidence, CreatedAt: now, Status: StatusOpen}
	var owner any
	if snap.OwnerID != 0 {
		owner = snap.OwnerID
	}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		// One statement finds or creates the open item, so two people
		// reporting at once from two nodes join one item.
		if err := tx.QueryRowContext(ctx, `INSERT INTO report_items (id, target_type, target_id, owner_id, snapshot, status, report_count, created_at)
			VALUES ($1, $2, $3, $4, $5, 'open', 1, $6)
			ON CONFLICT (target_type, target_id) WHERE status = 'open' DO UPDATE SET report_count = report_items.report_count + 1
			RETURNING id`, plaza.NewID(), in.TargetType, in.TargetID, owner, string(snapJSON), micros(now)).Scan(&r.ItemID); err != nil {
			return fmt.Errorf("queue item: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO reports (id, item_id, reporter_id, target_type, target_id, rule_id, rule_title, comment, evidence, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $10, $7, $8, $9)`, r.ID, r.ItemID, reporter, in.TargetType, in.TargetID, in.RuleID, in.Comment, string(evJSON), micros(now), title); err != nil {
			if plaza.ErrorCode(sqldb.MapError(err, "report")) == plaza.EConflict {
				return plaza.Errorf(plaza.EConflict, "you have already reported this; it is waiting for a moderator")
			}
			return fmt.Errorf("report: %w", err)
		}
		// The audit row carries no content, only what the transparency
		// report counts.
		_, err := s.audit.Append(ctx, tx, audit.Record{
			Actor: actor, Action: "report.create", TargetType: in.TargetType, TargetID: in.TargetID.String(),
			Details: map[string]any{"report_id": r.ID.String(), "item_id": r.ItemID.String(), "rule_id": in.RuleID, "rule_title": title},
		})
		return err
	})
	if err != nil {
		return Report{}, fmt.Errorf("file report: %w", err)
	}
	return r, nil
}

// MyReports returns reporter's reports, newest first, with their
// outcomes; before pages by report ID.
func (s *Service) MyReports(ctx context.Context, reporter, before plaza.ID, limit int) ([]Report, error) {
	if before == 0 {
		before = plaza.ID(1<<63 - 1)
	}
	rows, err := s.db.Read().QueryContext(ctx, `SELECT r.id, r.target_type, r.target_id, r.rule_id, r.rule_title, r.comment, r.created_at,
			i.status, d.action, d.created_at, d.status
		FROM reports r JOIN report_items i ON i.id = r.item_id LEFT JOIN decisions d ON d.id = i.decision_id
		WHERE r.reporter_id = $1 AND r.id < $2 ORDER BY r.id DESC LIMIT $3`, reporter, before, limit)
	if err != nil {
		return nil, fmt.Errorf("my reports: %w", err)
	}
	defer rows.Close()
	out := []Report{}
	for rows.Next() {
		var r Report
		var created int64
		var action, dstatus sql.NullString
		var decided sql.NullInt64
		if err := rows.Scan(&r.ID, &r.TargetType, &r.TargetID, &r.RuleID, &r.RuleTitle, &r.Comment, &created, &r.Status, &action, &decided, &dstatus); err != nil {
			return nil, fmt.Errorf("my reports: %w", err)
		}
		r.CreatedAt = fromMicros(created)
		if action.Valid {
			r.Outcome = &Outcome{Action: action.String, DecidedAt: fromMicros(decided.Int64), Reversed: dstatus.String == DecisionReversed}
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
