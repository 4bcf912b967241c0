package microblog

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/events"
	"github.com/plaza-im/plaza/internal/sqldb"
)

// A post is published when it is created in an open (or credentialled)
// category, or when a reviewer approves it. Publishing, in the same
// transaction as the status change, adjusts the counts (the author's
// post_count, the parent's reply_count, the original's repost_count),
// puts the post in the author's own timeline, indexes the words and
// hashtags of a public post, queues the fan-out job and stores the notifications
// (mention, reply, repost) in the recipients' sync logs.
//
// Lock order, so that concurrent transactions cannot deadlock on
// PostgreSQL: rows of posts (ascending ID), then microblog_stats
// (ascending account), then sync heads (events.Log.Append sorts them).
// Likes, follows and deletions take them in the same order.

// pubPlan is a post about to be published and whom it notifies.
type pubPlan struct {
	post    Post
	notices []notice
}

// notice is a notification to store.
type notice struct {
	to, actor plaza.ID
	kind      string
	post      plaza.ID // 0 for a follow
	// dedupe makes a repeated action notify once (like, unlike, like).
	dedupe string
}

// Notification kinds.
const (
	KindMention = "mention"
	KindReply   = "reply"
	KindLike    = "like"
	KindRepost  = "repost"
	KindFollow  = "follow"
)

// planFor works out whom publishing p notifies: the accounts it mentions,
// the author of the post it replies to and of the post it reposts — each
// only if they may see p, never the author, and never across a block.
func planFor(ctx context.Context, q sqldb.Queryer, p Post, mentioned []plaza.ID) (*pubPlan, error) {
	plan := &pubPlan{post: p}
	var cands []notice
	for _, m := range mentioned {
		cands = append(cands, notice{to: m, actor: p.AuthorID, kind: KindMention, post: p.ID, dedupe: "mention:" + p.ID.String()})
	}
	for _, ref := range []struct {
		id   *plaza.ID
		kind string
	}{{p.ReplyTo, KindReply}, {p.RepostOf, KindRepost}} {
		if ref.id == nil {
			continue
		}
		var author plaza.ID
		if err := q.QueryRowContext(ctx, `SELECT author_id FROM posts WHERE id = $1`, *ref.id).Scan(&author); err != nil {
			return nil, sqldb.MapError(err, "post")
		}
		cands = append(cands, notice{to: author, actor: p.AuthorID, kind: ref.kind, post: p.ID, dedupe: ref.kind + ":" + p.ID.String()})
	}
	var to []plaza.ID
	for _, c := range cands {
		if c.to != p.AuthorID {
			to = append(to, c.to)
		}
	}
	if len(to) == 0 {
		return plan, nil
	}
	audience, err := audienceOf(ctx, q, p.AuthorID, p.Visibility, to)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, c := range cands {
		key := c.to.String() + " " + c.dedupe
		if c.to != p.AuthorID && audience[c.to] && !seen[key] {
			seen[key] = true
			plan.notices = append(plan.notices, c)
		}
	}
	return plan, nil
}

// audienceOf returns which of accounts may see a published post of author
// with visibility: no block either way, not deleted or closed, and a
// follower or contact where the visibility asks for one.
func audienceOf(ctx context.Context, q sqldb.Queryer, author plaza.ID, visibility string, accounts []plaza.ID) (map[plaza.ID]bool, error) {
	accounts = distinct(accounts)
	in, args := idList(2, accounts)
	args = append([]any{author}, args...)
	var allowed map[plaza.ID]bool
	var err error
	switch visibility {
	case Followers:
		allowed, err = idSet(ctx, q, `SELECT follower_id FROM follows WHERE followee_id = $1 AND follower_id IN (`+in+`)`, args...)
	case Contacts:
		allowed, err = idSet(ctx, q, `SELECT contact_id FROM contacts WHERE account_id = $1 AND contact_id IN (`+in+`)`, args...)
	default:
		allowed = map[plaza.ID]bool{}
		for _, a := range accounts {
			allowed[a] = true
		}
	}
	if err != nil {
		return nil, fmt.Errorf("audience: %w", err)
	}
	blocked, err := idSet(ctx, q, `SELECT blocked_id FROM blocks WHERE account_id = $1 AND blocked_id IN (`+in+`)
		UNION SELECT account_id FROM blocks WHERE blocked_id = $1 AND account_id IN (`+in+`)
		UNION SELECT id FROM accounts WHERE id IN (`+in+`) AND status IN ('deleted', 'closed')`, args...)
	if err != nil {
		return nil, fmt.Errorf("audience: %w", err)
	}
	for a := range blocked {
		delete(allowed, a)
	}
	return allowed, nil
}

// published is what a commit that published posts leaves to do after it.
type published struct {
	evs   []events.Pending
	posts []Post
	celeb map[plaza.ID]bool // authors whose posts go to their bus subject
	jobs  bool
}

