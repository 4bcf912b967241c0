package identity

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Document types accepted for identity verification.
const (
	NationalID = "national_id"
	Passport   = "passport"
)

const legalNameMax = 128

// cleanLegalName trims a legal name and returns the rule it breaks, if any.
// Error messages never repeat the value.
func cleanLegalName(s string) (string, string) {
	s = strings.TrimSpace(s)
	n := utf8.RuneCountInString(s)
	if !utf8.ValidString(s) || n < 1 || n > legalNameMax {
		return s, "must be 1–128 characters"
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return s, "must not contain control or invisible formatting characters"
		}
	}
	return s, ""
}

// countryRule checks an ISO 3166-1 alpha-2 code (upper case).
func countryRule(c string) string {
	if len(c) != 2 || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z' {
		return "must be an ISO 3166-1 alpha-2 country code such as CN"
	}
	return ""
}

// documentNumberRule checks a document number for its type and country,
// with the full check for Chinese resident identity cards. now bounds the
// birth date a card may encode.
func documentNumberRule(docType, country, number string, now time.Time) string {
	if docType == NationalID && country == "CN" {
		return chineseIDRule(number, now)
	}
	if len(number) < 5 || len(number) > 32 {
		return "must be 5–32 letters, digits or dashes"
	}
	for _, c := range number {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return "must be 5–32 letters, digits or dashes"
		}
	}
	return ""
}

// chineseIDWeights are the GB 11643-1999 weights of the first 17 digits.
var chineseIDWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// chineseIDRule validates an 18-character resident identity card number:
// a province code, a real birth date and the ISO 7064 MOD 11-2 check digit.
func chineseIDRule(id string, now time.Time) string {
	if len(id) != 18 {
		return "must be 18 characters (a Chinese resident identity card number)"
	}
	sum := 0
	for i := 0; i < 17; i++ {
		c := id[i]
		if c < '0' || c > '9' {
			return "must be 17 digits followed by a digit or X"
		}
		sum += int(c-'0') * chineseIDWeights[i]
	}
	if id[0] < '1' || id[0] > '9' || id[1] < '0' || id[1] > '9' || !validProvince(id[:2]) {
		return "does not start with a valid province code"
	}
	birth, err := time.Parse("20060102", id[6:14])
	if err != nil || birth.Year() < 1900 || birth.After(now) {
		return "does not contain a valid birth date"
	}
	if want := "10X98765432"[sum%11]; id[17] != want {
		return "has a wrong check digit"
	}
	return ""
}

// validProvince reports whether p is a GB/T 2260 province-level code.
func validProvince(p string) bool {
	switch p {
	case "11", "12", "13", "14", "15",
		"21", "22", "23",
		"31", "32", "33", "34", "35", "36", "37",
		"41", "42", "43", "44", "45", "46",
		"50", "51", "52", "53", "54",
		"61", "62", "63", "64", "65",
		"71", "81", "82", "83":
		return true
	}
	return false
}

// normalizeDocumentNumber upper-cases and removes spaces, so "11010519491231002x"
// and "110105 19491231 002X" are the same number.
func normalizeDocumentNumber(s string) string {
	return strings.ToUpper(strings.Join(strings.Fields(s), ""))
}
