package textindex

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// BenchmarkSearch indexes PLAZA_BENCH_SEARCH_N generated posts (default
// 1,000,000) of mixed Chinese and English on each engine, as the package
// documentation lays the index out, and measures the latency of queries
// with ORDER BY id DESC LIMIT 20, the newest matches first. Each query
// class is a sub-benchmark reporting p50-ms and p99-ms; "typical" mixes
// the 1–3 term classes. Index build time and size are logged. Run it with
//
//	PLAZA_TEST_POSTGRES=postgres://… go test -run '^$' -bench Search -v \
//	    -benchtime 1000x -timeout 3h ./internal/textindex/
//
// PLAZA_BENCH_SEARCH_PLAIN=1 builds the indexes without the two settings
// the package documentation recommends (SQLite's prefix='1', PostgreSQL's
// statistics target), to measure what they are for. The benchmark runs
// only with -bench, so go test ./... stays fast.
func BenchmarkSearch(b *testing.B) {
	n := 1_000_000
	if s := os.Getenv("PLAZA_BENCH_SEARCH_N"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1000 {
			b.Fatalf("PLAZA_BENCH_SEARCH_N=%q: want a number of posts of at least 1000", s)
		}
		n = v
	}
	c := loadBenchCorpus(b, n)
	queries := c.queries()
	for _, e := range sqldbtest.Engines() {
		b.Run(string(e), func(b *testing.B) {
			ix := buildBenchIndex(b, sqldbtest.OpenUnmigrated(b, e), c, os.Getenv("PLAZA_BENCH_SEARCH_PLAIN") != "")
			for _, class := range queries {
				b.Run(class.name, func(b *testing.B) {
					ix.measure(b, class.queries)
				})
			}
		})
	}
}

// benchCorpus is a deterministic set of generated posts and the
// vocabulary they were made from.
type benchCorpus struct {
	zhHead, enHead []string // hand-written common words, most frequent first
	zhTail, enTail []string // generated rare words
	ids            []int64  // post ids, increasing like plaza.IDs
	docs           []string // Document of each post
	sample         []string // every so many posts' text, to cut phrases from
	segmentation   time.Duration
}

var (
	benchCorpusOnce sync.Once
	benchCorpusData *benchCorpus
)

// loadBenchCorpus generates the corpus once per process: -count reruns
// then measure the engines, not the generator.
func loadBenchCorpus(b testing.TB, n int) *benchCorpus {
	benchCorpusOnce.Do(func() {
		c := &benchCorpus{zhHead: benchWords(b, "testdata/words_zh.txt"), enHead: benchWords(b, "testdata/words_en.txt")}
		rng := rand.New(rand.NewPCG(1, 1))
		c.zhTail, c.enTail = tailWords(rng, c.zhHead, 20_000), tailWords(rng, nil, 20_000)
		gen := c.generator(rng)
		c.ids, c.docs = make([]int64, n), make([]string, n)
		texts := make([]string, n)
		// Plaza IDs hold milliseconds from bit 22 up: one post every 2.5
		// s on average spreads a million over a month, and the id gaps
		// make the index's doclists as large as they will be in use.
		ms := int64(0)
		for i := range n {
			ms += 1 + rng.Int64N(5000)
			c.ids[i] = ms<<22 | rng.Int64N(1<<22)
			texts[i] = gen.post()
		}
		start := time.Now()
		for i, t := range texts {
			c.docs[i] = Document(t)
		}
		c.segmentation = time.Since(start)
		for i := 0; i < n; i += max(1, n/1000) {
			c.sample = append(c.sample, texts[i])
		}
		var bytes, tokens int
		for _, d := range c.docs {
			bytes += len(d)
			tokens += strings.Count(d, " ") + 1
		}
		var textBytes int
		for _, t := range texts {
			textBytes += len(t)
		}
		b.Logf("corpus: %d posts, %.0f bytes and %.1f tokens a document on average, from %.0f bytes of text; Document took %v (%.1f µs a post)",
			n, float64(bytes)/float64(n), float64(tokens)/float64(n), float64(textBytes)/float64(n), c.segmentation.Round(time.Millisecond),
			float64(c.segmentation.Microseconds())/float64(n))
		b.Logf("sample posts: %q", texts[:5])
		benchCorpusData = c
	})
	if benchCorpusData == nil {
		b.Fatal("corpus generation failed")
	}
	return benchCorpusData
}

