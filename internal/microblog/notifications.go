package microblog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/plaza-im/plaza"
)

// Notification tells an account that someone mentioned it, replied to or
// reposted one of its posts, liked one, or followed it. Each is stored
// and appended to the account's sync log (a "notification" event), so a
// device that was offline gets it when it syncs.
type Notification struct {
	ID        plaza.ID  `json:"id"`
	Kind      string    `json:"kind"`
	ActorID   plaza.ID  `json:"actor_id"`
	PostID    *plaza.ID `json:"post_id"`
	Read      bool      `json:"read"`
	CreatedAt time.Time `json:"created_at"`
}

// sqlNoticeLive keeps notifications n about no post, or about a post p
// that is published and that the recipient may see as far as moderation
// goes: a removed post only its author, a limited one its author and the
// author's followers.
const sqlNoticeLive = `(n.post_id IS NULL OR p.status = 'published' AND (p.mod_action NOT IN ('limit', 'remove') OR p.author_id = n.account_id
	OR p.mod_action = 'limit' AND EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = n.account_id AND f.followee_id = p.author_id)))`

// maxUnread bounds the unread count: a badge shows "999+" long before.
const maxUnread = 1000

// Notifications returns account's notifications, newest first, before
// the cursor (0 for the first page), only unread ones when unread is set,
// and how many are unread (at most 1,000). Notifications about a post
// that was deleted since, or that a moderation decision now hides from
// the account, are left out (and come back if the decision is reversed).
func (s *Service) Notifications(ctx context.Context, account, before plaza.ID, limit int, unread bool) ([]Notification, int, error) {
	q := s.db.Read()
	readUpTo, err := readPosition(ctx, q, account)
	if err != nil {
		return nil, 0, err
	}
	if before <= 0 {
		before = noCursor
	}
	floor := plaza.ID(0)
	if unread {
		floor = readUpTo
	}
	rows, err := q.QueryContext(ctx, `SELECT n.id, n.kind, n.actor_id, n.post_id, n.created_at FROM notifications n
		LEFT JOIN posts p ON p.id = n.post_id
		WHERE n.account_id = $1 AND n.id < $2 AND n.id > $3 AND `+sqlNoticeLive+`
		ORDER BY n.id DESC LIMIT $4`, account, before, floor, min(max(limit, 1), MaxPage))
	if err != nil {
		return nil, 0, fmt.Errorf("notifications: %w", err)
	}
	defer rows.Close()
	out := []Notification{}
	for rows.Next() {
		var n Notification
		var post sql.NullInt64
		var at int64
		if err := rows.Scan(&n.ID, &n.Kind, &n.ActorID, &post, &at); err != nil {
			return nil, 0, fmt.Errorf("notifications: %w", err)
		}
		if post.Valid {
			id := plaza.ID(post.Int64)
			n.PostID = &id
		}
		n.CreatedAt, n.Read = micro(at), n.ID <= readUpTo
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("notifications: %w", err)
	}
	var count int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM notifications n LEFT JOIN posts p ON p.id = n.post_id
		WHERE n.account_id = $1 AND n.id > $2 AND `+sqlNoticeLive+` LIMIT $3) u`,
		account, readUpTo, maxUnread).Scan(&count); err != nil {
		return nil, 0, fmt.Errorf("unread notifications: %w", err)
	}
	return out, count, nil
}

// MarkRead marks account's notifications up to upTo (an ID) read. The
// position only moves forward, and never past the newest notification.
func (s *Service) MarkRead(ctx context.Context, account, upTo plaza.ID) error {
	if upTo <= 0 {
		return plaza.Invalid("up_to", "must be the ID of a notification")
	}
	var newest sql.NullInt64
	if err := s.db.Read().QueryRowContext(ctx, `SELECT MAX(id) FROM notifications WHERE account_id = $1`, account).Scan(&newest); err != nil {
		return fmt.Errorf("mark notifications read: %w", err)
	}
	if !newest.Valid {
		return nil
	}
	upTo = min(upTo, plaza.ID(newest.Int64))
	_, err := s.db.Write().ExecContext(ctx, `INSERT INTO notification_reads (account_id, up_to) VALUES ($1, $2)
		ON CONFLICT (account_id) DO UPDATE SET up_to = excluded.up_to WHERE excluded.up_to > notification_reads.up_to`, account, upTo)
	if err != nil {
		return fmt.Errorf("mark notifications read: %w", err)
	}
	return nil
}

func readPosition(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, account plaza.ID) (plaza.ID, error) {
	var upTo plaza.ID
	err := q.QueryRowContext(ctx, `SELECT up_to FROM notification_reads WHERE account_id = $1`, account).Scan(&upTo)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("notifications read position: %w", err)
	}
	return upTo, nil
}
