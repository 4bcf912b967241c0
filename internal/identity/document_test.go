package identity

import (
	"strings"
	"testing"
	"time"
)

// withCheckDigit completes 17 digits with their ISO 7064 MOD 11-2 check
// character, computed as (12 - sum mod 11) mod 11 rather than through the
// lookup string document.go uses.
func withCheckDigit(tb testing.TB, first17 string) string {
	tb.Helper()
	if len(first17) != 17 {
		tb.Fatalf("withCheckDigit(%q): want 17 characters", first17)
	}
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, c := range first17 {
		sum += int(c-'0') * weights[i]
	}
	check := (12 - sum%11) % 11
	if check == 10 {
		return first17 + "X"
	}
	return first17 + string(rune('0'+check))
}

func TestChineseIDRule(t *testing.T) {
	now := time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)
	const (
		ok       = ""
		length   = "must be 18 characters (a Chinese resident identity card number)"
		digits   = "must be 17 digits followed by a digit or X"
		province = "does not start with a valid province code"
		birth    = "does not contain a valid birth date"
		check    = "has a wrong check digit"
	)
	tests := []struct {
		name, id, want string
	}{
		{"GB 11643 example", "11010519491231002X", ok},
		{"computed check digit", withCheckDigit(t, "44030519900307123"), ok},
		{"Hong Kong resident code 81", withCheckDigit(t, "81000019800101002"), ok},
		{"born today", withCheckDigit(t, "31010120260315001"), ok},
		{"born 1900-01-01", withCheckDigit(t, "31010119000101001"), ok},
		{"wrong check digit", "110105194912310021", check},
		{"lower-case x is not normalized here", "11010519491231002x", check},
		{"letter other than X last", "11010519491231002Y", check},
		{"province 00", withCheckDigit(t, "00010519491231002"), province},
		{"province 10", withCheckDigit(t, "10010519491231002"), province},
		{"province 99", withCheckDigit(t, "99010519491231002"), province},
		{"month 13", withCheckDigit(t, "11010519491331002"), birth},
		{"day 32", withCheckDigit(t, "11010519491232002"), birth},
		{"29 February of a common year", withCheckDigit(t, "11010519490229002"), birth},
		{"born tomorrow", withCheckDigit(t, "11010520260316002"), birth},
		{"born in 2099", withCheckDigit(t, "11010520990101002"), birth},
		{"born before 1900", withCheckDigit(t, "11010518991231002"), birth},
		{"17 characters", "11010519491231002", length},
		{"19 characters", "11010519491231002X0", length},
		{"15-digit first-generation card", "110105491231002", length},
		{"empty", "", length},
		{"letter inside", "1101051949123A002X", digits},
		{"X inside", "X1010519491231002X", digits},
		{"space inside", "110105 9491231002X", digits},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := chineseIDRule(tt.id, now); got != tt.want {
				t.Errorf("chineseIDRule(%q) = %q, want %q", tt.id, got, tt.want)
			}
			// Rules describe the problem; they never repeat the number.
			if tt.id != "" && strings.Contains(chineseIDRule(tt.id, now), tt.id) {
				t.Errorf("chineseIDRule(%q) repeats the number", tt.id)
			}
		})
	}
}

func TestNormalizeDocumentNumber(t *testing.T) {
	tests := []struct{ in, want string }{
		{"11010519491231002X", "11010519491231002X"},
		{"11010519491231002x", "11010519491231002X"},
		{"110105 19491231 002x", "11010519491231002X"},
		{"  110105\t19491231\n002X  ", "11010519491231002X"},
		{"110105\u300019491231\u3000002x", "11010519491231002X"}, // ideographic space
		{"e1234 5678", "E12345678"},
		{"ab-123", "AB-123"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := normalizeDocumentNumber(tt.in); got != tt.want {
			t.Errorf("normalizeDocumentNumber(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDocumentNumberRule(t *testing.T) {
	now := time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)
	const generic = "must be 5–32 letters, digits or dashes"
	tests := []struct {
		name, docType, country, number, want string
	}{
		{"CN national ID", NationalID, "CN", "11010519491231002X", ""},
		{"CN national ID, normalized", NationalID, "CN", normalizeDocumentNumber("110105 19491231 002x"), ""},
		{"CN national ID gets the full check", NationalID, "CN", "110105194912310021", "has a wrong check digit"},
		{"CN national ID is not a passport number", NationalID, "CN", "E12345678", "must be 18 characters (a Chinese resident identity card number)"},
		{"CN passport", Passport, "CN", "E12345678", ""},
		{"passport with dashes", Passport, "FR", "12-AB-34567", ""},
		{"passport of 5", Passport, "US", "A1234", ""},
		{"passport of 32", Passport, "US", strings.Repeat("A1", 16), ""},
		{"passport of 4", Passport, "US", "A123", generic},
		{"passport of 33", Passport, "US", strings.Repeat("A", 33), generic},
		{"passport with a dot", Passport, "GB", "A1234.567", generic},
		{"passport with a space", Passport, "GB", "A1234 567", generic},
		{"passport in lower case is not normalized here", Passport, "GB", "a1234567", generic},
		{"passport with a non-ASCII letter", Passport, "DE", "Ä1234567", generic},
		{"empty passport", Passport, "DE", "", generic},
		{"national ID of another country", NationalID, "FR", "X4RTBPFW4", ""},
		{"other country's ID need not be 18 digits", NationalID, "HK", "110105194912310021", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := documentNumberRule(tt.docType, tt.country, tt.number, now); got != tt.want {
				t.Errorf("documentNumberRule(%q, %q, %q) = %q, want %q", tt.docType, tt.country, tt.number, got, tt.want)
			}
		})
	}
}

func TestCountryRule(t *testing.T) {
	for _, c := range []string{"CN", "US", "HK", "ZZ"} {
		if got := countryRule(c); got != "" {
			t.Errorf("countryRule(%q) = %q, want \"\"", c, got)
		}
	}
	const want = "must be an ISO 3166-1 alpha-2 country code such as CN"
	for _, c := range []string{"", "C", "cn", "Cn", "CHN", "C1", "1N", "中国", " CN"} {
		if got := countryRule(c); got != want {
			t.Errorf("countryRule(%q) = %q, want %q", c, got, want)
		}
	}
}

func TestCleanLegalName(t *testing.T) {
	const (
		length    = "must be 1–128 characters"
		invisible = "must not contain control or invisible formatting characters"
	)
	tests := []struct {
		name, in, want, rule string
	}{
		{"plain", "Zhang San", "Zhang San", ""},
		{"trimmed", "  张三  ", "张三", ""},
		{"128 runes", strings.Repeat("张", 128), strings.Repeat("张", 128), ""},
		{"129 runes", strings.Repeat("张", 129), strings.Repeat("张", 129), length},
		{"empty", "", "", length},
		{"blank", " \t ", "", length},
		{"invalid UTF-8", "Zhang\xffSan", "Zhang\xffSan", length},
		{"newline inside", "Zhang\nSan", "Zhang\nSan", invisible},
		{"NUL inside", "Zhang\x00San", "Zhang\x00San", invisible},
		{"zero-width space", "Zhang\u200bSan", "Zhang\u200bSan", invisible},
		{"right-to-left override", "Zhang\u202eSan", "Zhang\u202eSan", invisible},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, rule := cleanLegalName(tt.in)
			if got != tt.want || rule != tt.rule {
				t.Errorf("cleanLegalName(%q) = %q, %q; want %q, %q", tt.in, got, rule, tt.want, tt.rule)
			}
		})
	}
}
