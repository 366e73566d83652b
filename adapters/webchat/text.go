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
