package microblog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/plaza-im/plaza"
)

// Moderation decisions on posts (see plaza.Moderation) are stored on the
// post's row and applied on every read, never by deleting the rows that
// put a post in timelines, hashtag pages and the search index: reversing
// a decision then puts the post back everywhere at once.
//
//   - label: the post shows the note to everyone who may see it;
//   - limit: the post leaves search, trending and hashtag pages, and
//     everyone but its author and the author's followers;
//   - remove: only the author sees it, marked removed.

// Moderate records the decision m in force on a post, whatever its status
// (a post deleted meanwhile still records it), inside the moderation
// package's transaction tx, and returns the post's author. m with no
// Action reverses the decision. A post that never existed is not_found.
func (s *Service) Moderate(ctx context.Context, tx *sql.Tx, id plaza.ID, m plaza.Moderation) (plaza.ID, error) {
	action, label, decision, err := m.Columns()
	if err != nil {
		return 0, err
	}
	var author plaza.ID
	err = tx.QueryRowContext(ctx, `UPDATE posts SET mod_action = $1, mod_label = $2, mod_decision = $3 WHERE id = $4 AND (CAST($5 AS BIGINT) = 0 OR mod_decision = CAST($5 AS BIGINT)) RETURNING author_id`,
		action, label, decision, id, int64(m.Replaces)).Scan(&author)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, errNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("moderate post: %w", err)
	}
	return author, nil
}

// ModerationView returns a post as a moderator sees it: whatever its
// status, with its moderation state (and the marks its author sees).
func (s *Service) ModerationView(ctx context.Context, id plaza.ID) (Post, error) {
	p, err := getPost(ctx, s.db.Read(), id)
	if err != nil {
		return Post{}, err
	}
	p.render(p.AuthorID)
	return p, nil
}

// render sets the fields that show a post's moderation state to viewer:
// a label to everyone, and to the author what limits or removes it.
func (p *Post) render(viewer plaza.ID) {
	p.Label, p.Limited, p.Removed, p.DecisionID = "", false, false, 0
	m := p.Moderation
	switch {
	case m.Action == plaza.ModLabel:
		p.Label, p.DecisionID = m.Label, m.DecisionID
	case viewer != 0 && viewer == p.AuthorID && m.Action == plaza.ModLimit:
		p.Limited, p.DecisionID = true, m.DecisionID
	case viewer != 0 && viewer == p.AuthorID && m.Action == plaza.ModRemove:
		p.Removed, p.DecisionID = true, m.DecisionID
	}
}

// discoverable reports whether a post may appear where people find posts
// of strangers: search, trending and hashtag pages.
func (p Post) discoverable() bool {
	return p.Moderation.Action != plaza.ModLimit && p.Moderation.Action != plaza.ModRemove
}

// sqlDiscoverable is discoverable as a condition on posts p.
const sqlDiscoverable = `p.mod_action NOT IN ('limit', 'remove')`
