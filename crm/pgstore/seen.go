package pgstore

import (
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/idicbot/idicbot/crm"
)

var (
	_ crm.SeenMarkers  = (*Tx)(nil)
	_ crm.PromotionLog = (*Tx)(nil)
)

// ForEachSeen implements crm.SeenMarkers, scanPage markers a query.
func (t *Tx) ForEachSeen(fn func(ch crm.Channel, msgID string, interaction crm.ID) error) error {
	type marker struct {
		ch, msgID   string
		interaction int64
	}
	var after marker
	for {
		rows, err := t.q.Query(t.ctx, `SELECT channel, message_id, interaction_id FROM seen
WHERE (channel, message_id) > ($1, $2) ORDER BY channel, message_id LIMIT $3`, after.ch, after.msgID, scanPage)
		if err != nil {
			return t.note("list seen markers", err)
		}
		page, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (m marker, err error) {
			err = r.Scan(&m.ch, &m.msgID, &m.interaction)
			return m, err
		})
		if err != nil {
			return t.note("list seen markers", err)
		}
		for _, m := range page {
			if err := fn(crm.Channel(m.ch), m.msgID, crm.ID(m.interaction)); err != nil {
				return err
			}
		}
		if len(page) < scanPage {
			return nil
		}
		after = page[len(page)-1]
	}
}

// ForEachPromotion implements crm.PromotionLog, scanPage promotions a
// query.
func (t *Tx) ForEachPromotion(fn func(customer crm.ID, at time.Time, campaign string) error) error {
	type promotion struct {
		customer, at int64
		campaign     string
	}
	after := promotion{customer: -1}
	for {
		rows, err := t.q.Query(t.ctx, `SELECT customer_id, at, campaign FROM promotions
WHERE (customer_id, at) > ($1, $2) ORDER BY customer_id, at LIMIT $3`, after.customer, after.at, scanPage)
		if err != nil {
			return t.note("list promotions", err)
		}
		page, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (p promotion, err error) {
			err = r.Scan(&p.customer, &p.at, &p.campaign)
			return p, err
		})
		if err != nil {
			return t.note("list promotions", err)
		}
		for _, p := range page {
			if err := fn(crm.ID(p.customer), time.Unix(0, p.at).UTC(), p.campaign); err != nil {
				return err
			}
		}
		if len(page) < scanPage {
			return nil
		}
		after = page[len(page)-1]
	}
}
