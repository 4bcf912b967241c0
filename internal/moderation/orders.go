package moderation

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/audit"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/textcheck"
)

// Outcomes of an authority's order.
const (
	Complied          = "complied"
	PartiallyComplied = "partially_complied"
	Rejected          = "rejected"
)

// Order is a request from an authority (a court, the police, a
// regulator) to act on content or an account, as recorded by an admin.
// Every order is counted in the transparency report, whatever the outcome.
type Order struct {
	ID         plaza.ID  `json:"id"`
	Authority  string    `json:"authority"`
	LegalBasis string    `json:"legal_basis"`
	ReceivedAt time.Time `json:"received_at"`
	Scope      string    `json:"scope"`
	TargetType string    `json:"target_type"`
	TargetID   *plaza.ID `json:"target_id"`
	Outcome    string    `json:"outcome"`
	Note       string    `json:"note"`
	RecordedBy plaza.ID  `json:"recorded_by"`
	CreatedAt  time.Time `json:"created_at"`
}

// RecordOrder records an authority's order.
func (s *Service) RecordOrder(ctx context.Context, actor audit.Actor, o Order) (Order, error) {
	o.Authority, o.LegalBasis, o.Scope, o.Note = strings.TrimSpace(o.Authority), strings.TrimSpace(o.LegalBasis), strings.TrimSpace(o.Scope), strings.TrimSpace(o.Note)
	now := s.now().Truncate(time.Microsecond)
	var p plaza.Problems
	line := func(field, v string, max int) {
		if rule := textcheck.PlainLine(v); rule != "" {
			p.Add(field, rule)
		} else if n := utf8.RuneCountInString(v); n < 1 || n > max {
			p.Add(field, fmt.Sprintf("is required: 1 to %d characters", max))
		}
	}
	line("authority", o.Authority, 200)
	line("legal_basis", o.LegalBasis, 500)
	if rule := textcheck.Multiline(o.Scope); rule != "" {
		p.Add("scope", rule)
	} else if n := utf8.RuneCountInString(o.Scope); n < 1 || n > 5000 {
		p.Add("scope", "is required: 1 to 5000 characters saying what was requested")
	}
	if rule := textcheck.Multiline(o.Note); rule != "" {
		p.Add("note", rule)
	} else if utf8.RuneCountInString(o.Note) > 5000 {
		p.Add("note", "must be at most 5000 characters")
	}
	if o.ReceivedAt.IsZero() {
		p.Add("received_at", "is required: when the order was received (RFC 3339)")
	} else if o.ReceivedAt.After(now.Add(time.Minute)) {
		p.Add("received_at", "must not be in the future")
	}
	if o.TargetType != "" {
		if _, ok := allowed[o.TargetType]; !ok {
			p.Add("target_type", "must be one of post, message, account, channel, channel_post, or empty")
		}
	}
	if (o.TargetType == "") != (o.TargetID == nil) {
		p.Add("target_id", "must be given with target_type, and only with it")
	}
	switch o.Outcome {
	case Complied, PartiallyComplied, Rejected:
	default:
		p.Add("outcome", "must be complied, partially_complied or rejected")
	}
	if err := p.Err(); err != nil {
		return Order{}, err
	}
	if o.TargetID != nil {
		t, err := s.target(o.TargetType)
		if err != nil {
			return Order{}, err
		}
		if _, err := t.View(ctx, *o.TargetID); plaza.ErrorCode(err) == plaza.ENotFound {
			return Order{}, plaza.Invalid("target_id", "must name something that exists")
		} else if err != nil {
			return Order{}, err
		}
	}
	o.ID, o.RecordedBy, o.CreatedAt, o.ReceivedAt = plaza.NewID(), actor.ID, now, o.ReceivedAt.UTC().Truncate(time.Microsecond)
	var target any
	if o.TargetID != nil {
		target = *o.TargetID
	}
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO authority_orders (id, authority, legal_basis, received_at, scope, target_type, target_id, outcome, note, recorded_by, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			o.ID, o.Authority, o.LegalBasis, micros(o.ReceivedAt), o.Scope, o.TargetType, target, o.Outcome, o.Note, o.RecordedBy, micros(now)); err != nil {
			return err
		}
		_, err := s.audit.Append(ctx, tx, audit.Record{Actor: actor, Action: "authority_order.record", TargetType: "authority_order", TargetID: o.ID.String(),
			Details: map[string]any{"authority": o.Authority, "outcome": o.Outcome, "legal_basis": o.LegalBasis}})
		return err
	})
	if err != nil {
		return Order{}, fmt.Errorf("record order: %w", err)
	}
	return o, nil
}

const orderColumns = `id, authority, legal_basis, received_at, scope, target_type, target_id, outcome, note, recorded_by, created_at`

func scanOrder(row interface{ Scan(...any) error }) (Order, error) {
	var o Order
	var received, created int64
	var target *int64
	if err := row.Scan(&o.ID, &o.Authority, &o.LegalBasis, &received, &o.Scope, &o.TargetType, &target, &o.Outcome, &o.Note, &o.RecordedBy, &created); err != nil {
		return Order{}, err
	}
	o.ReceivedAt, o.CreatedAt = fromMicros(received), fromMicros(created)
	if target != nil {
		id := plaza.ID(*target)
		o.TargetID = &id
	}
	return o, nil
}

func getOrder(ctx context.Context, q sqldb.Queryer, id plaza.ID) (Order, error) {
	o, err := scanOrder(q.QueryRowContext(ctx, `SELECT `+orderColumns+` FROM authority_orders WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Order{}, plaza.Errorf(plaza.ENotFound, "authority order not found")
	}
	return o, err
}

// Orders returns recorded orders, newest first.
func (s *Service) Orders(ctx context.Context, before plaza.ID, limit int) ([]Order, error) {
	if before == 0 {
		before = maxID
	}
	rows, err := s.db.Read().QueryContext(ctx, `SELECT `+orderColumns+` FROM authority_orders WHERE id < $1 ORDER BY id DESC LIMIT $2`, before, limit)
	if err != nil {
		return nil, fmt.Errorf("orders: %w", err)
	}
	defer rows.Close()
	out := []Order{}
	for rows.Next() {
		o, err := scanOrder(rows)
		if err != nil {
			return nil, fmt.Errorf("orders: %w", err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}
