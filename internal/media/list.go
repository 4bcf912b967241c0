package media

import (
	"context"
	"fmt"

	"github.com/plaza-im/plaza"
)

// MaxList is the most items one List call returns.
const MaxList = 1000

// List returns owner's media, newest first: the items with an ID below
// before (all of them when before is 0), at most limit of them (limit is
// held to 1…MaxList). Items the owner deleted are not listed, even while
// a message still carries them: they are no longer the owner's.
// IDs are time-sortable, so the last item's ID is the next page's before.
func (s *Service) List(ctx context.Context, owner, before plaza.ID, limit int) ([]Item, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	limit = min(max(limit, 1), MaxList)
	rows, err := s.db.Read().QueryContext(ctx, `SELECT `+itemColumns+`, released_at FROM media
		WHERE owner_id = $1 AND id < $2 AND released_at IS NULL ORDER BY id DESC LIMIT $3`, owner, before, limit)
	if err != nil {
		return nil, fmt.Errorf("list media: %w", err)
	}
	defer rows.Close()
	items := make([]Item, 0, limit)
	for rows.Next() {
		it, err := scanItem(rows)
		if err != nil {
			return nil, fmt.Errorf("list media: %w", err)
		}
		items = append(items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list media: %w", err)
	}
	return items, nil
}

// InMessages reports which of owner's items ids a sent, unrecalled
// message carries: those stay readable in their conversations after the
// owner deletes them, which a client may want to say before it asks.
func (s *Service) InMessages(ctx context.Context, owner plaza.ID, ids []plaza.ID) (map[plaza.ID]bool, error) {
	out := make(map[plaza.ID]bool, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	vals := make([]any, len(ids))
	for i, id := range ids {
		vals[i] = id
	}
	list, args := s.db.InList(2, vals)
	rows, err := s.db.Read().QueryContext(ctx, `SELECT DISTINCT m.media_id FROM messages m JOIN media ON media.id = m.media_id
		WHERE media.owner_id = `+s.db.Param(1)+` AND m.media_id IN (`+list+`)`, append([]any{owner}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("media in messages: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id plaza.ID
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("media in messages: %w", err)
		}
		out[id] = true
	}
	return out, rows.Err()
}
