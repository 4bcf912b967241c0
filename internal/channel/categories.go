package channel

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/audit"
)

// Category is a kind of content with the operator's policy for it.
type Category struct {
	Name        string `json:"name"`
	Policy      string `json:"policy"`
	Description string `json:"description"`
}

// Credential lets a channel publish in a credential category until it
// expires or is revoked.
type Credential struct {
	HeldCredential
	ChannelID plaza.ID `json:"channel_id"`
}

func validPolicy(p string) bool {
	return p == PolicyOpen || p == PolicyCredential || p == PolicyReview || p == PolicyForbidden
}

// SetCategory creates or changes a category (admins), audited.
func (s *Service) SetCategory(ctx context.Context, actor audit.Actor, name, policy, description string) (Category, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	description = strings.TrimSpace(description)
	var p plaza.Problems
	if n := len(name); n < 1 || n > 32 || strings.Trim(name, "abcdefghijklmnopqrstuvwxyz0123456789_-") != "" {
		p.Add("name", "must be 1–32 characters of a-z, 0-9, _ and -")
	}
	if !validPolicy(policy) {
		p.Add("policy", "must be open, credential, review or forbidden")
	}
	if utf8.RuneCountInString(description) > 500 {
		p.Add("description", "must be at most 500 characters")
	}
	if err := p.Err(); err != nil {
		return Category{}, err
	}
	c := Category{Name: name, Policy: policy, Description: description}
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO channel_categories (name, policy, description) VALUES ($1, $2, $3)
			ON CONFLICT (name) DO UPDATE SET policy = excluded.policy, description = excluded.description`, name, policy, description); err != nil {
			return err
		}
		_, err := s.audit.Append(ctx, tx, audit.Record{Actor: actor, Action: "category.set", TargetType: "category", TargetID: name,
			Details: map[string]any{"policy": policy}})
		return err
	})
	return c, err
}

// Categories lists every category.
func (s *Service) Categories(ctx context.Context) ([]Category, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT name, policy, description FROM channel_categories ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Category{}
	for rows.Next() {
		var c Category
		if err := rows.Scan(&c.Name, &c.Policy, &c.Description); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// LookupCategory returns the category named name, read in q (the database
// or a transaction): the one table of categories and policies serves
// channel posts and microblog posts alike. A name the operator did not
// define is invalid_request naming the field "category".
func LookupCategory(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, name string) (Category, error) {
	var c Category
	err := q.QueryRowContext(ctx, `SELECT name, policy, description FROM channel_categories WHERE name = $1`, name).Scan(&c.Name, &c.Policy, &c.Description)
	if errors.Is(err, sql.ErrNoRows) {
		return Category{}, plaza.Invalid("category", "must be one of the categories the operator defined (GET /api/v1/categories)")
	}
	return c, err
}

// GrantCredential lets a channel publish in a credential category until
// expires (admins), audited.
func (s *Service) GrantCredential(ctx context.Context, actor audit.Actor, channelID plaza.ID, category string, expires time.Time) (Credential, error) {
	h, err := ChannelCredentials.Grant(ctx, s.db, s.audit, actor, channelID, category, expires, s.now(), func(ctx context.Context, tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM channels WHERE id = $1`, channelID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return plaza.Errorf(plaza.ENotFound, "channel not found")
		}
		return nil
	})
	return Credential{h, h.Holder}, err
}

// RevokeCredential ends a credential at once (admins), audited.
func (s *Service) RevokeCredential(ctx context.Context, actor audit.Actor, channelID, id plaza.ID, reason string) error {
	return ChannelCredentials.Revoke(ctx, s.db, s.audit, actor, channelID, id, reason, s.now())
}

// Credentials lists a channel's credentials, newest first.
func (s *Service) Credentials(ctx context.Context, channelID plaza.ID) ([]Credential, error) {
	hs, err := ChannelCredentials.List(ctx, s.db.Read(), channelID)
	out := make([]Credential, len(hs))
	for i, h := range hs {
		out[i] = Credential{h, h.Holder}
	}
	return out, err
}
