package audit

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/plaza-im/plaza/internal/sqldb"
)

// Rehash rewrites the chain from row from onward as a tamperer with write
// access to the database would: each row re-hashed over the new previous
// hash, with key (plain SHA-256 when nil) named keyID, and the head moved
// to the new tip.
func Rehash(ctx context.Context, db *sqldb.DB, from int64, key []byte, keyID string) error {
	return db.InTx(ctx, func(tx *sql.Tx) error {
		var prev string
		if from > 1 {
			if err := tx.QueryRowContext(ctx, `SELECT hash FROM audit_log WHERE seq = $1`, from-1).Scan(&prev); err != nil {
				return err
			}
		}
		rows, err := tx.QueryContext(ctx, selectEntry+` WHERE seq >= $1 ORDER BY seq`, from)
		if err != nil {
			return err
		}
		type row struct {
			e       Entry
			details string
		}
		var all []row
		for rows.Next() {
			e, d, err := scanEntry(rows)
			if err != nil {
				rows.Close()
				return err
			}
			all = append(all, row{e, d})
		}
		rows.Close()
		for _, r := range all {
			r.e.PrevHash, r.e.KeyID = prev, keyID
			r.e.Hash = hashEntry(r.e, r.details, key)
			if _, err := tx.ExecContext(ctx, `UPDATE audit_log SET prev_hash = $1, hash = $2, key_id = $3 WHERE seq = $4`, r.e.PrevHash, r.e.Hash, keyID, r.e.Seq); err != nil {
				return err
			}
			prev = r.e.Hash
		}
		if len(all) == 0 {
			return fmt.Errorf("no rows from %d", from)
		}
		_, err = tx.ExecContext(ctx, `UPDATE audit_head SET hash = $1 WHERE id = 1`, prev)
		return err
	})
}

// CurrentKey returns the signing key, as a thief of the key file would.
func CurrentKey(k *Keys) (string, []byte) {
	id, key, err := k.signer()
	if err != nil {
		panic(err)
	}
	return id, key
}
