package crm

import (
	"net/mail"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

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
	digits, other := 0, false
	for i := 0; i < len(text); i++ {
		switch c := text[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c >= utf8.RuneSelf:
			other = true
		}
	}
	// Full-width digits, or another script's, as some keyboards type them.
	if other && strings.IndexFunc(text, func(r rune) bool { return r >= 0x660 && digitValue(r) >= 0 }) >= 0 {
		text = ASCIIDigits(text)
		digits = 0
		for i := 0; i < len(text); i++ {
			if text[i] >= '0' && text[i] <= '9' {
				digits++
			}
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

// ASCIIDigits returns s with every decimal digit written in ASCII and a
// full-width plus as '+': "０９１２…" (as some keyboards type it) is a
// phone number to every reader that looks for "0912…".
func ASCIIDigits(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '＋' {
			return '+'
		}
		if d := digitValue(r); d >= 0 {
			return '0' + rune(d)
		}
		return r
	}, s)
}

// NormalizeEmail validates an address and lower-cases it. The domain must
// be dotted and its last label start with a letter, as every top-level
// domain does (so that what is read is also what MaskText masks).
func NormalizeEmail(s string) (string, error) {
	a, err := mail.ParseAddress(strings.TrimSpace(s))
	if err != nil || !strings.Contains(a.Address, "@") || strings.ContainsAny(a.Address, " <>") {
		return "", Errorf(EINVALID, "%q is not an email address", MaskEmail(s))
	}
	at := strings.LastIndexByte(a.Address, '@')
	if !emailDomain(a.Address[at+1:]) || strings.HasSuffix(a.Address, ".") {
		return "", Errorf(EINVALID, "%s is not an email address", MaskEmail(s))
	}
	return strings.ToLower(a.Address), nil
}

// FindEmail returns the first valid email address in free text.
func FindEmail(text string) string {
	if !strings.Contains(text, "@") {
		return "" // most messages: no word to try, and no slice of words
	}
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

// MaskPhone hides the middle of a phone number for logs: +8491****678. It
// keeps the country or trunk prefix and the carrier's two digits, and the
// last three digits; separators stay as written.
func MaskPhone(p string) string {
	var vals [maxPhoneDigits]byte
	n := 0
	for _, r := range p {
		if d := digitValue(r); d >= 0 {
			if n < len(vals) {
				vals[n] = byte(d)
			}
			n++
		}
	}
	if n <= 6 {
		return strings.Repeat("*", utf8.RuneCountInString(p))
	}
	head, tail := maskedHead(vals[:min(n, len(vals))], strings.ContainsAny(p, "+＋")), 3
	if n-head-tail < 3 {
		head, tail = 2, 2
	}
	var b strings.Builder
	b.Grow(len(p))
	writeMaskedDigits(&b, p, n, head, tail)
	return b.String()
}

// maskedHead is how many leading digits of a phone number a log may show:
// the country code or trunk prefix and two more.
func maskedHead(vals []byte, plus bool) int {
	switch {
	case plus, len(vals) >= 2 && vals[0] == 0 && vals[1] == 0,
		len(vals) >= 2 && vals[0] == 8 && vals[1] == 4:
		return 4
	case len(vals) >= 1 && vals[0] == 0:
		return 3
	}
	return 2
}

// writeMaskedDigits writes s with every digit but the first head and the
// last tail of its n digits replaced by '*'.
func writeMaskedDigits(b *strings.Builder, s string, n, head, tail int) {
	k := 0
	for _, r := range s {
		if digitValue(r) < 0 {
			b.WriteRune(r)
			continue
		}
		if k < head || k >= n-tail {
			b.WriteRune(r)
		} else {
			b.WriteByte('*')
		}
		k++
	}
}

// MaskEmail hides the local part of an address for logs: a***@example.com.
func MaskEmail(e string) string {
	at := strings.LastIndexByte(e, '@')
	if at <= 0 {
		return "***"
	}
	_, size := utf8.DecodeRuneInString(e)
	return e[:size] + "***" + e[at:]
}

const (
	// minPhoneDigits is the fewest digits a text needs before it is
	// scanned for phone numbers: most log strings have fewer.
	minPhoneDigits = 7
	// maxPhoneDigits bounds a phone number: "00", a country code and at
	// most 15 digits in all (E.164).
	maxPhoneDigits = 17
	// maxSepRunes is how many separators ("-", ". ", ") (") may stand
	// between two groups of digits of one phone number.
	maxSepRunes = 3
)

// MaskText masks every phone number and email address in free text, for
// logs that must not carry personal data. A phone number is a run of digits
// (any script's decimal digits) in a Vietnamese or international shape:
// 0 and 10 or 11 digits, 84 and a Vietnamese number, + or 00 and 7 to 15
// digits, grouped by spaces, dots, dashes or parentheses. What only looks
// numeric is left as written: IP addresses, amounts ("1.500.000 đ"),
// timestamps, durations, ids and order references glued to letters
// ("DH0912345678"). The common case, a string with few digits and no '@',
// costs one scan and no allocation.
func MaskText(s string) string {
	digits, at := 0, false
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case '0' <= c && c <= '9':
				digits++
			case c == '@':
				at = true
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if digitValue(r) >= 0 {
			digits++
		}
		i += size
	}
	if at {
		s = maskEmails(s)
	}
	if digits >= minPhoneDigits {
		s = maskPhones(s)
	}
	return s
}

// ContainsPhone reports whether text holds a phone number as MaskText
// reads them (any grouping and script; not amounts, addresses or ids).
func ContainsPhone(text string) bool {
	text = strings.ReplaceAll(text, "@", " ") // emails are not phones
	return MaskText(text) != text
}

// emailStop reports whether byte c cannot be part of an email address as
// written in a log line.
func emailStop(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '\v', '\f', '@', '<', '>', '"', '\'', '(', ')', '[', ']', ',', ';', ':', '/', '\\', '=', '`':
		return true
	}
	return false
}

