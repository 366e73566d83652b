package pgstore

import (
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/crm/internal/reccodec"
)

// An outbox row keeps what to send (data: the item as queued) and, in
// columns, its delivery state, place in the queue and lease, which a save
// rewrites without touching data.
const outboxColumns = `id, customer_id, status, priority, due, lease_owner, lease_until, attempts, next_attempt, last_error, sent_at, data`

// outboxUpdateOne saves one item's delivery state (outboxUpdate).
const outboxUpdateOne = `UPDATE outbox SET status = $2, priority = $3, due = $4, lease_owner = $5, lease_until = $6,
	attempts = $7, next_attempt = $8, last_error = $9, sent_at = $10 WHERE id = $1`

// outboxUpsert ends an INSERT of outbox rows (outboxColumns, created_at):
// an item saved again is replaced.
const outboxUpsert = `ON CONFLICT (id) DO UPDATE SET customer_id = EXCLUDED.customer_id, status = EXCLUDED.status, priority = EXCLUDED.priority,
	due = EXCLUDED.due, lease_owner = EXCLUDED.lease_owner, lease_until = EXCLUDED.lease_until, attempts = EXCLUDED.attempts,
	next_attempt = EXCLUDED.next_attempt, last_error = EXCLUDED.last_error, sent_at = EXCLUDED.sent_at, data = EXCLUDED.data,
	created_at = EXCLUDED.created_at`

func scanOutbox(row pgx.Row) (*crm.OutboxItem, error) {
	var id, customer, due, until, next, sent int64
	var status, owner, lastErr string
	var priority int16
	var attempts int32
	var data []byte
	if err := row.Scan(&id, &customer, &status, &priority, &due, &owner, &until, &attempts, &next, &lastErr, &sent, &data); err != nil {
		return nil, err
	}
	it := new(crm.OutboxItem)
	if err := decodeEither("outbox item", id, data, it, reccodec.IsOutboxItem, reccodec.DecodeOutboxItem); err != nil {
		return nil, err
	}
	it.ID, it.CustomerID, it.Status, it.Priority, it.Due = crm.ID(id), crm.ID(customer), status, int(priority), fromNanos(due)
	it.LeaseOwner, it.LeaseUntil = owner, fromNanos(until)
	it.Attempts, it.NextAttempt, it.LastError, it.SentAt = int(attempts), fromNanos(next), lastErr, fromNanos(sent)
	return it, nil
}

func (t *Tx) outboxWhere(what, sql string, args ...any) ([]*crm.OutboxItem, error) {
	rows, err := t.q.Query(t.ctx, `SELECT `+outboxColumns+` FROM outbox `+sql, args...)
	if err != nil {
		return nil, t.note(what, err)
	}
	defer rows.Close()
	var out []*crm.OutboxItem
	for rows.Next() {
		it, err := scanOutbox(rows)
		if err != nil {
			return nil, t.note(what, err)
		}
		out = append(out, it)
	}
	return out, t.note(what, rows.Err())
}

func checkPriority(p int) error {
	if p < 0 || p > 255 {
		return crm.Errorf(crm.EINVALID, "Outbox priority %d is not between 0 and 255.", p)
	}
	return nil
}

// EnqueueOutbox implements crm.Tx. An empty Status becomes pending and a
// zero CreatedAt now; an item with a LeaseOwner is stored leased to it.
func (t *Tx) EnqueueOutbox(it *crm.OutboxItem) error {
	if it == nil {
		return crm.Errorf(crm.EINVALID, "No outbox item.")
	}
	if err := checkPriority(it.Priority); err != nil {
		return err
	}
	fresh := false
	if it.ID != 0 {
		if _, err := t.nextID("outbox_id_seq", it.ID); err != nil {
			return err
		}
	} else {
		id, err := t.outboxID()
		if err != nil {
			return err
		}
		it.ID = crm.ID(id)
		fresh = true
	}
	if it.Status == "" {
		it.Status = crm.OutboxPending
	}
	if it.CreatedAt.IsZero() {
		it.CreatedAt = t.now()
	}
	return t.insertOutbox(it, fresh)
}

