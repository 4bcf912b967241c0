package moderation

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/audit"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/textcheck"
)

// Rule is one of the operator's published rules. Every decision cites one.
type Rule struct {
	ID          int64  `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description"`
}

// defaultRules are seeded on first start; the operator edits them with
// PUT /api/v1/admin/rules/{id}. Both languages are given, as the people
// who read them write both.
var defaultRules = []Rule{
	{1, "Spam / 垃圾信息", "Unsolicited bulk or repetitive content, scams and deceptive links. 未经请求的批量或重复内容、诈骗和欺骗性链接。"},
	{2, "Harassment / 骚扰", "Threats, targeted abuse, intimidation or sharing someone's private information. 威胁、针对性辱骂、恐吓或泄露他人隐私。"},
	{3, "Illegal content / 违法内容", "Content that is illegal under the law that applies to this service. 依照本服务适用的法律属于违法的内容。"},
	{4, "False information / 虚假信息", "Demonstrably false claims likely to cause real harm, such as health or safety misinformation. 可能造成实际危害的明显虚假信息，例如健康或安全方面的不实信息。"},
	{5, "Impersonation / 冒充他人", "Pretending to be another person or organisation in a misleading way. 以误导方式冒充他人或机构。"},
}

// MaxRuleID bounds rule numbers: rules are a short numbered list.
const MaxRuleID = 999

func (s *Service) seedRules(ctx context.Context) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM rules`).Scan(&n); err != nil {
			return fmt.Errorf("seed rules: %w", err)
		}
		if n > 0 {
			return nil
		}
		now := micros(s.now())
		for _, r := range defaultRules {
			if _, err := tx.ExecContext(ctx, `INSERT INTO rules (id, title, description, updated_at) VALUES ($1, $2, $3, $4)
				ON CONFLICT (id) DO NOTHING`, r.ID, r.Title, r.Description, now); err != nil {
				return fmt.Errorf("seed rules: %w", err)
			}
		}
		return nil
	})
}

// Rules returns the published rules in order.
func (s *Service) Rules(ctx context.Context) ([]Rule, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT id, title, description FROM rules ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	defer rows.Close()
	out := []Rule{}
	for rows.Next() {
		var r Rule
		if err := rows.Scan(&r.ID, &r.Title, &r.Description); err != nil {
			return nil, fmt.Errorf("rules: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// PutRule publishes rule id, new or changed, and records it in the audit
// log. Earlier decisions keep citing the rule by number.
func (s *Service) PutRule(ctx context.Context, actor audit.Actor, r Rule) (Rule, error) {
	r.Title, r.Description = strings.TrimSpace(r.Title), strings.TrimSpace(r.Description)
	var p plaza.Problems
	if r.ID < 1 || r.ID > MaxRuleID {
		p.Add("id", fmt.Sprintf("must be a rule number from 1 to %d", MaxRuleID))
	}
	if rule := textcheck.PlainLine(r.Title); rule != "" {
		p.Add("title", rule)
	} else if rule := textcheck.Visible(r.Title); rule != "" {
		p.Add("title", rule)
	} else if n := utf8.RuneCountInString(r.Title); n < 1 || n > 120 {
		p.Add("title", "must be 1 to 120 characters")
	}
	if rule := textcheck.Multiline(r.Description); rule != "" {
		p.Add("description", rule)
	} else if n := utf8.RuneCountInString(r.Description); n < 1 || n > 2000 {
		p.Add("description", "must be 1 to 2000 characters")
	}
	if err := p.Err(); err != nil {
		return Rule{}, err
	}
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO rules (id, title, description, updated_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (id) DO UPDATE SET title = excluded.title, description = excluded.description, updated_at = excluded.updated_at`,
			r.ID, r.Title, r.Description, micros(s.now())); err != nil {
			return err
		}
		_, err := s.audit.Append(ctx, tx, audit.Record{Actor: actor, Action: "rule.put", TargetType: "rule", TargetID: fmt.Sprint(r.ID),
			Details: map[string]any{"title": r.Title}})
		return err
	})
	if err != nil {
		return Rule{}, fmt.Errorf("put rule: %w", err)
	}
	return r, nil
}

func ruleTitle(ctx context.Context, q sqldb.Queryer, id int64) (string, error) {
	var title string
	err := q.QueryRowContext(ctx, `SELECT title FROM rules WHERE id = $1`, id).Scan(&title)
	if err == sql.ErrNoRows {
		return "", plaza.Invalid("rule_id", "must be the number of a published rule (GET /api/v1/rules)")
	}
	return title, err
}
