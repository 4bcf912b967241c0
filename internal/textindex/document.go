package textindex

import (
	"strings"
	"unicode/utf8"
)

// Bounds on what Document reads and writes.
const (
	// MaxTextBytes is how much of a text Document indexes; the rest is
	// ignored. Posts are shorter; the bound keeps a document's cost fixed.
	MaxTextBytes = 10_000
	// maxDocTokens bounds the tokens of a document. NFKC can lengthen
	// text (one ligature becomes 18 letters), and PostgreSQL records word
	// positions only up to 16383: past that, phrases would match
	// differently on the two engines.
	maxDocTokens = 8192
)

// Document returns the text to store in the index for text: normalised
// tokens separated by single spaces. Words of letters and digits are
// NFKC-normalised, case-folded and stripped of combining marks
// (full-width ＡＢＣ and abc are the same word); punctuation, symbols and
// emoji separate words and are not indexed, so #go indexes as go and @alice
// as alice. A run of CJK characters (Han, Hiragana, Katakana, Hangul)
// becomes its overlapping bigrams followed by its last character alone:
// 今天天气 becomes "今天 天天 天气 气". A lone CJK character is a unigram.
//
// Text over MaxTextBytes is truncated at a rune boundary; invalid UTF-8
// and NUL separate words like punctuation.
func Document(text string) string {
	if len(text) > MaxTextBytes {
		n := MaxTextBytes
		for n > 0 && !utf8.RuneStart(text[n]) {
			n--
		}
		text = text[:n]
	}
	// Invalid bytes become spaces, so they separate words rather than join them.
	text = fold(strings.ToValidUTF8(text, " "))

	var b strings.Builder
	b.Grow(len(text) + len(text)/2)
	n := 0
	add := func(tok string) bool {
		if n == maxDocTokens {
			return false
		}
		if n > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(tok)
		n++
		return true
	}
	for run, isCJK := range runs(text) {
		if !isCJK {
			if !add(clip(run)) {
				break
			}
			continue
		}
		if !addCJK(run, add) {
			break
		}
	}
	return b.String()
}

// addCJK adds the bigrams of a CJK run and then its last character. The
// bigrams let a query of two or more characters match as a phrase of
// bigrams anywhere in the run (天气 in 今天天气很好), which 2-character words,
// the commonest, need: a trigram index cannot find them. The last character
// alone means every character of the text starts some token, so a
// one-character query finds it as a prefix (天* matches 天气 and the final
// 天 of 今天) without the cost of indexing every character twice.
func addCJK(run string, add func(string) bool) bool {
	prev := -1 // offset of the previous character
	for i, r := range run {
		if prev >= 0 && !add(run[prev:i+utf8.RuneLen(r)]) {
			return false
		}
		prev = i
	}
	return add(run[prev:])
}
