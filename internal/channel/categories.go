package channel

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
	ID        plaza.ID   `json:"id"`
	ChannelID plaza.ID   `json:"channel_id"`
	Category  string     `json:"category"`
	ExpiresAt time.Time  `json:"expires_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
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

func (s *Service) category(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, name string) (Category, error) {
	return LookupCategory(ctx, q, name)
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
	now := s.now()
	if !expires.After(now) {
		return Credential{}, plaza.Invalid("expires_at", "must be in the future")
	}
	cat, err := s.category(ctx, s.db.Read(), strings.ToLower(strings.TrimSpace(category)))
	if err != nil {
		return Credential{}, err
	}
	if cat.Policy != PolicyCredential {
		return Credential{}, plaza.Invalid("category", "must be a category whose policy is credential")
	}
	cr := Credential{ID: plaza.NewID(), ChannelID: channelID, Category: cat.Name, ExpiresAt: expires.UTC().Truncate(time.Microsecond), CreatedAt: now}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM channels WHERE id = $1`, channelID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return plaza.Errorf(plaza.ENotFound, "channel not found")
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO channel_credentials (channel_id, id, category, expires_at, granted_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			channelID, cr.ID, cr.Category, cr.ExpiresAt.UnixMicro(), actor.Name, now.UnixMicro()); err != nil {
			return err
		}
		_, err := s.audit.Append(ctx, tx, audit.Record{Actor: actor, Action: "credential.grant", TargetType: "channel", TargetID: channelID.String(),
			Details: map[string]any{"category": cr.Category, "expires_at": cr.ExpiresAt.Format(time.RFC3339), "credential_id": cr.ID.String()}})
		return err
	})
	if err != nil {
		return Credential{}, fmt.Errorf("grant credential: %w", err)
	}
	return cr, nil
}

// RevokeCredential ends a credential at once (admins), audited.
func (s *Service) RevokeCredential(ctx context.Context, actor audit.Actor, channelID, id plaza.ID, reason string) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE channel_credentials SET revoked_at = $1 WHERE channel_id = $2 AND id = $3 AND revoked_at IS NULL`,
			s.now().UnixMicro(), channelID, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return plaza.Errorf(plaza.ENotFound, "credential not found")
		}
		_, err = s.audit.Append(ctx, tx, audit.Record{Actor: actor, Action: "credential.revoke", TargetType: "channel", TargetID: channelID.String(),
			Reason: strings.TrimSpace(reason), Details: map[string]any{"credential_id": id.String()}})
		return err
	})
}

// Credentials lists a channel's credentials, newest first.
func (s *Service) Credentials(ctx context.Context, channelID plaza.ID) ([]Credential, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT id, channel_id, category, expires_at, revoked_at, created_at FROM channel_credentials
		WHERE channel_id = $1 ORDER BY id DESC LIMIT 500`, channelID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Credential{}
	for rows.Next() {
		var c Credential
		var exp, created int64
		var revoked sql.NullInt64
		if err := rows.Scan(&c.ID, &c.ChannelID, &c.Category, &exp, &revoked, &created); err != nil {
			return nil, err
		}
		c.ExpiresAt, c.CreatedAt = micro(exp), micro(created)
		if revoked.Valid {
			t := micro(revoked.Int64)
			c.RevokedAt = &t
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// hasCredential reports whether the channel holds a live credential for
// the category at now.
func (s *Service) hasCredential(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, channelID plaza.ID, category string, now time.Time) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM channel_credentials WHERE channel_id = $1 AND category = $2 AND revoked_at IS NULL AND expires_at > $3`,
		channelID, category, now.UnixMicro()).Scan(&n)
	return n > 0, err
}
