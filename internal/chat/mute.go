package chat

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/plaza-im/plaza"
)

// This file holds a member's mute of a conversation: a muted conversation
// sends that member no push notification for its plain messages (one that
// mentions them still does), and its list item says it is muted.

// Mute is a member's mute state of a conversation. Until is nil when the
// mute lasts until undone (or when the conversation is not muted).
type Mute struct {
	Muted bool       `json:"muted"`
	Until *time.Time `json:"until"`
}

// muteOf turns a stored until (0: indefinite) into a Mute at now; a
// missing row (ok false) or a past until is not muted.
func muteOf(until int64, ok bool, now time.Time) Mute {
	switch {
	case !ok:
		return Mute{}
	case until == 0:
		return Mute{Muted: true}
	case until <= now.UnixMicro():
		return Mute{}
	}
	t := time.UnixMicro(until).UTC()
	return Mute{Muted: true, Until: &t}
}

// SetMute mutes (muted true) the conversation for account until the given
// time (nil: until unmuted), or unmutes it. Only a member may; anyone else
// is told the conversation is not found.
func (s *Service) SetMute(ctx context.Context, account, conv plaza.ID, muted bool, until *time.Time) (Mute, error) {
	now := s.now()
	if until != nil && muted && !until.After(now) {
		return Mute{}, plaza.Invalid("until", "must be in the future")
	}
	if until != nil && !muted {
		return Mute{}, plaza.Invalid("until", "must be absent when unmuting")
	}
	var out Mute
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := getMember(ctx, tx, conv, account); errors.Is(err, sql.ErrNoRows) {
			return plaza.Errorf(plaza.ENotFound, "conversation not found")
		} else if err != nil {
			return err
		}
		if !muted {
			_, err := tx.ExecContext(ctx, `DELETE FROM conversation_mutes WHERE conversation_id = $1 AND account_id = $2`, conv, account)
			return err
		}
		var u int64
		if until != nil {
			u = until.UTC().Truncate(time.Microsecond).UnixMicro()
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO conversation_mutes (conversation_id, account_id, until) VALUES ($1, $2, $3)
			ON CONFLICT (conversation_id, account_id) DO UPDATE SET until = excluded.until`, conv, account, u); err != nil {
			return err
		}
		out = muteOf(u, true, now)
		return nil
	})
	if err != nil {
		return Mute{}, fmt.Errorf("mute conversation: %w", err)
	}
	return out, nil
}

// PushView is what a push notification about a message of a conversation
// needs from chat, as one member sees it.
type PushView struct {
	Kind  string // Direct or Group
	Title string
	Muted bool
}

// PushView returns the conversation's kind, title and the member's mute
// state; not_found when account is not a member.
func (s *Service) PushView(ctx context.Context, account, conv plaza.ID) (PushView, error) {
	var v PushView
	var until sql.NullInt64
	err := s.db.Read().QueryRowContext(ctx, `SELECT c.kind, c.title, mu.until FROM members mb JOIN conversations c ON c.id = mb.conversation_id
		LEFT JOIN conversation_mutes mu ON mu.conversation_id = mb.conversation_id AND mu.account_id = mb.account_id
		WHERE mb.conversation_id = $1 AND mb.account_id = $2`, conv, account).Scan(&v.Kind, &v.Title, &until)
	if errors.Is(err, sql.ErrNoRows) {
		return PushView{}, plaza.Errorf(plaza.ENotFound, "conversation not found")
	}
	if err != nil {
		return PushView{}, fmt.Errorf("conversation for a push: %w", err)
	}
	v.Muted = muteOf(until.Int64, until.Valid, s.now()).Muted
	return v, nil
}
