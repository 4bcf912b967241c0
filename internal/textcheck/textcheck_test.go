package textcheck

import "testing"

func TestHostileInvisibleNames(t *testing.T) {
	for _, s := range []string{
		"\u200d", "\u200c", "\u3164", "\u2800", "\u115f\u1160", "\uffa0", "\u0301", "\u20dd",
		"   ", "\u3000", "\u200d\u3164 \u2800", "\ufe0f", "\u00ad", "\u034f", "\U000e0041",
	} {
		if Visible(s) == "" {
			t.Errorf("Visible(%+q) accepted an invisible name", s)
		}
	}
}

func TestHostilePlainLine(t *testing.T) {
	for _, s := range []string{
		"a\x00b", "a\nb", "a\rb", "a\tb", "\u202eevil", "a\u2066b\u2069", "a\u2028b", "a\u200eb", "\ufeffa", "a\x7fb",
		"a\xffb",
	} {
		if PlainLine(s) == "" {
			t.Errorf("PlainLine(%+q) accepted it", s)
		}
		if Visible(s) == "" {
			t.Errorf("Visible(%+q) accepted it", s)
		}
	}
}

func TestHostileStorable(t *testing.T) {
	for _, s := range []string{"a\x00", "\xff", "\xed\xa0\x80"} {
		if Storable(s) == "" {
			t.Errorf("Storable(%+q) accepted it", s)
		}
	}
	if rule := Storable("line one\nline two\u202e"); rule != "" {
		t.Errorf("Storable refused ordinary text: %s", rule)
	}
}

func TestLegitimateScripts(t *testing.T) {
	for _, s := range []string{
		"张伟", "公园 散步", "محمد", "مرحبا بالعالم", "עברית", "👍", "👩‍👩‍👧‍👦", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "❤️", "Zoë", "e\u0301", "한국어",
		"हिन्दी", "ไทย", "A_b-c.d", "O'Brien",
	} {
		if rule := Visible(s); rule != "" {
			t.Errorf("Visible(%+q) = %q, want accepted", s, rule)
		}
	}
}

func TestMultiline(t *testing.T) {
	for _, s := range []string{"", "line one\nline two", "tab\there\r\n", "今天天气很好 #天气#", "مرحبا بالعالم", "👩‍👩‍👧‍👦 soft\u00adhyphen"} {
		if rule := Multiline(s); rule != "" {
			t.Errorf("Multiline(%+q) = %q, want accepted", s, rule)
		}
	}
	for _, s := range []string{"a\x00b", "\xff", "bell\a", "esc\x1b[31m", "del\x7f", "c1\u0085", "evil\u202egnp.exe", "iso\u2066late\u2069"} {
		if Multiline(s) == "" {
			t.Errorf("Multiline(%+q) accepted it", s)
		}
	}
}
