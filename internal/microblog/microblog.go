package microblog

import (
	"context"
	"database/sql"
	"log/slog"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/audit"
	"github.com/plaza-im/plaza/internal/bus"
	"github.com/plaza-im/plaza/internal/events"
	"github.com/plaza-im/plaza/internal/identity"
	"github.com/plaza-im/plaza/internal/media"
	"github.com/plaza-im/plaza/internal/ratelimit"
	"github.com/plaza-im/plaza/internal/sqldb"
)

// Visibilities of a post.
const (
	Public    = "public"
	Followers = "followers"
	Contacts  = "contacts"
)

// Statuses of a post. A deleted post keeps its row, emptied.
const (
	StatusPublished = "published"
	StatusPending   = "pending_review"
	StatusRejected  = "rejected"
	StatusDeleted   = "deleted"
)

// DefaultCategory is the category of a post that names none. It is open
// unless the operator sets a policy for it.
const DefaultCategory = "general"

// Config holds the microblog rules an operator may change.
type Config struct {
	// FanoutThreshold is the follower count from which an author's posts
	// are merged into timelines at read time instead of written to each
	// follower's. Once reached it stays in force for that author, so no
	// post falls between the two ways.
	FanoutThreshold int64
	// FanoutBatch is how many readers one fan-out statement writes.
	FanoutBatch int
	// Backfill is how many recent posts of a newly followed author are
	// copied into the new follower's timeline.
	Backfill int
	// FanoutLease is how long a worker holds a fan-out job before another
	// node may take it over (it renews it with every batch).
	FanoutLease time.Duration
	// FanoutPoll is how often an idle worker looks for jobs that another
	// node queued (jobs queued on this node wake it at once).
	FanoutPoll time.Duration
	// MaxBatch bounds how many posts one group commit carries.
	MaxBatch int
	// Limits are the per-account rate limits (none by default).
	Limits Limits
}

// DefaultConfig returns the defaults: fan-out on read from 10,000
// followers, batches of 1,000 readers, 20 posts backfilled on follow.
func DefaultConfig() Config {
	return Config{
		FanoutThreshold: 10_000,
		FanoutBatch:     1000,
		Backfill:        20,
		FanoutLease:     30 * time.Second,
		FanoutPoll:      time.Second,
		MaxBatch:        256,
	}
}

// Limits are per-account rate limits. Each allows a burst of N and N per
// Per sustained; a zero Rate is no limit. On PostgreSQL every node charges
// the same budget.
type Limits struct {
	Posts   ratelimit.Rate
	Follows ratelimit.Rate
	Likes   ratelimit.Rate
}

// DefaultLimits returns limits a person does not meet and a script soon
// does: 60 posts, 200 follows and 600 likes an hour. DefaultConfig has no
// limits; the server sets these unless run with --rate-limits off.
func DefaultLimits() Limits {
	return Limits{
		Posts:   ratelimit.Rate{N: 60, Per: time.Hour},
		Follows: ratelimit.Rate{N: 200, Per: time.Hour},
		Likes:   ratelimit.Rate{N: 600, Per: time.Hour},
	}
}

// budgets are the Limits in force; a nil budget allows everything.
type budgets struct {
	posts, follows, likes *ratelimit.Budget
}

// Service is the microblog domain.
type Service struct {
	db       *sqldb.DB
	bus      bus.Bus
	accounts *account.Service
	identity *identity.Service
	media    *media.Service
	events   *events.Log
	audit    *audit.Log
	cfg      Config
	log      *slog.Logger
	now      func() time.Time
	limits   budgets
	w        *writer
	// wake tells this node's fan-out worker that a job was queued.
	wake     chan struct{}
	onFollow func(ctx context.Context, account plaza.ID, c events.FollowControl)
	// afterBatch, when set (by tests), runs after each fan-out batch
	// commits.
	afterBatch func()
	// stmts are the hot statements, prepared once (see prepare).
	stmts map[string]*sql.Stmt
}

// NewService returns a Service on db whose events go into evs (the sync
// log the stream delivers) and starts its writer, which runs until Close.
// m may be nil: posts then carry no media.
func NewService(ctx context.Context, db *sqldb.DB, b bus.Bus, accounts *account.Service, ids *identity.Service, m *media.Service, evs *events.Log, cfg Config, log *slog.Logger) (*Service, error) {
	def := DefaultConfig()
	if cfg.FanoutThreshold <= 0 {
		cfg.FanoutThreshold = def.FanoutThreshold
	}
	if cfg.FanoutBatch <= 0 {
		cfg.FanoutBatch = def.FanoutBatch
	}
	if cfg.Backfill < 0 {
		cfg.Backfill = 0
	}
	if cfg.FanoutLease <= 0 {
		cfg.FanoutLease = def.FanoutLease
	}
	if cfg.FanoutPoll <= 0 {
		cfg.FanoutPoll = def.FanoutPoll
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = def.MaxBatch
	}
	s := &Service{db: db, bus: b, accounts: accounts, identity: ids, media: m, events: evs, cfg: cfg, log: log,
		now:  func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
		wake: make(chan struct{}, 1),
		limits: budgets{
			posts:   ratelimit.NewBudget(db, "posts", "posts", cfg.Limits.Posts),
			follows: ratelimit.NewBudget(db, "follows", "follows", cfg.Limits.Follows),
			likes:   ratelimit.NewBudget(db, "likes", "likes", cfg.Limits.Likes),
		},
	}
	if err := s.prepare(ctx); err != nil {
		return nil, err
	}
	s.w = newWriter(s)
	return s, nil
}

// Close stops the writer after the posts already queued are committed,
// and releases the prepared statements.
func (s *Service) Close() {
	s.w.close()
	s.closeStmts()
}

// UseAudit makes the service record privileged actions through l (a keyed
// log in a server). Without it, rows are appended unsigned.
func (s *Service) UseAudit(l *audit.Log) { s.audit = l }

// OnFollowChange registers who carries follows of authors above the
// fan-out threshold to connected devices (the realtime hub, over the
// bus). Call it while wiring.
func (s *Service) OnFollowChange(f func(ctx context.Context, account plaza.ID, c events.FollowControl)) {
	s.onFollow = f
}

// wakeWorker tells this node's fan-out worker to look for jobs.
func (s *Service) wakeWorker() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}
