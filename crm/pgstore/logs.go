package pgstore

import (
	"container/heap"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/crm/internal/reccodec"
)

// AppendInteraction implements crm.Tx. A new interaction's id is taken
// under a transaction lock on its customer, so a customer's interactions
// commit in id order: a reader that has seen id N never misses a later
// commit below N.
func (t *Tx) AppendInteraction(i *crm.Interaction) error {
	if i == nil || i.CustomerID == 0 {
		return crm.Errorf(crm.EINVALID, "Interaction without customer.")
	}
	if i.Time.IsZero() {
		i.Time = t.now()
	}
	data := reccodec.EncodeInteraction(i)
	if i.ID != 0 {
		// An explicit id replaces that customer's interaction; it must not
		// take over another customer's.
		var owner int64
		found, err := t.queryRow("read interaction", `SELECT customer_id FROM interactions WHERE id = $1`+t.forUpdate(), []any{int64(i.ID)}, &owner)
		if err != nil {
			return err
		} else if found && crm.ID(owner) != i.CustomerID {
			return crm.Errorf(crm.ECONFLICT, "Interaction %d belongs to another customer.", i.ID)
		}
		if _, err := t.nextID("interactions_id_seq", i.ID); err != nil {
			return err
		}
		_, err = t.exec("save interaction", `INSERT INTO interactions (id, customer_id, data) VALUES ($1, $2, $3)
ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data`, int64(i.ID), int64(i.CustomerID), data)
		return err
	}
	id, err := t.historyID(i.CustomerID)
	if err != nil {
		return err
	}
	if g := t.q.group; g != nil {
		g.interactions = append(g.interactions, interactionRow{id: id, customer: int64(i.CustomerID), data: data})
	} else {
		t.q.later(`INSERT INTO interactions (id, customer_id, data) VALUES ($1, $2, $3)`, id, int64(i.CustomerID), data)
	}
	if !t.writable {
		return t.note("append interaction", t.q.send(t.ctx))
	}
	i.ID = crm.ID(id)
	return nil
}

// idsAhead is how many interaction ids (a message and its replies) and
// outbox ids a transaction draws at once; unused ones are gaps.
const idsAhead = 4

// historyID returns a new interaction id for customer, drawn under the
// transaction lock on the customer's history, which is held to the commit.
// Ids drawn ahead serve only the customer they were drawn for, and only
// until an id is drawn for another: a transaction's ids increase in the
// order it appends, across customers.
func (t *Tx) historyID(customer crm.ID) (int64, error) {
	if t.historyFor == customer && len(t.historyIDs) > 0 {
		id := t.historyIDs[0]
		t.historyIDs = t.historyIDs[1:]
		return id, nil
	}
	b := &pgx.Batch{}
	b.Queue(`SELECT pg_advisory_xact_lock($1, $2)`, int32(lockHistory), int32(uint32(customer)))
	var ids []int64
	b.Queue(`SELECT array(SELECT nextval('interactions_id_seq') FROM generate_series(1, $1))`, idsAhead).
		QueryRow(func(row pgx.Row) error { return row.Scan(&ids) })
	if err := t.q.SendBatch(t.ctx, b).Close(); err != nil {
		return 0, t.note("append interaction", err)
	}
	slices.Sort(ids)
	t.historyFor, t.historyIDs = customer, ids[1:]
	return ids[0], nil
}

// owner returns the customer whose history holds interaction id, locking
// its row in an Update: customer, or the customer it was merged into; 0
// when neither.
func (t *Tx) interaction(customer, id crm.ID) (*crm.Interaction, error) {
	var owner int64
	var data []byte
	found, err := t.queryRow("read interaction", `SELECT customer_id, data FROM interactions WHERE id = $1`+t.forUpdate(),
		[]any{int64(id)}, &owner, &data)
	if err != nil || !found {
		return nil, err
	}
	if crm.ID(owner) != customer {
		to, err := t.resolve(customer)
		if err != nil {
			return nil, err
		}
		if to != crm.ID(owner) {
			return nil, nil
		}
	}
	return decodeInteraction(int64(id), owner, data)
}

