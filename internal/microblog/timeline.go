package microblog

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/sqldb"
)

// Page is a page of posts and the cursor of the next one (0: there is
// none). The cursor is a post ID: IDs sort by creation time, so a page
// after the cursor never repeats a post, however many arrive meanwhile.
type Page struct {
	Posts []Post
	Next  plaza.ID
}

// MaxPage bounds a page.
const MaxPage = 100

// scanRounds bounds how many windows of candidates one page looks at when
// most of them are hidden from the viewer; past it the page comes back
// short, with a cursor to go on from.
const scanRounds = 8

const noCursor = plaza.ID(1<<63 - 1)

// fetchFunc returns up to n candidate posts after cursor in page order,
// and whether there may be more after them.
type fetchFunc func(ctx context.Context, q sqldb.Queryer, cursor plaza.ID, n int) (posts []Post, more bool, err error)

// page fills a page for viewer from fetch, keeping the posts pass allows.
func (s *Service) page(ctx context.Context, viewer, cursor plaza.ID, limit int, fetch fetchFunc, pass func(relations, Post) bool) (Page, error) {
	limit = min(max(limit, 1), MaxPage)
	q := s.db.Read()
	out := Page{Posts: []Post{}}
	for round := 0; round < scanRounds; round++ {
		cands, more, err := fetch(ctx, q, cursor, limit)
		if err != nil {
			return Page{}, err
		}
		if len(cands) == 0 {
			return out, nil
		}
		cursor = cands[len(cands)-1].ID
		rel, err := relationsOf(ctx, q, viewer, authorsOf(cands))
		if err != nil {
			return Page{}, err
		}
		kept, err := s.keep(ctx, q, rel, cands, func(p Post) bool { return pass(rel, p) })
		if err != nil {
			return Page{}, err
		}
		out.Posts = append(out.Posts, kept...)
		if len(out.Posts) >= limit {
			out.Posts = out.Posts[:limit]
			out.Next = out.Posts[limit-1].ID
			return out, nil
		}
		if !more {
			return out, nil
		}
	}
	out.Next = cursor
	return out, nil
}

// Timeline returns reader's home timeline, newest first, before the
// cursor (0 for the first page): the reader's own posts and those of the
// accounts the reader follows, plus — as in WeChat's Moments — the
// contacts posts of the reader's contacts, each only while the reader may
// see it. Posts written to the reader's timeline by fan-out are merged
// with the reader's own and the recent posts of the followed authors above
// the fan-out threshold, read here.
func (s *Service) Timeline(ctx context.Context, reader, before plaza.ID, limit int) (Page, error) {
	celebs, err := s.FollowedAuthors(ctx, reader)
	if err != nil {
		return Page{}, err
	}
	// The reader's own posts are read like those of the authors above
	// the threshold: no row is written for them.
	celebs = append(celebs, reader)
	if before <= 0 {
		before = noCursor
	}
	fetch := func(ctx context.Context, q sqldb.Queryer, cursor plaza.ID, n int) ([]Post, bool, error) {
		posts, err := queryPosts(ctx, q, `SELECT `+postColumns+` FROM timeline t JOIN posts p ON p.id = t.post_id
			WHERE t.account_id = $1 AND t.post_id < $2 ORDER BY t.post_id DESC LIMIT $3`, reader, cursor, n)
		if err != nil {
			return nil, false, fmt.Errorf("timeline: %w", err)
		}
		more := len(posts) == n
		for _, c := range celebs {
			ps, err := queryPosts(ctx, q, `SELECT `+postColumns+` FROM posts p
				WHERE p.author_id = $1 AND p.id < $2 AND p.status = 'published' ORDER BY p.id DESC LIMIT $3`, c, cursor, n)
			if err != nil {
				return nil, false, fmt.Errorf("timeline: %w", err)
			}
			more = more || len(ps) == n
			posts = append(posts, ps...)
		}
		// Newest first, each once (a post written before its author
		// passed the threshold is in both), the first n: what lies
		// beyond them comes in the next window.
		slices.SortFunc(posts, func(a, b Post) int { return cmpID(b.ID, a.ID) })
		posts = slices.CompactFunc(posts, func(a, b Post) bool { return a.ID == b.ID })
		if len(posts) > n {
			posts, more = posts[:n], true
		}
		return posts, more, nil
	}
	return s.page(ctx, reader, before, limit, fetch, func(rel relations, p Post) bool {
		if !rel.canSee(p) || p.Status != StatusPublished {
			return false
		}
		return p.AuthorID == reader || rel.follows[p.AuthorID] || p.Visibility == Contacts && rel.contacts[p.AuthorID]
	})
}

func cmpID(a, b plaza.ID) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// AuthorPosts returns author's posts that viewer may see (viewer 0:
// anonymous), newest first, before the cursor. The author also sees their
// posts held for review or rejected. An author who does not exist, is
// deleted or closed, or has a block with the viewer either way, is
// not_found.
func (s *Service) AuthorPosts(ctx context.Context, viewer, author, before plaza.ID, limit int) (Page, error) {
	if err := s.checkAccount(ctx, author); err != nil {
		return Page{}, err
	}
	if viewer != 0 {
		if b, err := blockedEither(ctx, s.db.Read(), viewer, author); err != nil {
			return Page{}, err
		} else if b {
			return Page{}, plaza.Errorf(plaza.ENotFound, "account not found")
		}
	}
	statuses := `('published')`
	if viewer == author {
		statuses = `('published', 'pending_review', 'rejected')`
	}
	if before <= 0 {
		before = noCursor
	}
	fetch := func(ctx context.Context, q sqldb.Queryer, cursor plaza.ID, n int) ([]Post, bool, error) {
		posts, err := queryPosts(ctx, q, `SELECT `+postColumns+` FROM posts p
			WHERE p.author_id = $1 AND p.id < $2 AND p.status IN `+statuses+` ORDER BY p.id DESC LIMIT $3`, author, cursor, n)
		if err != nil {
			return nil, false, fmt.Errorf("author's posts: %w", err)
		}
		return posts, len(posts) == n, nil
	}
	return s.page(ctx, viewer, before, limit, fetch, relations.canSee)
}

