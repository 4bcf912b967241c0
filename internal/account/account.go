// Package account manages people's accounts: registration with the age gate
// and terms acceptance, passwords, sessions, profiles, roles, suspension and
// closure, and the versioned terms with every recorded consent.
package account

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/audit"
	"github.com/plaza-im/plaza/internal/jobs"
	"github.com/plaza-im/plaza/internal/sqldb"
)

// Status is an account's standing.
type Status string

// Account statuses. A suspension may end by itself (StatusUntil); closure
// is final; a deleted account keeps only its ID and handle, so the handle
// cannot be reused to impersonate its former owner. A memorialised
// account is kept read-only in memory of a person who has died: nobody
// signs in to it any more, its profile and public posts stay.
const (
	Active       Status = "active"
	Suspended    Status = "suspended"
	Closed       Status = "closed"
	Deleted      Status = "deleted"
	Memorialised Status = "memorialised"
)

// Role is a privilege an operator grants to an account.
type Role string

// The roles. Admins run the service; moderators act on reports; reviewers
// approve public accounts and held posts; compliance staff review legal
// identities and are the only ones who see them.
const (
	Admin      Role = "admin"
	Moderator  Role = "moderator"
	Reviewer   Role = "reviewer"
	Compliance Role = "compliance"
)

// Roles lists every role, in a stable order.
var Roles = []Role{Admin, Moderator, Reviewer, Compliance}

// ParseRole returns the role named s.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if !slices.Contains(Roles, r) {
		return "", plaza.Invalid("role", "must be one of admin, moderator, reviewer, compliance")
	}
	return r, nil
}

// Account is a person's account as its owner and the operator see it.
type Account struct {
	ID           plaza.ID
	Handle       string
	DisplayName  string
	BirthDate    string // YYYY-MM-DD
	Status       Status
	StatusReason string
	StatusUntil  time.Time // end of a suspension; zero means indefinite
	// StatusDecision is the moderation decision that suspended or closed
	// the account, if one did.
	StatusDecision plaza.ID
	Roles          []Role
	CreatedAt      time.Time
	// DeletionScheduledAt is when the deletion its owner asked for takes
	// effect; zero when none is scheduled.
	DeletionScheduledAt time.Time
	// Language is what the server writes to the account in (text
	// messages): English or Simplified Chinese.
	Language Language
	// AvatarVersion counts changes of the profile photo; 0 means none.
	AvatarVersion int64
}

// HasRole reports whether a holds any of roles.
func (a *Account) HasRole(roles ...Role) bool {
	for _, r := range roles {
		if slices.Contains(a.Roles, r) {
			return true
		}
	}
	return false
}

// effectiveStatus lifts a suspension whose end has passed, so nobody has to
// run a job to end it.
func (a *Account) effectiveStatus(now time.Time) {
	if a.Status == Suspended && !a.StatusUntil.IsZero() && !now.Before(a.StatusUntil) {
		a.Status, a.StatusReason, a.StatusUntil, a.StatusDecision = Active, "", time.Time{}, 0
	}
}

// Config holds the account rules an operator may change.
type Config struct {
	// MinAge is the minimum age in whole years to register.
	MinAge int
	// SessionTTL is how long a session lives after its last use (at least
	// two hours; shorter values fall back to the default).
	SessionTTL time.Duration
	// MaxSessions bounds the sessions of one account; the least recently
	// used go first.
	MaxSessions int
	// Password sets the Argon2id cost for new hashes.
	Password PasswordParams
	// Location is the operator's time zone, used for ages.
	Location *time.Location
	// DeletionGrace is how long after its owner asks an account is
	// erased; until then they may sign in and cancel.
	DeletionGrace time.Duration
}

// DefaultConfig returns the defaults: minimum age 14, sessions idle for 90
// days expire, 50 sessions per account, Argon2id m=19 MiB t=2 p=1, and 14
// days' grace before a deletion takes effect.
func DefaultConfig() Config {
	return Config{
		MinAge:        14,
		SessionTTL:    90 * 24 * time.Hour,
		MaxSessions:   50,
		Password:      DefaultPasswordParams,
		Location:      time.UTC,
		DeletionGrace: DefaultDeletionGrace,
	}
}

