package bot

import (
	"context"
	"time"

	"github.com/idicbot/idicbot/crm"
)

// optOutLine is the one-word way out every promotional message ends with
// ("stop"/"hủy" in a short message is an opt-out: see Understand).
var optOutLine = map[string]string{
	"vi": "Nhắn STOP để không nhận tin khuyến mãi nữa.",
	"en": "Reply STOP to receive no more promotions.",
}

// decision is what a campaign does for one customer.
type decision struct {
	skip    string // a crm.Skip* reason, or "" to send
	channel crm.Channel
	userID  string
	chatID  string
	lang    string
	text    string
	buttons []crm.Button
}

// decide applies the rules to one customer of the audience at now: opt-out,
// a person talking with them, the offer's rules, the cap, the channels'
// windows, and renders the message.
func (o *Outreach) decide(tx crm.Tx, cs crm.Campaigns, c *crm.Campaign, cu *crm.Customer, now time.Time, ignoreCap bool) (decision, error) {
	switch {
	case cu.Consent.OptedOut:
		return decision{skip: crm.SkipOptedOut}, nil
	case cu.Handoff.Active:
		return decision{skip: crm.SkipHandoff}, nil
	}
	var offer *crm.CompiledOffer
	if c.OfferID != "" {
		offer = o.core.Offers().Get(c.OfferID)
		if offer == nil || offer.Status != crm.OfferActive || !offer.Validity.ValidAt(now.In(o.opts.Location), cu) ||
			!offer.Eligible(cu, crm.FactsOf(cu, now), now) {
			return decision{skip: crm.SkipNotEligible}, nil
		}
	}
	if !ignoreCap {
		n, err := cs.Promotions(cu.ID, now.Add(-o.opts.CapWindow))
		if err != nil {
			return decision{}, err
		}
		if n >= o.opts.Cap {
			return decision{skip: crm.SkipCapped}, nil
		}
	}
	d, err := o.pickIdentity(tx, cu, now)
	if err != nil || d.skip != "" {
		return d, err
	}
	d.lang = cu.Language
	if d.lang != "vi" && d.lang != "en" {
		d.lang = o.core.lang
	}
	text := ""
	if offer != nil {
		text, err = offer.Render(d.lang, cu, o.core.product, now)
		if err != nil {
			return decision{skip: crm.SkipNoMessage}, nil
		}
		d.buttons = offerButtons(d.lang, offer)
	} else {
		text = c.Text[d.lang]
		if text == "" {
			text = c.Text[fallbackLang(c.Text)]
		}
	}
	if text == "" {
		return decision{skip: crm.SkipNoMessage}, nil
	}
	d.text = text + "\n\n" + optOutLine[d.lang]
	return d, nil
}

// sendable are the channels a message the customer did not ask for can
// reach (console and import identities cannot be written to).
func sendable(ch crm.Channel) bool {
	return ch != crm.ChannelConsole && ch != crm.ChannelImport
}

// pickIdentity chooses the identity to write to: reachable, on a channel
// whose window for unrequested messages is open, the one the customer
// wrote from last.
func (o *Outreach) pickIdentity(tx crm.Tx, cu *crm.Customer, now time.Time) (decision, error) {
	var last map[crm.Channel]time.Time
	best, closed := -1, false
	var bestAt time.Time
	for i := range cu.Identities {
		id := &cu.Identities[i]
		if id.Unreachable || !sendable(id.Channel) {
			continue
		}
		w, windowed := o.opts.Windows[id.Channel]
		if last == nil {
			var err error
			if last, err = lastInbound(tx, cu.ID); err != nil {
				return decision{}, err
			}
		}
		at := last[id.Channel]
		if windowed && (at.IsZero() || now.Sub(at) > w) {
			closed = true
			continue
		}
		if best < 0 || at.After(bestAt) {
			best, bestAt = i, at
		}
	}
	switch {
	case best >= 0:
		id := cu.Identities[best]
		chat := id.ChatID
		if chat == "" {
			chat = id.UserID
		}
		return decision{channel: id.Channel, userID: id.UserID, chatID: chat}, nil
	case closed:
		return decision{skip: crm.SkipWindow}, nil
	}
	return decision{skip: crm.SkipNoChannel}, nil
}

// lastInbound returns when the customer last wrote on each channel, from
// their recent interactions.
func lastInbound(tx crm.Tx, id crm.ID) (map[crm.Channel]time.Time, error) {
	recent, err := tx.RecentInteractions(id, 50)
	if err != nil {
		return nil, err
	}
	out := map[crm.Channel]time.Time{}
	for _, it := range recent {
		if it.Direction == crm.Inbound && it.Time.After(out[it.Channel]) {
			out[it.Channel] = it.Time
		}
	}
	return out, nil
}

