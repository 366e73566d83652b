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
	return keysetPages(t, "list seen markers", `SELECT channel, message_id, interaction_id FROM seen
WHERE (channel, message_id) > ($1, $2) ORDER BY channel, message_id LIMIT $3`,
		marker{}, func(m marker) []any { return []any{m.ch, m.msgID} },
		func(r pgx.CollectableRow) (m marker, err error) {
			err = r.Scan(&m.ch, &m.msgID, &m.interaction)
			return m, err
		},
		func(m marker) error { return fn(crm.Channel(m.ch), m.msgID, crm.ID(m.interaction)) })
}

// ForEachPromotion implements crm.PromotionLog, scanPage promotions a
// query.
func (t *Tx) ForEachPromotion(fn func(customer crm.ID, at time.Time, campaign string) error) error {
	type promotion struct {
		customer, at int64
		campaign     string
	}
	return keysetPages(t, "list promotions", `SELECT customer_id, at, campaign FROM promotions
WHERE (customer_id, at) > ($1, $2) ORDER BY customer_id, at LIMIT $3`,
		promotion{customer: -1}, func(p promotion) []any { return []any{p.customer, p.at} },
		func(r pgx.CollectableRow) (p promotion, err error) {
			err = r.Scan(&p.customer, &p.at, &p.campaign)
			return p, err
		},
		func(p promotion) error { return fn(crm.ID(p.customer), time.Unix(0, p.at).UTC(), p.campaign) })
}

// keysetPages calls fn for every row of a query read scanPage rows at a
// time: query takes the key of the last row read (key(first) before the
// first page) and then scanPage.
func keysetPages[T any](t *Tx, what, query string, first T, key func(T) []any, scan func(pgx.CollectableRow) (T, error), fn func(T) error) error {
	after := first
	for {
		rows, err := t.q.Query(t.ctx, query, append(key(after), scanPage)...)
		if err != nil {
			return t.note(what, err)
		}
		page, err := pgx.CollectRows(rows, scan)
		if err != nil {
			return t.note(what, err)
		}
		for _, row := range page {
			if err := fn(row); err != nil {
				return err
			}
		}
		if len(page) < scanPage {
			return nil
		}
		after = page[len(page)-1]
	}
}
