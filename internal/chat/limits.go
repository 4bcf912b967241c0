package chat

import (
	"time"

	"github.com/plaza-im/plaza/internal/ratelimit"
	"github.com/plaza-im/plaza/internal/sqldb"
)

// Limits are per-account rate limits on what a script could flood the
// server or other people with. Each allows a burst of N and N per Per
// sustained; a zero Rate is no limit. On PostgreSQL every node charges the
// same budget.
type Limits struct {
	// Sends counts messages sent, over REST and the stream together.
	Sends ratelimit.Rate
	// ContactRequests counts contact requests asked.
	ContactRequests ratelimit.Rate
	// Groups counts groups created.
	Groups ratelimit.Rate
	// Invitations counts people added to groups, at creation or later.
	Invitations ratelimit.Rate
}

// DefaultLimits returns limits that a person never meets and a script
// soon does: 30 messages at once and one a second after; 30 contact
// requests, 20 new groups and 200 people added to groups an hour.
// DefaultConfig has no limits; the server sets these unless run with
// --rate-limits off.
func DefaultLimits() Limits {
	return Limits{
		Sends:           ratelimit.Rate{N: 30, Per: 30 * time.Second},
		ContactRequests: ratelimit.Rate{N: 30, Per: time.Hour},
		Groups:          ratelimit.Rate{N: 20, Per: time.Hour},
		Invitations:     ratelimit.Rate{N: 200, Per: time.Hour},
	}
}

// budgets are the Limits in force; a nil budget allows everything.
type budgets struct {
	sends, contactRequests, groups, invitations *ratelimit.Budget
}

func newBudgets(db *sqldb.DB, l Limits) budgets {
	return budgets{
		sends:           ratelimit.NewBudget(db, "sends", "messages", l.Sends),
		contactRequests: ratelimit.NewBudget(db, "contact_requests", "contact requests", l.ContactRequests),
		groups:          ratelimit.NewBudget(db, "groups", "groups created", l.Groups),
		invitations:     ratelimit.NewBudget(db, "invitations", "people added to groups", l.Invitations),
	}
}
