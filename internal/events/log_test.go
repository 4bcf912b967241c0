package events

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/bus"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

func newLog(t *testing.T, db *sqldb.DB, b bus.Bus, cfg LogConfig) *Log {
	t.Helper()
	l, err := NewLog(context.Background(), db, b, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	return l
}

// accounts inserts bare account rows: the sync log references them.
func accounts(t *testing.T, db *sqldb.DB, ids ...plaza.ID) {
	t.Helper()
	for _, id := range ids {
		if _, err := db.Write().ExecContext(context.Background(), `INSERT INTO accounts (id, handle, display_name, password_hash, birth_date, created_at, updated_at)
			VALUES ($1, $2, '', '', '2000-01-01', 0, 0)`, id, "u"+id.String()); err != nil {
			t.Fatal(err)
		}
	}
}

func appendTx(t *testing.T, db *sqldb.DB, l *Log, evs []Event) []Pending {
	t.Helper()
	var out []Pending
	if err := db.InTx(context.Background(), func(tx *sql.Tx) error {
		var err error
		out, err = l.Append(context.Background(), tx, evs)
		return err
	}); err != nil {
		t.Fatalf("Append: %v", err)
	}
	return out
}

type frameJSON struct {
	Type   string          `json:"type"`
	Cursor string          `json:"cursor"`
	Data   json.RawMessage `json:"data"`
}

func decode(t *testing.T, b []byte) frameJSON {
	t.Helper()
	var f frameJSON
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("frame %s: %v", b, err)
	}
	return f
}

// TestAppendNumbersPerAccountInOrder appends a batch larger than one
// statement's chunk, interleaving accounts: each account's events get
// consecutive cursors in the batch's order, a later batch continues them,
// and Sync, Replay and Head agree with what Append returned.
func TestAppendNumbersPerAccountInOrder(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		l := newLog(t, db, bus.NewLocal("t"), LogConfig{Retention: time.Hour})
		a, b := plaza.ID(7), plaza.ID(3)
		accounts(t, db, a, b)
		var evs []Event
		for i := 0; i < 40; i++ {
			acct := a
			if i%3 == 0 {
				acct = b
			}
			evs = append(evs, Event{Account: acct, Type: ConversationRead, Data: []byte(`{"i":` + strconv.Itoa(i) + `}`), Stored: []byte(`{"i":` + strconv.Itoa(i) + `}`)})
		}
		got := appendTx(t, db, l, evs)
		if len(got) != 40 {
			t.Fatalf("Append returned %d events, want 40", len(got))
		}
		next := map[plaza.ID]int64{a: 1, b: 1}
		lastI := map[plaza.ID]int{a: -1, b: -1}
		for _, p := range got {
			if p.Seq != next[p.Account] {
				t.Fatalf("account %s got seq %d, want %d", p.Account, p.Seq, next[p.Account])
			}
			next[p.Account]++
			var d struct{ I int }
			f := decode(t, p.Frame)
			_ = json.Unmarshal(f.Data, &d)
			if d.I <= lastI[p.Account] || f.Cursor != strconv.FormatInt(p.Seq, 10) || f.Type != ConversationRead {
				t.Fatalf("frame %s out of order or with a wrong cursor", p.Frame)
			}
			lastI[p.Account] = d.I
		}
		more := appendTx(t, db, l, ForEach([]plaza.ID{a, b, a}, Event{Type: ContactRequest, Data: []byte(`{}`)}))
		if len(more) != 2 {
			t.Fatalf("ForEach of a repeated account appended %d events, want 2", len(more))
		}
		for acct, want := range map[plaza.ID]int64{a: 27, b: 15} {
			if h, err := l.Head(ctx, acct); err != nil || h != want {
				t.Errorf("Head(%s) = %d, %v; want %d", acct, h, err, want)
			}
		}
		page, err := l.Sync(ctx, b, 0, 10)
		if err != nil || len(page.Events) != 10 || !page.More || page.Cursor != 10 {
			t.Fatalf("Sync = %d events, more %v, cursor %d, %v; want 10, true, 10", len(page.Events), page.More, page.Cursor, err)
		}
		if _, err := l.Sync(ctx, b, 16, 10); plaza.ErrorCode(err) != plaza.EInvalid {
			t.Errorf("Sync ahead of the head = %v, want invalid_request", err)
		}
		frames, seqs, err := l.Replay(ctx, a, 20, 27)
		if err != nil || len(frames) != 7 || seqs[0] != 21 || seqs[6] != 27 || decode(t, frames[6]).Type != ContactRequest {
			t.Fatalf("Replay(20, 27) = %d frames %v, %v", len(frames), seqs, err)
		}
	})
}

