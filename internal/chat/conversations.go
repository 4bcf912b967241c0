package chat

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/events"
	"github.com/plaza-im/plaza/internal/identity"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/textcheck"
)

const titleMax = 64

func directKey(a, b plaza.ID) string {
	if a > b {
		a, b = b, a
	}
	return a.String() + ":" + b.String()
}

// OpenDirect returns the direct conversation between me and other,
// creating it if needed (created reports which).
func (s *Service) OpenDirect(ctx context.Context, me, other plaza.ID) (Conversation, bool, error) {
	if me == other {
		return Conversation{}, false, plaza.Invalid("member_ids", "must name someone else")
	}
	if err := s.identity.Require(ctx, me, identity.ConversationCreate); err != nil {
		return Conversation{}, false, err
	}
	if err := s.checkAccount(ctx, other); err != nil {
		return Conversation{}, false, err
	}
	if err := s.checkDirect(ctx, me, other); err != nil {
		return Conversation{}, false, err
	}
	key := directKey(me, other)
	var id plaza.ID
	err := s.db.Read().QueryRowContext(ctx, `SELECT id FROM conversations WHERE direct_key = $1`, key).Scan(&id)
	if err == nil {
		c, err := getConversation(ctx, s.db.Read(), id)
		return c, false, err
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return Conversation{}, false, err
	}
	now := s.now()
	c := Conversation{ID: plaza.NewID(), Kind: Direct, MemberIDs: []plaza.ID{me, other}, CreatedAt: now, UpdatedAt: now}
	var evs []events.Pending
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		evs = evs[:0]
		if _, err := tx.ExecContext(ctx, `INSERT INTO conversations (id, kind, title, direct_key, last_seq, created_at, updated_at) VALUES ($1, $2, '', $3, 0, $4, $4)`,
			c.ID, Direct, key, now.UnixMicro()); err != nil {
			return err
		}
		for _, m := range c.MemberIDs {
			if err := insertMember(ctx, tx, c.ID, m, RoleMember, 0, now); err != nil {
				return err
			}
		}
		var err error
		evs, err = s.conversationEvents(ctx, tx, c, c.MemberIDs, now)
		return err
	})
	if err != nil {
		if sqldb.IsUniqueViolation(err) {
			// Both opened it at once: the other insert won.
			if err := s.db.Read().QueryRowContext(ctx, `SELECT id FROM conversations WHERE direct_key = $1`, key).Scan(&id); err == nil {
				c, err := getConversation(ctx, s.db.Read(), id)
				return c, false, err
			}
		}
		return Conversation{}, false, fmt.Errorf("open direct conversation: %w", err)
	}
	s.publish(ctx, evs)
	return c, true, nil
}