func decodeInteraction(id, customer int64, data []byte) (*crm.Interaction, error) {
	i := new(crm.Interaction)
	if err := decodeEither("interaction", id, data, i, reccodec.IsInteraction, reccodec.DecodeInteraction); err != nil {
		return nil, err
	}
	i.ID, i.CustomerID = crm.ID(id), crm.ID(customer)
	return i, nil
}

// PutInteraction implements crm.Tx. An interaction of a customer merged
// away is found under (and saved to) the customer it was merged into.
func (t *Tx) PutInteraction(i *crm.Interaction) error {
	if i == nil || i.ID == 0 {
		return crm.Errorf(crm.EINVALID, "Interaction without id.")
	}
	old, err := t.interaction(i.CustomerID, i.ID)
	if err != nil {
		return err
	} else if old == nil {
		return crm.Errorf(crm.ENOTFOUND, "Interaction %d not found.", i.ID)
	}
	i.CustomerID = old.CustomerID
	_, err = t.exec("save interaction", `UPDATE interactions SET data = $2 WHERE id = $1`, int64(i.ID), reccodec.EncodeInteraction(i))
	return err
}

// Interaction implements crm.Tx, following merge redirects.
func (t *Tx) Interaction(customer, id crm.ID) (*crm.Interaction, error) {
	i, err := t.interaction(customer, id)
	if err != nil {
		return nil, err
	} else if i == nil {
		return nil, crm.Errorf(crm.ENOTFOUND, "Interaction %d not found.", id)
	}
	return i, nil
}

func (t *Tx) interactionsWhere(what, sql string, args ...any) ([]*crm.Interaction, error) {
	rows, err := t.q.Query(t.ctx, sql, args...)
	if err != nil {
		return nil, t.note(what, err)
	}
	defer rows.Close()
	var out []*crm.Interaction
	for rows.Next() {
		var id, customer int64
		var data []byte
		if err := rows.Scan(&id, &customer, &data); err != nil {
			return nil, t.note(what, err)
		}
		i, err := decodeInteraction(id, customer, data)
		if err != nil {
			return nil, err
		}
		out = append(out, i)
	}
	return out, t.note(what, rows.Err())
}

// Interactions implements crm.Tx, following merge redirects.
func (t *Tx) Interactions(customer crm.ID, after crm.ID, limit int) ([]*crm.Interaction, error) {
	if after >= math.MaxInt64 {
		return nil, nil
	}
	customer, err := t.resolve(customer)
	if err != nil {
		return nil, err
	}
	lim := any(nil) // LIMIT NULL: all
	if limit > 0 {
		lim = limit
	}
	return t.interactionsWhere("read interactions", `SELECT id, customer_id, data FROM interactions
WHERE customer_id = $1 AND id > $2 ORDER BY id LIMIT $3`, int64(customer), int64(after), lim)
}

// RecentInteractions implements crm.Tx, following merge redirects.
func (t *Tx) RecentInteractions(customer crm.ID, n int) ([]*crm.Interaction, error) {
	if n <= 0 {
		return nil, nil
	}
	customer, err := t.resolve(customer)
	if err != nil {
		return nil, err
	}
	out, err := t.interactionsWhere("read interactions", `SELECT id, customer_id, data FROM interactions
WHERE customer_id = $1 ORDER BY id DESC LIMIT $2`, int64(customer), n)
	slices.Reverse(out)
	return out, err
}

