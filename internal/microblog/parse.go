package microblog

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Bounds on what one post may tag and mention: enough for any sentence,
// and a post cannot notify a crowd or flood the hashtag index.
const (
	maxTags     = 10
	maxMentions = 10
	maxTagRunes = 64
)

// FoldTag returns the canonical form of a hashtag: compatibility
// normalised (NFKC: full-width letters become ASCII, ligatures split) and
// case-folded, so #Go, #GO and #Ｇｏ are one tag. A leading "#" (and a
// trailing one, Weibo's closing mark) is dropped. It returns "" for what
// is not a tag.
func FoldTag(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "#")
	s = strings.TrimSuffix(s, "#")
	s = norm.NFKC.String(cases.Fold().String(norm.NFKC.String(s)))
	// Invisible format characters (zero-width spaces and joiners, bidi
	// marks) would make look-alikes of a tag; a tag needs a letter or a
	// digit, so one of marks or symbols alone is none.
	s = strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, s))
	if s == "" || utf8.RuneCountInString(s) > maxTagRunes || strings.ContainsAny(s, "#\n\r\t") ||
		strings.IndexFunc(s, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) < 0 {
		return ""
	}
	return s
}

// parsed is what a post's text tags and mentions, each list distinct and
// in order of appearance.
type parsed struct {
	tags     []string
	mentions []string // handles, lower case
}

// parseText finds the hashtags and mentions in text. Hashtags are Weibo's
// "#话题#" (anything but "#" and line breaks between two marks, not
// starting or ending with a space) or "#word" (a run of letters, digits,
// marks and "_"); a "#" right after an ASCII letter or digit ("C#") is no
// tag. Mentions are "@handle" (3–30 of a-z, 0-9 and _, any case) not
// preceded by a letter, digit or "_" (so no e-mail address is one).
func parseText(text string) parsed {
	var p parsed
	seenTag, seenMention := map[string]bool{}, map[string]bool{}
	rs := []rune(text)
	for i := 0; i < len(rs); i++ {
		switch rs[i] {
		case '#':
			if i > 0 && isASCIIAlnum(rs[i-1]) {
				continue
			}
			tag, end := weiboTag(rs, i)
			if tag == "" {
				tag, end = wordTag(rs, i)
			}
			if tag = FoldTag(tag); tag != "" {
				if !seenTag[tag] {
					seenTag[tag] = true
					p.tags = append(p.tags, tag)
				}
				// A Weibo tag's closing mark ends it; it opens nothing.
				i = end - 1
			}
		case '@':
			if i > 0 && (isASCIIAlnum(rs[i-1]) || rs[i-1] == '_') {
				continue
			}
			j := i + 1
			for j < len(rs) && (isASCIIAlnum(rs[j]) || rs[j] == '_') {
				j++
			}
			if n := j - i - 1; n >= 3 && n <= 30 {
				h := strings.ToLower(string(rs[i+1 : j]))
				if !seenMention[h] {
					seenMention[h] = true
					p.mentions = append(p.mentions, h)
				}
			}
			i = j - 1
		}
	}
	return p
}

// weiboTag reads "#…#" at rs[i] and returns its content and the index
// after the closing mark, or "" when there is none.
func weiboTag(rs []rune, i int) (string, int) {
	for j := i + 1; j < len(rs) && j-i-1 <= maxTagRunes; j++ {
		switch rs[j] {
		case '\n', '\r':
			return "", 0
		case '#':
			content := rs[i+1 : j]
			if len(content) == 0 || unicode.IsSpace(content[0]) || unicode.IsSpace(content[len(content)-1]) {
				return "", 0
			}
			return string(content), j + 1
		}
	}
	return "", 0
}

// wordTag reads "#word" at rs[i] and returns the word and the index after
// it.
func wordTag(rs []rune, i int) (string, int) {
	j := i + 1
	for j < len(rs) && (unicode.IsLetter(rs[j]) || unicode.IsDigit(rs[j]) || unicode.IsMark(rs[j]) || rs[j] == '_') {
		j++
	}
	return string(rs[i+1 : j]), j
}

func isASCIIAlnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}
