package chat

import (
	"database/sql"
	"encoding/json"
	"time"

	"github.com/plaza-im/plaza"
)

// Message kinds. Media kinds carry a media_id the sender uploaded.
const (
	KindText  = "text"
	KindImage = "image"
	KindVideo = "video"
	KindVoice = "voice"
	KindFile  = "file"
)

// Message is one message, as stored and as sent on the wire.
type Message struct {
	ID             plaza.ID   `json:"id"`
	ConversationID plaza.ID   `json:"conversation_id"`
	Seq            int64      `json:"seq"`
	SenderID       plaza.ID   `json:"sender_id"`
	ClientID       string     `json:"client_id"`
	Kind           string     `json:"kind"`
	Text           string     `json:"text"`
	MediaID        *plaza.ID  `json:"media_id"`
	ReplyTo        *plaza.ID  `json:"reply_to,omitempty"`
	Mentions       []plaza.ID `json:"mentions,omitempty"`
	Recalled       bool       `json:"recalled"`
	CreatedAt      time.Time  `json:"created_at"`
	// Moderation is the moderation decision in force on the message, for
	// package moderation; members see it through the fields below, which
	// render sets for each of them (see moderation.go).
	Moderation plaza.Moderation `json:"-"`
	// Label is the moderators' note shown with a labelled message.
	Label string `json:"label,omitempty"`
	// Removed marks a message a decision removed: its sender sees it
	// whole with the decision, everyone else without text or media.
	Removed    bool     `json:"removed,omitempty"`
	DecisionID plaza.ID `json:"decision_id,omitempty"`
}

// Conversation kinds.
const (
	Direct = "direct"
	Group  = "group"
)

// Member roles in a group.
const (
	RoleOwner  = "owner"
	RoleAdmin  = "admin"
	RoleMember = "member"
)

// Conversation is a direct or group conversation.
type Conversation struct {
	ID        plaza.ID   `json:"id"`
	Kind      string     `json:"kind"`
	Title     string     `json:"title"`
	MemberIDs []plaza.ID `json:"member_ids"`
	// Admins lists the owner first, then the admins (groups only).
	OwnerID   plaza.ID   `json:"owner_id,omitempty"`
	AdminIDs  []plaza.ID `json:"admin_ids,omitempty"`
	LastSeq   int64      `json:"last_seq"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// Summary is a conversation in someone's list: with their unread count
// and the last message.
type Summary struct {
	Conversation
	ReadSeq     int64    `json:"read_seq"`
	UnreadCount int64    `json:"unread_count"`
	LastMessage *Message `json:"last_message"`
	// Muted says the member muted the conversation (SetMute), until
	// MutedUntil if that is set.
	Muted      bool       `json:"muted"`
	MutedUntil *time.Time `json:"muted_until,omitempty"`
}

// nullMessage scans a message from a LEFT JOIN, where every column may be
// NULL.
type nullMessage struct {
	id, conv, seq, sender sql.NullInt64
	clientID, kind, text  sql.NullString
	media, replyTo        sql.NullInt64
	mentions              sql.NullString
	recalled              sql.NullBool
	created               sql.NullInt64
	modAction, modLabel   sql.NullString
	modDecision           sql.NullInt64
}

// messageColumnsM are the columns nullMessage.dest scans, from alias m.
const messageColumnsM = `m.id, m.conversation_id, m.seq, m.sender_id, m.client_id, m.kind, m.text, m.media_id, m.reply_to, m.mentions, m.recalled, m.created_at,
	m.mod_action, m.mod_label, m.mod_decision`

func (n *nullMessage) dest() []any {
	return []any{&n.id, &n.conv, &n.seq, &n.sender, &n.clientID, &n.kind, &n.text, &n.media, &n.replyTo, &n.mentions, &n.recalled, &n.created,
		&n.modAction, &n.modLabel, &n.modDecision}
}

func (n *nullMessage) message() (Message, bool) {
	if !n.id.Valid {
		return Message{}, false
	}
	m := Message{
		ID: plaza.ID(n.id.Int64), ConversationID: plaza.ID(n.conv.Int64), Seq: n.seq.Int64, SenderID: plaza.ID(n.sender.Int64),
		ClientID: n.clientID.String, Kind: n.kind.String, Text: n.text.String, Recalled: n.recalled.Bool,
		CreatedAt:  time.UnixMicro(n.created.Int64).UTC(),
		Moderation: plaza.Moderation{Action: n.modAction.String, Label: n.modLabel.String, DecisionID: plaza.ID(n.modDecision.Int64)},
	}
	if n.media.Valid {
		id := plaza.ID(n.media.Int64)
		m.MediaID = &id
	}
	if n.replyTo.Valid {
		id := plaza.ID(n.replyTo.Int64)
		m.ReplyTo = &id
	}
	if n.mentions.String != "" && n.mentions.String != "[]" {
		_ = json.Unmarshal([]byte(n.mentions.String), &m.Mentions)
	}
	return m, true
}

// ContactRequest asks to become contacts.
type ContactRequest struct {
	ID        plaza.ID  `json:"id"`
	FromID    plaza.ID  `json:"from_id"`
	ToID      plaza.ID  `json:"to_id"`
	Note      string    `json:"note"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
}

// Contact request statuses.
const (
	RequestPending  = "pending"
	RequestAccepted = "accepted"
	RequestDeclined = "declined"
)

// Contact is someone in an account's contact list.
type Contact struct {
	AccountID   plaza.ID  `json:"id"`
	Handle      string    `json:"handle"`
	DisplayName string    `json:"display_name"`
	Since       time.Time `json:"since"`
	// AvatarVersion is the version of the contact's profile photo, 0 for
	// none (the API turns it into avatar_url); Contacts fills it in.
	AvatarVersion int64 `json:"-"`
}
