package bot

import (
	"slices"
	"strings"
	"time"

	"github.com/idicbot/idicbot/crm"
)

// customize decides the replies to the event — an answer for its intent and,
// where it fits, the best eligible offer — and puts them in the outbox.
func (t *turn) customize() error {
	c, u, lang := t.cust, t.u, t.lang
	if c.Handoff.Active && c.Handoff.Agent != "" {
		// A human has the conversation: the bot stays silent.
		return nil
	}
	offer, ignoreCap := false, false
	var reply []string
	requestPhone := false
	switch u.Intent {
	case IntentStart, IntentGreeting:
		name := crm.FirstName(c.Name, lang)
		if name == "" {
			name = t.say(lang, "friend")
		}
		if u.Intent == IntentStart && t.in.Source != "" {
			if l := t.core.sourceLabel(lang, t.in.Source); l != "" {
				reply = append(reply, t.say(lang, "start_source", t.core.shop, l))
			} else {
				reply = append(reply, t.say(lang, "start_thanks", t.core.shop))
			}
		}
		reply = append(reply, t.say(lang, "greeting", name, t.core.shop))
		if u.Intent == IntentGreeting {
			r, err := t.afterOrder(lang)
			if err != nil {
				return err
			}
			reply = append(reply, r...)
		}
		offer = true
	case IntentProduct, IntentPrice:
		if u.Range != nil && len(u.Suggest) > 0 {
			if u.InRange {
				reply = append(reply, t.say(lang, "range_intro", u.Range.describe(lang)))
			} else {
				reply = append(reply, t.say(lang, "range_none", u.Range.describe(lang)))
			}
			reply = append(reply, productLines(lang, u.Suggest, 3))
		} else if len(u.Products) > 0 {
			reply = append(reply, productLines(lang, u.Products, 3))
		} else if p := t.subject(); u.Intent == IntentPrice && p != nil && t.assist.Answer == "" {
			// "giá nhiu vậy" after asking about a product: its price.
			reply = append(reply, productLines(lang, []*crm.Product{p}, 1))
		} else if t.assist.Answer != "" {
			reply = append(reply, t.assist.Answer)
		} else if u.Intent == IntentPrice {
			reply = append(reply, t.say(lang, "price_ask"))
			reply = append(reply, t.catalogOverview(lang))
		} else {
			reply = append(reply, t.catalogOverview(lang))
		}
		offer = true
	case IntentPromo:
		if c.Consent.OptedOut {
			reply = append(reply, t.say(lang, "opted_out_promo"))
		} else if c.Handoff.Active {
			reply = append(reply, t.say(lang, "handoff_again"))
		} else {
			offer, ignoreCap = true, true
		}
	case IntentBuy:
		padded := t.read().padded
		if cat := categoryOf(t.core.catalog, padded); len(u.Products) == 0 && cat != "" {
			// "cần mua 10 cái laptop": which one, from the category.
			var ps []*crm.Product
			for _, p := range t.core.catalog.Products {
				if p.Category == cat && p.Available() {
					ps = append(ps, p)
				}
			}
			reply = append(reply, t.say(lang, "buy_category", categoryName(t.core.catalog, lang, cat)))
			if len(ps) > 0 {
				reply = append(reply, productLines(lang, ps, 4))
			}
		} else if p := t.subject(); p != nil {
			// "ok lấy 1 cái màu xanh nha": the product asked about last,
			// in the variant named.
			name := p.DisplayName(lang)
			if v := p.MatchVariants(padded); len(v) == 1 {
				name += " – " + v[0].DisplayName(lang)
			}
			reply = append(reply, t.say(lang, "buy_product", name+" ("+crm.VND(p.Price)+")"))
		} else {
			reply = append(reply, t.say(lang, "buy_generic"))
		}
		if p := c.CallbackPhone(); p != "" {
			reply = append(reply, t.say(lang, "will_call", crm.DisplayPhone(p)))
		} else {
			reply = append(reply, t.say(lang, "ask_phone"))
			requestPhone = true
			c.Dialog = "order_phone"
		}
		if err := t.count("order_intents", 1); err != nil {
			return err
		}
		offer = true
	case IntentContact:
		var saved []string
		if u.Phone != "" {
			saved = append(saved, crm.DisplayPhone(u.Phone))
		}
		if u.Email != "" {
			saved = append(saved, u.Email)
		}
		switch {
		case len(saved) == 0:
			reply = append(reply, t.say(lang, "contact_bad"))
		case c.Dialog == "order_phone" && u.Phone != "":
			reply = append(reply, t.say(lang, "contact_order", saved[0])) // DisplayPhone(u.Phone), made above
			c.Dialog = ""
		default:
			reply = append(reply, t.say(lang, "contact_saved", strings.Join(saved, ", ")))
		}
	case IntentOptOut:
		if c.Dialog == "order_phone" && cancelsOrderInProgress(t.read().words) {
			// "hủy" while the bot waits for the phone of an order: the
			// order is called off, offers stay as they are.
			c.Dialog = ""
			reply = append(reply, t.say(lang, "order_dropped"))
			break
		}
		if !c.Consent.OptedOut {
			c.Consent = crm.Consent{OptedOut: true, Since: t.now, Channel: t.in.Channel}
			if err := t.count("opt_outs", 1); err != nil {
				return err
			}
			if err := t.event(crm.EventOptOut, ""); err != nil {
				return err
			}
		}
		reply = append(reply, t.say(lang, "opt_out"))
	case IntentOptIn:
		if c.Consent.OptedOut {
			c.Consent = crm.Consent{OptedOut: false, Since: t.now, Channel: t.in.Channel}
			if err := t.event(crm.EventOptIn, ""); err != nil {
				return err
			}
		}
		reply = append(reply, t.say(lang, "opt_in"))
	case IntentHandoff:
		if c.Handoff.Active {
			reply = append(reply, t.say(lang, "handoff_again"))
		} else {
			c.Handoff = crm.Handoff{Active: true, RequestedAt: t.now}
			if err := t.count("handoffs", 1); err != nil {
				return err
			}
			if err := t.event(crm.EventHandoff, "customer"); err != nil {
				return err
			}
			t.events = append(t.events, Event{Kind: EventHandoffRequested, CustomerID: c.ID})
			if err := t.noticeReps(RepNoticeHandoff); err != nil {
				return err
			}
			reply = append(reply, t.say(lang, "handoff"))
		}
		if c.CallbackPhone() == "" {
			// A colleague may want to call back: offer the channel's
			// share-contact button.
			requestPhone = true
		}
	case IntentThanks:
		reply = append(reply, t.say(lang, "thanks"))
	case IntentComplaint:
		r, err := t.complaint(lang)
		if err != nil {
			return err
		}
		reply = append(reply, r...)
	case IntentOrderStatus:
		r, err := t.orderStatus(lang)
		if err != nil {
			return err
		}
		reply = append(reply, r...)
	case IntentCancelOrder, IntentChangeOrder:
		r, err := t.changeOrder(lang, u.Intent)
		if err != nil {
			return err
		}
		reply = append(reply, r...)
	case IntentPriceObjection:
		var r []string
		r, offer = t.priceObjection(lang)
		reply = append(reply, r...)
	case IntentRefuse:
		if c.Dialog == "order_phone" {
			c.Dialog = ""
		}
		reply = append(reply, t.say(lang, "declined"))
	case IntentAvailability:
		reply = append(reply, t.availability(lang)...)
		offer = true
	case IntentAddress:
		reply = append(reply, t.address(lang)...)
	case IntentRecommend:
		reply = append(reply, t.recommend(lang)...)
	case IntentSmalltalk:
		reply = append(reply, t.say(lang, "smalltalk", t.core.shop))
	case IntentFAQ:
		if e := t.core.Knowledge().Entry(u.Topic); e != nil {
			reply = append(reply, e.AnswerIn(lang))
		} else {
			reply = append(reply, t.say(lang, "unknown"))
		}
	case IntentClarify:
		if t.assist.Answer != "" {
			reply = append(reply, t.assist.Answer)
			offer = t.assist.OfferID != ""
		} else {
			reply = append(reply, t.clarify(lang))
		}
	case IntentMedia:
		reply = append(reply, t.say(lang, "media"))
	case IntentVerify:
		reply = append(reply, t.verifyReply(lang))
	case IntentButton:
		return t.button()
	default:
		if t.assist.Answer != "" {
			reply = append(reply, t.assist.Answer)
			offer = t.assist.OfferID != ""
		} else {
			reply = append(reply, t.say(lang, "unknown"))
		}
	}
	source := "rules"
	if t.assist.Answer != "" && (u.Intent == IntentUnknown || u.Intent == IntentClarify || len(u.Products) == 0 && (u.Intent == IntentProduct || u.Intent == IntentPrice)) {
		source = "llm"
	}
	if err := t.countOf("answers:", source); err != nil {
		return err
	}
	if t.claimedNew && !slices.Contains(proofChannels, t.in.Channel) {
		// The same words whether or not someone holds the number: the
		// answer tells nobody who the shop's customers are.
		reply = append(reply, t.say(lang, "claim_hint"))
	}
	if len(reply) > 0 {
		if err := t.send(strings.Join(reply, "\n"), nil, requestPhone, ""); err != nil {
			return err
		}
	}
	if !offer || c.Handoff.Active {
		return nil
	}
	// Offers follow the segment the customer is in after this event. An
	// offer the assistant picked is used if it is still eligible.
	if id := t.assist.OfferID; id != "" {
		for _, o := range t.core.offers.Load().Eligible(c, t.now, ignoreCap) {
			if o.ID == id {
				return t.showOffer(o)
			}
		}
	}
	if o := t.core.offers.Load().Select(c, t.now, ignoreCap); o != nil {
		return t.showOffer(o)
	}
	if ignoreCap {
		return t.send(t.say(lang, "no_promo"), nil, false, "")
	}
	return nil
}

