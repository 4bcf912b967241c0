package microblog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/events"
	"github.com/plaza-im/plaza/internal/sqldb"
)

// Follow makes follower follow followee. Following again changes nothing;
// following oneself is invalid; an account that does not exist, is
// deleted or closed is not_found; a block either way is blocked. The new
// follower's timeline gets the followee's recent posts (below the fan-out
// threshold; above it they are merged at read time anyway), and the
// followee a notification, once however often the follow is repeated.
func (s *Service) Follow(ctx context.Context, follower, followee plaza.ID) error {
	if follower == followee {
		return plaza.Invalid("id", "must be someone else: you cannot follow yourself")
	}
	if err := s.limits.follows.Take(ctx, follower.String(), 1); err != nil {
		return err
	}
	if err := s.checkAccount(ctx, followee); err != nil {
		return err
	}
	now := s.now()
	var evs []events.Pending
	var celeb, added, crossed bool
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		evs, celeb, added, crossed = nil, false, false, false
		if b, err := blockedEither(ctx, tx, follower, followee); err != nil {
			return err
		} else if b {
			return plaza.Errorf(plaza.EBlocked, "you cannot follow this account")
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO follows (follower_id, followee_id, id, created_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (follower_id, followee_id) DO NOTHING`, follower, followee, plaza.NewID(), now.UnixMicro())
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		added = true
		// Counts in ascending account order (see publish.go).
		for _, a := range sortedKeys(map[plaza.ID]bool{follower: true, followee: true}) {
			var followers, following int64
			if a == followee {
				followers = 1
			} else {
				following = 1
			}
			if err := bumpStats(ctx, tx, a, followers, following, 0); err != nil {
				return err
			}
		}
		res, err = tx.ExecContext(ctx, `UPDATE microblog_stats SET celebrity = 1 WHERE account_id = $1 AND celebrity = 0 AND follower_count >= $2`,
			followee, s.cfg.FanoutThreshold)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			crossed = true
		}
		if err := tx.QueryRowContext(ctx, `SELECT celebrity = 1 FROM microblog_stats WHERE account_id = $1`, followee).Scan(&celeb); err != nil {
			return err
		}
		if !celeb && s.cfg.Backfill > 0 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO timeline (account_id, post_id, author_id)
				SELECT $1, id, author_id FROM posts WHERE author_id = $2 AND status = 'published' AND visibility <> 'contacts'
				ORDER BY id DESC LIMIT $3 ON CONFLICT DO NOTHING`, follower, followee, s.cfg.Backfill); err != nil {
				return fmt.Errorf("backfill: %w", err)
			}
		}
		notes, err := s.storeNotices(ctx, tx, []notice{{to: followee, actor: follower, kind: KindFollow, dedupe: "follow:" + follower.String()}})
		if err != nil {
			return err
		}
		evs, err = s.events.Append(ctx, tx, notes)
		return err
	})
	if err != nil {
		return fmt.Errorf("follow: %w", err)
	}
	s.events.Publish(ctx, evs)
	switch {
	case s.onFollow == nil || !added || !celeb:
	case crossed:
		// The author's posts move to their own subject from now on:
		// every follower's connected devices must listen there. This
		// happens once per author, for at most the threshold's number.
		s.tellFollowers(ctx, followee)
	default:
		s.onFollow(ctx, follower, events.FollowControl{Author: followee, Follow: true})
	}
	return nil
}

// tellFollowers tells the hub, for each follower of author, to deliver
// the posts on the author's subject.
func (s *Service) tellFollowers(ctx context.Context, author plaza.ID) {
	cursor := plaza.ID(0)
	for {
		rows, err := s.db.Read().QueryContext(ctx, `SELECT id, follower_id FROM follows WHERE followee_id = $1 AND id > $2 ORDER BY id LIMIT 1000`, author, cursor)
		if err != nil {
			s.log.Warn("telling followers of an author above the fan-out threshold failed; their devices get the posts after reconnecting", "err", err)
			return
		}
		n := 0
		for rows.Next() {
			var follower plaza.ID
			if err := rows.Scan(&cursor, &follower); err != nil {
				break
			}
			n++
			s.onFollow(ctx, follower, events.FollowControl{Author: author, Follow: true})
		}
		rows.Close()
		if n < 1000 {
			return
		}
	}
}

