package media

import (
	"context"
	"fmt"

	"github.com/plaza-im/plaza"
)

// Delete removes owner's item id: its record at once, so its bytes stop
// counting against the quota and no one can fetch it any more, then its
// bytes and thumbnail from the blob store. Messages and posts that carry
// the item keep their place and its ID; fetching it answers not_found to
// everyone from then on. An item that does not exist or belongs to
// someone else is not_found, so the answer does not reveal which.
func (s *Service) Delete(ctx context.Context, owner, id plaza.ID) error {
	it, err := getItem(ctx, s.db, id)
	if plaza.ErrorCode(err) == plaza.ENotFound || err == nil && it.OwnerID != owner {
		return plaza.Errorf(plaza.ENotFound, "media not found")
	}
	if err != nil {
		return fmt.Errorf("delete media: %w", err)
	}
	found, err := deleteItem(ctx, s.db.Write(), owner, id)
	if err != nil {
		return fmt.Errorf("delete media: %w", err)
	}
	if !found {
		// A concurrent delete won; it removes the bytes.
		return plaza.Errorf(plaza.ENotFound, "media not found")
	}
	// The record is gone, so the bytes are unreachable: a failure here
	// leaves an orphan in the store, not a broken item. The request may
	// be gone, but the bytes should go anyway.
	ctx = context.WithoutCancel(ctx)
	for _, key := range []string{it.key, it.thumbKey} {
		if key == "" {
			continue
		}
		if err := s.store.Delete(ctx, key); err != nil {
			s.log.Warn("could not delete media bytes", "media_id", id.String(), "err", err)
		}
	}
	return nil
}
