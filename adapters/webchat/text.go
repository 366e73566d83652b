package webchat

import (
	"strings"

	"github.com/idicbot/idicbot/crm"
)

// What text a customer may send.
//
// Refused: every control character (C0, DEL and C1, U+0080–U+009F) except
// newline and tab, so NUL and terminal escapes never reach the store, the
// logs or a rep's screen; and the bidirectional embeddings, overrides and
// isolates (U+202A–U+202E, U+2066–U+2069), which can make text read
// differently from what it holds ("Trojan Source": a phone number shown
// backwards) and which nobody types in Vietnamese or English. The plain
// direction marks U+200E and U+200F, and the zero-width joiner of emoji,
// are kept.
//
// A CRLF, which a textarea posted as a form or a Windows client sends,
// becomes a newline first; a carriage return on its own is refused.

// normalizeNewlines turns every CRLF into LF.
func normalizeNewlines(s string) string {
	return strings.ReplaceAll(s, "\r\n", "\n")
}

// checkText refuses a field's value holding a character customers may not
// send. field names it in the error.
func checkText(field, s string) error {
	for _, r := range s {
		switch {
		case r == '\n' || r == '\t':
		case r < 0x20 || 0x7f <= r && r <= 0x9f:
			return crm.Errorf(crm.EINVALID, "%s contains control character U+%04X: only newline and tab are allowed", field, r)
		case 0x202a <= r && r <= 0x202e, 0x2066 <= r && r <= 0x2069:
			return crm.Errorf(crm.EINVALID, "%s contains bidirectional control U+%04X", field, r)
		}
	}
	return nil
}

// loneSurrogate returns the first \u escape in the JSON text b that names
// half of a UTF-16 surrogate pair without the other half ("\ud800"), or ""
// when there is none. encoding/json would silently turn it into U+FFFD.
// Malformed JSON is left for the decoder to refuse.
func loneSurrogate(b []byte) string {
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
