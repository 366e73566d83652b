// Package jsontext checks the text of a JSON body before it is decoded:
// encoding/json silently turns invalid UTF-8 and unpaired surrogate escapes
// into U+FFFD, so a body that says it is JSON but is not valid text would be
// stored as something other than what was sent. Every handler of outside
// JSON refuses such a body with 400 instead.
package jsontext

import (
	"fmt"
	"unicode/utf8"
)

// Check returns an error naming what is wrong when b is not valid UTF-8 or
// holds an unpaired surrogate escape; nil otherwise. Malformed JSON is left
// for the decoder to refuse.
func Check(b []byte) error {
	if !utf8.Valid(b) {
		return fmt.Errorf("the body is not valid UTF-8")
	}
	if esc := LoneSurrogate(b); esc != "" {
		return fmt.Errorf("the body has an unpaired surrogate escape (%s): send valid Unicode", esc)
	}
	return nil
}

// LoneSurrogate returns the first \u escape in the JSON text b that names
// half of a UTF-16 surrogate pair without the other half ("\ud800"), or ""
// when there is none. encoding/json would silently turn it into U+FFFD.
// Malformed JSON is left for the decoder to refuse.
func LoneSurrogate(b []byte) string {
	inString := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if !inString {
			inString = c == '"'
			continue
		}
		switch c {
		case '"':
			inString = false
		case '\\':
			if i+1 < len(b) && b[i+1] != 'u' {
				i++ // \" \\ \n …: skip the escaped character
				continue
			}
			r, ok := hexEscape(b[i:])
			if !ok {
				return ""
			}
			switch {
			case 0xd800 <= r && r < 0xdc00: // high half: a low half must follow
				if low, ok := hexEscape(b[i+6:]); ok && 0xdc00 <= low && low < 0xe000 {
					i += 11
					continue
				}
				return string(b[i : i+6])
			case 0xdc00 <= r && r < 0xe000:
				return string(b[i : i+6])
			}
			i += 5
		}
	}
	return ""
}

// hexEscape reads a \uXXXX escape at the start of b.
func hexEscape(b []byte) (rune, bool) {
	if len(b) < 6 || b[0] != '\\' || b[1] != 'u' {
		return 0, false
	}
	var r rune
	for _, c := range b[2:6] {
		switch {
		case '0' <= c && c <= '9':
			r = r<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case 'A' <= c && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
