package bot

import (
	"slices"
	"strings"
	"unicode"

	"github.com/idicbot/idicbot/crm"
)

// Intents the core understands.
const (
	IntentGreeting = "greeting"
	IntentStart    = "start"
	IntentProduct  = "product"
	IntentPrice    = "price"
	IntentPromo    = "promotion"
	IntentBuy      = "buy"
	IntentContact  = "contact"
	IntentOptOut   = "opt_out"
	IntentOptIn    = "opt_in"
	IntentHandoff  = "handoff"
	IntentThanks   = "thanks"
	IntentButton   = "button"
	IntentMedia    = "media"
	IntentUnknown  = "unknown"
	// IntentVerify is a one-time code typed back while one is pending.
	IntentVerify = "verify"
)

// Understanding is what the rules (or the LLM) made of one inbound event.
// It is computed outside any store transaction.
type Understanding struct {
	Intent   string
	Sure     bool   // false when the rules only guessed (the LLM may help)
	Language string // "vi", "en" or "" when the text does not tell
	Products []*crm.Product
	Phone    string // E.164, shared in the text or a contact
	Email    string
	Budget   int64 // VND, when the customer named one (LLM)
	// Range is the price range the customer asks about ("dưới 5 triệu"),
	// when the text names one; Suggest are the catalog's products for it
	// (InRange false: none is in range, these are the nearest).
	Range   *PriceRange
	Suggest []*crm.Product
	InRange bool
	// Sentiment is "positive", "neutral" or "negative" when the LLM judged
	// it, or "negative" for a complaint.
	Sentiment string

	// What the example classifier read (crm/nlu): its best guess and how
	// sure it was, the knowledge entry a FAQ intent answers, an order
	// reference and a delivery address given, and whether a greeting opened
	// the question.
	Guess      string
	Runner     string // the second guess, when close enough to ask about
	Confidence float64
	Topic      string
	OrderRef   string
	Address    string
	Greeted    bool
	// Owned are products the customer says they have ("mới mua iphone
	// 15"); Upgrade that they use it (the model up is worth telling).
	Owned   []*crm.Product
	Upgrade bool
}

// readText is a message's text folded (crm.Fold), its words (crm.Words)
// and the words padded with a space each side, as the keyword rules match
// them. The rules read the text once and the turn keeps their reading.
type readText struct {
	folded, padded string
	words          []string
	ok             bool // read: the fields are the text's
}

// read returns r, reading text first unless r is already its reading.
func (r readText) read(text string) readText {
	if r.ok {
		return r
	}
	folded := crm.Fold(text)
	words := crm.Words(folded)
	return readText{folded: folded, words: words, padded: " " + strings.Join(words, " ") + " ", ok: true}
}

// phrase lists are folded (no diacritics, lower case); matching is on whole
// words, so "chao" does not match inside "chaos".
// phraseIndex finds them by a message's words: for each word, the phrases
// that start with it and the rank of their list in intentPhrases (built
// once, not every turn). A phrase is in the padded message (" phrase ")
// exactly when its words follow each other among the message's words, so
// the first list with a phrase in the message is the least rank found; a
// phrase with anything but words and single spaces is in no message.
var phraseIndex = func() map[string][]rankedPhrase {
	out := map[string][]rankedPhrase{}
	for rank, ip := range intentPhrases {
		for _, p := range ip.phrases {
			words := strings.Split(p, " ")
			if slices.ContainsFunc(words, func(w string) bool { return len(crm.Words(w)) != 1 || crm.Words(w)[0] != w }) {
				continue
			}
			out[words[0]] = append(out[words[0]], rankedPhrase{rank: rank, words: words})
		}
	}
	return out
}()

type rankedPhrase struct {
	rank  int
	words []string
}

// phraseIntent is the intent of the first list of intentPhrases with a
// phrase among words (a message's, folded), as whole words.
func phraseIntent(words []string) (string, bool) {
	best := -1
	for i, w := range words {
		for _, p := range phraseIndex[w] {
			if (best < 0 || p.rank < best) && len(words)-i >= len(p.words) && slices.Equal(words[i:i+len(p.words)], p.words) {
				best = p.rank
			}
		}
	}
	if best < 0 {
		return "", false
	}
	return intentPhrases[best].intent, true
}

type intentPhraseList struct {
	intent  string
	phrases []string
}

var intentPhrases = []intentPhraseList{
	{IntentOptOut, []string{"stop", "unsubscribe", "huy", "huy dang ky", "dung gui", "dung gui nua", "ngung gui", "khong muon nhan", "khong nhan tin", "stop sending", "opt out", "dung nhan tin"}},
	{IntentHandoff, []string{"gap nhan vien", "nhan vien", "tu van vien", "nguoi that", "gap nguoi", "noi chuyen voi nguoi", "talk to a human", "human", "real person", "agent", "speak to someone", "customer service", "cskh", "goi lai cho toi", "call me back", "callback"}},
	{IntentOptIn, []string{"start offers", "dang ky lai", "nhan lai uu dai", "subscribe", "bat lai"}},
	{IntentBuy, []string{"mua", "muon mua", "dat hang", "dat mua", "chot don", "len don", "order", "buy", "purchase", "i want to buy", "i ll take", "ship cho", "lay cai"}},
	{IntentPromo, []string{"khuyen mai", "km", "uu dai", "giam gia", "sale", "voucher", "ma giam", "ma giam gia", "promotion", "promotions", "promo", "discount", "deal", "deals", "offer", "offers", "coupon"}},
	{IntentPrice, []string{"gia", "bao nhieu", "bao nhieu tien", "bn", "nhieu tien", "price", "prices", "how much", "cost", "costs"}},
	{IntentProduct, []string{"san pham", "con hang", "co ban", "ban gi", "co nhung", "mau nao", "product", "products", "do you have", "in stock", "catalog", "dien thoai", "laptop", "phu kien", "phone", "phones", "accessories"}},
	{IntentThanks, []string{"cam on", "cam on ban", "thanks", "thank you", "thank", "tks", "thx", "ok cam on"}},
	{IntentGreeting, []string{"xin chao", "chao", "chao shop", "chao ban", "hello", "hi", "hey", "alo", "good morning", "good afternoon", "good evening", "shop oi", "ad oi"}},
}

