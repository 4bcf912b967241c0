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
	channel.HeldCredential
	AccountID plaza.ID `json:"account_id"`
}

// GrantCredential lets an account post in a credential category until
// expires (admins), audited.
func (s *Service) GrantCredential(ctx context.Context, actor audit.Actor, accountID plaza.ID, category string, expires time.Time) (Credential, error) {
	h, err := channel.AccountCredentials.Grant(ctx, s.db, s.audit, actor, accountID, category, expires, s.now(), func(ctx context.Context, tx *sql.Tx) error {
		return s.checkAccount(ctx, accountID)
	})
	return Credential{h, h.Holder}, err
}

// RevokeCredential ends an account's credential at once (admins), audited.
func (s *Service) RevokeCredential(ctx context.Context, actor audit.Actor, accountID, id plaza.ID, reason string) error {
	return channel.AccountCredentials.Revoke(ctx, s.db, s.audit, actor, accountID, id, reason, s.now())
}

// Credentials lists an account's credentials, newest first.
func (s *Service) Credentials(ctx context.Context, accountID plaza.ID) ([]Credential, error) {
	hs, err := channel.AccountCredentials.List(ctx, s.db.Read(), accountID)
	out := make([]Credential, len(hs))
	for i, h := range hs {
		out[i] = Credential{h, h.Holder}
	}
	return out, err
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
			refused, err := checkTargets(ctx, tx, []Post{p})
			if err != nil {
				return err
			}
			if refused[0] != nil {
				return plaza.Errorf(plaza.EConflict, "the post this one replies to or reposts is no longer published, or one of the two authors blocked the other: reject it")
			}
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
