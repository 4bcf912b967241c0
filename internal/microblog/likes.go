package microblog

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/events"
)

// Like makes account like a post it may see (else not_found). Liking
// again changes nothing. like_count moves in the same transaction as the
// like row, so it stays exact however many like at once. The author is
// notified once, however often the like is taken back and given again.
func (s *Service) Like(ctx context.Context, account, id plaza.ID) error {
	if err := s.limits.likes.Take(ctx, account.String(), 1); err != nil {
		return err
	}
	p, err := s.Get(ctx, account, id)
	if err != nil {
		return err
	}
	if p.Status != StatusPublished {
		return errNotFound
	}
	var evs []events.Pending
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		evs = nil
		res, err := tx.ExecContext(ctx, `INSERT INTO likes (post_id, account_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
			id, account, s.now().UnixMicro())
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		res, err = tx.ExecContext(ctx, `UPDATE posts SET like_count = like_count + 1 WHERE id = $1 AND status = 'published'`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errNotFound // deleted meanwhile
		}
		if p.AuthorID == account {
			return nil
		}
		notes, err := s.storeNotices(ctx, tx, []notice{{to: p.AuthorID, actor: account, kind: KindLike, post: id,
			dedupe: "like:" + id.String() + ":" + account.String()}})
		if err != nil {
			return err
		}
		evs, err = s.events.Append(ctx, tx, notes)
		return err
	})
	if err != nil {
		return fmt.Errorf("like: %w", err)
	}
	s.events.Publish(ctx, evs)
	return nil
}

// Unlike takes account's like of a post back; not liking it changes
// nothing. The post must still be visible to account.
func (s *Service) Unlike(ctx context.Context, account, id plaza.ID) error {
	if err := s.limits.likes.Take(ctx, account.String(), 1); err != nil {
		return err
	}
	if _, err := s.Get(ctx, account, id); err != nil {
		return err
	}
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM likes WHERE post_id = $1 AND account_id = $2`, id, account)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE posts SET like_count = like_count - 1 WHERE id = $1`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("unlike: %w", err)
	}
	return nil
}
