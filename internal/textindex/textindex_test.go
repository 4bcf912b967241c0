package textindex

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/plaza-im/plaza/internal/plazatest"
)

func TestDocument(t *testing.T) {
	for _, tt := range []struct {
		text, want string
	}{
		{"今天天气很好", "今天 天天 天气 气很 很好 好"},
		{"天", "天"},
		{"公园", "公园 园"},
		{"Plaza 天气 good", "plaza 天气 气 good"},
		{"Plaza天气good", "plaza 天气 气 good"},
		{"東京タワー", "東京 京タ タワ ワー ー"},
		{"ﾀﾜｰ", "タワ ワー ー"},         // half-width katakana
		{"ガ がっこう", "ガ がっ っこ こう う"}, // voicing marks kept
		{"안녕하세요", "안녕 녕하 하세 세요 요"},
		{"ＡＢＣ ｄｅｆ １２３", "abc def 123"},
		{"Straße STRASSE", "strasse strasse"},
		{"Café CAFÉ naïve Ångström", "cafe cafe naive angstrom"},
		{"Hello, world! 😀🎉 ✨", "hello world"},
		{"#天气# #go @alice", "天气 气 go alice"},
		{"e-mail a_b x@y.com 3.14", "e mail a b x y com 3 14"},
		{"co\u00adop\u200dera\u200btion", "cooperation"},
		{"「今天」、天气。", "今天 天 天气 气"},
		{"2024年", "2024 年"},
		{"a\x00b", "a b"},
		{"a\xffb\xc3", "a b"},
		{"   ", ""},
		{"", ""},
		{"ꭰꭱ ᎠᎡ", "ꭰꭱ ꭰꭱ"}, // Cherokee in the lower case both engines keep
	} {
		if got := Document(tt.text); got != tt.want {
			t.Errorf("Document(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

func TestDocumentBounds(t *testing.T) {
	t.Run("text truncated at a rune boundary", func(t *testing.T) {
		// 3-byte characters: the limit falls inside one.
		text := strings.Repeat("天", MaxTextBytes/3+10)
		doc := Document(text)
		if !utf8.ValidString(doc) {
			t.Fatalf("document is not valid UTF-8")
		}
		// n characters make n-1 bigrams and one unigram.
		if got, want := len(strings.Fields(doc)), MaxTextBytes/3; got != want {
			t.Errorf("got %d tokens, want %d", got, want)
		}
	})
	t.Run("long word clipped", func(t *testing.T) {
		doc := Document(strings.Repeat("é", 100))
		if len(doc) > maxTokenBytes || !utf8.ValidString(doc) || doc != strings.Repeat("e", maxTokenBytes) {
			t.Errorf("got %q, want %d e's", doc, maxTokenBytes)
		}
	})
	t.Run("expansion bounded in tokens", func(t *testing.T) {
		// U+FDFA is one character that NFKC turns into four words.
		doc := Document(strings.Repeat("\ufdfa", MaxTextBytes/3))
		if got := len(strings.Fields(doc)); got != maxDocTokens {
			t.Errorf("got %d tokens, want %d", got, maxDocTokens)
		}
	})
}

func TestParseQuery(t *testing.T) {
	for _, tt := range []struct {
		q         string
		terms     []string
		fts5, tsq string
	}{
		{"天气", []string{"天气"}, `"天气"`, `'天气'`},
		{"天", []string{"天*"}, `"天"*`, `'天':*`},
		{"天气很好", []string{"天气 气很 很好"}, `"天气" + "气很" + "很好"`, `('天气' <-> '气很' <-> '很好')`},
		{"Plaza 天气  GOOD", []string{"plaza", "天气", "good"}, `"plaza" AND "天气" AND "good"`, `'plaza' & '天气' & 'good'`},
		{"Plaza天气good", []string{"plaza 天气 气 good"}, `"plaza" + "天气" + "气" + "good"`, `('plaza' <-> '天气' <-> '气' <-> 'good')`},
		{"x天", []string{"x 天*"}, `"x" + "天"*`, `('x' <-> '天':*)`},
		{"天x", []string{"天 x"}, `"天" + "x"`, `('天' <-> 'x')`},
		{"#天气#", []string{"天气"}, `"天气"`, `'天气'`},
		{"#go", []string{"go"}, `"go"`, `'go'`},
		{"ＡＢＣ\u3000abc", []string{"abc"}, `"abc"`, `'abc'`},
		{`a OR b`, []string{"a", "or", "b"}, `"a" AND "or" AND "b"`, `'a' & 'or' & 'b'`},
		{`NEAR(a b) "x*" -y c:d 'e' \f g&h|i !j`, []string{"near a", "b", "x", "y", "c d", "e", "f", "g h i", "j"},
			`"near" + "a" AND "b" AND "x" AND "y" AND "c" + "d" AND "e" AND "f" AND "g" + "h" + "i" AND "j"`,
			`('near' <-> 'a') & 'b' & 'x' & 'y' & ('c' <-> 'd') & 'e' & 'f' & ('g' <-> 'h' <-> 'i') & 'j'`},
		{"go go GO 😀", []string{"go"}, `"go"`, `'go'`},
	} {
		q, err := ParseQuery(tt.q)
		if err != nil {
			t.Errorf("ParseQuery(%q): %v", tt.q, err)
			continue
		}
		if got := q.Terms(); !slices.Equal(got, tt.terms) {
			t.Errorf("ParseQuery(%q).Terms() = %q, want %q", tt.q, got, tt.terms)
		}
		if got := q.FTS5(); got != tt.fts5 {
			t.Errorf("ParseQuery(%q).FTS5() = %s, want %s", tt.q, got, tt.fts5)
		}
		if got := q.TSQuery(); got != tt.tsq {
			t.Errorf("ParseQuery(%q).TSQuery() = %s, want %s", tt.q, got, tt.tsq)
		}
	}
}

func TestParseQueryRefuses(t *testing.T) {
	for _, tt := range []struct {
		name, q string
	}{
		{"empty", ""},
		{"blank", " \t\u3000 "},
		{"punctuation and emoji only", `"*:() !! 😀 #`},
		{"NUL", "天气\x00"},
		{"invalid UTF-8", "天气\xff"},
		{"truncated UTF-8", "天气\xe5\xa4"},
		{"too long", strings.Repeat("a", MaxQueryChars+1)},
		{"too long in characters", strings.Repeat("天", MaxQueryChars+1)},
		{"too many terms", "a b c d e f g h i j k l m n o p q"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseQuery(tt.q)
			plazatest.WantInvalid(t, err, "q")
		})
	}
	t.Run("at the limits", func(t *testing.T) {
		var words []string
		for i := range MaxTerms {
			words = append(words, string(rune('a'+i)))
		}
		if _, err := ParseQuery(strings.Join(words, " ")); err != nil {
			t.Errorf("%d terms: %v", MaxTerms, err)
		}
		if _, err := ParseQuery(strings.Repeat("天", MaxQueryChars)); err != nil {
			t.Errorf("%d characters: %v", MaxQueryChars, err)
		}
		// Repeated terms count once.
		if _, err := ParseQuery(strings.Repeat("go ", MaxTerms+5)); err != nil {
			t.Errorf("repeated terms: %v", err)
		}
	})
}

// TestQuickFoldAgreesWithTheChain: the quick fold takes a rune only if
// the chain folds it, alone, to the same text, and text made of such
// runes folds the same both ways: every pair of the runes it takes but
// the ideographs (with a few ideographs among them), and random strings.
func TestQuickFoldAgreesWithTheChain(t *testing.T) {
	var taken, others []rune
	for r := rune(0); r <= utf8.MaxRune; r++ {
		if !quickTakes(r) {
			continue
		}
		taken = append(taken, r)
		if !(0x4e00 <= r && r <= 0x9fff || 0x3400 <= r && r <= 0x4dbf) {
			others = append(others, r)
		}
		quick, ok := quickFold(string(r))
		if chain := chainFold(string(r)); !ok || quick != chain {
			t.Errorf("U+%04X %q: quick fold %q (%v), the chain %q", r, string(r), quick, ok, chain)
		}
	}
	// ASCII, 20,992 + 6,592 ideographs, 27 of ideographic punctuation, 7
	// borrowed marks and 94 full-width: a range lost or grown shows here.
	if want := 128 + 20992 + 6592 + 27 + 7 + 94; len(taken) != want {
		t.Errorf("the quick fold takes %d runes, want %d", len(taken), want)
	}
	others = append(others, '中', '文')
	for _, a := range others {
		for _, b := range others {
			s := string(a) + string(b)
			quick, ok := quickFold(s)
			if chain := chainFold(s); !ok || quick != chain {
				t.Errorf("%q: quick fold %q (%v), the chain %q", s, quick, ok, chain)
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		var b strings.Builder
		for range 1 + rng.IntN(24) {
			b.WriteRune(taken[rng.IntN(len(taken))])
		}
		s := b.String()
		quick, _ := quickFold(s)
		if chain := chainFold(s); quick != chain {
			t.Fatalf("%q: quick fold %q, the chain %q", s, quick, chain)
		}
	}
	for _, s := range []string{"今天下午三点，在公园门口见面！", "《三体》第２章：ＡＢＣ，ok？", "会议　纪要「草案」", "他说：“好的……”——就这样·〇"} {
		if _, ok := quickFold(s); !ok {
			t.Errorf("%q: not taken by the quick fold", s)
		}
	}
	for _, s := range []string{"café", "日本語のテキスト", "한국어", "Straße", "e\u0301", "中\xff文", "中\u200d文"} {
		if _, ok := quickFold(s); ok {
			t.Errorf("%q: taken by the quick fold, which knows nothing of it", s)
		}
	}
}