// applyPublished does in tx what publishing the planned posts does
// besides their own row (see the top of this file).
func (s *Service) applyPublished(ctx context.Context, tx *sql.Tx, plans []*pubPlan) (published, error) {
	var out published
	if len(plans) == 0 {
		return out, nil
	}
	// Posts rows: the parents' and originals' counters, ascending.
	type bump struct {
		id             plaza.ID
		replies, posts int64
	}
	bumps := map[plaza.ID]*bump{}
	postCounts := map[plaza.ID]int64{}
	for _, pl := range plans {
		p := pl.post
		postCounts[p.AuthorID]++
		if p.ReplyTo != nil {
			b := bumps[*p.ReplyTo]
			if b == nil {
				b = &bump{id: *p.ReplyTo}
				bumps[*p.ReplyTo] = b
			}
			b.replies++
		}
		if p.RepostOf != nil {
			b := bumps[*p.RepostOf]
			if b == nil {
				b = &bump{id: *p.RepostOf}
				bumps[*p.RepostOf] = b
			}
			b.posts++
		}
	}
	for _, id := range sortedKeys(bumps) {
		b := bumps[id]
		if _, err := tx.ExecContext(ctx, `UPDATE posts SET reply_count = reply_count + $1, repost_count = repost_count + $2 WHERE id = $3`, b.replies, b.posts, b.id); err != nil {
			return out, fmt.Errorf("counts: %w", err)
		}
	}
	authors := sortedKeys(postCounts)
	for _, a := range authors {
		if err := bumpStats(ctx, tx, a, 0, 0, postCounts[a]); err != nil {
			return out, err
		}
	}
	in, args := idList(1, authors)
	celeb, err := idSet(ctx, tx, `SELECT account_id FROM microblog_stats WHERE account_id IN (`+in+`) AND celebrity = 1`, args...)
	if err != nil {
		return out, fmt.Errorf("fan-out threshold: %w", err)
	}
	out.celeb = celeb
	now := s.now().UnixMicro()
	var notices []notice
	for _, pl := range plans {
		p := pl.post
		if _, err := tx.ExecContext(ctx, `INSERT INTO timeline (account_id, post_id, author_id) VALUES ($1, $2, $1) ON CONFLICT DO NOTHING`, p.AuthorID, p.ID); err != nil {
			return out, fmt.Errorf("own timeline: %w", err)
		}
		if p.Visibility == Public {
			if err := s.index(ctx, tx, p); err != nil {
				return out, err
			}
			for _, tag := range p.Hashtags {
				if _, err := tx.ExecContext(ctx, `INSERT INTO hashtags (tag, post_id, author_id, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
					tag, p.ID, p.AuthorID, p.PublishedAt.UnixMicro()); err != nil {
					return out, fmt.Errorf("hashtags: %w", err)
				}
			}
		}
		// A contacts post goes to the author's contacts, a bounded
		// circle, whatever the follower count; other posts go to the
		// followers unless the author is above the threshold.
		audience := "followers"
		if p.Visibility == Contacts {
			audience = "contacts"
		} else if celeb[p.AuthorID] {
			audience = ""
		}
		if audience != "" {
			if _, err := tx.ExecContext(ctx, `INSERT INTO fanout_jobs (id, post_id, author_id, audience, done_up_to, lease_until, created_at) VALUES ($1, $2, $3, $4, 0, 0, $5)`,
				plaza.NewID(), p.ID, p.AuthorID, audience, now); err != nil {
				return out, fmt.Errorf("fan-out job: %w", err)
			}
			out.jobs = true
		}
		notices = append(notices, pl.notices...)
		out.posts = append(out.posts, p)
	}
	evs, err := s.storeNotices(ctx, tx, notices)
	if err != nil {
		return out, err
	}
	if out.evs, err = s.events.Append(ctx, tx, evs); err != nil {
		return out, err
	}
	return out, nil
}

// afterPublish publishes what a committed publication left to do: the
// notifications' events, the posts to their authors' own devices and, for
// authors above the threshold, once on their subject; and wakes the
// fan-out worker for the rest.
func (s *Service) afterPublish(ctx context.Context, out published) {
	s.events.Publish(ctx, out.evs)
	for _, p := range out.posts {
		data, _ := json.Marshal(p)
		if err := s.events.PublishEphemeral(ctx, []plaza.ID{p.AuthorID}, events.PostCreated, data); err != nil {
			s.log.Warn("bus publish of a post failed; it is in the timeline", "err", err)
		}
		if out.celeb[p.AuthorID] && p.Visibility != Contacts {
			if err := s.bus.Publish(ctx, events.AuthorSubject(p.AuthorID), events.Frame(events.PostCreated, 0, data)); err != nil {
				s.log.Warn("bus publish of a post failed; followers see it in their timeline", "err", err)
			}
		}
	}
	if out.jobs {
		s.wakeWorker()
	}
}

// storeNotices stores notifications and returns the events for those
// that are new (a deduplicated repeat stores and sends nothing).
func (s *Service) storeNotices(ctx context.Context, tx *sql.Tx, ns []notice) ([]events.Event, error) {
	var evs []events.Event
	now := s.now()
	for _, n := range ns {
		id := plaza.NewID()
		var post any
		if n.post != 0 {
			post = n.post
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO notifications (account_id, id, kind, actor_id, post_id, dedupe, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (account_id, dedupe) DO NOTHING`, n.to, id, n.kind, n.actor, post, n.dedupe, now.UnixMicro())
		if err != nil {
			return nil, fmt.Errorf("notification: %w", err)
		}
		if k, _ := res.RowsAffected(); k == 0 {
			continue
		}
		nt := Notification{ID: id, Kind: n.kind, ActorID: n.actor, CreatedAt: now}
		if n.post != 0 {
			pid := n.post
			nt.PostID = &pid
		}
		data, _ := json.Marshal(nt)
		evs = append(evs, events.Event{Account: n.to, Type: events.Notification, Ref: id, Data: data, Stored: data})
	}
	return evs, nil
}

func sortedKeys[V any](m map[plaza.ID]V) []plaza.ID {
	out := make([]plaza.ID, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
