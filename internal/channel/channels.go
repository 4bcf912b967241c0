package channel

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/audit"
	"github.com/plaza-im/plaza/internal/events"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/textcheck"
)

// Channel is a public account.
type Channel struct {
	ID            plaza.ID   `json:"id"`
	Handle        string     `json:"handle"`
	Name          string     `json:"name"`
	Description   string     `json:"description"`
	Kind          string     `json:"kind"`
	OwnerID       plaza.ID   `json:"owner_id"`
	EditorIDs     []plaza.ID `json:"editor_ids"`
	Verified      bool       `json:"verified"`
	ApprovedAt    time.Time  `json:"approved_at"`
	Status        string     `json:"status"`
	StatusReason  string     `json:"status_reason,omitempty"`
	FollowerCount int64      `json:"follower_count"`
	// DailyPostLimit and MonthlyPostLimit are the quotas in force; null
	// means no quota for that period, 0 means no posts at all.
	DailyPostLimit   *int `json:"daily_post_limit"`
	MonthlyPostLimit *int `json:"monthly_post_limit"`
	// Following says whether the caller follows it.
	Following bool `json:"following"`
	// Moderation is the moderation decision in force on the channel, for
	// package moderation; viewers see it through Marks (see moderation.go).
	Moderation plaza.Moderation `json:"-"`
	Marks

	dailyOverride, monthlyOverride sql.NullInt64
}

const channelColumns = `c.id, c.handle, c.name, c.description, c.kind, c.owner_id, c.status, c.status_reason, c.daily_post_limit, c.monthly_post_limit, c.follower_count, c.approved_at,
	c.mod_action, c.mod_label, c.mod_decision`

func (s *Service) scanChannel(row interface{ Scan(...any) error }) (Channel, error) {
	var c Channel
	var approved int64
	var decision sql.NullInt64
	if err := row.Scan(&c.ID, &c.Handle, &c.Name, &c.Description, &c.Kind, &c.OwnerID, &c.Status, &c.StatusReason,
		&c.dailyOverride, &c.monthlyOverride, &c.FollowerCount, &approved,
		&c.Moderation.Action, &c.Moderation.Label, &decision); err != nil {
		return Channel{}, err
	}
	c.Moderation.DecisionID = plaza.ID(decision.Int64)
	c.ApprovedAt, c.Verified = micro(approved), true
	c.DailyPostLimit, c.MonthlyPostLimit = s.limits(c)
	c.EditorIDs = []plaza.ID{}
	return c, nil
}

// limits returns the daily and monthly quotas in force for c: the kind's
// default unless an admin set one; nil means no quota for that period.
func (s *Service) limits(c Channel) (daily, monthly *int) {
	// Copies: callers must not be able to change the service's defaults.
	if c.Kind == Subscription {
		d := s.cfg.SubscriptionDaily
		daily = &d
	} else {
		m := s.cfg.ServiceMonthly
		monthly = &m
	}
	if c.dailyOverride.Valid {
		d := int(c.dailyOverride.Int64)
		daily = &d
	}
	if c.monthlyOverride.Valid {
		m := int(c.monthlyOverride.Int64)
		monthly = &m
	}
	return daily, monthly
}

