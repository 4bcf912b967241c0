package textindex

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/textcheck"
)

// Bounds on a query.
const (
	// MaxQueryChars is the longest query ParseQuery accepts, in characters.
	MaxQueryChars = 200
	// MaxTerms is how many terms a query may have after normalisation.
	MaxTerms = 16
)

// Query is a parsed user search query: every term must match. Each term
// is a phrase of index tokens, built by the same rules as Document, so a
// term matches a document exactly when its tokens appear there in a row.
// The zero Query has no terms and is not a query: use ParseQuery.
type Query struct {
	terms [][]token
}

// token is one index token of a query term. prefix marks a lone CJK
// character, which the index holds as the first character of a bigram
// or as a unigram, so it is matched as a prefix.
type token struct {
	text   string
	prefix bool
}

// ParseQuery parses q: terms are separated by white space, and each term
// is normalised like Document's text. Terms that hold nothing to search
// for (punctuation, emoji) are dropped and repeated terms count once.
// Errors are invalid_request naming the field "q": invalid UTF-8 or NUL,
// more than MaxQueryChars characters, more than MaxTerms terms, or nothing
// left to search for.
func ParseQuery(q string) (Query, error) {
	if rule := textcheck.Storable(q); rule != "" {
		return Query{}, plaza.Invalid("q", rule)
	}
	if utf8.RuneCountInString(q) > MaxQueryChars {
		return Query{}, plaza.Invalid("q", fmt.Sprintf("must be at most %d characters", MaxQueryChars))
	}
	var terms [][]token
	seen := map[string]bool{}
	// Folding first lets NFKC turn the ideographic space (U+3000) into a
	// space that separates terms.
	for _, field := range strings.FieldsFunc(fold(q), unicode.IsSpace) {
		term := parseTerm(field)
		if len(term) == 0 {
			continue
		}
		key := termKey(term)
		if seen[key] {
			continue
		}
		seen[key] = true
		terms = append(terms, term)
	}
	switch {
	case len(terms) == 0:
		return Query{}, plaza.Invalid("q", "must contain a letter, digit or CJK character to search for")
	case len(terms) > MaxTerms:
		return Query{}, plaza.Invalid("q", fmt.Sprintf("must have at most %d terms", MaxTerms))
	}
	return Query{terms: terms}, nil
}

// parseTerm returns the tokens of one folded term: the phrase that
// Document's tokens for the term's text contain wherever the text occurs.
// Document ends every CJK run with its last character alone, but the
// text's run in a document may go on past the term's (天气 in 天气很好), so
// a term's CJK run is its bigrams alone, plus its last character only
// where the term itself shows the run ending there (天气abc). A run of one
// character that ends the term may be the start of a longer run in the
// document, so it is a prefix.
func parseTerm(field string) []token {
	type run struct {
		text  string
		isCJK bool
	}
	var rs []run
	for text, isCJK := range runs(field) {
		rs = append(rs, run{text, isCJK})
	}
	var term []token
	for k, r := range rs {
		if !r.isCJK {
			term = append(term, token{text: clip(r.text)})
			continue
		}
		last := k == len(rs)-1
		prev := -1 // offset of the previous character
		for i, c := range r.text {
			if prev >= 0 {
				term = append(term, token{text: r.text[prev : i+utf8.RuneLen(c)]})
			}
			prev = i
		}
		switch {
		case prev == 0 && last:
			term = append(term, token{text: r.text, prefix: true})
		case prev == 0 || !last:
			term = append(term, token{text: r.text[prev:]})
		}
	}
	return term
}

func termKey(term []token) string {
	var b strings.Builder
	for _, t := range term {
		b.WriteString(t.text)
		if t.prefix {
			b.WriteByte('*')
		}
		b.WriteByte(' ')
	}
	return b.String()
}

// Terms returns the query's terms, each as its tokens separated by
// spaces; a token matched as a prefix ends in "*". It is for tests and
// logs: "天气 公园" gives ["天气", "公园"], "天气很好" gives ["天气 气很 很好"].
func (q Query) Terms() []string {
	out := make([]string, len(q.terms))
	for i, term := range q.terms {
		out[i] = strings.TrimSuffix(termKey(term), " ")
	}
	return out
}

// FTS5 returns the expression for `WHERE <fts table> MATCH ?` on SQLite:
// each term as a phrase of its tokens, the terms ANDed. The table must
// index Document's output with tokenize='unicode61 remove_diacritics 2'.
//
// Every token is a quoted string, and a token holds only letters and
// digits, so nothing in the user's input can inject FTS5 syntax: quotes,
// *, NEAR, AND, OR, NOT, ^, : and parentheses never reach the expression as
// anything but separators. Quotes are doubled anyway, so that stays true
// if the alphabet ever grows.
func (q Query) FTS5() string {
	var b strings.Builder
	for i, term := range q.terms {
		if i > 0 {
			b.WriteString(" AND ")
		}
		for j, t := range term {
			if j > 0 {
				// "a" + "b" is the phrase "a b"; unlike a single quoted
				// string it lets a token in the middle be a prefix.
				b.WriteString(" + ")
			}
			b.WriteByte('"')
			b.WriteString(strings.ReplaceAll(t.text, `"`, `""`))
			b.WriteByte('"')
			if t.prefix {
				b.WriteByte('*')
			}
		}
	}
	return b.String()
}

// TSQuery returns the text for `@@ to_tsquery('simple', ?)` on PostgreSQL:
// each term a phrase of its tokens joined with <->, the terms joined with
// &. The tsvector must be to_tsvector('simple', doc) of Document's output.
// Every lexeme is quoted (quotes and backslashes doubled, though tokens
// hold neither), so nothing in the user's input can inject tsquery
// syntax.
func (q Query) TSQuery() string {
	var b strings.Builder
	for i, term := range q.terms {
		if i > 0 {
			b.WriteString(" & ")
		}
		if len(term) > 1 {
			b.WriteByte('(')
		}
		for j, t := range term {
			if j > 0 {
				b.WriteString(" <-> ")
			}
			b.WriteByte('\'')
			b.WriteString(tsEscaper.Replace(t.text))
			b.WriteByte('\'')
			if t.prefix {
				b.WriteString(":*")
			}
		}
		if len(term) > 1 {
			b.WriteByte(')')
		}
	}
	return b.String()
}

var tsEscaper = strings.NewReplacer(`'`, `''`, `\`, `\\`)
