package channel

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/plaza-im/plaza"
)

// DeleteAccountData removes, inside the erasure's scrub transaction (an
// account.DeleteHook), what public accounts keep about a person: the
// channels they follow (with the follower counts), the channels they edit
// and their applications. The channels they own are closed: nobody runs
// them any more. Their posts stay in the closed channel, hidden like any
// closed channel's.
func (s *Service) DeleteAccountData(ctx context.Context, tx *sql.Tx, id plaza.ID) error {
	for _, q := range []string{
		`UPDATE channels SET follower_count = follower_count - 1 WHERE id IN (SELECT channel_id FROM channel_followers WHERE account_id = $1)`,
		`DELETE FROM channel_followers WHERE account_id = $1`,
		`DELETE FROM channel_editors WHERE account_id = $1`,
		`DELETE FROM channel_applications WHERE applicant_id = $1`,
		`UPDATE channels SET status = 'closed', status_reason = 'the owner deleted their account' WHERE owner_id = $1 AND status <> 'closed'`,
	} {
		if _, err := tx.ExecContext(ctx, q, id); err != nil {
			return fmt.Errorf("delete channel data: %w", err)
		}
	}
	return nil
}
