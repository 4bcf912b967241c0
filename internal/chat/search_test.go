package chat

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/plazatest"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
	"github.com/plaza-im/plaza/internal/textindex"
)

// index runs indexer passes until it has caught up.
func (e *env) index(tb testing.TB) {
	tb.Helper()
	for {
		more, err := e.svc.indexPass(context.Background())
		if err != nil {
			tb.Fatalf("index pass: %v", err)
		}
		if !more {
			return
		}
	}
}

// search returns the texts account finds for q (in conv, if not 0),
// newest first.
func (e *env) search(tb testing.TB, account plaza.ID, q string, conv plaza.ID) []string {
	tb.Helper()
	hits, err := e.svc.Search(context.Background(), account, q, conv, 0, MaxSearchPage)
	if err != nil {
		tb.Fatalf("search %q: %v", q, err)
	}
	return hitTexts(tb, hits)
}

func hitTexts(tb testing.TB, hits []SearchHit) []string {
	tb.Helper()
	out := []string{}
	for _, h := range hits {
		if h.ConversationID != h.Message.ConversationID {
			tb.Errorf("hit %s: conversation_id %s, message's %s", h.Message.ID, h.ConversationID, h.Message.ConversationID)
		}
		out = append(out, h.Message.Text)
	}
	return out
}

// TestSearchWords: Chinese without spaces, English words, every term
// must match, case and width folded, newest first.
func TestSearchWords(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		ann, bob := e.account(t, "ann"), e.account(t, "bob")
		conv := e.direct(t, ann, bob)
		for _, text := range []string{"今天天气很好", "明天去公园散步吗？", "The quick brown fox", "a lazy dog, quick to sleep", "ＦＵＬＬ width"} {
			e.send(t, ann, conv.ID, text)
		}
		e.index(t)
		for _, tc := range []struct {
			q    string
			want []string
		}{
			{"天气", []string{"今天天气很好"}},
			{"天气很好", []string{"今天天气很好"}},
			{"公园", []string{"明天去公园散步吗？"}},
			{"天", []string{"明天去公园散步吗？", "今天天气很好"}},
			{"天气 公园", []string{}},
			{"quick", []string{"a lazy dog, quick to sleep", "The quick brown fox"}},
			{"QUICK fox", []string{"The quick brown fox"}},
			{"fo", []string{}}, // Latin words match whole, as in post search
			{"full", []string{"ＦＵＬＬ width"}},
			{"天气很坏", []string{}},
		} {
			for _, who := range []plaza.ID{ann, bob} {
				if diff := cmp.Diff(tc.want, e.search(t, who, tc.q, 0)); diff != "" {
					t.Errorf("search %q as %s (-want +got):\n%s", tc.q, who, diff)
				}
			}
		}
	})
}