// cancelsOrderInProgress reports a bare "hủy" / "cancel" (the words of the
// text, folded): while an order waits for a phone number it calls the order
// off, not the offers.
func cancelsOrderInProgress(words []string) bool {
	for _, w := range words {
		switch w {
		case "huy", "cancel", "thoi", "di", "nha", "nhe", "a", "it", "order", "don", "do", "please":
		default:
			return false
		}
	}
	return true
}

func (t *turn) catalogOverview(lang string) string {
	cat := t.core.catalog
	var cats []string
	for _, c := range cat.Categories() {
		cats = append(cats, categoryName(cat, lang, c))
	}
	if len(cat.Products) == 0 {
		return ""
	}
	return t.say(lang, "catalog_intro", strings.Join(cats, ", ")) + "\n" + productLines(lang, cat.Products, 4)
}

// showOffer renders an offer and records it as shown.
func (t *turn) showOffer(o *crm.CompiledOffer) error {
	text, err := o.Render(t.lang, t.cust, t.core.productIn(t.lang), t.now)
	if err != nil {
		// A stored offer is validated when saved, so this is a data problem:
		// log it and answer without the offer rather than fail the message.
		t.core.log.Error("offer does not render", "offer", o.ID, "err", err)
		return nil
	}
	t.cust.RecordOfferShown(o.ID, t.now)
	t.shown = append(t.shown, o.ID)
	if err := t.offerEvent(o.ID, crm.OfferShown); err != nil {
		return err
	}
	return t.send(text, t.offerButtons(t.lang, o), false, o.ID)
}

