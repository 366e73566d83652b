package crm

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Fold lower-cases s and strips diacritics, so that "Nguyễn Văn Ánh" and
// "nguyen van anh" compare equal and keyword rules match text typed with or
// without Vietnamese accents. Runs of spaces collapse to one.
//
// It is foldSlow (NFD, marks dropped, lower-cased) by a table: every turn
// folds its text and names several times, and NFD of a whole string was
// about 5% of a turn's CPU. Runes below foldTableSize read the table;
// text with any other rune that NFD would change takes foldSlow.
func Fold(s string) string {
	var b strings.Builder
	b.Grow(len(s)) // folded Vietnamese is shorter than its input
	space := true
	i := 0
	for ; i < len(s) && s[i] < utf8.RuneSelf; i++ {
		if c := s[i]; isASCIISpace(c) {
			if !space {
				space = true
				b.WriteByte(' ')
			}
		} else {
			space = false
			b.WriteByte(asciiLower(c))
		}
	}
	for _, r := range s[i:] {
		if unicode.IsSpace(r) {
			if !space {
				space = true
				b.WriteByte(' ')
			}
			continue
		}
		var f string
		if r < foldTableSize {
			f = foldTable[r]
			if f == foldSlowMark {
				return foldSlow(s)
			}
		} else if foldChanges(r) {
			return foldSlow(s)
		} else {
			f = string(unicode.ToLower(r))
		}
		if f == "" { // a mark: dropped
			continue
		}
		space = false
		b.WriteString(f)
	}
	return strings.TrimSuffix(b.String(), " ")
}

func isASCIISpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

func asciiLower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// foldTableSize covers Latin (with Vietnamese's precomposed letters up to
// U+1EFF), Greek and Cyrillic.
const foldTableSize = 0x2000

// foldSlowMark in foldTable sends the whole text to foldSlow: a rune whose
// fold depends on its neighbours (a kept rune NFD may reorder).
const foldSlowMark = "\x00slow"

// foldTable[r] is foldSlow(string(r)) for the runes below foldTableSize
// that are not spaces: "" for a mark.
var foldTable = func() []string {
	t := make([]string, foldTableSize)
	for r := rune(0); r < foldTableSize; r++ {
		if unicode.IsSpace(r) || !utf8.ValidRune(r) {
			continue
		}
		f := foldSlow(string(r))
		if strings.ContainsFunc(f, unicode.IsSpace) {
			f = foldSlowMark
		}
		// A kept rune with a combining class moves in NFD's reordering:
		// its place depends on the marks around it.
		for _, x := range norm.NFD.String(string(r)) {
			if !unicode.Is(unicode.Mn, x) && norm.NFD.PropertiesString(string(x)).CCC() != 0 {
				f = foldSlowMark
			}
		}
		t[r] = f
	}
	return t
}()

// foldChanges reports whether NFD or foldSlow would treat r (at or above
// foldTableSize) otherwise than as one rune lower-cased.
func foldChanges(r rune) bool {
	if unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Hangul, r) {
		return true // Hangul syllables decompose algorithmically: no Decomposition
	}
	p := norm.NFD.PropertiesString(string(r))
	return p.Decomposition() != nil || p.CCC() != 0
}

// foldSlow is Fold by definition: NFD, non-spacing marks dropped, đ as d,
// lower-cased, runs of spaces as one.
func foldSlow(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := true
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case r == 'đ' || r == 'Đ':
			r = 'd'
		case unicode.IsSpace(r):
			if space {
				continue
			}
			space = true
			b.WriteByte(' ')
			continue
		}
		space = false
		b.WriteRune(unicode.ToLower(r))
	}
	return strings.TrimRight(b.String(), " ")
}

// Words splits folded text into words of letters and digits.
func Words(folded string) []string {
	return strings.FieldsFunc(folded, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}
