package export

import (
	"context"
	"fmt"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/chat"
)

// conversationFile and conversationPage name one conversation's files.
func conversationFile(id plaza.ID) string { return fmt.Sprintf("conversations/%d.json", id) }
func conversationPage(id plaza.ID) string { return fmt.Sprintf("conversations/%d.html", id) }

// eachConversation calls fn for each conversation the subject is in.
func (x *run) eachConversation(ctx context.Context, fn func(chat.YourConversation) error) error {
	return pages(ctx, x.p, func(after plaza.ID, limit int) ([]chat.YourConversation, error) {
		return x.s.d.Chat.YourConversations(ctx, x.subject, after, limit)
	}, func(c chat.YourConversation) plaza.ID { return c.ID }, fn)
}

// eachMessage calls fn for each message of conv the subject can see, up
// to seq upTo: both passes over a conversation (JSON, then HTML) end at
// the last message it had when the export reached it.
func (x *run) eachMessage(ctx context.Context, conv plaza.ID, upTo int64, fn func(chat.Message) error) error {
	after := int64(0)
	limit := x.s.cfg.PageSize
	for {
		msgs, err := x.s.d.Chat.History(ctx, x.subject, conv, after, 0, limit)
		if plaza.ErrorCode(err) == plaza.ENotFound {
			// The subject left the conversation meanwhile.
			return nil
		}
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if m.Seq > upTo {
				return nil
			}
			if m.SenderID != x.subject {
				// A device's own ID for its sends: the sender's, not
				// the subject's.
				m.ClientID = ""
			}
			if err := fn(m); err != nil {
				return err
			}
			after = m.Seq
		}
		if err := x.p.add(ctx, int64(len(msgs))); err != nil {
			return err
		}
		if len(msgs) < limit {
			return nil
		}
		if err := x.p.page(ctx); err != nil {
			return err
		}
	}
}

// conversationEntry is a conversation in conversations/index.json.
type conversationEntry struct {
	chat.YourConversation
	File string `json:"file"`
	Page string `json:"page"`
}

// conversations writes conversations/index.json, a JSON file and a page
// per conversation with the messages the subject can see (chat.History's
// rule: those sent after they joined, as moderation renders them for
// them; recalled ones without text or media), and conversations.html.
func (x *run) conversations(ctx context.Context) (string, error) {
	f, err := x.w.Create("conversations/index.json")
	if err != nil {
		return "", err
	}
	o := newJSONObject(f)
	l := o.List("conversations")
	n := 0
	if err := x.eachConversation(ctx, func(c chat.YourConversation) error {
		n++
		return l.Add(conversationEntry{c, conversationFile(c.ID), conversationPage(c.ID)})
	}); err != nil {
		return "", err
	}
	l.Close()
	if err := o.Close(); err != nil {
		return "", err
	}

	pg, err := openPage(x.w, "conversations.html", "Conversations", "", x.exported)
	if err != nil {
		return "", err
	}
	pg.note("The conversations you are a member of, with the messages you can see: those sent since you joined.")
	pg.table("Conversation", "Kind", "Members", "Messages", "Joined")
	if err := x.eachConversation(ctx, func(c chat.YourConversation) error {
		names, err := x.s.d.Chat.YourConversationMembers(ctx, x.subject, c.ID)
		if err != nil {
			return err
		}
		return pg.row(link(x.conversationTitle(c, names), conversationPage(c.ID)), c.Kind, len(c.MemberIDs), max(c.LastSeq-c.JoinedSeq, 0), c.JoinedAt)
	}); err != nil {
		return "", err
	}
	pg.endTable()
	if err := pg.close(); err != nil {
		return "", err
	}

	msgs := int64(0)
	if err := x.eachConversation(ctx, func(c chat.YourConversation) error {
		k, err := x.conversation(ctx, c)
		msgs += k
		return err
	}); err != nil {
		return "", err
	}
	return fmt.Sprintf("conversations: %d; messages: %d", n, msgs), nil
}

// conversationTitle names a conversation: a group by its title, a direct
// conversation by the other person.
func (x *run) conversationTitle(c chat.YourConversation, names map[plaza.ID]string) string {
	if c.Title != "" {
		return c.Title
	}
	for _, m := range c.MemberIDs {
		if m != x.subject {
			if n, ok := names[m]; ok {
				return "With " + n
			}
			return "With account " + m.String()
		}
	}
	return "Conversation " + c.ID.String()
}

// conversation writes one conversation's JSON file and page, and returns
// how many messages they hold.
func (x *run) conversation(ctx context.Context, c chat.YourConversation) (int64, error) {
	f, err := x.w.Create(conversationFile(c.ID))
	if err != nil {
		return 0, err
	}
	o := newJSONObject(f)
	if err := o.Field("conversation", c); err != nil {
		return 0, err
	}
	l := o.List("messages")
	n := int64(0)
	if err := x.eachMessage(ctx, c.ID, c.LastSeq, func(m chat.Message) error { n++; return l.Add(m) }); err != nil {
		return 0, err
	}
	l.Close()
	if err := o.Close(); err != nil {
		return 0, err
	}

	names, err := x.s.d.Chat.YourConversationMembers(ctx, x.subject, c.ID)
	if err != nil {
		return 0, err
	}
	pg, err := openPage(x.w, conversationPage(c.ID), x.conversationTitle(c, names), "../", x.exported)
	if err != nil {
		return 0, err
	}
	pg.fields("Kind", c.Kind, "Members", len(c.MemberIDs), "Your role", c.Role, "Joined", c.JoinedAt)
	pg.table("Sent", "From", "Message")
	if err := x.eachMessage(ctx, c.ID, c.LastSeq, func(m chat.Message) error {
		from := m.SenderID.String()
		if h, ok := names[m.SenderID]; ok {
			from = h
		}
		return pg.row(m.CreatedAt, from, messageCell(m, x.subject))
	}); err != nil {
		return 0, err
	}
	pg.endTable()
	return n, pg.close()
}

// messageCell renders a message's content for a page.
func messageCell(m chat.Message, subject plaza.ID) cell {
	switch {
	case m.Recalled:
		return cell{Text: "(recalled)"}
	case m.Removed && m.SenderID != subject:
		return cell{Text: "(removed by a moderation decision)"}
	}
	text := m.Text
	if m.Removed {
		text += "\n(removed by a moderation decision; others see it no more)"
	}
	if m.Label != "" {
		text += "\n[" + m.Label + "]"
	}
	if m.MediaID != nil {
		if m.SenderID == subject {
			return cell{Text: joinNonEmpty(text, m.Kind+" "+m.MediaID.String()), Href: "../media.html#m" + m.MediaID.String()}
		}
		text = joinNonEmpty(text, fmt.Sprintf("(%s %s, sent by someone else: not in your export)", m.Kind, m.MediaID))
	}
	return cell{Text: text}
}

func joinNonEmpty(a, b string) string {
	if a == "" {
		return b
	}
	return a + "\n" + b
}
