package media

import (
	"context"
	"database/sql"
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

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// scanItem reads one row of itemColumns followed by released_at.
func scanItem(row scanner) (Item, error) {
	var it Item
	var created int64
	var released sql.NullInt64
	if err := row.Scan(&it.ID, &it.OwnerID, &it.Kind, &it.ContentType, &it.Size, &it.Width, &it.Height, &it.DurationMS,
		&it.key, &it.thumbKey, &it.thumbType, &it.SHA256, &created, &released); err != nil {
		return Item{}, err
	}
	it.CreatedAt = time.UnixMicro(created).UTC()
	it.HasThumb = it.thumbKey != ""
	it.Released = released.Valid
	return it, nil
}

// getItem reads item id; a released one only when withReleased is set,
// so that everything but serving treats a deleted item as gone.
func getItem(ctx context.Context, db *sqldb.DB, id plaza.ID, withReleased bool) (Item, error) {
	q := `SELECT ` + itemColumns + `, released_at FROM media WHERE id = $1`
	if !withReleased {
		q += ` AND released_at IS NULL`
	}
	it, err := scanItem(db.Read().QueryRowContext(ctx, q, id))
	if err != nil {
		return Item{}, sqldb.MapError(err, "media")
	}
	return it, nil
}
