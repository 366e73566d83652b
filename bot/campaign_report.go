package bot

import (
	"context"
	"time"

	"github.com/idicbot/idicbot/crm"
)

// CampaignProgress is a campaign with its live counts.
type CampaignProgress struct {
	*crm.Campaign
	Sent, Failed int64
	// Pending are queued and not sent or failed yet; Remaining adds the
	// customers not expanded yet (an estimate while it runs).
	Pending, Remaining int64
	// ETA is when the last message should leave at the rate seen so far
	// (zero when unknown or done).
	ETA time.Time
}

// Progress returns a campaign's progress.
func (o *Outreach) Progress(ctx context.Context, id string) (*CampaignProgress, error) {
	var p *CampaignProgress
	err := o.core.store.View(ctx, func(tx crm.Tx) error {
		cs := crm.Campaigns(tx)
		c, err := cs.Campaign(id)
		if err != nil {
			return err
		}
		p, err = progressOf(tx, c)
		return err
	})
	if err != nil {
		return nil, err
	}
	now := o.core.now()
	if p.Remaining > 0 && p.Sent > 0 && !p.StartedAt.IsZero() && now.After(p.StartedAt) && p.Status == crm.CampaignRunning {
		rate := float64(p.Sent) / now.Sub(p.StartedAt).Seconds()
		p.ETA = now.Add(time.Duration(float64(p.Remaining) / rate * float64(time.Second)))
	}
	return p, nil
}

func progressOf(tx crm.Tx, c *crm.Campaign) (*CampaignProgress, error) {
	sent, err := tx.Counter("campaign:" + c.ID + ":" + crm.OutboxSent)
	if err != nil {
		return nil, err
	}
	failed, err := tx.Counter("campaign:" + c.ID + ":" + crm.OutboxFailed)
	if err != nil {
		return nil, err
	}
	p := &CampaignProgress{Campaign: c, Sent: sent, Failed: failed}
	p.Pending = max(c.Queued-sent-failed, 0)
	p.Remaining = p.Pending
	if c.Status == crm.CampaignRunning || c.Status == crm.CampaignScheduled {
		p.Remaining += max(c.Estimate-c.Queued-c.SkippedTotal(), 0)
	}
	if c.Status == crm.CampaignCancelled {
		p.Remaining = 0
	}
	return p, nil
}

// ListCampaigns returns every campaign and journey occurrence with its
// progress, newest first.
func (o *Outreach) ListCampaigns(ctx context.Context) ([]*CampaignProgress, error) {
	var out []*CampaignProgress
	err := o.core.store.View(ctx, func(tx crm.Tx) error {
		cs := crm.Campaigns(tx)
		list, err := cs.ListCampaigns()
		if err != nil {
			return err
		}
		out = out[:0]
		for _, c := range list {
			p, err := progressOf(tx, c)
			if err != nil {
				return err
			}
			out = append(out, p)
		}
		return nil
	})
	return out, err
}

// CampaignPreview is what a campaign would do now, before it is sent.
type CampaignPreview struct {
	Audience  int64            // customers in the audience
	Send      map[string]int64 // would be sent, per channel
	Skipped   map[string]int64 // would be skipped, per reason
	SkipNames []SkippedCustomer
	// Samples are the message as a customer of each language reads it.
	Samples map[string]string
}

// SkippedCustomer names a customer the campaign would skip, and why.
type SkippedCustomer struct {
	ID     crm.ID
	Name   string
	Reason string
}

// Preview walks the audience as the campaign would, without queueing
// anything: audience size per channel, who is skipped and why (the first
// 50 named), and the message rendered per language.
func (o *Outreach) Preview(ctx context.Context, c *crm.Campaign) (*CampaignPreview, error) {
	if err := o.check(c); err != nil {
		return nil, err
	}
	now := o.core.now()
	p := &CampaignPreview{Send: map[string]int64{}, Skipped: map[string]int64{}, Samples: map[string]string{}}
	err := o.core.store.View(ctx, func(tx crm.Tx) error {
		cs := crm.Campaigns(tx)
		var after crm.ID
		for {
			page, err := cs.CustomersAfter(after, o.opts.PageSize)
			if err != nil {
				return err
			}
			for _, cu := range page {
				after = cu.ID
				if ok, err := o.inAudience(c, cu, now); err != nil || !ok {
					continue
				}
				p.Audience++
				d, err := o.decide(tx, cs, c, cu, now, false)
				if err != nil {
					return err
				}
				if d.skip != "" {
					p.Skipped[d.skip]++
					if len(p.SkipNames) < 50 {
						p.SkipNames = append(p.SkipNames, SkippedCustomer{cu.ID, cu.Name, d.skip})
					}
					continue
				}
				p.Send[string(d.channel)]++
				if _, ok := p.Samples[d.lang]; !ok {
					p.Samples[d.lang] = d.text
				}
			}
			if len(page) < o.opts.PageSize {
				return nil
			}
		}
	})
	if err != nil {
		return nil, err
	}
	// A sample for each language nobody in the audience speaks yet.
	for _, lang := range crm.Languages {
		if _, ok := p.Samples[lang]; ok {
			continue
		}
		sample := crm.SampleCustomer(firstOr(c.Audience.Segments, crm.SegmentLoyal), now)
		sample.Language = lang
		text := c.Text[lang]
		if c.OfferID != "" {
			if offer := o.core.Offers().Get(c.OfferID); offer != nil {
				text, _ = offer.Render(lang, sample, o.core.product, now)
			}
		}
		if text != "" {
			p.Samples[lang] = text + "\n\n" + optOutLine[lang]
		}
	}
	return p, nil
}

