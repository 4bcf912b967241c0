// Package chat carries people's conversations: contacts and blocks,
// direct and group conversations, messages with their gap-free
// per-conversation sequence numbers, read positions and recall. Its
// events go into each account's sync log (package events), in the same
// transaction as the change they describe; every device replays the log
// from its cursor. A send is acknowledged only after its transaction
// commits; the bus then fans the events out to connected devices, and
// anything a device misses it gets back from the sync log.
package chat

import (
	"context"
	"log/slog"
	"time"

	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/bus"
	"github.com/plaza-im/plaza/internal/events"
	"github.com/plaza-im/plaza/internal/identity"
	"github.com/plaza-im/plaza/internal/media"
	"github.com/plaza-im/plaza/internal/sqldb"
)

// Who may open a direct conversation with whom.
const (
	DirectContacts = "contacts" // only contacts (default)
	DirectAnyone   = "anyone"
)

// Config holds the chat rules an operator may change.
type Config struct {
	// DirectPolicy is DirectContacts or DirectAnyone; it also governs who
	// may be added to a group.
	DirectPolicy string
	// MaxGroupMembers bounds a group's size.
	MaxGroupMembers int
	// MaxTextRunes bounds a text message.
	MaxTextRunes int
	// RecallWindow is how long after sending a message may be recalled.
	RecallWindow time.Duration
	// Retention is how long the sync log keeps events; a cursor older
	// than that is answered with cursor_expired.
	Retention time.Duration
	// SyncLogRuns stores a batch's messages to a conversation in the sync
	// log as one row per member and up to 32 messages, rather than one per
	// member and message (events.LogConfig.Runs).
	SyncLogRuns bool
	// MaxBatch bounds how many sends one group commit carries. A commit
	// writes a page for each conversation and account its batch touches,
	// however many of their messages it holds, so under load a larger
	// batch costs less per message; the bound keeps one commit short
	// enough to stay well inside CommitTimeout.
	MaxBatch int
	// MaxBatchEvents bounds a group commit too, by the events it stores:
	// its sends times their conversations' members. 4,096 direct sends
	// store 8,192; by default sends to groups of 500 stop at 512 a batch,
	// as many as before MaxBatch grew to 4,096, so that a batch of large
	// groups' messages takes no more memory and commit time than it did.
	MaxBatchEvents int
	// CommitTimeout bounds one group commit, its retries included: a
	// stalled database fails the batch instead of holding every sender.
	// On SQLite it bounds the wait for the writer's connection and is
	// checked again once the batch's statements have run; a statement
	// or COMMIT under way is not interrupted (sqldb.DB.InTxHeld).
	CommitTimeout time.Duration
	// SendTimeout bounds how long Send waits for a place in the queue and
	// for its commit; past it the caller is told to send again (safe, by
	// client_id).
	SendTimeout time.Duration
	// VoiceMaxDuration bounds a voice message.
	VoiceMaxDuration time.Duration
	// Limits are the per-account rate limits (none by default).
	Limits Limits
}

// DefaultConfig returns the defaults: contacts only, groups of 500, texts
// of 4,096 characters, a 2-minute recall window, 30 days of sync log,
// runs in the sync log, batches of up to 4,096 sends.
func DefaultConfig() Config {
	return Config{
		DirectPolicy:    DirectContacts,
		MaxGroupMembers: 500,
		MaxTextRunes:    4096,
		RecallWindow:    2 * time.Minute,
		Retention:       30 * 24 * time.Hour,
		SyncLogRuns:     true,
		// At the maximum rate (docs/benchmarks.md), 2,048 and 4,096 gave
		// about a fifth and a quarter more messages a second than 512.
		MaxBatch:       4096,
		MaxBatchEvents: 512 * 500,
		CommitTimeout:  10 * time.Second,
		SendTimeout:    15 * time.Second,
		// WeChat's limit: longer recordings are sent as files.
		VoiceMaxDuration: 60 * time.Second,
	}
}

// Service is the chat domain.
type Service struct {
	db       *sqldb.DB
	bus      bus.Bus
	accounts *account.Service
	identity *identity.Service
	cfg      Config
	log      *slog.Logger
	now      func() time.Time
	w        *writer
	evlog    *events.Log
	media    *media.Service
	limits   budgets
	// beforeSubmit, when set (by tests), runs between Send's checks and
	// the queueing of the send.
	beforeSubmit func()
	// onBlock hooks run inside a block's transaction (OnBlock).
	onBlock []BlockHook
	// postChecks remembers who may post where, at a members_version
	// (sendchecks.go).
	postChecks postChecks
}

// UseMedia lets messages carry media from m. Call it while wiring the
// program; without it, media messages are refused.
func (s *Service) UseMedia(m *media.Service) { s.media = m }

// NewService returns a Service and starts its writer, which runs until
// Close.
func NewService(ctx context.Context, db *sqldb.DB, b bus.Bus, accounts *account.Service, ids *identity.Service, cfg Config, log *slog.Logger) (*Service, error) {
	def := DefaultConfig()
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = def.MaxBatch
	}
	if cfg.MaxBatchEvents <= 0 {
		cfg.MaxBatchEvents = def.MaxBatchEvents
	}
	if cfg.MaxGroupMembers <= 0 {
		cfg.MaxGroupMembers = def.MaxGroupMembers
	}
	if cfg.MaxTextRunes <= 0 {
		cfg.MaxTextRunes = def.MaxTextRunes
	}
	if cfg.DirectPolicy == "" {
		cfg.DirectPolicy = def.DirectPolicy
	}
	if cfg.CommitTimeout <= 0 {
		cfg.CommitTimeout = def.CommitTimeout
	}
	if cfg.SendTimeout <= 0 {
		cfg.SendTimeout = def.SendTimeout
	}
	if cfg.VoiceMaxDuration <= 0 {
		cfg.VoiceMaxDuration = def.VoiceMaxDuration
	}
	s := &Service{db: db, bus: b, accounts: accounts, identity: ids, cfg: cfg, log: log,
		now:    func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
		limits: newBudgets(db, cfg.Limits)}
	evlog, err := events.NewLog(ctx, db, b, events.LogConfig{Retention: cfg.Retention, Runs: cfg.SyncLogRuns, Now: func() time.Time { return s.now() }}, log)
	if err != nil {
		return nil, err
	}
	evlog.UseRefs([]string{events.MessageCreated, events.MessageRecalled, events.MessageModerated}, s.loadMessages)
	s.evlog = evlog
	w, err := newWriter(ctx, s)
	if err != nil {
		evlog.Close()
		return nil, err
	}
	s.w = w
	return s, nil
}

// Close stops the writer after the sends already queued are committed.
func (s *Service) Close() {
	s.w.close()
	s.evlog.Close()
}
