package microblog

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/bits"
	"strings"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/sqldb"
)

// This file holds the SQL shared by the microblog's files, one text for
// both engines.

// Post is a microblog post as a viewer sees it.
type Post struct {
	ID          plaza.ID   `json:"id"`
	AuthorID    plaza.ID   `json:"author_id"`
	Text        string     `json:"text"`
	MediaIDs    []plaza.ID `json:"media_ids"`
	Visibility  string     `json:"visibility"`
	ReplyTo     *plaza.ID  `json:"reply_to"`
	RepostOf    *plaza.ID  `json:"repost_of"`
	Category    string     `json:"category"`
	Status      string     `json:"status"`
	Reason      string     `json:"reason,omitempty"`
	Hashtags    []string   `json:"hashtags"`
	Mentions    []string   `json:"mentions"`
	LikeCount   int64      `json:"like_count"`
	ReplyCount  int64      `json:"reply_count"`
	RepostCount int64      `json:"repost_count"`
	// Liked says whether the viewer likes it.
	Liked       bool       `json:"liked"`
	CreatedAt   time.Time  `json:"created_at"`
	PublishedAt *time.Time `json:"published_at,omitempty"`
	// Moderation is the moderation decision in force on the post, for
	// package moderation; viewers see it through the fields below, which
	// render sets for each viewer.
	Moderation plaza.Moderation `json:"-"`
	// Label is the moderators' note shown with a labelled post.
	Label string `json:"label,omitempty"`
	// Limited and Removed tell the author (only) what a decision does to
	// their post.
	Limited bool `json:"limited,omitempty"`
	Removed bool `json:"removed,omitempty"`
	// DecisionID is the decision behind Label, Limited or Removed.
	DecisionID plaza.ID `json:"decision_id,omitempty"`
}

const postColumns = `p.id, p.author_id, p.text, p.media_ids, p.visibility, p.reply_to, p.repost_of, p.category, p.status, p.reason,
	p.hashtags, p.mentions, p.like_count, p.reply_count, p.repost_count, p.created_at, p.published_at,
	p.mod_action, p.mod_label, p.mod_decision`

func scanPost(row interface{ Scan(...any) error }) (Post, error) {
	var p Post
	var replyTo, repostOf, published, decision sql.NullInt64
	var mediaIDs, tags, mentions string
	var created int64
	if err := row.Scan(&p.ID, &p.AuthorID, &p.Text, &mediaIDs, &p.Visibility, &replyTo, &repostOf, &p.Category, &p.Status, &p.Reason,
		&tags, &mentions, &p.LikeCount, &p.ReplyCount, &p.RepostCount, &created, &published,
		&p.Moderation.Action, &p.Moderation.Label, &decision); err != nil {
		return Post{}, err
	}
	p.Moderation.DecisionID = plaza.ID(decision.Int64)
	p.CreatedAt = micro(created)
	if replyTo.Valid {
		id := plaza.ID(replyTo.Int64)
		p.ReplyTo = &id
	}
	if repostOf.Valid {
		id := plaza.ID(repostOf.Int64)
		p.RepostOf = &id
	}
	if published.Valid {
		t := micro(published.Int64)
		p.PublishedAt = &t
	}
	p.MediaIDs, p.Hashtags, p.Mentions = []plaza.ID{}, []string{}, []string{}
	_ = json.Unmarshal([]byte(mediaIDs), &p.MediaIDs)
	_ = json.Unmarshal([]byte(tags), &p.Hashtags)
	_ = json.Unmarshal([]byte(mentions), &p.Mentions)
	return p, nil
}

func micro(us int64) time.Time { return time.UnixMicro(us).UTC() }

func jsonList[T any](list []T) string {
	if len(list) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(list)
	return string(b)
}

func optID(id *plaza.ID) any {
	if id == nil {
		return nil
	}
	return int64(*id)
}

// insertPost stores a new post with its media and mentions.
func insertPost(ctx context.Context, q sqldb.Queryer, p Post, mentioned []plaza.ID) error {
	var published any
	if p.PublishedAt != nil {
		published = p.PublishedAt.UnixMicro()
	}
	if _, err := q.ExecContext(ctx, sqlInsertPost,
		p.AuthorID, p.ID, p.Text, jsonList(p.MediaIDs), p.Visibility, optID(p.ReplyTo), optID(p.RepostOf), p.Category, p.Status,
		jsonList(p.Hashtags), jsonList(p.Mentions), p.CreatedAt.UnixMicro(), published); err != nil {
		return fmt.Errorf("insert post: %w", err)
	}
	for _, m := range p.MediaIDs {
		if _, err := q.ExecContext(ctx, sqlInsertPostMedia, m, p.AuthorID, p.ID); err != nil {
			return fmt.Errorf("insert post media: %w", err)
		}
	}
	for _, a := range mentioned {
		if _, err := q.ExecContext(ctx, sqlInsertMention, a, p.ID); err != nil {
			return fmt.Errorf("insert mention: %w", err)
		}
	}
	return nil
}

// getPost loads one post, of any status.
func getPost(ctx context.Context, q sqldb.Queryer, id plaza.ID) (Post, error) {
	p, err := scanPost(q.QueryRowContext(ctx, `SELECT `+postColumns+` FROM posts p WHERE p.id = $1`, id))
	if err != nil {
		return Post{}, sqldb.MapError(err, "post")
	}
	return p, nil
}

