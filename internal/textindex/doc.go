// Package textindex turns text into full-text index documents and user
// queries into match expressions, so that the same rows match on SQLite
// (FTS5) and PostgreSQL (tsvector), for Chinese and Japanese written
// without spaces as well as for Latin text.
//
// Neither engine segments CJK text: SQLite's unicode61 tokenizer and
// PostgreSQL's parser both take 今天天气很好 as one word, so 天气 would not
// find it. Segmentation therefore happens here, in Go, the same way for
// documents and for queries, and the engines only split the result at
// spaces:
//
//   - Text is normalised: NFKC, full case folding, combining marks and
//     invisible format characters removed (see fold).
//   - Words of letters and digits are tokens; punctuation, symbols and
//     emoji separate them.
//   - A run of Han, Hiragana, Katakana or Hangul becomes its overlapping
//     bigrams, then its last character alone.
//
// A query term becomes the phrase of its tokens, and a query the AND of
// its terms: 天气很好 is the phrase "天气 气很 很好", which matches wherever
// the four characters stand in a row. Bigrams rather than trigrams, because
// the commonest Chinese words have two characters (公园) and a trigram
// index cannot find them; bigrams rather than a dictionary segmenter,
// because a segmenter that splits the document differently from the query
// misses, and new words (names, slang) are not in any dictionary. A lone
// CJK character in a query is matched as a prefix (天* finds 天气, and the
// unigram that ends each run finds the 天 of 今天), which costs the index one
// token per run instead of one per character.
//
// Every token is letters and digits that both engines take as one word
// unchanged, so a document's tokens are the same on both and expressions
// quote each token: user input cannot inject query syntax. The index
// schema is the caller's; the layout the tests and the benchmark use is
//
//	SQLite:     CREATE VIRTUAL TABLE post_search USING fts5(doc, content='',
//	                contentless_delete=1, prefix='1',
//	                tokenize='unicode61 remove_diacritics 2')
//	            INSERT INTO post_search (rowid, doc) VALUES (id, Document(text))
//	            … WHERE post_search MATCH q.FTS5() ORDER BY rowid DESC LIMIT 20
//	PostgreSQL: doc_tsv tsvector NOT NULL, set to to_tsvector('simple', Document(text))
//	            CREATE INDEX … USING gin (doc_tsv)
//	            ALTER TABLE … ALTER COLUMN doc_tsv SET STATISTICS 1000
//	            … WHERE doc_tsv @@ to_tsquery('simple', q.TSQuery()) ORDER BY id DESC LIMIT 20
//
// Two settings there are for speed, measured on a million posts
// (BenchmarkSearch, p99 medians of three runs). prefix='1' keeps a list of
// the posts holding tokens that start with each character, so a
// one-character query reads one list instead of merging the lists of every
// bigram the character begins: 50 ms becomes 1.6 ms, for an index of 412
// MB instead of 240. Without the larger statistics target PostgreSQL's
// planner takes a rare word for a fairly common one and walks the table
// newest first looking for 20 matches that are not there: 320 ms becomes
// 7 ms.
//
// Known limits: words of scripts without spaces other than CJK (Thai, Lao,
// Khmer, Myanmar) are indexed whole, so only whole runs match; with
// vowel signs removed, Indic and Thai words can match a little more than
// they should; PostgreSQL keeps at most 256 positions of one token per
// document, so a phrase can miss in a document that repeats a bigram more
// often than that, where SQLite finds it.
package textindex
