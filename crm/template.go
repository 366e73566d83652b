package crm

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"text/template"
	"text/template/parse"
	"time"
	"unicode"
)

// TemplateData is what offer templates see. Fields are documented in
// configs/offers.yaml.
type TemplateData struct {
	Name         string // the customer's name, or a friendly stand-in
	FirstName    string // the given name (last word of a Vietnamese name)
	Segment      string
	Lang         string
	Code         string // the offer's voucher code
	Offer        string // the offer's name
	Product      string // the product the customer last showed interest in
	ProductPrice int64
	Orders       int
	TotalSpent   int64
	Points       int64  // loyalty points: 1 per 10.000 ₫ spent
	Until        string // the last day the offer is valid, formatted for the language
	Now          time.Time
}

// templateView is what a template executes on: TemplateData with the time
// behind templateTime, so that a template cannot format its own output
// again and again into an ever longer text. Templates see the same field
// names.
type templateView struct {
	Name, FirstName, Segment, Lang, Code, Offer, Product string
	ProductPrice                                         int64
	Orders                                               int
	TotalSpent, Points                                   int64
	Until                                                string
	Now                                                  templateTime
}

func (d *TemplateData) view() templateView {
	return templateView{
		Name: d.Name, FirstName: d.FirstName, Segment: d.Segment, Lang: d.Lang, Code: d.Code, Offer: d.Offer, Product: d.Product,
		ProductPrice: d.ProductPrice, Orders: d.Orders, TotalSpent: d.TotalSpent, Points: d.Points, Until: d.Until,
		Now: templateTime{d.Now},
	}
}

// maxLayout bounds a date layout in {{.Now.Format}}: the text of one
// Format is then a few hundred bytes at most, too long to be a layout again
// (a layout's digits are themselves layout elements: with the month 11,
// "1" gives "11", then "1111"…).
const maxLayout = 64

// templateTime is the time as templates see it: time.Time's everyday
// methods, with a bounded Format.
type templateTime struct{ t time.Time }

// Format is time.Time's Format with a layout of at most maxLayout bytes.
func (t templateTime) Format(layout string) (string, error) {
	if len(layout) > maxLayout {
		return "", &TemplateLimitError{Reason: fmt.Sprintf("a date layout is longer than %d bytes", maxLayout)}
	}
	return t.t.Format(layout), nil
}

func (t templateTime) String() string                   { return t.t.String() }
func (t templateTime) Year() int                        { return t.t.Year() }
func (t templateTime) Month() time.Month                { return t.t.Month() }
func (t templateTime) Day() int                         { return t.t.Day() }
func (t templateTime) Weekday() time.Weekday            { return t.t.Weekday() }
func (t templateTime) YearDay() int                     { return t.t.YearDay() }
func (t templateTime) Hour() int                        { return t.t.Hour() }
func (t templateTime) Minute() int                      { return t.t.Minute() }
func (t templateTime) Unix() int64                      { return t.t.Unix() }
func (t templateTime) AddDate(y, m, d int) templateTime { return templateTime{t.t.AddDate(y, m, d)} }
func (t templateTime) Before(u templateTime) bool       { return t.t.Before(u.t) }
func (t templateTime) After(u templateTime) bool        { return t.t.After(u.t) }
func (t templateTime) Sub(u templateTime) time.Duration { return t.t.Sub(u.t) }

// TemplateFuncs are the helpers available in templates. The text/template
// builtins that build text (print, printf, println, html, js, urlquery) are
// replaced by bounded versions and call is refused, so that no single call
// makes a string larger than MaxTemplateOutput.
var TemplateFuncs = template.FuncMap{
	"vnd":   VND,
	"upper": strings.ToUpper,
	"lower": strings.ToLower,
	"title": titleCase,
	"default": func(def string, v any) string {
		if s := fmt.Sprint(v); v != nil && s != "" && s != "0" {
			return s
		}
		return def
	},
	"percent":  func(n int64, pct int64) int64 { return n * pct / 100 },
	"print":    func(args ...any) (string, error) { return boundedText("print", fmt.Sprint(args...)) },
	"println":  func(args ...any) (string, error) { return boundedText("println", fmt.Sprintln(args...)) },
	"printf":   printf,
	"html":     func(args ...any) (string, error) { return boundedText("html", template.HTMLEscaper(args...)) },
	"js":       func(args ...any) (string, error) { return boundedText("js", template.JSEscaper(args...)) },
	"urlquery": func(args ...any) (string, error) { return boundedText("urlquery", template.URLQueryEscaper(args...)) },
	"call": func(any, ...any) (string, error) {
		return "", &TemplateLimitError{Reason: "call is not available in offer templates"}
	},
}

