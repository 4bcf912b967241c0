package moderation

import (
	"context"

	"github.com/plaza-im/plaza/internal/sqldb"
)

// WaitingReports counts reported items not yet decided, and WaitingAppeals
// appeals not yet decided, each up to sqldb.WaitingLimit.
func (s *Service) WaitingReports(ctx context.Context) (int, error) {
	return sqldb.CountUpTo(ctx, s.db.Read(), `FROM report_items WHERE status = $1`, sqldb.WaitingLimit, StatusOpen)
}

func (s *Service) WaitingAppeals(ctx context.Context) (int, error) {
	return sqldb.CountUpTo(ctx, s.db.Read(), `FROM appeals WHERE status = $1`, sqldb.WaitingLimit, StatusOpen)
}
