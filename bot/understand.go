package bot

import (
	"slices"
	"strings"

	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/crm/nlu"
)

// Intents the example classifier adds to the rules' (crm/nlu,
// configs/intents.yaml).
const (
	IntentAvailability   = "availability"
	IntentRefuse         = "refuse"
	IntentPriceObjection = "price_objection"
	IntentComplaint      = "complaint"
	IntentOrderStatus    = "order_status"
	IntentCancelOrder    = "cancel_order"
	IntentChangeOrder    = "change_order"
	IntentAddress        = "address"
	IntentSmalltalk      = "smalltalk"
	// IntentFAQ is a question the shop's knowledge answers; Understanding's
	// Topic names the entry.
	IntentFAQ = "faq"
	// IntentRecommend answers a customer who has a product ("mới mua
	// iphone 15") with what goes with it.
	IntentRecommend = "recommend"
	// IntentClarify is a message the classifier could not place with
	// confidence but had a guess for: the bot asks which one was meant.
	IntentClarify = "clarify"
)

// understander is the example classifier and the knowledge entries whose
// questions it learned, which the core answers from.
type understander struct {
	classifier *nlu.Classifier
	knowledge  *crm.Knowledge
}

// SetUnderstanding swaps the classifier and the knowledge entries; the next
// message uses them. A knowledge source other than the configuration file
// (entries edited in the admin, crm.KnowledgeSource) builds the classifier
// with nlu.New from the intents and the entries, then calls this. Nil
// classifier: the keyword rules alone.
func (c *Core) SetUnderstanding(cl *nlu.Classifier, k *crm.Knowledge) {
	c.und.Store(&understander{classifier: cl, knowledge: k})
}

// Knowledge returns the shop's knowledge entries the core answers from.
func (c *Core) Knowledge() *crm.Knowledge { return c.und.Load().knowledge }

// classifierIntents maps the classifier's intent names to the core's.
var classifierIntents = map[string]string{
	"greeting": IntentGreeting, "thanks": IntentThanks, "product": IntentProduct, "price": IntentPrice,
	"promotion": IntentPromo, "buy": IntentBuy, "contact": IntentContact, "opt_out": IntentOptOut,
	"opt_in": IntentOptIn, "handoff": IntentHandoff, "availability": IntentAvailability, "refuse": IntentRefuse,
	"price_objection": IntentPriceObjection, "complaint": IntentComplaint, "order_status": IntentOrderStatus,
	"cancel_order": IntentCancelOrder, "change_order": IntentChangeOrder, "address": IntentAddress,
	"smalltalk": IntentSmalltalk,
}

// clarifyMin is the least confidence for a guess worth asking about ("Bạn
// muốn hỏi về phí giao hàng phải không?"); below it the bot says what it can
// do instead.
const clarifyMin = 0.2

// understand reads an inbound event: the rules for events without text and
// for entities, the example classifier (when the core has one) for the
// intent of a text, the rules' intent as its tie-breaker.
func (c *Core) understand(in Inbound) (Understanding, readText) {
	return c.understandWith(c.und.Load(), in)
}

