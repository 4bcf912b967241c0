package media

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/sqldb"
)

// A Reservation holds quota for an upload in progress. The check that
// stored bytes plus every live reservation plus the new one fit the quota
// and the insertion of the reservation happen in one transaction, locked
// per account, so concurrent uploads cannot together pass the quota. The
// reservation is deleted in the transaction that inserts the media row,
// released when the upload fails or is terminated, or lapses at its
// expiry (a crashed request, an abandoned resumable upload).
type Reservation struct {
	ID    plaza.ID
	Owner plaza.ID
	Bytes int64
}

// Usage is an account's media storage.
type Usage struct {
	// Used is the bytes of stored media the account has not deleted.
	Used int64 `json:"used_bytes"`
	// Reserved is the bytes held by uploads in progress, resumable ones
	// at their declared length.
	Reserved int64 `json:"reserved_bytes"`
	// Unfinished counts resumable uploads in progress.
	Unfinished int `json:"unfinished_uploads"`
	// Kept is the bytes of media the account deleted that sent messages
	// still carry: kept for those conversations until the messages are
	// recalled. It does not count against the quota, but it is bounded by
	// an allowance of the same size (see Reserve).
	Kept int64 `json:"kept_bytes"`
}

// Reservation lifetimes. A single-request upload's reservation outlives
// any request deadline; a resumable upload's is renewed by every PATCH
// (Touch) and lapses with the upload's files, pruned a day after their
// last write.
const (
	requestReservationTTL   = 2 * time.Hour
	resumableReservationTTL = 24 * time.Hour
)