// TestSearchVisibility: a person finds only what history shows them —
// not other people's conversations (and not_found naming one), not what
// was said before they joined or after they left, not a recalled
// message, and a removed message only if they sent it.
func TestSearchVisibility(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		ann, bob, cat := e.account(t, "ann"), e.account(t, "bob"), e.account(t, "cat")
		direct := e.direct(t, ann, bob)
		e.send(t, ann, direct.ID, "秘密 plan between us")
		group := e.group(t, ann, "friends", bob)
		e.send(t, bob, group.ID, "early 秘密 bird")
		e.befriend(t, ann, cat)
		_, err := e.svc.AddMembers(ctx, ann, group.ID, []plaza.ID{cat})
		mustNil(t, err, "add cat")
		e.send(t, ann, group.ID, "late 秘密 bird")
		e.index(t)

		if diff := cmp.Diff([]string{"late 秘密 bird", "early 秘密 bird", "秘密 plan between us"}, e.search(t, bob, "秘密", 0)); diff != "" {
			t.Errorf("bob (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"late 秘密 bird"}, e.search(t, cat, "秘密", 0)); diff != "" {
			t.Errorf("cat, who joined late and is not in the direct conversation (-want +got):\n%s", diff)
		}
		_, err = e.svc.Search(ctx, cat, "秘密", direct.ID, 0, 20)
		wantCode(t, err, plaza.ENotFound)
		_, err = e.svc.Search(ctx, cat, "秘密", plaza.NewID(), 0, 20)
		wantCode(t, err, plaza.ENotFound)
		if diff := cmp.Diff([]string{"秘密 plan between us"}, e.search(t, bob, "秘密", direct.ID)); diff != "" {
			t.Errorf("bob within the direct conversation (-want +got):\n%s", diff)
		}

		// Leaving: nothing of the group any more.
		_, err = e.svc.RemoveMember(ctx, bob, group.ID, bob)
		mustNil(t, err, "bob leaves")
		if diff := cmp.Diff([]string{"秘密 plan between us"}, e.search(t, bob, "秘密", 0)); diff != "" {
			t.Errorf("bob after leaving (-want +got):\n%s", diff)
		}
		_, err = e.svc.Search(ctx, bob, "秘密", group.ID, 0, 20)
		wantCode(t, err, plaza.ENotFound)

		// Recalled: found by nobody, and out of the index.
		m := e.send(t, ann, direct.ID, "oops 撤回的话")
		e.index(t)
		if got := e.search(t, bob, "撤回", 0); len(got) != 1 {
			t.Fatalf("before the recall bob finds %q, want the message", got)
		}
		_, err = e.svc.Recall(ctx, ann, direct.ID, m.ID)
		mustNil(t, err, "recall")
		for _, who := range []plaza.ID{ann, bob} {
			if got := e.search(t, who, "撤回", 0); len(got) != 0 {
				t.Errorf("after the recall %s finds %q, want nothing", who, got)
			}
		}
		e.index(t)
		if n := e.indexed(t, "撤回"); n != 0 {
			t.Errorf("the index holds %d documents with the recalled words, want 0", n)
		}

		// Removed by moderation: only its sender finds it, marked removed;
		// reversing the decision brings it back.
		bad := e.send(t, bob, direct.ID, "offending words here")
		e.index(t)
		_, err = e.moderate(t, bad.ID, plaza.Moderation{Action: plaza.ModRemove, DecisionID: 77})
		mustNil(t, err, "remove")
		if got := e.search(t, ann, "offending", 0); len(got) != 0 {
			t.Errorf("after the removal ann finds %q, want nothing", got)
		}
		hits, err := e.svc.Search(ctx, bob, "offending", 0, 0, 20)
		mustNil(t, err, "search as the sender")
		if len(hits) != 1 || !hits[0].Message.Removed || hits[0].Message.Text != "offending words here" {
			t.Errorf("the sender finds %+v, want the message whole, marked removed", hits)
		}
		_, err = e.moderate(t, bad.ID, plaza.Moderation{Replaces: 77})
		mustNil(t, err, "reverse")
		if diff := cmp.Diff([]string{"offending words here"}, e.search(t, ann, "offending", 0)); diff != "" {
			t.Errorf("ann after the reversal (-want +got):\n%s", diff)
		}
	})
}

func mustQuery(tb testing.TB, q string) textindex.Query {
	tb.Helper()
	query, err := textindex.ParseQuery(q)
	if err != nil {
		tb.Fatalf("parse %q: %v", q, err)
	}
	return query
}

// indexed counts the documents of the index that hold every word of q
// (any engine).
func (e *env) indexed(tb testing.TB, q string) int64 {
	tb.Helper()
	if e.db.Engine == sqldb.SQLite {
		return e.count(tb, `SELECT COUNT(*) FROM message_search WHERE message_search MATCH $1`, `{doc_tsv} : (`+mustQuery(tb, q).FTS5()+`)`)
	}
	return e.count(tb, `SELECT COUNT(*) FROM message_search WHERE doc_tsv @@ to_tsquery('simple', $1)`, mustQuery(tb, q).TSQuery())
}

