package pgstore

import (
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/crm/internal/reccodec"
)

// Personal data, table by table, and what EraseCustomer does with it (as
// crm/boltstore does, bucket by bucket):
//
//	customers          the record: replaced by one that keeps only the id,
//	                   segment, aggregates, offer statistics, consent and
//	                   creation time (an allow-list)
//	customer_redirects ids only: kept so old ids resolve
//	customer_keys, customer_values, customer_words  removed
//	interactions       texts, chat and message ids, buttons, payloads,
//	                   authors: erased; time, direction, channel, kind,
//	                   intent, offer kept
//	seen               markers of the customer's interactions removed, and
//	                   markers that logged nothing whose message id holds
//	                   one of the customer's channel user or chat ids
//	orders             note erased; amount, time, ref, offer, source kept
//	events             kept: ids, kinds, offers, segments, amounts, no text
//	outbox             texts, chat and user ids, buttons, last error:
//	                   erased; a pending item is cancelled
//	handoff_threads    removed
//	erasures           the erasure record is added
//
// PostgreSQL keeps the old row versions until VACUUM reclaims them
// (autovacuum, within minutes on a busy table); docs/postgres.md says what
// this means for backups.

// mergedIDs returns the ids whose redirects (chains included) end at id.
func (t *Tx) mergedIDs(id crm.ID) ([]crm.ID, error) {
	rows, err := t.q.Query(t.ctx, `WITH RECURSIVE m(id) AS (
	SELECT id FROM customer_redirects WHERE merged_into = $1
	UNION SELECT r.id FROM customer_redirects r JOIN m ON r.merged_into = m.id)
SELECT id FROM m ORDER BY id`, int64(id))
	if err != nil {
		return nil, t.note("merged ids", err)
	}
	defer rows.Close()
	var out []crm.ID
	for rows.Next() {
		var m int64
		if err := rows.Scan(&m); err != nil {
			return nil, t.note("merged ids", err)
		}
		out = append(out, crm.ID(m))
	}
	return out, t.note("merged ids", rows.Err())
}

func idArgs(id crm.ID, merged []crm.ID) []int64 {
	out := []int64{int64(id)}
	for _, m := range merged {
		out = append(out, int64(m))
	}
	return out
}

// CustomerRecords implements crm.Tx.
func (t *Tx) CustomerRecords(id crm.ID) (*crm.CustomerExport, error) {
	c, err := t.Customer(id)
	if err != nil {
		return nil, err
	}
	merged, err := t.mergedIDs(c.ID)
	if err != nil {
		return nil, err
	}
	x := &crm.CustomerExport{Customer: c, MergedIDs: merged,
		Interactions: []*crm.Interaction{}, Orders: []*crm.Order{}, Events: []*crm.Event{},
		Outbox: []*crm.OutboxItem{}}
	is, err := t.Interactions(c.ID, 0, 0)
	if err != nil {
		return nil, err
	}
	x.Interactions = append(x.Interactions, is...)
	orders, err := t.ordersOf(c.ID)
	if err != nil {
		return nil, err
	}
	x.Orders = append(x.Orders, orders...)
	if err := t.CustomerEvents(c.ID, time.Time{}, time.Time{}, func(e *crm.Event) error {
		x.Events = append(x.Events, e)
		return nil
	}); err != nil {
		return nil, err
	}
	out, err := t.outboxWhere("customer outbox", `WHERE customer_id = ANY($1) ORDER BY id`, idArgs(c.ID, merged))
	if err != nil {
		return nil, err
	}
	x.Outbox = append(x.Outbox, out...)
	if x.Erasure, err = t.erasure(c.ID); err != nil {
		return nil, err
	}
	return x, nil
}

func (t *Tx) erasure(id crm.ID) (*crm.Erasure, error) {
	var data []byte
	found, err := t.queryRow("read erasure", `SELECT data FROM erasures WHERE customer_id = $1`, []any{int64(id)}, &data)
	if err != nil || !found {
		return nil, err
	}
	e := new(crm.Erasure)
	if err := decode("erasure", data, e); err != nil {
		return nil, err
	}
	return e, nil
}