// MoveInteractions implements crm.Tx: every interaction, order and event
// of from goes to to.
func (t *Tx) MoveInteractions(from, to crm.ID) error {
	if from == to {
		return nil
	}
	b := &pgx.Batch{}
	b.Queue(`UPDATE interactions SET customer_id = $2 WHERE customer_id = $1`, int64(from), int64(to))
	b.Queue(`UPDATE orders SET customer_id = $2 WHERE customer_id = $1`, int64(from), int64(to))
	b.Queue(`UPDATE events SET customer_id = $2 WHERE customer_id = $1`, int64(from), int64(to))
	return t.batch("move history", b)
}

// AddOrder implements crm.Tx. A ref stored by another transaction since
// this one looked makes the insert do nothing, and AddOrder returns false
// as for a ref stored before.
func (t *Tx) AddOrder(o *crm.Order) (bool, error) {
	if o == nil || o.CustomerID == 0 {
		return false, crm.Errorf(crm.EINVALID, "Order without customer.")
	}
	if err := crm.CheckOrder(o); err != nil {
		return false, err
	}
	var ref any // NULL: no ref
	if o.Ref != "" {
		if !validKey(o.Ref) {
			return false, crm.Errorf(crm.EINVALID, "An order ref cannot hold 0x00.")
		}
		ref = o.Ref
		var n int
		if found, err := t.queryRow("read order ref", `SELECT 1 FROM orders WHERE ref = $1`, []any{o.Ref}, &n); err != nil || found {
			return false, err
		}
	}
	id, err := t.nextID("orders_id_seq", o.ID)
	if err != nil {
		return false, err
	}
	o.ID = id
	data, err := encode(o)
	if err != nil {
		return false, err
	}
	tag, err := t.exec("add order", `INSERT INTO orders (id, customer_id, ref, data) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
		int64(id), int64(o.CustomerID), ref, data)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, nil
}

// Orders implements crm.Tx, oldest first, following merge redirects.
func (t *Tx) Orders(customer crm.ID) ([]*crm.Order, error) {
	customer, err := t.resolve(customer)
	if err != nil {
		return nil, err
	}
	return t.ordersOf(customer)
}

func (t *Tx) ordersOf(customer crm.ID) ([]*crm.Order, error) {
	rows, err := t.q.Query(t.ctx, `SELECT id, customer_id, data FROM orders WHERE customer_id = $1 ORDER BY id`+t.forUpdate(), int64(customer))
	if err != nil {
		return nil, t.note("read orders", err)
	}
	defer rows.Close()
	var out []*crm.Order
	for rows.Next() {
		var id, cust int64
		var data []byte
		if err := rows.Scan(&id, &cust, &data); err != nil {
			return nil, t.note("read orders", err)
		}
		o := new(crm.Order)
		if err := decode("order", data, o); err != nil {
			return nil, err
		}
		o.ID, o.CustomerID = crm.ID(id), crm.ID(cust)
		out = append(out, o)
	}
	return out, t.note("read orders", rows.Err())
}

func (t *Tx) offersWhere(what, sql string, args ...any) ([]*crm.Offer, error) {
	rows, err := t.q.Query(t.ctx, sql, args...)
	if err != nil {
		return nil, t.note(what, err)
	}
	defer rows.Close()
	var out []*crm.Offer
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			return nil, t.note(what, err)
		}
		o := new(crm.Offer)
		if err := decode("offer", data, o); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, t.note(what, rows.Err())
}

// Offers implements crm.Tx, sorted by id.
func (t *Tx) Offers() ([]*crm.Offer, error) {
	return t.offersWhere("read offers", `SELECT data FROM offers ORDER BY id`+t.forUpdate())
}

// Offer implements crm.Tx.
func (t *Tx) Offer(id string) (*crm.Offer, error) {
	var out []*crm.Offer
	if validKey(id) {
		var err error
		if out, err = t.offersWhere("read offer", `SELECT data FROM offers WHERE id = $1`+t.forUpdate(), id); err != nil {
			return nil, err
		}
	}
	if len(out) == 0 {
		return nil, crm.Errorf(crm.ENOTFOUND, "Offer %q not found.", id)
	}
	return out[0], nil
}

// PutOffer implements crm.Tx. The history is keyed by Version, so saving
// the same version twice replaces it.
func (t *Tx) PutOffer(o *crm.Offer) error {
	if o == nil || !validKey(o.ID) {
		return crm.Errorf(crm.EINVALID, "Offer needs an id.")
	}
	data, err := encode(o)
	if err != nil {
		return err
	}
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO offers (id, data) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data`, o.ID, data)
	b.Queue(`INSERT INTO offer_versions (id, version, data) VALUES ($1, $2, $3)
ON CONFLICT (id, version) DO UPDATE SET data = EXCLUDED.data`, o.ID, int64(o.Version), data)
	return t.batch("save offer", b)
}

