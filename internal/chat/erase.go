package chat

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/events"
)

// Erasing an account keeps the messages it sent in other people's
// conversations, with its sender_id: they are the others' history too,
// and clients show the sender as a deleted account (its profile answers
// gone). Its direct conversations keep it as a member for the same
// reason; nobody can send to them any more (Reachable). Everything else
// chat keeps about it goes.

// eraseBatch is how many sync log events one transaction of an erasure
// deletes: small enough that the single SQLite writer is held for
// milliseconds, not seconds.
const eraseBatch = 1000

// DeleteAccountData removes, inside the erasure's scrub transaction (a
// DeleteHook), the account's contacts, contact requests and blocks, both
// ways.
func (s *Service) DeleteAccountData(ctx context.Context, tx *sql.Tx, id plaza.ID) error {
	for _, q := range []string{
		`DELETE FROM contacts WHERE account_id = $1`,
		`DELETE FROM contacts WHERE contact_id = $1`,
		`DELETE FROM contact_requests WHERE to_id = $1`,
		`DELETE FROM contact_requests WHERE from_id = $1`,
		`DELETE FROM blocks WHERE account_id = $1`,
		`DELETE FROM blocks WHERE blocked_id = $1`,
	} {
		if _, err := tx.ExecContext(ctx, q, id); err != nil {
			return fmt.Errorf("delete chat data: %w", err)
		}
	}
	return nil
}

// EraseAccount is the erasure's chat step (an account.EraseStep), run
// after the scrub: it takes the account out of every group, handing over
// the groups it owned as leaving does and telling the other members, then
// deletes its sync log, a batch per transaction, and its stream records.
// It is idempotent.
func (s *Service) EraseAccount(ctx context.Context, id plaza.ID, inTx account.TxFunc) error {
	// One group at a time, in ID order: each is a transaction of its own
	// (it tells every member), and the cursor visits each once.
	for conv := plaza.ID(0); ; {
		err := s.db.Read().QueryRowContext(ctx, `SELECT c.id FROM members mb JOIN conversations c ON c.id = mb.conversation_id
			WHERE mb.account_id = $1 AND c.kind = 'group' AND c.id > $2 ORDER BY c.id LIMIT 1`, id, conv).Scan(&conv)
		if errors.Is(err, sql.ErrNoRows) {
			break
		}
		if err != nil {
			return fmt.Errorf("erase chat data: %w", err)
		}
		if err := s.leaveErased(ctx, id, conv, inTx); err != nil {
			return fmt.Errorf("erase chat data: %w", err)
		}
	}
	for {
		var n int64
		err := inTx(ctx, func(tx *sql.Tx) error {
			var err error
			n, err = s.evlog.EraseBatch(ctx, tx, id, eraseBatch)
			return err
		})
		if err != nil {
			return fmt.Errorf("erase chat data: %w", err)
		}
		if n < eraseBatch {
			break
		}
	}
	return inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM streams WHERE account_id = $1`, id)
		return err
	})
}

// leaveErased takes the erased account id out of the group conv in a
// transaction of inTx, and tells the members who stay.
func (s *Service) leaveErased(ctx context.Context, id, conv plaza.ID, inTx account.TxFunc) error {
	var evs []events.Pending
	err := inTx(ctx, func(tx *sql.Tx) error {
		evs = nil
		m, err := getMember(ctx, tx, conv, id)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // another run took it out already
		}
		if err != nil {
			return err
		}
		now := s.now()
		if err := removeMember(ctx, tx, conv, id, m.role == RoleOwner, now); err != nil {
			return err
		}
		c, err := getConversation(ctx, tx, conv)
		if err != nil || len(c.MemberIDs) == 0 {
			return err
		}
		evs, err = s.conversationEvents(ctx, tx, c, c.MemberIDs, now)
		return err
	})
	if err != nil {
		return err
	}
	s.publish(ctx, evs)
	return nil
}