// queryPosts runs a query selecting postColumns.
func queryPosts(ctx context.Context, q sqldb.Queryer, query string, args ...any) ([]Post, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Post
	for rows.Next() {
		p, err := scanPost(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// idList returns the placeholders for ids starting at $first, and the
// arguments. The list is padded (repeating the last ID) to a power of
// two, so the statement cache holds a handful of IN-list shapes rather
// than one per length.
func idList(first int, ids []plaza.ID) (string, []any) {
	n := len(ids)
	if n > 1 {
		n = 1 << bits.Len(uint(n-1))
	}
	var b strings.Builder
	args := make([]any, n)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "$%d", first+i)
		args[i] = ids[min(i, len(ids)-1)]
	}
	return b.String(), args
}

// idSet runs a query returning one ID column and collects the IDs.
func idSet(ctx context.Context, q sqldb.Queryer, query string, args ...any) (map[plaza.ID]bool, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[plaza.ID]bool{}
	for rows.Next() {
		var id plaza.ID
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id] = true
	}
	return out, rows.Err()
}

// bumpStats adds to an account's counts, creating its row.
func bumpStats(ctx context.Context, q sqldb.Queryer, account plaza.ID, followers, following, posts int64) error {
	_, err := q.ExecContext(ctx, sqlBumpStats, account, followers, following, posts)
	if err != nil {
		return fmt.Errorf("counts: %w", err)
	}
	return nil
}

// The statements of the hot write paths (publishing, fan-out), prepared
// once on the writer connection: SQLite spends much of a small
// statement's time parsing it.
const (
	sqlInsertPost = `INSERT INTO posts (author_id, id, text, media_ids, visibility, reply_to, repost_of, category, status, reason, decided_by,
		hashtags, mentions, like_count, reply_count, repost_count, created_at, published_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, '', '', $10, $11, 0, 0, 0, $12, $13)`
	sqlInsertPostMedia = `INSERT INTO post_media (media_id, author_id, post_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`
	sqlInsertMention   = `INSERT INTO mentions (account_id, post_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`
	sqlBumpStats       = `INSERT INTO microblog_stats (account_id, follower_count, following_count, post_count, celebrity) VALUES ($1, $2, $3, $4, 0)
		ON CONFLICT (account_id) DO UPDATE SET follower_count = microblog_stats.follower_count + excluded.follower_count,
			following_count = microblog_stats.following_count + excluded.following_count, post_count = microblog_stats.post_count + excluded.post_count`
	sqlBumpPostCounts = `UPDATE posts SET reply_count = reply_count + $1, repost_count = repost_count + $2 WHERE id = $3`
	sqlInsertHashtag  = `INSERT INTO hashtags (tag, post_id, author_id, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`
	sqlInsertJob      = `INSERT INTO fanout_jobs (id, post_id, author_id, audience, done_up_to, lease_until, created_at) VALUES ($1, $2, $3, $4, 0, 0, $5)`
	sqlInsertNotice   = `INSERT INTO notifications (account_id, id, kind, actor_id, post_id, dedupe, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (account_id, dedupe) DO NOTHING`
	sqlFinishJob     = `DELETE FROM fanout_jobs WHERE id = $1 AND done_up_to = $2`
	sqlAdvanceJob    = `UPDATE fanout_jobs SET done_up_to = $1, lease_until = $2 WHERE id = $3 AND done_up_to = $4`
	sqlNextFollowers = `SELECT id, follower_id FROM follows WHERE followee_id = $1 AND id > $2 ORDER BY id LIMIT $3`
	sqlFanFollowers  = `INSERT INTO timeline (account_id, post_id, author_id) SELECT follower_id, $4, followee_id FROM follows
		WHERE followee_id = $1 AND id > $2 AND id <= $3 ON CONFLICT DO NOTHING`
	sqlNextContacts = `SELECT contact_id, contact_id FROM contacts WHERE account_id = $1 AND contact_id > $2 ORDER BY contact_id LIMIT $3`
	sqlFanContacts  = `INSERT INTO timeline (account_id, post_id, author_id) SELECT contact_id, $4, account_id FROM contacts
		WHERE account_id = $1 AND contact_id > $2 AND contact_id <= $3 ON CONFLICT DO NOTHING`
)

// prepare prepares the hot statements (and the engine's search insert).
// Preparing inside a transaction would wait for the writer connection
// the transaction holds, so it happens once, here.
func (s *Service) prepare(ctx context.Context) error {
	s.stmts = map[string]*sql.Stmt{}
	for _, q := range []string{sqlInsertPost, sqlInsertPostMedia, sqlInsertMention, sqlBumpStats, sqlBumpPostCounts,
		sqlInsertHashtag, sqlInsertJob, sqlInsertNotice, sqlFinishJob, sqlAdvanceJob, sqlNextFollowers, sqlFanFollowers,
		sqlNextContacts, sqlFanContacts, searchSQLs[s.db.Engine].insert, searchSQLs[s.db.Engine].remove} {
		st, err := s.db.Prepare(ctx, q)
		if err != nil {
			s.closeStmts()
			return fmt.Errorf("prepare %q: %w", q, err)
		}
		s.stmts[q] = st
	}
	return nil
}

func (s *Service) closeStmts() {
	for _, st := range s.stmts {
		st.Close()
	}
}

// inTx returns tx as a Queryer that runs the prepared statements.
func (s *Service) inTx(tx *sql.Tx) sqldb.Queryer { return prepared{tx: tx, stmts: s.stmts} }

// prepared runs a statement prepared by Service.prepare within a
// transaction, and any other query as it is.
type prepared struct {
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
}

func (p prepared) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := p.stmts[query]; st != nil {
		return p.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return p.tx.ExecContext(ctx, query, args...)
}

func (p prepared) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := p.stmts[query]; st != nil {
		return p.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return p.tx.QueryContext(ctx, query, args...)
}

func (p prepared) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := p.stmts[query]; st != nil {
		return p.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return p.tx.QueryRowContext(ctx, query, args...)
}
