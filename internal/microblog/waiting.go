package microblog

import (
	"context"

	"github.com/plaza-im/plaza/internal/sqldb"
)

// WaitingReviews counts posts held for review, up to sqldb.WaitingLimit.
func (s *Service) WaitingReviews(ctx context.Context) (int, error) {
	return sqldb.CountUpTo(ctx, s.db.Read(), `FROM posts WHERE status = $1`, sqldb.WaitingLimit, StatusPending)
}
