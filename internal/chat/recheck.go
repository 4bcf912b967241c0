package chat

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/plaza-im/plaza"
)

// Send checks membership, blocks and the direct-message policy before
// queueing, outside the write transaction. Every change to them bumps the
// conversation's members_version (its membership, or for a direct
// conversation a block or a contact removal between its two people), and
// the writer numbers a send only while members_version is the one Send
// read first. So the common case costs no extra query, and a change that
// lands between the check and the commit makes the writer check again
// inside the transaction.

// number takes the next seq of r's conversation for r, and returns it
// with the members_version it was taken at. A refusal (the sender is no
// longer allowed to post) is returned as a *plaza.Error; any other error
// fails the transaction.
func (w *writer) number(ctx context.Context, tx *sql.Tx, r *sendReq, now time.Time) (int64, int64, error) {
	version := r.version
	for attempt := 0; ; attempt++ {
		var seq int64
		err := tx.StmtContext(ctx, w.st.bumpConv).QueryRowContext(ctx, r.in.ConversationID, now.UnixMicro(), version).Scan(&seq)
		if err == nil {
			return seq, version, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return 0, 0, err
		}
		if attempt == 3 {
			// The membership keeps changing under this send (only
			// possible with several nodes): let the sender try again.
			return 0, 0, errUnavailable
		}
		// What Send remembered is out of date: forget it, whatever the
		// check in the transaction says.
		w.s.postChecks.drop(postKey{r.in.ConversationID, r.sender})
		if version, err = w.s.recheck(ctx, tx, r.sender, r.in.ConversationID); err != nil {
			return 0, 0, err
		}
	}
}

// recheck checks again, inside tx, that sender may post to conv, and
// returns the members_version the check saw.
func (s *Service) recheck(ctx context.Context, tx *sql.Tx, sender, conv plaza.ID) (int64, error) {
	notFound := plaza.Errorf(plaza.ENotFound, "conversation not found")
	var kind string
	var version int64
	err := tx.QueryRowContext(ctx, `SELECT kind, members_version FROM conversations WHERE id = $1`, conv).Scan(&kind, &version)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, notFound
	}
	if err != nil {
		return 0, err
	}
	if _, err := getMember(ctx, tx, conv, sender); errors.Is(err, sql.ErrNoRows) {
		return 0, notFound
	} else if err != nil {
		return 0, err
	}
	if kind != Direct {
		return version, nil
	}
	var to plaza.ID
	if err := tx.QueryRowContext(ctx, `SELECT account_id FROM members WHERE conversation_id = $1 AND account_id <> $2`, conv, sender).Scan(&to); err != nil {
		return 0, err
	}
	if b, err := blocked(ctx, tx, to, sender); err != nil {
		return 0, err
	} else if b {
		return 0, plaza.Errorf(plaza.EBlocked, "this person does not accept messages from you")
	}
	if s.cfg.DirectPolicy == DirectContacts {
		ok, err := areContacts(ctx, tx, sender, to)
		if err != nil {
			return 0, err
		}
		if !ok {
			return 0, plaza.Errorf(plaza.ENotAContact, "you can only message your contacts: send a contact request first (POST /api/v1/contacts/requests)")
		}
	}
	return version, nil
}

// bumpMembersVersion marks that who may post to conv changed.
func bumpMembersVersion(ctx context.Context, tx *sql.Tx, conv plaza.ID) error {
	_, err := tx.ExecContext(ctx, `UPDATE conversations SET members_version = members_version + 1 WHERE id = $1`, conv)
	return err
}

// bumpDirectVersion marks that whether a and b may message each other
// changed (a block, a contact removal), if they have a direct
// conversation.
func bumpDirectVersion(ctx context.Context, tx *sql.Tx, a, b plaza.ID) error {
	_, err := tx.ExecContext(ctx, `UPDATE conversations SET members_version = members_version + 1 WHERE direct_key = $1`, directKey(a, b))
	return err
}
