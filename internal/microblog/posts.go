package microblog

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/channel"
	"github.com/plaza-im/plaza/internal/identity"
	"github.com/plaza-im/plaza/internal/media"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/textcheck"
)

// PostInput is what an author sends.
type PostInput struct {
	Text       string
	MediaIDs   []plaza.ID
	Visibility string // public (default), followers or contacts
	ReplyTo    *plaza.ID
	RepostOf   *plaza.ID
	Category   string // default "general"
}

// Bounds of a post.
const (
	maxTextRunes = 2000
	maxMedia     = 9
)

// Create publishes a post, or holds it for review, after every rule: the
// text (at most 2,000 code points, no control characters but line breaks
// and tabs, at most 10 hashtags and 10 mentions), the media (the author's
// own uploads: up to 9 images or one video), the post it replies to or
// reposts (which the author must be able to see, else not_found), the
// author's verification level (post.create) and the category's policy.
// Refused posts store nothing.
func (s *Service) Create(ctx context.Context, author plaza.ID, in PostInput) (Post, error) {
	if err := s.limits.posts.Take(ctx, author.String(), 1); err != nil {
		return Post{}, err
	}
	in.Category = strings.ToLower(strings.TrimSpace(in.Category))
	if in.Category == "" {
		in.Category = DefaultCategory
	}
	if in.Visibility == "" {
		in.Visibility = Public
	}
	var p plaza.Problems
	if utf8.RuneCountInString(in.Text) > maxTextRunes {
		p.Add("text", fmt.Sprintf("must be at most %d characters", maxTextRunes))
	}
	if rule := textcheck.Multiline(in.Text); rule != "" {
		p.Add("text", rule)
	}
	if strings.TrimSpace(in.Text) == "" && len(in.MediaIDs) == 0 && in.RepostOf == nil {
		p.Add("text", "a post needs text, media or repost_of")
	}
	if in.Visibility != Public && in.Visibility != Followers && in.Visibility != Contacts {
		p.Add("visibility", "must be public, followers or contacts")
	}
	if len(in.MediaIDs) > maxMedia {
		p.Add("media_ids", fmt.Sprintf("must name at most %d media items (or one video)", maxMedia))
	} else if len(distinct(in.MediaIDs)) != len(in.MediaIDs) {
		p.Add("media_ids", "must not name a media item twice")
	}
	if in.ReplyTo != nil && in.RepostOf != nil {
		p.Add("repost_of", "must not be set with reply_to: a post replies or reposts")
	}
	if n := len(in.Category); n > 32 || strings.Trim(in.Category, "abcdefghijklmnopqrstuvwxyz0123456789_-") != "" {
		p.Add("category", "must be 1–32 characters of a-z, 0-9, _ and -")
	}
	parsed := parseText(in.Text)
	if len(parsed.tags) > maxTags {
		p.Add("text", fmt.Sprintf("must hold at most %d hashtags", maxTags))
	}
	if len(parsed.mentions) > maxMentions {
		p.Add("text", fmt.Sprintf("must mention at most %d accounts", maxMentions))
	}
	if err := p.Err(); err != nil {
		return Post{}, err
	}
	if err := s.identity.Require(ctx, author, identity.PostCreate); err != nil {
		return Post{}, err
	}
	if err := s.checkMedia(ctx, author, in.MediaIDs); err != nil {
		return Post{}, err
	}
	for _, ref := range []struct {
		id   *plaza.ID
		what string
	}{{in.ReplyTo, "the post you reply to"}, {in.RepostOf, "the post you repost"}} {
		if ref.id == nil {
			continue
		}
		// Only a published post has replies and reposts: the author's
		// own held or rejected post is as good as absent.
		target, err := s.Get(ctx, author, *ref.id)
		if plaza.ErrorCode(err) == plaza.ENotFound || err == nil && target.Status != StatusPublished {
			return Post{}, plaza.Errorf(plaza.ENotFound, "%s was not found", ref.what)
		} else if err != nil {
			return Post{}, err
		}
	}
	now := s.now()
	status, err := s.policy(ctx, s.db.Read(), author, in.Category, now)
	if err != nil {
		return Post{}, err
	}
	mentioned, handles, err := s.resolveMentions(ctx, author, parsed.mentions)
	if err != nil {
		return Post{}, err
	}
	post := Post{ID: plaza.NewID(), AuthorID: author, Text: in.Text, MediaIDs: in.MediaIDs, Visibility: in.Visibility,
		ReplyTo: in.ReplyTo, RepostOf: in.RepostOf, Category: in.Category, Status: status,
		Hashtags: parsed.tags, Mentions: handles, CreatedAt: now}
	if post.MediaIDs == nil {
		post.MediaIDs = []plaza.ID{}
	}
	if post.Hashtags == nil {
		post.Hashtags = []string{}
	}
	var plan *pubPlan
	if status == StatusPublished {
		post.PublishedAt = &now
		if plan, err = planFor(ctx, s.db.Read(), post, mentioned); err != nil {
			return Post{}, err
		}
	}
	if err := s.w.submit(ctx, &createReq{post: post, mentioned: mentioned, plan: plan}); err != nil {
		return Post{}, err
	}
	return post, nil
}

