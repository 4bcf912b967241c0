package chat

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"github.com/plaza-im/plaza"
)

// Who may post to a conversation is checked before a send is queued,
// outside the write transaction, and checked again inside it only when
// the conversation's members_version moved meanwhile (see recheck.go).
// So a good answer can be remembered, with the members_version it was
// read at: a change since (a member removed, a block, a contact removed)
// has bumped the version, and the writer's check on the version catches
// it and checks again in the transaction. The cache saves the hot path
// two or three queries per send; it is never the last word.

// postKey is a sender in a conversation.
type postKey struct{ conv, sender plaza.ID }

// postCheck is a good answer: the conversation's kind, the
// members_version it was read at, and for a direct conversation the
// other person.
type postCheck struct {
	kind    string
	version int64
	to      plaza.ID
}

// postChecks remembers good answers; past postChecksMax it starts over.
type postChecks struct {
	mu sync.Mutex
	m  map[postKey]postCheck
}

const postChecksMax = 200_000

func (c *postChecks) get(k postKey) (postCheck, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[k]
	return v, ok
}

func (c *postChecks) put(k postKey, v postCheck) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= postChecksMax {
		c.m = make(map[postKey]postCheck)
	}
	c.m[k] = v
}

// drop forgets k: the writer found its version moved.
func (c *postChecks) drop(k postKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, k)
}

// mayPost checks that sender may post to conv now and returns the
// conversation's kind and the members_version the check holds at. Whether that person can still
// be messaged at all (a closed or deleted account) is not versioned, so
// it is asked every time (it has a short cache of its own).
func (s *Service) mayPost(ctx context.Context, sender, conv plaza.ID) (string, int64, error) {
	k := postKey{conv, sender}
	if c, ok := s.postChecks.get(k); ok {
		if c.kind == Direct {
			if err := s.accounts.Reachable(ctx, c.to); err != nil {
				return "", 0, err
			}
		}
		return c.kind, c.version, nil
	}
	// members_version is read with (so before) everything checked below:
	// a change that commits after a check bumps it.
	var c postCheck
	var isMember int
	err := s.db.Read().QueryRowContext(ctx, `SELECT c.kind, c.members_version, (SELECT COUNT(*) FROM members WHERE conversation_id = $1 AND account_id = $2)
		FROM conversations c WHERE c.id = $1`, conv, sender).Scan(&c.kind, &c.version, &isMember)
	if errors.Is(err, sql.ErrNoRows) || err == nil && isMember == 0 {
		return "", 0, plaza.Errorf(plaza.ENotFound, "conversation not found")
	}
	if err != nil {
		return "", 0, fmt.Errorf("send message: %w", err)
	}
	if c.kind == Direct {
		if err := s.db.Read().QueryRowContext(ctx, `SELECT account_id FROM members WHERE conversation_id = $1 AND account_id <> $2`, conv, sender).Scan(&c.to); err != nil {
			return "", 0, fmt.Errorf("send message: %w", err)
		}
		if err := s.accounts.Reachable(ctx, c.to); err != nil {
			return "", 0, err
		}
		if err := s.checkDirect(ctx, sender, c.to); err != nil {
			return "", 0, err
		}
	}
	s.postChecks.put(k, c)
	return c.kind, c.version, nil
}
