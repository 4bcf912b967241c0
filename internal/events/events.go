// Package events owns Plaza's event protocol: the frames devices see on
// the stream and in the sync log, the envelope events travel in on the
// bus, the bus subjects, and each account's sync log (numbering events
// inside the writer's own transaction, publishing them after commit,
// replay, sync and pruning). Domain packages append their events here;
// the realtime package delivers them knowing nothing of the domains.
package events

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/jsonappend"
)

// Subjects on the bus.

// AccountSubject is the bus subject of an account's events: each node
// subscribes to the accounts of the devices connected to it.
func AccountSubject(account plaza.ID) string { return "acct." + account.String() }

// ChannelSubject is the bus subject of a channel's posts: each node
// subscribes to the channels its connected accounts follow.
func ChannelSubject(channel plaza.ID) string { return "chan." + channel.String() }

// AuthorSubject is the bus subject of the microblog posts of an author
// with more followers than the fan-out threshold: such a post is
// published once there, and each node subscribes for the connected
// accounts that follow the author.
func AuthorSubject(author plaza.ID) string { return "author." + author.String() }

// AllSubject is the bus subject of control messages for every node about
// every stream, such as "re-check everyone: new terms need consent".
const AllSubject = "streams.all"

// An envelope is what travels on an account's (or AllSubject's) bus
// subject: the event's sequence number in the account's sync log (8
// bytes, big-endian; 0 for ephemeral events such as typing, which are not
// stored; -1 for control messages) followed by the frame exactly as
// devices receive it, so a node forwards it without decoding. Channel and
// author subjects carry bare frames: posts are not in any sync log.

// Envelope wraps frame with its sequence number for the bus.
func Envelope(seq int64, frame []byte) []byte {
	b := make([]byte, 8+len(frame))
	binary.BigEndian.PutUint64(b, uint64(seq))
	copy(b[8:], frame)
	return b
}

// ControlSeq is the sequence number of a control envelope.
const ControlSeq = -1

// ControlEnvelope wraps a message for the realtime nodes themselves (not
// for devices), such as "this account now follows that channel".
func ControlEnvelope(data []byte) []byte { return Envelope(ControlSeq, data) }

// ParseEnvelope splits a bus event into its sequence number and frame.
func ParseEnvelope(b []byte) (seq int64, frame []byte, err error) {
	if len(b) < 8 {
		return 0, nil, errors.New("events: short bus envelope")
	}
	return int64(binary.BigEndian.Uint64(b)), b[8:], nil
}

// FollowControl is the control message that tells the nodes where an
// account has devices to start (Follow) or stop delivering a channel's
// posts, or an author's (see AuthorSubject), to them. It names one of
// Channel and Author.
type FollowControl struct {
	Channel plaza.ID `json:"channel,omitempty"`
	Author  plaza.ID `json:"author,omitempty"`
	Follow  bool     `json:"follow"`
}

// Subject returns the bus subject the control is about.
func (c FollowControl) Subject() string {
	if c.Author != 0 {
		return AuthorSubject(c.Author)
	}
	return ChannelSubject(c.Channel)
}

// Frame renders a stream frame {"type", "cursor", "data"}: the cursor, a
// decimal string, only when positive; data is already JSON.
func Frame(typ string, cursor int64, data []byte) []byte {
	b := make([]byte, 0, len(data)+64)
	b = append(b, `{"type":"`...)
	b = append(b, typ...)
	b = append(b, '"')
	if cursor > 0 {
		b = append(b, `,"cursor":"`...)
		b = strconv.AppendInt(b, cursor, 10)
		b = append(b, '"')
	}
	b = append(b, `,"data":`...)
	b = append(b, data...)
	b = append(b, '}')
	return b
}

// ReadyFrame renders the frame that ends a stream's replay.
func ReadyFrame(cursor int64) []byte {
	return []byte(`{"type":"` + Ready + `","cursor":"` + strconv.FormatInt(cursor, 10) + `"}`)
}

// ReplyFrame renders the answer to a device's frame id: {"type", "id",
// "data"}, data being marshalled to JSON. A json.RawMessage is written as
// it is, without the check and compaction json.Marshal would give it:
// pass one only as json.Marshal would write it (a message as its event
// carries it, which the chat writer writes byte for byte so), so that the
// frame is the same either way.
func ReplyFrame(typ, id string, data any) []byte {
	if raw, ok := data.(json.RawMessage); ok && len(raw) > 0 {
		// typ and id are escaped as the struct below would escape them.
		b := make([]byte, 0, len(`{"type":"","id":"","data":}`)+len(typ)+len(id)+len(raw))
		b = append(b, `{"type":`...)
		b = jsonappend.String(b, typ)
		b = append(b, `,"id":`...)
		b = jsonappend.String(b, id)
		b = append(b, `,"data":`...)
		b = append(b, raw...)
		return append(b, '}')
	}
	b, _ := json.Marshal(struct {
		Type string `json:"type"`
		ID   string `json:"id"`
		Data any    `json:"data"`
	}{typ, id, data})
	return b
}

// ErrorFrame renders the error answer to a device's frame id, with the
// API's error code, message and details.
func ErrorFrame(id string, err error) []byte {
	e := plaza.AsError(err)
	if e == nil {
		if errors.Is(err, context.Canceled) {
			e = plaza.Errorf(plaza.EGone, "the connection is closing")
		} else {
			e = plaza.Errorf(plaza.EInternal, "internal error")
		}
	}
	return ReplyFrame(Error, id, map[string]any{"code": e.Code, "message": e.Message, "details": e.Details})
}