// TestSearchErasedSender: an erased account's messages stay in the
// others' history, so they still find them; the erased account has left
// its groups and finds nothing there.
func TestSearchErasedSender(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		e.accounts.OnDelete(e.svc.DeleteAccountData)
		e.accounts.OnErase(e.svc.EraseAccount)
		leaver, ann := e.account(t, "leaver"), e.account(t, "ann")
		group := e.group(t, ann, "g", leaver)
		e.send(t, leaver, group.ID, "farewell message")
		e.index(t)
		mustNil(t, e.accounts.Erase(ctx, leaver), "erase")
		if diff := cmp.Diff([]string{"farewell message"}, e.search(t, ann, "farewell", 0)); diff != "" {
			t.Errorf("ann (-want +got):\n%s", diff)
		}
		if got := e.search(t, leaver, "farewell", 0); len(got) != 0 {
			t.Errorf("the erased account finds %q, want nothing", got)
		}
	})
}

// TestSearchPaging pages newest first with before.
func TestSearchPaging(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		ann, bob := e.account(t, "ann"), e.account(t, "bob")
		conv := e.direct(t, ann, bob)
		var want []string
		for i := range 5 {
			text := fmt.Sprintf("page 第%d页", i)
			e.send(t, ann, conv.ID, text)
			want = append([]string{text}, want...)
		}
		e.send(t, ann, conv.ID, "not this one")
		e.index(t)
		var got []string
		before := plaza.ID(0)
		for pages := 0; ; pages++ {
			if pages > 3 {
				t.Fatalf("more than 3 pages of 2: %q", got)
			}
			hits, err := e.svc.Search(ctx, bob, "page", 0, before, 2)
			mustNil(t, err, "search")
			got = append(got, hitTexts(t, hits)...)
			if len(hits) < 2 {
				break
			}
			before = hits[len(hits)-1].Message.ID
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("pages (-want +got):\n%s", diff)
		}
	})
}

// TestSearchInvalid: q with nothing to search for, too long, with NUL;
// a limit out of range.
func TestSearchInvalid(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		ann := e.account(t, "ann")
		for _, q := range []string{"", "   ", "!!! ？？ 🙂", strings.Repeat("a", 201), "a\x00b", "\xff"} {
			_, err := e.svc.Search(ctx, ann, q, 0, 0, 20)
			wantInvalid(t, err, "q")
		}
		for _, limit := range []int{0, MaxSearchPage + 1} {
			_, err := e.svc.Search(ctx, ann, "ok", 0, 0, limit)
			wantInvalid(t, err, "limit")
		}
	})
}

// TestSearchIndexerRestart: the indexer records how far it got; a new
// service on the same database carries on from there without indexing a
// message twice, and its running indexer makes new messages searchable.
func TestSearchIndexerRestart(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		first := newEnv(t, db)
		ann, bob := first.account(t, "ann"), first.account(t, "bob")
		conv := first.direct(t, ann, bob)
		first.send(t, ann, conv.ID, "before 重启 one")
		first.index(t)
		last := first.send(t, ann, conv.ID, "before 重启 two")
		// The first service indexes no more: it stands for a node that stopped.

		second := newEnv(t, db)
		var indexedTo, head plaza.ID
		mustNil(t, db.Read().QueryRowContext(context.Background(), `SELECT indexed_to, head FROM message_search_state WHERE id = 1`).Scan(&indexedTo, &head), "state")
		if head == 0 || head >= last.ID {
			t.Fatalf("head = %d after the first message, want it before %d", head, last.ID)
		}
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); second.svc.RunSearchIndexer(ctx, 10*time.Millisecond) }()
		t.Cleanup(func() { stop(); <-done })
		want := []string{"before 重启 two", "before 重启 one"}
		plazatest.Eventually(t, waitTimeout, func() error {
			if got := second.search(t, bob, "重启", 0); !slices.Equal(got, want) {
				return fmt.Errorf("found %q, want %q", got, want)
			}
			return nil
		})
		second.send(t, bob, conv.ID, "after 重启")
		plazatest.Eventually(t, waitTimeout, func() error {
			if got := second.search(t, ann, "after", 0); len(got) != 1 {
				return fmt.Errorf("found %q, want the new message", got)
			}
			return nil
		})
		if n := second.indexed(t, "重启"); n != 3 {
			t.Errorf("the index holds %d documents for 重启, want 3 (none twice)", n)
		}
	})
}

