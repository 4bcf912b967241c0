package account

import (
	"strings"
	"testing"
	"time"
)

func TestHandleRule(t *testing.T) {
	tests := []struct {
		in    string
		valid bool
	}{
		{"abc", true},
		{"alice_2024", true},
		{strings.Repeat("a", 30), true},
		{"ab", false},
		{"", false},
		{strings.Repeat("a", 31), false},
		{"al-ice", false},
		{"al ice", false},
		{"al.ice", false},
		{"ålice", false},
		{"alice\x00", false},
		{"Alice", false}, // handleRule sees normalised handles only
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := handleRule(tt.in) == ""; got != tt.valid {
				t.Errorf("handleRule(%q) valid: got %v, want %v", tt.in, got, tt.valid)
			}
		})
	}
}

func TestNormalizeHandle(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Alice", "alice"},
		{"  BOB_1 ", "bob_1"},
		{"carol", "carol"},
	}
	for _, tt := range tests {
		if got := normalizeHandle(tt.in); got != tt.want {
			t.Errorf("normalizeHandle(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCleanDisplayName(t *testing.T) {
	tests := []struct {
		name, in, want string
		valid          bool
	}{
		{"plain", "Alice Liddell", "Alice Liddell", true},
		{"trimmed", "  Alice \t\n", "Alice", true},
		{"64 runes", strings.Repeat("é", 64), strings.Repeat("é", 64), true},
		{"CJK", "张伟", "张伟", true},
		{"emoji with ZWJ", "👩\u200d💻 dev", "👩\u200d💻 dev", true},
		{"empty", "", "", false},
		{"only spaces", "   ", "", false},
		{"65 runes", strings.Repeat("é", 65), "", false},
		{"bell", "Al\aice", "", false},
		{"newline inside", "Al\nice", "", false},
		{"DEL", "Alice\x7f!", "", false},
		{"C1 control", "Alice\u0085!", "", false},
		{"right-to-left override", "abc\u202Egpj.exe", "", false},
		{"zero-width space", "Ali\u200Bce", "", false},
		{"invalid UTF-8", "Ali\xffce", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, rule := cleanDisplayName(tt.in)
			if (rule == "") != tt.valid {
				t.Fatalf("cleanDisplayName(%q): got rule %q, want valid=%v", tt.in, rule, tt.valid)
			}
			if tt.valid && got != tt.want {
				t.Errorf("cleanDisplayName(%q): got %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestPasswordRule(t *testing.T) {
	tests := []struct {
		name, in string
		valid    bool
	}{
		{"8 characters", "12345678", true},
		{"256 characters", strings.Repeat("x", 256), true},
		{"8 multibyte runes", "密码密码密码密码", true},
		{"7 characters", "1234567", false},
		{"empty", "", false},
		{"257 characters", strings.Repeat("x", 257), false},
		{"invalid UTF-8", "12345678\xff", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := passwordRule(tt.in) == ""; got != tt.valid {
				t.Errorf("passwordRule(%q) valid: got %v, want %v", tt.in, got, tt.valid)
			}
		})
	}
}

func TestParseBirthDate(t *testing.T) {
	today := time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in    string
		valid bool
	}{
		{"1990-05-17", true},
		{"1900-01-01", true},
		{"2026-03-15", true}, // today
		{"2012-02-29", true},
		{"2026-03-16", false}, // tomorrow
		{"2030-01-01", false},
		{"1899-12-31", false},
		{"2013-02-29", false},
		{"1990-02-30", false},
		{"1990-13-01", false},
		{"1990-5-17", false},
		{"17/05/1990", false},
		{"1990-05-17T00:00:00Z", false},
		{" 1990-05-17", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, rule := parseBirthDate(tt.in, today)
			if (rule == "") != tt.valid {
				t.Errorf("parseBirthDate(%q): got rule %q, want valid=%v", tt.in, rule, tt.valid)
			}
		})
	}
}

// TestParseBirthDateInOperatorZone checks "not in the future" against the
// calendar date in the operator's time zone, which is the date the age gate
// uses.
func TestParseBirthDateInOperatorZone(t *testing.T) {
	east := time.FixedZone("UTC+8", 8*3600)
	west := time.FixedZone("UTC-8", -8*3600)
	tests := []struct {
		name  string
		birth string
		today time.Time
		valid bool
	}{
		// 04:00 on 15 March in UTC+8 is still 14 March in UTC.
		{"today in UTC+8", "2026-03-15", time.Date(2026, 3, 15, 4, 0, 0, 0, east), true},
		// 21:00 on 14 March in UTC-8 is already 15 March in UTC.
		{"tomorrow in UTC-8", "2026-03-15", time.Date(2026, 3, 14, 21, 0, 0, 0, west), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, rule := parseBirthDate(tt.birth, tt.today)
			if (rule == "") != tt.valid {
				t.Errorf("parseBirthDate(%q, %v): got rule %q, want valid=%v", tt.birth, tt.today, rule, tt.valid)
			}
		})
	}
}

func TestAge(t *testing.T) {
	date := func(s string) time.Time {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	tests := []struct {
		birth, today string
		want         int
	}{
		{"2012-03-15", "2026-03-15", 14},
		{"2012-03-16", "2026-03-15", 13},
		{"2012-03-14", "2026-03-15", 14},
		{"2012-04-01", "2026-03-15", 13},
		{"2012-02-01", "2026-03-15", 14},
		{"2012-02-29", "2026-02-28", 13},
		{"2012-02-29", "2026-03-01", 14},
		{"2012-02-29", "2028-02-29", 16},
		{"2026-03-15", "2026-03-15", 0},
		{"1990-12-31", "2026-01-01", 35},
	}
	for _, tt := range tests {
		if got := age(date(tt.birth), date(tt.today)); got != tt.want {
			t.Errorf("age(%s, %s): got %d, want %d", tt.birth, tt.today, got, tt.want)
		}
	}
}

func TestReasonRule(t *testing.T) {
	tests := []struct {
		name, in string
		valid    bool
	}{
		{"one character", "x", true},
		{"1000 runes", strings.Repeat("é", 1000), true},
		{"empty", "", false},
		{"only spaces", "  \t ", false},
		{"1001 runes", strings.Repeat("é", 1001), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := reasonRule(tt.in) == ""; got != tt.valid {
				t.Errorf("reasonRule(%q) valid: got %v, want %v", tt.in, got, tt.valid)
			}
		})
	}
}