// OfferVersions implements crm.Tx, oldest version first.
func (t *Tx) OfferVersions(id string) ([]*crm.Offer, error) {
	return t.offersWhere("read offer versions", `SELECT data FROM offer_versions WHERE id = $1 ORDER BY version`, id)
}

// AppendEvent implements crm.Tx. Its Seq comes from a block of the
// sequence this process took (so Seq orders the events of one time, not
// the processes' events among themselves), and the row is written at the
// commit with the transaction's other events, in one statement.
//
// Events are stored in package reccodec's binary form. A message event
// (in or out) joins the transaction's batch row for its customer when it
// fits (reccodec.BatchFits): a turn's message in and replies are one row,
// as in bbolt, where they were one each. The row's kind is its first
// member's, a message kind, so events_customer (by customer, for exports
// and erasures, without message events) leaves it out as it left its
// members out; a merge leaves it with the customer it was logged for.
func (t *Tx) AppendEvent(e *crm.Event) error {
	if err := crm.CheckEvent(e); err != nil {
		return err
	}
	if e.Time.IsZero() {
		e.Time = t.now()
	}
	seq, err := t.db.events.next(t)
	if err != nil {
		return err
	}
	e.Seq = crm.ID(seq)
	if !reccodec.IsMessageEvent(e.Kind) {
		t.events = append(t.events, pendingEvent{seq: seq, customer: int64(e.CustomerID), at: e.Time.UnixNano(), kind: string(e.Kind), data: reccodec.EncodeEvent(e)})
	} else if b := t.msgBatch; b != nil && b.customer == e.CustomerID && reccodec.BatchFits(b.at, b.seq, b.n, e) {
		p := &t.events[b.row]
		p.data = reccodec.AppendBatchMember(p.data, b.at, b.seq, e)
		b.n++
	} else {
		t.msgBatch = &eventBatch{row: len(t.events), customer: e.CustomerID, at: e.Time, seq: uint64(seq), n: 1}
		t.events = append(t.events, pendingEvent{seq: seq, customer: int64(e.CustomerID), at: e.Time.UnixNano(), kind: string(e.Kind),
			data: reccodec.AppendBatchMember(reccodec.NewEventBatch(), e.Time, uint64(seq), e)})
	}
	if !t.writable {
		// Refused by the server now, not at the end of the View.
		t.flush()
		return t.note("write events", t.q.send(t.ctx))
	}
	return nil
}

// eventBatch is a batch row of message events being built: events[row]
// of the transaction, keyed by (at, seq), holding n members of customer.
type eventBatch struct {
	row      int
	customer crm.ID
	at       time.Time
	seq      uint64
	n        int
}

// pendingEvent is an event appended in this transaction, not written yet.
type pendingEvent struct {
	seq, customer, at int64
	kind              string
	data              []byte
}

