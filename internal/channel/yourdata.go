package channel

import (
	"context"
	"fmt"
	"time"

	"github.com/plaza-im/plaza"
)

// The readers below give one account's channel data to its export
// (package export), a page at a time in ascending ID order after a
// cursor: the channels it owns and their posts, the channels it follows
// and its applications. They skip the viewer's checks of Get and Posts,
// which hide a suspended or closed channel: its owner's export holds it
// whatever its standing.

// YourChannels returns up to limit of the channels owner owns, after the
// channel ID after, in ID order, as their owner sees them.
func (s *Service) YourChannels(ctx context.Context, owner, after plaza.ID, limit int) ([]Channel, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT `+channelColumns+` FROM channels c
		WHERE c.owner_id = $1 AND c.id > $2 ORDER BY c.id LIMIT $3`, owner, after, limit)
	if err != nil {
		return nil, fmt.Errorf("your channels: %w", err)
	}
	var out []Channel
	for rows.Next() {
		c, err := s.scanChannel(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("your channels: %w", err)
		}
		c.Marks = modState(c.Moderation).marks(true)
		out = append(out, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("your channels: %w", err)
	}
	for i := range out {
		if out[i].EditorIDs, err = s.editors(ctx, out[i].ID); err != nil {
			return nil, fmt.Errorf("your channels: %w", err)
		}
	}
	return out, nil
}

// YourChannelPosts returns up to limit of the posts of channel, which
// owner must own, after the post ID after, in ID order, whatever their
// status, as the owner sees them. Another's channel is not found.
func (s *Service) YourChannelPosts(ctx context.Context, owner, channel, after plaza.ID, limit int) ([]Post, error) {
	var n int
	if err := s.db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM channels WHERE id = $1 AND owner_id = $2`, channel, owner).Scan(&n); err != nil {
		return nil, fmt.Errorf("your channel posts: %w", err)
	}
	if n == 0 {
		return nil, plaza.Errorf(plaza.ENotFound, "channel not found")
	}
	rows, err := s.db.Read().QueryContext(ctx, `SELECT `+postColumns+` FROM channel_posts p
		WHERE p.channel_id = $1 AND p.id > $2 ORDER BY p.id LIMIT $3`, channel, after, limit)
	if err != nil {
		return nil, fmt.Errorf("your channel posts: %w", err)
	}
	defer rows.Close()
	var out []Post
	for rows.Next() {
		p, err := scanPost(rows)
		if err != nil {
			return nil, fmt.Errorf("your channel posts: %w", err)
		}
		p.Marks = modState(p.Moderation).marks(true)
		out = append(out, p)
	}
	return out, rows.Err()
}

// YourFollowedChannel is a channel someone follows.
type YourFollowedChannel struct {
	ChannelID  plaza.ID  `json:"channel_id"`
	Handle     string    `json:"handle"`
	Name       string    `json:"name"`
	FollowedAt time.Time `json:"followed_at"`
}

// YourFollowedChannels returns up to limit of the channels account
// follows, after the channel ID after, in ID order.
func (s *Service) YourFollowedChannels(ctx context.Context, account, after plaza.ID, limit int) ([]YourFollowedChannel, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT c.id, c.handle, c.name, f.followed_at FROM channel_followers f
		JOIN channels c ON c.id = f.channel_id WHERE f.account_id = $1 AND f.channel_id > $2 ORDER BY f.channel_id LIMIT $3`, account, after, limit)
	if err != nil {
		return nil, fmt.Errorf("your followed channels: %w", err)
	}
	defer rows.Close()
	var out []YourFollowedChannel
	for rows.Next() {
		var f YourFollowedChannel
		var at int64
		if err := rows.Scan(&f.ChannelID, &f.Handle, &f.Name, &at); err != nil {
			return nil, fmt.Errorf("your followed channels: %w", err)
		}
		f.FollowedAt = micro(at)
		out = append(out, f)
	}
	return out, rows.Err()
}

// YourApplications returns up to limit of applicant's applications for a
// public account, whatever their outcome, after the application ID after,
// in ID order.
func (s *Service) YourApplications(ctx context.Context, applicant, after plaza.ID, limit int) ([]Application, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT `+applicationColumns+` FROM channel_applications
		WHERE applicant_id = $1 AND id > $2 ORDER BY id LIMIT $3`, applicant, after, limit)
	if err != nil {
		return nil, fmt.Errorf("your applications: %w", err)
	}
	defer rows.Close()
	var out []Application
	for rows.Next() {
		a, err := scanApplication(rows)
		if err != nil {
			return nil, fmt.Errorf("your applications: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}