// TestRefsRenderCurrentData: events of a type registered with UseRefs are
// rendered from their referenced row at read time, as the account whose
// log is read sees it; others keep their stored data.
func TestRefsRenderCurrentData(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		l := newLog(t, db, bus.NewLocal("t"), LogConfig{Retention: time.Hour})
		accounts(t, db, 1)
		var mu sync.Mutex
		current := map[plaza.ID][]byte{100: []byte(`{"v":"now"}`)}
		l.UseRefs([]string{MessageCreated}, func(_ context.Context, _ sqldb.Queryer, account plaza.ID, ids []plaza.ID) (map[plaza.ID][]byte, error) {
			mu.Lock()
			defer mu.Unlock()
			out := map[plaza.ID][]byte{}
			for _, id := range ids {
				if b, ok := current[id]; ok {
					out[id] = []byte(strings.Replace(string(b), "}", `,"for":"`+account.String()+`"}`, 1))
				}
			}
			return out, nil
		})
		appendTx(t, db, l, []Event{
			{Account: 1, Type: MessageCreated, Ref: 100, Data: []byte(`{"v":"then"}`)},
			{Account: 1, Type: ContactRequest, Ref: 100, Data: []byte(`{"v":"kept"}`), Stored: []byte(`{"v":"kept"}`)},
		})
		frames, _, err := l.Replay(ctx, 1, 0, 2)
		if err != nil || len(frames) != 2 {
			t.Fatalf("Replay = %d, %v", len(frames), err)
		}
		if got := string(decode(t, frames[0]).Data); got != `{"v":"now","for":"1"}` {
			t.Errorf("message event data = %s, want the referenced row's current data for account 1", got)
		}
		if got := string(decode(t, frames[1]).Data); got != `{"v":"kept"}` {
			t.Errorf("contact event data = %s, want its stored data", got)
		}
	})
}

// TestPublishAndPrune: published events reach the account's subject in
// their envelope; ephemeral ones carry seq 0 and no cursor; pruning
// removes events older than the retention and expires old cursors.
func TestPublishAndPrune(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		b := bus.NewLocal("t")
		now := time.Now().UTC().Truncate(time.Microsecond)
		var mu sync.Mutex
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		l := newLog(t, db, b, LogConfig{Retention: time.Hour, Now: clock})
		accounts(t, db, 5)
		got := make(chan []byte, 10)
		sub, err := b.Subscribe(AccountSubject(5), func(d []byte) { got <- d })
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Unsubscribe()
		l.Publish(ctx, appendTx(t, db, l, []Event{{Account: 5, Type: ContactAccepted, Data: []byte(`{}`), Stored: []byte(`{}`)}}))
		if err := l.PublishEphemeral(ctx, []plaza.ID{5}, Typing, []byte(`{"x":1}`)); err != nil {
			t.Fatal(err)
		}
		for i, want := range []struct {
			seq   int64
			frame string
		}{{1, `{"type":"contact.accepted","cursor":"1","data":{}}`}, {0, `{"type":"typing","data":{"x":1}}`}} {
			select {
			case d := <-got:
				seq, f, err := ParseEnvelope(d)
				if err != nil || seq != want.seq || string(f) != want.frame {
					t.Errorf("bus event %d = %d %s %v, want %d %s", i, seq, f, err, want.seq, want.frame)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("bus event %d never arrived", i)
			}
		}
		mu.Lock()
		now = now.Add(2 * time.Hour)
		mu.Unlock()
		appendTx(t, db, l, []Event{{Account: 5, Type: ContactAccepted, Data: []byte(`{}`)}})
		if n, err := l.Prune(ctx); err != nil || n != 1 {
			t.Fatalf("Prune = %d, %v; want 1", n, err)
		}
		if _, err := l.Sync(ctx, 5, 0, 10); plaza.ErrorCode(err) != plaza.ECursorExpired {
			t.Errorf("Sync from a pruned cursor = %v, want cursor_expired", err)
		}
		if _, err := l.Resumable(ctx, 5, 0); plaza.ErrorCode(err) != plaza.ECursorExpired {
			t.Errorf("Resumable from a pruned cursor = %v, want cursor_expired", err)
		}
		if head, err := l.Resumable(ctx, 5, 1); err != nil || head != 2 {
			t.Errorf("Resumable after the pruned event = %d, %v; want head 2", head, err)
		}
		if _, err := l.Resumable(ctx, 5, 3); plaza.ErrorCode(err) != plaza.EInvalid {
			t.Errorf("Resumable ahead of the head = %v, want invalid", err)
		}
		if page, err := l.Sync(ctx, 5, 1, 10); err != nil || len(page.Events) != 1 {
			t.Errorf("Sync after the pruned event = %v, %v; want the one left", page, err)
		}
	})
}

