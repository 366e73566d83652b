package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/idicbot/idicbot/crm"
)

var campaignTests = []test{
	{name: "CampaignsSendsPromotionsPages", run: testCampaigns},
}

// testCampaigns: campaigns newest first, one send per customer with its
// outbox item found back, the promotions of a window, and pages of
// customers in id order (a store that keeps history among the customers'
// keys skips it).
func testCampaigns(t *testing.T, o Opener) {
	db := o.Open(t)
	ctx := context.Background()
	t0 := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	var ids []crm.ID
	err := db.Update(ctx, func(tx crm.Tx) error {
		ids = ids[:0]
		cs := crm.Campaigns(tx)
		for i, id := range []string{"old", "new"} {
			if err := cs.PutCampaign(&crm.Campaign{ID: id, Name: id, CreatedAt: t0.Add(time.Duration(i) * time.Hour)}); err != nil {
				return err
			}
		}
		if err := cs.PutCampaign(&crm.Campaign{}); crm.ErrorCode(err) != crm.EINVALID {
			t.Errorf("a campaign without id: %v, want EINVALID", err)
		}
		for range 5 {
			c := &crm.Customer{Name: "k", CreatedAt: t0}
			if err := tx.PutCustomer(c); err != nil {
				return err
			}
			ids = append(ids, c.ID)
			// History keys live among the customers' keys.
			if err := tx.AppendInteraction(&crm.Interaction{CustomerID: c.ID, Time: t0, Direction: crm.Inbound, Kind: crm.KindText, Text: "hi"}); err != nil {
				return err
			}
		}
		it := &crm.OutboxItem{CustomerID: ids[1], Channel: crm.ChannelTelegram, ChatID: "1", Text: "x", Priority: crm.PriorityProactive}
		if err := tx.EnqueueOutbox(it); err != nil {
			return err
		}
		if err := cs.PutCampaignSend(&crm.CampaignSend{Campaign: "new", Customer: ids[1], Time: t0, Outbox: it.ID}); err != nil {
			return err
		}
		if err := cs.PutCampaignSend(&crm.CampaignSend{Campaign: "new", Customer: ids[0], Time: t0, Skipped: crm.SkipOptedOut}); err != nil {
			return err
		}
		for _, d := range []time.Duration{-96 * time.Hour, -48 * time.Hour, -time.Hour} {
			if err := cs.AddPromotion(ids[2], t0.Add(d), "new"); err != nil {
				return err
			}
		}
		return cs.AddPromotion(ids[3], t0, "new")
	})
	if err != nil {
		t.Fatal(err)
	}
	err = db.View(ctx, func(tx crm.Tx) error {
		cs := crm.Campaigns(tx)
		list, err := cs.ListCampaigns()
		if err != nil {
			return err
		}
		if len(list) != 2 || list[0].ID != "new" {
			t.Errorf("campaigns %v, want new then old", list)
		}
		if _, err := cs.Campaign("nope"); crm.ErrorCode(err) != crm.ENOTFOUND {
			t.Errorf("unknown campaign: %v, want ENOTFOUND", err)
		}
		var sends []*crm.CampaignSend
		if err := cs.CampaignSends("new", func(s *crm.CampaignSend) error { sends = append(sends, s); return nil }); err != nil {
			return err
		}
		if len(sends) != 2 || sends[0].Customer != ids[0] || sends[0].Skipped != crm.SkipOptedOut || sends[1].Outbox == 0 {
			t.Errorf("sends %+v, want the skip of the first customer, then the second's item", sends)
		}
		if s, err := cs.CampaignSend("old", ids[1]); err != nil || s != nil {
			t.Errorf("send of another campaign: %v %v, want none", s, err)
		}
		camp, cust, err := cs.CampaignOfOutbox(sends[1].Outbox)
		if err != nil || camp != "new" || cust != ids[1] {
			t.Errorf("campaign of the item: %q %d %v", camp, cust, err)
		}
		if n, err := cs.Promotions(ids[2], t0.Add(-72*time.Hour)); err != nil || n != 2 {
			t.Errorf("promotions in 72 h: %d %v, want 2 (not the one 96 h ago, not another customer's)", n, err)
		}
		page, err := cs.CustomersAfter(ids[1], 2)
		if err != nil {
			return err
		}
		if len(page) != 2 || page[0].ID != ids[2] || page[1].ID != ids[3] {
			t.Errorf("page after %d: %v, want %d and %d", ids[1], page, ids[2], ids[3])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