// TestSearchIndexerLateCommit: on PostgreSQL, where several nodes'
// writers may commit IDs out of order, a message that appears below the
// indexer's head is found once its ID has settled.
func TestSearchIndexerLateCommit(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		if db.Engine != sqldb.Postgres {
			t.Skip("one writer commits in ID order on SQLite")
		}
		ctx := context.Background()
		e := newEnv(t, db)
		ann, bob := e.account(t, "ann"), e.account(t, "bob")
		conv := e.direct(t, ann, bob)
		e.send(t, ann, conv.ID, "first")
		e.send(t, ann, conv.ID, "second")
		e.index(t)
		var head plaza.ID
		mustNil(t, db.Read().QueryRowContext(ctx, `SELECT head FROM message_search_state WHERE id = 1`).Scan(&head), "state")
		// Another node's message whose commit came after the indexer
		// passed its ID.
		late := head - 1
		_, err := db.Write().ExecContext(ctx, `INSERT INTO messages (conversation_id, seq, id, sender_id, client_id, kind, text, media_id, reply_to, mentions, recalled, created_at)
			VALUES ($1, 3, $2, $3, 'late', 'text', 'late 迟到 commit', NULL, NULL, '[]', false, 0)`, conv.ID, late, ann)
		mustNil(t, err, "insert late message")
		_, err = db.Write().ExecContext(ctx, `UPDATE conversations SET last_seq = 3 WHERE id = $1`, conv.ID)
		mustNil(t, err, "bump")
		e.index(t)
		if got := e.search(t, bob, "迟到", 0); len(got) != 0 {
			t.Fatalf("found %q before the ID settled; the test needs the look for missed messages to wait", got)
		}
		e.clock.Advance(indexSettle + time.Second)
		e.index(t)
		if diff := cmp.Diff([]string{"late 迟到 commit"}, e.search(t, bob, "迟到", 0)); diff != "" {
			t.Errorf("search after the ID settled (-want +got):\n%s", diff)
		}
	})
}

func TestIDAt(t *testing.T) {
	at := time.Date(2026, 5, 1, 12, 30, 15, 123_456_789, time.UTC)
	id := idAt(at)
	if got, want := plaza.IDTime(id), at.Truncate(time.Millisecond); !got.Equal(want) {
		t.Errorf("IDTime(idAt(%v)) = %v, want %v", at, got, want)
	}
	if got := plaza.IDTime(id - 1); !got.Before(at.Truncate(time.Millisecond)) {
		t.Errorf("the ID before idAt is of %v, want before %v", got, at)
	}
	now := plaza.NewID()
	if lo, hi := idAt(plaza.IDTime(now)), idAt(plaza.IDTime(now).Add(time.Millisecond)); now < lo || now >= hi {
		t.Errorf("NewID() = %d, want within [%d, %d)", now, lo, hi)
	}
}

// BenchmarkIndexPass measures what indexing costs per message: one pass
// over a full batch of messages of mixed Chinese and English, its commit
// included, on each engine. It is the work the send path would take on
// if the writer indexed in its batch.
func BenchmarkIndexPass(b *testing.B) {
	for _, eng := range sqldbtest.Engines() {
		b.Run(string(eng), func(b *testing.B) {
			ctx := context.Background()
			db := sqldbtest.Open(b, eng)
			e := newEnv(b, db)
			ann, bob := e.account(b, "ann"), e.account(b, "bob")
			conv := e.direct(b, ann, bob)
			batch := indexBatches[eng]
			for i := range batch {
				e.send(b, ann, conv.ID, fmt.Sprintf("消息%d：今天下午三点在公园门口见面，别忘了带上 the documents for meeting %d", i, i))
			}
			reset := func() {
				clear := `DELETE FROM message_search`
				if eng == sqldb.SQLite {
					clear = `INSERT INTO message_search (message_search) VALUES ('delete-all')`
				}
				for _, q := range []string{clear, `UPDATE message_search_state SET indexed_to = 0, head = 0`} {
					if _, err := db.Write().ExecContext(ctx, q); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ResetTimer()
			for b.Loop() {
				b.StopTimer()
				reset()
				b.StartTimer()
				if more, err := e.svc.indexPass(ctx); err != nil || !more {
					b.Fatalf("index pass: more %v, err %v; want a full batch", more, err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*batch), "µs/msg")
		})
	}
}
