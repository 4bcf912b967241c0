package moderation

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/plaza-im/plaza"
)

// DeleteAccountData empties, inside the erasure's scrub transaction (an
// account.DeleteHook), what a person wrote in their own words to the
// moderators: the comments of the reports they filed and the texts of
// their appeals. The reports, decisions and appeals themselves stay, with
// the content decided on: the transparency report counts them, and a
// decision's statement of reasons must still say what was decided and why.
func DeleteAccountData(ctx context.Context, tx *sql.Tx, id plaza.ID) error {
	for _, q := range []string{
		`UPDATE reports SET comment = '' WHERE reporter_id = $1 AND comment <> ''`,
		`UPDATE appeals SET text = '' WHERE account_id = $1 AND text <> ''`,
	} {
		if _, err := tx.ExecContext(ctx, q, id); err != nil {
			return fmt.Errorf("delete moderation data: %w", err)
		}
	}
	return nil
}
