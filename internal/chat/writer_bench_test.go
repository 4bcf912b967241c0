package chat

import (
	"context"
	"database/sql"
	"flag"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/events"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// BenchmarkWriterAlone drives the single writer the way the maximum-rate
// run of `plaza bench` does (1,000 accounts in 500 direct conversations,
// thousands of sends queued at once, so that batches fill to MaxBatch),
// with nothing else in the process: no streams, no frames, no load
// generator, no checks before the queue. It reports the writer's own
// ceiling on this machine (msg/s) and the process's CPU per message:
// with the background checkpointer, the SQLite work of a stored message
// and the writer's Go around it.
//
// burst is how many sends each device queues in a row, the devices of a
// conversation one after the other: 1 gives a batch one send from each of
// 512 devices, two to each of 256 conversations; 8 gives it 8 from each
// of 64 devices, 16 to each of 32 conversations, as when a device's 8 in
// flight are acked together and it sends 8 more. With /runs the sync log
// stores runs (Config.SyncLogRuns). Batches are of benchBatch sends (512,
// the writer's bound before it was 4,096, so that these figures compare
// with the earlier ones), or with /batch=4096 a round's 4,096 sends are
// one batch, as under the default MaxBatch at the maximum rate: burst 1
// then puts about four sends of every device, eight to each of the 500
// conversations, in a batch.
//
// The floor sub-benchmarks store the same batches (burst 8) with no
// writer around them, to split the writer's cost by what it stores:
//
//	floor=rows          the message rows alone, in a table without any index
//	floor=messages      the rows into messages, with its indexes
//	floor=messages+log  and two sync-log events per message (events.Log.Append)
//
// and floor=messages+log with the sync log storing runs (/runs), or with
// one index dropped, to price it: drop=messages_client (the client_id
// look-up's, which idempotency needs) and drop=events_created (the sync
// log's, for pruning by age).
//
// None looks up client_ids, numbers through conversations or moves read
// positions: what the writer costs above floor=messages+log is those and
// its Go.
func BenchmarkWriterAlone(b *testing.B) {
	for _, runs := range []bool{false, true} {
		for _, c := range []struct{ burst, batch int }{{1, benchBatch}, {8, benchBatch}, {1, benchInFlight}, {8, benchInFlight}} {
			name := "burst=" + strconv.Itoa(c.burst)
			if c.batch != benchBatch {
				name += "/batch=" + strconv.Itoa(c.batch)
			}
			if runs {
				name += "/runs"
			}
			b.Run(name, func(b *testing.B) {
				w := newWriterBench(b, c.burst, runs, c.batch)
				w.measure(b, w.viaWriter)
			})
		}
	}
	for _, floor := range []string{"rows", "messages", "messages+log"} {
		b.Run("floor="+floor, func(b *testing.B) {
			w := newWriterBench(b, 8, false, benchBatch)
			w.floor(b, floor)
		})
	}
	b.Run("floor=messages+log/runs", func(b *testing.B) {
		w := newWriterBench(b, 8, true, benchBatch)
		w.floor(b, "messages+log")
	})
	for _, index := range []string{"messages_client", "events_created"} {
		b.Run("floor=messages+log/drop="+index, func(b *testing.B) {
			w := newWriterBench(b, 8, false, benchBatch)
			if _, err := w.e.db.Write().ExecContext(context.Background(), `DROP INDEX `+index); err != nil {
				b.Fatal(err)
			}
			w.floor(b, "messages+log")
		})
	}
}

const (
	benchAccounts = 1000
	benchInFlight = 4096 // sends a round
	benchBatch    = 512  // sends a commit, unless a sub-benchmark says otherwise
	// About benchWarm messages (whole rounds) go in through the writer
	// first, so that every account's and conversation's newest index
	// entries sit on leaves of their own, as in a long run: a fresh
	// database puts many of them on one page and understates the pages a
	// commit writes.
	benchWarm = 100_000
)

// benchAge is how many more messages than benchWarm go in first (in
// whole rounds of benchInFlight), for the storage of a database that has
// been in use: -writer-age 1000000 makes a file of about 270 MiB, where
// every account's and conversation's index entries span many leaves and
// a checkpoint's pages lie scattered through the file
// (docs/benchmarks.md, "An aged database"). The log is then copied and
// emptied, so that the run starts with none of the filling's checkpoint
// work left; without the flag the log is left as the filling leaves it,
// as it always was.
var benchAge = flag.Int("writer-age", 0, "messages stored before the writer benchmarks measure, in rounds of 4,096")

type writerBench struct {
	e     *env
	burst int
	pairs []benchPair
	n     int // sends so far
}

type benchPair struct {
	conv    plaza.ID
	from    [2]plaza.ID
	version int64
	seq     int64 // the floors' own numbering
}

func newWriterBench(b *testing.B, burst int, runs bool, batch int) *writerBench {
	e := newEnv(b, sqldbtest.Open(b, sqldb.SQLite), withChat(func(c *Config) { c.SyncLogRuns, c.MaxBatch = runs, batch }))
	w := &writerBench{e: e, burst: burst}
	ids := w.e.accountsN(b, "w", benchAccounts)
	w.pairs = make([]benchPair, benchAccounts/2)
	for i := range w.pairs {
		a, c := ids[2*i], ids[2*i+1]
		conv := w.e.direct(b, a, c)
		_, version, err := w.e.svc.mayPost(context.Background(), a, conv.ID)
		if err != nil {
			b.Fatalf("may post: %v", err)
		}
		w.pairs[i] = benchPair{conv: conv.ID, from: [2]plaza.ID{a, c}, version: version}
	}
	if *benchAge < 0 {
		b.Fatalf("-writer-age %d: want 0 or more messages", *benchAge)
	}
	for range (benchWarm + *benchAge) / benchInFlight {
		w.viaWriter(b)
	}
	if *benchAge > 0 {
		sqldbtest.EmptyLog(b, e.db)
	}
	return w
}

// next calls fn for each send of a round, burst sends from each device
// in turn; device d is pairs[d/2].from[d%2].
func (w *writerBench) next(fn func(p *benchPair, from plaza.ID, in SendInput)) {
	for k := 0; k < benchInFlight; {
		d := (w.n / w.burst) % benchAccounts
		p := &w.pairs[d/2]
		for range w.burst {
			w.n++
			k++
			fn(p, p.from[d%2], SendInput{ConversationID: p.conv, Kind: KindText,
				ClientID: "b" + strconv.Itoa(d) + "-" + strconv.Itoa(w.n), Text: strconv.FormatInt(time.Now().UnixNano(), 10)})
		}
	}
}

// viaWriter queues a round of sends with the writer and waits for them.
func (w *writerBench) viaWriter(b *testing.B) {
	ctx := context.Background()
	qs := make([]*QueuedSend, 0, benchInFlight)
	w.next(func(p *benchPair, from plaza.ID, in SendInput) {
		q, err := w.e.svc.w.submit(ctx, from, in, Direct, p.version, time.Now())
		if err != nil {
			b.Fatalf("submit: %v", err)
		}
		qs = append(qs, q)
	})
	for _, q := range qs {
		if _, created, err := q.Wait(); err != nil || !created {
			b.Fatalf("send: created %v, %v", created, err)
		}
	}
}

// floor measures storing rounds of messages with the writer's own
// statements but none of its work around them (see BenchmarkWriterAlone).
func (w *writerBench) floor(b *testing.B, what string) {
	ctx := context.Background()
	db, st := w.e.db, w.e.svc.w.st
	insert := st.insertMessage
	if what == "rows" {
		if _, err := db.Write().ExecContext(ctx, `CREATE TABLE floor_rows AS SELECT * FROM messages WHERE 0`); err != nil {
			b.Fatal(err)
		}
		var err error
		insert, err = db.PrepareLadder(ctx, maxRows, messageRow(db.Param), ", ", func(rows string) string {
			return insertMessages("floor_rows") + rows
		})
		if err != nil {
			b.Fatal(err)
		}
		defer insert.Close()
	}
	for i := range w.pairs {
		p := &w.pairs[i]
		if err := db.Read().QueryRowContext(ctx, `SELECT last_seq FROM conversations WHERE id = $1`, p.conv).Scan(&p.seq); err != nil {
			b.Fatal(err)
		}
	}
	round := func(b *testing.B) {
		var msgs []Message
		var members [][2]plaza.ID // of msgs[k]
		w.next(func(p *benchPair, from plaza.ID, in SendInput) {
			p.seq++
			msgs = append(msgs, Message{ID: plaza.NewID(), ConversationID: p.conv, Seq: p.seq, SenderID: from,
				ClientID: in.ClientID, Kind: in.Kind, Text: in.Text})
			members = append(members, p.from)
		})
		for lo := 0; lo < len(msgs); lo += w.e.svc.cfg.MaxBatch {
			hi := min(lo+w.e.svc.cfg.MaxBatch, len(msgs))
			batch := msgs[lo:hi]
			err := db.InTx(ctx, func(tx *sql.Tx) error {
				now := time.Now().UnixMicro()
				args := make([]any, 0, 12*maxRows)
				err := insert.Each(len(batch), func(s *sql.Stmt, lo, hi int) error {
					args = args[:0]
					for _, m := range batch[lo:hi] {
						args = append(args, m.ConversationID, m.Seq, m.ID, m.SenderID, m.ClientID,
							m.Kind, m.Text, nil, nil, mentionsJSON(nil), false, now)
					}
					_, err := tx.StmtContext(ctx, s).ExecContext(ctx, args...)
					return err
				})
				if err != nil || what == "rows" || what == "messages" {
					return err
				}
				evs := make([]events.Event, 0, 2*len(batch))
				for k, m := range batch {
					for _, a := range members[lo+k] {
						evs = append(evs, events.Event{Account: a, Type: events.MessageCreated, Conversation: m.ConversationID, Ref: m.ID, Data: []byte("{}")})
					}
				}
				_, err = w.e.svc.evlog.Append(ctx, tx, evs)
				return err
			})
			if err != nil {
				b.Fatalf("store: %v", err)
			}
		}
	}
	w.measure(b, round)
}

// measure runs round as the benchmark's loop and reports msg/s, the
// process's CPU per message and its write system calls per message.
func (w *writerBench) measure(b *testing.B, round func(*testing.B)) {
	cpu0, writes0 := processCPU(), mustWriteCalls(b)
	start := time.Now()
	for b.Loop() {
		round(b)
	}
	msgs := float64(b.N * benchInFlight)
	b.ReportMetric(msgs/time.Since(start).Seconds(), "msg/s")
	b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/msgs, "cpu-µs/msg")
	b.ReportMetric(float64(mustWriteCalls(b)-writes0)/msgs, "writes/msg")
}

// processCPU is the CPU time this process has used, user and system.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func mustWriteCalls(b *testing.B) int64 {
	n, ok := writeCalls()
	if !ok {
		b.Skip("no /proc/self/io to count write calls")
	}
	return n
}
