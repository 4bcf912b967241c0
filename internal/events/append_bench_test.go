package events

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/bus"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// BenchmarkAppend measures the statements of one Append of a chat batch's
// events (two per message, one for each member of a direct conversation)
// on each engine. Each iteration rolls its transaction back, so what is
// measured is the statements, not the commit's fsync.
func BenchmarkAppend(b *testing.B) {
	for _, e := range sqldbtest.Engines() {
		for _, msgs := range []int{1, 31, 100} {
			b.Run(fmt.Sprintf("%s/messages=%d", e, msgs), func(b *testing.B) {
				db := sqldbtest.Open(b, e)
				l, err := NewLog(context.Background(), db, bus.NewLocal("b"), LogConfig{Retention: time.Hour}, slog.New(slog.NewTextHandler(io.Discard, nil)))
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(l.Close)
				ids := make([]plaza.ID, 2*msgs)
				for i := range ids {
					ids[i] = plaza.ID(1000 + i)
				}
				benchAccounts(b, db, ids)
				evs := make([]Event, 0, 2*msgs)
				for i := 0; i < msgs; i++ {
					for _, a := range ids[2*i : 2*i+2] {
						evs = append(evs, Event{Account: a, Type: MessageCreated, Conversation: plaza.ID(i + 1), Ref: plaza.ID(5000 + i), Data: []byte(`{}`)})
					}
				}
				ctx := context.Background()
				// Heads exist, as they do for active accounts: the bump
				// updates rows rather than inserting them.
				if err := db.InTx(ctx, func(tx *sql.Tx) error {
					_, err := l.Append(ctx, tx, evs)
					return err
				}); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					err := db.InTx(ctx, func(tx *sql.Tx) error {
						if _, err := l.Append(ctx, tx, evs); err != nil {
							return err
						}
						return errRollback
					})
					if err != errRollback {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(evs))/1000, "µs/event")
			})
		}
	}
}

func benchAccounts(b *testing.B, db *sqldb.DB, ids []plaza.ID) {
	b.Helper()
	for _, id := range ids {
		if _, err := db.Write().ExecContext(context.Background(), `INSERT INTO accounts (id, handle, display_name, password_hash, birth_date, created_at, updated_at)
			VALUES ($1, $2, '', '', '2000-01-01', 0, 0)`, id, "u"+id.String()); err != nil {
			b.Fatal(err)
		}
	}
}

// errRollback makes InTx roll the benchmark's transaction back.
var errRollback = errors.New("roll back")
