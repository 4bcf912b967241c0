package media

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/account"
)

// eraseBatch is how many items one round of an erasure deletes: their
// bytes, then their rows in one short transaction.
const eraseBatch = 100

// EraseOwner is the erasure's media step (an account.EraseStep), run after
// the account is scrubbed: it deletes every item the account uploaded,
// those it sent into other people's conversations and posts included,
// then its upload reservations and quota lock. Each round deletes a
// batch's bytes first and its rows after, so a crash in between leaves
// rows whose bytes are gone: the next run deletes those keys again (a
// missing key is no error) and then the rows. Nothing is left behind in
// the store, and a message that carried an item answers not_found for it
// from then on.
func (s *Service) EraseOwner(ctx context.Context, owner plaza.ID, inTx account.TxFunc) error {
	for {
		ids, keys, err := s.ownerBatch(ctx, owner)
		if err != nil {
			return fmt.Errorf("erase media: %w", err)
		}
		if len(ids) == 0 {
			break
		}
		for _, key := range keys {
			if err := s.store.Delete(ctx, key); err != nil {
				return fmt.Errorf("erase media: %w", err)
			}
		}
		err = inTx(ctx, func(tx *sql.Tx) error {
			ph := make([]string, len(ids))
			args := []any{owner}
			for i, id := range ids {
				ph[i] = s.db.Param(i + 2)
				args = append(args, id)
			}
			_, err := tx.ExecContext(ctx, `DELETE FROM media WHERE owner_id = $1 AND id IN (`+strings.Join(ph, ", ")+`)`, args...)
			return err
		})
		if err != nil {
			return fmt.Errorf("erase media: %w", err)
		}
	}
	err := inTx(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{`DELETE FROM media_reservations WHERE owner_id = $1`, `DELETE FROM media_quota_locks WHERE owner_id = $1`} {
			if _, err := tx.ExecContext(ctx, q, owner); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("erase media: %w", err)
	}
	return nil
}

// ownerBatch returns up to eraseBatch of owner's items and the blob keys
// of their bytes and thumbnails.
func (s *Service) ownerBatch(ctx context.Context, owner plaza.ID) ([]plaza.ID, []string, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT id, storage_key, thumb_key FROM media WHERE owner_id = $1 ORDER BY id LIMIT $2`, owner, eraseBatch)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var ids []plaza.ID
	var keys []string
	for rows.Next() {
		var id plaza.ID
		var key, thumb string
		if err := rows.Scan(&id, &key, &thumb); err != nil {
			return nil, nil, err
		}
		ids = append(ids, id)
		for _, k := range []string{key, thumb} {
			if k != "" {
				keys = append(keys, k)
			}
		}
	}
	return ids, keys, rows.Err()
}