// VND formats an amount of Vietnamese dong the way shops write it:
// 1500000 → "1.500.000 ₫".
func VND(v any) string {
	var n int64
	switch x := v.(type) {
	case int:
		n = int64(x)
	case int64:
		n = x
	case float64:
		n = int64(x)
	case string:
		n, _ = strconv.ParseInt(x, 10, 64)
	}
	neg := n < 0
	if neg {
		n = -n
	}
	// Built in buffers on the stack, one allocation for the result: offers
	// and product lists format several prices a message.
	var digits [20]byte
	s := strconv.AppendInt(digits[:0], n, 10)
	var buf [48]byte
	out := buf[:0]
	if neg {
		out = append(out, '-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, '.')
		}
		out = append(out, c)
	}
	return string(append(out, " ₫"...))
}

func titleCase(s string) string {
	words := strings.Fields(s)
	for i, w := range words {
		r := []rune(strings.ToLower(w))
		r[0] = unicode.ToUpper(r[0])
		words[i] = string(r)
	}
	return strings.Join(words, " ")
}

// Bounds of one template render. A render that goes past one stops with a
// *TemplateLimitError: an offer that does so for a sample customer is
// refused when saved, and at send time the offer is left out of the reply.
const (
	// MaxTemplateSteps bounds the range iterations and template calls
	// ({{template}}, {{block}}, recursion) of one render.
	MaxTemplateSteps = 10_000
	// MaxTemplateOutput bounds the bytes of one rendered text, and of any
	// string a helper such as printf builds.
	MaxTemplateOutput = 8 << 10
	// MaxTemplateTime bounds the time of one render from its first step
	// on; it is checked at each step once there were timeCheckSteps, so
	// that an ordinary render (no loop, or a short one) reads the clock at
	// most once. Before the first step a template does only what its text
	// spells out, with bounded helpers.
	MaxTemplateTime = 10 * time.Millisecond
	// MaxPrintfWidth bounds the width and precision in a printf format.
	MaxPrintfWidth = 100

	// MaxTemplateDepth bounds how deep templates call templates.
	MaxTemplateDepth = 100

	timeCheckSteps = 16
)

// TemplateLimitError is a template render stopped by one of its bounds.
type TemplateLimitError struct {
	Reason string
	// Line is the line of the loop or template that went past a bound,
	// when the error itself does not say where.
	Line int
}

func (e *TemplateLimitError) Error() string { return e.Reason }

// Template is a parsed offer template whose execution is bounded. Every
// range body and template body starts with a mark, an empty text node whose
// bytes are a slice of marks; the writer a render writes to recognises a
// mark by its address, counts it as a step (and a template body's marks as
// its depth) and fails once a bound is passed, as it does past
// MaxTemplateOutput bytes. A failing writer is what stops text/template,
// which cannot be interrupted from outside; a mark costs a call of Write,
// no reflection.
type Template struct {
	t     *template.Template // rewritten once when parsed
	src   string             // the text, to place errors in it
	marks []byte             // mark i is the empty slice marks[i:i]
	kinds []markKind         // what mark i counts
	lines []int              // the line of the loop or template of mark i
	pool  sync.Pool          // of *render
}

type markKind uint8

const (
	markStep  markKind = iota // a turn of a range
	markEnter                 // the start of a template body: a step, one deeper
	markLeave                 // the end of a template body: one less deep
)