// Get returns a channel as viewer sees it. A channel a moderation
// decision removed is not_found but for its owner and editors; one it
// limited, but for them and its followers.
func (s *Service) Get(ctx context.Context, viewer, id plaza.ID) (Channel, error) {
	c, err := s.scanChannel(s.db.Read().QueryRowContext(ctx, `SELECT `+channelColumns+` FROM channels c WHERE c.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Channel{}, plaza.Errorf(plaza.ENotFound, "channel not found")
	}
	if err != nil {
		return Channel{}, err
	}
	if c.EditorIDs, err = s.editors(ctx, id); err != nil {
		return Channel{}, err
	}
	var n int
	if err := s.db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM channel_followers WHERE channel_id = $1 AND account_id = $2`, id, viewer).Scan(&n); err != nil {
		return Channel{}, err
	}
	c.Following = n > 0
	staff := viewer != 0 && s.canEdit(ctx, c, viewer)
	if !modState(c.Moderation).visible(staff, c.Following) {
		return Channel{}, plaza.Errorf(plaza.ENotFound, "channel not found")
	}
	c.Marks = modState(c.Moderation).marks(staff)
	return c, nil
}

func (s *Service) editors(ctx context.Context, id plaza.ID) ([]plaza.ID, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT account_id FROM channel_editors WHERE channel_id = $1 ORDER BY added_at`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []plaza.ID{}
	for rows.Next() {
		var a plaza.ID
		if err := rows.Scan(&a); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// searchKey is what Search matches against: lower-cased in Go with full
// Unicode rules, since SQLite's LOWER folds ASCII letters only.
func searchKey(handle, name string) string {
	return strings.ToLower(handle + " " + name)
}

// Search lists active channels whose handle or name contains q (all when q
// is empty), most followed first; not those a moderation decision limits
// or removes.
func (s *Service) Search(ctx context.Context, q string, offset, limit int) ([]Channel, error) {
	q = strings.ToLower(strings.TrimSpace(q))
	if utf8.RuneCountInString(q) > 64 {
		return nil, plaza.Invalid("q", "must be at most 64 characters")
	}
	if rule := textcheck.Storable(q); rule != "" {
		return nil, plaza.Invalid("q", rule)
	}
	pattern := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(q) + "%"
	rows, err := s.db.Read().QueryContext(ctx, `SELECT `+channelColumns+` FROM channels c
		WHERE c.status = 'active' AND c.search_key LIKE $1 ESCAPE '\' AND c.mod_action NOT IN ('limit', 'remove')
		ORDER BY c.follower_count DESC, c.id LIMIT $2 OFFSET $3`, pattern, limit, offset)
	if err != nil {
		return nil, fmt.Errorf("search channels: %w", err)
	}
	defer rows.Close()
	out := []Channel{}
	for rows.Next() {
		c, err := s.scanChannel(rows)
		if err != nil {
			return nil, err
		}
		c.Marks = modState(c.Moderation).marks(false)
		out = append(out, c)
	}
	return out, rows.Err()
}

// Follow makes account follow an active channel.
func (s *Service) Follow(ctx context.Context, account, id plaza.ID) error {
	c, err := s.Get(ctx, account, id)
	if err != nil {
		return err
	}
	if c.Status != StatusActive {
		return plaza.Errorf(plaza.EConflict, "this channel is %s: %s", c.Status, c.StatusReason)
	}
	now := s.now()
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO channel_followers (channel_id, account_id, followed_at, read_at) VALUES ($1, $2, $3, $3)
			ON CONFLICT (channel_id, account_id) DO NOTHING`, id, account, now.UnixMicro())
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE channels SET follower_count = follower_count + 1 WHERE id = $1`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("follow: %w", err)
	}
	s.followChanged(ctx, account, id, true)
	return nil
}

// Unfollow stops following.
func (s *Service) Unfollow(ctx context.Context, account, id plaza.ID) error {
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM channel_followers WHERE channel_id = $1 AND account_id = $2`, id, account)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return plaza.Errorf(plaza.ENotFound, "you do not follow this channel")
		}
		_, err = tx.ExecContext(ctx, `UPDATE channels SET follower_count = follower_count - 1 WHERE id = $1`, id)
		return err
	})
	if err != nil {
		return err
	}
	s.followChanged(ctx, account, id, false)
	return nil
}

// followChanged publishes an events.FollowControl on the account's subject. If it
// is lost, devices connected now miss live posts of that channel until
// they reconnect; the feed has them all the same.
func (s *Service) followChanged(ctx context.Context, account, id plaza.ID, follow bool) {
	if s.onFollow != nil {
		s.onFollow(ctx, account, events.FollowControl{Channel: id, Follow: follow})
	}
}

// OnFollowChange registers who carries follow changes to connected
// devices (the realtime hub, over the bus). Call it while wiring.
func (s *Service) OnFollowChange(f func(ctx context.Context, account plaza.ID, c events.FollowControl)) {
	s.onFollow = f
}

// canEdit reports whether account owns or edits the channel.
func (s *Service) canEdit(ctx context.Context, c Channel, account plaza.ID) bool {
	if c.OwnerID == account {
		return true
	}
	for _, e := range c.EditorIDs {
		if e == account {
			return true
		}
	}
	return false
}

