package microblog

import (
	"context"
	"fmt"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/sqldb"
)

// Who may see a post, checked on every read (never trusted from the time
// it was written):
//
//   - a published post: public ones anyone, anonymous callers included;
//     followers ones the author's followers; contacts ones the author's
//     contacts; and the author always;
//   - a post held for review or rejected: its author only;
//   - a post a moderation decision removed: its author only; one it
//     limited: its author and the author's followers (see moderation.go);
//   - nobody sees a post across a block, in either direction, nor the
//     posts of a deleted or closed account.

// relations is what a viewer is to a set of authors.
type relations struct {
	viewer   plaza.ID
	follows  map[plaza.ID]bool // authors the viewer follows
	contacts map[plaza.ID]bool // authors who are the viewer's contacts
	blocked  map[plaza.ID]bool // a block between viewer and author, either way
	gone     map[plaza.ID]bool // deleted or closed authors
}

// relationsOf loads viewer's relations to authors (viewer 0: anonymous).
func relationsOf(ctx context.Context, q sqldb.Queryer, viewer plaza.ID, authors []plaza.ID) (relations, error) {
	r := relations{viewer: viewer, follows: map[plaza.ID]bool{}, contacts: map[plaza.ID]bool{}, blocked: map[plaza.ID]bool{}, gone: map[plaza.ID]bool{}}
	authors = distinct(authors)
	if len(authors) == 0 {
		return r, nil
	}
	in, args := idList(1, authors)
	var err error
	if r.gone, err = idSet(ctx, q, `SELECT id FROM accounts WHERE id IN (`+in+`) AND status IN ('deleted', 'closed')`, args...); err != nil {
		return r, fmt.Errorf("authors: %w", err)
	}
	if viewer == 0 {
		return r, nil
	}
	in, args = idList(2, authors)
	args = append([]any{viewer}, args...)
	if r.follows, err = idSet(ctx, q, `SELECT followee_id FROM follows WHERE follower_id = $1 AND followee_id IN (`+in+`)`, args...); err != nil {
		return r, fmt.Errorf("follows: %w", err)
	}
	if r.contacts, err = idSet(ctx, q, `SELECT contact_id FROM contacts WHERE account_id = $1 AND contact_id IN (`+in+`)`, args...); err != nil {
		return r, fmt.Errorf("contacts: %w", err)
	}
	if r.blocked, err = idSet(ctx, q, `SELECT blocked_id FROM blocks WHERE account_id = $1 AND blocked_id IN (`+in+`)
		UNION SELECT account_id FROM blocks WHERE blocked_id = $1 AND account_id IN (`+in+`)`, args...); err != nil {
		return r, fmt.Errorf("blocks: %w", err)
	}
	return r, nil
}

// canSee reports whether the viewer may see p.
func (r relations) canSee(p Post) bool {
	own := r.viewer != 0 && p.AuthorID == r.viewer
	switch {
	case r.gone[p.AuthorID], r.blocked[p.AuthorID], p.Status == StatusDeleted:
		return false
	case own:
		return true
	case p.Status != StatusPublished, p.Moderation.Action == plaza.ModRemove:
		return false
	case p.Moderation.Action == plaza.ModLimit && !r.follows[p.AuthorID]:
		return false
	}
	switch p.Visibility {
	case Public:
		return true
	case Followers:
		return r.follows[p.AuthorID]
	case Contacts:
		return r.contacts[p.AuthorID]
	}
	return false
}

// visible keeps the posts the viewer may see, in order, with liked set.
func (s *Service) visible(ctx context.Context, q sqldb.Queryer, viewer plaza.ID, posts []Post) ([]Post, error) {
	rel, err := relationsOf(ctx, q, viewer, authorsOf(posts))
	if err != nil {
		return nil, err
	}
	return s.keep(ctx, q, rel, posts, rel.canSee)
}

// keep keeps the posts that pass, in order, rendered for the viewer (its
// moderation state, and liked).
func (s *Service) keep(ctx context.Context, q sqldb.Queryer, rel relations, posts []Post, pass func(Post) bool) ([]Post, error) {
	out := make([]Post, 0, len(posts))
	for _, p := range posts {
		if pass(p) {
			p.render(rel.viewer)
			out = append(out, p)
		}
	}
	if rel.viewer == 0 || len(out) == 0 {
		return out, nil
	}
	ids := make([]plaza.ID, len(out))
	for i, p := range out {
		ids[i] = p.ID
	}
	in, args := idList(2, ids)
	liked, err := idSet(ctx, q, `SELECT post_id FROM likes WHERE account_id = $1 AND post_id IN (`+in+`)`, append([]any{rel.viewer}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("likes: %w", err)
	}
	for i := range out {
		out[i].Liked = liked[out[i].ID]
	}
	return out, nil
}

// Get returns a post the viewer may see (viewer 0: anonymous); any other
// post, and one that does not exist, is not_found alike.
func (s *Service) Get(ctx context.Context, viewer, id plaza.ID) (Post, error) {
	q := s.db.Read()
	p, err := getPost(ctx, q, id)
	if err != nil {
		return Post{}, err
	}
	got, err := s.visible(ctx, q, viewer, []Post{p})
	if err != nil {
		return Post{}, err
	}
	if len(got) == 0 {
		return Post{}, errNotFound
	}
	return got[0], nil
}

var errNotFound = plaza.Errorf(plaza.ENotFound, "post not found")

func authorsOf(posts []Post) []plaza.ID {
	out := make([]plaza.ID, len(posts))
	for i, p := range posts {
		out[i] = p.AuthorID
	}
	return out
}

func distinct(ids []plaza.ID) []plaza.ID {
	seen := make(map[plaza.ID]bool, len(ids))
	out := ids[:0:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// CanSeeMedia reports whether viewer may see a post that carries the
// media item, which makes the item visible to them.
func (s *Service) CanSeeMedia(ctx context.Context, viewer, mediaID plaza.ID) (bool, error) {
	q := s.db.Read()
	posts, err := queryPosts(ctx, q, `SELECT `+postColumns+` FROM post_media m JOIN posts p ON p.id = m.post_id
		WHERE m.media_id = $1 AND p.status = 'published' ORDER BY p.id DESC LIMIT 20`, mediaID)
	if err != nil {
		return false, fmt.Errorf("media in posts: %w", err)
	}
	got, err := s.visible(ctx, q, viewer, posts)
	return len(got) > 0, err
}