// render is the state of one render: its text and its budget. It is the
// writer the template executes to.
type render struct {
	tpl      *Template
	buf      []byte
	steps    int
	depth    int
	deadline time.Time
}

func (r *render) Write(p []byte) (int, error) {
	if len(p) == 0 {
		if m := r.tpl.marks; cap(p) > 0 && cap(p) <= len(m) {
			if i := len(m) - cap(p); &p[:1][0] == &m[i] {
				return 0, r.mark(i)
			}
		}
		return 0, nil
	}
	if len(r.buf)+len(p) > MaxTemplateOutput {
		return 0, &TemplateLimitError{Reason: fmt.Sprintf("the text is longer than %d bytes", MaxTemplateOutput)}
	}
	r.buf = append(r.buf, p...)
	return len(p), nil
}

// mark counts mark i against the budget.
func (r *render) mark(i int) error {
	switch r.tpl.kinds[i] {
	case markLeave:
		r.depth--
		return nil
	case markEnter:
		r.depth++
		if r.depth > MaxTemplateDepth {
			return &TemplateLimitError{Reason: fmt.Sprintf("templates call each other more than %d deep", MaxTemplateDepth), Line: r.tpl.lines[i]}
		}
	}
	r.steps++
	switch {
	case r.steps > MaxTemplateSteps:
		return &TemplateLimitError{Reason: fmt.Sprintf("the template repeats too much: more than %d loop turns and template calls", MaxTemplateSteps), Line: r.tpl.lines[i]}
	case r.steps == 1:
		r.deadline = time.Now().Add(MaxTemplateTime)
	case r.steps > timeCheckSteps && time.Now().After(r.deadline):
		return &TemplateLimitError{Reason: fmt.Sprintf("the template takes longer than %v to render", MaxTemplateTime), Line: r.tpl.lines[i]}
	}
	return nil
}

// ParseTemplate parses one offer template. The name appears in errors, which
// carry the line and the reason.
func ParseTemplate(name, src string) (*Template, error) {
	t, err := template.New(name).Funcs(TemplateFuncs).Option("missingkey=error").Parse(src)
	if err != nil {
		return nil, parseError(name, err)
	}
	tpl := &Template{t: t, src: src}
	var nodes []*parse.TextNode
	add := func(kind markKind, pos parse.Pos) *parse.TextNode {
		n := &parse.TextNode{NodeType: parse.NodeText, Pos: pos}
		nodes = append(nodes, n)
		tpl.kinds = append(tpl.kinds, kind)
		tpl.lines = append(tpl.lines, 1+strings.Count(src[:min(int(pos), len(src))], "\n"))
		return n
	}
	calls := false
	for _, d := range t.Templates() {
		if d.Tree != nil && d.Root != nil {
			calls = insertSteps(d.Root, add) || calls
		}
	}
	if calls {
		// A template that calls templates counts a step for every call and
		// tracks the depth, so that recursion is bounded; one without calls
		// (the common case) pays nothing for it.
		for _, d := range t.Templates() {
			if d.Tree == nil || d.Root == nil {
				continue
			}
			pos := d.Root.Position()
			d.Root.Nodes = append([]parse.Node{add(markEnter, pos)}, d.Root.Nodes...)
			d.Root.Nodes = append(d.Root.Nodes, add(markLeave, pos))
		}
	}
	tpl.marks = make([]byte, len(nodes))
	for i, n := range nodes {
		n.Text = tpl.marks[i:i]
	}
	return tpl, nil
}

// insertSteps puts a step mark at the top of every range body under list
// and reports whether there is a template call ({{template}}, {{block}}).
func insertSteps(list *parse.ListNode, add func(markKind, parse.Pos) *parse.TextNode) (calls bool) {
	if list == nil {
		return false
	}
	for _, n := range list.Nodes {
		var b *parse.BranchNode
		switch n := n.(type) {
		case *parse.TemplateNode:
			calls = true
			continue
		case *parse.IfNode:
			b = &n.BranchNode
		case *parse.WithNode:
			b = &n.BranchNode
		case *parse.RangeNode:
			b = &n.BranchNode
			if b.List == nil {
				b.List = &parse.ListNode{NodeType: parse.NodeList, Pos: n.Pos}
			}
			calls = insertSteps(b.List, add) || calls
			b.List.Nodes = append([]parse.Node{add(markStep, n.Pos)}, b.List.Nodes...)
			calls = insertSteps(b.ElseList, add) || calls
			continue
		default:
			continue
		}
		calls = insertSteps(b.List, add) || calls
		calls = insertSteps(b.ElseList, add) || calls
	}
	return calls
}

