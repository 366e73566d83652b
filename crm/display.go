package crm

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

// How values are written for a person to read (a customer in a chat, a rep
// in Slack, the owner on the admin page), as opposed to how they are stored.

// NBSP is the no-break space that keeps an amount and its currency on one
// line: "1.500.000 ₫" must never wrap with "₫" alone on the next line.
const NBSP = "\u00a0"

// DisplayPhone writes a stored phone number (E.164, "+84912888999") the way
// people of its country read it: a Vietnamese number in national format
// ("0912 888 999", "028 3822 1234"), a foreign one in international format
// ("+65 9123 4567"). Anything the phone library cannot parse is returned as
// given, so a display never loses what was stored.
func DisplayPhone(p string) string {
	p = strings.TrimSpace(p)
	if p == "" {
		return ""
	}
	n, err := phonenumbers.Parse(p, DefaultRegion)
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return p
	}
	if phonenumbers.GetRegionCodeForNumber(n) == DefaultRegion {
		return phonenumbers.Format(n, phonenumbers.NATIONAL)
	}
	return phonenumbers.Format(n, phonenumbers.INTERNATIONAL)
}

// DisplayMoney writes an amount of dong the way shops do, with thousands
// grouped by dots and a no-break space before the symbol:
// 1500000 → "1.500.000 ₫" (the space is NBSP).
func DisplayMoney(n int64) string {
	// VND groups the digits; only the space differs.
	return strings.Replace(VND(n), " ₫", NBSP+"₫", 1)
}

// moneyUnit finds a number followed by blanks and a dong unit; the caller
// checks that the unit is not the start of a longer word ("5 đôi").
var moneyUnit = regexp.MustCompile(`\d([ \t]+)(₫|VNĐ|VND|đồng|đ)`)

// KeepMoneyTogether replaces the blanks between a number and its dong unit
// ("199.000 ₫", "2 triệu đồng" is left alone, "500 đ", "90.000 VND") in free
// text with one no-break space, so that a reply written by a template, a
// model or a person does not wrap between the amount and its unit.
func KeepMoneyTogether(text string) string {
	if !strings.ContainsAny(text, "₫VNDđ") {
		return text
	}
	var b strings.Builder
	last := 0
	for _, m := range moneyUnit.FindAllStringSubmatchIndex(text, -1) {
		blankStart, blankEnd, unitEnd := m[2], m[3], m[5]
		if r, _ := utf8.DecodeRuneInString(text[unitEnd:]); unitEnd < len(text) && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			continue
		}
		b.WriteString(text[last:blankStart])
		b.WriteString(NBSP)
		last = blankEnd
	}
	if last == 0 {
		return text
	}
	b.WriteString(text[last:])
	return b.String()
}
