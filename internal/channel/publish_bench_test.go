package channel_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/audit"
	"github.com/plaza-im/plaza/internal/bus"
	"github.com/plaza-im/plaza/internal/channel"
	"github.com/plaza-im/plaza/internal/identity"
	"github.com/plaza-im/plaza/internal/sms"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// benchAccounts inserts n bare accounts directly (no password hashing, no
// sessions): the fastest way to a million followers.
func benchAccounts(tb testing.TB, db *sqldb.DB, n int) []plaza.ID {
	tb.Helper()
	ids := make([]plaza.ID, n)
	now := time.Now().UnixMicro()
	const chunk = 400
	for start := 0; start < n; start += chunk {
		end := min(n, start+chunk)
		err := db.InTx(context.Background(), func(tx *sql.Tx) error {
			vals := make([]string, 0, end-start)
			args := make([]any, 0, 2*(end-start))
			for i := start; i < end; i++ {
				ids[i] = plaza.NewID()
				k := len(args)
				vals = append(vals, fmt.Sprintf("($%d, $%d, 'f', 'x', '1990-01-01', 'active', '', %d, %d)", k+1, k+2, now, now))
				args = append(args, ids[i], fmt.Sprintf("f%d", ids[i]))
			}
			_, err := tx.ExecContext(context.Background(), `INSERT INTO accounts (id, handle, display_name, password_hash, birth_date, status, status_reason, created_at, updated_at) VALUES `+
				strings.Join(vals, ", "), args...)
			return err
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	return ids
}

// benchChannel returns a service and an open-category channel with
// followers followers, its owner, and a subscriber count on its subject.
func benchChannel(tb testing.TB, followers int) (*channel.Service, plaza.ID, plaza.ID) {
	tb.Helper()
	ctx := context.Background()
	db := sqldbtest.Open(tb, sqldb.SQLite)
	keys, _, err := identity.LoadKeyring(filepath.Join(tb.TempDir(), "key"), true)
	if err != nil {
		tb.Fatal(err)
	}
	outbox, _ := sms.NewOutbox(filepath.Join(tb.TempDir(), "sms.jsonl"))
	ic := identity.DefaultConfig()
	ic.Policy = identity.Policy{}
	ids := identity.NewService(db, keys, outbox, ic)
	b := bus.NewLocal("bench")
	tb.Cleanup(func() { b.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := channel.NewService(db, b, ids, nil, channel.DefaultConfig(), log)
	owner := benchAccounts(tb, db, 1)[0]
	app, err := svc.Apply(ctx, owner, channel.ApplicationInput{Handle: "news", Name: "News", Kind: channel.ServiceKind})
	if err != nil {
		tb.Fatal(err)
	}
	app, err = svc.DecideApplication(ctx, audit.CLI, app.ID, true, "")
	if err != nil {
		tb.Fatal(err)
	}
	ch := *app.ChannelID
	limit := 10000
	if _, err := svc.SetLimits(ctx, audit.CLI, ch, &limit, &limit); err != nil {
		tb.Fatal(err)
	}
	if _, err := svc.SetCategory(ctx, audit.CLI, "news", channel.PolicyOpen, ""); err != nil {
		tb.Fatal(err)
	}
	if err := svc.FollowBulk(ctx, ch, benchAccounts(tb, db, followers)); err != nil {
		tb.Fatal(err)
	}
	return svc, ch, owner
}

// BenchmarkPublishPost measures publishing one post on a channel with a
// thousand and with a million followers: the cost must not grow with the
// followers, since nothing is written per follower.
//
//	go test -run XXX -bench PublishPost -benchtime 100x -count 3 ./internal/channel/
func BenchmarkPublishPost(b *testing.B) {
	for _, n := range []int{1_000, 1_000_000} {
		b.Run(fmt.Sprintf("followers=%d", n), func(b *testing.B) {
			svc, ch, owner := benchChannel(b, n)
			ctx := context.Background()
			b.ResetTimer()
			i := 0
			for b.Loop() {
				i++
				if _, err := svc.CreatePost(ctx, owner, ch, channel.PostInput{Title: fmt.Sprintf("Post %d", i), Body: "Hello **followers**.", Category: "news"}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