// maskEmails masks the local part of every email address in s.
func maskEmails(s string) string {
	var b strings.Builder
	last := 0 // s[:last] is written to b
	for i := 0; i < len(s); i++ {
		if s[i] != '@' {
			continue
		}
		l := i
		for l > last && !emailStop(s[l-1]) {
			l--
		}
		r := i + 1
		for r < len(s) && !emailStop(s[r]) {
			r++
		}
		if l == i || !emailDomain(s[i+1:r]) {
			continue
		}
		if b.Len() == 0 {
			b.Grow(len(s))
		}
		_, size := utf8.DecodeRuneInString(s[l:i])
		b.WriteString(s[last : l+size])
		b.WriteString("***")
		last = i
		i = r - 1
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// emailDomain reports whether d looks like the domain of an address: dotted,
// its last label starting with a letter (so "v0.3.0" in a module path is not
// one).
func emailDomain(d string) bool {
	d = strings.TrimRight(d, ".!?")
	dot := strings.LastIndexByte(d, '.')
	if dot <= 0 {
		return false
	}
	r, _ := utf8.DecodeRuneInString(d[dot+1:])
	return unicode.IsLetter(r)
}

// digitValue returns the value of a decimal digit in any script, or -1.
// Unicode keeps each script's digits 0-9 contiguous and in order, and the
// ranges of unicode.Nd start at a zero, so the value is the offset mod 10.
func digitValue(r rune) int {
	if r < utf8.RuneSelf {
		if '0' <= r && r <= '9' {
			return int(r - '0')
		}
		return -1
	}
	if r < 0x660 || !unicode.IsDigit(r) { // U+0660 is the first digit after ASCII's
		return -1
	}
	for _, rg := range unicode.Nd.R16 {
		if rune(rg.Lo) <= r && r <= rune(rg.Hi) {
			return int(r-rune(rg.Lo)) % 10
		}
	}
	for _, rg := range unicode.Nd.R32 {
		if rune(rg.Lo) <= r && r <= rune(rg.Hi) {
			return int(r-rune(rg.Lo)) % 10
		}
	}
	return -1
}

// sepKind describes the separators between two groups of digits.
type sepKind uint8

const (
	sepSpace sepKind = 1 << iota
	sepParen
	sepDot
	sepDash
)

// phoneSep classifies r as a separator inside a phone number, or 0.
func phoneSep(r rune) sepKind {
	switch r {
	case '.', '．':
		return sepDot
	case '(', ')', '（', '）':
		return sepParen
	case '-', '－':
		return sepDash
	}
	if unicode.IsSpace(r) {
		return sepSpace
	}
	if unicode.Is(unicode.Pd, r) {
		return sepDash
	}
	return 0
}

// digitGroup is one run of digits in a sequence of digits and separators.
type digitGroup struct {
	start, end int     // byte offsets in the text
	vals       int     // offset of its digits' values in the sequence's values
	n          int     // how many digits
	sep        sepKind // the separators before it; 0 for the first group
	ip         bool    // part of an IPv4 address
}

// maskPhones masks every phone number in s.
func maskPhones(s string) string {
	var (
		b      strings.Builder
		last   int // s[:last] is written to b
		gbuf   [16]digitGroup
		vbuf   [64]byte
		wbuf   [4]phoneWindow
		hbuf   [64]bool
		groups = gbuf[:0]
		vals   = vbuf[:0]
	)
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf && (c < '0' || c > '9') {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if digitValue(r) < 0 {
			i += size
			continue
		}
		// A sequence: groups of digits joined by a few separators.
		groups, vals = groups[:0], vals[:0]
		j := i
		var sep sepKind
		for {
			var k int
			g := digitGroup{start: j, vals: len(vals), sep: sep}
			for j < len(s) {
				r, size := utf8.DecodeRuneInString(s[j:])
				d := digitValue(r)
				if d < 0 {
					break
				}
				vals = append(vals, byte(d))
				j += size
			}
			g.end, g.n = j, len(vals)-g.vals
			groups = append(groups, g)
			// Separators, then a digit, continue the sequence.
			k, sep = j, 0
			for runes := 0; k < len(s) && runes < maxSepRunes; runes++ {
				r, size := utf8.DecodeRuneInString(s[k:])
				kind := phoneSep(r)
				if kind == 0 {
					break
				}
				sep |= kind
				k += size
			}
			if sep == 0 || k == len(s) {
				break
			}
			if r, _ := utf8.DecodeRuneInString(s[k:]); digitValue(r) < 0 {
				break
			}
			j = k
		}
		markIPv4(groups, vals)
		windows := phoneWindows(wbuf[:0], s, groups, vals)
		if len(windows) == 0 {
			i = j
			continue
		}
		// Windows may overlap ("0700000 0912 345 678" holds two readings):
		// a digit is hidden when any reading hides it.
		hide := hbuf[:0]
		for range vals {
			hide = append(hide, false)
		}
		for _, w := range windows {
			head, tail := maskedHead(vals[w.vals:w.vals+w.n], w.plus), 3
			if w.n-head-tail < 3 {
				head, tail = 2, 2
			}
			for k := w.vals + head; k < w.vals+w.n-tail; k++ {
				hide[k] = true
			}
		}
		if b.Len() == 0 {
			b.Grow(len(s))
		}
		start := groups[0].start
		b.WriteString(s[last:start])
		k := 0
		for _, r := range s[start:j] {
			if digitValue(r) < 0 {
				b.WriteRune(r)
				continue
			}
			if hide[k] {
				b.WriteByte('*')
			} else {
				b.WriteRune(r)
			}
			k++
		}
		last = j
		i = j
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// markIPv4 marks the groups that make up a dotted IPv4 address.
func markIPv4(groups []digitGroup, vals []byte) {
	for i := 0; i+3 < len(groups); i++ {
		if i > 0 && groups[i].sep == sepDot {
			continue
		}
		if i+4 < len(groups) && groups[i+4].sep == sepDot {
			continue
		}
		ok := true
		for k := i; k < i+4 && ok; k++ {
			g := groups[k]
			ok = g.n <= 3 && (k == i || g.sep == sepDot)
			v := 0
			for _, d := range vals[g.vals : g.vals+g.n] {
				v = v*10 + int(d)
			}
			ok = ok && v <= 255
		}
		if ok {
			for k := i; k < i+4; k++ {
				groups[k].ip = true
			}
			i += 3
		}
	}
}

// phoneWindow is a phone number found in a sequence of digit groups.
type phoneWindow struct {
	vals, n int // where its digits are in the sequence's values, how many
	plus    bool
}

// phoneWindows appends to found the phone numbers in one sequence of digit
// groups: for each group that may start one, the longest.
func phoneWindows(found []phoneWindow, s string, groups []digitGroup, vals []byte) []phoneWindow {
	plus, glued := sequenceStart(s, groups[0].start)
	for i := 0; i < len(groups); i++ {
		if groups[i].ip || (i == 0 && glued) || (i > 0 && groups[i].sep == sepDot) {
			continue
		}
		if groups[i].n == 1 && i+1 < len(groups) && groups[i+1].sep&sepDot != 0 {
			continue // "0.0912345678" is a number, not a phone
		}
		best, n := -1, 0
		for j := i; j < len(groups) && !groups[j].ip; j++ {
			n += groups[j].n
			if n > maxPhoneDigits {
				break
			}
			if j+1 < len(groups) && groups[j+1].sep == sepDot {
				continue // "0912345678.5": the number goes on
			}
			if j+1 == len(groups) && gluedAfter(s, groups[j].end) {
				continue
			}
			if isPhoneShape(vals[groups[i].vals:groups[i].vals+n], plus && i == 0) {
				best = j
			}
		}
		if best < 0 {
			continue
		}
		found = append(found, phoneWindow{vals: groups[i].vals, n: groups[best].vals + groups[best].n - groups[i].vals,
			plus: plus && i == 0})
	}
	return found
}

// sequenceStart looks at what stands before the first digit of a sequence:
// a '+' (international form), or something that makes the digits part of
// another token: a letter ("DH0912345678", unless it is a word for a phone
// such as "sdt"), a time's colon, a number's decimal point, a path.
func sequenceStart(s string, i int) (plus, glued bool) {
	prev := func(i int) (rune, int) {
		if i == 0 {
			return 0, 0
		}
		return utf8.DecodeLastRuneInString(s[:i])
	}
	r, size := prev(i)
	if r == '(' || r == '（' {
		i -= size
		r, size = prev(i)
	}
	if r == '+' || r == '＋' {
		plus = true
		i -= size
		r, size = prev(i)
	}
	switch {
	case r == 0:
		return plus, false
	case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r):
		return plus, !phoneWordBefore(s[:i])
	case r == '_' || r == '#' || r == '/' || r == '\\' || r == '@' || r == '$' || r == '%':
		return plus, true
	case r == '-' || r == '.' || r == ',' || r == ':':
		q, _ := prev(i - size)
		if unicode.IsDigit(q) {
			return plus, true // "DH-1-0912…", "1.0912…", "20:09…"
		}
		if r == '-' && unicode.IsLetter(q) {
			return plus, !phoneWordBefore(s[:i-size]) // "DH-0912345678"
		}
	}
	return plus, false
}

// phoneWords are words that may be glued to a phone number they introduce
// ("sdt0912345678"), folded.
var phoneWords = map[string]bool{
	"sdt": true, "dt": true, "tel": true, "phone": true, "mobile": true,
	"hotline": true, "zalo": true, "goi": true, "call": true, "lh": true, "sms": true,
}

// phoneWordBefore reports whether s ends with a word for a phone number.
func phoneWordBefore(s string) bool {
	i := len(s)
	for runes := 0; i > 0 && runes < 8; runes++ {
		r, size := utf8.DecodeLastRuneInString(s[:i])
		if !unicode.IsLetter(r) && !unicode.Is(unicode.Mn, r) {
			break
		}
		i -= size
	}
	if i > 0 {
		if r, _ := utf8.DecodeLastRuneInString(s[:i]); unicode.IsLetter(r) || unicode.IsDigit(r) {
			return false
		}
	}
	return phoneWords[Fold(s[i:])]
}

// gluedAfter reports whether the digits ending at i go on as another token:
// a unit or id letter ("0912345678đ", "…678ab"), an underscore, a decimal
// comma.
func gluedAfter(s string, i int) bool {
	if i >= len(s) {
		return false
	}
	r, size := utf8.DecodeRuneInString(s[i:])
	switch {
	case unicode.IsLetter(r) || r == '_':
		return true
	case r == ',' || r == '-' || r == ':':
		q, _ := utf8.DecodeRuneInString(s[i+size:])
		return unicode.IsDigit(q) || unicode.IsLetter(q)
	}
	return false
}

// isPhoneShape reports whether digits (values 0-9) have the shape of a
// phone number: Vietnamese national (0 + 9 or 10 digits), Vietnamese with
// its country code (84 or +84), or international (+ or 00, 8-15 digits).
func isPhoneShape(v []byte, plus bool) bool {
	if len(v) < 2 {
		return false
	}
	if plus { // any country: E.164 numbers have 7 to 15 digits
		return v[0] != 0 && len(v) >= 7 && len(v) <= 15
	}
	switch {
	case v[0] == 0 && v[1] == 0:
		return v[2:] != nil && len(v) > 2 && isPhoneShape(v[2:], true)
	case v[0] == 0:
		return vnSubscriber(v[1:])
	case v[0] == 8 && v[1] == 4:
		return vnSubscriber(v[2:])
	}
	return false
}

// vnSubscriber reports whether v is a Vietnamese number without its trunk
// 0: a mobile (9 digits from 3, 5, 7, 8, 9) or a landline (10 digits from
// 2), or an old 11-digit mobile (01x…).
func vnSubscriber(v []byte) bool {
	if len(v) == 0 {
		return false
	}
	switch v[0] {
	case 3, 5, 7, 8, 9:
		return len(v) == 9
	case 1, 2:
		return len(v) == 10
	}
	return false
}
