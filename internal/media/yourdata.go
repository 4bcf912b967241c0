package media

import (
	"context"
	"fmt"

	"github.com/plaza-im/plaza"
)

// The readers below give one account's own uploads to its export (package
// export): the items a page at a time in ascending ID order, and their
// bytes through Open. Media others uploaded is theirs; an export names it
// by ID only.

// YourMedia returns up to limit of owner's items after the ID after, in ID
// order. Items the owner deleted are left out, as List leaves them out:
// a message may still carry one, but it is no longer the owner's.
func (s *Service) YourMedia(ctx context.Context, owner, after plaza.ID, limit int) ([]Item, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT `+itemColumns+`, released_at FROM media
		WHERE owner_id = $1 AND id > $2 AND released_at IS NULL ORDER BY id LIMIT $3`, owner, after, limit)
	if err != nil {
		return nil, fmt.Errorf("your media: %w", err)
	}
	defer rows.Close()
	var out []Item
	for rows.Next() {
		it, err := scanItem(rows)
		if err != nil {
			return nil, fmt.Errorf("your media: %w", err)
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// YourMediaTotals returns how many items owner has and their bytes.
func (s *Service) YourMediaTotals(ctx context.Context, owner plaza.ID) (items int64, bytes int64, err error) {
	err = s.db.Read().QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(size), 0) FROM media WHERE owner_id = $1 AND released_at IS NULL`, owner).Scan(&items, &bytes)
	if err != nil {
		return 0, 0, fmt.Errorf("your media totals: %w", err)
	}
	return items, bytes, nil
}
