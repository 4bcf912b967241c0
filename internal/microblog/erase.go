package microblog

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/account"
)

// DeleteAccountData removes what the microblog keeps about an account
// that is being deleted, inside the erasure's scrub transaction (register
// it with account's OnDelete, as a method value): its follows both ways
// (with the other accounts' counts), its posts (emptied like deleted
// ones, taking back the counts they added to others' posts) and its
// credentials. Its timeline, notifications and likes, which come by the
// thousand, go afterwards in batches (EraseAccount).
func (s *Service) DeleteAccountData(ctx context.Context, tx *sql.Tx, id plaza.ID) error {
	posts, err := queryPosts(ctx, tx, `SELECT `+postColumns+` FROM posts p WHERE p.author_id = $1 AND p.status <> 'deleted'`, id)
	if err != nil {
		return fmt.Errorf("delete microblog data: %w", err)
	}
	type delta struct{ replies, reposts int64 }
	deltas := map[plaza.ID]*delta{}
	for _, p := range posts {
		for _, ref := range []struct {
			id    *plaza.ID
			reply bool
		}{{p.ReplyTo, true}, {p.RepostOf, false}} {
			if ref.id == nil || p.Status != StatusPublished {
				continue
			}
			d := deltas[*ref.id]
			if d == nil {
				d = &delta{}
				deltas[*ref.id] = d
			}
			if ref.reply {
				d.replies--
			} else {
				d.reposts--
			}
		}
	}
	for _, parent := range sortedKeys(deltas) {
		d := deltas[parent]
		if _, err := tx.ExecContext(ctx, `UPDATE posts SET reply_count = reply_count + $1, repost_count = repost_count + $2 WHERE id = $3`, d.replies, d.reposts, parent); err != nil {
			return fmt.Errorf("delete microblog data: %w", err)
		}
	}
	for _, p := range posts {
		if p.Status == StatusPublished && p.Visibility == Public {
			if err := s.unindex(ctx, tx, p.ID); err != nil {
				return err
			}
		}
		for _, tag := range p.Hashtags {
			if _, err := tx.ExecContext(ctx, `DELETE FROM hashtags WHERE tag = $1 AND post_id = $2`, tag, p.ID); err != nil {
				return fmt.Errorf("delete microblog data: %w", err)
			}
		}
		for _, m := range p.MediaIDs {
			if _, err := tx.ExecContext(ctx, `DELETE FROM post_media WHERE media_id = $1 AND post_id = $2`, m, p.ID); err != nil {
				return fmt.Errorf("delete microblog data: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM mentions WHERE post_id = $1`, p.ID); err != nil {
			return fmt.Errorf("delete microblog data: %w", err)
		}
	}
	for _, q := range []string{
		`UPDATE posts SET status = 'deleted', text = '', media_ids = '[]', hashtags = '[]', mentions = '[]' WHERE author_id = $1 AND status <> 'deleted'`,
		// Others' counts, while the follows still say whose.
		`UPDATE microblog_stats SET follower_count = follower_count - 1 WHERE account_id IN (SELECT followee_id FROM follows WHERE follower_id = $1)`,
		`UPDATE microblog_stats SET following_count = following_count - 1 WHERE account_id IN (SELECT follower_id FROM follows WHERE followee_id = $1)`,
		`DELETE FROM follows WHERE follower_id = $1`,
		`DELETE FROM follows WHERE followee_id = $1`,
		`DELETE FROM fanout_jobs WHERE author_id = $1`,
		`DELETE FROM notification_reads WHERE account_id = $1`,
		`DELETE FROM account_credentials WHERE account_id = $1`,
		`DELETE FROM microblog_stats WHERE account_id = $1`,
	} {
		if _, err := tx.ExecContext(ctx, q, id); err != nil {
			return fmt.Errorf("delete microblog data: %w", err)
		}
	}
	return nil
}

// eraseBatch is how many rows one transaction of an erasure deletes, so
// that the single SQLite writer is held for milliseconds at a time.
const eraseBatch = 1000

// EraseAccount is the erasure's microblog step (an account.EraseStep),
// run after the scrub: it deletes the account's home timeline, its
// notifications and its likes, a batch per transaction. The likes stay
// counted on the posts they liked, as a like's author is not shown. It is
// idempotent.
func (s *Service) EraseAccount(ctx context.Context, id plaza.ID, inTx account.TxFunc) error {
	for _, q := range []string{
		`DELETE FROM timeline WHERE account_id = $1 AND post_id IN (SELECT post_id FROM timeline WHERE account_id = $1 LIMIT $2)`,
		`DELETE FROM notifications WHERE account_id = $1 AND id IN (SELECT id FROM notifications WHERE account_id = $1 LIMIT $2)`,
		`DELETE FROM likes WHERE account_id = $1 AND post_id IN (SELECT post_id FROM likes WHERE account_id = $1 LIMIT $2)`,
	} {
		for {
			var n int64
			err := inTx(ctx, func(tx *sql.Tx) error {
				res, err := tx.ExecContext(ctx, q, id, eraseBatch)
				if err != nil {
					return err
				}
				n, err = res.RowsAffected()
				return err
			})
			if err != nil {
				return fmt.Errorf("erase microblog data: %w", err)
			}
			if n < eraseBatch {
				break
			}
		}
	}
	return nil
}