// Unfollow stops follower following followee; their posts leave the
// follower's timeline. Unfollowing someone not followed changes nothing.
func (s *Service) Unfollow(ctx context.Context, follower, followee plaza.ID) error {
	if follower == followee {
		return plaza.Invalid("id", "must be someone else: you cannot follow yourself")
	}
	if err := s.limits.follows.Take(ctx, follower.String(), 1); err != nil {
		return err
	}
	var removed, celeb bool
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		removed, celeb, err = unfollowTx(ctx, tx, follower, followee)
		return err
	})
	if err != nil {
		return fmt.Errorf("unfollow: %w", err)
	}
	if removed && celeb && s.onFollow != nil {
		s.onFollow(ctx, follower, events.FollowControl{Author: followee, Follow: false})
	}
	return nil
}

// unfollowTx removes a follow in tx, adjusting the counts, and reports
// whether there was one and whether the followee is above the fan-out
// threshold.
func unfollowTx(ctx context.Context, tx *sql.Tx, follower, followee plaza.ID) (removed, celeb bool, err error) {
	res, err := tx.ExecContext(ctx, `DELETE FROM follows WHERE follower_id = $1 AND followee_id = $2`, follower, followee)
	if err != nil {
		return false, false, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, false, nil
	}
	for _, a := range sortedKeys(map[plaza.ID]bool{follower: true, followee: true}) {
		var followers, following int64
		if a == followee {
			followers = -1
		} else {
			following = -1
		}
		if err := bumpStats(ctx, tx, a, followers, following, 0); err != nil {
			return false, false, err
		}
	}
	if err := tx.QueryRowContext(ctx, `SELECT celebrity = 1 FROM microblog_stats WHERE account_id = $1`, followee).Scan(&celeb); err != nil {
		return false, false, err
	}
	return true, celeb, nil
}

// BlockHook ends the follows between blocker and blocked, both ways, in
// the block's own transaction (register it with chat's OnBlock).
func (s *Service) BlockHook(ctx context.Context, tx *sql.Tx, blocker, blocked plaza.ID) (func(context.Context), error) {
	var gone []events.FollowControl
	var accounts []plaza.ID
	for _, pair := range [][2]plaza.ID{{blocker, blocked}, {blocked, blocker}} {
		removed, celeb, err := unfollowTx(ctx, tx, pair[0], pair[1])
		if err != nil {
			return nil, fmt.Errorf("unfollow on block: %w", err)
		}
		if removed && celeb {
			gone = append(gone, events.FollowControl{Author: pair[1], Follow: false})
			accounts = append(accounts, pair[0])
		}
	}
	if len(gone) == 0 || s.onFollow == nil {
		return nil, nil
	}
	return func(ctx context.Context) {
		for i, c := range gone {
			s.onFollow(ctx, accounts[i], c)
		}
	}, nil
}

// checkAccount returns not_found unless id is an account that is neither
// deleted nor closed.
func (s *Service) checkAccount(ctx context.Context, id plaza.ID) error {
	var status string
	err := s.db.Read().QueryRowContext(ctx, `SELECT status FROM accounts WHERE id = $1`, id).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) || err == nil && (status == "deleted" || status == "closed") {
		return plaza.Errorf(plaza.ENotFound, "account not found")
	}
	return err
}

// blockedEither reports whether a or b blocked the other.
func blockedEither(ctx context.Context, q sqldb.Queryer, a, b plaza.ID) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM blocks WHERE account_id = $1 AND blocked_id = $2 OR account_id = $2 AND blocked_id = $1`, a, b).Scan(&n)
	return n > 0, err
}

// Counts are an account's microblog counts, for its public profile.
type Counts struct {
	FollowerCount  int64 `json:"follower_count"`
	FollowingCount int64 `json:"following_count"`
	PostCount      int64 `json:"post_count"`
	// Following says whether the viewer follows the account.
	Following bool `json:"following"`
}

// Counts returns account's counts and whether viewer follows it.
func (s *Service) Counts(ctx context.Context, viewer, account plaza.ID) (Counts, error) {
	var c Counts
	err := s.db.Read().QueryRowContext(ctx, `SELECT follower_count, following_count, post_count FROM microblog_stats WHERE account_id = $1`, account).
		Scan(&c.FollowerCount, &c.FollowingCount, &c.PostCount)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return Counts{}, fmt.Errorf("counts: %w", err)
	}
	if viewer != 0 && viewer != account {
		var n int
		if err := s.db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM follows WHERE follower_id = $1 AND followee_id = $2`, viewer, account).Scan(&n); err != nil {
			return Counts{}, fmt.Errorf("counts: %w", err)
		}
		c.Following = n > 0
	}
	return c, nil
}

