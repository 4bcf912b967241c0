package textindex

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/plaza-im/plaza/internal/plazatest"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// fuzzSeeds run as ordinary tests too: go test runs every f.Add input.
var fuzzSeeds = []string{
	"", " ", "天", "天气", "今天天气很好", "Plaza 天气 good", "Plaza天气good", "x天", "天x", "天气abc", "天气,很好",
	"東京タワー", "ﾀﾜｰ", "こんにちは", "ガ ㇷ゚ ゛", "안녕하세요", "ＡＢＣ", "Straße", "İstanbul ǰ ΐ ﬃ", "ꭰꭱ ᎠᎡ",
	"#天气# #go @alice", "😀", "👩‍👩‍👧‍👦 🏴󠁧󠁢󠁳󠁣󠁴󠁿", "हिन्दी", "ภาษาไทย", "مرحبا", "\ufdfa", "㍿", "①½²",
	`"`, `""`, `*`, `a*`, `NEAR(a b, 2)`, `a OR b`, `a AND NOT b`, `-x`, `:`, `col:x`, `^x`, `'`, `''`, `\`, `\'`,
	`&`, `|`, `!`, `<->`, `<2>`, `a:*`, `a:A`, `(a`, `a)`, `{a}`, `+a`, `'a' & 'b'`, `x\'; DROP TABLE t; --`,
	"1e5x 2e10 1.5e3 0x1f", "a\x00b", "\xff", "天\xe5\xa4", "\u200b\u00ad\u202e", "\u3000天\u3000气\u3000",
	strings.Repeat("天", 201), strings.Repeat("a ", 17), strings.Repeat("é", 80),
}

func FuzzDocument(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		doc := Document(text)
		if !utf8.ValidString(doc) {
			t.Fatalf("Document(%q) = %q: invalid UTF-8", text, doc)
		}
		if doc == "" {
			return
		}
		toks := strings.Split(doc, " ")
		if len(toks) > maxDocTokens {
			t.Fatalf("Document(%q) has %d tokens, more than %d", text, len(toks), maxDocTokens)
		}
		for _, tok := range toks {
			if tok == "" {
				t.Fatalf("Document(%q) = %q: an empty token", text, doc)
			}
			first := classify([]rune(tok)[0])
			for _, r := range tok {
				if c := classify(r); c == separator || c != first {
					t.Fatalf("Document(%q) = %q: token %q mixes classes or holds a separator", text, doc, tok)
				}
			}
			if first == cjk && utf8.RuneCountInString(tok) > 2 || len(tok) > maxTokenBytes {
				t.Fatalf("Document(%q) = %q: token %q is too long", text, doc, tok)
			}
		}
		if f := fold(strings.ToValidUTF8(text, " ")); fold(f) != f {
			t.Fatalf("fold(%q) = %q, but that folds to %q", text, f, fold(f))
		}
	})
}

// FuzzParseQuery checks that ParseQuery either refuses a query as an
// invalid q or gives expressions every engine accepts, and that a text
// always matches the query made of it.
func FuzzParseQuery(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	var indexes []*testIndex
	for _, e := range sqldbtest.Engines() {
		indexes = append(indexes, newTestIndex(f, e))
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := ParseQuery(s)
		if err != nil {
			plazatest.WantInvalid(t, err, "q")
			return
		}
		if len(q.Terms()) == 0 || len(q.Terms()) > MaxTerms {
			t.Fatalf("ParseQuery(%q) has %d terms", s, len(q.Terms()))
		}
		for _, ix := range indexes {
			if !ix.matchesText(t, q, s) {
				t.Errorf("%s: %q does not match its own text (%s / %s, document %q)", ix.db.Engine, s, q.FTS5(), q.TSQuery(), Document(s))
			}
		}
	})
}

// matchesText indexes text alone and reports whether q matches it.
func (ix *testIndex) matchesText(tb testing.TB, q Query, text string) bool {
	tb.Helper()
	ctx := context.Background()
	const id = 1
	ix.add(tb, id, text)
	defer func() {
		del := `DELETE FROM search_test WHERE rowid = $1`
		if ix.db.Engine == sqldb.Postgres {
			del = `DELETE FROM search_test WHERE id = $1`
		}
		if _, err := ix.db.Write().ExecContext(ctx, del, id); err != nil {
			tb.Fatalf("delete: %v", err)
		}
	}()
	match, arg := `SELECT count(*) FROM search_test WHERE search_test MATCH $1`, q.FTS5()
	if ix.db.Engine == sqldb.Postgres {
		match, arg = `SELECT count(*) FROM search_test WHERE doc_tsv @@ to_tsquery('simple', $1)`, q.TSQuery()
	}
	var n int
	if err := ix.db.Read().QueryRowContext(ctx, match, arg).Scan(&n); err != nil {
		tb.Fatalf("%s refused %s (from %q): %v", ix.db.Engine, arg, text, err)
	}
	return n == 1
}
