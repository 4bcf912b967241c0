// Package textcheck holds the rules for text that people type and others
// read: what every stored string must be (valid UTF-8 without NUL, which
// PostgreSQL cannot store), what a one-line title or name may hold, and
// when a display name shows anything at all. Each function returns the
// rule a string breaks, ready for plaza.Invalid, or "" when it is fine.
package textcheck

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Storable returns why s cannot be stored as text: invalid UTF-8, or a
// NUL character.
func Storable(s string) string {
	if !utf8.ValidString(s) {
		return "must be valid UTF-8"
	}
	if strings.IndexByte(s, 0) >= 0 {
		return "must not contain a NUL character (\\u0000)"
	}
	return ""
}

// PlainLine returns why s is not plain single-line text: it must be
// storable and hold no control characters (newlines and tabs included),
// no line or paragraph separators and no invisible formatting characters,
// bidi overrides and isolates above all, which make a title display as
// something else. Zero-width joiners and emoji tag characters stay:
// emoji sequences need them.
func PlainLine(s string) string {
	if rule := Storable(s); rule != "" {
		return rule
	}
	for _, r := range s {
		switch {
		case unicode.IsControl(r), r == '\u2028', r == '\u2029':
			return "must be a single line without control characters"
		case unicode.Is(unicode.Cf, r) && !emojiFormat(r):
			return "must not contain invisible formatting characters (such as bidi overrides)"
		}
	}
	return ""
}

// Multiline returns why s is not text that may span lines (a post): it
// must be storable and hold no control characters but newlines, carriage
// returns and tabs, and no bidi embeddings, overrides or isolates, which
// make text display as something other than what it says (a link, a
// handle). Other format characters (joiners, soft hyphens) stay.
func Multiline(s string) string {
	if rule := Storable(s); rule != "" {
		return rule
	}
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
		case unicode.IsControl(r):
			return "must not contain control characters other than line breaks and tabs"
		case r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
			return "must not contain bidi embeddings, overrides or isolates"
		}
	}
	return ""
}

// Visible returns why s, a display name, does not show as anything: it
// must be PlainLine and hold at least one visible character, not only
// spaces, joiners, combining marks or blank-looking fillers (U+3164,
// U+2800 and the like) that let a name pass for empty or for someone
// else's.
func Visible(s string) string {
	if rule := PlainLine(s); rule != "" {
		return rule
	}
	for _, r := range s {
		if visible(r) {
			return ""
		}
	}
	return "must contain at least one visible character"
}

// emojiFormat reports the format characters that emoji sequences use:
// ZWJ (family and profession emoji) and the tag characters of
// subdivision flags.
func emojiFormat(r rune) bool {
	return r == '\u200d' || r >= 0xE0020 && r <= 0xE007F
}

// blanks are letters and symbols that render as nothing.
var blanks = map[rune]bool{
	'\u115f': true, // HANGUL CHOSEONG FILLER
	'\u1160': true, // HANGUL JUNGSEONG FILLER
	'\u3164': true, // HANGUL FILLER
	'\uffa0': true, // HALFWIDTH HANGUL FILLER
	'\u2800': true, // BRAILLE PATTERN BLANK
	'\u180e': true, // MONGOLIAN VOWEL SEPARATOR
	'\u17b4': true, // KHMER VOWEL INHERENT AQ
	'\u17b5': true, // KHMER VOWEL INHERENT AA
}

func visible(r rune) bool {
	return unicode.IsGraphic(r) && !unicode.IsSpace(r) && !blanks[r] &&
		!unicode.In(r, unicode.Mn, unicode.Me, unicode.Mc, unicode.Cf, unicode.Zs) &&
		!(r >= 0xE0000 && r <= 0xE0FFF) // tags and variation selectors
}