// understandWith is understand with a given classifier and knowledge: the
// live ones, or those an edit in the admin would make live (a preview).
func (c *Core) understandWith(und *understander, in Inbound) (Understanding, readText) {
	u, read := understandRules(in, c.catalog)
	if und.classifier == nil || in.Kind != crm.KindText || in.Contact != nil || in.Command != "" || strings.TrimSpace(in.Text) == "" {
		return u, read
	}
	read = read.read(in.Text)
	r := und.classifier.Analyze(in.Text)
	u.Confidence, u.Guess = r.Confidence, r.Intent
	if r.RunnerScore >= clarifyMin {
		u.Runner = r.Runner
	}
	u.OrderRef, u.Address, u.Greeted = r.OrderRef, r.Address, r.Greeted
	rule := u.Intent
	intent, sure := "", und.classifier.Sure(r.Prediction)
	if sure {
		intent = und.intentOf(r.Intent, &u)
	}
	switch {
	case intent != "":
	case rule != IntentUnknown && u.Sure && (rule == und.intentOf(r.Intent, &Understanding{}) || rule == und.intentOf(r.Runner, &Understanding{})):
		// Unsure, but the keyword rules name one of its two best guesses.
		intent = rule
	case r.Intent != nlu.Unknown && r.Confidence >= clarifyMin:
		intent = IntentClarify
	default:
		intent = IntentUnknown
	}
	// A price range is a product question, whatever else the words say
	// ("shop ơi có gì dưới 2 triệu không": the rules stopped at the
	// greeting).
	budget := intent == IntentProduct || intent == IntentUnknown || intent == IntentClarify || intent == IntentPrice ||
		intent == IntentAvailability || intent == IntentPriceObjection || intent == IntentGreeting
	if u.Range == nil && u.Phone == "" && budget {
		if r := findPriceRange(read.folded); r != nil {
			u.Range = r
			u.Suggest, u.InRange = ProductsInRange(c.catalog, r, categoryOf(c.catalog, read.padded), u.Products)
		}
	}
	if u.Range != nil && budget {
		intent = IntentProduct
	}
	if (u.Phone != "" || u.Email != "") && (intent == IntentUnknown || intent == IntentClarify || intent == IntentGreeting || intent == IntentThanks || intent == IntentSmalltalk) {
		intent = IntentContact
	}
	if u.Range != nil && intent != IntentProduct {
		u.Range, u.Suggest, u.InRange = nil, nil, false
	}
	if intent == IntentComplaint && u.Sentiment == "" {
		u.Sentiment = "negative"
	}
	u.Owned, u.Upgrade = ownedProducts(c.catalog, read.words)
	if len(u.Owned) > 0 {
		var rest []*crm.Product
		for _, p := range u.Products {
			if !slices.Contains(u.Owned, p) {
				rest = append(rest, p)
			}
		}
		u.Products = rest
		switch intent {
		case IntentBuy, IntentProduct, IntentPrice, IntentAvailability, IntentUnknown, IntentClarify, IntentGreeting:
			if len(rest) == 0 {
				// "em mới mua iphone 15, cần mua thêm ốp lưng với sạc":
				// what goes with it, not the phone again.
				intent = IntentRecommend
			}
		}
	}
	u.Intent = intent
	u.Sure = intent != IntentUnknown && intent != IntentClarify
	return u, read
}

// ownedCues say the customer has a product: just bought ("mới mua") or
// uses it ("đang dùng"; upgrade true: the model up is worth telling).
var ownedCues = []struct {
	words   []string
	upgrade bool
}{
	{[]string{"moi", "mua"}, false}, {[]string{"vua", "mua"}, false}, {[]string{"da", "mua"}, false}, {[]string{"moi", "sam"}, false},
	{[]string{"vua", "sam"}, false}, {[]string{"just", "bought"}, false}, {[]string{"i", "bought"}, false}, {[]string{"recently", "bought"}, false},
	{[]string{"dang", "dung"}, true}, {[]string{"da", "co"}, true}, {[]string{"i", "have"}, true}, {[]string{"i", "use"}, true},
	{[]string{"using"}, true}, {[]string{"i", "own"}, true},
}

// ownedProducts returns the catalog products the words of a text (folded)
// say the customer has (named within a few words after a cue), and whether
// they use it rather than just bought it.
func ownedProducts(cat *crm.Catalog, words []string) ([]*crm.Product, bool) {
	var out []*crm.Product
	upgrade := false
	for i := range words {
		for _, cue := range ownedCues {
			if i+len(cue.words) > len(words) || !slices.Equal(words[i:i+len(cue.words)], cue.words) {
				continue
			}
			from := i + len(cue.words)
			to := min(from+4, len(words))
			for _, p := range cat.MatchPadded(" " + strings.Join(words[from:to], " ") + " ") {
				if !slices.Contains(out, p) {
					out = append(out, p)
					upgrade = upgrade || cue.upgrade
				}
			}
		}
	}
	return out, upgrade
}

// intentOf is the core's intent for the classifier's name, with the FAQ
// entry in u.Topic; "" for a name the core does not know.
func (und *understander) intentOf(name string, u *Understanding) string {
	if id, ok := strings.CutPrefix(name, nlu.FAQPrefix); ok {
		if und.knowledge.Entry(id) == nil {
			return ""
		}
		u.Topic = id
		return IntentFAQ
	}
	return classifierIntents[name]
}
