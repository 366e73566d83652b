// Package jsonid reads ids, timestamps and counts that chat platforms send
// sometimes as JSON strings and sometimes as JSON numbers (Zalo, Meta). It
// keeps the literal digits: 15–19-digit ids would be rounded as float64.
package jsonid

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Literal returns the text of a JSON string (unquoted, trimmed), a number or
// a boolean as written, and "" for null or nothing. Anything else (an
// object, an array, a malformed value) is an error.
func Literal(b []byte) (string, error) {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		return "", nil
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return "", err
		}
		return strings.TrimSpace(s), nil
	case string(b) == "true" || string(b) == "false":
		return string(b), nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return "", fmt.Errorf("%.40s is neither a string nor a number", b)
	}
	return n.String(), nil
}
