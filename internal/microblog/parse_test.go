package microblog

import (
	"slices"
	"strings"
	"testing"
)

func TestParseText(t *testing.T) {
	for _, tc := range []struct {
		text     string
		tags     []string
		mentions []string
	}{
		{"plain words", nil, nil},
		{"I like #Go and #go and #GO", []string{"go"}, nil},
		{"full width #Ｇｏ counts as #go", []string{"go"}, nil},
		{"今天#天气#很好 #天气#", []string{"天气"}, nil},
		{"#话题 带空格# is a Weibo tag with a space inside", []string{"话题 带空格"}, nil},
		{"two words #a #b", []string{"a", "b"}, nil},
		{"no closing #天气很好", []string{"天气很好"}, nil},
		{"#rust#go: the closing mark opens nothing", []string{"rust"}, nil},
		{"C# and F# are languages, issue#12 is not a tag", nil, nil},
		{"a lone # and ## and # # are nothing", nil, nil},
		{"line\n#one\n#two", []string{"one", "two"}, nil},
		{"hi @Alice and @bob_99, mail me at carol@example.com", nil, []string{"alice", "bob_99"}},
		{"@ab is too short, @" + strings.Repeat("x", 31) + " too long", nil, nil},
		{"@alice @ALICE @alice", nil, []string{"alice"}},
		{"(@dave) said #Café and #café", []string{"café"}, []string{"dave"}},
		{"#" + strings.Repeat("长", 65) + "# is too long a tag", nil, nil},
	} {
		p := parseText(tc.text)
		if !slices.Equal(p.tags, tc.tags) || !slices.Equal(p.mentions, tc.mentions) {
			t.Errorf("parseText(%q) = tags %q mentions %q; want %q and %q", tc.text, p.tags, p.mentions, tc.tags, tc.mentions)
		}
	}
}

func TestFoldTag(t *testing.T) {
	for in, want := range map[string]string{
		"#Go": "go", "Go#": "go", "#话题#": "话题", "ＧＯ": "go", "  Straße ": "strasse", "#": "", "": "",
		"a\tb": "", strings.Repeat("x", 65): "", strings.Repeat("x", 64): strings.Repeat("x", 64),
		// Hostile: nothing to read, or a look-alike of another tag.
		"\u0301\u0301": "", "#\ufe0f\u20e3": "", "#!!!#": "", "#\u200b#": "", "go\u200b": "go", "天\u200d气": "天气", "\u202egoogle": "google",
	} {
		if got := FoldTag(in); got != want {
			t.Errorf("FoldTag(%q) = %q, want %q", in, got, want)
		}
	}
}
