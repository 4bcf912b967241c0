package media

import (
	"context"
	"fmt"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/sqldb"
)

// Delete deletes owner's item id. It frees the owner's quota at once, and
// from then on the item is neither listed, nor attachable to anything new,
// nor the owner's to fetch as its uploader.
//
// A sent message that still carries the item keeps it readable for that
// conversation's members (the uploader too, as a member), as chat's
// CanSeeMedia decides: deleting one's copy does not take back what others
// received. Recalling the message ends that, and then the sweep removes
// the row and the bytes. An item that no message carries (never sent, or
// only in posts and channel posts) is removed here and now, bytes and
// all; in posts, deleted means gone.
//
// An item that does not exist, belongs to someone else or was already
// deleted is not_found, so the answer does not reveal which. Of two
// concurrent deletes of one item, one succeeds and the other is not_found.
func (s *Service) Delete(ctx context.Context, owner, id plaza.ID) error {
	res, err := s.db.Write().ExecContext(ctx, `UPDATE media SET released_at = $3 WHERE id = $1 AND owner_id = $2 AND released_at IS NULL`,
		id, owner, s.now().UnixMicro())
	if err != nil {
		return fmt.Errorf("delete media: %w", sqldb.MapError(err, "media"))
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("delete media: %w", err)
	} else if n == 0 {
		return plaza.Errorf(plaza.ENotFound, "media not found")
	}
	// The quota is free and the item unreachable from here on; what is
	// left is removing what no message carries. The request may be gone,
	// but that should happen anyway, and if it fails the cleaner's sweep
	// finishes it.
	if _, err := s.sweep(context.WithoutCancel(ctx), id); err != nil {
		s.log.Warn("could not remove deleted media yet; the cleaner will", "media_id", id.String(), "err", err)
	}
	return nil
}

// sweepBatch bounds the released items one sweep statement handles.
const sweepBatch = 200

// SweepReleased removes the rows and bytes of deleted items that no
// message carries any more (their messages were recalled) and returns how
// many it removed. Every node may run it at once: each step is
// conditional and deleting bytes twice is harmless.
func (s *Service) SweepReleased(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := s.sweep(ctx, 0)
		total += n
		if err != nil || n < sweepBatch {
			return total, err
		}
	}
}

// releasedItem is what the sweep needs of a released item.
type releasedItem struct {
	id            plaza.ID
	key, thumbKey string
}

// sweep removes up to sweepBatch released items that no message carries,
// only item id when it is not 0, and returns how many rows it removed. The bytes go first and the row last, so
// a crash in between leaves a row that the next sweep finds again rather
// than bytes nothing points to. A message sent while the item was being
// released may still carry it; the row's delete re-checks that.
func (s *Service) sweep(ctx context.Context, id plaza.ID) (int, error) {
	q := `SELECT id, storage_key, thumb_key FROM media WHERE released_at IS NOT NULL` + unreferenced
	args := []any{}
	if id != 0 {
		q += ` AND id = $1`
		args = append(args, id)
	}
	q += fmt.Sprintf(` ORDER BY released_at LIMIT %d`, sweepBatch)
	rows, err := s.db.Read().QueryContext(ctx, q, args...)
	if err != nil {
		return 0, fmt.Errorf("sweep deleted media: %w", err)
	}
	var items []releasedItem
	for rows.Next() {
		var it releasedItem
		if err := rows.Scan(&it.id, &it.key, &it.thumbKey); err != nil {
			rows.Close()
			return 0, fmt.Errorf("sweep deleted media: %w", err)
		}
		items = append(items, it)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("sweep deleted media: %w", err)
	}
	gone := make([]any, 0, len(items))
	for _, it := range items {
		if err := s.deleteBytes(ctx, it); err != nil {
			// Its row stays, so the next sweep tries again.
			s.log.Warn("could not delete media bytes", "media_id", it.id.String(), "err", err)
			continue
		}
		gone = append(gone, it.id)
	}
	if len(gone) == 0 {
		return 0, nil
	}
	list, args := s.db.InList(1, gone)
	res, err := s.db.Write().ExecContext(ctx, `DELETE FROM media WHERE id IN (`+list+`) AND released_at IS NOT NULL`+unreferenced, args...)
	if err != nil {
		return 0, fmt.Errorf("sweep deleted media: %w", err)
	}
	// Another node sweeping at the same time may have removed some of
	// the rows: count only this one's.
	n, err := res.RowsAffected()
	return int(n), err
}

// unreferenced keeps media rows that no message carries. Recalling a
// message clears its media_id, so only sent, unrecalled messages count.
const unreferenced = ` AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.media_id = media.id)`

// deleteBytes deletes an item's bytes and thumbnail; missing ones are no
// error.
func (s *Service) deleteBytes(ctx context.Context, it releasedItem) error {
	for _, key := range []string{it.key, it.thumbKey} {
		if key == "" {
			continue
		}
		if err := s.store.Delete(ctx, key); err != nil {
			return err
		}
	}
	return nil
}
