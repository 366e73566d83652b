package llm

import (
	"regexp"
	"strings"

	"github.com/idicbot/idicbot/crm"
)

// Placeholders that stand in for personal data in prompts.
const (
	PhonePlaceholder   = "[phone]"
	EmailPlaceholder   = "[email]"
	AddressPlaceholder = "[address]"
)

var (
	scrubEmail = regexp.MustCompile(`[^\s@<>"'(),;:]+@[^\s@<>"'(),;:]+\.[^\s@<>"'(),;:]*[^\s@<>"'(),;:.!?]`)
	// scrubDigits finds runs that may be phone numbers (or prices: see isAmount).
	scrubDigits = regexp.MustCompile(`\+?\(?\d[\d\s.\-()]{6,18}\d`)
	// groupedAmount is a number written with thousands separators, the way
	// prices are: 15.000.000, 690,000.
	groupedAmount = regexp.MustCompile(`^[1-9]\d{0,2}([.,]\d{3})+$`)
	// amountUnit follows a number that is an amount, not a phone number.
	amountUnit = regexp.MustCompile(`(?i)^\s*(₫|đồng|đ|vnđ|vnd|dong|k|tr|triệu|trieu|nghìn|nghin|ngàn|ngan|million|m|%|percent)(?:$|[^\p{L}\d])`)
	// scrubStreet finds street addresses written the Vietnamese or English way:
	// a house number (1, 12A, 45/3) followed by a street word, or a lane,
	// ward or district with its number or name. (No \b after the street
	// word: RE2's \b is ASCII, and "ngõ", "phố" end in a letter it does not
	// know.)
	scrubStreet = regexp.MustCompile(`(?i)(\b(số|so|no\.?)\s*)?\b\d{1,5}[a-z]?(/\d{1,5}[a-z]?)*\s+(đường|duong|phố|pho|ngõ|ngo|ngách|ngach|hẻm|hem|kiệt|kiet|street|st\.|road|rd\.|avenue|ave\.|lane)(?:$|[^\p{L}\d][^,;\n]*)`)
	scrubArea   = regexp.MustCompile(`(?i:\b(ngõ|ngách|hẻm|kiệt|phường|quận|huyện|tổ|khu phố|thôn|ấp|district|ward))\s+[\p{L}\d]+(\s+[\p{Lu}\d][\p{L}\d]*)*`)
	// scrubHouse is a house number followed by a capitalised street name and
	// a comma: "123 Nguyễn Trãi, ..." (product names rarely end in a comma
	// followed by a place).
	scrubHouse = regexp.MustCompile(`\b\d{1,5}[A-Za-z]?(/\d{1,5})*\s+(\p{Lu}\p{Ll}*\s+){1,3}\p{Lu}\p{Ll}*\s*,`)
)

// Scrub replaces phone numbers, email addresses and street addresses in
// customer text with placeholders, so that no personal data goes into a
// prompt. Prices ("15.000.000", "15 triệu", "500k") and product names
// ("iPhone 15") are kept: the model needs them.
func Scrub(s string) string {
	s = crm.ASCIIDigits(s) // so that "０９１２３４５６７８" is found too
	s = scrubEmail.ReplaceAllString(s, EmailPlaceholder)
	s = replaceAllIndex(scrubDigits, s, func(m string, rest string) string {
		trimmed := strings.TrimRight(m, " .-(")
		if isAmount(strings.TrimSpace(trimmed), rest) {
			return m
		}
		digits := 0
		for _, r := range m {
			if r >= '0' && r <= '9' {
				digits++
			}
		}
		if digits >= 9 || crm.FindPhone(m) != "" {
			return PhonePlaceholder + m[len(strings.TrimRight(m, " ")):]
		}
		return m
	})
	s = scrubStreet.ReplaceAllString(s, AddressPlaceholder)
	s = scrubHouse.ReplaceAllStringFunc(s, func(string) string { return AddressPlaceholder + "," })
	s = scrubArea.ReplaceAllString(s, AddressPlaceholder)
	return s
}

// isAmount tells a price from a phone number: thousands separators, or a
// money unit right after the number. A number that begins as only phone
// numbers do is never a price, whatever follows it: in "0912345678 k biết
// đúng k", "k" is "không", not thousands.
func isAmount(num, rest string) bool {
	if groupedAmount.MatchString(num) {
		return true
	}
	if phoneLike(num) || phoneLike(num[strings.LastIndexAny(num, " \t")+1:]) { // "1 84912345678 %"
		return false
	}
	return amountUnit.MatchString(rest)
}

// phoneLike reports a number that begins as only phone numbers do, or
// holds one ("84912345678 1": the match may run on past it).
func phoneLike(num string) bool {
	return strings.HasPrefix(num, "0") || strings.HasPrefix(num, "+") || strings.HasPrefix(num, "(") || crm.ContainsPhone(num)
}

// replaceAllIndex is ReplaceAllStringFunc with the text after each match.
func replaceAllIndex(re *regexp.Regexp, s string, f func(match, rest string) string) string {
	var b strings.Builder
	last := 0
	for _, loc := range re.FindAllStringIndex(s, -1) {
		b.WriteString(s[last:loc[0]])
		b.WriteString(f(s[loc[0]:loc[1]], s[loc[1]:]))
		last = loc[1]
	}
	b.WriteString(s[last:])
	return b.String()
}
