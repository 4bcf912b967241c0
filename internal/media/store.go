package media

import (
	"context"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/sqldb"
)

const itemColumns = `id, owner_id, kind, content_type, size, width, height, duration_ms, storage_key, thumb_key, thumb_type, sha256, created_at`

func insertItem(ctx context.Context, q sqldb.Queryer, it Item) error {
	_, err := q.ExecContext(ctx, `INSERT INTO media (`+itemColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		it.ID, it.OwnerID, it.Kind, it.ContentType, it.Size, it.Width, it.Height, it.DurationMS, it.key, it.thumbKey, it.thumbType, it.SHA256, it.CreatedAt.UnixMicro())
	return err
}

func getItem(ctx context.Context, db *sqldb.DB, id plaza.ID) (Item, error) {
	var it Item
	var created int64
	err := db.Read().QueryRowContext(ctx, `SELECT `+itemColumns+` FROM media WHERE id = $1`, id).Scan(
		&it.ID, &it.OwnerID, &it.Kind, &it.ContentType, &it.Size, &it.Width, &it.Height, &it.DurationMS, &it.key, &it.thumbKey, &it.thumbType, &it.SHA256, &created)
	if err != nil {
		return Item{}, sqldb.MapError(err, "media")
	}
	it.CreatedAt = time.UnixMicro(created).UTC()
	it.HasThumb = it.thumbKey != ""
	return it, nil
}

// deleteItem removes owner's item id and reports whether there was one.
func deleteItem(ctx context.Context, q sqldb.Queryer, owner, id plaza.ID) (bool, error) {
	res, err := q.ExecContext(ctx, `DELETE FROM media WHERE id = $1 AND owner_id = $2`, id, owner)
	if err != nil {
		return false, sqldb.MapError(err, "media")
	}
	n, err := res.RowsAffected()
	return n > 0, err
}
