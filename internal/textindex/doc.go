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
// schema is the caller's:
//
//	SQLite:     CREATE VIRTUAL TABLE post_search USING fts5(doc,
//	                tokenize='unicode61 remove_diacritics 2')
//	            … WHERE post_search MATCH q.FTS5()
//	PostgreSQL: doc_tsv tsvector (to_tsvector('simple', Document(text))),
//	            CREATE INDEX … USING gin (doc_tsv)
//	            … WHERE doc_tsv @@ to_tsquery('simple', q.TSQuery())
//
// Known limits: words of scripts without spaces other than CJK (Thai, Lao,
// Khmer, Myanmar) are indexed whole, so only whole runs match; with
// vowel signs removed, Indic and Thai words can match a little more than
// they should; PostgreSQL keeps at most 256 positions of one token per
// document, so a phrase can miss in a document that repeats a bigram more
// often than that, where SQLite finds it.
package textindex