// Render executes t on data within the bounds.
func (t *Template) Render(data TemplateData) (string, error) {
	r, _ := t.pool.Get().(*render)
	if r == nil {
		r = &render{tpl: t}
	}
	r.buf, r.steps, r.depth, r.deadline = r.buf[:0], 0, 0, time.Time{}
	err := t.t.Execute(r, data.view())
	var text string
	if err == nil {
		text = string(bytes.TrimSpace(r.buf))
	}
	t.pool.Put(r)
	if err != nil {
		return "", t.renderError(err)
	}
	return text, nil
}

// RenderTemplate executes t on data within the bounds.
func RenderTemplate(t *Template, data TemplateData) (string, error) {
	return t.Render(data)
}

// boundedText refuses a helper's result longer than MaxTemplateOutput.
func boundedText(fn, s string) (string, error) {
	if len(s) > MaxTemplateOutput {
		return "", &TemplateLimitError{Reason: fmt.Sprintf("the text built by %s is longer than %d bytes", fn, MaxTemplateOutput)}
	}
	return s, nil
}

// printf is fmt.Sprintf with a bounded width and precision (fmt itself
// accepts up to a million) and a bounded result.
func printf(format string, args ...any) (string, error) {
	if err := checkFormat(format); err != nil {
		return "", err
	}
	return boundedText("printf", fmt.Sprintf(format, args...))
}

// checkFormat refuses a printf format with a width or precision over
// MaxPrintfWidth, or one taken from an argument (*).
func checkFormat(format string) error {
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		for i++; i < len(format) && strings.IndexByte("+-# 0", format[i]) >= 0; i++ {
		}
	spec:
		for i < len(format) {
			switch c := format[i]; {
			case c == '[':
				for i < len(format) && format[i] != ']' {
					i++
				}
				i++
			case c == '.':
				i++
			case c == '*':
				return &TemplateLimitError{Reason: "printf width or precision from an argument (*) is not allowed; write the number in the format"}
			case c >= '0' && c <= '9':
				n, start := 0, i
				for ; i < len(format) && format[i] >= '0' && format[i] <= '9'; i++ {
					if n <= MaxPrintfWidth {
						n = n*10 + int(format[i]-'0')
					}
				}
				if n > MaxPrintfWidth {
					return &TemplateLimitError{Reason: fmt.Sprintf("printf width %s is more than %d", format[start:i], MaxPrintfWidth)}
				}
			default:
				break spec // the verb
			}
		}
	}
	return nil
}

// FirstName returns the given name of a full name: the last word of a
// Vietnamese name ("Nguyễn Văn An" → "An"), the first of others. A
// Vietnamese name written given name first, as Telegram's first and last
// name fields make it ("Lan Nguyen"), gives its first word.
func FirstName(full, lang string) string {
	w := strings.Fields(full)
	if len(w) == 0 {
		return ""
	}
	if f := Words(Fold(full)); len(f) > 1 && vnSurnames[f[len(f)-1]] && !vnSurnames[f[0]] {
		return w[0]
	}
	if lang == "vi" || looksVietnameseName(full) {
		return w[len(w)-1]
	}
	return w[0]
}

var vnSurnames = map[string]bool{"nguyen": true, "tran": true, "le": true, "pham": true, "hoang": true, "huynh": true, "phan": true, "vu": true, "vo": true, "dang": true, "bui": true, "do": true, "ho": true, "ngo": true, "duong": true, "ly": true}

func looksVietnameseName(full string) bool {
	w := Words(Fold(full))
	return len(w) > 1 && vnSurnames[w[0]]
}
