package moderation

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/sqldb"
)

// Item is one target in the moderators' queue with every report of it.
type Item struct {
	ID          plaza.ID   `json:"id"`
	TargetType  string     `json:"target_type"`
	TargetID    plaza.ID   `json:"target_id"`
	OwnerID     plaza.ID   `json:"owner_id,omitempty"`
	Snapshot    Snapshot   `json:"snapshot"`
	Status      string     `json:"status"`
	ReportCount int64      `json:"report_count"`
	CreatedAt   time.Time  `json:"created_at"`
	DecidedAt   *time.Time `json:"decided_at,omitempty"`
	DecisionID  plaza.ID   `json:"decision_id,omitempty"`
	Reports     []Report   `json:"reports"`
	// History is the earlier decisions about the same account, newest
	// first, so a moderator sees a pattern.
	History []PastDecision `json:"history"`
}

// PastDecision is an earlier decision about an account, in the queue.
type PastDecision struct {
	ID         plaza.ID  `json:"id"`
	Action     string    `json:"action"`
	RuleID     int64     `json:"rule_id"`
	RuleTitle  string    `json:"rule_title"`
	TargetType string    `json:"target_type"`
	Status     string    `json:"status"`
	CreatedAt  time.Time `json:"created_at"`
}

// QueueFilter selects queue items.
type QueueFilter struct {
	Status     string // open (default) or decided
	RuleID     int64  // items with at least one report citing it
	TargetType string
	After      plaza.ID // items after this one: the queue is oldest first
	Limit      int
}

// historyLimit bounds the earlier decisions shown with an item.
const historyLimit = 20

// Queue returns queue items, oldest first.
func (s *Service) Queue(ctx context.Context, f QueueFilter) ([]Item, error) {
	var p plaza.Problems
	switch f.Status {
	case "":
		f.Status = StatusOpen
	case StatusOpen, StatusDecided:
	default:
		p.Add("status", "must be open or decided")
	}
	if f.TargetType != "" {
		if _, ok := allowed[f.TargetType]; !ok {
			p.Add("target_type", "must be one of post, message, account, channel, channel_post")
		}
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	q := `SELECT id, target_type, target_id, owner_id, snapshot, status, report_count, created_at, decided_at, decision_id
		FROM report_items i WHERE status = $1 AND id > $2`
	args := []any{f.Status, f.After}
	if f.TargetType != "" {
		args = append(args, f.TargetType)
		q += fmt.Sprintf(` AND target_type = $%d`, len(args))
	}
	if f.RuleID != 0 {
		args = append(args, f.RuleID)
		q += fmt.Sprintf(` AND EXISTS (SELECT 1 FROM reports r WHERE r.item_id = i.id AND r.rule_id = $%d)`, len(args))
	}
	args = append(args, f.Limit)
	q += fmt.Sprintf(` ORDER BY id LIMIT $%d`, len(args))
	rows, err := s.db.Read().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	defer rows.Close()
	items := []Item{}
	for rows.Next() {
		it, err := scanItem(rows)
		if err != nil {
			return nil, fmt.Errorf("queue: %w", err)
		}
		items = append(items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	for i := range items {
		if err := s.fillItem(ctx, s.db.Read(), &items[i]); err != nil {
			return nil, err
		}
	}
	return items, nil
}

// GetItem returns one queue item with its reports and history.
func (s *Service) GetItem(ctx context.Context, id plaza.ID) (Item, error) {
	it, err := loadItem(ctx, s.db.Read(), id)
	if err != nil {
		return Item{}, err
	}
	return it, s.fillItem(ctx, s.db.Read(), &it)
}

// loadItem returns one queue item without its reports and history.
func loadItem(ctx context.Context, q sqldb.Queryer, id plaza.ID) (Item, error) {
	it, err := scanItem(q.QueryRowContext(ctx, `SELECT id, target_type, target_id, owner_id, snapshot, status, report_count, created_at, decided_at, decision_id
		FROM report_items WHERE id = $1`, id))
	if err != nil {
		return Item{}, sqldb.MapError(err, "report")
	}
	return it, nil
}

func scanItem(row interface{ Scan(...any) error }) (Item, error) {
	var it Item
	var owner, decided, decision *int64
	var snap string
	var created int64
	if err := row.Scan(&it.ID, &it.TargetType, &it.TargetID, &owner, &snap, &it.Status, &it.ReportCount, &created, &decided, &decision); err != nil {
		return Item{}, err
	}
	if owner != nil {
		it.OwnerID = plaza.ID(*owner)
	}
	if decision != nil {
		it.DecisionID = plaza.ID(*decision)
	}
	if decided != nil {
		t := fromMicros(*decided)
		it.DecidedAt = &t
	}
	it.CreatedAt = fromMicros(created)
	if err := json.Unmarshal([]byte(snap), &it.Snapshot); err != nil {
		return Item{}, fmt.Errorf("item %d snapshot: %w", it.ID, err)
	}
	return it, nil
}

// fillItem adds the item's reports and its account's earlier decisions.
func (s *Service) fillItem(ctx context.Context, q sqldb.Queryer, it *Item) error {
	rows, err := q.QueryContext(ctx, `SELECT id, reporter_id, rule_id, rule_title, comment, evidence, created_at FROM reports WHERE item_id = $1 ORDER BY id`, it.ID)
	if err != nil {
		return fmt.Errorf("item reports: %w", err)
	}
	defer rows.Close()
	it.Reports = []Report{}
	for rows.Next() {
		r := Report{ItemID: it.ID, TargetType: it.TargetType, TargetID: it.TargetID, Status: it.Status}
		var ev string
		var created int64
		if err := rows.Scan(&r.ID, &r.ReporterID, &r.RuleID, &r.RuleTitle, &r.Comment, &ev, &created); err != nil {
			return fmt.Errorf("item reports: %w", err)
		}
		r.CreatedAt = fromMicros(created)
		if err := json.Unmarshal([]byte(ev), &r.Evidence); err != nil {
			return fmt.Errorf("report %d evidence: %w", r.ID, err)
		}
		it.Reports = append(it.Reports, r)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	it.History = []PastDecision{}
	if it.OwnerID == 0 {
		return nil
	}
	hist, err := q.QueryContext(ctx, `SELECT id, action, rule_id, rule_title, target_type, status, created_at FROM decisions
		WHERE account_id = $1 AND (item_id IS NULL OR item_id <> $2) ORDER BY id DESC LIMIT $3`, it.OwnerID, it.ID, historyLimit)
	if err != nil {
		return fmt.Errorf("item history: %w", err)
	}
	defer hist.Close()
	for hist.Next() {
		var d PastDecision
		var created int64
		if err := hist.Scan(&d.ID, &d.Action, &d.RuleID, &d.RuleTitle, &d.TargetType, &d.Status, &created); err != nil {
			return fmt.Errorf("item history: %w", err)
		}
		d.CreatedAt = fromMicros(created)
		it.History = append(it.History, d)
	}
	return hist.Err()
}
