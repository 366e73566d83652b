package crm

import (
	"bytes"
	"slices"
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
	// Stock is how many units the shop has; nil when it does not track it
	// (the product is then available). With variants, theirs count.
	Stock *int `yaml:"stock,omitempty" json:"stock,omitempty"`
	// Variants are the colours, capacities or sizes it comes in.
	Variants []*Variant `yaml:"variants,omitempty" json:"variants,omitempty"`
	// GoesWith are products bought with this one (a phone's case and
	// charger); Next the model up. The bot suggests them after a purchase.
	GoesWith []string `yaml:"goes_with,omitempty" json:"goes_with,omitempty"`
	Next     []string `yaml:"next,omitempty" json:"next,omitempty"`
	folded   []string
}

// Variant is one colour, capacity or size a product comes in.
type Variant struct {
	// Kind groups variants in answers: "color", "capacity", "size" or the
	// shop's own word.
	Kind   string `yaml:"kind" json:"kind"`
	Name   string `yaml:"name" json:"name"`
	NameEN string `yaml:"name_en,omitempty" json:"name_en,omitempty"`
	// Stock is how many units of this variant the shop has; nil: not
	// tracked (available).
	Stock  *int `yaml:"stock,omitempty" json:"stock,omitempty"`
	folded []string
}

// DisplayName returns the variant's name for a language.
func (v *Variant) DisplayName(lang string) string {
	if lang == "en" && v.NameEN != "" {
		return v.NameEN
	}
	return v.Name
}

// Available reports whether the variant can be sold now.
func (v *Variant) Available() bool { return v.Stock == nil || *v.Stock > 0 }

// Available reports whether the product can be sold now: in stock (or not
// tracked), or, with variants, one of them is.
func (p *Product) Available() bool {
	if len(p.Variants) > 0 {
		for _, v := range p.Variants {
			if v.Available() {
				return true
			}
		}
		return false
	}
	return p.Stock == nil || *p.Stock > 0
}

// MatchVariants returns the product's variants named, as whole words, in
// padded (as MatchPadded reads it).
func (p *Product) MatchVariants(padded string) []*Variant {
	var out []*Variant
	for _, v := range p.Variants {
		for _, f := range v.folded {
			if strings.Contains(padded, f) {
				out = append(out, v)
				break
			}
		}
	}
	return out
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
	// Phrases is the shop's wording of the bot's own phrases, over the
	// built-in ones: what the messages file (messages.yaml,
	// bot.ParseMessages) or the admin page (bot.MessagesAdmin) sets, never
	// read from the catalog file. It travels with the catalog because both
	// are the shop's words in answers and the core reads both; nil: the
	// built-in phrases.
	Phrases *Phrasebook `yaml:"-"`
	// masks are every product's folded names and keywords, longest first
	// (MaskPadded).
	masks []string
	// byWord are the products' folded names and keywords by their first
	// word (MatchWords).
	byWord map[string][]keywordAt
}

// keywordAt is a product's folded name or keyword: the product's index in
// Products, its words, and its length padded (" word word ").
type keywordAt struct {
	product int
	words   []string
	padded  int
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
		if p.Stock != nil && *p.Stock < 0 {
			return nil, Errorf(EINVALID, "%s: product %q: stock must not be negative", file, p.ID)
		}
		for j, v := range p.Variants {
			if v == nil || strings.TrimSpace(v.Name) == "" || strings.TrimSpace(v.Kind) == "" {
				return nil, Errorf(EINVALID, "%s: product %q: variant #%d: kind and name are required", file, p.ID, j+1)
			}
			if v.Stock != nil && *v.Stock < 0 {
				return nil, Errorf(EINVALID, "%s: product %q: variant %q: stock must not be negative", file, p.ID, v.Name)
			}
			for _, n := range []string{v.Name, v.NameEN} {
				if w := Words(Fold(n)); len(w) > 0 {
					v.folded = append(v.folded, " "+strings.Join(w, " ")+" ")
					if len(w) > 1 {
						// "màu xanh" names "Xanh dương" when no other
						// variant says more.
						v.folded = append(v.folded, " mau "+w[0]+" ", " color "+w[0]+" ")
					}
				}
			}
		}
		// Matched as " word word " inside the padded message, so keywords
		// match whole words only; computed once here, not per message.
		for _, k := range append([]string{p.Name, p.NameEN}, p.Keywords...) {
			if w := Words(Fold(k)); len(w) > 0 {
				p.folded = append(p.folded, " "+strings.Join(w, " ")+" ")
			}
		}
	}
	for _, p := range c.Products {
		c.masks = append(c.masks, p.folded...)
		for _, id := range append(slices.Clone(p.GoesWith), p.Next...) {
			if !seen[id] || id == p.ID {
				return nil, Errorf(EINVALID, "%s: product %q: goes_with/next %q is no other product of the catalog", file, p.ID, id)
			}
		}
	}
	slices.SortStableFunc(c.masks, func(a, b string) int { return len(b) - len(a) })
	c.byWord = map[string][]keywordAt{}
	for i, p := range c.Products {
		for _, kw := range p.folded {
			w := strings.Fields(kw)
			c.byWord[w[0]] = append(c.byWord[w[0]], keywordAt{product: i, words: w, padded: len(kw)})
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
	var hits []productHit
	for _, p := range c.Products {
		best := 0
		for _, kw := range p.folded {
			if len(kw) > best && strings.Contains(padded, kw) {
				best = len(kw)
			}
		}
		if best > 0 {
			hits = append(hits, productHit{p, best})
		}
	}
	return rankHits(hits)
}

// productHit is a product matched by a name or keyword len bytes long.
type productHit struct {
	p   *Product
	len int
}

// rankHits returns the products of hits, longest match first, in
// catalog order among equals (a stable insertion sort: hits are few).
func rankHits(hits []productHit) []*Product {
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

// MatchWords is MatchPadded of the words of a text (folded, Words) padded,
// by the keywords' first words: a padded keyword is in the padded text
// exactly when its words follow each other among the text's, and a text's
// words are few where the catalog's keywords are many.
func (c *Catalog) MatchWords(words []string) []*Product {
	if c.byWord == nil { // a catalog not read by ParseCatalog
		return c.MatchPadded(" " + strings.Join(words, " ") + " ")
	}
	var buf [64]int // the longest keyword found, by product
	var best []int
	if len(c.Products) <= len(buf) {
		best = buf[:len(c.Products)]
	} else {
		best = make([]int, len(c.Products))
	}
	found := false
	for i, w := range words {
		for _, kw := range c.byWord[w] {
			if kw.padded > best[kw.product] && len(words)-i >= len(kw.words) && slices.Equal(words[i:i+len(kw.words)], kw.words) {
				best[kw.product], found = kw.padded, true
			}
		}
	}
	if !found {
		return []*Product{}
	}
	var hits []productHit
	for i, n := range best {
		if n > 0 {
			hits = append(hits, productHit{c.Products[i], n})
		}
	}
	return rankHits(hits)
}

// MaskPadded replaces every product name or keyword in padded (as
// MatchPadded reads it) by token, so that understanding reads "giá
// iPhone 15" and "giá Redmi" alike.
func (c *Catalog) MaskPadded(padded, token string) string {
	for _, kw := range c.masks {
		if strings.Contains(padded, kw) {
			padded = strings.ReplaceAll(padded, kw, " "+token+" ")
		}
	}
	return padded
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
