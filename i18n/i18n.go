// Package i18n is how idicbot speaks to the people who run a shop (owners
// and sales reps): message catalogs in Vietnamese, the default, and
// English, on golang.org/x/text/message.
//
// x/text/message was chosen over nicksnyder/go-i18n because the module
// already depends on golang.org/x/text (collation, normalization), its
// plural rules come straight from CLDR (Vietnamese has a single form,
// English "one" and "other"), and it formats counts the way each language
// groups digits (1.500 in Vietnamese, 1,500 in English); go-i18n would add a
// dependency and a file format for the same result. Messages are Go tables
// (Message) kept beside the code that prints them, so a new text is added
// in one place, and a test checks that every message has both languages.
//
// Identifiers (customer ids, order references) must be passed as strings:
// the printer groups the digits of every integer it formats.
package i18n

import (
	"fmt"
	"strings"

	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"
)

// Lang is a language people read idicbot in.
type Lang string

// The languages of the catalogs. Vietnamese is the default everywhere.
const (
	Vietnamese Lang = "vi"
	English    Lang = "en"
)

// Default is the language used when nobody chose one.
const Default = Vietnamese

// Langs are the supported languages, the default first.
var Langs = []Lang{Vietnamese, English}

// Parse reads a language a person typed or a setting holds ("vi",
// "en", "EN", "english", "tiếng việt", "en-US"). ok is false for anything
// else.
func Parse(s string) (l Lang, ok bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if i := strings.IndexAny(s, "-_"); i > 0 {
		s = s[:i]
	}
	switch s {
	case "vi", "vn", "vie", "viet", "vietnamese", "tiếng việt", "tieng viet", "việt":
		return Vietnamese, true
	case "en", "eng", "english", "tiếng anh", "tieng anh", "anh":
		return English, true
	}
	return "", false
}

// OrDefault returns l when it is a supported language, else Default.
func OrDefault(l string) Lang {
	if p, ok := Parse(l); ok {
		return p
	}
	return Default
}

func (l Lang) tag() language.Tag {
	if l == English {
		return language.English
	}
	return language.Vietnamese
}

// Message is one text in both languages. VI and EN are a format string
// (fmt verbs, with explicit argument indexes when the languages order the
// arguments differently) or a catalog.Message such as Plural.
type Message struct {
	ID string
	VI any
	EN any
}

// Catalog holds messages by id for every supported language.
type Catalog struct {
	b        *catalog.Builder
	ids      map[string]bool
	printers map[Lang]*Printer
}

// NewCatalog builds a catalog from message tables. Every message needs a
// unique id and a text in each language.
func NewCatalog(tables ...[]Message) (*Catalog, error) {
	c := &Catalog{b: catalog.NewBuilder(catalog.Fallback(language.Vietnamese)), ids: map[string]bool{}}
	for _, t := range tables {
		for _, m := range t {
			if m.ID == "" {
				return nil, fmt.Errorf("i18n: a message without an id")
			}
			if c.ids[m.ID] {
				return nil, fmt.Errorf("i18n: message %q defined twice", m.ID)
			}
			c.ids[m.ID] = true
			for _, lt := range []struct {
				l Lang
				v any
			}{{Vietnamese, m.VI}, {English, m.EN}} {
				msg, err := toMessage(lt.v)
				if err != nil {
					return nil, fmt.Errorf("i18n: message %q in %s: %w", m.ID, lt.l, err)
				}
				if err := c.b.Set(lt.l.tag(), m.ID, msg); err != nil {
					return nil, fmt.Errorf("i18n: message %q in %s: %w", m.ID, lt.l, err)
				}
			}
		}
	}
	c.printers = map[Lang]*Printer{}
	for _, l := range Langs {
		c.printers[l] = &Printer{lang: l, p: message.NewPrinter(l.tag(), message.Catalog(c.b)), ids: c.ids}
	}
	return c, nil
}

// MustCatalog is NewCatalog for tables fixed in the source, where an
// error is a programming mistake caught by every test.
func MustCatalog(tables ...[]Message) *Catalog {
	c, err := NewCatalog(tables...)
	if err != nil {
		panic(err)
	}
	return c
}

func toMessage(v any) (catalog.Message, error) {
	switch v := v.(type) {
	case string:
		if v == "" {
			return nil, fmt.Errorf("empty text")
		}
		return catalog.String(v), nil
	case catalog.Message:
		return v, nil
	case nil:
		return nil, fmt.Errorf("missing text")
	}
	return nil, fmt.Errorf("text of type %T", v)
}

// Has reports whether id is a message of the catalog.
func (c *Catalog) Has(id string) bool { return c.ids[id] }

// Printer returns the printer of a language (the default one for an
// unsupported language).
func (c *Catalog) Printer(l Lang) *Printer {
	if p, ok := c.printers[l]; ok {
		return p
	}
	return c.printers[Default]
}

// Printer formats the catalog's messages in one language. It is safe for
// concurrent use.
type Printer struct {
	lang Lang
	p    *message.Printer
	ids  map[string]bool
}

// Lang is the printer's language.
func (p *Printer) Lang() Lang { return p.lang }

// T formats the message id with args. An id that is not in the catalog is
// printed as it is, marked, so a test reading the output catches it.
func (p *Printer) T(id string, args ...any) string {
	if !p.ids[id] {
		return "[" + id + "]"
	}
	return p.p.Sprintf(id, args...)
}

// Plural is a text that depends on the count in argument n (1-based) in
// languages with more than one plural form (English: "one" and "other").
// Both texts are format strings given all the message's arguments.
func Plural(n int, one, other string) catalog.Message {
	return plural.Selectf(n, "%d", "one", one, "other", other)
}