// benchWords reads a word list, dropping repeats.
func benchWords(b testing.TB, path string) []string {
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	var out []string
	for _, w := range strings.Fields(string(data)) {
		if !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}

// tailWords makes n rare words: two-character Chinese words from the
// characters of zh, or English-like words from syllables when zh is nil.
func tailWords(rng *rand.Rand, zh []string, n int) []string {
	var chars []string
	for _, w := range zh {
		for _, r := range w {
			if !slices.Contains(chars, string(r)) {
				chars = append(chars, string(r))
			}
		}
	}
	syllables := strings.Fields("ka lo mi ren tos vel dar qui bex nor sam pla te zu han mor lin gra fen ox")
	seen := map[string]bool{}
	var out []string
	for len(out) < n {
		var w string
		if zh != nil {
			w = chars[rng.IntN(len(chars))] + chars[rng.IntN(len(chars))]
		} else {
			for range 2 + rng.IntN(3) {
				w += syllables[rng.IntN(len(syllables))]
			}
		}
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

// postGenerator writes posts whose words follow Zipf's law over the
// common words and then the rare ones.
type postGenerator struct {
	rng        *rand.Rand
	zh, en     []string
	zhZ, enZ   *rand.Zipf
	emoji      []string
	zhPunct    []string
	enEndPunct []string
}

func (c *benchCorpus) generator(rng *rand.Rand) *postGenerator {
	g := &postGenerator{
		rng:        rng,
		zh:         append(slices.Clone(c.zhHead), c.zhTail...),
		en:         append(slices.Clone(c.enHead), c.enTail...),
		emoji:      strings.Fields("😀 😂 🎉 ❤️ 👍 🙏 😭 🔥 ✨ 🌧️"),
		zhPunct:    strings.Fields("， 。 ！ ？ ～ …"),
		enEndPunct: strings.Fields(". ! ? ... !!"),
	}
	g.zhZ = rand.NewZipf(rng, 1.07, 2, uint64(len(g.zh)-1))
	g.enZ = rand.NewZipf(rng, 1.07, 2, uint64(len(g.en)-1))
	return g
}

// post returns one post: 45% Chinese (about 20 words), 40% English (about
// 15 words), 15% Chinese with English words in it, with punctuation,
// hashtags, mentions and emoji here and there.
func (g *postGenerator) post() string {
	var b strings.Builder
	switch k := g.rng.IntN(100); {
	case k < 45:
		g.chinese(&b, 6+g.rng.IntN(30), false)
	case k < 85:
		g.english(&b, 4+g.rng.IntN(24))
	default:
		g.chinese(&b, 6+g.rng.IntN(24), true)
	}
	if g.rng.IntN(4) == 0 {
		b.WriteString(g.emoji[g.rng.IntN(len(g.emoji))])
	}
	return b.String()
}

func (g *postGenerator) chinese(b *strings.Builder, words int, mixed bool) {
	for i := range words {
		switch r := g.rng.IntN(100); {
		case mixed && r < 15:
			b.WriteString(" " + g.en[g.enZ.Uint64()] + " ")
		case r < 19:
			b.WriteString("#" + g.zh[g.zhZ.Uint64()] + "#")
		default:
			b.WriteString(g.zh[g.zhZ.Uint64()])
		}
		if i < words-1 && g.rng.IntN(10) == 0 {
			b.WriteString(g.zhPunct[g.rng.IntN(len(g.zhPunct))])
		}
	}
	b.WriteString(g.zhPunct[g.rng.IntN(2)])
}

func (g *postGenerator) english(b *strings.Builder, words int) {
	for i := range words {
		if i > 0 {
			b.WriteByte(' ')
		}
		w := g.en[g.enZ.Uint64()]
		switch r := g.rng.IntN(100); {
		case i == 0:
			w = strings.ToUpper(w[:1]) + w[1:]
		case r < 4:
			w = "#" + w
		case r < 6:
			w = "@" + w + strconv.Itoa(g.rng.IntN(100))
		case r < 9:
			w += ","
		}
		b.WriteString(w)
	}
	b.WriteString(g.enEndPunct[g.rng.IntN(len(g.enEndPunct))])
}

// queryClass is a named list of queries.
type queryClass struct {
	name    string
	queries []Query
}

// queries returns the measured query classes: words people search for
// (common words less the commonest function words, drawn uniformly, so
// mid-frequency words weigh as much as frequent ones), phrases cut from
// posts, lone characters, and rare words.
func (c *benchCorpus) queries() []queryClass {
	rng := rand.New(rand.NewPCG(2, 2))
	var zhWords, zhChars []string
	for _, w := range c.zhHead[40:] {
		if utf8.RuneCountInString(w) >= 2 {
			zhWords = append(zhWords, w)
		}
		for _, r := range w {
			zhChars = append(zhChars, string(r))
		}
	}
	enWords := c.enHead[60:]
	word := func() string {
		if rng.IntN(2) == 0 {
			return zhWords[rng.IntN(len(zhWords))]
		}
		return enWords[rng.IntN(len(enWords))]
	}
	// People paste phrases they have seen: 3–6 characters of a post,
	// without punctuation.
	phrase := func() string {
		for {
			r := []rune(c.sample[rng.IntN(len(c.sample))])
			n := 3 + rng.IntN(4)
			if len(r) <= n {
				continue
			}
			i := rng.IntN(len(r) - n)
			if !slices.ContainsFunc(r[i:i+n], func(r rune) bool { return classify(r) != cjk }) {
				return string(r[i : i+n])
			}
		}
	}
	const perClass = 500
	class := func(name string, q func() string) queryClass {
		qc := queryClass{name: name}
		for range perClass {
			s := q()
			pq, err := ParseQuery(s)
			if err != nil {
				panic(fmt.Sprintf("query %q: %v", s, err))
			}
			qc.queries = append(qc.queries, pq)
		}
		return qc
	}
	classes := []queryClass{
		class("zh-word", func() string { return zhWords[rng.IntN(len(zhWords))] }),
		class("en-word", func() string { return enWords[rng.IntN(len(enWords))] }),
		class("zh-phrase", phrase),
		class("2-terms", func() string { return word() + " " + word() }),
		class("3-terms", func() string { return word() + " " + word() + " " + word() }),
	}
	typical := queryClass{name: "typical"}
	for _, qc := range classes {
		typical.queries = append(typical.queries, qc.queries...)
	}
	rng.Shuffle(len(typical.queries), func(i, j int) {
		typical.queries[i], typical.queries[j] = typical.queries[j], typical.queries[i]
	})
	return append([]queryClass{typical}, append(classes,
		class("zh-char", func() string { return zhChars[rng.IntN(len(zhChars))] }),
		class("rare-word", func() string {
			if rng.IntN(2) == 0 {
				return c.zhTail[rng.IntN(len(c.zhTail))]
			}
			return c.enTail[rng.IntN(len(c.enTail))]
		}),
	)...)
}

// benchIndex is a search index of the corpus on one engine.
type benchIndex struct {
	db    *sqldb.DB
	query string
	arg   func(Query) string
}

func buildBenchIndex(b testing.TB, db *sqldb.DB, c *benchCorpus, plain bool) *benchIndex {
	ctx := context.Background()
	e := db.Engine
	exec := func(q string, args ...any) {
		if _, err := db.Write().ExecContext(ctx, q, args...); err != nil {
			b.Fatalf("%s: %v", q, err)
		}
	}
	const batch = 10_000
	start := time.Now()
	ix := &benchIndex{db: db}
	var size string
	switch e {
	case sqldb.SQLite:
		// Contentless: the post's text lives in the posts table, the
		// index needs only the tokens. contentless_delete lets a deleted
		// post leave the index.
		prefix := ", prefix='1'"
		if plain {
			prefix = ""
		}
		exec(`CREATE VIRTUAL TABLE posts_fts USING fts5(doc, content='', contentless_delete=1` + prefix + `, tokenize='unicode61 remove_diacritics 2')`)
		for i := 0; i < len(c.docs); i += batch {
			err := db.InTx(ctx, func(tx *sql.Tx) error {
				st, err := tx.Prepare(`INSERT INTO posts_fts (rowid, doc) VALUES ($1, $2)`)
				if err != nil {
					return err
				}
				defer st.Close()
				for j := i; j < min(i+batch, len(c.docs)); j++ {
					if _, err := st.Exec(c.ids[j], c.docs[j]); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatalf("index: %v", err)
			}
		}
		exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
		var pages, pageSize int64
		if err := db.Read().QueryRowContext(ctx, `SELECT page_count, page_size FROM pragma_page_count(), pragma_page_size()`).Scan(&pages, &pageSize); err != nil {
			b.Fatal(err)
		}
		size = fmt.Sprintf("database file %.0f MB", float64(pages*pageSize)/1e6)
		ix.query = `SELECT rowid FROM posts_fts WHERE posts_fts MATCH $1 ORDER BY rowid DESC LIMIT 20`
		ix.arg = Query.FTS5
	case sqldb.Postgres:
		exec(`CREATE TABLE posts_search (id bigint PRIMARY KEY, doc_tsv tsvector NOT NULL)`)
		for i := 0; i < len(c.docs); i += batch {
			j := min(i+batch, len(c.docs))
			exec(`INSERT INTO posts_search (id, doc_tsv) SELECT id, to_tsvector('simple', doc) FROM unnest($1::bigint[], $2::text[]) AS t (id, doc)`,
				c.ids[i:j], c.docs[i:j])
		}
		loaded := time.Since(start)
		exec(`CREATE INDEX posts_search_doc ON posts_search USING gin (doc_tsv)`)
		if !plain {
			exec(`ALTER TABLE posts_search ALTER COLUMN doc_tsv SET STATISTICS 1000`)
		}
		exec(`VACUUM ANALYZE posts_search`)
		var table, index int64
		if err := db.Read().QueryRowContext(ctx, `SELECT pg_table_size('posts_search'), pg_relation_size('posts_search_doc')`).Scan(&table, &index); err != nil {
			b.Fatal(err)
		}
		size = fmt.Sprintf("table %.0f MB (load %v), GIN index %.0f MB", float64(table)/1e6, loaded.Round(time.Second), float64(index)/1e6)
		ix.query = `SELECT id FROM posts_search WHERE doc_tsv @@ to_tsquery('simple', $1) ORDER BY id DESC LIMIT 20`
		ix.arg = Query.TSQuery
	}
	b.Logf("%s (plain %v): indexed %d documents in %v; %s", e, plain, len(c.docs), time.Since(start).Round(time.Second), size)
	return ix
}

// measure runs b.N queries, cycling through qs, and reports the latency
// percentiles and the rows a query returned on average.
func (ix *benchIndex) measure(b *testing.B, qs []Query) {
	lat := make([]time.Duration, 0, b.N)
	rows := 0
	b.ResetTimer()
	for i := range b.N {
		q := qs[i%len(qs)]
		start := time.Now()
		ids, err := queryIDs(ix.db.Read(), ix.query, ix.arg(q))
		if err != nil {
			b.Fatalf("%s: %v", ix.arg(q), err)
		}
		lat = append(lat, time.Since(start))
		rows += len(ids)
	}
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(lat)))) - 1
		return float64(lat[max(i, 0)].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
	b.ReportMetric(float64(rows)/float64(b.N), "rows/op")
}

// BenchmarkFold folds a Chinese message with full-width punctuation, as
// most Chinese messages are written, through the quick fold and through
// the whole chain:
//
//	go test -run '^$' -bench Fold -benchmem -count 3 ./internal/textindex/
func BenchmarkFold(b *testing.B) {
	const text = "消息：今天下午三点在公园门口见面，别忘了带上会议材料（第２版）！"
	b.Run("quick", func(b *testing.B) {
		for b.Loop() {
			if _, ok := quickFold(text); !ok {
				b.Fatal("not taken by the quick fold")
			}
		}
	})
	b.Run("chain", func(b *testing.B) {
		for b.Loop() {
			chainFold(text)
		}
	})
}
