package channel

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/audit"
	"github.com/plaza-im/plaza/internal/events"
	"github.com/plaza-im/plaza/internal/identity"
	"github.com/plaza-im/plaza/internal/media"
	"github.com/plaza-im/plaza/internal/textcheck"
)

// Post is an article on a channel.
type Post struct {
	ID          plaza.ID   `json:"id"`
	ChannelID   plaza.ID   `json:"channel_id"`
	AuthorID    plaza.ID   `json:"author_id"`
	Title       string     `json:"title"`
	Body        string     `json:"body"`
	BodyHTML    string     `json:"body_html"`
	Category    string     `json:"category"`
	CoverID     *plaza.ID  `json:"cover_media_id,omitempty"`
	MediaIDs    []plaza.ID `json:"media_ids"`
	Status      string     `json:"status"`
	Reason      string     `json:"reason,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	PublishedAt *time.Time `json:"published_at,omitempty"`
	// Moderation is the moderation decision in force on the post, for
	// package moderation; viewers see it through Marks (see moderation.go).
	Moderation plaza.Moderation `json:"-"`
	Marks
}

// PostInput is what an author sends.
type PostInput struct {
	Title, Body, Category string
	CoverID               *plaza.ID
	MediaIDs              []plaza.ID
}

const (
	titleMax  = 64
	bodyMax   = 20000
	mediaMax  = 20
	postLimit = 100
)

// CreatePost publishes a post, or holds it for review, after every rule:
// the author owns or edits the active channel and has the verification
// level for channel.publish; the category's policy allows it (a
// credential category needs a live credential; a forbidden one never); and
// the channel's quota for the day or month has room. Refused posts do not
// count against the quota; published and pending ones do.
func (s *Service) CreatePost(ctx context.Context, author, channelID plaza.ID, in PostInput) (Post, error) {
	in.Title, in.Category = strings.TrimSpace(in.Title), strings.ToLower(strings.TrimSpace(in.Category))
	var p plaza.Problems
	if n := utf8.RuneCountInString(in.Title); n < 1 || n > titleMax {
		p.Add("title", "must be 1–64 characters")
	}
	if n := utf8.RuneCountInString(in.Body); n < 1 || n > bodyMax || strings.TrimSpace(in.Body) == "" {
		p.Add("body", "must be 1–20000 characters of Markdown")
	}
	if rule := textcheck.PlainLine(in.Title); rule != "" {
		p.Add("title", rule)
	}
	if rule := textcheck.Storable(in.Body); rule != "" {
		p.Add("body", rule)
	}
	if in.Category == "" {
		p.Add("category", "is required")
	}
	if len(in.MediaIDs) > mediaMax {
		p.Add("media_ids", "must name at most 20 media items")
	}
	if err := p.Err(); err != nil {
		return Post{}, err
	}
	c, err := s.Get(ctx, author, channelID)
	if err != nil {
		return Post{}, err
	}
	if !s.canEdit(ctx, c, author) {
		return Post{}, plaza.Errorf(plaza.EForbidden, "only the channel's owner and editors can post")
	}
	if c.Status != StatusActive {
		return Post{}, plaza.Errorf(plaza.EForbidden, "the channel is %s: %s", c.Status, c.StatusReason).WithDetails(map[string]any{"reason": c.StatusReason})
	}
	if err := s.identity.Require(ctx, author, identity.ChannelPublish); err != nil {
		return Post{}, err
	}
	ids := append([]plaza.ID{}, in.MediaIDs...)
	if in.CoverID != nil {
		ids = append(ids, *in.CoverID)
	}
	for _, id := range ids {
		if err := s.checkMedia(ctx, author, id, in.CoverID != nil && id == *in.CoverID); err != nil {
			return Post{}, err
		}
	}
	now := s.now()
	post := Post{ID: plaza.NewID(), ChannelID: channelID, AuthorID: author, Title: in.Title, Body: in.Body, BodyHTML: renderMarkdown(in.Body),
		Category: in.Category, CoverID: in.CoverID, MediaIDs: in.MediaIDs, CreatedAt: now}
	if post.MediaIDs == nil {
		post.MediaIDs = []plaza.ID{}
	}
	live := true
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		// Lock the channel row first (PostgreSQL; SQLite has one writer):
		// concurrent posts must not both pass the quota count.
		if _, err := tx.ExecContext(ctx, `UPDATE channels SET follower_count = follower_count WHERE id = $1`, channelID); err != nil {
			return err
		}
		// Check again under the lock: a suspension that committed since
		// the check above must stop this post reaching followers.
		var chStatus, chReason, chMod string
		if err := tx.QueryRowContext(ctx, `SELECT status, status_reason, mod_action FROM channels WHERE id = $1`, channelID).Scan(&chStatus, &chReason, &chMod); err != nil {
			return err
		}
		// A removed channel's owner and editors may go on posting, but
		// its followers no longer see it, live or in their feed.
		live = chMod != plaza.ModRemove
		if chStatus != StatusActive {
			return plaza.Errorf(plaza.EForbidden, "the channel is %s: %s", chStatus, chReason).WithDetails(map[string]any{"reason": chReason})
		}
		cat, err := LookupCategory(ctx, tx, in.Category)
		if err != nil {
			return err
		}
		switch cat.Policy {
		case PolicyForbidden:
			return plaza.Errorf(plaza.ECategoryNotAuthorized, "no channel may publish in the category %q", cat.Name).
				WithDetails(map[string]any{"category": cat.Name, "policy": PolicyForbidden})
		case PolicyCredential:
			ok, err := ChannelCredentials.Holds(ctx, tx, channelID, cat.Name, now)
			if err != nil {
				return err
			}
			if !ok {
				return plaza.Errorf(plaza.ECategoryNotAuthorized, "publishing in %q needs a credential this channel does not hold (or it expired): ask the operator", cat.Name).
					WithDetails(map[string]any{"category": cat.Name, "policy": PolicyCredential})
			}
			post.Status = PostPublished
		case PolicyReview:
			post.Status = PostPending
		default:
			post.Status = PostPublished
		}
		if err := s.checkQuota(ctx, tx, c, now); err != nil {
			return err
		}
		if post.Status == PostPublished {
			post.PublishedAt = &now
		}
		return insertPost(ctx, tx, post)
	})
	if err != nil {
		return Post{}, err
	}
	if post.Status == PostPublished && live {
		s.publishPost(ctx, post)
	}
	return post, nil
}

func (s *Service) checkMedia(ctx context.Context, author, id plaza.ID, cover bool) error {
	field := "media_ids"
	if cover {
		field = "cover_media_id"
	}
	if s.media == nil {
		return plaza.Invalid(field, "this server does not store media")
	}
	it, err := s.media.Get(ctx, id)
	if err != nil || it.OwnerID != author {
		return plaza.Invalid(field, "must be media you uploaded")
	}
	if cover && it.Kind != media.KindImage {
		return plaza.Invalid(field, "must be an image")
	}
	return nil
}

// checkQuota counts the channel's published and pending posts in the
// current day and month of the operator's time zone.
func (s *Service) checkQuota(ctx context.Context, tx *sql.Tx, c Channel, now time.Time) error {
	local := now.In(s.cfg.Location)
	dayStart := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, s.cfg.Location)
	monthStart := time.Date(local.Year(), local.Month(), 1, 0, 0, 0, 0, s.cfg.Location)
	for _, q := range []struct {
		limitp      *int
		from, until time.Time
		period      string
	}{
		{c.DailyPostLimit, dayStart, dayStart.AddDate(0, 0, 1), "day"},
		{c.MonthlyPostLimit, monthStart, monthStart.AddDate(0, 1, 0), "month"},
	} {
		if q.limitp == nil {
			continue // no quota for this period
		}
		q := struct {
			limit       int
			from, until time.Time
			period      string
		}{*q.limitp, q.from, q.until, q.period}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM channel_posts WHERE channel_id = $1 AND status IN ('published', 'pending_review') AND created_at >= $2`,
			c.ID, q.from.UTC().UnixMicro()).Scan(&n); err != nil {
			return err
		}
		if n >= q.limit {
			next := q.until.UTC()
			return plaza.Errorf(plaza.EQuotaExceeded, "this channel may post %d times a %s; the next post is allowed at %s", q.limit, q.period, next.Format(time.RFC3339)).
				WithDetails(map[string]any{"limit": q.limit, "period": q.period, "next_allowed_at": next.Format(time.RFC3339),
					"retry_after_seconds": int(next.Sub(now).Seconds()) + 1})
		}
	}
	return nil
}