// DefaultDeletionGrace is the grace period before a deletion takes effect.
const DefaultDeletionGrace = 14 * 24 * time.Hour

// Service is the account domain.
type Service struct {
	db       *sqldb.DB
	cfg      Config
	hasher   *hasher
	now      func() time.Time
	onDelete []DeleteHook
	audit    *audit.Log
	// onStanding hooks run after a change to sessions or standing commits.
	onStanding []StandingHook
	standing   standingCache
	// jobs runs the erasures of accounts whose grace period is over
	// (UseJobs); onErase are the steps of an erasure after the scrub.
	jobs    *jobs.Queue
	onErase []EraseStep
}

// UseAudit makes the service record privileged actions through l (a keyed
// log in a server). Without it, rows are appended unsigned.
func (s *Service) UseAudit(l *audit.Log) { s.audit = l }

// DeleteHook removes what another domain keeps about an account, inside
// the transaction that erases it (the one that scrubs the account and
// writes the audit row). Keep it to what fits in one short transaction;
// bulk rows go in an EraseStep.
type DeleteHook func(ctx context.Context, tx *sql.Tx, id plaza.ID) error

// OnDelete registers a hook that runs when an account is erased. Call it
// while wiring the program, before serving.
func (s *Service) OnDelete(h DeleteHook) { s.onDelete = append(s.onDelete, h) }

// NewService returns a Service on db.
func NewService(db *sqldb.DB, cfg Config) *Service {
	def := DefaultConfig()
	if cfg.Location == nil {
		cfg.Location = def.Location
	}
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = def.MaxSessions
	}
	// A session's expiry is pushed back at most once per touchEvery, so a
	// shorter lifetime would end sessions that are in use.
	if cfg.SessionTTL < 2*touchEvery {
		cfg.SessionTTL = def.SessionTTL
	}
	if cfg.Password == (PasswordParams{}) {
		cfg.Password = def.Password
	}
	if cfg.DeletionGrace <= 0 {
		cfg.DeletionGrace = def.DeletionGrace
	}
	// Times are stored to the microsecond; truncating here keeps what
	// Register returns equal to what Get later reads.
	now := func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }
	return &Service{db: db, cfg: cfg, hasher: newHasher(cfg.Password), now: now}
}

// Get returns the account with id, including deleted ones.
func (s *Service) Get(ctx context.Context, id plaza.ID) (Account, error) {
	a, err := getAccount(ctx, s.db.Read(), id)
	if err != nil {
		return Account{}, err
	}
	a.effectiveStatus(s.now())
	return a, nil
}

// GetByHandle returns the account with the given handle.
func (s *Service) GetByHandle(ctx context.Context, handle string) (Account, error) {
	a, err := getAccountByHandle(ctx, s.db.Read(), normalizeHandle(handle))
	if err != nil {
		return Account{}, err
	}
	a.effectiveStatus(s.now())
	return a, nil
}

// Profile is what any signed-in person may see of an account.
type Profile struct {
	ID          plaza.ID
	Handle      string
	DisplayName string
	Status      Status
	// AvatarVersion counts changes of the profile photo; 0 means none.
	AvatarVersion int64
}

// Memorialised reports whether the profile is kept in memory of its owner.
func (p Profile) Memorialised() bool { return p.Status == Memorialised }

// Profile returns the public profile of id. A deleted account answers
// gone, so that clients can show "deleted account" beside the messages it
// left; an ID that never was an account is not found.
func (s *Service) Profile(ctx context.Context, id plaza.ID) (Profile, error) {
	a, err := s.Get(ctx, id)
	if err != nil {
		return Profile{}, err
	}
	if a.Status == Deleted {
		return Profile{}, errDeletedAccount(id)
	}
	return profileOf(a), nil
}

// SetDisplayName changes the display name of id.
func (s *Service) SetDisplayName(ctx context.Context, id plaza.ID, name string) (Account, error) {
	name, rule := cleanDisplayName(name)
	if rule != "" {
		return Account{}, plaza.Invalid("display_name", rule)
	}
	if err := updateDisplayName(ctx, s.db.Write(), id, name, s.now()); err != nil {
		return Account{}, fmt.Errorf("set display name: %w", err)
	}
	return s.Get(ctx, id)
}
