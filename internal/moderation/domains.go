package moderation

import (
	"context"
	"database/sql"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/channel"
	"github.com/plaza-im/plaza/internal/chat"
	"github.com/plaza-im/plaza/internal/events"
	"github.com/plaza-im/plaza/internal/microblog"
)

// UseDomains makes microblog posts, channels, channel posts and messages
// reportable. Call it while wiring; a nil service leaves its targets out.
func (s *Service) UseDomains(posts *microblog.Service, channels *channel.Service, chats *chat.Service) {
	if posts != nil {
		s.Register(TargetPost, postTarget{posts})
	}
	if channels != nil {
		s.Register(TargetChannel, channelTarget{channels})
		s.Register(TargetChannelPost, channelPostTarget{channels})
	}
	if chats != nil {
		s.Register(TargetMessage, messageTarget{chats})
	}
}

// postTarget is a microblog post, reply or repost.
type postTarget struct{ s *microblog.Service }

func postSnapshot(p microblog.Post) Snapshot {
	created := p.CreatedAt
	kind := "post"
	switch {
	case p.ReplyTo != nil:
		kind = "reply"
	case p.RepostOf != nil:
		kind = "repost"
	}
	return Snapshot{Type: TargetPost, ID: p.ID, OwnerID: p.AuthorID, Kind: kind, Text: p.Text, MediaIDs: p.MediaIDs,
		Status: p.Status, CreatedAt: &created}
}

func (t postTarget) Visible(ctx context.Context, viewer, id plaza.ID) (Snapshot, error) {
	p, err := t.s.Get(ctx, viewer, id)
	if err != nil {
		return Snapshot{}, err
	}
	return postSnapshot(p), nil
}

func (t postTarget) View(ctx context.Context, id plaza.ID) (Snapshot, error) {
	p, err := t.s.ModerationView(ctx, id)
	if err != nil {
		return Snapshot{}, err
	}
	return postSnapshot(p), nil
}

func (t postTarget) Apply(ctx context.Context, tx *sql.Tx, id plaza.ID, m plaza.Moderation) ([]events.Pending, error) {
	_, err := t.s.Moderate(ctx, tx, id, m)
	return nil, err
}

// channelPostTarget is a public account's post.
type channelPostTarget struct{ s *channel.Service }

func channelPostSnapshot(p channel.Post) Snapshot {
	created := p.CreatedAt
	return Snapshot{Type: TargetChannelPost, ID: p.ID, OwnerID: p.AuthorID, ChannelID: p.ChannelID, Title: p.Title, Text: p.Body,
		MediaIDs: p.MediaIDs, Status: p.Status, CreatedAt: &created}
}

func (t channelPostTarget) Visible(ctx context.Context, viewer, id plaza.ID) (Snapshot, error) {
	p, err := t.s.VisiblePost(ctx, viewer, id)
	if err != nil {
		return Snapshot{}, err
	}
	return channelPostSnapshot(p), nil
}

func (t channelPostTarget) View(ctx context.Context, id plaza.ID) (Snapshot, error) {
	p, err := t.s.PostModerationView(ctx, id)
	if err != nil {
		return Snapshot{}, err
	}
	return channelPostSnapshot(p), nil
}

func (t channelPostTarget) Apply(ctx context.Context, tx *sql.Tx, id plaza.ID, m plaza.Moderation) ([]events.Pending, error) {
	_, err := t.s.ModeratePost(ctx, tx, id, m)
	return nil, err
}

// channelTarget is a public account itself; its owner answers for it.
type channelTarget struct{ s *channel.Service }

func channelSnapshot(c channel.Channel) Snapshot {
	approved := c.ApprovedAt
	return Snapshot{Type: TargetChannel, ID: c.ID, OwnerID: c.OwnerID, Handle: c.Handle, Name: c.Name, Description: c.Description,
		Status: c.Status, CreatedAt: &approved}
}

