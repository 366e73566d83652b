package nlu

import (
	"regexp"
	"slices"
	"strings"

	"github.com/idicbot/idicbot/crm"
)

// Entities are the things a message names, read by rules: they are facts to
// act on (a phone to call, an order to look up), not guesses.
type Entities struct {
	Products []*crm.Product
	Phone    string // E.164
	Email    string
	// OrderRef is an order reference the customer wrote ("#1234", "đơn
	// DH1234"), as written without the "#".
	OrderRef string
	// Address is a delivery address given in the message ("giao về 12 Lý
	// Thường Kiệt, Q.10 giúp mình"), in the customer's own spelling.
	Address string
}

var (
	refRe = regexp.MustCompile(`(?i)(?:#\s?([a-z]{0,4}\d{3,12})\b|\b(?:ma don|ma don hang|don hang|don so|don|order|order no|order number|ma)\s*(?:so|no\.?|number|#)?\s*:?\s*([a-z]{0,4}\d{4,12}|[a-z]{2,4}\d{3,12})\b)`)
	// phoneRe finds the span of a phone number to mask it out of the text
	// the classifier reads (crm.FindPhone validates it).
	phoneRe = regexp.MustCompile(`(?:\+?84|\b0)(?:[\s.\-]?\d){8,10}\b`)
)

// addressCues open a delivery address, as folded words.
var addressCues = [][]string{
	{"giao", "ve"}, {"giao", "toi"}, {"giao", "den"}, {"giao", "hang", "ve"}, {"giao", "hang", "toi"}, {"giao", "hang", "den"},
	{"ship", "ve"}, {"ship", "toi"}, {"ship", "den"}, {"gui", "ve"}, {"gui", "hang", "ve"}, {"chuyen", "ve"},
	{"dia", "chi", "moi", "la"}, {"dia", "chi", "cua", "minh", "la"}, {"dia", "chi", "cua", "em", "la"}, {"dia", "chi", "cua", "toi", "la"},
	{"dia", "chi", "minh", "la"}, {"dia", "chi", "em", "la"}, {"dia", "chi", "toi", "la"}, {"dia", "chi", "nha", "minh", "la"},
	{"dia", "chi", "giao", "hang"}, {"dia", "chi", "nhan", "hang"}, {"dia", "chi", "nhan"},
	{"dia", "chi", "nhan", "hang", "la"}, {"dia", "chi", "giao", "hang", "la"}, {"dia", "chi", "la"}, {"dia", "chi", "sang"}, {"dia", "chi"}, {"dc"},
	{"deliver", "to"}, {"ship", "it", "to"}, {"ship", "to"}, {"send", "it", "to"}, {"my", "address", "is"}, {"address", "is"}, {"address"},
	{"nha", "minh", "o"}, {"nha", "em", "o"}, {"nha", "toi", "o"},
}

// cuesLongestFirst are addressCues, the longest first, so that "địa chỉ
// mình là" is read before "địa chỉ".
var cuesLongestFirst = func() [][]string {
	out := slices.Clone(addressCues)
	slices.SortStableFunc(out, func(a, b []string) int { return len(b) - len(a) })
	return out
}()

// addressWords tell an address from other words after a cue ("giao về
// nhanh không"): a digit, or one of these.
var addressWords = map[string]bool{"duong": true, "pho": true, "phuong": true, "quan": true, "huyen": true, "tp": true, "thanh": true,
	"hem": true, "ngo": true, "ngach": true, "so": true, "p": true, "q": true, "xa": true, "thon": true, "tinh": true, "street": true,
	"road": true, "district": true, "ward": true, "city": true, "hcm": true, "ha": true, "noi": true, "kiet": true, "chung": true, "cu": true, "toa": true, "lo": true}

// addressTail are words that end a request, not an address.
var addressTail = map[string]bool{"giup": true, "gium": true, "nhe": true, "nha": true, "a": true, "ak": true, "please": true, "pls": true, "nhen": true, "voi": true, "di": true, "thanks": true, "shop": true, "ad": true, "minh": true, "em": true, "nhe.": true, "cam": true, "on": true, "nhanh": true, "chi": true, "anh": true, "ban": true, "giupminh": true,
	"e": true, "c": true, "mik": true, "mk": true, "dum": true, "ho": true, "nghen": true, "toi": true}

// hasAddressCue reports whether folded words hold the first word of an
// address cue: most messages do not, and are spared findAddress.
func hasAddressCue(words []string) bool {
	for _, w := range words {
		switch w {
		case "giao", "ship", "gui", "chuyen", "dia", "dc", "deliver", "send", "address", "nha", "my":
			return true
		}
	}
	return false
}

// findAddress returns the delivery address a message gives, in the
// original spelling, or "".
func findAddress(text string) string {
	fields := strings.Fields(text)
	folded := make([]string, len(fields))
	for i, f := range fields {
		folded[i] = strings.Join(crm.Words(crm.Fold(f)), "")
	}
	for i := range folded {
		for _, cue := range cuesLongestFirst {
			if i+len(cue) > len(folded) || !hasPrefix(folded[i:], cue) {
				continue
			}
			rest := i + len(cue)
			// "địa chỉ: 12 …": the colon is on the cue's last field.
			end := len(fields)
			for j := end - 1; j >= rest; j-- {
				if !addressTail[folded[j]] {
					break
				}
				end = j
			}
			if end-rest < 2 {
				continue
			}
			ok := false
			for _, f := range folded[rest:end] {
				if addressWords[f] || strings.ContainsAny(f, "0123456789") {
					ok = true
					break
				}
			}
			if !ok {
				continue
			}
			addr := strings.Join(fields[rest:end], " ")
			return strings.Trim(addr, " ,.:;!?-")
		}
	}
	return ""
}

func hasPrefix(words, prefix []string) bool {
	for i, p := range prefix {
		if words[i] != p {
			return false
		}
	}
	return true
}

// findRef returns the order reference a message names, or "".
func findRef(folded string) string {
	m := refRe.FindStringSubmatch(folded)
	if m == nil {
		return ""
	}
	ref := m[1]
	if ref == "" {
		ref = m[2]
	}
	if strings.HasPrefix(ref, "0") && len(ref) >= 9 {
		return "" // a phone number, not an order
	}
	return strings.ToUpper(ref)
}