// flush queues the writes the transaction keeps until its commit (events
// and counter deltas): they go with the commit, or with the next read.
// Reads of events flush first, so they see the transaction's own.
func (t *Tx) flush() {
	t.msgBatch = nil // a message event after this starts a row of its own
	if g := t.q.group; g != nil {
		// A group's turn: its rows go with the group's.
		g.events = append(g.events, t.events...)
		g.addCounters(t.counters)
		t.events, t.counters = t.events[:0], nil
		return
	}
	if len(t.events) > 0 {
		t.q.queued = append(t.q.queued, eventsInsert(t.events))
		t.events = t.events[:0]
	}
	if len(t.counters) > 0 {
		t.q.queued = append(t.q.queued, countersUpsert(t.counters, t.shard))
		t.counters = nil
	}
}

// eventsInsert is one INSERT of events.
func eventsInsert(events []pendingEvent) *pgx.QueuedQuery {
	n := len(events)
	seqs, customers, ats := make([]int64, n), make([]int64, n), make([]int64, n)
	kinds, datas := make([]string, n), make([][]byte, n)
	for i, e := range events {
		seqs[i], customers[i], ats[i], kinds[i], datas[i] = e.seq, e.customer, e.at, e.kind, e.data
	}
	return &pgx.QueuedQuery{SQL: `INSERT INTO events (seq, customer_id, at, kind, data)
SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::bytea[])`, Arguments: []any{seqs, customers, ats, kinds, datas}}
}

// countersUpsert adds deltas to counters on shard, in name order, so two
// transactions on one shard lock its rows in the same order.
func countersUpsert(deltas map[string]int64, shard int) *pgx.QueuedQuery {
	names, values := sortedCounters(deltas)
	return &pgx.QueuedQuery{SQL: `INSERT INTO counters (name, shard, value) SELECT n, $3, d FROM unnest($1::text[], $2::bigint[]) AS u(n, d)
ON CONFLICT (name, shard) DO UPDATE SET value = counters.value + EXCLUDED.value`, Arguments: []any{names, values, int16(shard)}}
}

// idBlock hands out values of a sequence a block at a time, so appending
// an event costs no round trip of its own.
type idBlock struct {
	seq  string
	size int
	mu   sync.Mutex
	ids  []int64
}

func (b *idBlock) next(t *Tx) (int64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.ids) == 0 {
		// A sequence is outside transactions: the block is taken on a
		// connection of its own, so a transaction (or a group of turns)
		// never waits for another's round trip here while holding locks.
		b.mu.Unlock()
		ids, err := b.take(t)
		b.mu.Lock()
		if err != nil {
			return 0, err
		}
		b.ids = append(b.ids, ids...)
		slices.Sort(b.ids)
	}
	id := b.ids[0]
	b.ids = b.ids[1:]
	return id, nil
}