var viWords = set("toi", "ban", "gia", "bao", "nhieu", "khong", "co", "mua", "chao", "xin", "oi", "nhe", "em", "anh", "chi", "duoc", "cho", "la", "muon", "khuyen", "mai", "san", "pham", "cam", "on", "gap", "nhan", "vien", "dung", "gui", "nua", "huy", "dat", "hang", "cua", "minh", "voi", "nay", "nao", "gi", "sao", "the", "a", "shop", "ak", "ko", "k", "dc", "uu", "dai", "giam", "tien", "dien", "thoai")
var enWords = set("hello", "hi", "hey", "the", "i", "want", "to", "buy", "price", "how", "much", "is", "what", "do", "you", "have", "please", "thanks", "thank", "human", "talk", "stop", "my", "phone", "email", "promotion", "promotions", "discount", "deal", "deals", "order", "any", "are", "there", "can", "me", "a", "an", "of", "for", "it", "this", "that", "with", "and", "good", "morning", "products", "offer", "offers", "sale", "tell", "more", "about", "number", "would", "like", "cost", "costs", "does",
	"anything", "something", "under", "below", "over", "above", "around", "between", "million", "phones", "laptops", "accessories", "cheap", "cheaper", "than", "less")

func set(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// DetectLanguage returns "vi" or "en" when the text says which, "" when it
// does not (a number, an emoji, a product name).
func DetectLanguage(text string) string {
	folded := crm.Fold(text)
	return detectLanguage(text, folded, crm.Words(folded))
}

func detectLanguage(text, folded string, words []string) string {
	if folded != strings.ToLower(text) && hasVietnameseLetter(text) {
		return "vi"
	}
	vi, en := 0, 0
	for _, w := range words {
		if viWords[w] {
			vi++
		}
		if enWords[w] {
			en++
		}
	}
	switch {
	case vi > en:
		return "vi"
	case en > vi:
		return "en"
	}
	return ""
}

func hasVietnameseLetter(s string) bool {
	for _, r := range s {
		if r > unicode.MaxASCII && unicode.IsLetter(r) {
			return true
		}
	}
	return false
}

// Understand applies the keyword rules to an inbound event.
func Understand(in Inbound, cat *crm.Catalog) Understanding {
	u, _ := understandRules(in, cat)
	return u
}

// understandRules is Understand, with the text as the rules read it (not
// read: an event without a text to read).
func understandRules(in Inbound, cat *crm.Catalog) (Understanding, readText) {
	u := Understanding{Intent: IntentUnknown}
	switch in.Kind {
	case crm.KindButton:
		u.Intent, u.Sure = IntentButton, true
		return u, readText{}
	case crm.KindPhoto, crm.KindSticker, crm.KindVoice, crm.KindFile, crm.KindOther:
		u.Intent, u.Sure = IntentMedia, true
		return u, readText{}
	}
	if in.Contact != nil {
		if p, err := crm.NormalizePhone(in.Contact.Phone); err == nil && in.Contact.Self {
			u.Phone = p
		}
		if e, err := crm.NormalizeEmail(in.Contact.Email); err == nil && in.Contact.Email != "" {
			u.Email = e
		}
		u.Intent, u.Sure = IntentContact, true
		return u, readText{}
	}
	if in.Command == "start" {
		u.Intent, u.Sure = IntentStart, true
		return u, readText{}
	}
	read := readText{}.read(in.Text)
	folded, words, padded := read.folded, read.words, read.padded
	u.Language = detectLanguage(in.Text, folded, words)
	if cat != nil {
		u.Products = cat.MatchWords(words)
	}
	u.Phone = crm.FindPhone(in.Text)
	u.Email = crm.FindEmail(in.Text)
	if intent, ok := phraseIntent(words); ok {
		u.Intent, u.Sure = intent, true
	}
	// "huy" and "stop" opt out only when they are (nearly) the whole message:
	// "hủy đơn hàng" is about an order, not about offers.
	if u.Intent == IntentOptOut && len(words) > 4 && !strings.Contains(padded, " gui ") && !strings.Contains(padded, " nhan ") && !strings.Contains(padded, " sending ") {
		u.Intent, u.Sure = IntentUnknown, false
	}
	if !u.Sure && len(u.Products) > 0 {
		u.Intent, u.Sure = IntentProduct, true
	}
	// A price range ("điện thoại dưới 5 triệu", "anything under 2 million?")
	// is a product question, answered from the catalog.
	if cat != nil && u.Phone == "" && (u.Intent == IntentUnknown || u.Intent == IntentProduct || u.Intent == IntentPrice) {
		if r := findPriceRange(folded); r != nil {
			u.Range = r
			u.Suggest, u.InRange = ProductsInRange(cat, r, categoryOf(cat, padded), u.Products)
			u.Intent, u.Sure = IntentProduct, true
		}
	}
	if (u.Phone != "" || u.Email != "") && (u.Intent == IntentUnknown || u.Intent == IntentGreeting || u.Intent == IntentThanks) {
		u.Intent, u.Sure = IntentContact, true
	}
	return u, read
}
