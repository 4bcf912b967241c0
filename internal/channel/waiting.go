package channel

import (
	"context"

	"github.com/plaza-im/plaza/internal/sqldb"
)

// WaitingApplications counts applications for a public account waiting
// for a reviewer, and WaitingPosts channel posts held for review, each up
// to sqldb.WaitingLimit.
func (s *Service) WaitingApplications(ctx context.Context) (int, error) {
	return sqldb.CountUpTo(ctx, s.db.Read(), `FROM channel_applications WHERE status = $1`, sqldb.WaitingLimit, StatusPending)
}

func (s *Service) WaitingPosts(ctx context.Context) (int, error) {
	return sqldb.CountUpTo(ctx, s.db.Read(), `FROM channel_posts WHERE status = $1`, sqldb.WaitingLimit, PostPending)
}
