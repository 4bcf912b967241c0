package chat

import (
	"context"
	"database/sql"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/events"
)

// This file connects chat to the sync log of package events.

// SyncPage is a page of an account's sync log.
type SyncPage = events.SyncPage

// Events returns the sync log chat's events are stored in, for the
// stream.
func (s *Service) Events() *events.Log { return s.evlog }

// appendEvents stores the same event for each distinct account, inside
// tx. data is the frame's payload; stored is what the row keeps (nil for
// message events, whose rows reference the message so that sync reads its
// current state).
func (s *Service) appendEvents(ctx context.Context, tx *sql.Tx, accounts []plaza.ID, typ string, convID, refID plaza.ID, data, stored []byte) ([]events.Pending, error) {
	return s.evlog.Append(ctx, tx, events.ForEach(accounts, events.Event{Type: typ, Conversation: convID, Ref: refID, Data: data, Stored: stored}))
}

// publish sends committed events to the bus.
func (s *Service) publish(ctx context.Context, evs []events.Pending) { s.evlog.Publish(ctx, evs) }

// Head returns the account's newest cursor.
func (s *Service) Head(ctx context.Context, account plaza.ID) (int64, error) {
	return s.evlog.Head(ctx, account)
}

// Sync returns up to limit events after cursor since, in order (see
// events.Log.Sync).
func (s *Service) Sync(ctx context.Context, account plaza.ID, since int64, limit int) (SyncPage, error) {
	return s.evlog.Sync(ctx, account, since, limit)
}

// Replay returns the frames of the events in (after, upTo].
func (s *Service) Replay(ctx context.Context, account plaza.ID, after, upTo int64) ([][]byte, []int64, error) {
	return s.evlog.Replay(ctx, account, after, upTo)
}

func (s *Service) prune(ctx context.Context) (int64, error) { return s.evlog.Prune(ctx) }

// RunPruner prunes the sync log every interval until ctx ends.
func (s *Service) RunPruner(ctx context.Context, interval time.Duration) {
	s.evlog.RunPruner(ctx, interval)
}
