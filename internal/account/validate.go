package account

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/plaza-im/plaza/internal/textcheck"
)

const (
	handleMin      = 3
	handleMax      = 30
	displayNameMax = 64
	passwordMin    = 8
	passwordMax    = 256
	reasonMax      = 1000
)

// normalizeHandle lowercases a handle: handles are unique regardless of
// case, and stored in lower case.
func normalizeHandle(h string) string { return strings.ToLower(strings.TrimSpace(h)) }

// handleRule returns why h (already normalised) is not a valid handle, or "".
func handleRule(h string) string {
	const rule = "must be 3–30 characters of a-z, 0-9 and _"
	if len(h) < handleMin || len(h) > handleMax {
		return rule
	}
	for _, c := range h {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return rule
		}
	}
	return ""
}

// cleanDisplayName trims name and returns it with the rule it breaks, if any.
func cleanDisplayName(name string) (string, string) {
	name = strings.TrimSpace(name)
	if !utf8.ValidString(name) {
		return name, "must be valid UTF-8"
	}
	n := utf8.RuneCountInString(name)
	if n < 1 || n > displayNameMax {
		return name, "must be 1–64 characters after trimming spaces"
	}
	// A name must show something, and show what it is: no bidi overrides,
	// no name made only of fillers, joiners or marks.
	return name, textcheck.Visible(name)
}

// passwordRule returns why p is not an acceptable password, or "".
func passwordRule(p string) string {
	if !utf8.ValidString(p) {
		return "must be valid UTF-8"
	}
	n := utf8.RuneCountInString(p)
	if n < passwordMin || n > passwordMax {
		return "must be 8–256 characters"
	}
	return ""
}

// parseBirthDate parses a YYYY-MM-DD birth date that is not in the future
// and not before 1900.
func parseBirthDate(s string, today time.Time) (time.Time, string) {
	d, err := time.ParseInLocation(time.DateOnly, s, today.Location())
	if err != nil {
		return time.Time{}, "must be a date as YYYY-MM-DD"
	}
	if d.Year() < 1900 || d.After(today) {
		return time.Time{}, "must be a real birth date, not in the future"
	}
	return d, ""
}

// age returns the age in whole years on today of someone born on birth.
func age(birth, today time.Time) int {
	years := today.Year() - birth.Year()
	if today.Month() < birth.Month() || today.Month() == birth.Month() && today.Day() < birth.Day() {
		years--
	}
	return years
}

// reasonRule checks a moderation or suspension reason.
func reasonRule(r string) string {
	n := utf8.RuneCountInString(strings.TrimSpace(r))
	if n < 1 || n > reasonMax {
		return "must be 1–1000 characters"
	}
	return ""
}