// outboxID returns a new outbox id, drawn in this transaction.
func (t *Tx) outboxID() (int64, error) {
	if len(t.outboxIDs) == 0 {
		var ids []int64
		if _, err := t.queryRow("queue outbox item", `SELECT array(SELECT nextval('outbox_id_seq') FROM generate_series(1, $1))`,
			[]any{idsAhead}, &ids); err != nil {
			return 0, err
		}
		slices.Sort(ids)
		t.outboxIDs = ids
	}
	id := t.outboxIDs[0]
	t.outboxIDs = t.outboxIDs[1:]
	return id, nil
}

// insertOutbox stores it under its id, with the commit. An item given
// its id by the caller may be stored already (a copy between stores run
// again) and replaces it; a fresh one, whose id this transaction drew from
// the sequence, cannot be, and is a plain insert: an upsert would cost the
// server a speculative insertion (a check, then a confirmation record) a
// reply.
func (t *Tx) insertOutbox(it *crm.OutboxItem, fresh bool) error {
	owner, until := it.LeaseOwner, nanos(it.LeaseUntil)
	if it.Status != crm.OutboxPending {
		owner, until = "", 0
	}
	data := reccodec.EncodeOutboxItem(it)
	args := []any{int64(it.ID), int64(it.CustomerID), it.Status, int16(it.Priority), nanos(it.Due), owner, until,
		int32(it.Attempts), nanos(it.NextAttempt), it.LastError, nanos(it.SentAt), data, nanos(it.CreatedAt)}
	if g := t.q.group; g != nil {
		g.outbox = append(g.outbox, outboxRow{args: args, fresh: fresh})
	} else {
		sql := `INSERT INTO outbox (` + outboxColumns + `, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`
		if !fresh {
			sql += "\n" + outboxUpsert
		}
		t.q.later(sql, args...)
	}
	if !t.writable {
		return t.note("queue outbox item", t.q.send(t.ctx))
	}
	if t.outboxHeld == nil {
		t.outboxHeld = map[crm.ID]bool{}
	}
	t.outboxHeld[it.ID] = true
	return nil
}

// PutOutbox implements crm.Tx: it saves the delivery state (status,
// attempts, errors, when sent), the priority, due time and lease of a
// pending item; any other status clears the lease. What to send is kept
// as queued.
func (t *Tx) PutOutbox(it *crm.OutboxItem) error {
	if it == nil || it.ID == 0 {
		return crm.Errorf(crm.EINVALID, "Outbox item without id.")
	}
	if err := checkPriority(it.Priority); err != nil {
		return err
	}
	owner, until := it.LeaseOwner, nanos(it.LeaseUntil)
	if it.Status != crm.OutboxPending {
		owner, until = "", 0
	}
	args := outboxUpdate{int64(it.ID), it.Status, int16(it.Priority), nanos(it.Due), owner, until,
		int32(it.Attempts), nanos(it.NextAttempt), it.LastError, nanos(it.SentAt)}
	if t.outboxHeld[it.ID] {
		// Its row is locked (or written) in this transaction: the update
		// cannot miss it, and goes with the commit.
		t.q.updates = append(t.q.updates, args)
		return nil
	}
	tag, err := t.exec("save outbox item", outboxUpdateOne, args...)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	if _, err := t.nextID("outbox_id_seq", it.ID); err != nil {
		return err
	}
	return t.insertOutbox(it, false)
}

// OutboxItem implements crm.Tx.
func (t *Tx) OutboxItem(id crm.ID) (*crm.OutboxItem, error) {
	if it, ok := t.outboxAhead[id]; ok {
		// Read by ReadOutbox, once.
		delete(t.outboxAhead, id)
		return it, nil
	}
	out, err := t.outboxWhere("read outbox item", `WHERE id = $1`+t.forUpdate(), int64(id))
	if err != nil {
		return nil, err
	} else if len(out) == 0 {
		return nil, crm.Errorf(crm.ENOTFOUND, "Outbox item %d not found.", id)
	}
	t.holdOutbox(out...)
	return out[0], nil
}

