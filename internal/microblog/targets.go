package microblog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/plaza-im/plaza"
)

// checkTargets checks again, inside the transaction that stores or
// publishes posts, what Create checked before queueing them: the post
// each one replies to or reposts is still published, no moderation
// decision hides it from the replying author, and neither author has
// blocked the other. Without it, a reply queued just as its parent
// was deleted, or as one author blocked the other, or a held reply a
// reviewer approves after either, would be published anyway.
//
// The targets are locked in ascending order (a no-op UPDATE, which on
// PostgreSQL waits for a deletion in flight and then sees its result),
// so writers on several nodes cannot deadlock on them. It returns, for
// each post in posts, nil or the not_found error that post gets.
func checkTargets(ctx context.Context, tx *sql.Tx, posts []Post) ([]error, error) {
	var ids []plaza.ID
	for _, p := range posts {
		for _, ref := range []*plaza.ID{p.ReplyTo, p.RepostOf} {
			if ref != nil && !slices.Contains(ids, *ref) {
				ids = append(ids, *ref)
			}
		}
	}
	errs := make([]error, len(posts))
	if len(ids) == 0 {
		return errs, nil
	}
	slices.Sort(ids)
	authors := make(map[plaza.ID]plaza.ID, len(ids)) // live target → its author
	mods := make(map[plaza.ID]string, len(ids))      // live target → its moderation action
	for _, id := range ids {
		var author plaza.ID
		var mod string
		err := tx.QueryRowContext(ctx, `UPDATE posts SET status = status WHERE id = $1 AND status = $2 RETURNING author_id, mod_action`, id, StatusPublished).Scan(&author, &mod)
		switch {
		case err == nil:
			authors[id], mods[id] = author, mod
		case !errors.Is(err, sql.ErrNoRows):
			return nil, fmt.Errorf("lock replied or reposted post: %w", err)
		}
	}
	for i, p := range posts {
		for _, ref := range []struct {
			id   *plaza.ID
			what string
		}{{p.ReplyTo, "the post you reply to"}, {p.RepostOf, "the post you repost"}} {
			if ref.id == nil || errs[i] != nil {
				continue
			}
			author, live := authors[*ref.id]
			if live && author != p.AuthorID {
				blocked, err := blockedEither(ctx, tx, p.AuthorID, author)
				if err != nil {
					return nil, err
				}
				live = !blocked
			}
			if live && author != p.AuthorID {
				// A moderation decision hides the target from everyone
				// but its author (remove), or but the author's
				// followers too (limit).
				switch mods[*ref.id] {
				case plaza.ModRemove:
					live = false
				case plaza.ModLimit:
					var n int
					if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM follows WHERE follower_id = $1 AND followee_id = $2`, p.AuthorID, author).Scan(&n); err != nil {
						return nil, fmt.Errorf("follows: %w", err)
					}
					live = n > 0
				}
			}
			if !live {
				errs[i] = plaza.Errorf(plaza.ENotFound, "%s was not found", ref.what)
			}
		}
	}
	return errs, nil
}