// AddEditor lets the owner add an editor, who may then post.
func (s *Service) AddEditor(ctx context.Context, owner, id, editor plaza.ID) (Channel, error) {
	c, err := s.Get(ctx, owner, id)
	if err != nil {
		return Channel{}, err
	}
	if c.OwnerID != owner {
		return Channel{}, plaza.Errorf(plaza.EForbidden, "only the channel's owner can add editors")
	}
	if editor == owner {
		return Channel{}, plaza.Invalid("account_id", "the owner already posts")
	}
	_, err = s.db.Write().ExecContext(ctx, `INSERT INTO channel_editors (channel_id, account_id, added_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		id, editor, s.now().UnixMicro())
	if err != nil {
		return Channel{}, plaza.Errorf(plaza.ENotFound, "account not found")
	}
	return s.Get(ctx, owner, id)
}

// RemoveEditor lets the owner remove an editor.
func (s *Service) RemoveEditor(ctx context.Context, owner, id, editor plaza.ID) error {
	c, err := s.Get(ctx, owner, id)
	if err != nil {
		return err
	}
	if c.OwnerID != owner {
		return plaza.Errorf(plaza.EForbidden, "only the channel's owner can remove editors")
	}
	res, err := s.db.Write().ExecContext(ctx, `DELETE FROM channel_editors WHERE channel_id = $1 AND account_id = $2`, id, editor)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return plaza.Errorf(plaza.ENotFound, "not an editor")
	}
	return nil
}

// SetStatus suspends, closes or reinstates a channel (admins), with a
// reason its followers see on its page. Nobody changes the status of a
// channel they own or edit. While a channel is not active its posts are
// hidden from everyone but its owner and editors.
func (s *Service) SetStatus(ctx context.Context, actor audit.Actor, id plaza.ID, status, reason string) (Channel, error) {
	reason = strings.TrimSpace(reason)
	if status != StatusActive && status != StatusSuspended && status != StatusClosed {
		return Channel{}, plaza.Invalid("status", "must be active, suspended or closed")
	}
	if n := utf8.RuneCountInString(reason); n < 1 || n > 1000 {
		return Channel{}, plaza.Invalid("reason", "must be 1–1000 characters")
	}
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		// Lock first: "closed is final" must hold against a concurrent
		// reinstatement (PostgreSQL).
		if _, err := tx.ExecContext(ctx, `UPDATE channels SET status = status WHERE id = $1`, id); err != nil {
			return err
		}
		var cur string
		if err := tx.QueryRowContext(ctx, `SELECT status FROM channels WHERE id = $1`, id).Scan(&cur); errors.Is(err, sql.ErrNoRows) {
			return plaza.Errorf(plaza.ENotFound, "channel not found")
		} else if err != nil {
			return err
		}
		if cur == StatusClosed {
			return plaza.Errorf(plaza.EConflict, "the channel is closed")
		}
		staff, err := channelStaff(ctx, tx, id)
		if err != nil {
			return err
		}
		if slices.Contains(staff, actor.ID) {
			return account.Refuse(account.ReasonSelf, "you cannot change the status of a channel you own or edit")
		}
		shown := reason
		if status == StatusActive {
			shown = ""
		}
		if _, err := tx.ExecContext(ctx, `UPDATE channels SET status = $1, status_reason = $2 WHERE id = $3`, status, shown, id); err != nil {
			return err
		}
		_, err = s.audit.Append(ctx, tx, audit.Record{Actor: actor, Action: "channel." + map[string]string{StatusActive: "reinstate", StatusSuspended: "suspend", StatusClosed: "close"}[status],
			TargetType: "channel", TargetID: id.String(), Reason: reason})
		return err
	})
	if err != nil {
		return Channel{}, err
	}
	return s.Get(ctx, actor.ID, id)
}

// SetLimits overrides a channel's posting quotas (admins); nil keeps the
// kind's default.
func (s *Service) SetLimits(ctx context.Context, actor audit.Actor, id plaza.ID, daily, monthly *int) (Channel, error) {
	for name, v := range map[string]*int{"daily_post_limit": daily, "monthly_post_limit": monthly} {
		if v != nil && (*v < 0 || *v > 10000) {
			return Channel{}, plaza.Invalid(name, "must be 0–10000")
		}
	}
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		var d, m any
		if daily != nil {
			d = *daily
		}
		if monthly != nil {
			m = *monthly
		}
		res, err := tx.ExecContext(ctx, `UPDATE channels SET daily_post_limit = COALESCE($1, daily_post_limit), monthly_post_limit = COALESCE($2, monthly_post_limit) WHERE id = $3`, d, m, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return plaza.Errorf(plaza.ENotFound, "channel not found")
		}
		_, err = s.audit.Append(ctx, tx, audit.Record{Actor: actor, Action: "channel.limits", TargetType: "channel", TargetID: id.String(),
			Details: map[string]any{"daily_post_limit": d, "monthly_post_limit": m}})
		return err
	})
	if err != nil {
		return Channel{}, err
	}
	return s.Get(ctx, actor.ID, id)
}

// channelStaff returns the owner and editors of a channel, read in q (a
// transaction that holds the row it decides on).
func channelStaff(ctx context.Context, q sqldb.Queryer, id plaza.ID) ([]plaza.ID, error) {
	rows, err := q.QueryContext(ctx, `SELECT owner_id FROM channels WHERE id = $1
		UNION SELECT account_id FROM channel_editors WHERE channel_id = $1`, id)
	if err != nil {
		return nil, fmt.Errorf("channel staff: %w", err)
	}
	defer rows.Close()
	var out []plaza.ID
	for rows.Next() {
		var a plaza.ID
		if err := rows.Scan(&a); err != nil {
			return nil, fmt.Errorf("channel staff: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}
