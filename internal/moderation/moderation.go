// Package moderation runs moderation in the open, to the standard of the
// EU Digital Services Act: the operator's numbered rules, reports by
// anyone of what they can see (grouped per target into one queue item),
// decisions by people — never by automated means — that cite a rule and
// send the affected person a statement of reasons (Art. 17), one appeal
// per decision decided by a second moderator (Art. 20), the requests of
// authorities, and a public transparency report counted from the audit
// log (Art. 15 and 24).
//
// The package does not know how content is stored: each kind of target
// (a microblog post, a message, a channel, a channel post, an account) is
// a Target that the server registers while wiring, and the content's own
// domain applies the decision's effect on every read (plaza.Moderation).
package moderation

import (
	"context"
	"database/sql"
	"log/slog"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/audit"
	"github.com/plaza-im/plaza/internal/events"
	"github.com/plaza-im/plaza/internal/ratelimit"
	"github.com/plaza-im/plaza/internal/sqldb"
)

// Target types: what can be reported and decided on.
const (
	TargetPost        = "post"
	TargetMessage     = "message"
	TargetAccount     = "account"
	TargetChannel     = "channel"
	TargetChannelPost = "channel_post"
)

// Actions a decision may take.
const (
	Dismiss = "dismiss"
	Label   = plaza.ModLabel
	Limit   = plaza.ModLimit
	Remove  = plaza.ModRemove
	Suspend = "suspend"
	Close   = "close"
)

// Sources of a decision (DSA Art. 17(3)(b)).
const (
	SourceReport         = "report"
	SourceOwnInitiative  = "own_initiative"
	SourceAuthorityOrder = "authority_order"
)

// allowed lists the actions that make sense for each target type:
// suspend and close act on the account behind the target.
var allowed = map[string][]string{
	TargetPost:        {Dismiss, Label, Limit, Remove, Suspend, Close},
	TargetChannelPost: {Dismiss, Label, Limit, Remove, Suspend, Close},
	TargetChannel:     {Dismiss, Label, Limit, Remove, Suspend, Close},
	TargetMessage:     {Dismiss, Label, Remove, Suspend, Close},
	TargetAccount:     {Dismiss, Suspend, Close},
}

// Snapshot is a target as it was when reported or decided on: what the
// moderator reviews and what the statement of reasons names as the
// content concerned, kept even if the target is edited or deleted since.
type Snapshot struct {
	Type           string     `json:"type"`
	ID             plaza.ID   `json:"id"`
	OwnerID        plaza.ID   `json:"owner_id,omitempty"`
	ConversationID plaza.ID   `json:"conversation_id,omitempty"`
	ChannelID      plaza.ID   `json:"channel_id,omitempty"`
	Seq            int64      `json:"seq,omitempty"`
	Kind           string     `json:"kind,omitempty"`
	Title          string     `json:"title,omitempty"`
	Text           string     `json:"text,omitempty"`
	MediaIDs       []plaza.ID `json:"media_ids,omitempty"`
	Handle         string     `json:"handle,omitempty"`
	DisplayName    string     `json:"display_name,omitempty"`
	Name           string     `json:"name,omitempty"`
	Description    string     `json:"description,omitempty"`
	Status         string     `json:"status,omitempty"`
	CreatedAt      *time.Time `json:"created_at,omitempty"`
}

// Target is one kind of thing that can be reported and decided on. Each
// has a real implementation in the domain that stores it (see targets.go).
type Target interface {
	// Visible returns the target as viewer sees it, or not_found when
	// viewer may not see it: nobody reports what they cannot see.
	Visible(ctx context.Context, viewer, id plaza.ID) (Snapshot, error)
	// View returns the target as a moderator sees it, whatever its
	// state; not_found only when it never existed.
	View(ctx context.Context, id plaza.ID) (Snapshot, error)
	// Apply sets the target's moderation state inside tx and returns the
	// events to publish once tx has committed. Accounts, which are
	// suspended or closed rather than labelled, return an error.
	Apply(ctx context.Context, tx *sql.Tx, id plaza.ID, m plaza.Moderation) ([]events.Pending, error)
	// Responsible returns the accounts that answer for the target: its
	// author or owner and, for a channel and its posts, the channel's
	// owner and editors. None of them may decide about it.
	Responsible(ctx context.Context, id plaza.ID) ([]plaza.ID, error)
}

// Evidencer is a Target whose reports carry evidence: for a message, the
// message and, when the reporter asks, the ones before it.
type Evidencer interface {
	Evidence(ctx context.Context, reporter, id plaza.ID, before int) ([]Snapshot, error)
}

// Config holds the moderation rules an operator may change.
type Config struct {
	// AppealWindow is how long after a decision it may be appealed.
	AppealWindow time.Duration
	// Reports is each account's report budget.
	Reports ratelimit.Rate
	// MaxContext bounds the earlier messages a message report may carry.
	MaxContext int
}

// DefaultConfig returns the defaults: 180 days to appeal, 30 reports an
// hour per account, 10 messages of context.
func DefaultConfig() Config {
	return Config{AppealWindow: 180 * 24 * time.Hour, Reports: ratelimit.Rate{N: 30, Per: time.Hour}, MaxContext: 10}
}

// Service is the moderation domain.
type Service struct {
	db       *sqldb.DB
	accounts *account.Service
	audit    *audit.Log
	events   *events.Log
	cfg      Config
	log      *slog.Logger
	now      func() time.Time
	targets  map[string]Target
	reports  *ratelimit.Budget
	report   *transparencyCache
	counting chan struct{}
	days     dayCache
}

// NewService returns the moderation service and seeds the default rules
// on first start. Register the targets before serving.
func NewService(ctx context.Context, db *sqldb.DB, accounts *account.Service, auditLog *audit.Log, evlog *events.Log, cfg Config, log *slog.Logger) (*Service, error) {
	if log == nil {
		log = slog.Default()
	}
	if cfg.MaxContext <= 0 {
		cfg.MaxContext = 10
	}
	if cfg.AppealWindow <= 0 {
		cfg.AppealWindow = DefaultConfig().AppealWindow
	}
	s := &Service{
		db: db, accounts: accounts, audit: auditLog, events: evlog, cfg: cfg, log: log,
		now:      func() time.Time { return time.Now().UTC() },
		targets:  map[string]Target{},
		reports:  ratelimit.NewBudget(db, "reports", "reports", cfg.Reports),
		report:   newTransparencyCache(),
		counting: make(chan struct{}, 2),
	}
	s.targets[TargetAccount] = accountTarget{accounts}
	if err := s.seedRules(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Register makes a target type reportable. Call it while wiring.
func (s *Service) Register(targetType string, t Target) { s.targets[targetType] = t }

func (s *Service) target(typ string) (Target, error) {
	t, ok := s.targets[typ]
	if !ok {
		return nil, plaza.Invalid("target_type", "must be one of post, message, account, channel, channel_post")
	}
	return t, nil
}

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }
