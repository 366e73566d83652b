package crm

import (
	"net/mail"
	"regexp"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// DefaultRegion is the region assumed for phone numbers written without a
// country code.
const DefaultRegion = "VN"

// NormalizePhone parses a phone number written in any common form
// ("0912 345 678", "+84912345678", "84912345678", "(028) 3822 1234") and
// returns it in E.164. Validation is the phone library's, not a pattern.
func NormalizePhone(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", Errorf(EINVALID, "empty phone number")
	}
	digits := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			digits++
		}
	}
	// "84912345678" without '+' is a Vietnamese number with its country code.
	if !strings.HasPrefix(s, "+") && !strings.HasPrefix(s, "0") && strings.HasPrefix(s, "84") && digits >= 11 {
		s = "+" + s
	}
	n, err := phonenumbers.Parse(s, DefaultRegion)
	if err != nil {
		return "", Errorf(EINVALID, "%q is not a phone number: %v", MaskPhone(s), err)
	}
	if !phonenumbers.IsValidNumber(n) {
		return "", Errorf(EINVALID, "%s is not a valid phone number", MaskPhone(s))
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}

// phoneCandidate finds runs that may hold a phone number; the phone library
// decides which ones are numbers.
var phoneCandidate = regexp.MustCompile(`\+?\(?\d[\d\s.\-()]{7,18}\d`)

// FindPhone returns the first valid phone number in free text, in E.164.
func FindPhone(text string) string {
	digits := 0
	for i := 0; i < len(text); i++ {
		if text[i] >= '0' && text[i] <= '9' {
			digits++
		}
	}
	if digits < 8 { // no phone number is shorter; most messages have none
		return ""
	}
	for _, m := range phoneCandidate.FindAllString(text, -1) {
		if p, err := NormalizePhone(m); err == nil {
			return p
		}
	}
	return ""
}

// NormalizeEmail validates an address and lower-cases it.
func NormalizeEmail(s string) (string, error) {
	a, err := mail.ParseAddress(strings.TrimSpace(s))
	if err != nil || !strings.Contains(a.Address, "@") || strings.ContainsAny(a.Address, " <>") {
		return "", Errorf(EINVALID, "%q is not an email address", MaskEmail(s))
	}
	at := strings.LastIndexByte(a.Address, '@')
	if !strings.Contains(a.Address[at:], ".") {
		return "", Errorf(EINVALID, "%s is not an email address", MaskEmail(s))
	}
	return strings.ToLower(a.Address), nil
}

// FindEmail returns the first valid email address in free text.
func FindEmail(text string) string {
	for _, w := range strings.Fields(text) {
		if !strings.Contains(w, "@") {
			continue
		}
		w = strings.Trim(w, ".,;:!?()[]<>\"'")
		if e, err := NormalizeEmail(w); err == nil {
			return e
		}
	}
	return ""
}

// MaskPhone hides the middle of a phone number for logs: +8491****678.
func MaskPhone(p string) string {
	r := []rune(p)
	if len(r) <= 6 {
		return strings.Repeat("*", len(r))
	}
	keepHead, keepTail := 4, 3
	if len(r) < keepHead+keepTail+2 {
		keepHead, keepTail = 2, 2
	}
	return string(r[:keepHead]) + strings.Repeat("*", len(r)-keepHead-keepTail) + string(r[len(r)-keepTail:])
}

// MaskEmail hides the local part of an address for logs: a***@example.com.
func MaskEmail(e string) string {
	at := strings.LastIndexByte(e, '@')
	if at <= 0 {
		return "***"
	}
	return e[:1] + "***" + e[at:]
}

var emailLike = regexp.MustCompile(`[^\s@<>"']+@[^\s@<>"']+`)
var digitRun = regexp.MustCompile(`\+?\d[\d\s.\-]{6,}\d`)

// MaskText masks every phone-like run and email address in free text, for
// logs that must not carry personal data.
func MaskText(s string) string {
	s = emailLike.ReplaceAllStringFunc(s, MaskEmail)
	return digitRun.ReplaceAllStringFunc(s, MaskPhone)
}