// FollowEntry is an entry of a follower or following list: the other
// account.
type FollowEntry struct {
	// Cursor is the follow's place in the list.
	Cursor      plaza.ID  `json:"-"`
	ID          plaza.ID  `json:"id"`
	Handle      string    `json:"handle"`
	DisplayName string    `json:"display_name"`
	FollowedAt  time.Time `json:"followed_at"`
}

// Followers lists, as viewer sees them, who follows account, newest
// first, before the cursor (0 for the first page). Across a block
// between viewer and account the list is not found, and accounts that
// blocked viewer, or that viewer blocked, are left out of it.
func (s *Service) Followers(ctx context.Context, viewer, account, before plaza.ID, limit int) ([]FollowEntry, error) {
	return s.followList(ctx, `SELECT f.id, a.id, a.handle, a.display_name, f.created_at FROM follows f JOIN accounts a ON a.id = f.follower_id
		WHERE f.followee_id = $1 AND f.id < $2 AND a.status NOT IN ('deleted', 'closed')`+notBlockedWith4+`ORDER BY f.id DESC LIMIT $3`, viewer, account, before, limit)
}

// Following lists, as viewer sees them, whom account follows, newest
// first, before the cursor, with the same block rules as Followers.
func (s *Service) Following(ctx context.Context, viewer, account, before plaza.ID, limit int) ([]FollowEntry, error) {
	return s.followList(ctx, `SELECT f.id, a.id, a.handle, a.display_name, f.created_at FROM follows f JOIN accounts a ON a.id = f.followee_id
		WHERE f.follower_id = $1 AND f.id < $2 AND a.status NOT IN ('deleted', 'closed')`+notBlockedWith4+`ORDER BY f.id DESC LIMIT $3`, viewer, account, before, limit)
}

// notBlockedWith4 keeps the listed account a only if neither it nor the
// viewer ($4) blocked the other.
const notBlockedWith4 = ` AND NOT EXISTS (SELECT 1 FROM blocks b WHERE b.account_id = $4 AND b.blocked_id = a.id OR b.account_id = a.id AND b.blocked_id = $4) `

func (s *Service) followList(ctx context.Context, query string, viewer, account, before plaza.ID, limit int) ([]FollowEntry, error) {
	if err := s.checkAccount(ctx, account); err != nil {
		return nil, err
	}
	if viewer != 0 && viewer != account {
		blocked, err := blockedEither(ctx, s.db.Read(), viewer, account)
		if err != nil {
			return nil, fmt.Errorf("follow list: %w", err)
		}
		if blocked {
			return nil, plaza.Errorf(plaza.ENotFound, "account not found")
		}
	}
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := s.db.Read().QueryContext(ctx, query, account, before, min(max(limit, 1), 200), viewer)
	if err != nil {
		return nil, fmt.Errorf("follow list: %w", err)
	}
	defer rows.Close()
	out := []FollowEntry{}
	for rows.Next() {
		var e FollowEntry
		var at int64
		if err := rows.Scan(&e.Cursor, &e.ID, &e.Handle, &e.DisplayName, &at); err != nil {
			return nil, fmt.Errorf("follow list: %w", err)
		}
		e.FollowedAt = micro(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// FollowedAuthors returns the accounts above the fan-out threshold that
// account follows: their posts travel on their own bus subject, which
// the realtime hub subscribes to for account's devices.
func (s *Service) FollowedAuthors(ctx context.Context, account plaza.ID) ([]plaza.ID, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT s.account_id FROM microblog_stats s
		WHERE s.celebrity = 1 AND EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = $1 AND f.followee_id = s.account_id)`, account)
	if err != nil {
		return nil, fmt.Errorf("followed authors: %w", err)
	}
	defer rows.Close()
	var out []plaza.ID
	for rows.Next() {
		var id plaza.ID
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}
