package microblog

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/audit"
	"github.com/plaza-im/plaza/internal/channel"
	"github.com/plaza-im/plaza/internal/sqldb"
)

// Credential lets an account post in a credential category until it
// expires or is revoked.
type Credential struct {
	ID        plaza.ID   `json:"id"`
	AccountID plaza.ID   `json:"account_id"`
	Category  string     `json:"category"`
	ExpiresAt time.Time  `json:"expires_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
}

// GrantCredential lets an account post in a credential category until
// expires (admins), audited.
func (s *Service) GrantCredential(ctx context.Context, actor audit.Actor, accountID plaza.ID, category string, expires time.Time) (Credential, error) {
	now := s.now()
	if !expires.After(now) {
		return Credential{}, plaza.Invalid("expires_at", "must be in the future")
	}
	cat, err := channel.LookupCategory(ctx, s.db.Read(), strings.ToLower(strings.TrimSpace(category)))
	if err != nil {
		return Credential{}, err
	}
	if cat.Policy != channel.PolicyCredential {
		return Credential{}, plaza.Invalid("category", "must be a category whose policy is credential")
	}
	if err := s.checkAccount(ctx, accountID); err != nil {
		return Credential{}, err
	}
	cr := Credential{ID: plaza.NewID(), AccountID: accountID, Category: cat.Name, ExpiresAt: expires.UTC().Truncate(time.Microsecond), CreatedAt: now}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO account_credentials (account_id, id, category, expires_at, granted_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			accountID, cr.ID, cr.Category, cr.ExpiresAt.UnixMicro(), actor.Name, now.UnixMicro()); err != nil {
			return err
		}
		_, err := s.audit.Append(ctx, tx, audit.Record{Actor: actor, Action: "credential.grant", TargetType: "account", TargetID: accountID.String(),
			Details: map[string]any{"category": cr.Category, "expires_at": cr.ExpiresAt.Format(time.RFC3339), "credential_id": cr.ID.String()}})
		return err
	})
	if err != nil {
		return Credential{}, fmt.Errorf("grant credential: %w", err)
	}
	return cr, nil
}

// RevokeCredential ends an account's credential at once (admins), audited.
func (s *Service) RevokeCredential(ctx context.Context, actor audit.Actor, accountID, id plaza.ID, reason string) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE account_credentials SET revoked_at = $1 WHERE account_id = $2 AND id = $3 AND revoked_at IS NULL`,
			s.now().UnixMicro(), accountID, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return plaza.Errorf(plaza.ENotFound, "credential not found")
		}
		_, err = s.audit.Append(ctx, tx, audit.Record{Actor: actor, Action: "credential.revoke", TargetType: "account", TargetID: accountID.String(),
			Reason: strings.TrimSpace(reason), Details: map[string]any{"credential_id": id.String()}})
		return err
	})
}

// Credentials lists an account's credentials, newest first.
func (s *Service) Credentials(ctx context.Context, accountID plaza.ID) ([]Credential, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT id, account_id, category, expires_at, revoked_at, created_at FROM account_credentials
		WHERE account_id = $1 ORDER BY id DESC LIMIT 500`, accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Credential{}
	for rows.Next() {
		var c Credential
		var exp, created int64
		var revoked sql.NullInt64
		if err := rows.Scan(&c.ID, &c.AccountID, &c.Category, &exp, &revoked, &created); err != nil {
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

// hasCredential reports whether account holds a live credential for the
// category at now.
func hasCredential(ctx context.Context, q sqldb.Queryer, account plaza.ID, category string, now time.Time) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM account_credentials WHERE account_id = $1 AND category = $2 AND revoked_at IS NULL AND expires_at > $3`,
		account, category, now.UnixMicro()).Scan(&n)
	return n > 0, err
}

// Reviews lists posts held for review ("pending", the default) or
// rejected, oldest first, after the cursor.
func (s *Service) Reviews(ctx context.Context, status string, after plaza.ID, limit int) ([]Post, error) {
	switch status {
	case "", "pending", StatusPending:
		status = StatusPending
	case StatusRejected:
	default:
		return nil, plaza.Invalid("status", "must be pending or rejected")
	}
	posts, err := queryPosts(ctx, s.db.Read(), `SELECT `+postColumns+` FROM posts p WHERE p.status = $1 AND p.id > $2 ORDER BY p.id LIMIT $3`,
		status, after, min(max(limit, 1), MaxPage))
	if err != nil {
		return nil, fmt.Errorf("reviews: %w", err)
	}
	if posts == nil {
		posts = []Post{}
	}
	return posts, nil
}

// Decide publishes or rejects a post held for review (reviewers),
// audited; the author sees the outcome and reason on the post. Nobody
// decides their own post. Publishing does what Create does for a post in
// an open category: counts, timelines, notifications.
func (s *Service) Decide(ctx context.Context, actor audit.Actor, id plaza.ID, approve bool, reason string) (Post, error) {
	reason = strings.TrimSpace(reason)
	if n := utf8.RuneCountInString(reason); !approve && n == 0 || n > 1000 {
		return Post{}, plaza.Invalid("reason", "must be 1–1000 characters (a rejection must say why)")
	}
	now := s.now()
	var out Post
	var pub published
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		pub = published{}
		// Lock the row first, so concurrent decisions and a deletion
		// queue (PostgreSQL).
		if _, err := tx.ExecContext(ctx, `UPDATE posts SET status = status WHERE id = $1`, id); err != nil {
			return err
		}
		p, err := getPost(ctx, tx, id)
		if err != nil {
			return err
		}
		if p.Status == StatusDeleted {
			return errNotFound
		}
		if p.Status != StatusPending {
			return plaza.Errorf(plaza.EConflict, "this post was already %s", p.Status)
		}
		if err := account.RefuseOwn(actor, "a review of your own post", p.AuthorID); err != nil {
			return err
		}
		p.Status, p.Reason = StatusRejected, reason
		var publishedAt any
		if approve {
			p.Status, p.PublishedAt, publishedAt = StatusPublished, &now, now.UnixMicro()
		}
		if _, err := tx.ExecContext(ctx, `UPDATE posts SET status = $1, reason = $2, decided_by = $3, published_at = $4 WHERE id = $5`,
			p.Status, reason, actor.Name, publishedAt, id); err != nil {
			return err
		}
		if approve {
			mentioned, err := mentionedIn(ctx, tx, id)
			if err != nil {
				return err
			}
			plan, err := planFor(ctx, tx, p, mentioned)
			if err != nil {
				return err
			}
			if pub, err = s.applyPublished(ctx, tx, []*pubPlan{plan}); err != nil {
				return err
			}
		}
		out = p
		_, err = s.audit.Append(ctx, tx, audit.Record{Actor: actor, Action: map[bool]string{true: "microblog_post.approve", false: "microblog_post.reject"}[approve],
			TargetType: "post", TargetID: id.String(), Reason: reason, Details: map[string]any{"author_id": p.AuthorID.String(), "category": p.Category}})
		return err
	})
	if err != nil {
		return Post{}, err
	}
	s.afterPublish(ctx, pub)
	return out, nil
}

// mentionedIn returns the accounts a post mentions.
func mentionedIn(ctx context.Context, q sqldb.Queryer, post plaza.ID) ([]plaza.ID, error) {
	ids, err := idSet(ctx, q, `SELECT account_id FROM mentions WHERE post_id = $1`, post)
	if err != nil {
		return nil, fmt.Errorf("mentions: %w", err)
	}
	return sortedKeys(ids), nil
}
