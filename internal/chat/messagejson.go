package chat

import (
	"strconv"

	"github.com/plaza-im/plaza/internal/jsonappend"
)

// appendJSON appends m's JSON to b, byte for byte as json.Marshal writes
// it (TestMessageJSONMatchesEncodingJSON). The writer encodes every
// message once for its events, on the goroutine every send waits for;
// through json.Marshal that was a tenth of the writer's time at full
// load, most of it reflection and the re-scan of each ID's MarshalJSON.
func (m *Message) appendJSON(b []byte) ([]byte, error) {
	b = append(b, `{"id":`...)
	b = jsonappend.ID(b, m.ID)
	b = append(b, `,"conversation_id":`...)
	b = jsonappend.ID(b, m.ConversationID)
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, m.Seq, 10)
	b = append(b, `,"sender_id":`...)
	b = jsonappend.ID(b, m.SenderID)
	b = append(b, `,"client_id":`...)
	b = jsonappend.String(b, m.ClientID)
	b = append(b, `,"kind":`...)
	b = jsonappend.String(b, m.Kind)
	b = append(b, `,"text":`...)
	b = jsonappend.String(b, m.Text)
	b = append(b, `,"media_id":`...)
	if m.MediaID == nil {
		b = append(b, "null"...)
	} else {
		b = jsonappend.ID(b, *m.MediaID)
	}
	if m.ReplyTo != nil {
		b = append(b, `,"reply_to":`...)
		b = jsonappend.ID(b, *m.ReplyTo)
	}
	if len(m.Mentions) > 0 {
		b = append(b, `,"mentions":[`...)
		for i, id := range m.Mentions {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonappend.ID(b, id)
		}
		b = append(b, ']')
	}
	b = append(b, `,"recalled":`...)
	b = strconv.AppendBool(b, m.Recalled)
	b = append(b, `,"created_at":"`...)
	// AppendText writes what time.Time's MarshalJSON quotes, and refuses
	// the same times: years outside 0–9999, zone offsets of a day or more.
	b, err := m.CreatedAt.AppendText(b)
	if err != nil {
		return nil, err
	}
	b = append(b, '"')
	if m.Label != "" {
		b = append(b, `,"label":`...)
		b = jsonappend.String(b, m.Label)
	}
	if m.Removed {
		b = append(b, `,"removed":true`...)
	}
	if m.DecisionID != 0 {
		b = append(b, `,"decision_id":`...)
		b = jsonappend.ID(b, m.DecisionID)
	}
	return append(b, '}'), nil
}