// queue logs the outbound message and queues it, proactive, due at the end
// of the quiet hours if it falls in them, with the campaign's record of
// the customer and the promotion for the cap, all in tx.
func (o *Outreach) queue(tx crm.Tx, cs crm.Campaigns, c *crm.Campaign, cu *crm.Customer, d decision, now time.Time) (*crm.OutboxItem, error) {
	kind := crm.KindText
	if c.OfferID != "" && len(d.buttons) > 0 {
		kind = crm.KindOffer
	}
	in := &crm.Interaction{CustomerID: cu.ID, Time: now, Direction: crm.Outbound, Channel: d.channel, ChatID: d.chatID,
		Kind: kind, Text: d.text, Buttons: d.buttons, OfferID: c.OfferID, Author: "campaign:" + c.ID}
	if err := tx.AppendInteraction(in); err != nil {
		return nil, err
	}
	if err := tx.AppendEvent(&crm.Event{CustomerID: cu.ID, Time: now, Kind: crm.EventMessageOut, Channel: d.channel,
		InteractionID: in.ID, OfferID: c.OfferID, Campaign: c.ID}); err != nil {
		return nil, err
	}
	it := &crm.OutboxItem{CustomerID: cu.ID, InteractionID: in.ID, Channel: d.channel, ChatID: d.chatID, UserID: d.userID,
		Text: d.text, Buttons: d.buttons, OfferID: c.OfferID, Status: crm.OutboxPending, CreatedAt: now,
		Priority: crm.PriorityProactive}
	if due := o.quietDue(now); due.After(now) {
		it.Due = due
	}
	if err := tx.EnqueueOutbox(it); err != nil {
		return nil, err
	}
	s := &crm.CampaignSend{Campaign: c.ID, Customer: cu.ID, Time: now, Channel: d.channel, Outbox: it.ID}
	if c.OfferID != "" {
		cu.RecordOfferShown(c.OfferID, now)
		if err := tx.AppendEvent(&crm.Event{CustomerID: cu.ID, OfferID: c.OfferID, Time: now, Kind: crm.EventOfferShown,
			Channel: d.channel, Campaign: c.ID}); err != nil {
			return nil, err
		}
		if err := addCounter(tx, now, "offer:"+c.OfferID+":"+crm.OfferShown, 1); err != nil {
			return nil, err
		}
	}
	cu.Stats.MessagesOut++
	if err := tx.PutCustomer(cu); err != nil {
		return nil, err
	}
	if err := cs.PutCampaignSend(s); err != nil {
		return nil, err
	}
	return it, cs.AddPromotion(cu.ID, now, c.ID)
}

// expandPage expands the next page of a due campaign in one transaction:
// for each customer of the page in the audience and not yet recorded, it
// queues the message or records why not, with the campaign's cursor and
// counts. It reports whether more pages remain.
func (o *Outreach) expandPage(ctx context.Context, id string) (bool, error) {
	var items []*crm.OutboxItem
	more := false
	now := o.core.now()
	err := o.core.store.Update(ctx, func(tx crm.Tx) error {
		items, more = items[:0], false
		cs := crm.Campaigns(tx)
		c, err := cs.Campaign(id)
		if err != nil {
			return err
		}
		switch {
		case c.Status == crm.CampaignScheduled && !c.At.After(now):
			c.Status, c.StartedAt = crm.CampaignRunning, now
			if c.Estimate, err = o.estimate(tx, c); err != nil {
				return err
			}
		case c.Status != crm.CampaignRunning:
			return nil
		}
		page, err := cs.CustomersAfter(c.Cursor, o.opts.PageSize)
		if err != nil {
			return err
		}
		for _, cu := range page {
			c.Cursor = cu.ID
			if ok, err := o.inAudience(c, cu, now); err != nil || !ok {
				if err != nil {
					o.log.Warn("audience rule failed for a customer", "campaign", c.ID, "customer", cu.ID, "err", err)
				}
				continue
			}
			if prev, err := cs.CampaignSend(c.ID, cu.ID); err != nil || prev != nil {
				if err != nil {
					return err
				}
				continue // recorded by an earlier run
			}
			if c.Kind == crm.KindJourney {
				ok, err := o.journeyWants(tx, cs, c, cu, now)
				if err != nil {
					return err
				}
				if !ok {
					continue
				}
			}
			d, err := o.decide(tx, cs, c, cu, now, false)
			if err != nil {
				return err
			}
			if d.skip != "" {
				if c.Skipped == nil {
					c.Skipped = map[string]int64{}
				}
				c.Skipped[d.skip]++
				if err := cs.PutCampaignSend(&crm.CampaignSend{Campaign: c.ID, Customer: cu.ID, Time: now, Skipped: d.skip}); err != nil {
					return err
				}
				continue
			}
			it, err := o.queue(tx, cs, c, cu, d, now)
			if err != nil {
				return err
			}
			c.Queued++
			items = append(items, it)
		}
		more = len(page) == o.opts.PageSize
		if !more {
			c.Status, c.FinishedAt = crm.CampaignDone, now
		}
		c.UpdatedAt = now
		return cs.PutCampaign(c)
	})
	if err != nil {
		return false, err
	}
	if o.opts.AfterPage != nil {
		o.opts.AfterPage(id)
	}
	if len(items) > 0 && o.core.disp != nil {
		o.core.disp.Enqueue(items...) // not leased: wakes the claimer
	}
	return more, nil
}

// estimate is the audience's size before filters: the segments' counts, or
// every customer.
func (o *Outreach) estimate(tx crm.Tx, c *crm.Campaign) (int64, error) {
	if len(c.Audience.Segments) == 0 {
		return tx.CustomerCount()
	}
	var n int64
	for _, s := range c.Audience.Segments {
		k, err := tx.SegmentCount(s)
		if err != nil {
			return 0, err
		}
		n += k
	}
	return n, nil
}
