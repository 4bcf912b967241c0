package events

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/bus"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// TestRunsReadBackEventByEvent appends one batch whose events for an
// account form runs (consecutive message events of one conversation,
// loaded by reference): longer than a row holds, broken by an event with
// data of its own and by another conversation. Each run is stored as
// rows of at most maxRun events, and every cursor, limit and range reads
// back the events one by one, exactly as appended, with a reference that
// no longer loads rendered as {}. Pruning removes whole rows and expires
// the cursors before them.
func TestRunsReadBackEventByEvent(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Microsecond)
		var mu sync.Mutex
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		l := newLog(t, db, bus.NewLocal("t"), LogConfig{Retention: time.Hour, Now: clock, Runs: true})
		accounts(t, db, 1, 2)
		const gone = plaza.ID(1005) // a message erased since: its reference loads nothing
		l.UseRefs([]string{MessageCreated}, func(_ context.Context, _ sqldb.Queryer, _ plaza.ID, ids []plaza.ID) (map[plaza.ID][]byte, error) {
			out := map[plaza.ID][]byte{}
			for _, id := range ids {
				if id != gone {
					out[id] = []byte(`{"m":"` + id.String() + `"}`)
				}
			}
			return out, nil
		})

		// Both members get each message, interleaved as the chat writer
		// appends them.
		type want struct {
			typ, data string
		}
		var evs []Event
		var wants []want // account 1's events, in order
		message := func(conv, ref plaza.ID) {
			for _, a := range []plaza.ID{1, 2} {
				evs = append(evs, Event{Account: a, Type: MessageCreated, Conversation: conv, Ref: ref, Data: []byte(`{"then":1}`)})
			}
			data := `{"m":"` + ref.String() + `"}`
			if ref == gone {
				data = `{}`
			}
			wants = append(wants, want{MessageCreated, data})
		}
		for i := range 40 {
			message(7, plaza.ID(1001+i))
		}
		evs = append(evs, Event{Account: 1, Type: ContactRequest, Ref: 9, Data: []byte(`{"c":1}`), Stored: []byte(`{"c":1}`)})
		wants = append(wants, want{ContactRequest, `{"c":1}`})
		for i := range 3 {
			message(8, plaza.ID(2001+i))
		}
		for i := range 2 {
			message(7, plaza.ID(1041+i))
		}
		pending := appendTx(t, db, l, evs)
		if len(pending) != len(evs) {
			t.Fatalf("Append returned %d events, want %d", len(pending), len(evs))
		}
		// What is published is each event as it was sent, numbered one by
		// one, runs or not.
		var seq int64
		for _, p := range pending {
			if p.Account != 1 {
				continue
			}
			seq++
			f := decode(t, p.Frame)
			want := map[string]string{MessageCreated: `{"then":1}`, ContactRequest: `{"c":1}`}[wants[seq-1].typ]
			if p.Seq != seq || f.Cursor != strconv.FormatInt(seq, 10) || f.Type != wants[seq-1].typ || string(f.Data) != want {
				t.Fatalf("published event %d = seq %d %s %s %s, want %s %s", seq, p.Seq, f.Cursor, f.Type, f.Data, wants[seq-1].typ, want)
			}
		}

		rows, err := db.Read().QueryContext(ctx, `SELECT seq, n FROM events WHERE account_id = 1 ORDER BY seq`)
		if err != nil {
			t.Fatal(err)
		}
		var got [][2]int64
		for rows.Next() {
			var r [2]int64
			if err := rows.Scan(&r[0], &r[1]); err != nil {
				t.Fatal(err)
			}
			got = append(got, r)
		}
		rows.Close()
		if w := [][2]int64{{1, 32}, {33, 8}, {41, 1}, {42, 3}, {45, 2}}; len(got) != len(w) || !equalRows(got, w) {
			t.Fatalf("account 1's rows (seq, n) = %v, want %v", got, w)
		}

		head := int64(len(wants))
		check := func(what string, frames [][]byte, seqs []int64, from int64) {
			t.Helper()
			for i, f := range frames {
				seq := from + int64(i)
				fr := decode(t, f)
				if seqs[i] != seq || fr.Cursor != strconv.FormatInt(seq, 10) || fr.Type != wants[seq-1].typ || string(fr.Data) != wants[seq-1].data {
					t.Fatalf("%s: event %d is seq %d %s %s %s, want seq %d %s %s", what, i, seqs[i], fr.Cursor, fr.Type, fr.Data, seq, wants[seq-1].typ, wants[seq-1].data)
				}
			}
		}
		for since := int64(0); since <= head; since++ {
			for _, limit := range []int{1, 2, 5, 31, 100} {
				page, err := l.Sync(ctx, 1, since, limit)
				if err != nil {
					t.Fatalf("Sync(%d, %d): %v", since, limit, err)
				}
				n := min(int64(limit), head-since)
				what := "Sync(" + strconv.FormatInt(since, 10) + ", " + strconv.Itoa(limit) + ")"
				if int64(len(page.Events)) != n || page.More != (since+n < head) || page.Cursor != since+n {
					t.Fatalf("%s = %d events, more %v, cursor %d; want %d, %v, %d", what, len(page.Events), page.More, page.Cursor, n, since+n < head, since+n)
				}
				frames := make([][]byte, len(page.Events))
				seqs := make([]int64, len(page.Events))
				for i, e := range page.Events {
					frames[i], seqs[i] = e, since+1+int64(i)
				}
				check(what, frames, seqs, since+1)
			}
			for _, upTo := range []int64{since + 1, since + 3, since + 32, head} {
				upTo = min(upTo, head)
				if upTo <= since {
					continue
				}
				frames, seqs, err := l.Replay(ctx, 1, since, upTo)
				what := "Replay(" + strconv.FormatInt(since, 10) + ", " + strconv.FormatInt(upTo, 10) + ")"
				if err != nil || int64(len(frames)) != upTo-since {
					t.Fatalf("%s = %d frames, %v; want %d", what, len(frames), err, upTo-since)
				}
				check(what, frames, seqs, since+1)
			}
		}
		// Account 2 has no event of its own between the messages: one run
		// of conversation 7 up to maxRun, the rest, then 8, then 7.
		if page, err := l.Sync(ctx, 2, 30, 100); err != nil || len(page.Events) != 15 || page.Cursor != 45 {
			t.Fatalf("Sync(2, 30) = %d events, cursor %d, %v; want 15 up to 45", len(page.Events), page.Cursor, err)
		}

		// A later batch continues the numbers in rows of its own.
		appendTx(t, db, l, []Event{{Account: 1, Type: MessageCreated, Conversation: 7, Ref: 1043, Data: []byte(`{}`)}})
		wants = append(wants, want{MessageCreated, `{"m":"1043"}`})
		frames, seqs, err := l.Replay(ctx, 1, 44, head+1)
		if err != nil || len(frames) != 3 {
			t.Fatalf("Replay across batches = %d, %v; want 3", len(frames), err)
		}
		check("Replay across batches", frames, seqs, 45)

		// Pruning deletes rows, so the whole runs of the old batch.
		mu.Lock()
		now = now.Add(2 * time.Hour)
		mu.Unlock()
		appendTx(t, db, l, []Event{{Account: 1, Type: MessageCreated, Conversation: 7, Ref: 1044, Data: []byte(`{}`)}})
		if n, err := l.Prune(ctx); err != nil || n != 5+1+4 {
			t.Fatalf("Prune = %d, %v; want the 10 rows of the first two batches", n, err)
		}
		if _, err := l.Sync(ctx, 1, 35, 10); plaza.ErrorCode(err) != plaza.ECursorExpired {
			t.Errorf("Sync from inside a pruned run = %v, want cursor_expired", err)
		}
		if page, err := l.Sync(ctx, 1, head+1, 10); err != nil || len(page.Events) != 1 || page.Cursor != head+2 {
			t.Errorf("Sync after the pruned rows = %+v, %v; want the one left", page, err)
		}
	})
}