// EraseCustomer implements crm.Tx; the comment at the top of this file
// says what it does to each table.
func (t *Tx) EraseCustomer(id crm.ID, by string, at time.Time) (*crm.Erasure, error) {
	old, err := t.Customer(id)
	if err != nil {
		return nil, err
	}
	id = old.ID
	if e, err := t.erasure(id); err != nil {
		return nil, err
	} else if e != nil {
		return nil, crm.Errorf(crm.ECONFLICT, "Customer %d was already erased (%s).", id, e.At.UTC().Format(time.RFC3339))
	}
	merged, err := t.mergedIDs(id)
	if err != nil {
		return nil, err
	}
	ids := idArgs(id, merged)
	history, err := t.Interactions(id, 0, 0)
	if err != nil {
		return nil, err
	}
	erasure := &crm.Erasure{CustomerID: id, MergedIDs: merged, At: at.UTC(), By: by, Consent: old.Consent}
	if erasure.Consent.Channel == "" && !old.Consent.Since.IsZero() {
		for _, i := range history {
			if i.Direction == crm.Inbound && !i.Time.After(old.Consent.Since) {
				erasure.Consent.Channel = i.Channel
			}
		}
	}

	b := &pgx.Batch{}
	iids := make([]int64, 0, len(history))
	for _, i := range history {
		iids = append(iids, int64(i.ID))
		b.Queue(`UPDATE interactions SET data = $2 WHERE id = $1`, int64(i.ID), reccodec.EncodeInteraction(erasedInteraction(i)))
	}
	b.Queue(`DELETE FROM seen WHERE interaction_id = ANY($1)`, iids)
	for _, idn := range old.Identities {
		for _, v := range []string{idn.UserID, idn.ChatID} {
			// Ids shorter than 3 bytes would match by chance.
			if len(v) >= 3 && validKey(v) {
				b.Queue(`DELETE FROM seen WHERE interaction_id = 0 AND channel = $1 AND strpos(message_id, $2) > 0`, string(idn.Channel), v)
			}
		}
	}
	orders, err := t.ordersOf(id)
	if err != nil {
		return nil, err
	}
	for _, o := range orders {
		if o.Note == "" {
			continue
		}
		o.Note = crm.ErasedText
		data, err := encode(o)
		if err != nil {
			return nil, err
		}
		b.Queue(`UPDATE orders SET data = $2 WHERE id = $1`, int64(o.ID), data)
	}
	items, err := t.outboxWhere("customer outbox", `WHERE customer_id = ANY($1) ORDER BY id`+t.forUpdate(), ids)
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		it.Text, it.ChatID, it.UserID, it.Buttons, it.LastError = crm.ErasedText, "", "", nil, ""
		if it.Status == crm.OutboxPending {
			it.Status = crm.OutboxCancelled
		}
		data := reccodec.EncodeOutboxItem(it)
		b.Queue(`UPDATE outbox SET data = $2, status = $3, last_error = '', lease_owner = CASE WHEN $3 = 'pending' THEN lease_owner ELSE '' END,
	lease_until = CASE WHEN $3 = 'pending' THEN lease_until ELSE 0 END WHERE id = $1`, int64(it.ID), data, it.Status)
	}
	if err := t.batch("erase customer", b); err != nil {
		return nil, err
	}
	if err := t.PutCustomer(erasedCustomer(old, at)); err != nil {
		return nil, err
	}
	data, err := encode(erasure)
	if err != nil {
		return nil, err
	}
	b = &pgx.Batch{}
	b.Queue(`DELETE FROM customer_keys WHERE customer_id = ANY($1)`, ids)
	b.Queue(`DELETE FROM customer_values WHERE customer_id = ANY($1)`, ids)
	b.Queue(`DELETE FROM customer_words WHERE customer_id = ANY($1)`, ids)
	b.Queue(`DELETE FROM handoff_threads WHERE customer_id = ANY($1)`, ids)
	b.Queue(`INSERT INTO erasures (customer_id, data) VALUES ($1, $2)`, int64(id), data)
	if err := t.batch("erase customer", b); err != nil {
		return nil, err
	}
	return erasure, nil
}

// erasedCustomer keeps from c only what is not personal data and what the
// reports need (an allow-list: a field added to crm.Customer later is
// erased unless added here).
func erasedCustomer(c *crm.Customer, at time.Time) *crm.Customer {
	return &crm.Customer{
		ID:        c.ID,
		Segment:   c.Segment,
		Consent:   c.Consent,
		Stats:     c.Stats,
		Offers:    c.Offers,
		CreatedAt: c.CreatedAt,
		UpdatedAt: at,
	}
}

// erasedInteraction keeps from i what the statistics use.
func erasedInteraction(i *crm.Interaction) *crm.Interaction {
	e := &crm.Interaction{
		ID: i.ID, CustomerID: i.CustomerID, Time: i.Time, Direction: i.Direction,
		Channel: i.Channel, Kind: i.Kind, Edited: i.Edited, Intent: i.Intent,
		OfferID: i.OfferID, OutboxID: i.OutboxID,
	}
	if i.Text != "" || i.Original != "" || i.Payload != "" {
		e.Text = crm.ErasedText
	}
	return e
}
