package main

import (
	"bytes"
	"encoding"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/idicbot/idicbot/crm"
	"go.yaml.in/yaml/v3"
)

// decodeConfig decodes a configuration file into v, strictly, and reports
// what is wrong in the owner's terms, with the line: an unknown key and the
// key it is likely a typo of, a value of the wrong kind and what to write
// instead. name is the file as the owner knows it (idicbot.yaml). Every
// problem is reported at once, as a crm EINVALID error.
func decodeConfig(name string, data []byte, v any) error {
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil // an empty file changes nothing
		}
		return &configError{name + " " + yamlSyntax(err)}
	}
	var problems []string
	checkNode(&doc, reflect.TypeOf(v).Elem(), "", func(line int, format string, args ...any) {
		problems = append(problems, fmt.Sprintf("%s line %d: %s", name, line, fmt.Sprintf(format, args...)))
	})
	if len(problems) > 0 {
		return &configError{strings.Join(problems, "\n")}
	}
	if err := doc.Decode(v); err != nil {
		// checkNode knows every type of Config; this is a safety net.
		return &configError{name + " " + yamlSyntax(err)}
	}
	return nil
}

// configError is a configuration the owner must fix. Its text is the
// message alone; it unwraps to a crm EINVALID error.
type configError struct{ msg string }

func (e *configError) Error() string { return e.msg }

func (e *configError) Unwrap() error { return &crm.Error{Code: crm.EINVALID, Message: e.msg} }

var yamlLine = regexp.MustCompile(`^(?:yaml: )?(?:unmarshal errors:\s*)?line (\d+): `)

// yamlSyntax is a YAML parser error as "line N: what".
func yamlSyntax(err error) string {
	msg := strings.TrimSpace(err.Error())
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		return "line " + m[1] + ": " + msg[len(m[0]):]
	}
	return strings.TrimPrefix(msg, "yaml: ")
}

var (
	durationType        = reflect.TypeFor[time.Duration]()
	unmarshalerType     = reflect.TypeFor[yaml.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// checkNode checks n against the Go type t the decoder will fill.
func checkNode(n *yaml.Node, t reflect.Type, path string, report func(line int, format string, args ...any)) {
	if n.Kind == yaml.DocumentNode {
		for _, c := range n.Content {
			checkNode(c, t, path, report)
		}
		return
	}
	if n.Kind == yaml.AliasNode || n.Tag == "!!null" {
		return
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) || reflect.PointerTo(t).Implements(textUnmarshalerType) {
		return // the type reads itself; the decoder reports its errors
	}
	at := ""
	if path != "" {
		at = path + ": "
	}
	switch {
	case t == durationType:
		if n.Kind != yaml.ScalarNode {
			report(n.Line, "%swrite a duration like 10s, 500ms or 2h", at)
		} else if _, err := time.ParseDuration(n.Value); err != nil {
			report(n.Line, "%swrite a duration like 10s, 500ms or 2h, not %q", at, n.Value)
		}
	case t.Kind() == reflect.Struct:
		if n.Kind != yaml.MappingNode {
			report(n.Line, "%swrite a section of keys (key: value on the lines below, indented)", at)
			return
		}
		keys := yamlKeys(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			f, ok := keys[k.Value]
			if !ok {
				where := ""
				if path != "" {
					where = " in " + path
				}
				if s := closest(k.Value, keys); s != "" {
					report(k.Line, "unknown key %q%s (did you mean %q?)", k.Value, where, s)
				} else {
					report(k.Line, "unknown key %q%s", k.Value, where)
				}
				continue
			}
			sub := k.Value
			if path != "" {
				sub = path + "." + k.Value
			}
			checkNode(val, f.Type, sub, report)
		}
	case t.Kind() == reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			report(n.Line, "%swrite a list (lines starting with \"- \", or [a, b])", at)
			return
		}
		for _, c := range n.Content {
			checkNode(c, t.Elem(), path, report)
		}
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Int64:
		if _, err := strconv.ParseInt(n.Value, 0, 64); n.Kind != yaml.ScalarNode || err != nil {
			report(n.Line, "%swrite a whole number, not %q", at, n.Value)
		}
	case t.Kind() == reflect.Bool:
		var b bool
		if n.Kind != yaml.ScalarNode || n.Decode(&b) != nil {
			report(n.Line, "%swrite true or false, not %q", at, n.Value)
		}
	case t.Kind() == reflect.String:
		if n.Kind != yaml.ScalarNode {
			report(n.Line, "%swrite a single value (put it in quotes if it holds a colon)", at)
		}
	}
}

// yamlKeys maps the yaml keys of struct t to their fields.
func yamlKeys(t reflect.Type) map[string]reflect.StructField {
	keys := map[string]reflect.StructField{}
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		keys[name] = f
	}
	return keys
}

// closest is the known key k is most likely a typo of (at most two edits
// away), or else the shortest key holding k's words in order
// (sessions_per_hour: sessions_per_ip_per_hour), or "".
func closest(k string, keys map[string]reflect.StructField) string {
	k = strings.ToLower(k)
	best, bestD := "", 3
	for name := range keys {
		d := editDistance(k, name)
		if d < bestD || d == bestD && name < best {
			best, bestD = name, d
		}
	}
	if best != "" {
		return best
	}
	for name := range keys {
		if wordsInOrder(strings.Split(k, "_"), strings.Split(name, "_")) &&
			(best == "" || len(name) < len(best) || len(name) == len(best) && name < best) {
			best = name
		}
	}
	return best
}

// wordsInOrder reports whether every word of sub is in words, in order.
func wordsInOrder(sub, words []string) bool {
	i := 0
	for _, w := range words {
		if i < len(sub) && w == sub[i] {
			i++
		}
	}
	return len(sub) > 1 && i == len(sub)
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