// PendingOutbox implements crm.Tx, in id order, a page at a time; in an
// Update fn may save the item.
func (t *Tx) PendingOutbox(fn func(*crm.OutboxItem) error) error {
	var after int64
	for {
		page, err := t.outboxWhere("read pending outbox", `WHERE status = 'pending' AND id > $1 ORDER BY id LIMIT $2`+t.forUpdate(), after, scanPage)
		if err != nil {
			return err
		}
		for _, it := range page {
			if err := fn(it); err != nil {
				return err
			}
		}
		if len(page) < scanPage {
			return nil
		}
		after = int64(page[len(page)-1].ID)
	}
}

// OutboxDepth implements crm.Tx: the size of the pending set, from its
// partial index.
func (t *Tx) OutboxDepth() (int64, error) {
	var n int64
	_, err := t.queryRow("outbox depth", `SELECT count(*) FROM outbox WHERE status = 'pending'`, nil, &n)
	return n, err
}

// ClaimOutbox implements crm.Tx with FOR UPDATE SKIP LOCKED: rows another
// transaction is claiming are stepped over, so concurrent senders take
// different items without waiting for each other.
func (t *Tx) ClaimOutbox(owner string, now time.Time, lease time.Duration, max int) ([]*crm.OutboxItem, error) {
	if owner == "" {
		return nil, crm.Errorf(crm.EINVALID, "An outbox claim needs an owner.")
	}
	if max <= 0 {
		return nil, nil
	}
	n := now.UnixNano()
	rows, err := t.q.Query(t.ctx, `WITH c AS (
	SELECT id FROM outbox
	WHERE status = 'pending' AND due <= $1 AND (lease_owner = '' OR lease_until <= $1)
	ORDER BY priority, due, id LIMIT $2
	FOR UPDATE SKIP LOCKED)
UPDATE outbox o SET lease_owner = $3, lease_until = $4 FROM c WHERE o.id = c.id
RETURNING o.id, o.customer_id, o.status, o.priority, o.due, o.lease_owner, o.lease_until, o.attempts, o.next_attempt, o.last_error, o.sent_at, o.data`,
		n, max, owner, now.Add(lease).UnixNano())
	if err != nil {
		return nil, t.note("claim outbox", err)
	}
	defer rows.Close()
	var out []*crm.OutboxItem
	for rows.Next() {
		it, err := scanOutbox(rows)
		if err != nil {
			return nil, t.note("claim outbox", err)
		}
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, t.note("claim outbox", err)
	}
	slices.SortFunc(out, func(a, b *crm.OutboxItem) int {
		if a.Priority != b.Priority {
			return a.Priority - b.Priority
		}
		if c := a.Due.Compare(b.Due); c != 0 {
			return c
		}
		return int(int64(a.ID) - int64(b.ID))
	})
	return out, nil
}

// RenewOutbox implements crm.Tx.
func (t *Tx) RenewOutbox(owner string, ids []crm.ID, until time.Time) ([]crm.ID, error) {
	return t.lease(owner, ids, owner, until.UnixNano())
}

// ReleaseOutbox implements crm.Tx.
func (t *Tx) ReleaseOutbox(owner string, ids []crm.ID) error {
	_, err := t.lease(owner, ids, "", 0)
	return err
}

// lease sets the lease of the pending items of ids that owner holds, and
// returns their ids in the order of ids.
func (t *Tx) lease(owner string, ids []crm.ID, newOwner string, until int64) ([]crm.ID, error) {
	if owner == "" {
		return nil, crm.Errorf(crm.EINVALID, "An outbox lease needs an owner.")
	}
	if len(ids) == 0 {
		return []crm.ID{}, nil
	}
	keys := make([]int64, len(ids))
	for i, id := range ids {
		keys[i] = int64(id)
	}
	rows, err := t.q.Query(t.ctx, `UPDATE outbox SET lease_owner = $3, lease_until = $4
WHERE id = ANY($1) AND status = 'pending' AND lease_owner = $2 RETURNING id`, keys, owner, newOwner, until)
	if err != nil {
		return nil, t.note("lease outbox", err)
	}
	held := map[crm.ID]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, t.note("lease outbox", err)
		}
		held[crm.ID(id)] = true
	}
	if err := rows.Err(); err != nil {
		return nil, t.note("lease outbox", err)
	}
	out := make([]crm.ID, 0, len(held))
	for _, id := range ids {
		if held[id] {
			out = append(out, id)
			delete(held, id)
		}
	}
	return out, nil
}

