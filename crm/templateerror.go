package crm

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// TemplateError is an offer template that does not parse, or that stopped
// while rendering: where it went wrong and why, in words an admin can act
// on. ParseTemplate and Render return it for every failure, so callers
// never read text/template's wording themselves; its Error is still
// text/template's text, so logs read as before.
type TemplateError struct {
	// Name is the template's name, its field: templates.vi, details.en.
	Name string
	// Line and Column count from 1; 0 when text/template does not say
	// (a parse error has a line only; a text too long has no place).
	Line, Column int
	// Reason says why, without the place: "there is no field .Nickname
	// (fields: …)", "unexpected EOF", "printf width 999999 is more than 100".
	Reason string
	err    error
}

func (e *TemplateError) Error() string { return e.err.Error() }

// Unwrap returns what text/template or a bound (*TemplateLimitError) said.
func (e *TemplateError) Unwrap() error { return e.err }

// templateFieldNames lists what offer templates may use, for the reason
// given when a template names a field that does not exist.
var templateFieldNames = func() string {
	t := reflect.TypeFor[TemplateData]()
	out := make([]string, t.NumField())
	for i := range out {
		out[i] = "." + t.Field(i).Name
	}
	return strings.Join(out, " ")
}()

// parseError places a parse error, which text/template writes as
// "template: NAME:LINE: reason" and gives no type for.
func parseError(name string, err error) *TemplateError {
	line, _, reason := cutPlace(name, err.Error())
	return &TemplateError{Name: name, Line: line, Reason: reason, err: err}
}

// renderError places an error that stopped a render. text/template writes
// an execution error as "template: NAME:LINE:COL: executing "T" at
// <CONTEXT>: reason", where COL counts bytes from 0; a bound that a write
// passed comes without a place, and the loop or template call it stopped
// in gives the line.
func (t *Template) renderError(err error) error {
	name := t.t.Name()
	line, col, rest := cutPlace(name, err.Error())
	where := ""
	if r, ok := strings.CutPrefix(rest, "executing "); ok {
		if q, qerr := strconv.QuotedPrefix(r); qerr == nil {
			if r, ok := strings.CutPrefix(r[len(q):], " at <"); ok {
				if i := strings.Index(r, ">: "); i >= 0 {
					where, rest = "<"+r[:i+1], r[i+3:]
				}
			}
		}
	}
	e := &TemplateError{Name: name, Line: line, Column: t.column(line, col), Reason: rest, err: err}
	var lim *TemplateLimitError
	switch {
	case errors.As(err, &lim):
		// "template: NAME:LINE[:COL]: reason", without text/template's
		// "executing … error calling printf:" in between.
		loc := name
		if line > 0 {
			loc += ":" + strconv.Itoa(line)
			if col >= 0 {
				loc += ":" + strconv.Itoa(col)
			}
		} else if lim.Line > 0 {
			e.Line = lim.Line
			loc += ":" + strconv.Itoa(lim.Line)
		}
		e.Reason, e.err = lim.Reason, fmt.Errorf("template: %s: %w", loc, lim)
	case strings.HasPrefix(rest, "can't evaluate field "):
		field, _, _ := strings.Cut(strings.TrimPrefix(rest, "can't evaluate field "), " ")
		e.Reason = fmt.Sprintf("there is no field .%s (fields: %s)", field, templateFieldNames)
	case where != "":
		e.Reason = where + ": " + rest
	}
	return e
}

// cutPlace splits "template: NAME:LINE[:COL]: reason" (or "template: NAME:
// reason") into the line (0 when absent), the column as text/template
// counts it (-1 when absent) and the reason.
func cutPlace(name, msg string) (line, col int, reason string) {
	rest, ok := strings.CutPrefix(msg, "template: "+name+":")
	if !ok {
		return 0, -1, msg
	}
	if r, ok := strings.CutPrefix(rest, " "); ok {
		return 0, -1, r
	}
	line, rest = leadingInt(rest)
	if line <= 0 {
		return 0, -1, msg
	}
	col = -1
	if r, ok := strings.CutPrefix(rest, ":"); ok {
		if n, after := leadingInt(r); n >= 0 {
			col, rest = n, after
		}
	}
	return line, col, strings.TrimPrefix(rest, ": ")
}

// leadingInt reads the decimal number s starts with (-1 when none) and
// returns what follows it.
func leadingInt(s string) (int, string) {
	i := 0
	for i < len(s) && i < 9 && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return -1, s
	}
	n, _ := strconv.Atoi(s[:i])
	return n, s[i:]
}

// column turns text/template's column on line (a byte offset from 0, -1
// when it gave none) into a column counted in characters from 1, as an
// editor shows it.
func (t *Template) column(line, byteCol int) int {
	if line <= 0 || byteCol < 0 {
		return 0
	}
	src := t.src
	for range line - 1 {
		i := strings.IndexByte(src, '\n')
		if i < 0 {
			return 0
		}
		src = src[i+1:]
	}
	if i := strings.IndexByte(src, '\n'); i >= 0 {
		src = src[:i]
	}
	return utf8.RuneCountInString(src[:min(byteCol, len(src))]) + 1
}
