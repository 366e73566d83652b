package bot

import (
	"cmp"
	"regexp"
	"slices"
	"strings"

	"github.com/idicbot/idicbot/crm"
)

// PriceRange is the price a customer asks about: "dưới 5 triệu" (Max),
// "trên 20tr" (Min), "từ 5 đến 10 triệu" (both), "tầm 10 triệu" (Around,
// with Min and Max 30% either side). Amounts are VND; 0 is open.
type PriceRange struct {
	Min, Max int64
	Around   int64
}

// The words around an amount, matched on folded text (lower case, no
// diacritics) that ends where the amount begins. Which amounts crm.FindAmounts
// finds are prices is decided here: one with a word before it saying which
// way ("dưới", "trên", "tầm", "từ … đến"), or one with a unit ("5tr", "5
// triệu", "500k", "2 million") or thousands separators ("5.000.000") on its
// own; phone numbers, counts ("mua 2 cái") and sizes ("256gb") are not.
const (
	priceWord = `(?:\s+(?:gia|muc gia|tam gia|price))?`
	// "rẻ hơn tầm 5 củ", "under about 2 million": a ceiling or floor.
	aboutWord = `(?:\s+(?:tam|khoang|chung|around|about))?`
)

var (
	rangeFromRe = regexp.MustCompile(`(?:^|\s)(?:tu|from|between)?` + priceWord + `\s*$`)
	rangeToRe   = regexp.MustCompile(`^\s*(?:den|toi|-|to|and)\s*$`)
	maxRe       = cueRe([]string{"duoi", "khong qua", "toi da", "re hon", "under", "below", "less than", "cheaper than", "max", "up to", "at most", "within"}, priceWord+aboutWord)
	minRe       = cueRe([]string{"tren", "hon", "over", "above", "more than", "at least"}, priceWord+aboutWord)
	aroundRe    = cueRe([]string{"tam", "khoang", "chung", "co", "around", "about", "roughly", "approximately"}, priceWord)
)

// priceCue is a pattern that ends at an amount and holds one of its cue
// words ("dưới", "tầm"): `(?:^|\s)(?:cue|cue…)` + after + `\s*$`.
type priceCue struct {
	re   *regexp.Regexp
	cues []string
}

func cueRe(cues []string, after string) priceCue {
	return priceCue{re: regexp.MustCompile(`(?:^|\s)(?:` + strings.Join(cues, "|") + `)` + after + `\s*$`), cues: cues}
}

// MatchString reports whether s ends as the pattern says. A text without
// any of the cue words cannot (each is a literal of the pattern): most
// texts before an amount ("giá iphone ") are not run through the pattern.
func (c priceCue) MatchString(s string) bool {
	for _, w := range c.cues {
		if strings.Contains(s, w) {
			return c.re.MatchString(s)
		}
	}
	return false
}

// AroundPrice is the range "around v": 30% either side.
func AroundPrice(v int64) *PriceRange {
	return &PriceRange{Min: v * 7 / 10, Max: v * 13 / 10, Around: v}
}

// minPrice is the smallest amount read as a price: "dưới 5" is not 5 đồng.
// maxPrice is the largest: beyond crm.MaxAmount an amount is not a price,
// and AroundPrice's 130% would overflow.
const (
	minPrice = 10_000
	maxPrice = crm.MaxAmount
)

// amountOf reads an amount as a price, or 0; one without a unit borrows
// that of borrowed, when given ("từ 5 đến 10 triệu").
func amountOf(m crm.AmountMatch, borrowed *crm.AmountMatch) int64 {
	if strings.HasPrefix(m.Number, "0") {
		return 0 // a phone number ("0912.345.678"), not a price
	}
	v, err := m.VND, m.Err
	if m.Unit == "" && borrowed != nil && borrowed.Unit != "" {
		v, err = crm.ParseAmount(m.Number + borrowed.Unit)
	}
	if err != nil || v < minPrice || v > maxPrice {
		return 0
	}
	return v
}