// publishPost sends a published post once on its channel's subject; every
// node hands it to its own connected followers.
func (s *Service) publishPost(ctx context.Context, p Post) {
	data, _ := json.Marshal(p)
	if err := s.bus.Publish(ctx, events.ChannelSubject(p.ChannelID), events.Frame(events.ChannelPost, 0, data)); err != nil {
		s.log.Warn("bus publish of a channel post failed; followers will see it in their feed", "err", err)
	}
}

const postColumns = `p.id, p.channel_id, p.author_id, p.title, p.body, p.category, p.cover_id, p.media_ids, p.status, p.reason, p.created_at, p.published_at,
	p.mod_action, p.mod_label, p.mod_decision`

func scanPost(row interface{ Scan(...any) error }) (Post, error) {
	var p Post
	var cover, published, decision sql.NullInt64
	var mediaIDs string
	var created int64
	if err := row.Scan(&p.ID, &p.ChannelID, &p.AuthorID, &p.Title, &p.Body, &p.Category, &cover, &mediaIDs, &p.Status, &p.Reason, &created, &published,
		&p.Moderation.Action, &p.Moderation.Label, &decision); err != nil {
		return Post{}, err
	}
	p.Moderation.DecisionID = plaza.ID(decision.Int64)
	p.CreatedAt = micro(created)
	if cover.Valid {
		id := plaza.ID(cover.Int64)
		p.CoverID = &id
	}
	if published.Valid {
		t := micro(published.Int64)
		p.PublishedAt = &t
	}
	p.MediaIDs = []plaza.ID{}
	_ = json.Unmarshal([]byte(mediaIDs), &p.MediaIDs)
	p.BodyHTML = renderMarkdown(p.Body)
	return p, nil
}

