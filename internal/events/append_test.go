package events

import (
	"context"
	"database/sql"
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/bus"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// TestAppendAcrossManyStatements appends batches with more accounts and
// more events than one statement holds, accounts shuffled and events
// interleaved: every account's cursors stay gap-free and in the batch's
// order, continue in the next batch, and the stored rows are the ones
// returned.
func TestAppendAcrossManyStatements(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		l := newLog(t, db, bus.NewLocal("t"), LogConfig{Retention: time.Hour})
		rng := rand.New(rand.NewPCG(1, 2))
		ids := make([]plaza.ID, 150)
		for i := range ids {
			ids[i] = plaza.ID(100 + i)
		}
		accounts(t, db, ids...)
		want := map[plaza.ID][]string{} // each account's events' data, in order
		for round, size := range []int{300, 65, 129, 1} {
			var evs []Event
			for i := 0; i < size; i++ {
				a := ids[rng.IntN(len(ids))]
				d := `{"round":` + strconv.Itoa(round) + `,"i":` + strconv.Itoa(i) + `}`
				evs = append(evs, Event{Account: a, Type: ConversationRead, Data: []byte(d), Stored: []byte(d)})
				want[a] = append(want[a], d)
			}
			got := appendTx(t, db, l, evs)
			if len(got) != size {
				t.Fatalf("round %d: Append returned %d events, want %d", round, len(got), size)
			}
			seen := map[plaza.ID]int{}
			for _, p := range got {
				seen[p.Account]++
				n := int64(len(want[p.Account]) - countIn(evs, p.Account) + seen[p.Account])
				if p.Seq != n {
					t.Fatalf("round %d: account %s got seq %d, want %d", round, p.Account, p.Seq, n)
				}
				if f := decode(t, p.Frame); string(f.Data) != want[p.Account][n-1] {
					t.Fatalf("round %d: account %s seq %d carries %s, want %s", round, p.Account, n, f.Data, want[p.Account][n-1])
				}
			}
		}
		for _, a := range ids {
			head, err := l.Head(ctx, a)
			if err != nil || head != int64(len(want[a])) {
				t.Fatalf("Head(%s) = %d, %v; want %d", a, head, err, len(want[a]))
			}
			if head == 0 {
				continue
			}
			frames, seqs, err := l.Replay(ctx, a, 0, head)
			if err != nil || len(frames) != len(want[a]) {
				t.Fatalf("Replay(%s) = %d frames, %v; want %d", a, len(frames), err, len(want[a]))
			}
			for i, f := range frames {
				if seqs[i] != int64(i+1) || string(decode(t, f).Data) != want[a][i] {
					t.Fatalf("account %s: stored event %d is seq %d %s, want seq %d %s", a, i, seqs[i], decode(t, f).Data, i+1, want[a][i])
				}
			}
		}
	})
}

func countIn(evs []Event, a plaza.ID) int {
	n := 0
	for _, e := range evs {
		if e.Account == a {
			n++
		}
	}
	return n
}

// TestConcurrentAppendsShareHeads appends, from several transactions at
// once, events for the same accounts given in different orders. On
// PostgreSQL each transaction locks the heads it bumps, so heads locked
// out of order would deadlock; Append bumps them in ascending order, in
// statements of many accounts. Every account ends with gap-free cursors.
func TestConcurrentAppendsShareHeads(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		l := newLog(t, db, bus.NewLocal("t"), LogConfig{Retention: time.Hour})
		ids := make([]plaza.ID, 100)
		for i := range ids {
			ids[i] = plaza.ID(1000 + i)
		}
		accounts(t, db, ids...)
		const workers, rounds = 4, 10
		var wg sync.WaitGroup
		errs := make(chan error, workers*rounds)
		for w := 0; w < workers; w++ {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(w), 7))
				for r := 0; r < rounds; r++ {
					order := append([]plaza.ID(nil), ids...)
					rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
					errs <- db.InTx(ctx, func(tx *sql.Tx) error {
						_, err := l.Append(ctx, tx, ForEach(order, Event{Type: ConversationRead, Data: json.RawMessage(`{}`)}))
						return err
					})
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("concurrent Append: %v", err)
			}
		}
		for _, a := range ids {
			_, seqs, err := l.Replay(ctx, a, 0, workers*rounds)
			if err != nil || len(seqs) != workers*rounds {
				t.Fatalf("Replay(%s) = %d events, %v; want %d", a, len(seqs), err, workers*rounds)
			}
			for i, s := range seqs {
				if s != int64(i+1) {
					t.Fatalf("account %s: event %d has seq %d, want %d", a, i, s, i+1)
				}
			}
		}
	})
}
