package identity

import (
	"context"

	"github.com/plaza-im/plaza/internal/sqldb"
)

// WaitingReviews counts identities waiting for a compliance decision, up
// to sqldb.WaitingLimit. Unlike Reviews it opens no legal name, so it is
// not audited.
func (s *Service) WaitingReviews(ctx context.Context) (int, error) {
	return sqldb.CountUpTo(ctx, s.db.Read(), `FROM identities WHERE status = $1`, sqldb.WaitingLimit, StatusPending)
}
