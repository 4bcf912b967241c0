package chat

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/events"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// poisonMessages makes the store itself refuse any message whose text is
// "poison", below every check in Go: the kind of failure (a value the
// database cannot hold) that used to fail every send of its batch.
func poisonMessages(tb testing.TB, db *sqldb.DB) {
	tb.Helper()
	stmts := []string{`CREATE TRIGGER poison BEFORE INSERT ON messages WHEN NEW.text = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned'); END`}
	if db.Engine == sqldb.Postgres {
		stmts = []string{
			`CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.text = 'poison' THEN RAISE EXCEPTION 'poisoned'; END IF; RETURN NEW; END $$`,
			`CREATE TRIGGER poison BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION poison()`,
		}
	}
	err := db.InTx(context.Background(), func(tx *sql.Tx) error {
		for _, s := range stmts {
			if _, err := tx.Exec(s); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("install poison trigger: %v", err)
	}
}

// TestHostilePoisonedSendIsolated: one client keeps queueing sends the
// store refuses while another sends 200 messages at once in another
// conversation; every one of the 200 must be stored and acknowledged,
// every poisoned one must fail, and nothing poisoned is stored.
func TestHostilePoisonedSendIsolated(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		poisonMessages(t, db)
		a, b, c, d := e.account(t, "alice"), e.account(t, "bob"), e.account(t, "carol"), e.account(t, "dave")
		good := e.group(t, a, "good", b)
		bad := e.group(t, c, "bad", d)

		var (
			wg       sync.WaitGroup
			done     = make(chan struct{})
			poisoned atomic.Int64
			failures = make(chan error, 200)
		)
		// The poisoner goes straight to the writer, past Send's checks,
		// and keeps a poisoned send in nearly every batch.
		var pw sync.WaitGroup
		for g := range 4 {
			pw.Go(func() {
				for i := 0; ; i++ {
					select {
					case <-done:
						return
					default:
					}
					text := "poison"
					if db.Engine == sqldb.Postgres && i%2 == 1 {
						text = "a\x00b" // PostgreSQL cannot store a NUL
					}
					q, err := e.svc.w.submit(ctx, c, SendInput{ConversationID: bad.ID, ClientID: fmt.Sprintf("p%d-%d", g, i), Kind: KindText, Text: text}, Group, 0, time.Now())
					if err == nil {
						_, _, err = q.Wait()
					}
					if err == nil {
						t.Errorf("a poisoned send was stored")
						return
					}
					poisoned.Add(1)
				}
			})
		}
		for i := range 200 {
			wg.Go(func() {
				_, _, err := e.svc.Send(ctx, a, SendInput{ConversationID: good.ID, ClientID: fmt.Sprint("g", i), Kind: KindText, Text: fmt.Sprint("hello ", i)})
				if err != nil {
					failures <- err
				}
			})
		}
		wg.Wait()
		close(done)
		pw.Wait()
		close(failures)
		n := 0
		for err := range failures {
			if n++; n <= 3 {
				t.Errorf("an innocent send failed: %v", err)
			}
		}
		if n > 0 {
			t.Fatalf("got %d of 200 innocent sends failed, want 0 (%d poisoned sends tried)", n, poisoned.Load())
		}
		if poisoned.Load() == 0 {
			t.Fatal("no poisoned send was tried")
		}
		wantSeqs(t, e.history(t, a, good.ID), 1, 200)
		if h := e.history(t, c, bad.ID); len(h) != 0 {
			t.Fatalf("got %d poisoned messages stored, want 0", len(h))
		}
		if err := db.Read().QueryRowContext(ctx, `SELECT 1 FROM messages WHERE text = 'poison'`).Scan(new(int)); err == nil {
			t.Fatal("a poisoned message is in the store")
		}
	})
}

// TestSplitBatchAcksCarryTheirMessages: a batch the store refuses because
// of one send is split until that send stands alone; the acks of the
// others then carry each its own message's JSON, the same bytes as the
// recipient's message.created, not a half's leftovers.
func TestSplitBatchAcksCarryTheirMessages(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		poisonMessages(t, db)
		convs := e.directPairs(t, e.accountsN(t, "user", 12))
		var batch []*sendReq
		for i := range 3 {
			for k, c := range convs {
				text := fmt.Sprintf("message %d to %d", i, k)
				if i == 1 && k == 2 {
					text = "poison"
				}
				batch = append(batch, &sendReq{sender: c.MemberIDs[0], res: make(chan sendRes, 1),
					in: SendInput{ConversationID: c.ID, ClientID: fmt.Sprint("s", i), Kind: KindText, Text: text}})
			}
		}
		e.svc.w.commit(batch)
		created := map[plaza.ID][]byte{} // message ID → its message.created data, as a recipient got it
		for _, c := range convs {
			for _, ev := range ofType(e.syncAll(t, c.MemberIDs[1], 0), events.MessageCreated) {
				var m Message
				mustNil(t, json.Unmarshal(ev.Data, &m), "decode an event")
				created[m.ID] = ev.Data
			}
		}
		for i, r := range batch {
			res := <-r.res
			if r.in.Text == "poison" {
				if res.err == nil {
					t.Fatalf("the poisoned send was stored")
				}
				continue
			}
			if res.err != nil || !res.created {
				t.Fatalf("send %d = %+v, want created", i, res)
			}
			want, _ := json.Marshal(res.msg)
			if !bytes.Equal(res.json, want) || !bytes.Equal(res.json, created[res.msg.ID]) {
				t.Fatalf("send %d (%q): the ack's JSON %s, want %s (and the event's %s)", i, r.in.Text, res.json, want, created[res.msg.ID])
			}
			if res.msg.Text != r.in.Text {
				t.Fatalf("send %d acked %q, want %q", i, res.msg.Text, r.in.Text)
			}
		}
		if len(created) != len(batch)-1 {
			t.Fatalf("%d messages created, want %d", len(created), len(batch)-1)
		}
	})
}
