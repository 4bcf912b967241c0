package chat

import (
	"context"
	"fmt"
	"time"

	"github.com/plaza-im/plaza"
)

// The readers below give one account's chat data to its export (package
// export). Each returns one page, in ascending order after a cursor, from
// one short query: an export walks an account's whole history, and on
// SQLite a long-lived read would hold back the log's checkpoints. The
// messages themselves come from History, whose rule (members see what was
// sent after they joined, as moderation renders it for them) is the
// export's too.

// YourConversation is a conversation its member is in, with their
// membership.
type YourConversation struct {
	Conversation
	Role      string    `json:"role"`
	JoinedSeq int64     `json:"joined_seq"`
	JoinedAt  time.Time `json:"joined_at"`
	ReadSeq   int64     `json:"read_seq"`
}

// YourConversations returns up to limit of the conversations account is a
// member of now, after the conversation ID after, in ID order, with their
// members.
func (s *Service) YourConversations(ctx context.Context, account, after plaza.ID, limit int) ([]YourConversation, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT `+conversationColumns+`, mb.role, mb.joined_seq, mb.joined_at, mb.read_seq
		FROM members mb JOIN conversations c ON c.id = mb.conversation_id
		WHERE mb.account_id = $1 AND mb.conversation_id > $2 ORDER BY mb.conversation_id LIMIT $3`, account, after, limit)
	if err != nil {
		return nil, fmt.Errorf("your conversations: %w", err)
	}
	defer rows.Close()
	var out []YourConversation
	for rows.Next() {
		var c YourConversation
		dest := scanConversation(nil, &c.Conversation)
		dest = append(dest, &c.Role, &c.JoinedSeq, (*microTime)(&c.JoinedAt), &c.ReadSeq)
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("your conversations: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("your conversations: %w", err)
	}
	ptrs := make([]*Conversation, len(out))
	for i := range out {
		ptrs[i] = &out[i].Conversation
	}
	if err := fillMembers(ctx, s.db.Read(), ptrs); err != nil {
		return nil, err
	}
	return out, nil
}

// YourMessageCount returns how many messages account can see in the
// conversations it is a member of: what an export of them will write.
func (s *Service) YourMessageCount(ctx context.Context, account plaza.ID) (int64, error) {
	var n int64
	err := s.db.Read().QueryRowContext(ctx, `SELECT COALESCE(SUM(c.last_seq - mb.joined_seq), 0)
		FROM members mb JOIN conversations c ON c.id = mb.conversation_id WHERE mb.account_id = $1 AND c.last_seq > mb.joined_seq`, account).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("your message count: %w", err)
	}
	return n, nil
}

// YourContacts returns up to limit of account's contacts after the
// account ID after, in ID order. A deleted contact keeps its ID and
// handle, with no name.
func (s *Service) YourContacts(ctx context.Context, account, after plaza.ID, limit int) ([]Contact, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT a.id, a.handle, a.display_name, c.created_at FROM contacts c
		JOIN accounts a ON a.id = c.contact_id WHERE c.account_id = $1 AND c.contact_id > $2 ORDER BY c.contact_id LIMIT $3`, account, after, limit)
	if err != nil {
		return nil, fmt.Errorf("your contacts: %w", err)
	}
	defer rows.Close()
	var out []Contact
	for rows.Next() {
		var c Contact
		if err := rows.Scan(&c.AccountID, &c.Handle, &c.DisplayName, (*microTime)(&c.Since)); err != nil {
			return nil, fmt.Errorf("your contacts: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// YourContactRequests returns up to limit of the contact requests account
// sent (outgoing) or received, whatever became of them, after the request
// ID after, in ID order.
func (s *Service) YourContactRequests(ctx context.Context, account plaza.ID, outgoing bool, after plaza.ID, limit int) ([]ContactRequest, error) {
	col := "to_id"
	if outgoing {
		col = "from_id"
	}
	rows, err := s.db.Read().QueryContext(ctx, `SELECT id, from_id, to_id, note, status, created_at FROM contact_requests
		WHERE `+col+` = $1 AND id > $2 ORDER BY id LIMIT $3`, account, after, limit)
	if err != nil {
		return nil, fmt.Errorf("your contact requests: %w", err)
	}
	defer rows.Close()
	var out []ContactRequest
	for rows.Next() {
		r, err := scanRequest(rows)
		if err != nil {
			return nil, fmt.Errorf("your contact requests: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// YourBlock is an account someone blocked.
type YourBlock struct {
	AccountID plaza.ID  `json:"account_id"`
	Since     time.Time `json:"since"`
}

// YourBlocks returns up to limit of the accounts account blocked, after
// the account ID after, in ID order. Who blocked account is the blocker's
// business and is not among them.
func (s *Service) YourBlocks(ctx context.Context, account, after plaza.ID, limit int) ([]YourBlock, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT blocked_id, created_at FROM blocks
		WHERE account_id = $1 AND blocked_id > $2 ORDER BY blocked_id LIMIT $3`, account, after, limit)
	if err != nil {
		return nil, fmt.Errorf("your blocks: %w", err)
	}
	defer rows.Close()
	var out []YourBlock
	for rows.Next() {
		var b YourBlock
		if err := rows.Scan(&b.AccountID, (*microTime)(&b.Since)); err != nil {
			return nil, fmt.Errorf("your blocks: %w", err)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// YourConversationMembers returns how the current members of conv are
// named ("@handle (name)"), if account is one of them: their public
// profiles, for the pages of account's export. A group has at most
// MaxGroupMembers members.
func (s *Service) YourConversationMembers(ctx context.Context, account, conv plaza.ID) (map[plaza.ID]string, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT a.id, a.handle, a.display_name FROM members m JOIN accounts a ON a.id = m.account_id
		WHERE m.conversation_id = $1 AND EXISTS (SELECT 1 FROM members me WHERE me.conversation_id = $1 AND me.account_id = $2)`, conv, account)
	if err != nil {
		return nil, fmt.Errorf("your conversation members: %w", err)
	}
	defer rows.Close()
	out := map[plaza.ID]string{}
	for rows.Next() {
		var id plaza.ID
		var handle, name string
		if err := rows.Scan(&id, &handle, &name); err != nil {
			return nil, fmt.Errorf("your conversation members: %w", err)
		}
		out[id] = "@" + handle
		if name != "" {
			out[id] += " (" + name + ")"
		}
	}
	return out, rows.Err()
}