// findPriceRange reads the price range a folded message names, or nil. An
// amount without a word saying which way ("điện thoại 5 triệu") is read as
// "around". Each kind of range is read from the first amount that has its
// words, the ranges first, then ceilings, floors, "around" and amounts alone.
func findPriceRange(folded string) *PriceRange {
	if !strings.ContainsAny(folded, "0123456789") {
		return nil // most messages: no amount to find
	}
	ms := crm.FindAmounts(folded)
	// first returns the first amount that the text before it ends as re
	// says, or -1.
	first := func(re interface{ MatchString(string) bool }) int {
		for i, m := range ms {
			if re.MatchString(folded[:m.Start]) {
				return i
			}
		}
		return -1
	}
	for i := 0; i+1 < len(ms); i++ {
		if !rangeFromRe.MatchString(folded[:ms[i].Start]) || !rangeToRe.MatchString(folded[ms[i].End:ms[i+1].Start]) {
			continue
		}
		if lo, hi := ms[i], ms[i+1]; lo.Unit != "" || hi.Unit != "" {
			if lo, hi := amountOf(lo, &hi), amountOf(hi, nil); lo > 0 && hi > 0 {
				return &PriceRange{Min: min(lo, hi), Max: max(lo, hi)}
			}
		}
		break
	}
	if i := first(maxRe); i >= 0 {
		if v := amountOf(ms[i], nil); v > 0 {
			return &PriceRange{Max: v}
		}
	}
	if i := first(minRe); i >= 0 {
		if v := amountOf(ms[i], nil); v > 0 {
			return &PriceRange{Min: v}
		}
	}
	// Without a word before it, an amount needs a unit or thousands
	// separators to be a price. Here "m" is a length ("cáp sạc có 1m
	// không"), not a million.
	length := func(m crm.AmountMatch) bool { return m.Unit == "m" && m.Tail == "" }
	if i := first(aroundRe); i >= 0 && !length(ms[i]) {
		if v := amountOf(ms[i], nil); v > 0 {
			return AroundPrice(v)
		}
	}
	if i := first(spaceBefore{}); i >= 0 && !length(ms[i]) && (ms[i].Unit != "" || strings.ContainsAny(ms[i].Number, ".,")) {
		if v := amountOf(ms[i], nil); v > 0 {
			return AroundPrice(v)
		}
	}
	return nil
}

// spaceBefore matches the text before an amount that stands alone, as
// `(?:^|\s)$` would: it is empty or ends in a space, a tab or a line break
// (\s: [\t\n\f\r ]).
type spaceBefore struct{}

func (spaceBefore) MatchString(s string) bool {
	if s == "" {
		return true
	}
	switch s[len(s)-1] {
	case ' ', '\t', '\n', '\f', '\r':
		return true
	}
	return false
}

func (r *PriceRange) contains(price int64) bool {
	return price >= r.Min && (r.Max == 0 || price <= r.Max)
}

// categoryOf returns the catalog category a message names ("điện thoại",
// "phones", "phụ kiện"…, from the category names the bot answers with), or "".
func categoryOf(cat *crm.Catalog, padded string) string {
	for _, c := range cat.Categories() {
		for _, lang := range []string{"vi", "en"} {
			name := crm.Fold(categoryName(cat, lang, c))
			for _, n := range []string{name, strings.TrimSuffix(name, "s"), crm.Fold(c)} {
				if strings.Contains(padded, " "+n+" ") {
					return c
				}
			}
		}
	}
	return ""
}

// ProductsInRange returns the products asked about within r, the best fit
// first (the nearest to the ceiling, the floor, the middle or the "around"
// amount): the products named ("tai nghe dưới 1 triệu"), else those of the
// category (every one when ""). With none in range it returns the nearest
// one below the range and the nearest one above it, and false: asked for
// earbuds under 1 million, the answer is the earbuds' price, not a power
// bank. The rules answer price questions with it, and the LLM's budget is
// turned into products with it.
func ProductsInRange(cat *crm.Catalog, r *PriceRange, category string, named []*crm.Product) ([]*crm.Product, bool) {
	if cat == nil || r == nil {
		return nil, false
	}
	pool := slices.Clone(named)
	if len(pool) == 0 {
		for _, p := range cat.Products {
			if category == "" || p.Category == category {
				pool = append(pool, p)
			}
		}
	}
	target := r.Around
	switch {
	case target != 0:
	case r.Max != 0 && r.Min == 0:
		target = r.Max
	case r.Max == 0:
		target = r.Min
	default:
		target = (r.Min + r.Max) / 2
	}
	dist := func(p *crm.Product) int64 {
		if d := p.Price - target; d >= 0 {
			return d
		}
		return target - p.Price
	}
	slices.SortStableFunc(pool, func(a, b *crm.Product) int { return cmp.Compare(dist(a), dist(b)) })
	var fit []*crm.Product
	var below, above *crm.Product
	for _, p := range pool {
		switch {
		case r.contains(p.Price):
			fit = append(fit, p)
		case p.Price < r.Min:
			if below == nil {
				below = p
			}
		case above == nil:
			above = p
		}
	}
	if len(fit) > 0 {
		return fit, true
	}
	for _, p := range []*crm.Product{below, above} {
		if p != nil {
			fit = append(fit, p)
		}
	}
	return fit, false
}

// describe says the range in words: "dưới 5.000.000 ₫", "from … to …".
func (r *PriceRange) describe(lang string) string {
	switch {
	case r.Around != 0:
		return say(lang, "range_around", crm.VND(r.Around))
	case r.Min == 0:
		return say(lang, "range_under", crm.VND(r.Max))
	case r.Max == 0:
		return say(lang, "range_over", crm.VND(r.Min))
	}
	return say(lang, "range_between", crm.VND(r.Min), crm.VND(r.Max))
}
