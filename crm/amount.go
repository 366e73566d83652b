package crm

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxAmount is the largest amount of money read (a million billion đồng,
// 10^15 ₫): past it a number is not a price anyone means, and a price range's
// 130% of it still fits an int64.
const MaxAmount int64 = 1_000_000_000_000_000

// amountUnits are the words, folded, that multiply the number before them:
// "500k", "500 nghìn", "2tr", "2 triệu", "5 củ", "1.5m", "2 million", "1 tỷ",
// "1.5 billion". ("ng" and "b" are not among them: in chat "3ng" is three
// people and "b" is bạn.)
var amountUnits = map[string]int64{
	"k": 1_000, "nghin": 1_000, "ngan": 1_000,
	"tr": 1_000_000, "trieu": 1_000_000, "cu": 1_000_000, "m": 1_000_000, "mil": 1_000_000, "million": 1_000_000,
	"ty": 1_000_000_000, "ti": 1_000_000_000, "bn": 1_000_000_000, "billion": 1_000_000_000,
}

// amountCurrencies are the words, folded, that may follow an amount and only
// say it is in đồng: "500.000đ", "500000 VND", "2 triệu đồng", "1.500.000 ₫".
var amountCurrencies = map[string]bool{"₫": true, "d": true, "dong": true, "vnd": true}

// AmountMatch is one amount of money as written in text, found by
// FindAmounts or read by ReadAmount. The parts are kept so that callers can
// apply their own rules (a customer's "5" is not a price, "1m" may be a
// cable's length), while the reading is the same everywhere.
type AmountMatch struct {
	// Start and End are byte offsets: text[Start:End] is the amount as
	// written, unit and currency included.
	Start, End int
	// Number is the number before the unit: "1,5", "1.500.000", "2".
	Number string
	// Unit is the multiplying unit as written, folded: "k", "nghin", "tr",
	// "trieu", "cu", "m", "ty", "billion"; "" when there is none.
	Unit string
	// Tail is the digits after the unit in "1tr5" or "18tr990".
	Tail string
	// Currency is the currency as written, folded ("₫", "d", "dong",
	// "vnd"), or "".
	Currency string
	// VND is the amount in đồng; 0 when Err is set.
	VND int64
	// Err says why the amount cannot be read (code EINVALID): "1,5" without
	// a unit, "1.50.000", finer than one đồng, 0, more than MaxAmount.
	Err error
	why string // Err's message without the amount
}

// Grouped reports whether the number is written with thousands separators
// ("1.500.000", "690,000"), the way prices are and counts are not.
func (m AmountMatch) Grouped() bool {
	_, ok := groupedDigits(m.Number)
	return ok
}

// ParseAmount reads a whole VND amount the way reps and customers write one:
// 1500000, 1.500.000, 1,500,000, 1,5tr, 1.5tr, 1tr5, 1.5m, 2 triệu, 500k, 500
// nghìn, 3 củ, 1 tỷ, 1,2 tỷ, 2 million, 1.5 billion, with or without a
// trailing ₫, đ, đồng or VND. A separator followed by exactly three digits
// groups thousands, with or without a unit ("1.500" is 1.500 ₫, "1.500k" is
// 1.500.000 ₫); with a unit, any other single separator is a decimal point
// ("1,5tr", "1.25 triệu"), and more than one ("1.500.000k") is refused. The
// amount must be a positive whole number of đồng of at most MaxAmount;
// anything else is an EINVALID error that says how to write one.
func ParseAmount(s string) (int64, error) {
	m, err := ReadAmount(s)
	return m.VND, err
}

// ReadAmount reads s, the whole of it but for surrounding spaces, as one
// amount (see ParseAmount), and returns its parts as well: an importer can
// refuse "1.5tr" in a file of amounts in đồng. When s is written as one
// amount whose value is refused (0, past MaxAmount, "1.50.000"), its parts
// are returned with the error.
func ReadAmount(s string) (AmountMatch, error) {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "-") || strings.HasPrefix(t, "−") {
		return AmountMatch{}, Errorf(EINVALID, "%q: an amount must be positive.", s).Say("amount_negative", s)
	}
	if t == "" || !isASCIIDigit(t[0]) {
		return AmountMatch{}, Errorf(EINVALID, "%q %s", s, notAnAmount).Say("amount_bad", s)
	}
	m, ok := matchAmountAt(t, 0)
	if !ok || m.End != len(t) {
		return AmountMatch{}, Errorf(EINVALID, "%q %s", s, notAnAmount).Say("amount_bad", s)
	}
	off := len(s) - len(strings.TrimLeftFunc(s, unicode.IsSpace))
	m.Start, m.End = m.Start+off, m.End+off
	if m.Err != nil {
		m.Err = Errorf(EINVALID, "%q %s", s, m.why)
	}
	return m, m.Err
}

