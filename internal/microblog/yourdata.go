package microblog

import (
	"context"
	"fmt"
	"time"

	"github.com/plaza-im/plaza"
)

// The readers below give one account's microblog data to its export
// (package export), a page at a time in ascending order after a cursor.
// They read the tables directly rather than through the viewer's paths
// (AuthorPosts, Followers), which hide closed accounts: an export runs for
// a suspended or memorialised account too.

// YourPosts returns up to limit of author's posts, replies and reposts —
// published, held for review or refused, but not deleted — after the post
// ID after, in ID order, as their author sees them.
func (s *Service) YourPosts(ctx context.Context, author, after plaza.ID, limit int) ([]Post, error) {
	posts, err := queryPosts(ctx, s.db.Read(), `SELECT `+postColumns+` FROM posts p
		WHERE p.author_id = $1 AND p.id > $2 AND p.status <> $3 ORDER BY p.id LIMIT $4`, author, after, StatusDeleted, limit)
	if err != nil {
		return nil, fmt.Errorf("your posts: %w", err)
	}
	for i := range posts {
		posts[i].render(author)
	}
	return posts, nil
}

// YourLike is a post someone likes.
type YourLike struct {
	PostID    plaza.ID  `json:"post_id"`
	CreatedAt time.Time `json:"created_at"`
}

// YourLikes returns up to limit of the posts account likes, after the post
// ID after, in ID order.
func (s *Service) YourLikes(ctx context.Context, account, after plaza.ID, limit int) ([]YourLike, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT post_id, created_at FROM likes
		WHERE account_id = $1 AND post_id > $2 ORDER BY post_id LIMIT $3`, account, after, limit)
	if err != nil {
		return nil, fmt.Errorf("your likes: %w", err)
	}
	defer rows.Close()
	var out []YourLike
	for rows.Next() {
		var l YourLike
		var created int64
		if err := rows.Scan(&l.PostID, &created); err != nil {
			return nil, fmt.Errorf("your likes: %w", err)
		}
		l.CreatedAt = micro(created)
		out = append(out, l)
	}
	return out, rows.Err()
}

// YourFollow is one follow: the other account and since when.
type YourFollow struct {
	// ID is the follow's own ID, the cursor of YourFollows.
	ID        plaza.ID  `json:"-"`
	AccountID plaza.ID  `json:"account_id"`
	Since     time.Time `json:"since"`
}

// YourFollows returns up to limit of the accounts account follows (or,
// with followers, that follow it), after the follow ID after, in the order
// the follows were made.
func (s *Service) YourFollows(ctx context.Context, account plaza.ID, followers bool, after plaza.ID, limit int) ([]YourFollow, error) {
	q := `SELECT id, followee_id, created_at FROM follows WHERE follower_id = $1 AND id > $2 ORDER BY id LIMIT $3`
	if followers {
		q = `SELECT id, follower_id, created_at FROM follows WHERE followee_id = $1 AND id > $2 ORDER BY id LIMIT $3`
	}
	rows, err := s.db.Read().QueryContext(ctx, q, account, after, limit)
	if err != nil {
		return nil, fmt.Errorf("your follows: %w", err)
	}
	defer rows.Close()
	var out []YourFollow
	for rows.Next() {
		var f YourFollow
		var created int64
		if err := rows.Scan(&f.ID, &f.AccountID, &created); err != nil {
			return nil, fmt.Errorf("your follows: %w", err)
		}
		f.Since = micro(created)
		out = append(out, f)
	}
	return out, rows.Err()
}