func insertPost(ctx context.Context, tx *sql.Tx, p Post) error {
	media, _ := json.Marshal(p.MediaIDs)
	var cover, published any
	if p.CoverID != nil {
		cover = int64(*p.CoverID)
	}
	if p.PublishedAt != nil {
		published = p.PublishedAt.UnixMicro()
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO channel_posts (channel_id, id, author_id, title, body, category, cover_id, media_ids, status, reason, decided_by, created_at, published_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, '', '', $10, $11)`,
		p.ChannelID, p.ID, p.AuthorID, p.Title, p.Body, p.Category, cover, string(media), p.Status, p.CreatedAt.UnixMicro(), published); err != nil {
		return err
	}
	ids := append([]plaza.ID{}, p.MediaIDs...)
	if p.CoverID != nil {
		ids = append(ids, *p.CoverID)
	}
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, `INSERT INTO channel_post_media (media_id, channel_id, post_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, id, p.ChannelID, p.ID); err != nil {
			return err
		}
	}
	return nil
}

// Posts lists a channel's posts, newest first, before the cursor (a post
// ID). Everyone sees published posts of an active channel; the owner and
// editors also those of a suspended or closed one, and may ask for pending
// or rejected ones. A post a moderation decision removed is listed only
// for the owner, editors and its author, marked; one it limited, for them
// and the channel's followers.
func (s *Service) Posts(ctx context.Context, viewer, channelID plaza.ID, status string, before plaza.ID, limit int) ([]Post, error) {
	c, err := s.Get(ctx, viewer, channelID)
	if err != nil {
		return nil, err
	}
	switch status {
	case "", PostPublished:
		status = PostPublished
	case PostPending, PostRejected:
		if !s.canEdit(ctx, c, viewer) {
			return nil, plaza.Errorf(plaza.EForbidden, "only the channel's owner and editors see unpublished posts")
		}
	default:
		return nil, plaza.Invalid("status", "must be published, pending_review or rejected")
	}
	// A suspended or closed channel's posts vanish for everyone but its
	// owner and editors, who see the channel's status beside them; the
	// channel itself still answers, with its status and reason.
	if c.Status != StatusActive && !s.canEdit(ctx, c, viewer) {
		return []Post{}, nil
	}
	if before <= 0 {
		before = 1<<63 - 1
	}
	// Filtered in SQL, so that a page holds limit posts when there are.
	staff := s.canEdit(ctx, c, viewer)
	shown := `'', 'label'` // the actions whose posts viewer sees
	switch {
	case staff:
		shown += `, 'limit', 'remove'`
	case c.Following:
		shown += `, 'limit'`
	}
	rows, err := s.db.Read().QueryContext(ctx, `SELECT `+postColumns+` FROM channel_posts p WHERE p.channel_id = $1 AND p.status = $2 AND p.id < $3
		AND (p.mod_action IN (`+shown+`) OR p.author_id = $5)
		ORDER BY p.id DESC LIMIT $4`, channelID, status, before, min(limit, postLimit), viewer)
	if err != nil {
		return nil, fmt.Errorf("list posts: %w", err)
	}
	defer rows.Close()
	out := []Post{}
	for rows.Next() {
		p, err := scanPost(rows)
		if err != nil {
			return nil, err
		}
		p.Marks = modState(p.Moderation).marks(staff || p.AuthorID == viewer)
		out = append(out, p)
	}
	return out, rows.Err()
}

