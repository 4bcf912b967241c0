package textindex

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// testIndex is a throwaway search table on one engine, laid out as the
// package documentation recommends.
type testIndex struct {
	db *sqldb.DB
}

func newTestIndex(tb testing.TB, e sqldb.Engine) *testIndex {
	tb.Helper()
	db := sqldbtest.OpenUnmigrated(tb, e)
	stmts := []string{
		`CREATE VIRTUAL TABLE search_test USING fts5(doc, prefix='1', tokenize='unicode61 remove_diacritics 2')`,
		// Lists each row's tokens in order, to compare with Document's.
		`CREATE VIRTUAL TABLE search_test_vocab USING fts5vocab(search_test, instance)`,
	}
	if e == sqldb.Postgres {
		stmts = []string{
			`CREATE TABLE search_test (id bigint PRIMARY KEY, doc_tsv tsvector NOT NULL)`,
			`CREATE INDEX search_test_doc ON search_test USING gin (doc_tsv)`,
		}
	}
	for _, s := range stmts {
		if _, err := db.Write().ExecContext(context.Background(), s); err != nil {
			tb.Fatalf("%s: %v", s, err)
		}
	}
	return &testIndex{db: db}
}

// add indexes Document(text) as row id.
func (ix *testIndex) add(tb testing.TB, id int64, text string) {
	tb.Helper()
	ix.addDocs(tb, map[int64]string{id: Document(text)})
}

