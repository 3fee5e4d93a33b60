package store

import (
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/currency"
)

// Languages are the interface languages Cartera ships catalogs for.
var Languages = []string{"ca", "es", "en"}

// ValidLanguage reports whether lang is one of Languages.
func ValidLanguage(lang string) bool { return slices.Contains(Languages, lang) }

// ValidTimezone reports whether tz is an IANA zone name Go can load.
func ValidTimezone(tz string) bool {
	if tz == "" || tz == "Local" {
		return false
	}
	_, err := time.LoadLocation(tz)
	return err == nil
}

// ValidCurrency reports whether c is an ISO 4217 code such as EUR.
func ValidCurrency(c string) bool {
	if len(c) != 3 || strings.ToUpper(c) != c {
		return false
	}
	_, err := currency.ParseISO(c)
	return err == nil
}

// normEmail trims and checks an e-mail address; it returns the address and
// the i18n key of its problem ("" when fine).
func normEmail(v string) (string, string) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", "error.required"
	}
	if len(v) > 254 || strings.ContainsAny(v, "\r\n<> ,;") {
		return v, "error.email"
	}
	a, err := mail.ParseAddress(v)
	if err != nil || a.Address != v || !strings.Contains(v[strings.LastIndexByte(v, '@')+1:], ".") {
		return v, "error.email"
	}
	return v, ""
}

// cleanText trims a one-line text value and checks its length and encoding;
// control characters (CR, LF, NUL, …) are refused so they can never reach
// headers or logs.
func cleanText(v string, required bool, maxLen int) (string, string) {
	v = strings.TrimSpace(v)
	if v == "" {
		if required {
			return "", "error.required"
		}
		return "", ""
	}
	if !utf8.ValidString(v) {
		return v, "error.encoding"
	}
	if utf8.RuneCountInString(v) > maxLen {
		return v, "error.too_long"
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7f {
			return v, "error.control_chars"
		}
	}
	return v, ""
}

// cleanLongText is cleanText for multi-line values: newlines and tabs are kept.
func cleanLongText(v string, maxLen int) (string, string) {
	v = strings.TrimSpace(strings.ReplaceAll(v, "\r\n", "\n"))
	if !utf8.ValidString(v) {
		return v, "error.encoding"
	}
	if utf8.RuneCountInString(v) > maxLen {
		return v, "error.too_long"
	}
	for _, r := range v {
		if (r < 0x20 && r != '\n' && r != '\t') || r == 0x7f {
			return v, "error.control_chars"
		}
	}
	return v, ""
}

var keyRe = regexp.MustCompile(`^[a-z][a-z0-9_]{1,39}$`)

// validKey reports whether k is a stable machine key (lowercase, digits, _).
func validKey(k string) bool { return keyRe.MatchString(k) }