func (t *turn) offerEvent(id, kind string) error {
	if err := t.tx.AppendEvent(&crm.Event{CustomerID: t.cust.ID, OfferID: id, Time: t.now, Kind: crm.OfferEventKind(kind), Channel: t.in.Channel}); err != nil {
		return err
	}
	return t.countOf("offer:", id, ":", kind)
}

// button handles a pressed offer button: accept, tell me more, not now. A
// payload is a request, not a right: it counts only for an offer that was
// shown to this customer, is still live, and that they may still take (in
// its segments and rule, not opted out). Anything else gets a polite answer
// and changes no statistic.
func (t *turn) button() error {
	c, lang := t.cust, t.lang
	id, action, ok := parseOfferPayload(t.in.Payload)
	if !ok {
		return t.send(t.say(lang, "unknown"), nil, false, "")
	}
	o := t.core.offers.Load().Get(id)
	if o == nil || o.Status != crm.OfferActive {
		return t.send(t.say(lang, "offer_gone"), nil, false, "")
	}
	st := c.Offers[id]
	if st == nil || st.Shown == 0 || !t.core.offers.Load().Answerable(o, c, t.now) {
		if err := t.count("offer_buttons_refused", 1); err != nil {
			return err
		}
		return t.send(t.say(lang, "offer_not_yours"), nil, false, "")
	}
	switch action {
	case crm.ButtonAccept:
		first := st.Accepted == 0
		st.Accepted++
		if first {
			c.Stats.OffersTaken++
			t.taken = append(t.taken, id)
			if err := t.offerEvent(id, crm.OfferAccepted); err != nil {
				return err
			}
		}
		msg := []string{t.say(lang, "accepted", o.Name)}
		if o.Code != "" {
			msg = append(msg, t.say(lang, "accepted_code", o.Code))
		}
		ask := false
		if p := c.CallbackPhone(); p == "" {
			msg = append(msg, t.say(lang, "ask_phone"))
			ask = true
			c.Dialog = "order_phone"
		} else {
			msg = append(msg, t.say(lang, "will_call", crm.DisplayPhone(p)))
		}
		return t.send(strings.Join(msg, "\n"), nil, ask, id)
	case crm.ButtonDecline:
		st.Declined++
		if err := t.offerEvent(id, crm.OfferDeclined); err != nil {
			return err
		}
		return t.send(t.say(lang, "declined"), nil, false, id)
	default:
		if err := t.offerEvent(id, crm.OfferMore); err != nil {
			return err
		}
		text, err := o.RenderDetails(lang, c, t.core.productIn(lang), t.now)
		if err != nil || text == "" {
			text = t.say(lang, "more_default", o.Name)
		}
		var btns []crm.Button
		for _, b := range t.offerButtons(lang, o) {
			if !strings.HasSuffix(b.Payload, ":"+crm.ButtonMore) {
				btns = append(btns, b)
			}
		}
		return t.send(text, btns, false, id)
	}
}

