package chat

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/events"
)

// A moderation decision on a message (see plaza.Moderation) is stored on
// its row and applied on every read — history, conversation lists, sync
// and replay, media — so reversing it restores the message everywhere:
//
//   - label: every member sees the note with the message;
//   - remove: the sender sees the message whole, marked removed with the
//     decision; every other member sees a tombstone in its place (no
//     text, media or mentions, "removed": true), the way a recalled
//     message keeps its id and seq, so conversation positions hold.
//
// Limit does not apply to messages, which are not found by strangers
// anyway.

// render sets the fields that show a message's moderation state to
// viewer, and empties a removed message for everyone but its sender.
func (m *Message) render(viewer plaza.ID) {
	m.Label, m.Removed, m.DecisionID = "", false, 0
	switch m.Moderation.Action {
	case plaza.ModLabel:
		m.Label, m.DecisionID = m.Moderation.Label, m.Moderation.DecisionID
	case plaza.ModRemove:
		m.Removed = true
		if viewer == m.SenderID {
			m.DecisionID = m.Moderation.DecisionID
		} else {
			m.Text, m.MediaID, m.Mentions = "", nil, nil
		}
	}
}

// ModerateMessage records the decision m in force on a message (label or
// remove; no Action reverses it), inside the moderation package's
// transaction tx, and returns its sender. In the same transaction every
// member who can see the message gets a message.moderated event with the
// message as they now see it; the caller publishes the returned events
// (events.Log.Publish) once tx has committed, and drops them if it rolls
// back.
func (s *Service) ModerateMessage(ctx context.Context, tx *sql.Tx, id plaza.ID, m plaza.Moderation) (plaza.ID, []events.Pending, error) {
	if m.Action == plaza.ModLimit {
		return 0, nil, plaza.Invalid("action", "must be label or remove for a message")
	}
	_, label, decision, err := m.Columns()
	if err != nil {
		return 0, nil, err
	}
	var conv plaza.ID
	var seq int64
	err = tx.QueryRowContext(ctx, `UPDATE messages SET mod_action = $1, mod_label = $2, mod_decision = $3 WHERE id = $4 AND (CAST($5 AS BIGINT) = 0 OR mod_decision = CAST($5 AS BIGINT)) RETURNING conversation_id, seq`,
		m.Action, label, decision, id, int64(m.Replaces)).Scan(&conv, &seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, plaza.Errorf(plaza.ENotFound, "message not found")
	}
	if err != nil {
		return 0, nil, fmt.Errorf("moderate message: %w", err)
	}
	msg, err := getMessage(ctx, tx, id)
	if err != nil {
		return 0, nil, fmt.Errorf("moderate message: %w", err)
	}
	// The members who see the message: those who joined before it.
	rows, err := tx.QueryContext(ctx, `SELECT account_id FROM members WHERE conversation_id = $1 AND joined_seq < $2 ORDER BY account_id`, conv, seq)
	if err != nil {
		return 0, nil, fmt.Errorf("moderate message: %w", err)
	}
	var evs []events.Event
	for rows.Next() {
		var a plaza.ID
		if err := rows.Scan(&a); err != nil {
			rows.Close()
			return 0, nil, fmt.Errorf("moderate message: %w", err)
		}
		seen := msg
		seen.render(a)
		data, _ := json.Marshal(seen)
		evs = append(evs, events.Event{Account: a, Type: events.MessageModerated, Conversation: conv, Ref: id, Data: data})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, nil, fmt.Errorf("moderate message: %w", err)
	}
	pending, err := s.evlog.Append(ctx, tx, evs)
	if err != nil {
		return 0, nil, err
	}
	return msg.SenderID, pending, nil
}

// MessageModerationView returns a message as a moderator sees it: whole,
// whatever its state, with its moderation state (and the marks its sender
// sees). Only package moderation calls it, for a message a report holds.
func (s *Service) MessageModerationView(ctx context.Context, id plaza.ID) (Message, error) {
	m, err := getMessage(ctx, s.db.Read(), id)
	if err != nil {
		return Message{}, err
	}
	m.render(m.SenderID)
	return m, nil
}

// maxEvidence bounds how many earlier messages a report may copy.
const maxEvidence = 10

// ReportEvidence returns what a report of a message copies as evidence:
// up to before (0–10) earlier messages of its conversation that the
// reporter may see, oldest first, then the reported message last. The
// reporter must be a current member who may see the message (they joined
// before it); a recalled message, one removed (unless the reporter sent
// it) and any other is not_found alike. Earlier messages are those after
// the reporter joined, neither recalled nor removed (but the reporter's
// own), as the reporter sees them.
func (s *Service) ReportEvidence(ctx context.Context, reporter, messageID plaza.ID, before int) ([]Message, error) {
	if before < 0 || before > maxEvidence {
		return nil, plaza.Invalid("before", fmt.Sprintf("must be 0–%d messages", maxEvidence))
	}
	notFound := plaza.Errorf(plaza.ENotFound, "message not found")
	q := s.db.Read()
	m, err := getMessage(ctx, q, messageID)
	if plaza.ErrorCode(err) == plaza.ENotFound {
		return nil, notFound
	}
	if err != nil {
		return nil, err
	}
	mb, err := getMember(ctx, q, m.ConversationID, reporter)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound
	}
	if err != nil {
		return nil, err
	}
	if m.Seq <= mb.joinedSeq || m.Recalled || m.Moderation.Action == plaza.ModRemove && m.SenderID != reporter {
		return nil, notFound
	}
	out := []Message{}
	if before > 0 {
		rows, err := q.QueryContext(ctx, `SELECT `+messageColumns+` FROM messages
			WHERE conversation_id = $1 AND seq < $2 AND seq > $3 AND recalled = $4 AND (mod_action <> 'remove' OR sender_id = $5)
			ORDER BY seq DESC LIMIT $6`, m.ConversationID, m.Seq, mb.joinedSeq, false, reporter, before)
		if err != nil {
			return nil, fmt.Errorf("report evidence: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			e, err := scanMessage(rows)
			if err != nil {
				return nil, fmt.Errorf("report evidence: %w", err)
			}
			e.render(reporter)
			out = append(out, e)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("report evidence: %w", err)
		}
		slices.Reverse(out)
	}
	m.render(reporter)
	return append(out, m), nil
}