func TestEnvelopeAndFrames(t *testing.T) {
	seq, f, err := ParseEnvelope(ControlEnvelope([]byte(`{}`)))
	if err != nil || seq != ControlSeq || string(f) != `{}` {
		t.Errorf("control envelope = %d %s %v", seq, f, err)
	}
	if _, _, err := ParseEnvelope([]byte{1, 2}); err == nil {
		t.Error("a short envelope parsed")
	}
	if got := string(ReadyFrame(42)); got != `{"type":"ready","cursor":"42"}` {
		t.Errorf("ReadyFrame = %s", got)
	}
	if got := string(Frame(ChannelPost, 0, []byte(`{"id":"1"}`))); got != `{"type":"channel.post","data":{"id":"1"}}` {
		t.Errorf("channel.post frame = %s", got)
	}
	if got := string(ReplyFrame(MessageAck, "F\"1", map[string]int{"seq": 1})); got != `{"type":"message.ack","id":"F\"1","data":{"seq":1}}` {
		t.Errorf("ack frame = %s", got)
	}
	// An ack of data already encoded (json.RawMessage) is the same frame,
	// byte for byte, as one of the value it encodes.
	for _, id := range []string{"", "F\"1", "<b>&amp;</b>", "中文\u2028\x00", "\xff"} {
		v := struct {
			Text string `json:"text"`
			Seq  int64  `json:"seq"`
		}{"<中文> & \"quoted\" \u2029", 7}
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := ReplyFrame(MessageAck, id, json.RawMessage(raw)), ReplyFrame(MessageAck, id, v); !bytes.Equal(got, want) {
			t.Errorf("id %q: ack of encoded data\n%s\nwant\n%s", id, got, want)
		}
	}
	var e struct {
		Type string
		ID   string
		Data struct{ Code, Message string }
	}
	if err := json.Unmarshal(ErrorFrame("x", plaza.Invalid("text", "too long")), &e); err != nil || e.Type != Error || e.ID != "x" || e.Data.Code != plaza.EInvalid {
		t.Errorf("error frame = %+v, %v", e, err)
	}
}

// Publish returns before the bus has the events; Close publishes every
// batch still waiting, in order, and Publish after Close still publishes.
func TestPublisherKeepsOrderAndDrainsOnClose(t *testing.T) {
	db := sqldbtest.Open(t, sqldb.SQLite)
	b := bus.NewLocal("t")
	defer b.Close()
	l, err := NewLog(context.Background(), db, b, LogConfig{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []int64
	if _, err := b.Subscribe(AccountSubject(5), func(d []byte) {
		seq, _, _ := ParseEnvelope(d)
		mu.Lock()
		got = append(got, seq)
		mu.Unlock()
	}, bus.Inline()); err != nil {
		t.Fatal(err)
	}
	const n = 500
	for i := 1; i <= n; i++ {
		l.Publish(context.Background(), []Pending{{Account: 5, Seq: int64(i), Frame: []byte(`{}`)}})
	}
	l.Close()
	l.Publish(context.Background(), []Pending{{Account: 5, Seq: n + 1, Frame: []byte(`{}`)}})
	mu.Lock()
	defer mu.Unlock()
	if len(got) != n+1 {
		t.Fatalf("the bus got %d events, want %d", len(got), n+1)
	}
	for i, seq := range got {
		if seq != int64(i+1) {
			t.Fatalf("event %d has seq %d, want %d", i, seq, i+1)
		}
	}
}
