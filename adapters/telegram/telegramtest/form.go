package telegramtest

import (
	"bytes"
	"strings"
)

// parseMultipart reads a multipart/form-data body (RFC 7578) into params,
// a file part recorded as "<file>".
// It reads the shape HTTP clients write (Go's mime/multipart, which the
// library uses, among them): no preamble, CRLF line ends, parts headed by
// Content-Disposition and at most a Content-Type. It returns false, having
// set nothing, for any other shape, which parseParams then reads with
// mime/multipart: this is the fast path of a server every bench message
// crosses, not a second definition of the format.
func parseMultipart(body []byte, boundary string, params map[string]string) bool {
	if boundary == "" {
		return false
	}
	delim := "--" + boundary
	if !bytes.HasPrefix(body, []byte(delim)) {
		return false
	}
	next := []byte("\r\n" + delim)
	type field struct{ name, value string }
	var fields []field
	rest := body[len(delim):]
	for {
		if bytes.HasPrefix(rest, []byte("--")) {
			if len(bytes.TrimSpace(rest[2:])) != 0 {
				return false // something after the closing delimiter
			}
			break
		}
		var ok bool
		if rest, ok = bytes.CutPrefix(rest, []byte("\r\n")); !ok {
			return false
		}
		name, file := "", false
		for {
			line, after, found := bytes.Cut(rest, []byte("\r\n"))
			if !found {
				return false
			}
			rest = after
			if len(line) == 0 {
				break // end of the part's headers
			}
			key, val, found := bytes.Cut(line, []byte(":"))
			if !found {
				return false
			}
			switch {
			case strings.EqualFold(string(key), "Content-Disposition"):
				if name, file, ok = formDisposition(string(val)); !ok {
					return false
				}
			case strings.EqualFold(string(key), "Content-Type"):
			default:
				return false
			}
		}
		if name == "" {
			return false
		}
		end := bytes.Index(rest, next)
		if end < 0 {
			return false
		}
		value := "<file>"
		if !file {
			value = string(rest[:end])
		}
		fields = append(fields, field{name, value})
		rest = rest[end+len(next):]
	}
	// As parseParams reads mime/multipart's form: a field's first value,
	// a file part over a value of the same name, over the query string.
	seen := make(map[string]bool, len(fields))
	for _, f := range fields {
		if f.value == "<file>" || !seen[f.name] {
			params[f.name] = f.value
		}
		seen[f.name] = true
	}
	return true
}

// formDisposition reads `form-data; name="…"[; filename="…"]`.
func formDisposition(v string) (name string, file, ok bool) {
	v = strings.TrimSpace(v)
	rest, ok := strings.CutPrefix(v, "form-data")
	if !ok {
		return "", false, false
	}
	for {
		rest = strings.TrimLeft(rest, " \t")
		if rest == "" {
			return name, file, name != ""
		}
		if rest, ok = strings.CutPrefix(rest, ";"); !ok {
			return "", false, false
		}
		rest = strings.TrimLeft(rest, " \t")
		key, after, found := strings.Cut(rest, "=")
		if !found {
			return "", false, false
		}
		val, tail, ok := quoted(after)
		if !ok {
			return "", false, false
		}
		switch strings.ToLower(key) {
		case "name":
			name = val
		case "filename":
			file = true
		default:
			return "", false, false
		}
		rest = tail
	}
}

// quoted reads a quoted-string with backslash escapes off the front of s.
func quoted(s string) (val, rest string, ok bool) {
	if !strings.HasPrefix(s, `"`) {
		return "", "", false
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			if i+1 == len(s) {
				return "", "", false
			}
			i++
			b.WriteByte(s[i])
		case '"':
			return b.String(), s[i+1:], true
		default:
			b.WriteByte(c)
		}
	}
	return "", "", false
}
