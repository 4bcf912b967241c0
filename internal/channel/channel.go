// Package channel runs public accounts: applications that a reviewer
// approves or rejects, channels with owners, editors and followers, posts
// in categories whose policy the operator sets (open, credential, review,
// forbidden), credentials, the post review queue and posting quotas.
//
// A post is stored once and published once on its channel's bus subject;
// nothing is written per follower, whose unread counts come from their
// read position.
package channel

import (
	"context"
	"log/slog"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/audit"
	"github.com/plaza-im/plaza/internal/bus"
	"github.com/plaza-im/plaza/internal/events"
	"github.com/plaza-im/plaza/internal/identity"
	"github.com/plaza-im/plaza/internal/media"
	"github.com/plaza-im/plaza/internal/sqldb"
)

// Channel kinds, with WeChat's default quotas.
const (
	Subscription = "subscription" // 1 post a day
	ServiceKind  = "service"      // 4 posts a month
)

// Category policies.
const (
	PolicyOpen       = "open"
	PolicyCredential = "credential"
	PolicyReview     = "review"
	PolicyForbidden  = "forbidden"
)

// Statuses of applications, channels and posts.
const (
	StatusPending   = "pending"
	StatusApproved  = "approved"
	StatusRejected  = "rejected"
	StatusActive    = "active"
	StatusSuspended = "suspended"
	StatusClosed    = "closed"
	PostPublished   = "published"
	PostPending     = "pending_review"
	PostRejected    = "rejected"
)

// Config holds the operator's rules.
type Config struct {
	// Location is the operator's time zone: quotas count calendar days and
	// months there.
	Location *time.Location
	// SubscriptionDaily and ServiceMonthly are the default quotas.
	SubscriptionDaily int
	ServiceMonthly    int
}

// DefaultConfig returns WeChat's quotas in UTC.
func DefaultConfig() Config {
	return Config{Location: time.UTC, SubscriptionDaily: 1, ServiceMonthly: 4}
}

// Service is the public-account domain.
type Service struct {
	db       *sqldb.DB
	bus      bus.Bus
	identity *identity.Service
	media    *media.Service
	cfg      Config
	log      *slog.Logger
	now      func() time.Time
	onFollow func(ctx context.Context, account plaza.ID, c events.FollowControl)
	audit    *audit.Log
}

// UseAudit makes the service record privileged actions through l (a keyed
// log in a server). Without it, rows are appended unsigned.
func (s *Service) UseAudit(l *audit.Log) { s.audit = l }

// NewService returns a Service. media may be nil (posts without media).
func NewService(db *sqldb.DB, b bus.Bus, ids *identity.Service, m *media.Service, cfg Config, log *slog.Logger) *Service {
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	return &Service{db: db, bus: b, identity: ids, media: m, cfg: cfg, log: log,
		now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }}
}

// FollowedIDs returns the channels an account follows (for the realtime
// hub's subscriptions).
func (s *Service) FollowedIDs(ctx context.Context, account plaza.ID) ([]plaza.ID, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT channel_id FROM channel_followers WHERE account_id = $1`, account)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []plaza.ID
	for rows.Next() {
		var id plaza.ID
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}
