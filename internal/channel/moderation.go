package channel

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/plaza-im/plaza"
)

// Moderation decisions on channels and their posts (see plaza.Moderation)
// are stored on their rows and applied on every read, so reversing one
// puts the content back at once:
//
//   - label: the channel or post shows the note to everyone who may see it;
//   - limit: a channel leaves channel search and is not_found but for its
//     owner, editors and followers; a post is seen only by them;
//   - remove: only the owner and editors (and a post's author) see it,
//     marked removed; everyone else gets not_found, or it is left out.

// Marks show a viewer the moderation decision in force on a channel or
// post: a label to everyone, and to the channel's owner and editors (or
// a post's author) what limits or removes it.
type Marks struct {
	// Label is the moderators' note shown with labelled content.
	Label   string `json:"label,omitempty"`
	Limited bool   `json:"limited,omitempty"`
	Removed bool   `json:"removed,omitempty"`
	// DecisionID is the decision behind the marks.
	DecisionID plaza.ID `json:"decision_id,omitempty"`
}

// modState is a plaza.Moderation with the channel's rules.
type modState plaza.Moderation

// visible reports whether a viewer may see content in this state: staff
// are the channel's owner and editors (and a post's author), follower
// says whether the viewer follows the channel.
func (m modState) visible(staff, follower bool) bool {
	switch m.Action {
	case plaza.ModRemove:
		return staff
	case plaza.ModLimit:
		return staff || follower
	}
	return true
}

// marks renders the state for a viewer (see visible).
func (m modState) marks(staff bool) Marks {
	switch {
	case m.Action == plaza.ModLabel:
		return Marks{Label: m.Label, DecisionID: m.DecisionID}
	case staff && m.Action == plaza.ModLimit:
		return Marks{Limited: true, DecisionID: m.DecisionID}
	case staff && m.Action == plaza.ModRemove:
		return Marks{Removed: true, DecisionID: m.DecisionID}
	}
	return Marks{}
}

// ModeratePost records the decision m in force on a channel post,
// whatever its status, inside the moderation package's transaction tx,
// and returns the post's author. m with no Action reverses the decision.
func (s *Service) ModeratePost(ctx context.Context, tx *sql.Tx, id plaza.ID, m plaza.Moderation) (plaza.ID, error) {
	return moderateRow(ctx, tx, `UPDATE channel_posts SET mod_action = $1, mod_label = $2, mod_decision = $3 WHERE id = $4 AND (CAST($5 AS BIGINT) = 0 OR mod_decision = CAST($5 AS BIGINT)) RETURNING author_id`, id, m, "post")
}

// ModerateChannel records the decision m in force on a channel, whatever
// its status, inside the moderation package's transaction tx, and
// returns the channel's owner. m with no Action reverses the decision.
func (s *Service) ModerateChannel(ctx context.Context, tx *sql.Tx, id plaza.ID, m plaza.Moderation) (plaza.ID, error) {
	return moderateRow(ctx, tx, `UPDATE channels SET mod_action = $1, mod_label = $2, mod_decision = $3 WHERE id = $4 AND (CAST($5 AS BIGINT) = 0 OR mod_decision = CAST($5 AS BIGINT)) RETURNING owner_id`, id, m, "channel")
}

func moderateRow(ctx context.Context, tx *sql.Tx, query string, id plaza.ID, m plaza.Moderation, what string) (plaza.ID, error) {
	action, label, decision, err := m.Columns()
	if err != nil {
		return 0, err
	}
	var who plaza.ID
	err = tx.QueryRowContext(ctx, query, action, label, decision, id, int64(m.Replaces)).Scan(&who)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, plaza.Errorf(plaza.ENotFound, "%s not found", what)
	}
	if err != nil {
		return 0, fmt.Errorf("moderate %s: %w", what, err)
	}
	return who, nil
}

// PostModerationView returns a channel post as a moderator sees it:
// whatever its status or its channel's, with its moderation state (and
// the marks its author sees).
func (s *Service) PostModerationView(ctx context.Context, id plaza.ID) (Post, error) {
	p, err := s.getPost(ctx, id)
	if err != nil {
		return Post{}, err
	}
	p.Marks = modState(p.Moderation).marks(true)
	return p, nil
}

// VisiblePost returns one channel post if viewer may see it, by the rules
// of the post lists: the channel must be visible to viewer (Get); its
// owner and editors, and the post's author, see any post of it, marked;
// others see published posts of an active channel that no decision
// removes, and limited ones only if they follow the channel. Anything
// else is not_found.
func (s *Service) VisiblePost(ctx context.Context, viewer, id plaza.ID) (Post, error) {
	p, err := s.getPost(ctx, id)
	if err != nil {
		return Post{}, err
	}
	c, err := s.Get(ctx, viewer, p.ChannelID)
	if err != nil {
		return Post{}, errPostNotFound
	}
	staff := viewer != 0 && (s.canEdit(ctx, c, viewer) || p.AuthorID == viewer)
	if !staff && (p.Status != PostPublished || c.Status != StatusActive || !modState(p.Moderation).visible(false, c.Following)) {
		return Post{}, errPostNotFound
	}
	p.Marks = modState(p.Moderation).marks(staff)
	return p, nil
}

var errPostNotFound = plaza.Errorf(plaza.ENotFound, "post not found")

// getPost loads one post, whatever its status.
func (s *Service) getPost(ctx context.Context, id plaza.ID) (Post, error) {
	p, err := scanPost(s.db.Read().QueryRowContext(ctx, `SELECT `+postColumns+` FROM channel_posts p WHERE p.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Post{}, errPostNotFound
	}
	return p, err
}

// CanSeeMedia reports whether viewer may see a channel post that carries
// the media item (VisiblePost), which makes the item visible to them.
func (s *Service) CanSeeMedia(ctx context.Context, viewer, mediaID plaza.ID) (bool, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT post_id FROM channel_post_media WHERE media_id = $1 ORDER BY post_id DESC LIMIT 20`, mediaID)
	if err != nil {
		return false, fmt.Errorf("media in channel posts: %w", err)
	}
	var ids []plaza.ID
	for rows.Next() {
		var id plaza.ID
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return false, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, err
	}
	for _, id := range ids {
		_, err := s.VisiblePost(ctx, viewer, id)
		if err == nil {
			return true, nil
		}
		if plaza.ErrorCode(err) != plaza.ENotFound {
			return false, err
		}
	}
	return false, nil
}

// ModerationView returns a channel as a moderator sees it, whatever its
// moderation state, with the marks its owner sees.
func (s *Service) ModerationView(ctx context.Context, id plaza.ID) (Channel, error) {
	c, err := s.scanChannel(s.db.Read().QueryRowContext(ctx, `SELECT `+channelColumns+` FROM channels c WHERE c.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Channel{}, plaza.Errorf(plaza.ENotFound, "channel not found")
	}
	if err != nil {
		return Channel{}, err
	}
	if c.EditorIDs, err = s.editors(ctx, id); err != nil {
		return Channel{}, err
	}
	c.Marks = modState(c.Moderation).marks(true)
	return c, nil
}
