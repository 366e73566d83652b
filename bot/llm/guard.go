package llm

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/idicbot/idicbot/crm"
)

// percentRe follows a number that is a percentage or a discount: "10%",
// "50 phần trăm", "30 off".
var percentRe = regexp.MustCompile(`(?i)^\s*(%|phần trăm|phan tram|percent|off)(?:$|[^\p{L}\d])`)

// discountRe finds a discount named by a word before the number ("giảm 90",
// "off 50", "sale 30").
var discountRe = regexp.MustCompile(`(?i)(giảm|giam|off|sale|discount|bớt|bot|chiết khấu)\s*(?:giá\s*)?(?:đến\s*|up to\s*|tới\s*)?(\d+(?:[.,]\d+)*)`)

// dollarRe finds amounts in other currencies: the shop sells in VND only.
var dollarRe = regexp.MustCompile(`[$€£¥]\s*\d|\d\s*(usd|eur|dollars?)\b`)

// codeRe finds voucher-code-like words: capitals and digits, with a digit.
var codeRe = regexp.MustCompile(`\b[A-Z][A-Z0-9_-]{2,}\b`)

// codeAfterRe finds the word after "mã", "code", "voucher", "coupon".
var codeAfterRe = regexp.MustCompile(`(?i)\b(mã|ma|code|voucher|coupon|promo code)\s*(?:giảm giá\s*|là\s*|is\s*|:\s*)?([A-Za-z0-9_-]{3,})`)

// promoWords are promotions a draft may name only when the shop's own text
// (knowledge, eligible offers) names one of the same group: the knowledge is
// often written in one language and the draft in the other.
var promoWords = [][]string{
	{"mien phi", "free"},
	{"tang", "qua tang", "tang kem", "gift", "giveaway"},
	{"freeship"},
	{"flash sale"},
	{"hoan tien", "cashback"},
	{"buy one get one", "mua 1 tang 1", "bogo"},
}

// offerWords talk about a discount or a promotion without naming an amount
// ("we'll give you a discount", "giảm nửa giá"). A draft may use them only
// when it goes with an eligible offer, which the customer then sees as the
// shop wrote it, or when the shop's knowledge uses them itself.
var offerWords = []string{
	"giam gia", "giam them", "giam nua", "giam mot nua", "nua gia", "bot gia", "chiet khau", "khuyen mai", "uu dai", "ma giam",
	"discount", "discounts", "discounted", "promotion", "promotions", "promo", "sale", "on sale", "voucher", "vouchers",
	"coupon", "coupons", "deal", "deals", "half price", "half off", "price match", "special price", "gia dac biet", "gia soc",
}

// moneyWords are money units; one not preceded by a number names an amount
// in words ("mười lăm triệu", "fifteen million"), which cannot be checked.
var moneyWords = map[string]bool{"trieu": true, "million": true, "millions": true, "billion": true}

var numberSep = regexp.MustCompile(`[.,]`)

// amount is a number the draft names: money in VND or a percentage.
type amount struct {
	vnd     int64
	percent float64
	isPct   bool
	text    string
	// unreadable is money written so that it cannot be read ("1.500.000k"):
	// a draft may not name one, and shop text allows none.
	unreadable bool
}

// parseNumber reads a percentage or a discount's number, "19.990.000",
// "1,5", "15", "1.5", as a float: groups of three digits after a separator
// are thousands, anything else is a decimal.
func parseNumber(s string) (float64, bool) {
	parts := numberSep.Split(s, -1)
	if len(parts) > 1 {
		grouped := true
		for _, p := range parts[1:] {
			grouped = grouped && len(p) == 3
		}
		if grouped {
			n, err := strconv.ParseFloat(strings.Join(parts, ""), 64)
			return n, err == nil
		}
		if len(parts) == 2 {
			n, err := strconv.ParseFloat(parts[0]+"."+parts[1], 64)
			return n, err == nil
		}
		return 0, false
	}
	n, err := strconv.ParseFloat(s, 64)
	return n, err == nil
}

// amounts returns the money and percentages text names (crm.FindAmounts
// reads them): money with a unit or a currency after the number ("15
// triệu", "500k", "18tr990", "19.990.000 ₫"), or without one when written
// with thousands separators ("19.990.000") or as five digits or more
// ("18990000"): in a shop's answer, that is money, while "iPhone 15" and
// "128GB" are not.
func amounts(text string) []amount {
	var out []amount
	for _, m := range crm.FindAmounts(text) {
		a := amount{text: text[m.Start:m.End]}
		switch {
		case m.Unit != "" || m.Currency != "":
			a.vnd = m.VND
		case percentRe.MatchString(text[m.End:]):
			n, ok := parseNumber(m.Number)
			if !ok {
				continue
			}
			a.isPct, a.percent = true, n
			a.text = strings.TrimSpace(a.text + " " + percentRe.FindStringSubmatch(text[m.End:])[1])
		case groupedAmount.MatchString(m.Number) || bareAmount.MatchString(m.Number):
			a.vnd = m.VND
		default:
			continue
		}
		if !a.isPct && m.Err != nil {
			if m.Unit == "" && m.Currency == "" || strings.Trim(m.Number, "0.,") == "" {
				continue // "1.50.000", "0 đ": no price at all
			}
			// "1.500.000k", "1,5 đ", past crm.MaxAmount: money that cannot be
			// checked.
			a.vnd, a.unreadable = 0, true
		}
		out = append(out, a)
	}
	return out
}

