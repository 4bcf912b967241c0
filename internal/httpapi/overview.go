package httpapi

import (
	"context"
	"net/http"

	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/sqldb"
)

// waitingQueue is one operator queue the console shows a count for: the
// roles that work it and how to count what waits in it.
type waitingQueue struct {
	name  string
	roles []account.Role
	count func(context.Context) (int, error)
}

func (s *Server) waitingQueues() []waitingQueue {
	return []waitingQueue{
		{"identity_reviews", []account.Role{account.Compliance}, s.identity.WaitingReviews},
		{"channel_applications", []account.Role{account.Reviewer}, s.channels.WaitingApplications},
		{"post_reviews", []account.Role{account.Reviewer}, s.channels.WaitingPosts},
		{"microblog_reviews", []account.Role{account.Reviewer}, s.microblog.WaitingReviews},
		{"reports", []account.Role{account.Moderator, account.Admin}, s.moderation.WaitingReports},
		{"appeals", []account.Role{account.Moderator, account.Admin}, s.moderation.WaitingAppeals},
	}
}

// adminOverview answers the console's first screen: how much waits in
// each queue the caller's roles may work (and only those: a reviewer
// learns nothing about reports). Counts stop at count_limit.
func (s *Server) adminOverview(w http.ResponseWriter, r *http.Request) error {
	me := &authOf(r).Account
	waiting := map[string]int{}
	for _, q := range s.waitingQueues() {
		if !me.HasRole(q.roles...) {
			continue
		}
		n, err := q.count(r.Context())
		if err != nil {
			return err
		}
		waiting[q.name] = n
	}
	roles := me.Roles
	if roles == nil {
		roles = []account.Role{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"roles": roles, "waiting": waiting, "count_limit": sqldb.WaitingLimit})
}