// Why an amount cannot be read, after the amount as written.
const (
	notAnAmount = "is not an amount: write 1500000, 1.500.000, 1,5tr, 1tr5, 500k or 1,2 tỷ."
	tooLarge    = "is more than 1.000.000.000.000.000 ₫: not an amount of money."
)

// FindAmounts returns every number in text with the unit and currency
// written after it, in order: "giá 1tr5 hoặc 1.500.000đ" has two, "mua 2
// cái" one (2, no unit), "256gb" and "5000mAh" none (a number glued to a
// word that is not a unit is not an amount). Nothing else is decided: a
// number preceded by letters ("iPhone15") is found too, and a match that
// cannot be read carries its Err. Which ones are prices — with a unit, with
// thousands separators, not a phone number — is each caller's rule.
func FindAmounts(text string) []AmountMatch {
	var out []AmountMatch
	for i := 0; i < len(text); {
		if !isASCIIDigit(text[i]) {
			i++
			continue
		}
		m, ok := matchAmountAt(text, i)
		if ok {
			out = append(out, m)
			i = m.End
			continue
		}
		i += len(numberAt(text, i))
	}
	return out
}

// matchAmountAt reads the amount whose number starts at text[i], a digit:
// the number, then optionally spaces and a unit with the digits right after
// it, then optionally spaces and a currency. It reports false when a word
// glued to the number is neither ("256gb").
func matchAmountAt(text string, i int) (AmountMatch, bool) {
	num := numberAt(text, i)
	m := AmountMatch{Start: i, End: i + len(num), Number: num}
	j := m.End
	word, k := wordAfter(text, j)
	glued := k-len(word) == j
	switch {
	case word == "":
	case amountUnits[Fold(word)] != 0:
		m.Unit = Fold(word)
		tail := k
		for tail < len(text) && isASCIIDigit(text[tail]) && tail-k < 4 {
			tail++
		}
		cur, c := wordAfter(text, tail)
		if tail-k > 3 || !boundaryAt(text, tail) && !(c-len(cur) == tail && amountCurrencies[Fold(cur)] && boundaryAt(text, c)) {
			if glued {
				return AmountMatch{}, false
			}
			m.Unit = "" // "5 tr5000": not a unit after all
			break
		}
		m.Tail, m.End = text[k:tail], tail
		if amountCurrencies[Fold(cur)] && boundaryAt(text, c) {
			m.Currency, m.End = Fold(cur), c
		}
	case amountCurrencies[Fold(word)] && boundaryAt(text, k):
		m.Currency, m.End = Fold(word), k
	case glued && word != "₫":
		return AmountMatch{}, false // "256gb", "5000mah", "15pro"
	}
	if m.VND, m.why = amountValue(m); m.why != "" {
		m.Err = Errorf(EINVALID, "%q %s", text[m.Start:m.End], m.why)
	}
	return m, true
}