func (b *idBlock) take(t *Tx) ([]int64, error) {
	rows, err := t.db.pool.Query(t.ctx, `SELECT nextval('`+b.seq+`') FROM generate_series(1, $1)`, b.size)
	if err != nil {
		return nil, t.note("take ids", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	return ids, t.note("take ids", err)
}

// eventRow is a row of events: one event, or a batch of message events
// keyed by its first one's (at, seq).
type eventRow struct {
	seq, customer, at int64
	data              []byte
}

// eventPage reads up to scanPage rows of a query selecting (seq,
// customer_id, at, data).
func (t *Tx) eventPage(sql string, args ...any) ([]eventRow, error) {
	rows, err := t.q.Query(t.ctx, sql, args...)
	if err != nil {
		return nil, t.note("read events", err)
	}
	defer rows.Close()
	var out []eventRow
	for rows.Next() {
		var r eventRow
		if err := rows.Scan(&r.seq, &r.customer, &r.at, &r.data); err != nil {
			return nil, t.note("read events", err)
		}
		out = append(out, r)
	}
	return out, t.note("read events", rows.Err())
}

// events calls fn for the events of r: its customer, time and seq are the
// row's (a merge re-keys the row's customer, not its data).
func (r eventRow) events(fn func(*crm.Event) error) error {
	at := time.Unix(0, r.at).UTC()
	if !reccodec.IsEvent(r.data) {
		// JSON, as binaries before schema 8 wrote events.
		e := new(crm.Event)
		if err := decode("event", r.data, e); err != nil {
			return err
		}
		e.Seq, e.CustomerID, e.Time = crm.ID(r.seq), crm.ID(r.customer), at
		return fn(e)
	}
	fnFailed := false
	err := reccodec.DecodeEvents(at, uint64(r.seq), r.data, func(e *crm.Event) error {
		e.CustomerID = crm.ID(r.customer)
		err := fn(e) // fn's own error is returned as it is
		fnFailed = err != nil
		return err
	})
	if err != nil && !fnFailed {
		return fmt.Errorf("event %d: %w", r.seq, err)
	}
	return err
}

// eventsWhere calls fn for the events cond selects with from <= time < to
// (0: no end), in (time, seq) order, a page of rows at a time. cond's own
// arguments start at $5. A batch row's members may be up to
// reccodec.MaxBatchSpan later than the row's key: when cond may select
// batches (batches), rows are read from that much before from, and members
// are held back until every row keyed before them was handed out.
func (t *Tx) eventsWhere(cond string, batches bool, from, to time.Time, fn func(*crm.Event) error, args ...any) error {
	end := int64(math.MaxInt64)
	if !to.IsZero() {
		end = to.UnixNano()
	}
	t.flush() // sent with the first page's query
	at, seq := from.UnixNano(), int64(-1)
	if batches {
		at = from.Add(-reccodec.MaxBatchSpan).UnixNano()
	}
	if from.IsZero() {
		at = math.MinInt64
	}
	in := func(e *crm.Event) bool {
		return !e.Time.Before(from) && (to.IsZero() || e.Time.Before(to))
	}
	var held reccodec.EventQueue
	// release hands out the held members keyed before (at, seq); all of
	// them with all set.
	release := func(at, seq int64, all bool) error {
		for len(held) > 0 && (all || eventBefore(held[0], at, seq)) {
			if e := heap.Pop(&held).(*crm.Event); in(e) {
				if err := fn(e); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for {
		page, err := t.eventPage(`SELECT seq, customer_id, at, data FROM events
WHERE `+cond+` AND (at, seq) > ($1, $2) AND at < $3 ORDER BY at, seq LIMIT $4`,
			append([]any{at, seq, end, scanPage}, args...)...)
		if err != nil {
			return err
		}
		for _, r := range page {
			if err := release(r.at, r.seq, false); err != nil {
				return err
			}
			batch := reccodec.IsEventBatch(r.data)
			if err := r.events(func(e *crm.Event) error {
				if batch {
					heap.Push(&held, e)
					return nil
				}
				if !in(e) {
					return nil
				}
				return fn(e)
			}); err != nil {
				return err
			}
		}
		if len(page) < scanPage {
			return release(0, 0, true)
		}
		last := page[len(page)-1]
		at, seq = last.at, last.seq
	}
}

// eventBefore reports whether e comes before the row keyed (at, seq).
func eventBefore(e *crm.Event, at, seq int64) bool {
	if t := e.Time.UnixNano(); t != at {
		return t < at
	}
	return int64(e.Seq) < seq
}

// EventsBetween implements crm.Tx from the time index.
func (t *Tx) EventsBetween(from, to time.Time, fn func(*crm.Event) error) error {
	return t.eventsWhere("true", true, from, to, fn)
}

// CustomerEvents implements crm.Tx from the (customer, time) index.
func (t *Tx) CustomerEvents(customer crm.ID, from, to time.Time, fn func(*crm.Event) error) error {
	customer, err := t.resolve(customer)
	if err != nil {
		return err
	}
	// Message events, the only batched ones, are left out.
	return t.eventsWhere(`customer_id = $5 AND kind NOT IN ('message_in', 'message_out')`, false, from, to, fn, int64(customer))
}