// bareAmount is a number of five digits or more written without separators
// or unit ("18990000"): in a shop's answer, money.
var bareAmount = regexp.MustCompile(`^[1-9]\d{4,}$`)

// ParseBudget returns the money amount a customer names ("khoảng 15 triệu",
// "tầm 15tr", "500k", "15.000.000đ", "under 20 million"), or 0. With several,
// the largest wins ("từ 10 đến 15 triệu" → 15,000,000).
func ParseBudget(text string) int64 {
	var best int64
	for _, a := range amounts(text) {
		if !a.isPct && a.vnd > best {
			best = a.vnd
		}
	}
	return best
}

// allowed is what a draft may name: the catalog's prices, the shop
// knowledge's amounts, the eligible offers' amounts, percentages and codes.
type allowed struct {
	vnd     map[int64]bool
	percent map[float64]bool
	codes   map[string]bool // upper case
	words   map[string]bool // capitalised words the shop's own text uses
	folded  string          // the shop's own text, folded, for promotion words
	// offer is set when the draft goes with an eligible offer.
	offer bool
}

func newAllowed() *allowed {
	return &allowed{vnd: map[int64]bool{}, percent: map[float64]bool{}, codes: map[string]bool{}, words: map[string]bool{}}
}

// addText allows every amount, percentage and code-like word in text (shop
// text: catalog, knowledge, rendered eligible offers).
func (al *allowed) addText(text string) {
	for _, a := range amounts(text) {
		switch {
		case a.unreadable:
		case a.isPct:
			al.percent[a.percent] = true
		default:
			al.vnd[a.vnd] = true
		}
	}
	for _, w := range codeRe.FindAllString(text, -1) {
		al.words[w] = true
	}
	al.folded += " " + crm.Fold(text) + " "
}

// check says why a draft may not be sent, or "" when it may.
func (al *allowed) check(draft string) string {
	if dollarRe.MatchString(strings.ToLower(draft)) {
		return "foreign currency"
	}
	for _, a := range amounts(draft) {
		if a.unreadable {
			return "amount " + a.text + " cannot be read"
		}
		if a.isPct && !al.percent[a.percent] {
			return "percentage " + a.text + " is not offered"
		}
		if !a.isPct && !al.vnd[a.vnd] {
			return "amount " + a.text + " is not a catalog price or an offer's"
		}
	}
	// A discount named by a word before a bare number ("giảm 90", "off 50")
	// must be an offered percentage or amount; with a unit after the number
	// it was checked above.
	for _, loc := range discountRe.FindAllStringSubmatchIndex(draft, -1) {
		num := draft[loc[4]:loc[5]]
		if amountUnit.MatchString(draft[loc[5]:]) || amountUnit.MatchString(strings.TrimLeft(draft[loc[5]:], " ")) {
			continue
		}
		n, ok := parseNumber(num)
		if ok && !al.percent[n] && !al.vnd[int64(n)] {
			return "discount " + draft[loc[0]:loc[1]] + " is not offered"
		}
	}
	for _, m := range codeAfterRe.FindAllStringSubmatch(draft, -1) {
		w := m[2]
		code := strings.ToUpper(w) == w && strings.IndexFunc(w, isUpper) >= 0 || strings.IndexFunc(w, isDigit) >= 0
		if code && !al.codes[strings.ToUpper(w)] && !al.words[w] {
			return "code " + w + " is not an eligible offer's"
		}
	}
	for _, w := range codeRe.FindAllString(draft, -1) {
		if strings.IndexFunc(w, isDigit) >= 0 && !al.codes[w] && !al.words[w] {
			return "code " + w + " is not an eligible offer's"
		}
	}
	words := crm.Words(crm.Fold(draft))
	for i, w := range words {
		if moneyWords[w] && (i == 0 || strings.IndexFunc(words[i-1], isDigit) < 0) {
			return "amount in words (\"" + w + "\")"
		}
	}
	folded := " " + strings.Join(words, " ") + " "
	shop := " " + strings.Join(crm.Words(al.folded), " ") + " "
	if !al.offer && !containsAny(shop, offerWords) {
		for _, p := range offerWords {
			if strings.Contains(folded, " "+p+" ") {
				return "names a promotion (\"" + p + "\") without an eligible offer"
			}
		}
	}
	for _, group := range promoWords {
		for _, p := range group {
			if strings.Contains(folded, " "+p+" ") && !containsAny(shop, group) {
				return "promotion \"" + p + "\" is not offered"
			}
		}
	}
	return ""
}

func isUpper(r rune) bool { return r >= 'A' && r <= 'Z' }

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

func containsAny(padded string, words []string) bool {
	for _, w := range words {
		if strings.Contains(padded, " "+w+" ") {
			return true
		}
	}
	return false
}
