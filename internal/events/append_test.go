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

// TestAppendStoresEveryColumn checks each column of the stored rows,
// including the optional ones left NULL and the default data of events
// stored by reference, on both engines' insert statements.
func TestAppendStoresEveryColumn(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		now := time.Date(2031, 5, 6, 7, 8, 9, 123456000, time.UTC)
		l := newLog(t, db, bus.NewLocal("t"), LogConfig{Retention: time.Hour, Now: func() time.Time { return now }})
		accounts(t, db, 5, 6)
		type row struct {
			account, seq int64
			typ          string
			conv, ref    sql.NullInt64
			data         string
			created      int64
		}
		null := sql.NullInt64{}
		id := func(v int64) sql.NullInt64 { return sql.NullInt64{Int64: v, Valid: true} }
		appendTx(t, db, l, []Event{
			{Account: 6, Type: MessageCreated, Conversation: 40, Ref: 41, Data: []byte(`{"x":1}`)},
			{Account: 5, Type: ConversationRead, Conversation: 42, Data: []byte(`{"y":2}`), Stored: []byte(`{"y":2}`)},
			{Account: 6, Type: ContactRequest, Ref: 43, Data: []byte(`{}`), Stored: []byte(`{"z":3}`)},
		})
		want := []row{
			{5, 1, ConversationRead, id(42), null, `{"y":2}`, now.UnixMicro()},
			{6, 1, MessageCreated, id(40), id(41), `{}`, now.UnixMicro()},
			{6, 2, ContactRequest, null, id(43), `{"z":3}`, now.UnixMicro()},
		}
		rows, err := db.Read().QueryContext(ctx, `SELECT account_id, seq, type, conversation_id, ref_id, data, created_at FROM events ORDER BY account_id, seq`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var got []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.account, &r.seq, &r.typ, &r.conv, &r.ref, &r.data, &r.created); err != nil {
				t.Fatal(err)
			}
			got = append(got, r)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("got %d rows, want %d", len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("row %d: got %+v, want %+v", i, got[i], want[i])
			}
		}
	})
}

// TestHeadsLockInAscendingOrderWhateverTheInput bumps the heads of the
// same accounts from several transactions at once, each handing them in
// its own shuffled order. Append sorts the accounts, but on PostgreSQL
// the statement orders them itself as well, so the lock order that keeps
// writers on several nodes from deadlocking does not rest on every caller.
func TestHeadsLockInAscendingOrderWhateverTheInput(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		if db.Engine != sqldb.Postgres {
			t.Skip("SQLite has one writer at a time: its statements take no row locks")
		}
		ctx := context.Background()
		l := newLog(t, db, bus.NewLocal("t"), LogConfig{Retention: time.Hour})
		ids := make([]plaza.ID, 100)
		per := make(map[plaza.ID][]int, len(ids))
		for i := range ids {
			ids[i] = plaza.ID(2000 + i)
			per[ids[i]] = []int{0}
		}
		accounts(t, db, ids...)
		const workers, rounds = 4, 10
		var wg sync.WaitGroup
		errs := make(chan error, workers*rounds)
		for w := 0; w < workers; w++ {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(w), 11))
				for r := 0; r < rounds; r++ {
					order := append([]plaza.ID(nil), ids...)
					rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
					errs <- db.InTx(ctx, func(tx *sql.Tx) error {
						_, err := l.bumpHeads(ctx, tx, order, per)
						return err
					})
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("concurrent bumpHeads: %v", err)
			}
		}
		for _, a := range ids {
			if h, err := l.Head(ctx, a); err != nil || h != workers*rounds {
				t.Fatalf("Head(%s) = %d, %v; want %d", a, h, err, workers*rounds)
			}
		}
	})
}

// TestHeadsOfManyAccounts reads the heads of more accounts than one query
// takes: each account's head is its own, and accounts without events are
// left out.
func TestHeadsOfManyAccounts(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		l := newLog(t, db, bus.NewLocal("t"), LogConfig{Retention: time.Hour})
		ids := make([]plaza.ID, 1100)
		for i := range ids {
			ids[i] = plaza.ID(5000 + i)
		}
		accounts(t, db, ids...)
		var evs []Event
		for i, a := range ids {
			for range i % 3 { // 0, 1 or 2 events
				evs = append(evs, Event{Account: a, Type: ConversationRead, Data: []byte(`{}`), Stored: []byte(`{}`)})
			}
		}
		appendTx(t, db, l, evs)
		heads, err := l.Heads(ctx, ids)
		if err != nil {
			t.Fatal(err)
		}
		for i, a := range ids {
			head, ok := heads[a]
			if want := int64(i % 3); (want == 0 && ok) || (want > 0 && head != want) {
				t.Fatalf("heads[%s] = %d (%v), want %d", a, head, ok, want)
			}
		}
		if want := len(ids) * 2 / 3; len(heads) < want-1 || len(heads) > want+1 {
			t.Errorf("got %d heads, want about %d", len(heads), want)
		}
	})
}