// send logs an outbound interaction and queues it in the outbox, addressed to
// the identity the event came from.
func (t *turn) send(text string, buttons []crm.Button, requestPhone bool, offerID string) error {
	return t.core.enqueue(t.tx, t.cust, t.in.Channel, t.in.UserID, t.in.ChatID, t.now, outMessage{
		Text: text, Buttons: buttons, RequestPhone: requestPhone, OfferID: offerID,
	}, &t.items)
}

// outMessage is what goes to a customer.
type outMessage struct {
	Text         string
	Buttons      []crm.Button
	RequestPhone bool
	OfferID      string
	Kind         string
	Author       string
}

// enqueue logs an outbound interaction and adds the outbox item in tx.
func (c *Core) enqueue(tx crm.Tx, cust *crm.Customer, ch crm.Channel, userID, chatID string, now time.Time, m outMessage, items *[]*crm.OutboxItem) error {
	kind := m.Kind
	if kind == "" {
		kind = crm.KindText
		if m.OfferID != "" && len(m.Buttons) > 0 {
			kind = crm.KindOffer
		}
	}
	it := &crm.Interaction{CustomerID: cust.ID, Time: now, Direction: crm.Outbound, Channel: ch, ChatID: chatID,
		Kind: kind, Text: m.Text, Buttons: m.Buttons, OfferID: m.OfferID, Author: m.Author}
	if err := logInteraction(tx, it); err != nil {
		return err
	}
	ob := &crm.OutboxItem{CustomerID: cust.ID, InteractionID: it.ID, Channel: ch, ChatID: chatID, UserID: userID,
		Text: m.Text, Buttons: m.Buttons, RequestPhone: m.RequestPhone, OfferID: m.OfferID, Status: crm.OutboxPending, CreatedAt: now}
	if c.disp != nil {
		c.disp.lease(ob) // it sends what this commit queues: no other sender may claim it
	}
	if err := tx.EnqueueOutbox(ob); err != nil {
		return err
	}
	cust.Stats.MessagesOut++
	*items = append(*items, ob)
	return nil
}
