package pgstore

import (
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/idicbot/idicbot/crm"
)

var _ crm.Campaigns = (*Tx)(nil)

func (t *Tx) campaignsWhere(what, sql string, args ...any) ([]*crm.Campaign, error) {
	rows, err := t.q.Query(t.ctx, sql, args...)
	if err != nil {
		return nil, t.note(what, err)
	}
	defer rows.Close()
	var out []*crm.Campaign
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			return nil, t.note(what, err)
		}
		c := new(crm.Campaign)
		if err := decode("campaign", data, c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, t.note(what, rows.Err())
}

// Campaign implements crm.Campaigns; in an Update it locks the campaign
// (its expansion and its counts are read, changed and saved).
func (t *Tx) Campaign(id string) (*crm.Campaign, error) {
	var out []*crm.Campaign
	if validKey(id) {
		var err error
		if out, err = t.campaignsWhere("read campaign", `SELECT data FROM campaigns WHERE id = $1`+t.forUpdate(), id); err != nil {
			return nil, err
		}
	}
	if len(out) == 0 {
		return nil, crm.Errorf(crm.ENOTFOUND, "Campaign %q not found.", id)
	}
	return out[0], nil
}

// ListCampaigns implements crm.Campaigns, newest first (then by id).
func (t *Tx) ListCampaigns() ([]*crm.Campaign, error) {
	return t.campaignsWhere("list campaigns", `SELECT data FROM campaigns ORDER BY created_at DESC, id`)
}

// PutCampaign implements crm.Campaigns.
func (t *Tx) PutCampaign(c *crm.Campaign) error {
	if c == nil || !validKey(c.ID) {
		return crm.Errorf(crm.EINVALID, "A campaign needs an id.")
	}
	data, err := encode(c)
	if err != nil {
		return err
	}
	_, err = t.exec("save campaign", `INSERT INTO campaigns (id, created_at, data) VALUES ($1, $2, $3)
ON CONFLICT (id) DO UPDATE SET created_at = EXCLUDED.created_at, data = EXCLUDED.data`, c.ID, nanos(c.CreatedAt), data)
	return err
}

// CampaignSend implements crm.Campaigns.
func (t *Tx) CampaignSend(campaign string, customer crm.ID) (*crm.CampaignSend, error) {
	if !validKey(campaign) {
		return nil, nil
	}
	var data []byte
	found, err := t.queryRow("read campaign send", `SELECT data FROM campaign_sends WHERE campaign = $1 AND customer_id = $2`+t.forUpdate(),
		[]any{campaign, int64(customer)}, &data)
	if err != nil || !found {
		return nil, err
	}
	s := new(crm.CampaignSend)
	if err := decode("campaign send", data, s); err != nil {
		return nil, err
	}
	return s, nil
}

// PutCampaignSend implements crm.Campaigns.
func (t *Tx) PutCampaignSend(s *crm.CampaignSend) error {
	if s == nil || !validKey(s.Campaign) || s.Customer == 0 {
		return crm.Errorf(crm.EINVALID, "A campaign send needs a campaign and a customer.")
	}
	data, err := encode(s)
	if err != nil {
		return err
	}
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO campaign_sends (campaign, customer_id, data) VALUES ($1, $2, $3)
ON CONFLICT (campaign, customer_id) DO UPDATE SET data = EXCLUDED.data`, s.Campaign, int64(s.Customer), data)
	if s.Outbox != 0 {
		b.Queue(`INSERT INTO campaign_outbox (outbox_id, campaign, customer_id) VALUES ($1, $2, $3)
ON CONFLICT (outbox_id) DO UPDATE SET campaign = EXCLUDED.campaign, customer_id = EXCLUDED.customer_id`,
			int64(s.Outbox), s.Campaign, int64(s.Customer))
	}
	return t.batch("save campaign send", b)
}

// CampaignSends implements crm.Campaigns, in customer id order, a page at
// a time.
func (t *Tx) CampaignSends(campaign string, fn func(*crm.CampaignSend) error) error {
	var after int64
	for {
		rows, err := t.q.Query(t.ctx, `SELECT customer_id, data FROM campaign_sends WHERE campaign = $1 AND customer_id > $2
ORDER BY customer_id LIMIT $3`, campaign, after, scanPage)
		if err != nil {
			return t.note("read campaign sends", err)
		}
		var page []*crm.CampaignSend
		for rows.Next() {
			var data []byte
			if err := rows.Scan(&after, &data); err != nil {
				rows.Close()
				return t.note("read campaign sends", err)
			}
			s := new(crm.CampaignSend)
			if err := decode("campaign send", data, s); err != nil {
				rows.Close()
				return err
			}
			page = append(page, s)
		}
		if err := rows.Err(); err != nil {
			return t.note("read campaign sends", err)
		}
		for _, s := range page {
			if err := fn(s); err != nil {
				return err
			}
		}
		if len(page) < scanPage {
			return nil
		}
	}
}

// CampaignOfOutbox implements crm.Campaigns.
func (t *Tx) CampaignOfOutbox(id crm.ID) (string, crm.ID, error) {
	var campaign string
	var customer int64
	_, err := t.queryRow("read campaign of outbox item", `SELECT campaign, customer_id FROM campaign_outbox WHERE outbox_id = $1`,
		[]any{int64(id)}, &campaign, &customer)
	return campaign, crm.ID(customer), err
}

// AddPromotion implements crm.Campaigns; a second promotion of the same
// customer at the same instant is one (as in bbolt).
func (t *Tx) AddPromotion(customer crm.ID, at time.Time, campaign string) error {
	if !validKey(campaign) && campaign != "" {
		return crm.Errorf(crm.EINVALID, "A campaign id cannot hold 0x00.")
	}
	_, err := t.exec("add promotion", `INSERT INTO promotions (customer_id, at, campaign) VALUES ($1, $2, $3)
ON CONFLICT (customer_id, at) DO UPDATE SET campaign = EXCLUDED.campaign`, int64(customer), at.UnixNano(), campaign)
	return err
}

// Promotions implements crm.Campaigns.
func (t *Tx) Promotions(customer crm.ID, since time.Time) (int, error) {
	var n int
	_, err := t.queryRow("count promotions", `SELECT count(*) FROM promotions WHERE customer_id = $1 AND at >= $2`,
		[]any{int64(customer), max(since.UnixNano(), 0)}, &n)
	return n, err
}

// CustomersAfter implements crm.Campaigns: one page of customers by id.
func (t *Tx) CustomersAfter(after crm.ID, limit int) ([]*crm.Customer, error) {
	if limit <= 0 {
		return nil, nil
	}
	return t.customersWhere("read customers", `SELECT id, data FROM customers WHERE id > $1 ORDER BY id LIMIT $2`, int64(after), limit)
}
