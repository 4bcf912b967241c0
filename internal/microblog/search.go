package microblog

import (
	"context"
	"fmt"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/textindex"
)

// Search finds published public posts by words, Chinese and Japanese
// written without spaces included (天气 finds 今天天气很好), the same way on
// both engines: package textindex cuts the text into the same tokens for
// the index and the query, and each engine only matches them, SQLite with
// FTS5 and PostgreSQL with a GIN-indexed tsvector. This is the one place
// where the two engines need different SQL; the texts sit side by side.

// searchSQL holds one engine's search statements.
type searchSQL struct {
	insert, remove, match string
}

var searchSQLs = map[sqldb.Engine]searchSQL{
	// post_search is a contentless FTS5 table whose rowid is the post ID.
	sqldb.SQLite: {
		insert: `INSERT INTO post_search (rowid, post_id, doc_tsv) VALUES ($1, $1, $2)`,
		remove: `DELETE FROM post_search WHERE rowid = $1`,
		match: `SELECT ` + postColumns + ` FROM post_search s JOIN posts p ON p.id = s.rowid
			WHERE post_search MATCH $1 AND s.rowid < $2 AND ` + sqlDiscoverable + ` ORDER BY s.rowid DESC LIMIT $3`,
	},
	// post_search holds each post's tsvector, GIN-indexed.
	sqldb.Postgres: {
		insert: `INSERT INTO post_search (post_id, doc_tsv) VALUES ($1, to_tsvector('simple', $2)) ON CONFLICT (post_id) DO NOTHING`,
		remove: `DELETE FROM post_search WHERE post_id = $1`,
		match: `SELECT ` + postColumns + ` FROM post_search s JOIN posts p ON p.id = s.post_id
			WHERE s.doc_tsv @@ to_tsquery('simple', $1) AND s.post_id < $2 AND ` + sqlDiscoverable + ` ORDER BY s.post_id DESC LIMIT $3`,
	},
}

// index adds a published public post to the search index.
func (s *Service) index(ctx context.Context, q sqldb.Queryer, p Post) error {
	if _, err := q.ExecContext(ctx, searchSQLs[s.db.Engine].insert, p.ID, textindex.Document(p.Text)); err != nil {
		return fmt.Errorf("search index: %w", err)
	}
	return nil
}

// unindex takes a post out of the search index.
func (s *Service) unindex(ctx context.Context, q sqldb.Queryer, id plaza.ID) error {
	if _, err := q.ExecContext(ctx, searchSQLs[s.db.Engine].remove, id); err != nil {
		return fmt.Errorf("search index: %w", err)
	}
	return nil
}

// Search returns the published public posts matching every term of q
// (but those a moderation decision limits or removes),
// newest first, before the cursor, as viewer sees them (blocks hide posts
// here too). A query with nothing to search for, over 200 characters or
// over 16 terms is invalid, naming q.
func (s *Service) Search(ctx context.Context, viewer plaza.ID, q string, before plaza.ID, limit int) (Page, error) {
	query, err := textindex.ParseQuery(q)
	if err != nil {
		return Page{}, err
	}
	expr := query.TSQuery()
	if s.db.Engine == sqldb.SQLite {
		expr = query.FTS5()
	}
	if before <= 0 {
		before = noCursor
	}
	match := searchSQLs[s.db.Engine].match
	fetch := func(ctx context.Context, q sqldb.Queryer, cursor plaza.ID, n int) ([]Post, bool, error) {
		posts, err := queryPosts(ctx, q, match, expr, cursor, n)
		if err != nil {
			return nil, false, fmt.Errorf("search: %w", err)
		}
		return posts, len(posts) == n, nil
	}
	return s.page(ctx, viewer, before, limit, fetch, func(rel relations, p Post) bool {
		return rel.canSee(p) && p.Status == StatusPublished && p.Visibility == Public && p.discoverable()
	})
}