func equalRows(a, b [][2]int64) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestOnlyReferencedEventsRun: events with data of their own, of a type
// not loaded by reference, or without a reference are stored one a row,
// however alike, and so are events of two types taking turns; without
// LogConfig.Runs, so is every event.
func TestOnlyReferencedEventsRun(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		l := newLog(t, db, bus.NewLocal("t"), LogConfig{Retention: time.Hour, Runs: true})
		off := newLog(t, db, bus.NewLocal("t"), LogConfig{Retention: time.Hour})
		for _, l := range []*Log{l, off} {
			l.UseRefs([]string{MessageCreated, MessageModerated}, loadNothing)
		}
		accounts(t, db, 3, 4)
		var alike []Event
		for i := range 5 {
			alike = append(alike, Event{Account: 4, Type: MessageCreated, Conversation: 7, Ref: plaza.ID(60 + i), Data: []byte(`{}`)})
		}
		appendTx(t, db, off, alike)
		var evs []Event
		for i := range 3 { // data of its own
			evs = append(evs, Event{Account: 3, Type: MessageCreated, Conversation: 7, Ref: plaza.ID(50 + i), Data: []byte(`{}`), Stored: []byte(`{"s":1}`)})
		}
		for i := range 3 { // a type not loaded by reference
			evs = append(evs, Event{Account: 3, Type: MessageRecalled, Conversation: 7, Ref: plaza.ID(50 + i), Data: []byte(`{}`)})
		}
		for range 3 { // no reference
			evs = append(evs, Event{Account: 3, Type: MessageCreated, Conversation: 7, Data: []byte(`{}`)})
		}
		for i := range 4 { // two types, taking turns
			evs = append(evs, Event{Account: 3, Type: []string{MessageCreated, MessageModerated}[i%2], Conversation: 7, Ref: plaza.ID(70 + i), Data: []byte(`{}`)})
		}
		appendTx(t, db, l, evs)
		var rows, events int64
		if err := db.Read().QueryRowContext(ctx, `SELECT COUNT(*), SUM(n) FROM events WHERE account_id = 3`).Scan(&rows, &events); err != nil {
			t.Fatal(err)
		}
		if rows != 13 || events != 13 {
			t.Errorf("%d rows holding %d events, want 13 rows of one event each", rows, events)
		}
		if err := db.Read().QueryRowContext(ctx, `SELECT COUNT(*), SUM(n) FROM events WHERE account_id = 4`).Scan(&rows, &events); err != nil {
			t.Fatal(err)
		}
		if rows != 5 || events != 5 {
			t.Errorf("without Runs: %d rows holding %d events, want 5 rows of one event each", rows, events)
		}
	})
}