// Unread is a followed channel's unread count.
type Unread struct {
	ChannelID   plaza.ID `json:"channel_id"`
	UnreadCount int64    `json:"unread_count"`
}

// FeedCursor marks a place in a feed: the last post's publication time
// and ID (posts can share a microsecond).
type FeedCursor struct {
	PublishedAt int64
	ID          plaza.ID
}

// Feed returns the published posts of the active channels account
// follows, newest first, after the cursor (zero for the first page), and
// each such channel's unread count (posts published after the account's
// read position in it). Suspended and closed channels are left out of
// both until reinstated, and so are channels and posts a moderation
// decision removed, but for the channel's owner and editors (and a
// post's author), who see them marked.
func (s *Service) Feed(ctx context.Context, account plaza.ID, after FeedCursor, limit int) ([]Post, []Unread, error) {
	if after.PublishedAt <= 0 {
		after = FeedCursor{PublishedAt: 1<<63 - 1}
	}
	staff, err := s.staffChannels(ctx, account)
	if err != nil {
		return nil, nil, fmt.Errorf("feed: %w", err)
	}
	rows, err := s.db.Read().QueryContext(ctx, `SELECT `+postColumns+` FROM channel_followers f
		JOIN channels c ON c.id = f.channel_id AND c.status = 'active' AND `+sqlStaffSees("c.mod_action", "c")+`
		JOIN channel_posts p ON p.channel_id = f.channel_id AND p.status = 'published'
		WHERE f.account_id = $1 AND (p.published_at < $2 OR p.published_at = $2 AND p.id < $3)
		AND `+sqlStaffSees("p.mod_action", "c")+`
		ORDER BY p.published_at DESC, p.id DESC LIMIT $4`, account, after.PublishedAt, after.ID, min(limit, postLimit))
	if err != nil {
		return nil, nil, fmt.Errorf("feed: %w", err)
	}
	posts := []Post{}
	for rows.Next() {
		p, err := scanPost(rows)
		if err != nil {
			rows.Close()
			return nil, nil, err
		}
		p.Marks = modState(p.Moderation).marks(staff[p.ChannelID] || p.AuthorID == account)
		posts = append(posts, p)
	}
	rows.Close()
	urows, err := s.db.Read().QueryContext(ctx, `SELECT f.channel_id, (SELECT COUNT(*) FROM channel_posts p
		WHERE p.channel_id = f.channel_id AND p.status = 'published' AND p.published_at > f.read_at AND `+sqlStaffSees("p.mod_action", "c")+`)
		FROM channel_followers f JOIN channels c ON c.id = f.channel_id AND c.status = 'active' AND `+sqlStaffSees("c.mod_action", "c")+`
		WHERE f.account_id = $1 ORDER BY f.channel_id LIMIT 1000`, account)
	if err != nil {
		return nil, nil, fmt.Errorf("feed: %w", err)
	}
	defer urows.Close()
	unread := []Unread{}
	for urows.Next() {
		var u Unread
		if err := urows.Scan(&u.ChannelID, &u.UnreadCount); err != nil {
			return nil, nil, err
		}
		unread = append(unread, u)
	}
	return posts, unread, urows.Err()
}

// sqlStaffSees is the condition, in a query where $1 is the account and
// alias c the channel, that a channel or post whose mod_action is column
// is not removed, or that the account owns or edits the channel (or, for
// a post, wrote it). Limited ones stay: the account follows the channel.
func sqlStaffSees(column, c string) string {
	cond := `(` + column + ` <> 'remove' OR ` + c + `.owner_id = $1
		OR EXISTS (SELECT 1 FROM channel_editors e WHERE e.channel_id = ` + c + `.id AND e.account_id = $1)`
	if column == "p.mod_action" {
		cond += ` OR p.author_id = $1`
	}
	return cond + `)`
}