// NextOutboxDue implements crm.Tx.
func (t *Tx) NextOutboxDue(now time.Time) (time.Time, error) {
	var next *int64
	if _, err := t.queryRow("next outbox due", `SELECT min(due) FROM outbox WHERE status = 'pending' AND due > $1`,
		[]any{now.UnixNano()}, &next); err != nil || next == nil {
		return time.Time{}, err
	}
	return fromNanos(*next), nil
}

// AddCounter implements crm.Tx. The delta is kept in the transaction and
// written at the commit, on this transaction's shard of the counter, so
// the row is locked for the commit only, not for the whole turn.
func (t *Tx) AddCounter(name string, delta int64) error {
	if strings.IndexByte(name, 0) >= 0 {
		return crm.Errorf(crm.EINVALID, "A counter name cannot hold 0x00.")
	}
	t.addPending(name, delta)
	return nil
}

// groupCounters are the deltas of the group's turns before this one.
func (t *Tx) groupCounters() map[string]int64 {
	if g := t.q.group; g != nil {
		return g.counters
	}
	return nil
}

func (t *Tx) addPending(name string, delta int64) {
	if t.counters == nil {
		t.counters = make(map[string]int64)
	}
	t.counters[name] += delta
}

// Counter implements crm.Tx; a missing counter is 0.
func (t *Tx) Counter(name string) (int64, error) {
	var n int64
	_, err := t.queryRow("read counter", `SELECT coalesce(sum(value), 0)::bigint FROM counters WHERE name = $1`, []any{name}, &n)
	if g := t.q.group; g != nil {
		// The group's turns before this one: their deltas go with the
		// commit, so a group takes no counter row's lock before it.
		n += g.counters[name]
	}
	return n + t.counters[name], err
}

// Counters implements crm.Tx. The range is bounded both ways (names are COLLATE "C": bytes; U+10FFFF
// sorts after every character), so a prefix reads its own names only, not
// every counter after it: 30 days of /crm stats went from 135 ms to 12.
func (t *Tx) Counters(prefix string) (map[string]int64, error) {
	rows, err := t.q.Query(t.ctx, `SELECT name, sum(value)::bigint FROM counters
WHERE name >= $1 AND name < $1 || chr(1114111) AND left(name, length($1)) = $1 GROUP BY name`, prefix)
	if err != nil {
		return nil, t.note("read counters", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var name string
		var n int64
		if err := rows.Scan(&name, &n); err != nil {
			return nil, t.note("read counters", err)
		}
		out[name] = n
	}
	for _, pending := range []map[string]int64{t.counters, t.groupCounters()} {
		for name, d := range pending {
			if strings.HasPrefix(name, prefix) {
				out[name] += d
			}
		}
	}
	return out, t.note("read counters", rows.Err())
}

// holdOutbox remembers items read in an Update: their rows are locked
// until the commit, so saving them needs no answer from the server.
func (t *Tx) holdOutbox(items ...*crm.OutboxItem) {
	if !t.writable {
		return
	}
	if t.outboxHeld == nil {
		t.outboxHeld = map[crm.ID]bool{}
	}
	for _, it := range items {
		t.outboxHeld[it.ID] = true
	}
}

var _ crm.OutboxReader = (*Tx)(nil)

// ReadOutbox implements crm.OutboxReader: one query for every item of ids,
// locked in an Update, for the OutboxItem calls that follow.
func (t *Tx) ReadOutbox(ids []crm.ID) error {
	if len(ids) == 0 {
		return nil
	}
	keys := make([]int64, len(ids))
	for i, id := range ids {
		keys[i] = int64(id)
	}
	out, err := t.outboxWhere("read outbox items", `WHERE id = ANY($1)`+t.forUpdate(), keys)
	if err != nil {
		return err
	}
	t.holdOutbox(out...)
	if t.outboxAhead == nil {
		t.outboxAhead = make(map[crm.ID]*crm.OutboxItem, len(out))
	}
	for _, it := range out {
		t.outboxAhead[it.ID] = it
	}
	return nil
}