// numberAt returns the digits at text[i:] with the separators between them:
// "1.500.000" of "1.500.000.", "1,5" of "1,5tr".
func numberAt(text string, i int) string {
	j := i
	for j < len(text) {
		switch {
		case isASCIIDigit(text[j]):
			j++
		case (text[j] == '.' || text[j] == ',') && j+1 < len(text) && isASCIIDigit(text[j+1]):
			j += 2
		default:
			return text[i:j]
		}
	}
	return text[i:j]
}

// wordAfter skips spaces after text[i] and returns the word there (letters,
// or the symbol ₫) and where it ends; "" when something else comes first.
func wordAfter(text string, i int) (string, int) {
	k := i
	for k < len(text) {
		r, n := utf8.DecodeRuneInString(text[k:])
		if !unicode.IsSpace(r) {
			break
		}
		k += n
	}
	if strings.HasPrefix(text[k:], "₫") {
		return "₫", k + len("₫")
	}
	start := k
	for k < len(text) {
		r, n := utf8.DecodeRuneInString(text[k:])
		if !unicode.IsLetter(r) && !unicode.Is(unicode.Mn, r) {
			break
		}
		k += n
	}
	return text[start:k], k
}

// boundaryAt reports whether no letter or digit starts at text[i].
func boundaryAt(text string, i int) bool {
	if i >= len(text) {
		return true
	}
	r, _ := utf8.DecodeRuneInString(text[i:])
	return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.Is(unicode.Mn, r)
}

func isASCIIDigit(b byte) bool { return b >= '0' && b <= '9' }

// groupedDigits returns the digits of a number written with thousands
// separators, one kind of them: a first group of one to three digits not
// starting with 0 (a phone number's "0912.345.678" is not grouped), then
// groups of three.
func groupedDigits(num string) (string, bool) {
	if !strings.ContainsAny(num, ".,") || strings.Contains(num, ".") && strings.Contains(num, ",") {
		return "", false
	}
	groups := strings.FieldsFunc(num, func(r rune) bool { return r == '.' || r == ',' })
	if len(groups[0]) > 3 || groups[0][0] == '0' {
		return "", false
	}
	for _, g := range groups[1:] {
		if len(g) != 3 {
			return "", false
		}
	}
	return strings.Join(groups, ""), true
}

// amountValue reads the parts of m as a number of đồng, or says why they
// are not an amount.
func amountValue(m AmountMatch) (int64, string) {
	mult := int64(1)
	if m.Unit != "" {
		mult = amountUnits[m.Unit]
	}
	whole, frac := m.Number, m.Tail
	if g, ok := groupedDigits(m.Number); ok {
		if mult > 1 && len(m.Number)-len(g) > 1 {
			return 0, notAnAmount // "1.500.000k": not a way anyone writes money
		}
		whole = g
	} else if k := strings.IndexAny(m.Number, ".,"); k >= 0 {
		// One decimal point, and only with a unit: "1,5tr", not "1,5".
		if mult == 1 || strings.Count(m.Number, ".")+strings.Count(m.Number, ",") > 1 {
			return 0, notAnAmount
		}
		whole, frac = m.Number[:k], m.Number[k+1:]
	}
	if frac != "" && (m.Tail != "" && whole != m.Number || mult == 1) {
		return 0, notAnAmount // "1.5tr5", "1,500,000tr5"
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > MaxAmount/mult {
		return 0, tooLarge
	}
	amount := w * mult
	// frac is a decimal fraction of the unit: 1,5tr → 0.5 × 1 000 000.
	scale := mult
	for _, d := range frac {
		scale /= 10
		if scale == 0 {
			if d != '0' {
				return 0, "is finer than one đồng: not an amount of money."
			}
			continue
		}
		amount += int64(d-'0') * scale
	}
	switch {
	case amount <= 0:
		return 0, "is not more than 0: an amount must be positive."
	case amount > MaxAmount:
		return 0, tooLarge
	}
	return amount, ""
}