// checkMedia checks that ids are the author's own uploads: up to 9 images,
// or one video alone.
func (s *Service) checkMedia(ctx context.Context, author plaza.ID, ids []plaza.ID) error {
	if len(ids) == 0 {
		return nil
	}
	if s.media == nil {
		return plaza.Invalid("media_ids", "this server does not store media")
	}
	videos := 0
	for _, id := range ids {
		it, err := s.media.Get(ctx, id)
		if plaza.ErrorCode(err) == plaza.ENotFound || err == nil && it.OwnerID != author {
			return plaza.Invalid("media_ids", "must be media you uploaded (POST /api/v1/media)")
		}
		if err != nil {
			return err
		}
		switch it.Kind {
		case media.KindImage:
		case media.KindVideo:
			videos++
		default:
			return plaza.Invalid("media_ids", "must be images or a video, not "+it.Kind)
		}
	}
	if videos > 0 && len(ids) > 1 {
		return plaza.Invalid("media_ids", "a video goes alone: one video, or up to 9 images")
	}
	return nil
}

// policy applies the category's policy (the categories of channel posts)
// for author: published, pending_review, or category_not_authorized with
// details.policy. The default category is open unless the operator set a
// policy for it.
func (s *Service) policy(ctx context.Context, q sqldb.Queryer, author plaza.ID, category string, now time.Time) (string, error) {
	cat, err := channel.LookupCategory(ctx, q, category)
	if err != nil {
		if category == DefaultCategory && plaza.ErrorCode(err) == plaza.EInvalid {
			return StatusPublished, nil
		}
		return "", err
	}
	switch cat.Policy {
	case channel.PolicyForbidden:
		return "", plaza.Errorf(plaza.ECategoryNotAuthorized, "nobody may post in the category %q", cat.Name).
			WithDetails(map[string]any{"category": cat.Name, "policy": channel.PolicyForbidden})
	case channel.PolicyCredential:
		ok, err := channel.AccountCredentials.Holds(ctx, q, author, cat.Name, now)
		if err != nil {
			return "", err
		}
		if !ok {
			return "", plaza.Errorf(plaza.ECategoryNotAuthorized, "posting in %q needs a credential you do not hold (or it expired): ask the operator", cat.Name).
				WithDetails(map[string]any{"category": cat.Name, "policy": channel.PolicyCredential})
		}
		return StatusPublished, nil
	case channel.PolicyReview:
		return StatusPending, nil
	default:
		return StatusPublished, nil
	}
}

