package crm

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"text/template"
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

// TemplateFuncs are the helpers available in templates.
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
	"percent": func(n int64, pct int64) int64 { return n * pct / 100 },
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
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(r)
	}
	out := b.String() + " ₫"
	if neg {
		out = "-" + out
	}
	return out
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

// ParseTemplate parses one offer template. The name appears in errors, which
// carry the line and the reason.
func ParseTemplate(name, src string) (*template.Template, error) {
	return template.New(name).Funcs(TemplateFuncs).Option("missingkey=error").Parse(src)
}

// RenderTemplate executes t on data.
func RenderTemplate(t *template.Template, data TemplateData) (string, error) {
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return "", err
	}
	return strings.TrimSpace(b.String()), nil
}

// FirstName returns the given name of a full name: the last word of a
// Vietnamese name ("Nguyễn Văn An" → "An"), the first of others.
func FirstName(full, lang string) string {
	w := strings.Fields(full)
	if len(w) == 0 {
		return ""
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