// staffChannels returns the channels account owns or edits.
func (s *Service) staffChannels(ctx context.Context, account plaza.ID) (map[plaza.ID]bool, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT id FROM channels WHERE owner_id = $1 UNION SELECT channel_id FROM channel_editors WHERE account_id = $1`, account)
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

// MarkRead moves the account's read position in a followed channel to now.
func (s *Service) MarkRead(ctx context.Context, account, channelID plaza.ID) error {
	res, err := s.db.Write().ExecContext(ctx, `UPDATE channel_followers SET read_at = $1 WHERE channel_id = $2 AND account_id = $3`,
		s.now().UnixMicro(), channelID, account)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return plaza.Errorf(plaza.ENotFound, "you do not follow this channel")
	}
	return nil
}

// Reviews lists posts waiting for (or past) review, oldest first.
func (s *Service) Reviews(ctx context.Context, status string, after plaza.ID, limit int) ([]Post, error) {
	if status != PostPending && status != PostPublished && status != PostRejected {
		return nil, plaza.Invalid("status", "must be pending, published or rejected")
	}
	rows, err := s.db.Read().QueryContext(ctx, `SELECT `+postColumns+` FROM channel_posts p WHERE p.status = $1 AND p.id > $2 ORDER BY p.id LIMIT $3`,
		status, after, min(limit, postLimit))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Post{}
	for rows.Next() {
		p, err := scanPost(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// DecidePost publishes or rejects a held post (reviewers), audited; the
// owner sees the outcome and reason on the post. Nobody decides a post of
// a channel they own or edit, nor one they wrote.
func (s *Service) DecidePost(ctx context.Context, actor audit.Actor, id plaza.ID, approve bool, reason string) (Post, error) {
	reason = strings.TrimSpace(reason)
	if n := utf8.RuneCountInString(reason); !approve && n == 0 || n > 1000 {
		return Post{}, plaza.Invalid("reason", "must be 1–1000 characters (a rejection must say why)")
	}
	now := s.now()
	var out Post
	live := true
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		// Lock the row first, so concurrent decisions queue (PostgreSQL).
		if _, err := tx.ExecContext(ctx, `UPDATE channel_posts SET status = status WHERE id = $1`, id); err != nil {
			return err
		}
		p, err := scanPost(tx.QueryRowContext(ctx, `SELECT `+postColumns+` FROM channel_posts p WHERE p.id = $1`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return plaza.Errorf(plaza.ENotFound, "post not found")
		}
		if err != nil {
			return err
		}
		if p.Status != PostPending {
			return plaza.Errorf(plaza.EConflict, "this post was already %s", p.Status)
		}
		staff, err := channelStaff(ctx, tx, p.ChannelID)
		if err != nil {
			return err
		}
		if err := account.RefuseOwn(actor, "a post review for a channel you own or edit", append(staff, p.AuthorID)...); err != nil {
			return err
		}
		if approve {
			var chStatus, chMod string
			if err := tx.QueryRowContext(ctx, `SELECT status, mod_action FROM channels WHERE id = $1`, p.ChannelID).Scan(&chStatus, &chMod); err != nil {
				return err
			}
			live = chMod != plaza.ModRemove
			if chStatus != StatusActive {
				return plaza.Errorf(plaza.EConflict, "the channel is %s: the post stays held until it is active again, or reject it", chStatus)
			}
		}
		p.Status, p.Reason = PostRejected, reason
		var published any
		if approve {
			p.Status, p.PublishedAt, published = PostPublished, &now, now.UnixMicro()
		}
		if _, err := tx.ExecContext(ctx, `UPDATE channel_posts SET status = $1, reason = $2, decided_by = $3, published_at = $4 WHERE id = $5`,
			p.Status, reason, actor.Name, published, id); err != nil {
			return err
		}
		out = p
		_, err = s.audit.Append(ctx, tx, audit.Record{Actor: actor, Action: map[bool]string{true: "post.approve", false: "post.reject"}[approve],
			TargetType: "channel_post", TargetID: id.String(), Reason: reason, Details: map[string]any{"channel_id": p.ChannelID.String(), "category": p.Category}})
		return err
	})
	if err != nil {
		return Post{}, err
	}
	if out.Status == PostPublished && live {
		s.publishPost(ctx, out)
	}
	return out, nil
}

// MediaIsPublic reports whether a media item is in a published post of an
// active channel, neither limited nor removed by a moderation decision,
// which makes it visible to anyone signed in. CanSeeMedia also lets the
// channel's owner, editors and followers see what they may.
func (s *Service) MediaIsPublic(ctx context.Context, mediaID plaza.ID) (bool, error) {
	var n int
	err := s.db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM channel_post_media m
		JOIN channel_posts p ON p.channel_id = m.channel_id AND p.id = m.post_id AND p.status = 'published' AND p.mod_action NOT IN ('limit', 'remove')
		JOIN channels c ON c.id = m.channel_id AND c.status = 'active' AND c.mod_action NOT IN ('limit', 'remove')
		WHERE m.media_id = $1`, mediaID).Scan(&n)
	return n > 0, err
}