// Replies returns the replies to a post that viewer may see, oldest
// first, after the cursor (0 for the first page). The post itself must be
// visible to viewer, else not_found.
func (s *Service) Replies(ctx context.Context, viewer, id, after plaza.ID, limit int) (Page, error) {
	if _, err := s.Get(ctx, viewer, id); err != nil {
		return Page{}, err
	}
	fetch := func(ctx context.Context, q sqldb.Queryer, cursor plaza.ID, n int) ([]Post, bool, error) {
		posts, err := queryPosts(ctx, q, `SELECT `+postColumns+` FROM posts p
			WHERE p.reply_to = $1 AND p.id > $2 AND p.status = 'published' ORDER BY p.id LIMIT $3`, id, cursor, n)
		if err != nil {
			return nil, false, fmt.Errorf("replies: %w", err)
		}
		return posts, len(posts) == n, nil
	}
	return s.page(ctx, viewer, after, limit, fetch, relations.canSee)
}

// HashtagPosts returns the published public posts tagged tag, newest
// first, before the cursor, as viewer sees them (blocks hide posts here
// too). The tag is folded as FoldTag does; an empty one is invalid.
func (s *Service) HashtagPosts(ctx context.Context, viewer plaza.ID, tag string, before plaza.ID, limit int) (Page, error) {
	folded := FoldTag(tag)
	if folded == "" {
		return Page{}, plaza.Invalid("tag", fmt.Sprintf("must be a hashtag of 1–%d characters", maxTagRunes))
	}
	if before <= 0 {
		before = noCursor
	}
	fetch := func(ctx context.Context, q sqldb.Queryer, cursor plaza.ID, n int) ([]Post, bool, error) {
		posts, err := queryPosts(ctx, q, `SELECT `+postColumns+` FROM hashtags h JOIN posts p ON p.id = h.post_id
			WHERE h.tag = $1 AND h.post_id < $2 AND `+sqlDiscoverable+` ORDER BY h.post_id DESC LIMIT $3`, folded, cursor, n)
		if err != nil {
			return nil, false, fmt.Errorf("hashtag: %w", err)
		}
		return posts, len(posts) == n, nil
	}
	return s.page(ctx, viewer, before, limit, fetch, func(rel relations, p Post) bool {
		return rel.canSee(p) && p.Status == StatusPublished && p.Visibility == Public && p.discoverable()
	})
}

// Trend is a trending hashtag.
type Trend struct {
	Tag          string `json:"tag"`
	PostCount    int64  `json:"post_count"`
	AccountCount int64  `json:"account_count"`
}

// Trending windows.
var trendWindows = map[string]time.Duration{"1h": time.Hour, "24h": 24 * time.Hour}

// maxTrends bounds the trending list.
const maxTrends = 20

// Trending returns the hashtags of the published public posts of the last
// window ("1h" or "24h"), ranked by how many distinct accounts used them
// (so one account repeating a tag cannot push it up), then by posts.
// Posts that a moderation decision limits or removes do not count while
// it is in force.
func (s *Service) Trending(ctx context.Context, window string) ([]Trend, error) {
	d, ok := trendWindows[window]
	if !ok {
		return nil, plaza.Invalid("window", "must be 1h or 24h")
	}
	since := s.now().Add(-d).UnixMicro()
	rows, err := s.db.Read().QueryContext(ctx, `SELECT h.tag, COUNT(*), COUNT(DISTINCT h.author_id) FROM hashtags h
		JOIN accounts a ON a.id = h.author_id AND a.status NOT IN ('deleted', 'closed')
		JOIN posts p ON p.id = h.post_id AND `+sqlDiscoverable+`
		WHERE h.created_at >= $1 GROUP BY h.tag ORDER BY COUNT(DISTINCT h.author_id) DESC, COUNT(*) DESC, h.tag LIMIT $2`, since, maxTrends)
	if err != nil {
		return nil, fmt.Errorf("trending: %w", err)
	}
	defer rows.Close()
	out := []Trend{}
	for rows.Next() {
		var t Trend
		if err := rows.Scan(&t.Tag, &t.PostCount, &t.AccountCount); err != nil {
			return nil, fmt.Errorf("trending: %w", err)
		}
		out = append(out, t)
	}
	// Ties in byte order of the tag on both engines (PostgreSQL's
	// collation may order text otherwise).
	slices.SortStableFunc(out, func(a, b Trend) int {
		switch {
		case a.AccountCount != b.AccountCount:
			return int(b.AccountCount - a.AccountCount)
		case a.PostCount != b.PostCount:
			return int(b.PostCount - a.PostCount)
		}
		return strings.Compare(a.Tag, b.Tag)
	})
	return out, rows.Err()
}
