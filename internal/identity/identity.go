// Package identity verifies who people are, at two levels: a phone number
// confirmed by a code sent by SMS, and a legal identity (name and document)
// reviewed by the compliance role or an external provider. Legal names and
// document numbers are sealed with AES-256-GCM under the operator's key,
// bound to their row; only the compliance review queue ever opens them, and
// each look is written to the audit log. The verification policy — which
// actions need which level — lives here too, as the one check every
// feature calls.
package identity

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/audit"
	"github.com/plaza-im/plaza/internal/sms"
	"github.com/plaza-im/plaza/internal/sqldb"
)

// Config holds the operator's identity rules.
type Config struct {
	// Policy says which actions need which level.
	Policy Policy
	// OneAccountPerPhone refuses a number already verified on another
	// account.
	OneAccountPerPhone bool
	// DefaultRegion lets people type national numbers ("13800138000")
	// for one region (ISO code such as "CN"); empty requires the +
	// international form.
	DefaultRegion string
	// CodeTTL, MaxAttempts and ResendAfter bound phone codes.
	CodeTTL     time.Duration
	MaxAttempts int
	ResendAfter time.Duration
	// ServiceName appears in the SMS text.
	ServiceName string
}

// DefaultConfig returns the defaults: DESIGN.md's policy, one account per
// number, codes valid 10 minutes with 5 attempts and a 60 s resend wait.
func DefaultConfig() Config {
	return Config{
		Policy:             DefaultPolicy(),
		OneAccountPerPhone: true,
		CodeTTL:            10 * time.Minute,
		MaxAttempts:        5,
		ResendAfter:        60 * time.Second,
		ServiceName:        "Plaza",
	}
}

// Service is the identity domain.
type Service struct {
	db    *sqldb.DB
	keys  *Keyring
	sms   sms.Sender
	cfg   Config
	now   func() time.Time
	audit *audit.Log

	// phones remembers accounts with a verified phone. A phone is only
	// ever added, or removed with the whole account (whose standing then
	// refuses everything first), so the answer never goes stale, and the
	// hot paths that require a phone (every message sent, under the
	// default policy) skip a query.
	phonesMu sync.Mutex
	phones   map[plaza.ID]struct{}
}

// phonesMax bounds the remembered accounts; past it the set starts over.
const phonesMax = 500_000

func (s *Service) hasPhone(id plaza.ID) bool {
	s.phonesMu.Lock()
	defer s.phonesMu.Unlock()
	_, ok := s.phones[id]
	return ok
}

func (s *Service) rememberPhone(id plaza.ID) {
	s.phonesMu.Lock()
	defer s.phonesMu.Unlock()
	if s.phones == nil || len(s.phones) >= phonesMax {
		s.phones = make(map[plaza.ID]struct{})
	}
	s.phones[id] = struct{}{}
}

// UseAudit makes the service record privileged actions through l (a keyed
// log in a server). Without it, rows are appended unsigned.
func (s *Service) UseAudit(l *audit.Log) { s.audit = l }

// NewService returns a Service. keys seals legal identities; sender
// delivers phone codes.
func NewService(db *sqldb.DB, keys *Keyring, sender sms.Sender, cfg Config) *Service {
	if cfg.Policy == nil {
		cfg.Policy = DefaultPolicy()
	}
	return &Service{db: db, keys: keys, sms: sender, cfg: cfg, now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }}
}

// Identity statuses as seen by the account's owner.
const (
	StatusNone     = "none"
	StatusPending  = "pending"
	StatusVerified = "verified"
	StatusRejected = "rejected"
)

// Status is an account's verification state.
type Status struct {
	Phone    bool
	Identity string // none, pending, verified or rejected
	// Reason is the reviewer's reason for the latest decision.
	Reason string
}

// Level returns the highest level the status reaches.
func (s Status) Level() Level {
	switch {
	case s.Identity == StatusVerified:
		return LevelIdentity
	case s.Phone:
		return LevelPhone
	}
	return LevelNone
}

// Status returns an account's verification state.
func (s *Service) Status(ctx context.Context, accountID plaza.ID) (Status, error) {
	st, err := status(ctx, s.db.Read(), accountID)
	if err != nil {
		return Status{}, fmt.Errorf("verification status: %w", err)
	}
	return st, nil
}

// Require returns nil when the account's level is enough for action, and
// otherwise a verification_required error whose details name the level.
// Every feature calls this before acting; the operator's policy decides.
func (s *Service) Require(ctx context.Context, accountID plaza.ID, action Action) error {
	need := s.cfg.Policy[action]
	if need == LevelNone || need == LevelPhone && s.hasPhone(accountID) {
		return nil
	}
	st, err := s.Status(ctx, accountID)
	if err != nil {
		return err
	}
	if st.Phone {
		s.rememberPhone(accountID)
	}
	// An identity verified without a phone (the policy allowed it)
	// still satisfies a phone requirement: it is the stronger proof.
	if st.Level() < need {
		return verificationRequired(action, need)
	}
	return nil
}

// Policy returns the policy in force.
func (s *Service) Policy() Policy { return s.cfg.Policy }
