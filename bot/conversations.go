package bot

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/idicbot/idicbot/crm"
)

// handOver asks a person to take the conversation for a reason the bot saw
// (a complaint, an order to check or cancel): the event tells the reps'
// side why, and whether to answer first. It reports whether the customer
// was already waiting for one; an urgent reason tells the reps again.
func (t *turn) handOver(reason string, urgent bool) (bool, error) {
	c := t.cust
	already := c.Handoff.Active
	if !already {
		c.Handoff = crm.Handoff{Active: true, RequestedAt: t.now}
		if err := t.count("handoffs", 1); err != nil {
			return false, err
		}
	}
	if !already || urgent {
		t.events = append(t.events, Event{Kind: EventHandoffRequested, CustomerID: c.ID, Reason: reason, Urgent: urgent})
		if err := t.noticeReps(repNotice(reason, urgent)); err != nil {
			return false, err
		}
	}
	return already, nil
}

// complaint apologises and asks a person to take over first thing; it
// never goes with an offer. The interaction is marked negative (interact)
// and counted here.
func (t *turn) complaint(lang string) ([]string, error) {
	if err := t.count("complaints", 1); err != nil {
		return nil, err
	}
	already, err := t.handOver(IntentComplaint, true)
	if err != nil {
		return nil, err
	}
	if already {
		return []string{t.say(lang, "complaint_again")}, nil
	}
	return []string{t.say(lang, "complaint")}, nil
}

// orderStatus tells the customer's recorded order (the one they name, else
// the latest) and asks a person to check its delivery; without one it asks
// for the order reference or phone.
func (t *turn) orderStatus(lang string) ([]string, error) {
	var orders []*crm.Order
	if t.cust.Stats.Orders > 0 {
		var err error
		if orders, err = t.tx.Orders(t.cust.ID); err != nil {
			return nil, err
		}
	}
	var reply []string
	ref := t.u.OrderRef
	var found *crm.Order
	for _, o := range orders {
		if ref != "" && !strings.EqualFold(strings.TrimPrefix(o.Ref, "#"), ref) {
			continue
		}
		if found == nil || o.Time.After(found.Time) {
			found = o
		}
	}
	switch {
	case found != nil:
		key := "order_last"
		if ref != "" {
			key = "order_ref"
		}
		reply = append(reply, t.say(lang, key, t.orderName(lang, found), crm.VND(found.Amount), t.day(lang, found)))
		if items := t.orderItems(lang, found); items != "" {
			reply = append(reply, items)
		}
		reply = append(reply, t.say(lang, "order_check"))
	case ref != "":
		reply = append(reply, t.say(lang, "order_ref_unknown", "#"+ref))
	default:
		reply = append(reply, t.say(lang, "order_ask"))
	}
	if _, err := t.handOver(IntentOrderStatus, false); err != nil {
		return nil, err
	}
	return reply, nil
}

// orderItems lists an order's lines ("• iPhone 15 128GB × 1"), or "".
func (t *turn) orderItems(lang string, o *crm.Order) string {
	var b strings.Builder
	for i, it := range o.Items {
		name := it.Product
		if p := t.core.catalog.Product(it.Product); p != nil {
			name = p.DisplayName(lang)
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "• %s × %d", name, it.Quantity)
	}
	return b.String()
}

func (t *turn) orderName(lang string, o *crm.Order) string {
	if o.Ref == "" {
		return t.say(lang, "order_no_ref")
	}
	return "#" + strings.TrimPrefix(o.Ref, "#")
}

// day is the order's date in the shop's time zone, as the language writes
// dates.
func (t *turn) day(lang string, o *crm.Order) string {
	d := o.Time.In(t.core.loc)
	if lang == "en" {
		return d.Format("2 Jan 2006")
	}
	return d.Format("02/01/2006")
}

// changeOrder confirms a request to cancel or change an order and asks a
// person to carry it out; it never touches the customer's consent to offers.
func (t *turn) changeOrder(lang, intent string) ([]string, error) {
	ref := ""
	if t.u.OrderRef != "" {
		ref = " #" + t.u.OrderRef
	}
	if a := t.u.Address; a != "" && intent == IntentChangeOrder {
		t.cust.Address = a
	}
	if err := t.count(intent+"_requests", 1); err != nil {
		return nil, err
	}
	if _, err := t.handOver(intent, false); err != nil {
		return nil, err
	}
	return []string{t.say(lang, intent, ref)}, nil
}

// subject is the product a message is about: the one it names, else the
// one the customer last asked about.
func (t *turn) subject() *crm.Product {
	if len(t.u.Products) > 0 {
		return t.u.Products[0]
	}
	if n := len(t.cust.Interests); n > 0 {
		return t.core.catalog.Product(t.cust.Interests[n-1])
	}
	return nil
}

// priceObjection answers "đắt quá": cheaper products of the same category
// that are in stock, else the customer's eligible offer, else kind words.
func (t *turn) priceObjection(lang string) (reply []string, offer bool) {
	if p := t.subject(); p != nil {
		var cheaper []*crm.Product
		for _, q := range t.core.catalog.Products {
			if q.Category == p.Category && q.Price < p.Price && q.Available() {
				cheaper = append(cheaper, q)
			}
		}
		slices.SortStableFunc(cheaper, func(a, b *crm.Product) int { return cmp.Compare(b.Price, a.Price) })
		if len(cheaper) > 0 {
			return []string{t.say(lang, "objection_cheaper"), productLines(lang, cheaper, 3)}, false
		}
	}
	c := t.cust
	if !c.Consent.OptedOut && !c.Handoff.Active && t.core.offers.Load().Select(c, t.now, false) != nil {
		return []string{t.say(lang, "objection_offer")}, true
	}
	return []string{t.say(lang, "objection_none")}, false
}