// resolveMentions turns mentioned handles into accounts: those that exist,
// are neither deleted nor closed, and have no block with the author either
// way. It returns their IDs and handles, in the text's order.
func (s *Service) resolveMentions(ctx context.Context, author plaza.ID, handles []string) ([]plaza.ID, []string, error) {
	if len(handles) == 0 {
		return nil, []string{}, nil
	}
	args := make([]any, 0, len(handles)+1)
	args = append(args, author)
	ph := make([]string, len(handles))
	for i, h := range handles {
		ph[i] = fmt.Sprintf("$%d", i+2)
		args = append(args, h)
	}
	rows, err := s.db.Read().QueryContext(ctx, `SELECT a.id, a.handle FROM accounts a WHERE a.handle IN (`+strings.Join(ph, ", ")+`)
		AND a.status NOT IN ('deleted', 'closed')
		AND NOT EXISTS (SELECT 1 FROM blocks b WHERE b.account_id = a.id AND b.blocked_id = $1 OR b.account_id = $1 AND b.blocked_id = a.id)`, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("mentions: %w", err)
	}
	defer rows.Close()
	found := map[string]plaza.ID{}
	for rows.Next() {
		var id plaza.ID
		var h string
		if err := rows.Scan(&id, &h); err != nil {
			return nil, nil, fmt.Errorf("mentions: %w", err)
		}
		found[h] = id
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("mentions: %w", err)
	}
	var ids []plaza.ID
	out := []string{}
	for _, h := range handles {
		if id, ok := found[h]; ok {
			ids = append(ids, id)
			out = append(out, h)
		}
	}
	return ids, out, nil
}

// Delete deletes the author's post: it vanishes from timelines, replies,
// hashtag pages, trending and search, and the counts it added are taken
// back. Deleting a post that is gone is not_found; someone else's post,
// forbidden (or not_found if they cannot see it).
func (s *Service) Delete(ctx context.Context, author, id plaza.ID) error {
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		// Lock the row first, so a concurrent delete or decision waits
		// (PostgreSQL; SQLite has one writer).
		if _, err := tx.ExecContext(ctx, `UPDATE posts SET status = status WHERE id = $1`, id); err != nil {
			return err
		}
		p, err := getPost(ctx, tx, id)
		if err != nil {
			return err
		}
		if p.Status == StatusDeleted {
			return errNotFound
		}
		if p.AuthorID != author {
			rel, err := relationsOf(ctx, tx, author, []plaza.ID{p.AuthorID})
			if err != nil {
				return err
			}
			if rel.canSee(p) {
				return plaza.Errorf(plaza.EForbidden, "only its author can delete a post")
			}
			return errNotFound
		}
		if p.Status == StatusPublished {
			// Rows of posts first, ascending (see publish.go).
			refs := map[plaza.ID][2]int64{}
			if p.ReplyTo != nil {
				refs[*p.ReplyTo] = [2]int64{-1, 0}
			}
			if p.RepostOf != nil {
				refs[*p.RepostOf] = [2]int64{0, -1}
			}
			for _, ref := range sortedKeys(refs) {
				d := refs[ref]
				if _, err := tx.ExecContext(ctx, `UPDATE posts SET reply_count = reply_count + $1, repost_count = repost_count + $2 WHERE id = $3`, d[0], d[1], ref); err != nil {
					return err
				}
			}
			if err := bumpStats(ctx, tx, author, 0, 0, -1); err != nil {
				return err
			}
			if p.Visibility == Public {
				if err := s.unindex(ctx, tx, id); err != nil {
					return err
				}
			}
		}
		for _, q := range []string{
			`UPDATE posts SET status = 'deleted', text = '', media_ids = '[]', hashtags = '[]', mentions = '[]' WHERE id = $1`,
			`DELETE FROM mentions WHERE post_id = $1`,
			`DELETE FROM fanout_jobs WHERE post_id = $1`,
		} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return err
			}
		}
		for _, tag := range p.Hashtags {
			if _, err := tx.ExecContext(ctx, `DELETE FROM hashtags WHERE tag = $1 AND post_id = $2`, tag, id); err != nil {
				return err
			}
		}
		for _, m := range p.MediaIDs {
			if _, err := tx.ExecContext(ctx, `DELETE FROM post_media WHERE media_id = $1 AND post_id = $2`, m, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete post: %w", err)
	}
	return nil
}
