package boltstore

import (
	"bytes"
	"encoding/binary"
	"slices"
	"time"

	"go.etcd.io/bbolt"

	"github.com/idicbot/idicbot/crm"
)

// The campaign buckets (schema 9):
//
//	campaigns        id → Campaign
//	campaign_sends   campaign id + 0x00 + customer id → CampaignSend
//	campaign_outbox  outbox id → customer id (8) + campaign id
//	promotions       customer id + time (unix ns) → campaign id
var (
	bktCampaigns      = []byte("campaigns")
	bktCampaignSends  = []byte("campaign_sends")
	bktCampaignOutbox = []byte("campaign_outbox")
	bktPromotions     = []byte("promotions")
)

var _ crm.Campaigns = (*Tx)(nil)

// migrateCampaigns creates the campaign buckets.
func migrateCampaigns(tx *bbolt.Tx) error {
	for _, b := range [][]byte{bktCampaigns, bktCampaignSends, bktCampaignOutbox, bktPromotions} {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return err
		}
	}
	return nil
}

// Campaign implements crm.Campaigns.
func (t *Tx) Campaign(id string) (*crm.Campaign, error) {
	var v []byte
	if id != "" {
		v = t.get(bktCampaigns, []byte(id))
	}
	if v == nil {
		return nil, crm.Errorf(crm.ENOTFOUND, "Campaign %q not found.", id)
	}
	c := new(crm.Campaign)
	if err := decode(bktCampaigns, []byte(id), v, c); err != nil {
		return nil, err
	}
	return c, nil
}

// ListCampaigns implements crm.Campaigns.
func (t *Tx) ListCampaigns() ([]*crm.Campaign, error) {
	var out []*crm.Campaign
	err := t.scan(bktCampaigns, nil, nil, func(k, v []byte) error {
		c := new(crm.Campaign)
		if err := decode(bktCampaigns, k, v, c); err != nil {
			return err
		}
		out = append(out, c)
		return nil
	})
	slices.SortStableFunc(out, func(a, b *crm.Campaign) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return out, err
}

// PutCampaign implements crm.Campaigns.
func (t *Tx) PutCampaign(c *crm.Campaign) error {
	if c == nil || c.ID == "" || bytes.IndexByte([]byte(c.ID), 0) >= 0 {
		return crm.Errorf(crm.EINVALID, "A campaign needs an id.")
	}
	return t.putJSON(bktCampaigns, []byte(c.ID), c)
}

func sendKey(campaign string, customer crm.ID) []byte {
	k := make([]byte, 0, len(campaign)+9)
	k = append(k, campaign...)
	k = append(k, 0)
	return append(k, idKey(customer)...)
}

// CampaignSend implements crm.Campaigns.
func (t *Tx) CampaignSend(campaign string, customer crm.ID) (*crm.CampaignSend, error) {
	k := sendKey(campaign, customer)
	v := t.get(bktCampaignSends, k)
	if v == nil {
		return nil, nil
	}
	s := new(crm.CampaignSend)
	if err := decode(bktCampaignSends, k, v, s); err != nil {
		return nil, err
	}
	return s, nil
}

// PutCampaignSend implements crm.Campaigns.
func (t *Tx) PutCampaignSend(s *crm.CampaignSend) error {
	if s == nil || s.Campaign == "" || s.Customer == 0 {
		return crm.Errorf(crm.EINVALID, "A campaign send needs a campaign and a customer.")
	}
	if err := t.putJSON(bktCampaignSends, sendKey(s.Campaign, s.Customer), s); err != nil {
		return err
	}
	if s.Outbox == 0 {
		return nil
	}
	return t.ops.put(bktCampaignOutbox, idKey(s.Outbox), append(idKey(s.Customer), s.Campaign...))
}

// CampaignSends implements crm.Campaigns.
func (t *Tx) CampaignSends(campaign string, fn func(*crm.CampaignSend) error) error {
	prefix := append([]byte(campaign), 0)
	return t.scan(bktCampaignSends, prefix, nil, func(k, v []byte) error {
		s := new(crm.CampaignSend)
		if err := decode(bktCampaignSends, k, v, s); err != nil {
			return err
		}
		return fn(s)
	})
}

// CampaignOfOutbox implements crm.Campaigns.
func (t *Tx) CampaignOfOutbox(id crm.ID) (string, crm.ID, error) {
	v := t.get(bktCampaignOutbox, idKey(id))
	if len(v) < 8 {
		return "", 0, nil
	}
	return string(v[8:]), readID(v[:8]), nil
}

// AddPromotion implements crm.Campaigns.
func (t *Tx) AddPromotion(customer crm.ID, at time.Time, campaign string) error {
	k := append(idKey(customer), u64(uint64(at.UnixNano()))...)
	return t.ops.put(bktPromotions, k, []byte(campaign))
}

var _ crm.PromotionLog = (*Tx)(nil)

// ForEachPromotion implements crm.PromotionLog.
func (t *Tx) ForEachPromotion(fn func(customer crm.ID, at time.Time, campaign string) error) error {
	return t.scan(bktPromotions, nil, nil, func(k, v []byte) error {
		if len(k) != 16 {
			return nil
		}
		return fn(readID(k[:8]), time.Unix(0, int64(binary.BigEndian.Uint64(k[8:]))).UTC(), string(v))
	})
}

// Promotions implements crm.Campaigns.
func (t *Tx) Promotions(customer crm.ID, since time.Time) (int, error) {
	n := 0
	start := append(idKey(customer), u64(uint64(max(since.UnixNano(), 0)))...)
	err := t.scan(bktPromotions, idKey(customer), start, func(_, _ []byte) error {
		n++
		return nil
	})
	return n, err
}

// CustomersAfter implements crm.Campaigns: the customers with ids above
// after, in id order, at most limit, read from after's key on (a page
// costs its own customers, whatever came before).
func (t *Tx) CustomersAfter(after crm.ID, limit int) ([]*crm.Customer, error) {
	b, err := t.bucket(bktCustomers)
	if err != nil {
		return nil, err
	}
	var out []*crm.Customer
	c := b.Cursor()
	for k, v := c.Seek(idKey(after + 1)); k != nil && len(out) < limit; k, v = c.Next() {
		if len(k) != 8 {
			continue // a history key
		}
		cu := new(crm.Customer)
		if err := decodeCustomer(k, v, cu); err != nil {
			return nil, err
		}
		out = append(out, cu)
	}
	return out, nil
}