// availability answers "còn hàng không", "còn màu hồng không" from the
// catalog's stock and variants.
func (t *turn) availability(lang string) []string {
	p := t.subject()
	if p == nil {
		return []string{t.say(lang, "avail_ask"), t.catalogOverview(lang)}
	}
	padded := t.read().padded
	name := p.DisplayName(lang)
	asked := p.MatchVariants(padded)
	var reply []string
	for _, v := range asked {
		key := "avail_out"
		if v.Available() {
			key = "avail_in"
		}
		reply = append(reply, t.say(lang, key, name+" – "+v.DisplayName(lang)))
	}
	if len(asked) == 0 {
		key := "avail_out"
		if p.Available() {
			key = "avail_in"
		}
		reply = append(reply, t.say(lang, key, name))
	}
	// What else there is, when the customer asked for something missing
	// or did not say which.
	missing := len(asked) == 0 || slices.ContainsFunc(asked, func(v *crm.Variant) bool { return !v.Available() })
	if len(p.Variants) > 0 && missing {
		var other []string
		for _, v := range p.Variants {
			if v.Available() && !slices.Contains(asked, v) {
				other = append(other, v.DisplayName(lang))
			}
		}
		if len(other) > 0 {
			reply = append(reply, t.say(lang, "avail_options", strings.Join(other, ", ")))
		} else if len(asked) > 0 {
			reply = append(reply, t.say(lang, "avail_none_left"))
		}
	}
	return reply
}

// address saves a delivery address given in the chat and confirms it.
func (t *turn) address(lang string) []string {
	a := t.u.Address
	if a == "" {
		return []string{t.say(lang, "address_ask")}
	}
	t.cust.Address = a
	reply := []string{t.say(lang, "address_saved", a)}
	return reply
}

// clarify asks whether the customer meant the classifier's best guess (or
// its second one).
func (t *turn) clarify(lang string) string {
	first, second := t.topic(lang, t.u.Guess), t.topic(lang, t.u.Runner)
	switch {
	case first == "":
		return t.say(lang, "unknown")
	case second != "" && second != first:
		return t.say(lang, "clarify_two", first, second)
	}
	return t.say(lang, "clarify", first)
}

// topic names what an intent is about, for a clarifying question; "" for
// one the bot has no words for.
func (t *turn) topic(lang, intent string) string {
	if id, ok := strings.CutPrefix(intent, "faq:"); ok {
		if e := t.core.Knowledge().Entry(id); e != nil {
			if n := e.Topic[lang]; n != "" {
				return n
			}
			return e.Topic["vi"]
		}
		return ""
	}
	if intent == "" {
		return ""
	}
	if _, ok := phrases[lang]["topic_"+intent]; ok {
		return t.say(lang, "topic_"+intent)
	}
	return ""
}

// recommend answers a customer who has a product with what the catalog
// says goes with it (in stock), and the model up for one who uses it.
func (t *turn) recommend(lang string) []string {
	cat := t.core.catalog
	var names []string
	var with, next []*crm.Product
	for _, p := range t.u.Owned {
		names = append(names, p.DisplayName(lang))
		for _, id := range p.GoesWith {
			if q := cat.Product(id); q != nil && q.Available() && !slices.Contains(with, q) && !slices.Contains(t.u.Owned, q) {
				with = append(with, q)
			}
		}
		for _, id := range p.Next {
			if q := cat.Product(id); q != nil && q.Available() && !slices.Contains(next, q) {
				next = append(next, q)
			}
		}
	}
	reply := []string{t.say(lang, "owned", strings.Join(names, ", "))}
	if len(with) > 0 {
		reply = append(reply, t.say(lang, "goes_with"), productLines(lang, with, 3))
	}
	if t.u.Upgrade && len(next) > 0 {
		reply = append(reply, t.say(lang, "next_up"), productLines(lang, next, 2))
	}
	if len(with) == 0 && (!t.u.Upgrade || len(next) == 0) {
		reply = append(reply, t.say(lang, "owned_nothing"))
	}
	return reply
}

// recentOrderDays is how long after an order a greeting suggests what goes
// with it.
const recentOrderDays = 30

// afterOrder suggests, to a customer whose orders of the last
// recentOrderDays had catalog products, what goes with them and they have
// not bought yet ("bought X, not yet Y"); nil when there is nothing to say.
func (t *turn) afterOrder(lang string) ([]string, error) {
	if t.cust.Stats.Orders == 0 || t.now.Sub(t.cust.Stats.LastOrder) > recentOrderDays*24*time.Hour {
		return nil, nil // most greetings: no order to read
	}
	orders, err := t.tx.Orders(t.cust.ID)
	if err != nil {
		return nil, err
	}
	cat := t.core.catalog
	bought := map[string]bool{}
	var recent []*crm.Product
	for _, o := range orders {
		for _, it := range o.Items {
			bought[it.Product] = true
			if p := cat.Product(it.Product); p != nil && t.now.Sub(o.Time) <= recentOrderDays*24*time.Hour && !slices.Contains(recent, p) {
				recent = append(recent, p)
			}
		}
	}
	var names []string
	var with []*crm.Product
	for _, p := range recent {
		for _, id := range p.GoesWith {
			if q := cat.Product(id); q != nil && !bought[id] && q.Available() && !slices.Contains(with, q) {
				with = append(with, q)
				if !slices.Contains(names, p.DisplayName(lang)) {
					names = append(names, p.DisplayName(lang))
				}
			}
		}
	}
	if len(with) == 0 {
		return nil, nil
	}
	return []string{t.say(lang, "after_order", strings.Join(names, ", ")), productLines(lang, with, 3)}, nil
}