func insertMember(ctx context.Context, tx *sql.Tx, conv, account plaza.ID, role string, joinedSeq int64, now time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO members (conversation_id, account_id, role, read_seq, joined_seq, joined_at) VALUES ($1, $2, $3, $4, $4, $5)`,
		conv, account, role, joinedSeq, now.UnixMicro())
	return err
}

// conversationEvents records conversation.updated for each account in to.
func (s *Service) conversationEvents(ctx context.Context, tx *sql.Tx, c Conversation, to []plaza.ID, now time.Time) ([]events.Pending, error) {
	data, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	to = dedupe(to)
	sortIDs(to)
	return s.appendEvents(ctx, tx, to, events.ConversationUpdated, c.ID, 0, data, data)
}

// checkAccount makes sure id is an account that exists and is active.
func (s *Service) checkAccount(ctx context.Context, id plaza.ID) error {
	p, err := s.accounts.Profile(ctx, id)
	if err != nil {
		return plaza.Errorf(plaza.ENotFound, "account %s not found", id)
	}
	if p.Status != account.Active {
		return plaza.Errorf(plaza.EForbidden, "account %s cannot take part in conversations now", id)
	}
	return nil
}

func cleanTitle(t string) (string, error) {
	t = strings.TrimSpace(t)
	if n := utf8.RuneCountInString(t); n < 1 || n > titleMax || !utf8.ValidString(t) {
		return "", plaza.Invalid("title", "must be 1–64 characters")
	}
	if rule := textcheck.PlainLine(t); rule != "" {
		return "", plaza.Invalid("title", rule)
	}
	return t, nil
}

// CreateGroup creates a group owned by me with the given members, each of
// whom must be my contact under the contacts policy.
func (s *Service) CreateGroup(ctx context.Context, me plaza.ID, title string, memberIDs []plaza.ID) (Conversation, error) {
	title, err := cleanTitle(title)
	if err != nil {
		return Conversation{}, err
	}
	if err := s.identity.Require(ctx, me, identity.ConversationCreate); err != nil {
		return Conversation{}, err
	}
	ids := dedupe(append([]plaza.ID{me}, memberIDs...))
	if len(ids) > s.cfg.MaxGroupMembers {
		return Conversation{}, plaza.Invalid("member_ids", fmt.Sprintf("a group has at most %d members", s.cfg.MaxGroupMembers))
	}
	if err := s.limits.groups.Take(ctx, me.String(), 1); err != nil {
		return Conversation{}, err
	}
	if err := s.limits.invitations.Take(ctx, me.String(), len(ids)-1); err != nil {
		return Conversation{}, err
	}
	for _, id := range ids[1:] {
		if err := s.checkInvitee(ctx, me, id); err != nil {
			return Conversation{}, err
		}
	}
	now := s.now()
	c := Conversation{ID: plaza.NewID(), Kind: Group, Title: title, MemberIDs: ids, OwnerID: me, CreatedAt: now, UpdatedAt: now}
	var evs []events.Pending
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		evs = evs[:0]
		if _, err := tx.ExecContext(ctx, `INSERT INTO conversations (id, kind, title, direct_key, last_seq, created_at, updated_at) VALUES ($1, $2, $3, NULL, 0, $4, $4)`,
			c.ID, Group, title, now.UnixMicro()); err != nil {
			return err
		}
		for i, id := range ids {
			role := RoleMember
			if i == 0 {
				role = RoleOwner
			}
			if err := insertMember(ctx, tx, c.ID, id, role, 0, now); err != nil {
				return err
			}
		}
		var err error
		evs, err = s.conversationEvents(ctx, tx, c, ids, now)
		return err
	})
	if err != nil {
		return Conversation{}, fmt.Errorf("create group: %w", err)
	}
	s.publish(ctx, evs)
	return c, nil
}

// checkInvitee applies the rules for adding someone to a group: an active
// account, not blocking the inviter, and a contact under the contacts
// policy.
func (s *Service) checkInvitee(ctx context.Context, inviter, id plaza.ID) error {
	if err := s.checkAccount(ctx, id); err != nil {
		return err
	}
	if b, err := blocked(ctx, s.db.Read(), id, inviter); err != nil {
		return err
	} else if b {
		return plaza.Errorf(plaza.EBlocked, "account %s does not accept invitations from you", id)
	}
	if s.cfg.DirectPolicy == DirectContacts {
		ok, err := areContacts(ctx, s.db.Read(), inviter, id)
		if err != nil {
			return err
		}
		if !ok {
			return plaza.Errorf(plaza.ENotAContact, "you can only add your contacts to a group (account %s is not one)", id).
				WithDetails(map[string]any{"account_id": id})
		}
	}
	return nil
}

// Get returns a conversation the account is a member of.
func (s *Service) Get(ctx context.Context, account, conv plaza.ID) (Conversation, error) {
	return s.memberConversation(ctx, conv, account)
}

// ListCursor marks a place in a conversation list: the last item's
// activity time and ID (several conversations can share a time: one batch
// commit stamps them all).
type ListCursor struct {
	UpdatedAt int64
	ID        plaza.ID
}

// List returns the account's conversations, most recently active first,
// with unread counts and last messages, after the cursor (zero for the
// first page), and the cursor of the next page (zero when there is none).
func (s *Service) List(ctx context.Context, account plaza.ID, after ListCursor, limit int) ([]Summary, ListCursor, error) {
	if after.UpdatedAt <= 0 {
		after = ListCursor{UpdatedAt: 1<<63 - 1}
	}
	rows, err := s.db.Read().QueryContext(ctx, `SELECT `+conversationColumns+`, mb.read_seq, mu.until, `+messageColumnsM+`
		FROM members mb JOIN conversations c ON c.id = mb.conversation_id
		LEFT JOIN messages m ON m.conversation_id = c.id AND m.seq = c.last_seq AND c.last_seq > mb.joined_seq
		LEFT JOIN conversation_mutes mu ON mu.conversation_id = mb.conversation_id AND mu.account_id = mb.account_id
		WHERE mb.account_id = $1 AND (c.updated_at < $2 OR c.updated_at = $2 AND c.id < $3)
		ORDER BY c.updated_at DESC, c.id DESC LIMIT $4`, account, after.UpdatedAt, after.ID, limit)
	if err != nil {
		return nil, ListCursor{}, fmt.Errorf("list conversations: %w", err)
	}
	defer rows.Close()
	var out []Summary
	now := s.now()
	for rows.Next() {
		var sm Summary
		var nm nullMessage
		var until sql.NullInt64
		dest := scanConversation(nil, &sm.Conversation)
		dest = append(dest, &sm.ReadSeq, &until)
		dest = append(dest, nm.dest()...)
		if err := rows.Scan(dest...); err != nil {
			return nil, ListCursor{}, fmt.Errorf("list conversations: %w", err)
		}
		if m, ok := nm.message(); ok {
			m.render(account)
			sm.LastMessage = &m
		}
		sm.UnreadCount = max(sm.LastSeq-sm.ReadSeq, 0)
		mute := muteOf(until.Int64, until.Valid, now)
		sm.Muted, sm.MutedUntil = mute.Muted, mute.Until
		out = append(out, sm)
	}
	if err := rows.Err(); err != nil {
		return nil, ListCursor{}, err
	}
	ptrs := make([]*Conversation, len(out))
	for i := range out {
		ptrs[i] = &out[i].Conversation
	}
	if err := fillMembers(ctx, s.db.Read(), ptrs); err != nil {
		return nil, ListCursor{}, err
	}
	var next ListCursor
	if len(out) == limit {
		last := out[len(out)-1]
		next = ListCursor{UpdatedAt: last.UpdatedAt.UnixMicro(), ID: last.ID}
	}
	return out, next, nil
}

// groupAction loads a group for a change by me, checking I am a member
// with one of roles (any member if roles is empty).
func (s *Service) groupAction(ctx context.Context, me, conv plaza.ID, roles ...string) (Conversation, member, error) {
	c, err := s.memberConversation(ctx, conv, me)
	if err != nil {
		return Conversation{}, member{}, err
	}
	if c.Kind != Group {
		return Conversation{}, member{}, plaza.Errorf(plaza.EConflict, "a direct conversation has no members to change")
	}
	m, err := getMember(ctx, s.db.Read(), conv, me)
	if err != nil {
		return Conversation{}, member{}, err
	}
	if len(roles) > 0 && !containsStr(roles, m.role) {
		return Conversation{}, member{}, plaza.Errorf(plaza.EForbidden, "only the group's %s can do that", strings.Join(roles, " or "))
	}
	return c, m, nil
}

// sortIDs sorts IDs ascending, the order in which rows are locked.
func sortIDs(ids []plaza.ID) {
	slices.Sort(ids)
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Rename changes a group's title (owner and admins).
func (s *Service) Rename(ctx context.Context, me, conv plaza.ID, title string) (Conversation, error) {
	title, err := cleanTitle(title)
	if err != nil {
		return Conversation{}, err
	}
	if _, _, err := s.groupAction(ctx, me, conv, RoleOwner, RoleAdmin); err != nil {
		return Conversation{}, err
	}
	return s.changeGroup(ctx, conv, nil, func(tx *sql.Tx, now time.Time) error {
		_, err := tx.ExecContext(ctx, `UPDATE conversations SET title = $1, updated_at = $2 WHERE id = $3`, title, now.UnixMicro(), conv)
		return err
	})
}

// AddMembers invites people to a group; any member may invite (their
// contacts, under the contacts policy). New members see messages from
// their joining on.
func (s *Service) AddMembers(ctx context.Context, me, conv plaza.ID, ids []plaza.ID) (Conversation, error) {
	c, _, err := s.groupAction(ctx, me, conv)
	if err != nil {
		return Conversation{}, err
	}
	var add []plaza.ID
	for _, id := range dedupe(ids) {
		if !contains(c.MemberIDs, id) {
			add = append(add, id)
		}
	}
	if len(add) == 0 {
		return c, nil
	}
	// Charged before the checks, so probing who may be added costs too.
	if err := s.limits.invitations.Take(ctx, me.String(), len(add)); err != nil {
		return Conversation{}, err
	}
	for _, id := range add {
		if err := s.checkInvitee(ctx, me, id); err != nil {
			return Conversation{}, err
		}
	}
	if len(c.MemberIDs)+len(add) > s.cfg.MaxGroupMembers {
		return Conversation{}, plaza.Invalid("account_ids", fmt.Sprintf("a group has at most %d members", s.cfg.MaxGroupMembers))
	}
	return s.changeGroup(ctx, conv, nil, func(tx *sql.Tx, now time.Time) error {
		// The conversation row first, as the send path locks it before
		// members: the same order on every path cannot deadlock.
		if err := bumpMembersVersion(ctx, tx, conv); err != nil {
			return err
		}
		var last int64
		if err := tx.QueryRowContext(ctx, `SELECT last_seq FROM conversations WHERE id = $1`, conv).Scan(&last); err != nil {
			return err
		}
		for _, id := range add {
			// ON CONFLICT: someone else may have added them meanwhile (a
			// failed statement would abort the whole transaction on
			// PostgreSQL).
			if _, err := tx.ExecContext(ctx, `INSERT INTO members (conversation_id, account_id, role, read_seq, joined_seq, joined_at)
				VALUES ($1, $2, $3, $4, $4, $5) ON CONFLICT (conversation_id, account_id) DO NOTHING`,
				conv, id, RoleMember, last, now.UnixMicro()); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `UPDATE conversations SET updated_at = $1 WHERE id = $2`, now.UnixMicro(), conv)
		return err
	})
}

// RemoveMember removes someone from a group: the owner and admins may
// remove members (admins only plain members), and anyone may remove
// themselves (leave). An owner who leaves hands the group to the longest
// serving admin, or else member.
func (s *Service) RemoveMember(ctx context.Context, me, conv, who plaza.ID) (Conversation, error) {
	_, mine, err := s.groupAction(ctx, me, conv)
	if err != nil {
		return Conversation{}, err
	}
	target, err := getMember(ctx, s.db.Read(), conv, who)
	if errors.Is(err, sql.ErrNoRows) {
		return Conversation{}, plaza.Errorf(plaza.ENotFound, "that account is not a member")
	}
	if err != nil {
		return Conversation{}, err
	}
	if who != me {
		switch {
		case mine.role == RoleOwner:
		case mine.role == RoleAdmin && target.role == RoleMember:
		default:
			return Conversation{}, plaza.Errorf(plaza.EForbidden, "only the owner, or an admin for plain members, can remove someone")
		}
	}
	return s.changeGroup(ctx, conv, []plaza.ID{who}, func(tx *sql.Tx, now time.Time) error {
		return removeMember(ctx, tx, conv, who, target.role == RoleOwner, now)
	})
}

// removeMember takes who out of the group conv inside tx; if who owned
// it, the longest-serving admin, or else member, becomes the owner.
func removeMember(ctx context.Context, tx *sql.Tx, conv, who plaza.ID, owner bool, now time.Time) error {
	// Before the delete: the send path locks the conversation row before
	// members, and a send checked before this removal must see it (see
	// number).
	if err := bumpMembersVersion(ctx, tx, conv); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM members WHERE conversation_id = $1 AND account_id = $2`, conv, who); err != nil {
		return err
	}
	if owner {
		if _, err := tx.ExecContext(ctx, `UPDATE members SET role = 'owner' WHERE conversation_id = $1 AND account_id =
			(SELECT account_id FROM members WHERE conversation_id = $1 ORDER BY CASE role WHEN 'admin' THEN 0 ELSE 1 END, joined_at, account_id LIMIT 1)`, conv); err != nil {
			return err
		}
	}
	_, err := tx.ExecContext(ctx, `UPDATE conversations SET updated_at = $1 WHERE id = $2`, now.UnixMicro(), conv)
	return err
}

