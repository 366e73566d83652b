package pgstore

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/crm/internal/reccodec"
)

// LoadCustomers stores new customers with COPY, in one transaction: the
// rows PutCustomer would write for them (the record, its keys, usernames,
// claims and name words, the customer and segment counts), for filling a
// store fast (the bench's million customers). Customers with ID 0 get
// the sequence's next ids (set on them), then explicit ids move the
// sequence past them, as PutCustomer does. Unlike PutCustomer it takes no
// key over: an id or key that is already stored, or that two of cs hold,
// fails the whole load (ECONFLICT), and nothing is written.
func (db *DB) LoadCustomers(ctx context.Context, cs []*crm.Customer) error {
	if len(cs) == 0 {
		return nil
	}
	err := db.run(ctx, true, func(tx crm.Tx) error {
		t := tx.(*Tx)
		return t.loadCustomers(cs)
	})
	if retryable(err) {
		return crm.Errorf(crm.ECONFLICT, "Loading %d customers: an id or key is stored already or held twice (%v).", len(cs), err)
	}
	return err
}

func (t *Tx) loadCustomers(cs []*crm.Customer) error {
	var fresh int
	var top crm.ID
	for _, c := range cs {
		if c == nil {
			return crm.Errorf(crm.EINVALID, "No customer.")
		}
		if c.ID == 0 {
			fresh++
		}
		top = max(top, c.ID)
	}
	if fresh > 0 {
		rows, err := t.q.Query(t.ctx, `SELECT nextval('customers_id_seq') FROM generate_series(1, $1)`, fresh)
		if err != nil {
			return t.note("take customer ids", err)
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return t.note("take customer ids", err)
		}
		for _, c := range cs {
			if c.ID == 0 {
				c.ID, ids = crm.ID(ids[0]), ids[1:]
			}
		}
	}
	if top > 0 {
		if _, err := t.nextID("customers_id_seq", top); err != nil {
			return err
		}
	}
	var customers, keys, values, words [][]any
	for _, c := range cs {
		data := reccodec.EncodeCustomer(c)
		x := indexedOf(c)
		id := int64(c.ID)
		customers = append(customers, []any{id, x.segment, x.spent, data})
		r := indexRowsOf(x)
		for _, k := range r.keys {
			keys = append(keys, []any{k[0][0], k[1], id}) // "char": a byte
		}
		for _, v := range r.values {
			values = append(values, []any{v[0][0], v[1], id})
		}
		for _, w := range r.words {
			words = append(words, []any{w, id, r.names})
		}
		if x.segment != "" {
			t.addPending(counterSegmentPrefix+x.segment, 1)
		}
	}
	t.addPending(counterCustomers, int64(len(cs)))
	for _, table := range []struct {
		name    string
		columns []string
		rows    [][]any
	}{
		{"customers", []string{"id", "segment", "spent", "data"}, customers},
		{"customer_keys", []string{"kind", "key", "customer_id"}, keys},
		{"customer_values", []string{"kind", "value", "customer_id"}, values},
		{"customer_words", []string{"word", "customer_id", "names"}, words},
	} {
		if len(table.rows) == 0 {
			continue
		}
		if _, err := t.q.CopyFrom(t.ctx, pgx.Identifier{table.name}, table.columns, pgx.CopyFromRows(table.rows)); err != nil {
			return t.note("load "+table.name, err)
		}
	}
	return nil
}

// indexRows are the index rows of one stored customer: (kind, key) of
// customer_keys, (kind, value) of customer_values, and the name words with
// the names column of customer_words.
type indexRows struct {
	keys, values [][2]string
	words        []string
	names        string
}

// indexRowsOf returns the index rows a customer indexed as x has, as
// reindex writes them for a new customer.
func indexRowsOf(x indexed) indexRows {
	var r indexRows
	if !x.exists {
		return r
	}
	for _, id := range x.identities {
		r.keys = append(r.keys, [2]string{keyIdentity, id})
	}
	for _, k := range [][2]string{{keyPhone, x.phone}, {keyEmail, x.email}, {keyExternal, x.external}} {
		if validKey(k[1]) {
			r.keys = append(r.keys, k)
		}
	}
	for _, u := range x.usernames {
		r.values = append(r.values, [2]string{valUsername, u})
	}
	for _, v := range x.claims {
		r.values = append(r.values, [2]string{valClaim, v})
	}
	r.words = nameWords(x.name)
	r.names = strings.Join(r.words, " ")
	return r
}