func (t channelTarget) Visible(ctx context.Context, viewer, id plaza.ID) (Snapshot, error) {
	c, err := t.s.Get(ctx, viewer, id)
	if err != nil {
		return Snapshot{}, err
	}
	return channelSnapshot(c), nil
}

func (t channelTarget) View(ctx context.Context, id plaza.ID) (Snapshot, error) {
	c, err := t.s.ModerationView(ctx, id)
	if err != nil {
		return Snapshot{}, err
	}
	return channelSnapshot(c), nil
}

func (t channelTarget) Apply(ctx context.Context, tx *sql.Tx, id plaza.ID, m plaza.Moderation) ([]events.Pending, error) {
	_, err := t.s.ModerateChannel(ctx, tx, id, m)
	return nil, err
}

// messageTarget is a message in a conversation. Reports of it carry the
// evidence the reporter chose: it, and the messages before it.
type messageTarget struct{ s *chat.Service }

func messageSnapshot(m chat.Message) Snapshot {
	created := m.CreatedAt
	var media []plaza.ID
	if m.MediaID != nil {
		media = []plaza.ID{*m.MediaID}
	}
	return Snapshot{Type: TargetMessage, ID: m.ID, OwnerID: m.SenderID, ConversationID: m.ConversationID, Seq: m.Seq, Kind: m.Kind,
		Text: m.Text, MediaIDs: media, CreatedAt: &created}
}

func (t messageTarget) Visible(ctx context.Context, viewer, id plaza.ID) (Snapshot, error) {
	ms, err := t.s.ReportEvidence(ctx, viewer, id, 0)
	if err != nil {
		return Snapshot{}, err
	}
	return messageSnapshot(ms[len(ms)-1]), nil
}

func (t messageTarget) Evidence(ctx context.Context, reporter, id plaza.ID, before int) ([]Snapshot, error) {
	ms, err := t.s.ReportEvidence(ctx, reporter, id, before)
	if err != nil {
		return nil, err
	}
	out := make([]Snapshot, len(ms))
	for i, m := range ms {
		out[i] = messageSnapshot(m)
	}
	return out, nil
}

func (t messageTarget) View(ctx context.Context, id plaza.ID) (Snapshot, error) {
	m, err := t.s.MessageModerationView(ctx, id)
	if err != nil {
		return Snapshot{}, err
	}
	return messageSnapshot(m), nil
}

func (t messageTarget) Apply(ctx context.Context, tx *sql.Tx, id plaza.ID, m plaza.Moderation) ([]events.Pending, error) {
	_, pending, err := t.s.ModerateMessage(ctx, tx, id, m)
	return pending, err
}

func (t postTarget) Responsible(ctx context.Context, id plaza.ID) ([]plaza.ID, error) {
	p, err := t.s.ModerationView(ctx, id)
	if err != nil {
		return nil, err
	}
	return []plaza.ID{p.AuthorID}, nil
}

func (t messageTarget) Responsible(ctx context.Context, id plaza.ID) ([]plaza.ID, error) {
	m, err := t.s.MessageModerationView(ctx, id)
	if err != nil {
		return nil, err
	}
	return []plaza.ID{m.SenderID}, nil
}

func (t channelTarget) Responsible(ctx context.Context, id plaza.ID) ([]plaza.ID, error) {
	c, err := t.s.ModerationView(ctx, id)
	if err != nil {
		return nil, err
	}
	return append([]plaza.ID{c.OwnerID}, c.EditorIDs...), nil
}

func (t channelPostTarget) Responsible(ctx context.Context, id plaza.ID) ([]plaza.ID, error) {
	p, err := t.s.PostModerationView(ctx, id)
	if err != nil {
		return nil, err
	}
	c, err := t.s.ModerationView(ctx, p.ChannelID)
	if err != nil {
		return nil, err
	}
	return append([]plaza.ID{p.AuthorID, c.OwnerID}, c.EditorIDs...), nil
}
