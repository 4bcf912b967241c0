package account_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// BenchmarkStreamsStanding compares the two ways to re-check a node's open
// streams at their pings: one session look-up per stream (alone), and one
// look-up for up to 256 streams (together). Reported per stream:
//
//	go test -run '^$' -bench StreamsStanding -count 3 ./internal/account/
func BenchmarkStreamsStanding(b *testing.B) {
	db := sqldbtest.Open(b, sqldb.SQLite)
	svc := newService(b, db)
	refs := make([]account.StreamRef, 256)
	for i := range refs {
		a, tok := register(b, svc, fmt.Sprintf("reader%d", i))
		refs[i] = account.StreamRef{Account: a.ID, Session: authenticate(b, svc, tok).SessionID}
	}
	ctx := context.Background()
	b.Run("alone", func(b *testing.B) {
		for b.Loop() {
			for _, r := range refs {
				auth, err := svc.SessionStanding(ctx, r.Account, r.Session)
				if err == nil {
					err = auth.Standing(true)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(refs)), "µs/stream")
	})
	b.Run("together", func(b *testing.B) {
		for b.Loop() {
			errs, err := svc.StreamsStanding(ctx, refs)
			if err != nil {
				b.Fatal(err)
			}
			for _, err := range errs {
				if err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(refs)), "µs/stream")
	})
}
