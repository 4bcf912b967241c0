package textindex

import (
	"iter"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// maxTokenBytes clips a word: both engines then index the same bounded
// lexeme (PostgreSQL skips lexemes over 2047 bytes, SQLite has no limit),
// and a query word is clipped the same way, so it still matches.
const maxTokenBytes = 64

// fold returns s in the form documents and queries are compared in:
// NFKC (full-width letters and digits become ASCII, half-width katakana
// full-width), full Unicode case folding (Straße and STRASSE both become
// strasse), and without combining marks or invisible format characters.
//
// Marks go because the engines disagree about them: SQLite's unicode61
// splits words at most Indic and Thai vowel signs, PostgreSQL keeps them,
// and only SQLite removes Latin diacritics. Removing them here leaves both
// engines the same letters to index (café and cafe match alike on both).
// The kana voicing marks stay, recomposed by NFC, since が is not か.
func fold(s string) string {
	if ascii(s) {
		return asciiLower(s)
	}
	if out, ok := quickFold(s); ok {
		return out
	}
	return chainFold(s)
}

// chainFold is fold through the whole chain of transformers.
func chainFold(s string) string {
	t := folders.Get().(transform.Transformer)
	defer folders.Put(t)
	out, _, err := transform.String(t, s) // String resets t first
	if err != nil {
		// The transformers only fail on invalid input they were not given
		// (s is valid UTF-8 here); index nothing rather than unfolded text,
		// which would match differently on the two engines.
		return ""
	}
	return out
}

// folders reuse fold's transformer chains: a chain holds buffers and a
// Caser keeps state, so one cannot be shared, and making one per call
// costs more than the folding of a short post.
var folders = sync.Pool{New: func() any {
	return transform.Chain(norm.NFKC, cases.Fold(), norm.NFKD, runes.Remove(runes.Predicate(ignorable)), norm.NFC, runes.Map(lowerCherokee))
}}

// lowerCherokee undoes one quirk of Unicode case folding, which maps
// Cherokee to upper case; PostgreSQL lower-cases what it indexes, so folded
// Cherokee would not be what it stores. Lower case is stable on both engines.
func lowerCherokee(r rune) rune {
	if unicode.Is(unicode.Cherokee, r) {
		return unicode.ToLower(r)
	}
	return r
}

// ignorable reports whether fold drops r: combining marks (but the kana
// voicing marks) and format characters such as soft hyphens, zero-width
// joiners and bidi controls, which are invisible and must not split a word.
func ignorable(r rune) bool {
	if r == '\u3099' || r == '\u309a' {
		return false
	}
	return unicode.In(r, unicode.M, unicode.Cf)
}

// quickFold folds text made only of ASCII and the common characters of
// Chinese text (quickTakes) without the chain, which costs several passes
// over the text: the CJK ideographs and most of Chinese punctuation pass
// through every step of the chain unchanged, and the rest becomes ASCII
// under NFKC (the ideographic space a space, the ellipsis three dots,
// full-width ASCII its ASCII, lower-cased like ASCII). Each folds on its
// own to characters that combine with nothing, so folding rune by rune
// gives what the chain gives for the whole text
// (TestQuickFoldAgreesWithTheChain checks every rune it takes, and every
// pair of them but the ideographs). It reports false on any other rune,
// invalid UTF-8 included.
func quickFold(s string) (string, bool) {
	// Short texts, most messages, are built on the stack, so a text the
	// quick fold gives up on costs no allocation.
	var stack [512]byte
	b := stack[:0]
	if len(s) > len(stack) {
		b = make([]byte, 0, len(s))
	}
	for i, r := range s {
		switch {
		case r < utf8.RuneSelf:
			b = append(b, lowerASCII(byte(r)))
		case 0x4e00 <= r && r <= 0x9fff: // the ideographs most text is made of
			b = append(b, s[i:i+3]...)
		case 0xff01 <= r && r <= 0xff5e: // full-width ASCII
			b = append(b, lowerASCII(byte(r-(0xff01-'!'))))
		case r == 0x3000: // ideographic space
			b = append(b, ' ')
		case r == 0x2026: // horizontal ellipsis
			b = append(b, "..."...)
		case quickTakes(r):
			b = append(b, s[i:i+utf8.RuneLen(r)]...)
		default:
			return "", false
		}
	}
	return string(b), true
}

// quickTakes reports whether quickFold folds r: ASCII; the CJK ideographs
// of the main block and of Extension A; the ideographic space, 、。〃〇,
// and the brackets, quotation marks and wave dash of U+3008–U+301F
// (〈〉《》「」『』【】〔〕〖〗〘〙〚〛〜〝〞〟); the quotation marks “”‘’, the dash
// —, the middle dot · and the ellipsis … that Chinese text borrows; and
// full-width ASCII (！，：；？（）０-９Ａ-Ｚ…).
func quickTakes(r rune) bool {
	switch {
	case r < utf8.RuneSelf, 0x4e00 <= r && r <= 0x9fff, 0x3400 <= r && r <= 0x4dbf, 0xff01 <= r && r <= 0xff5e:
		return true
	case 0x3000 <= r && r <= 0x3003, r == 0x3007, 0x3008 <= r && r <= 0x3011, 0x3014 <= r && r <= 0x301f:
		return true
	case r == 0x201c, r == 0x201d, r == 0x2018, r == 0x2019, r == 0x2014, r == 0x00b7, r == 0x2026:
		return true
	}
	return false
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// runClass is what a folded rune contributes to the index.
type runClass uint8

const (
	separator runClass = iota // punctuation, symbols, emoji, spaces
	word                      // a letter or digit of a space-separated script
	cjk                       // a character of a script written without spaces
)

// classify returns r's class. A word is letters and digits (so #go and
// @alice index as go and alice, and e-mail as the phrase "e mail");
// everything else separates. The letters left out are those one of the
// engines does not treat as a letter (see engineGaps), so that no token
// the package emits is split or dropped by one engine and not the other.
func classify(r rune) runClass {
	switch {
	case r < utf8.RuneSelf:
		if 'a' <= r && r <= 'z' || '0' <= r && r <= '9' || 'A' <= r && r <= 'Z' {
			return word
		}
		return separator
	case !unicode.In(r, unicode.L, unicode.Nd, unicode.Nl) || unicode.Is(engineGaps, r):
		return separator
	case unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul) || r == 'ー':
		// ー (U+30FC, the katakana length mark) belongs to no script but
		// is part of katakana words: タワー.
		return cjk
	default:
		return word
	}
}

// engineGaps are letters and digits that Go's Unicode 15 tables know but
// one engine splits words at or drops. PostgreSQL classifies characters
// with the C library of its host (glibc 2.36, Unicode 14, on Debian 12), so
// it drops the letters added in Unicode 15, CJK Extension H among them;
// SQLite's unicode61 still treats New Tai Lue vowels and two Vedic signs as
// marks. TestEnginesAgreeOnLetters finds any new gap on the engines tests
// run against.
var engineGaps = &unicode.RangeTable{
	R16: []unicode.Range16{
		{Lo: 0x19b0, Hi: 0x19c0, Stride: 1},
		{Lo: 0x19c8, Hi: 0x19c9, Stride: 1},
		{Lo: 0x1cf2, Hi: 0x1cf3, Stride: 1},
	},
	R32: []unicode.Range32{
		{Lo: 0x1123f, Hi: 0x11240, Stride: 1},
		{Lo: 0x11f02, Hi: 0x11f59, Stride: 1},
		{Lo: 0x1342f, Hi: 0x1342f, Stride: 1},
		{Lo: 0x13441, Hi: 0x13446, Stride: 1},
		{Lo: 0x1b132, Hi: 0x1b132, Stride: 1},
		{Lo: 0x1b155, Hi: 0x1b155, Stride: 1},
		{Lo: 0x1df25, Hi: 0x1df2a, Stride: 1},
		{Lo: 0x1e030, Hi: 0x1e06d, Stride: 1},
		{Lo: 0x1e4d0, Hi: 0x1e4f9, Stride: 1},
		{Lo: 0x2b739, Hi: 0x2b739, Stride: 1},
		{Lo: 0x31350, Hi: 0x323af, Stride: 1},
	},
}

// runs yields the maximal runs of word characters and of CJK characters in
// folded text s, each with whether it is CJK. A word next to a CJK run
// ("Plaza天气") is a run of its own.
func runs(s string) iter.Seq2[string, bool] {
	return func(yield func(string, bool) bool) {
		start, cur := 0, separator
		flush := func(end int) bool {
			switch cur {
			case cjk:
				return yield(s[start:end], true)
			case word:
				w := s[start:end]
				// PostgreSQL's parser reads a word that starts like 2e10
				// as that number and what follows as another word.
				if n := floatPrefix(w); n > 0 {
					return yield(w[:n], false) && yield(w[n:], false)
				}
				return yield(w, false)
			}
			return true
		}
		for i, r := range s {
			c := classify(r)
			if c == cur {
				continue
			}
			if !flush(i) {
				return
			}
			start, cur = i, c
		}
		flush(len(s))
	}
}

// floatPrefix returns the length of the number in exponent notation
// (digits, e, digits) that word w starts with, when more follows it;
// otherwise 0.
func floatPrefix(w string) int {
	i := digits(w, 0)
	if i == 0 || i == len(w) || w[i] != 'e' {
		return 0
	}
	j := digits(w, i+1)
	if j == i+1 || j == len(w) {
		return 0
	}
	return j
}

// digits returns the end of the ASCII digits in w from i.
func digits(w string, i int) int {
	for i < len(w) && '0' <= w[i] && w[i] <= '9' {
		i++
	}
	return i
}

// clip cuts a word to maxTokenBytes at a rune boundary.
func clip(w string) string {
	if len(w) <= maxTokenBytes {
		return w
	}
	n := maxTokenBytes
	for n > 0 && !utf8.RuneStart(w[n]) {
		n--
	}
	return w[:n]
}