// SetRole makes a member an admin or a plain member (owner only).
func (s *Service) SetRole(ctx context.Context, me, conv, who plaza.ID, role string) (Conversation, error) {
	if role != RoleAdmin && role != RoleMember {
		return Conversation{}, plaza.Invalid("role", "must be admin or member")
	}
	if _, _, err := s.groupAction(ctx, me, conv, RoleOwner); err != nil {
		return Conversation{}, err
	}
	if who == me {
		return Conversation{}, plaza.Invalid("account_id", "the owner's role does not change; leave the group to hand it over")
	}
	if _, err := getMember(ctx, s.db.Read(), conv, who); err != nil {
		return Conversation{}, plaza.Errorf(plaza.ENotFound, "that account is not a member")
	}
	return s.changeGroup(ctx, conv, nil, func(tx *sql.Tx, now time.Time) error {
		_, err := tx.ExecContext(ctx, `UPDATE members SET role = $1 WHERE conversation_id = $2 AND account_id = $3`, role, conv, who)
		return err
	})
}

// changeGroup applies change and tells every member, and those in extra
// (people who just left), with conversation.updated.
func (s *Service) changeGroup(ctx context.Context, conv plaza.ID, extra []plaza.ID, change func(tx *sql.Tx, now time.Time) error) (Conversation, error) {
	now := s.now()
	var c Conversation
	var evs []events.Pending
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		evs = evs[:0]
		if err := change(tx, now); err != nil {
			return err
		}
		var err error
		if c, err = getConversation(ctx, tx, conv); err != nil {
			return err
		}
		to := append(append([]plaza.ID{}, c.MemberIDs...), extra...)
		evs, err = s.conversationEvents(ctx, tx, c, to, now)
		return err
	})
	if err != nil {
		return Conversation{}, fmt.Errorf("change group: %w", err)
	}
	s.publish(ctx, evs)
	return c, nil
}
