package channel

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/plaza-im/plaza"
)

// FollowBulk makes many accounts follow a channel in batched statements.
// It is the operator's fast path for load testing (`plaza bench
// --channel`), like account.CreateBulk; it tells no connected device.
func (s *Service) FollowBulk(ctx context.Context, channelID plaza.ID, accounts []plaza.ID) error {
	now := s.now().UnixMicro()
	const chunk = 400
	for start := 0; start < len(accounts); start += chunk {
		part := accounts[start:min(len(accounts), start+chunk)]
		err := s.db.InTx(ctx, func(tx *sql.Tx) error {
			vals := make([]string, len(part))
			args := make([]any, 0, 2*len(part)+1)
			args = append(args, channelID, now)
			for i, a := range part {
				vals[i] = fmt.Sprintf("($1, $%d, $2, $2)", i+3)
				args = append(args, a)
			}
			res, err := tx.ExecContext(ctx, `INSERT INTO channel_followers (channel_id, account_id, followed_at, read_at) VALUES `+
				strings.Join(vals, ", ")+` ON CONFLICT (channel_id, account_id) DO NOTHING`, args...)
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			_, err = tx.ExecContext(ctx, `UPDATE channels SET follower_count = follower_count + $1 WHERE id = $2`, n, channelID)
			return err
		})
		if err != nil {
			return fmt.Errorf("follow in bulk: %w", err)
		}
	}
	return nil
}