// Reserve holds bytes of owner's quota for an upload, or refuses with
// quota_exceeded when the account's stored and reserved bytes leave no
// room, or (resumable) when it already has MaxUnfinished resumable uploads
// in progress.
func (s *Service) Reserve(ctx context.Context, owner plaza.ID, bytes int64, resumable bool) (Reservation, error) {
	if bytes < 0 {
		return Reservation{}, plaza.Invalid("size", "must not be negative")
	}
	res := Reservation{ID: plaza.NewID(), Owner: owner, Bytes: bytes}
	now := s.now()
	ttl, flag := requestReservationTTL, 0
	if resumable {
		ttl, flag = resumableReservationTTL, 1
	}
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		// Lock the account's row first: on PostgreSQL a second
		// reservation waits here and then sees the first one's row.
		if _, err := tx.ExecContext(ctx, `INSERT INTO media_quota_locks (owner_id, n) VALUES ($1, 1)
			ON CONFLICT (owner_id) DO UPDATE SET n = media_quota_locks.n + 1`, owner); err != nil {
			return sqldb.MapError(err, "media quota")
		}
		u, err := usage(ctx, tx, owner, now)
		if err != nil {
			return err
		}
		if resumable && u.Unfinished >= s.cfg.MaxUnfinished {
			return plaza.Errorf(plaza.EQuotaExceeded, "you have %d unfinished resumable uploads, the most allowed: finish or cancel (DELETE) one first", u.Unfinished).
				WithDetails(map[string]any{"unfinished_uploads": u.Unfinished, "limit": s.cfg.MaxUnfinished})
		}
		if u.Used+u.Reserved+bytes > s.cfg.Quota {
			return quotaError(u, s.cfg.Quota)
		}
		// Deleting frees the quota at once, but media a sent message
		// carries stays for that conversation. Without a bound, upload,
		// send to oneself, delete, repeat would store without limit: what
		// is kept may add up to one more quota's worth, no more.
		if u.Used+u.Kept+u.Reserved+bytes > 2*s.cfg.Quota {
			return plaza.Errorf(plaza.EQuotaExceeded, "media you deleted that your sent messages still carry takes %d MiB; with what you store, that leaves no room: recall those messages (within the recall window) or delete other media first",
				u.Kept>>20).
				WithDetails(map[string]any{"used_bytes": u.Used, "reserved_bytes": u.Reserved, "kept_bytes": u.Kept, "quota_bytes": s.cfg.Quota})
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO media_reservations (id, owner_id, bytes, resumable, expires_at) VALUES ($1, $2, $3, $4, $5)`,
			res.ID, owner, bytes, flag, now.Add(ttl).UnixMicro())
		return sqldb.MapError(err, "media reservation")
	})
	if err != nil {
		return Reservation{}, fmt.Errorf("reserve media quota: %w", err)
	}
	return res, nil
}

func quotaError(u Usage, quota int64) error {
	return plaza.Errorf(plaza.EQuotaExceeded, "your media storage is full (%d of %d MiB used, %d MiB held by uploads in progress): delete media you no longer need (DELETE /api/v1/media/{id}) first",
		u.Used>>20, quota>>20, u.Reserved>>20).
		WithDetails(map[string]any{"used_bytes": u.Used, "reserved_bytes": u.Reserved, "quota_bytes": quota})
}

// usage reads an account's usage; lapsed reservations and deleted
// (released) items do not count as used, and the deleted items still
// stored (messages carry them) are counted apart as kept.
func usage(ctx context.Context, q sqldb.Queryer, owner plaza.ID, now time.Time) (Usage, error) {
	var u Usage
	err := q.QueryRowContext(ctx, `SELECT
		(SELECT COALESCE(SUM(size), 0) FROM media WHERE owner_id = $1 AND released_at IS NULL),
		(SELECT COALESCE(SUM(bytes), 0) FROM media_reservations WHERE owner_id = $1 AND expires_at > $2),
		(SELECT COUNT(*) FROM media_reservations WHERE owner_id = $1 AND expires_at > $2 AND resumable = 1),
		(SELECT COALESCE(SUM(size), 0) FROM media WHERE owner_id = $1 AND released_at IS NOT NULL)`,
		owner, now.UnixMicro()).Scan(&u.Used, &u.Reserved, &u.Unfinished, &u.Kept)
	if err != nil {
		return Usage{}, fmt.Errorf("media usage: %w", err)
	}
	return u, nil
}

// Usage returns owner's stored and reserved bytes.
func (s *Service) Usage(ctx context.Context, owner plaza.ID) (Usage, error) {
	return usage(ctx, s.db.Read(), owner, s.now())
}

// Release gives a reservation's bytes back. Releasing one already settled,
// released or lapsed does nothing.
func (s *Service) Release(ctx context.Context, id plaza.ID) error {
	_, err := s.db.Write().ExecContext(ctx, `DELETE FROM media_reservations WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("release media reservation: %w", err)
	}
	return nil
}

// Touch renews a resumable upload's reservation after it received bytes,
// so an upload in steady progress never lapses.
func (s *Service) Touch(ctx context.Context, id plaza.ID) error {
	_, err := s.db.Write().ExecContext(ctx, `UPDATE media_reservations SET expires_at = $2 WHERE id = $1`,
		id, s.now().Add(resumableReservationTTL).UnixMicro())
	if err != nil {
		return fmt.Errorf("renew media reservation: %w", err)
	}
	return nil
}

// PruneReservations deletes lapsed reservations (they already no longer
// count) and returns how many.
func (s *Service) PruneReservations(ctx context.Context) (int64, error) {
	res, err := s.db.Write().ExecContext(ctx, `DELETE FROM media_reservations WHERE expires_at <= $1`, s.now().UnixMicro())
	if err != nil {
		return 0, fmt.Errorf("prune media reservations: %w", err)
	}
	return res.RowsAffected()
}

// settle inserts the item and deletes its reservation in one transaction,
// so the bytes move from reserved to used without a moment counted twice
// or not at all.
func settle(ctx context.Context, db *sqldb.DB, it Item, res plaza.ID) error {
	return db.InTx(ctx, func(tx *sql.Tx) error {
		if err := insertItem(ctx, tx, it); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM media_reservations WHERE id = $1`, res)
		return err
	})
}
