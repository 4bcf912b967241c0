package media

import (
	"context"
	"fmt"
	"time"

	"github.com/plaza-im/plaza"
)

// The readers below give one account's own uploads to its export (package
// export): the items a page at a time in ascending ID order, and their
// bytes through Open. Media others uploaded is theirs; an export names it
// by ID only.

// YourMedia returns up to limit of owner's items after the ID after, in ID
// order.
func (s *Service) YourMedia(ctx context.Context, owner, after plaza.ID, limit int) ([]Item, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT `+itemColumns+` FROM media
		WHERE owner_id = $1 AND id > $2 ORDER BY id LIMIT $3`, owner, after, limit)
	if err != nil {
		return nil, fmt.Errorf("your media: %w", err)
	}
	defer rows.Close()
	var out []Item
	for rows.Next() {
		var it Item
		var created int64
		if err := rows.Scan(&it.ID, &it.OwnerID, &it.Kind, &it.ContentType, &it.Size, &it.Width, &it.Height, &it.DurationMS,
			&it.key, &it.thumbKey, &it.thumbType, &it.SHA256, &created); err != nil {
			return nil, fmt.Errorf("your media: %w", err)
		}
		it.CreatedAt = time.UnixMicro(created).UTC()
		it.HasThumb = it.thumbKey != ""
		out = append(out, it)
	}
	return out, rows.Err()
}

// YourMediaTotals returns how many items owner has and their bytes.
func (s *Service) YourMediaTotals(ctx context.Context, owner plaza.ID) (items int64, bytes int64, err error) {
	err = s.db.Read().QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(size), 0) FROM media WHERE owner_id = $1`, owner).Scan(&items, &bytes)
	if err != nil {
		return 0, 0, fmt.Errorf("your media totals: %w", err)
	}
	return items, bytes, nil
}