// addDocs stores documents (Document's output) by row id in one
// transaction.
func (ix *testIndex) addDocs(tb testing.TB, docs map[int64]string) {
	tb.Helper()
	insert := `INSERT INTO search_test (rowid, doc) VALUES ($1, $2)`
	if ix.db.Engine == sqldb.Postgres {
		insert = `INSERT INTO search_test (id, doc_tsv) VALUES ($1, to_tsvector('simple', $2))`
	}
	err := ix.db.InTx(context.Background(), func(tx *sql.Tx) error {
		st, err := tx.Prepare(insert)
		if err != nil {
			return err
		}
		defer st.Close()
		for id, doc := range docs {
			if _, err := st.Exec(id, doc); err != nil {
				return fmt.Errorf("row %d (%q): %w", id, doc, err)
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("add documents: %v", err)
	}
}

// search returns the ids of the rows q matches, in order. On PostgreSQL it
// runs the query twice, through the GIN index and by reading every row,
// and fails the test unless both agree.
func (ix *testIndex) search(tb testing.TB, q Query) []int64 {
	tb.Helper()
	if ix.db.Engine == sqldb.SQLite {
		ids, err := queryIDs(ix.db.Read(), `SELECT rowid FROM search_test WHERE search_test MATCH $1 ORDER BY rowid`, q.FTS5())
		if err != nil {
			tb.Fatalf("MATCH %s: %v", q.FTS5(), err)
		}
		return ids
	}
	var byIndex, byScan []int64
	for _, plan := range []struct {
		off  string
		into *[]int64
	}{{"enable_seqscan", &byIndex}, {"enable_bitmapscan", &byScan}} {
		err := ix.db.InTx(context.Background(), func(tx *sql.Tx) error {
			if _, err := tx.Exec("SET LOCAL " + plan.off + " = off"); err != nil {
				return err
			}
			ids, err := queryIDs(tx, `SELECT id FROM search_test WHERE doc_tsv @@ to_tsquery('simple', $1) ORDER BY id`, q.TSQuery())
			*plan.into = ids
			return err
		})
		if err != nil {
			tb.Fatalf("@@ to_tsquery(%s): %v", q.TSQuery(), err)
		}
	}
	if !slices.Equal(byIndex, byScan) {
		tb.Fatalf("@@ to_tsquery(%s): %v through the GIN index, %v reading every row", q.TSQuery(), byIndex, byScan)
	}
	return byIndex
}

func queryIDs(db sqldb.Queryer, query string, args ...any) ([]int64, error) {
	rows, err := db.QueryContext(context.Background(), query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// searchCorpus is indexed for TestSearchMatchesTheSameRowsOnBothEngines;
// row ids are positions in it, from 1.
var searchCorpus = []string{
	"今天天气很好",
	"我们去公园散步吧",
	"天",
	"明天见",
	"今天",
	"天气预报说明天下雨",
	"公",
	"公 园",
	"東京タワーに行きました",
	"東京",
	"こんにちは、世界",
	"안녕하세요 반갑습니다",
	"Plaza 天气 good",
	"The weather is nice 天气很好",
	"ＡＢＣ in full width",
	"Die Straße ist lang",
	"café au lait",
	"plazas are squares",
	"Hello, world! 😀🎉",
	"今天 #天气# 不错",
	"learning #go today",
	"a or b",
	"a b",
	"near the park",
	"x-ray vision",
}

func TestSearchMatchesTheSameRowsOnBothEngines(t *testing.T) {
	rowOf := map[string]int64{}
	for i, text := range searchCorpus {
		rowOf[text] = int64(i + 1)
	}
	cases := []struct {
		q    string
		want []string // rows of searchCorpus
	}{
		// Chinese without spaces.
		{"天气", []string{"今天天气很好", "天气预报说明天下雨", "Plaza 天气 good", "The weather is nice 天气很好", "今天 #天气# 不错"}},
		{"天气很好", []string{"今天天气很好", "The weather is nice 天气很好"}},
		{"明天", []string{"明天见", "天气预报说明天下雨"}},
		{"公园", []string{"我们去公园散步吧"}},
		{"公", []string{"我们去公园散步吧", "公", "公 园"}},
		{"天", []string{"今天天气很好", "天", "明天见", "今天", "天气预报说明天下雨", "Plaza 天气 good", "The weather is nice 天气很好", "今天 #天气# 不错"}},
		{"见", []string{"明天见"}},
		{"今天 天气", []string{"今天天气很好", "今天 #天气# 不错"}},
		{"天气 很好", []string{"今天天气很好", "The weather is nice 天气很好"}},
		{"今天天气", []string{"今天天气很好"}},
		{"散步吧", []string{"我们去公园散步吧"}},
		{"天下雨", []string{"天气预报说明天下雨"}},
		{"天下雨了", nil},
		// Japanese and Korean.
		{"東京タワー", []string{"東京タワーに行きました"}},
		{"タワー", []string{"東京タワーに行きました"}},
		{"ﾀﾜｰ", []string{"東京タワーに行きました"}},
		{"東京", []string{"東京タワーに行きました", "東京"}},
		{"こんにちは", []string{"こんにちは、世界"}},
		{"世界", []string{"こんにちは、世界"}},
		{"안녕", []string{"안녕하세요 반갑습니다"}},
		{"반갑습니다", []string{"안녕하세요 반갑습니다"}},
		// Mixed scripts, whole words, folding.
		{"Plaza 天气 good", []string{"Plaza 天气 good"}},
		{"plaza", []string{"Plaza 天气 good"}},
		{"weather 天气", []string{"The weather is nice 天气很好"}},
		{"abc", []string{"ＡＢＣ in full width"}},
		{"ＡＢＣ", []string{"ＡＢＣ in full width"}},
		{"STRASSE", []string{"Die Straße ist lang"}},
		{"straße", []string{"Die Straße ist lang"}},
		{"CAFE", []string{"café au lait"}},
		{"Café", []string{"café au lait"}},
		// Punctuation and emoji are not searched for.
		{"world!", []string{"Hello, world! 😀🎉"}},
		{"hello😀 🎉 world", []string{"Hello, world! 😀🎉"}},
		// Hashtags match the word, with or without the sign.
		{"#天气#", []string{"今天天气很好", "天气预报说明天下雨", "Plaza 天气 good", "The weather is nice 天气很好", "今天 #天气# 不错"}},
		{"#go", []string{"learning #go today"}},
		{"go", []string{"learning #go today"}},
		// Syntax of either engine is inert: it neither fails nor widens.
		{`a OR b`, []string{"a or b"}},
		{`a b`, []string{"a or b", "a b"}},
		{`天气 OR 公园`, nil},
		{`'天气' | '公园'`, nil},
		{`天气 & !公园`, nil},
		{`今天 -天气`, []string{"今天天气很好", "今天 #天气# 不错"}},
		{`NEAR(a b)`, nil},
		{`NEAR(`, []string{"near the park"}},
		{`plaza*`, []string{"Plaza 天气 good"}},
		{`天气"`, []string{"今天天气很好", "天气预报说明天下雨", "Plaza 天气 good", "The weather is nice 天气很好", "今天 #天气# 不错"}},
		{`"a" OR "b"`, []string{"a or b"}},
		{`-x`, []string{"x-ray vision"}},
		{`x:ray`, []string{"x-ray vision"}},
		{`x'ray`, []string{"x-ray vision"}},
		{`x\ray`, []string{"x-ray vision"}},
		{`x&ray|vision`, []string{"x-ray vision"}},
		{`x|park`, nil},
		{`^near`, []string{"near the park"}},
		{`(near) OR (park)`, nil},
		{`park:*`, []string{"near the park"}},
		{`par:*`, nil},
		{`par*`, nil},
	}
	for _, e := range sqldbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			ix := newTestIndex(t, e)
			docs := map[int64]string{}
			for text, id := range rowOf {
				docs[id] = Document(text)
			}
			ix.addDocs(t, docs)
			for _, tt := range cases {
				q, err := ParseQuery(tt.q)
				if err != nil {
					t.Fatalf("ParseQuery(%q): %v", tt.q, err)
				}
				var want []int64
				for _, text := range tt.want {
					id, ok := rowOf[text]
					if !ok {
						t.Fatalf("%q is not in the corpus", text)
					}
					want = append(want, id)
				}
				slices.Sort(want)
				if got := ix.search(t, q); !slices.Equal(got, want) {
					t.Errorf("search %q (%s / %s): got rows %v, want %v", tt.q, q.FTS5(), q.TSQuery(), got, want)
				}
			}
		})
	}
}

// TestEnginesAgreeOnLetters checks what the package relies on: each engine
// splits a document at its spaces and nowhere else, and keeps every token
// as it is. It indexes every letter and digit Go knows (one Han character
// in 64, one Hangul syllable in 16) alone, and inside words and beside
// digits (which PostgreSQL's parser may read as numbers) those before
// U+0800 and one in 8 of the rest; 32 characters to a row keep it quick.
func TestEnginesAgreeOnLetters(t *testing.T) {
	docs := map[int64]string{
		0: Document("1e5 123abc abc123 0x1f 1st v1 1_000 007 3e 2e10x 1.5e3 -12 +3 ½ ² ① 9e9e9 1e5x1e5 00e00x 1E5A 2ea"),
	}
	var row []string
	first := rune(0)
	for r := rune(0x80); r <= unicode.MaxRune; r++ {
		switch {
		case !unicode.IsGraphic(r),
			unicode.Is(unicode.Han, r) && r%64 != 0,
			0xac00 <= r && r <= 0xd7a3 && r%16 != 0:
			continue
		}
		c := string(r)
		text := c
		if r < 0x800 || r%8 == 0 {
			text += " x" + c + "y 1" + c + " " + c + "1 1e5" + c
		}
		doc := Document(text)
		if strings.Trim(doc, "1e5 xy") == "" {
			continue // a separator
		}
		if len(row) == 0 {
			first = r
		}
		if row = append(row, doc); len(row) == 32 || r == unicode.MaxRune {
			docs[int64(first)] = strings.Join(row, " ")
			row = nil
		}
	}
	if len(row) > 0 {
		docs[int64(first)] = strings.Join(row, " ")
	}
	for _, e := range sqldbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			ix := newTestIndex(t, e)
			ix.addDocs(t, docs)
			got := ix.tokens(t)
			for id, doc := range docs {
				want := strings.Fields(doc)
				if e == sqldb.Postgres {
					// A tsvector lists each lexeme once, sorted.
					slices.Sort(want)
					want = slices.Compact(want)
				}
				if !slices.Equal(got[id], want) {
					t.Errorf("row from U+%04X: %s lost tokens %q and made tokens %q", id, e, missing(want, got[id]), missing(got[id], want))
				}
			}
		})
	}
}

// missing returns the tokens of a that b lacks.
func missing(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}

// tokens returns the tokens the engine indexed for each row: in order on
// SQLite, sorted and without repeats on PostgreSQL.
func (ix *testIndex) tokens(tb testing.TB) map[int64][]string {
	tb.Helper()
	query := `SELECT doc, term FROM search_test_vocab ORDER BY doc, "offset"`
	if ix.db.Engine == sqldb.Postgres {
		query = `SELECT id, unnest(tsvector_to_array(doc_tsv)) FROM search_test ORDER BY 1, 2`
	}
	rows, err := ix.db.Read().QueryContext(context.Background(), query)
	if err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	out := map[int64][]string{}
	for rows.Next() {
		var id int64
		var tok string
		if err := rows.Scan(&id, &tok); err != nil {
			tb.Fatal(err)
		}
		out[id] = append(out[id], tok)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}
