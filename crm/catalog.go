package crm

import (
	"bytes"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Product is one item of the shop's catalog.
type Product struct {
	ID       string   `yaml:"id" json:"id"`
	Name     string   `yaml:"name" json:"name"`
	NameEN   string   `yaml:"name_en,omitempty" json:"name_en,omitempty"`
	Price    int64    `yaml:"price" json:"price"` // VND
	Category string   `yaml:"category" json:"category"`
	Keywords []string `yaml:"keywords,omitempty" json:"keywords,omitempty"`
	folded   []string
}

// DisplayName returns the product name for a language.
func (p *Product) DisplayName(lang string) string {
	if lang == "en" && p.NameEN != "" {
		return p.NameEN
	}
	return p.Name
}

// Catalog is the shop's product list with keyword matching.
type Catalog struct {
	Shop     string     `yaml:"shop"`
	Products []*Product `yaml:"products"`
	// CategoryNames names categories in answers, by category and language
	// ("vi", "en"): categories: {fashion: {vi: "thời trang", en: "fashion"}}.
	// A category without a name here is named by the bot's defaults
	// (phone, laptop, accessory) or by its id.
	CategoryNames map[string]map[string]string `yaml:"categories,omitempty"`
}

// ParseCatalog reads a catalog file.
func ParseCatalog(file string, data []byte) (*Catalog, error) {
	var c Catalog
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, Errorf(EINVALID, "%s: %v", file, err)
	}
	seen := map[string]bool{}
	for i, p := range c.Products {
		if p == nil {
			return nil, Errorf(EINVALID, "%s: product #%d is empty", file, i+1)
		}
		if p.ID == "" || p.Name == "" {
			return nil, Errorf(EINVALID, "%s: product #%d: id and name are required", file, i+1)
		}
		if seen[p.ID] {
			return nil, Errorf(EINVALID, "%s: product %q: defined twice", file, p.ID)
		}
		if p.Price < 0 {
			return nil, Errorf(EINVALID, "%s: product %q: price must not be negative", file, p.ID)
		}
		seen[p.ID] = true
		// Matched as " word word " inside the padded message, so keywords
		// match whole words only; computed once here, not per message.
		for _, k := range append([]string{p.Name, p.NameEN}, p.Keywords...) {
			if w := Words(Fold(k)); len(w) > 0 {
				p.folded = append(p.folded, " "+strings.Join(w, " ")+" ")
			}
		}
	}
	used := map[string]bool{}
	for _, p := range c.Products {
		used[p.Category] = true
	}
	for cat, names := range c.CategoryNames {
		if !used[cat] {
			return nil, Errorf(EINVALID, "%s: categories: %q is no product's category", file, cat)
		}
		for lang, name := range names {
			if lang != "vi" && lang != "en" {
				return nil, Errorf(EINVALID, "%s: categories: %s: language %q: want vi or en", file, cat, lang)
			}
			if strings.TrimSpace(name) == "" {
				return nil, Errorf(EINVALID, "%s: categories: %s: %s: empty name", file, cat, lang)
			}
		}
	}
	return &c, nil
}

// CategoryName returns the name the catalog gives a category in a language,
// or "".
func (c *Catalog) CategoryName(lang, category string) string {
	return c.CategoryNames[category][lang]
}

// Product returns the product with id, or nil.
func (c *Catalog) Product(id string) *Product {
	for _, p := range c.Products {
		if p.ID == id {
			return p
		}
	}
	return nil
}

// Match returns the products whose name or keywords appear, as whole words,
// in folded text, best (longest match) first.
func (c *Catalog) Match(folded string) []*Product {
	return c.MatchPadded(" " + strings.Join(Words(folded), " ") + " ")
}

// MatchPadded is Match on text already reduced to " word word … " (folded
// words joined by single spaces, with a space at each end).
func (c *Catalog) MatchPadded(padded string) []*Product {
	type hit struct {
		p   *Product
		len int
	}
	var hits []hit
	for _, p := range c.Products {
		best := 0
		for _, kw := range p.folded {
			if len(kw) > best && strings.Contains(padded, kw) {
				best = len(kw)
			}
		}
		if best > 0 {
			hits = append(hits, hit{p, best})
		}
	}
	for i := 1; i < len(hits); i++ {
		for j := i; j > 0 && hits[j].len > hits[j-1].len; j-- {
			hits[j], hits[j-1] = hits[j-1], hits[j]
		}
	}
	out := make([]*Product, len(hits))
	for i, h := range hits {
		out[i] = h.p
	}
	return out
}

// Categories returns the distinct categories in catalog order.
func (c *Catalog) Categories() []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range c.Products {
		if !seen[p.Category] {
			seen[p.Category] = true
			out = append(out, p.Category)
		}
	}
	return out
}