// TestRunsStayInTheirAccount appends, in one batch, the events of two
// accounts whose numbers follow on from each other (account 2's log
// starts where account 1's batch ends): each account's events get rows of
// their own.
func TestRunsStayInTheirAccount(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		l := newLog(t, db, bus.NewLocal("t"), LogConfig{Retention: time.Hour, Runs: true})
		l.UseRefs([]string{MessageCreated}, loadNothing)
		accounts(t, db, 1, 2)
		var first []Event
		for range 3 {
			first = append(first, Event{Account: 2, Type: ContactRequest, Data: []byte(`{}`), Stored: []byte(`{}`)})
		}
		appendTx(t, db, l, first) // account 2's head is 3
		var evs []Event
		for i := range 3 {
			evs = append(evs, Event{Account: 1, Type: MessageCreated, Conversation: 7, Ref: plaza.ID(80 + i), Data: []byte(`{}`)})
		}
		evs = append(evs, Event{Account: 2, Type: MessageCreated, Conversation: 7, Ref: 83, Data: []byte(`{}`)})
		appendTx(t, db, l, evs) // account 1: 1–3, account 2: 4
		for _, c := range []struct {
			account    plaza.ID
			seq, n     int64
			rows, sumN int64
		}{{1, 1, 3, 1, 3}, {2, 4, 1, 4, 4}} {
			var rows, sumN, n int64
			if err := db.Read().QueryRowContext(ctx, `SELECT COUNT(*), SUM(n) FROM events WHERE account_id = $1`, c.account).Scan(&rows, &sumN); err != nil {
				t.Fatal(err)
			}
			if err := db.Read().QueryRowContext(ctx, `SELECT n FROM events WHERE account_id = $1 AND seq = $2`, c.account, c.seq).Scan(&n); err != nil {
				t.Fatalf("account %d has no row at %d: %v", c.account, c.seq, err)
			}
			if rows != c.rows || sumN != c.sumN || n != c.n {
				t.Errorf("account %d: %d rows holding %d events, %d at seq %d; want %d, %d, %d", c.account, rows, sumN, n, c.seq, c.rows, c.sumN, c.n)
			}
		}
	})
}

// TestDamagedRunFailsTheRead: a run's row whose references do not parse,
// do not match its count, or whose type is not loaded by reference makes
// the account's sync fail rather than skip or invent events.
func TestDamagedRunFailsTheRead(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		l := newLog(t, db, bus.NewLocal("t"), LogConfig{Retention: time.Hour, Runs: true})
		l.UseRefs([]string{MessageCreated}, loadNothing)
		accounts(t, db, 1)
		var evs []Event
		for i := range 3 {
			evs = append(evs, Event{Account: 1, Type: MessageCreated, Conversation: 7, Ref: plaza.ID(90 + i), Data: []byte(`{}`)})
		}
		appendTx(t, db, l, evs)
		if page, err := l.Sync(ctx, 1, 0, 10); err != nil || len(page.Events) != 3 {
			t.Fatalf("Sync of the intact run = %d events, %v", len(page.Events), err)
		}
		for _, damage := range []string{
			`UPDATE events SET data = '90,x,92'`,
			`UPDATE events SET data = '90,91,'`,
			`UPDATE events SET data = '90,-91,92'`,
			`UPDATE events SET data = '90,91'`,
			`UPDATE events SET type = 'contact.request'`,
		} {
			if _, err := db.Write().ExecContext(ctx, `UPDATE events SET data = '90,91,92', type = 'message.created'`); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Write().ExecContext(ctx, damage); err != nil {
				t.Fatal(err)
			}
			if page, err := l.Sync(ctx, 1, 1, 10); err == nil {
				t.Errorf("after %s: Sync = %d events, want an error", damage, len(page.Events))
			}
		}
	})
}

// loadNothing is a RefLoader for which no reference loads.
func loadNothing(context.Context, sqldb.Queryer, plaza.ID, []plaza.ID) (map[plaza.ID][]byte, error) {
	return nil, nil
}