func firstOr(list []string, def string) string {
	if len(list) > 0 {
		return list[0]
	}
	return def
}

// TestSend queues the campaign's message to one customer at once (a shop
// owner trying it on themself): opt-out and the channel's window still
// apply, the cap and quiet hours do not, and it is not recorded as the
// campaign's send.
func (o *Outreach) TestSend(ctx context.Context, c *crm.Campaign, customer crm.ID) (*crm.OutboxItem, error) {
	if err := o.check(c); err != nil {
		return nil, err
	}
	var it *crm.OutboxItem
	now := o.core.now()
	err := o.core.store.Update(ctx, func(tx crm.Tx) error {
		it = nil
		cs := crm.Campaigns(tx)
		cu, err := tx.Customer(customer)
		if err != nil {
			return err
		}
		d, err := o.decide(tx, cs, c, cu, now, true)
		if err != nil {
			return err
		}
		if d.skip != "" {
			return crm.Errorf(crm.ECONFLICT, "Customer %d would be skipped: %s.", customer, d.skip)
		}
		in := &crm.Interaction{CustomerID: cu.ID, Time: now, Direction: crm.Outbound, Channel: d.channel, ChatID: d.chatID,
			Kind: crm.KindText, Text: d.text, Buttons: d.buttons, Author: "campaign-test:" + c.ID}
		if err := logInteraction(tx, in); err != nil {
			return err
		}
		it = &crm.OutboxItem{CustomerID: cu.ID, InteractionID: in.ID, Channel: d.channel, ChatID: d.chatID, UserID: d.userID,
			Text: d.text, Buttons: d.buttons, Status: crm.OutboxPending, CreatedAt: now, Priority: crm.PriorityProactive}
		return tx.EnqueueOutbox(it)
	})
	if err != nil {
		return nil, err
	}
	if o.core.disp != nil {
		o.core.disp.Enqueue(it)
	}
	return it, nil
}

// CampaignStats measure what a campaign or journey occurrence caused.
type CampaignStats struct {
	Delivered    int64   `json:"delivered"`     // sent
	Replied48h   int64   `json:"replied_48h"`   // wrote back within 48 hours of the message
	Accepted     int64   `json:"accepted"`      // accepted the offer since
	Orders       int64   `json:"orders"`        // orders within AttributionDays of the message
	Revenue      int64   `json:"revenue"`       // VND, of those orders
	OptOuts      int64   `json:"opt_outs"`      // opted out within 48 hours of the message
	ResponseRate float64 `json:"response_rate"` // Replied48h / Delivered
}

// AttributionDays is how long after a campaign message an order counts
// for it.
const AttributionDays = 7

// Stats measures a campaign from its sends and the event log: for each
// customer it reached, their events from the message on (one range of the
// log, keyed by customer and time).
func (o *Outreach) Stats(ctx context.Context, id string) (*CampaignStats, error) {
	st := &CampaignStats{}
	err := o.core.store.View(ctx, func(tx crm.Tx) error {
		*st = CampaignStats{}
		cs := crm.Campaigns(tx)
		c, err := cs.Campaign(id)
		if err != nil {
			return err
		}
		const replyWindow = 48 * time.Hour
		attribution := AttributionDays * 24 * time.Hour
		return cs.CampaignSends(id, func(s *crm.CampaignSend) error {
			if s.Outbox == 0 {
				return nil
			}
			it, err := tx.OutboxItem(s.Outbox)
			if err != nil || it.Status != crm.OutboxSent {
				return err
			}
			st.Delivered++
			sent := it.SentAt
			replied, accepted, optedOut := false, false, false
			err = tx.CustomerEvents(s.Customer, sent, sent.Add(max(attribution, replyWindow)), func(e *crm.Event) error {
				within48 := e.Time.Sub(sent) < replyWindow
				switch e.Kind {
				case crm.EventOfferAccepted:
					accepted = accepted || c.OfferID != "" && e.OfferID == c.OfferID
				case crm.EventOptOut:
					optedOut = optedOut || within48
				case crm.EventOrder:
					if e.Time.Sub(sent) < attribution {
						st.Orders++
						st.Revenue += e.Amount
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
			// Messages are the conversation log's, not the event log's.
			next, err := tx.Interactions(s.Customer, it.InteractionID, 20)
			if err != nil {
				return err
			}
			for _, in := range next {
				if in.Direction == crm.Inbound && !in.Time.Before(sent) && in.Time.Sub(sent) <= replyWindow {
					replied = true
					break
				}
			}
			for _, b := range []struct {
				ok bool
				n  *int64
			}{{replied, &st.Replied48h}, {accepted, &st.Accepted}, {optedOut, &st.OptOuts}} {
				if b.ok {
					*b.n++
				}
			}
			return nil
		})
	})
	if st.Delivered > 0 {
		st.ResponseRate = float64(st.Replied48h) / float64(st.Delivered)
	}
	return st, err
}
