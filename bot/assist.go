package bot

import (
	"context"
	"time"

	"github.com/idicbot/idicbot/crm"
)

// Assistant is an optional language model that helps where the keyword rules
// are unsure: it refines the understanding of a message and may draft an
// answer. It runs before the store transaction, under a short timeout; on any
// error the rule-based answer is used.
type Assistant interface {
	Assist(ctx context.Context, req AssistRequest) (AssistResult, error)
}

// AssistRequest is what the assistant may know. It carries no phone numbers,
// emails or addresses.
type AssistRequest struct {
	Text     string
	Language string // the customer's language so far ("vi", "en")
	Rules    Understanding
	Segment  string
	// Interests are product ids the customer asked about before.
	Interests []string
	// Eligible are the offers this customer may be shown now; the assistant
	// may pick one by id, never invent one.
	Eligible []*crm.CompiledOffer
	Catalog  *crm.Catalog
	// Knowledge is the shop's FAQ entries the rules answer from (live: an
	// edit saved in the admin grounds the next request).
	Knowledge *crm.Knowledge
}

// AssistResult is the assistant's contribution. Empty fields mean "no
// opinion": the rules' result stands.
type AssistResult struct {
	Understanding Understanding
	// Answer is a drafted reply, already checked by the assistant against the
	// catalog and the eligible offers. The core still shows offers only as
	// their rendered templates.
	Answer string
	// OfferID is an eligible offer the assistant thinks fits, or "".
	OfferID string
}

// assist asks the assistant about an event the rules were unsure of. It reads
// the customer outside any transaction and never fails the message.
// assistBelow is the classifier's confidence below which the assistant,
// when there is one, is asked even about an intent the rules would act on
// alone: "does it support dual sim?" reads a little like a price question.
const assistBelow = 0.45

// weakGuess reports an intent the classifier was not very sure of, and
// whose misreading by the model costs little: a complaint, a refusal, an
// opt-out an order change or a knowledge entry stays with the rules.
func weakGuess(u Understanding) bool {
	if u.Guess == "" || u.Confidence >= assistBelow {
		return false
	}
	switch u.Intent {
	case IntentComplaint, IntentOptOut, IntentOptIn, IntentCancelOrder, IntentChangeOrder, IntentRefuse,
		IntentPriceObjection, IntentHandoff, IntentContact, IntentAddress, IntentOrderStatus, IntentFAQ:
		return false
	}
	return true
}

func (c *Core) assist(ctx context.Context, in Inbound, u Understanding) (AssistResult, bool) {
	// The rules are unsure, or they saw a product or price question without
	// naming a product ("điện thoại khoảng 15 triệu"): the assistant helps.
	// A price range the rules read ("dưới 5 triệu") is answered from it when
	// the assistant is off or fails.
	vague := (u.Intent == IntentProduct || u.Intent == IntentPrice) && len(u.Products) == 0 || weakGuess(u)
	if c.assistant == nil || (u.Sure && !vague) || in.Kind != crm.KindText || in.EditOf != "" {
		return AssistResult{}, false
	}
	req := AssistRequest{Text: in.Text, Language: u.Language, Rules: u, Catalog: c.catalog, Knowledge: c.Knowledge()}
	var cust *crm.Customer
	ch, user := in.Channel, in.UserID // not in: the closure would move it to the heap on every message
	_ = c.store.View(ctx, func(tx crm.Tx) error {
		var err error
		cust, err = tx.FindCustomerByIdentity(ch, user)
		return err
	})
	if cust != nil {
		if req.Language == "" {
			req.Language = cust.Language
		}
		req.Segment = cust.Segment.Name
		req.Interests = append(req.Interests, cust.Interests...)
		if !cust.Handoff.Active {
			req.Eligible = c.offers.Load().Eligible(cust, c.now(), false)
		}
	} else {
		req.Segment = crm.SegmentNew
		req.Eligible = c.offers.Load().Eligible(&crm.Customer{Language: req.Language, Segment: crm.SegmentAssignment{Name: crm.SegmentNew}}, c.now(), false)
	}
	if req.Language == "" {
		req.Language = c.lang
	}
	actx, cancel := context.WithTimeout(ctx, c.assistTimeout)
	defer cancel()
	res, err := c.assistant.Assist(actx, req)
	if err != nil {
		c.log.Warn("assistant failed; using the rule-based answer", "err", err)
		return AssistResult{}, false
	}
	// Offers stay ours: only an eligible offer id is kept.
	if res.OfferID != "" {
		ok := false
		for _, o := range req.Eligible {
			ok = ok || o.ID == res.OfferID
		}
		if !ok {
			c.log.Warn("assistant chose an offer that is not eligible; ignored", "offer", res.OfferID)
			res.OfferID = ""
		}
	}
	return res, true
}

// defaultAssistTimeout bounds an assistant call when none is configured.
const defaultAssistTimeout = 4 * time.Second
