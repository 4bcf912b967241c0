package chat

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/events"
	"github.com/plaza-im/plaza/internal/identity"
	"github.com/plaza-im/plaza/internal/media"
	"github.com/plaza-im/plaza/internal/textcheck"
)

// SendInput is a message to send.
type SendInput struct {
	ConversationID plaza.ID
	// ClientID, chosen by the sending device, makes the send idempotent:
	// sending it again returns the stored message.
	ClientID string
	Kind     string
	Text     string
	MediaID  *plaza.ID
	ReplyTo  *plaza.ID
	Mentions []plaza.ID
}

const (
	clientIDMax = 64
	mentionsMax = 50
)

// Send stores a message and acknowledges it once committed. created is
// false when the client_id was already used: the stored message is
// returned as it is.
func (s *Service) Send(ctx context.Context, sender plaza.ID, in SendInput) (Message, bool, error) {
	q, err := s.Queue(ctx, sender, in)
	if err != nil {
		return Message{}, false, err
	}
	return q.Wait()
}

// Queue checks a send as Send does and queues it for the writer, without
// waiting for its commit: a stream queues a device's sends one after
// another, so they commit in the order the device sent them, and waits
// for their outcomes elsewhere.
func (s *Service) Queue(ctx context.Context, sender plaza.ID, in SendInput) (*QueuedSend, error) {
	start := time.Now()
	if err := s.limits.sends.Take(ctx, sender.String(), 1); err != nil {
		return nil, err
	}
	var p plaza.Problems
	in.ClientID = strings.TrimSpace(in.ClientID)
	if n := len(in.ClientID); n < 1 || n > clientIDMax || textcheck.Storable(in.ClientID) != "" {
		p.Add("client_id", "must be 1–64 characters, e.g. a UUID the device makes")
	}
	switch in.Kind {
	case KindText:
		if n := utf8.RuneCountInString(in.Text); n < 1 || n > s.cfg.MaxTextRunes || strings.TrimSpace(in.Text) == "" {
			p.Add("text", fmt.Sprintf("must be 1–%d characters and not blank", s.cfg.MaxTextRunes))
		}
		if in.MediaID != nil {
			p.Add("media_id", "must be absent for a text message")
		}
	case KindImage, KindVideo, KindVoice, KindFile:
		if in.MediaID == nil {
			p.Add("media_id", "is required for a "+in.Kind+" message: upload the file with POST /api/v1/media first")
		}
		if utf8.RuneCountInString(in.Text) > s.cfg.MaxTextRunes {
			p.Add("text", fmt.Sprintf("a caption must be at most %d characters", s.cfg.MaxTextRunes))
		}
	default:
		p.Add("kind", "must be text, image, video, voice or file")
	}
	if rule := textcheck.Storable(in.Text); rule != "" {
		p.Add("text", rule)
	}
	if len(in.Mentions) > mentionsMax {
		p.Add("mentions", fmt.Sprintf("must name at most %d people", mentionsMax))
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	// The same standing rules as a request's, for sends that come over an
	// open stream after a suspension, closure, deletion or new terms.
	if err := s.accounts.CheckStanding(ctx, sender); err != nil {
		return nil, err
	}
	if err := s.identity.Require(ctx, sender, identity.MessageSend); err != nil {
		return nil, err
	}
	if in.MediaID != nil {
		if err := s.checkAttachment(ctx, sender, in.Kind, *in.MediaID); err != nil {
			return nil, err
		}
	}
	kind, version, err := s.mayPost(ctx, sender, in.ConversationID)
	if err != nil {
		return nil, err
	}
	if kind == Direct {
		in.Mentions = nil
	}
	if in.ReplyTo != nil {
		target, err := getMessage(ctx, s.db.Read(), *in.ReplyTo)
		if err != nil || target.ConversationID != in.ConversationID {
			return nil, plaza.Invalid("reply_to", "must be a message of this conversation")
		}
	}
	in.Mentions = dedupe(in.Mentions)
	for _, id := range in.Mentions {
		if _, err := getMember(ctx, s.db.Read(), in.ConversationID, id); err != nil {
			return nil, plaza.Invalid("mentions", "must name members of this conversation")
		}
	}
	if s.beforeSubmit != nil {
		s.beforeSubmit()
	}
	return s.w.submit(ctx, sender, in, kind, version, start)
}

// checkAttachment checks that a media message carries the sender's own
// upload of a fitting kind: an image for image, a video for video, audio
// of at most VoiceMaxDuration for voice, anything for file.
func (s *Service) checkAttachment(ctx context.Context, sender plaza.ID, kind string, id plaza.ID) error {
	if s.media == nil {
		return plaza.Invalid("kind", "this server does not store media")
	}
	it, err := s.media.Get(ctx, id)
	if err != nil || it.OwnerID != sender {
		return plaza.Invalid("media_id", "must be media you uploaded")
	}
	want := map[string]string{KindImage: media.KindImage, KindVideo: media.KindVideo, KindVoice: media.KindAudio}[kind]
	if want != "" && it.Kind != want {
		return plaza.Invalid("media_id", fmt.Sprintf("a %s message needs %s media, and this is %s", kind, want, it.Kind))
	}
	if kind == KindVoice && it.DurationMS > s.cfg.VoiceMaxDuration.Milliseconds() {
		return plaza.Invalid("media_id", fmt.Sprintf("a voice message may be at most %s long", s.cfg.VoiceMaxDuration))
	}
	return nil
}

// CanSeeMedia reports whether viewer is a member of a conversation holding
// a message that carries the media item, from when they joined, and that
// no moderation decision removed (but for its sender).
func (s *Service) CanSeeMedia(ctx context.Context, viewer, mediaID plaza.ID) (bool, error) {
	var n int
	err := s.db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM messages m
		JOIN members mb ON mb.conversation_id = m.conversation_id AND mb.account_id = $2
		WHERE m.media_id = $1 AND m.seq > mb.joined_seq AND (m.mod_action <> 'remove' OR m.sender_id = $2)`, mediaID, viewer).Scan(&n)
	return n > 0, err
}

// checkDirect applies blocks and the direct-message policy between a
// sender and the other person of a direct conversation.
func (s *Service) checkDirect(ctx context.Context, sender, to plaza.ID) error {
	if b, err := blocked(ctx, s.db.Read(), to, sender); err != nil {
		return err
	} else if b {
		return plaza.Errorf(plaza.EBlocked, "this person does not accept messages from you")
	}
	if s.cfg.DirectPolicy == DirectContacts {
		ok, err := areContacts(ctx, s.db.Read(), sender, to)
		if err != nil {
			return err
		}
		if !ok {
			return plaza.Errorf(plaza.ENotAContact, "you can only message your contacts: send a contact request first (POST /api/v1/contacts/requests)")
		}
	}
	return nil
}

func other(c Conversation, me plaza.ID) plaza.ID {
	for _, id := range c.MemberIDs {
		if id != me {
			return id
		}
	}
	return me
}

func contains(ids []plaza.ID, id plaza.ID) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func dedupe(ids []plaza.ID) []plaza.ID {
	if len(ids) == 0 {
		return nil
	}
	out := make([]plaza.ID, 0, len(ids))
	for _, id := range ids {
		if !contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// memberConversation returns the conversation if account is a member;
// otherwise not_found, so non-members learn nothing about it.
func (s *Service) memberConversation(ctx context.Context, conv, account plaza.ID) (Conversation, error) {
	c, err := getConversation(ctx, s.db.Read(), conv)
	if err != nil || !contains(c.MemberIDs, account) {
		if err != nil && plaza.ErrorCode(err) != plaza.ENotFound {
			return Conversation{}, err
		}
		return Conversation{}, plaza.Errorf(plaza.ENotFound, "conversation not found")
	}
	return c, nil
}

// History returns messages of a conversation in ascending seq: those after
// afterSeq, or, with beforeSeq > 0, the page just before it. A member sees
// only messages from when they joined, and a message a moderation
// decision removed only as a tombstone unless they sent it.
func (s *Service) History(ctx context.Context, account, conv plaza.ID, afterSeq, beforeSeq int64, limit int) ([]Message, error) {
	m, err := getMember(ctx, s.db.Read(), conv, account)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, plaza.Errorf(plaza.ENotFound, "conversation not found")
	}
	if err != nil {
		return nil, err
	}
	if afterSeq < m.joinedSeq {
		afterSeq = m.joinedSeq
	}
	return listMessages(ctx, s.db.Read(), account, conv, afterSeq, beforeSeq, limit)
}

// Recall withdraws a message its sender sent within the recall window.
// The message keeps its id and seq, loses its text and media (and its
// place in the search index), and every member gets message.recalled.
func (s *Service) Recall(ctx context.Context, account, conv, messageID plaza.ID) (Message, error) {
	if _, err := s.memberConversation(ctx, conv, account); err != nil {
		return Message{}, err
	}
	now := s.now()
	var out Message
	var evs []events.Pending
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		evs = evs[:0]
		m, err := getMessage(ctx, tx, messageID)
		if err != nil || m.ConversationID != conv {
			return plaza.Errorf(plaza.ENotFound, "message not found")
		}
		if m.SenderID != account {
			return plaza.Errorf(plaza.EForbidden, "only the sender can recall a message")
		}
		if m.Recalled {
			out = m
			return nil
		}
		if now.Sub(m.CreatedAt) > s.cfg.RecallWindow {
			return plaza.Errorf(plaza.ERecallWindowExpired, "a message can be recalled only within %s of sending", s.cfg.RecallWindow).
				WithDetails(map[string]any{"window_seconds": int(s.cfg.RecallWindow.Seconds())})
		}
		if _, err := tx.ExecContext(ctx, `UPDATE messages SET recalled = $1, text = '', media_id = NULL WHERE id = $2`, true, messageID); err != nil {
			return err
		}
		if err := s.unindex(ctx, tx, conv, messageID); err != nil {
			return err
		}
		m.Recalled, m.Text, m.MediaID = true, "", nil
		out = m
		ids, err := memberIDs(ctx, tx, conv)
		if err != nil {
			return err
		}
		data, _ := json.Marshal(m)
		evs, err = s.appendEvents(ctx, tx, ids, events.MessageRecalled, conv, m.ID, data, nil)
		return err
	})
	if err != nil {
		return Message{}, err
	}
	s.publish(ctx, evs)
	return out, nil
}

// Read moves the account's read position in a conversation forward to
// seq. The account's other devices get conversation.read, and in a direct
// conversation so does the other person (a read receipt).
func (s *Service) Read(ctx context.Context, account, conv plaza.ID, seq int64) error {
	c, err := s.memberConversation(ctx, conv, account)
	if err != nil {
		return err
	}
	if seq < 0 || seq > c.LastSeq {
		return plaza.Invalid("seq", fmt.Sprintf("must be from 0 to the conversation's last_seq (%d)", c.LastSeq))
	}
	var evs []events.Pending
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		evs = evs[:0]
		res, err := tx.StmtContext(ctx, s.w.st.markRead).ExecContext(ctx, conv, account, seq)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // already read that far
		}
		data, _ := json.Marshal(map[string]any{"conversation_id": conv, "account_id": account, "seq": seq})
		to := []plaza.ID{account}
		if c.Kind == Direct {
			to = append(to, other(c, account))
		}
		evs, err = s.appendEvents(ctx, tx, to, events.ConversationRead, conv, 0, data, data)
		return err
	})
	if err != nil {
		return err
	}
	s.publish(ctx, evs)
	return nil
}

// Typing tells the other members that account is typing. It is not
// stored: a device that is not connected simply does not see it.
func (s *Service) Typing(ctx context.Context, account, conv plaza.ID) error {
	c, err := s.memberConversation(ctx, conv, account)
	if err != nil {
		return err
	}
	if c.Kind == Direct {
		if b, err := blocked(ctx, s.db.Read(), other(c, account), account); err != nil {
			return err
		} else if b {
			return plaza.Errorf(plaza.EBlocked, "this person does not accept messages from you")
		}
	}
	data, _ := json.Marshal(map[string]any{"conversation_id": conv, "account_id": account})
	others := make([]plaza.ID, 0, len(c.MemberIDs))
	for _, id := range c.MemberIDs {
		if id != account {
			others = append(others, id)
		}
	}
	return s.evlog.PublishEphemeral(ctx, others, events.Typing, data)
}
