package pgstore

import (
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/idicbot/idicbot/crm"
)

var _ crm.TurnReader = (*Tx)(nil)

// readAhead is what ReadTurn fetched; each part answers one later call.
type readAhead struct {
	ch     crm.Channel
	msgID  string
	userID string
	// seen: the marker was read (seenID, seenFound).
	seen      bool
	seenID    crm.ID
	seenFound bool
	// identity: the customer holding key was read (nil: none).
	identity bool
	key      string
	customer *crm.Customer
	// group: read with a group's BEGIN, for the one ReadTurn call that
	// follows.
	group bool
}

// ReadTurn implements crm.TurnReader: with the transaction's BEGIN, in one
// round trip, it reads the dedupe marker and, in an Update, takes the
// identity's lock, reads and locks its customer, takes the lock on the
// customer's history and draws the ids of the turn's interactions and
// outbox items (historyID, outboxID), so a returning customer's turn sends
// its writes with the commit and waits on nothing else.
func (t *Tx) ReadTurn(ch crm.Channel, msgID, userID string) error {
	if a := t.ahead; a != nil && a.group && a.ch == ch && a.msgID == msgID && a.userID == userID {
		// Read with the group's BEGIN (group.go).
		return nil
	}
	b := &pgx.Batch{}
	finish := t.queueTurn(b, ch, msgID, userID)
	if b.Len() == 0 {
		return nil
	}
	if err := t.q.SendBatch(t.ctx, b).Close(); err != nil {
		return t.note("read the turn", err)
	}
	finish()
	return nil
}

// queueTurn queues ReadTurn's statements on b; finish, called once b's
// results were read, keeps what they read for the calls that follow.
func (t *Tx) queueTurn(b *pgx.Batch, ch crm.Channel, msgID, userID string) (finish func()) {
	a := &readAhead{ch: ch, msgID: msgID, userID: userID, group: t.q.group != nil}
	key := crm.IdentityKey(ch, userID)
	identity := t.writable && userID != "" && validKey(key)
	a.seen = validKey(msgID) && strings.IndexByte(string(ch), 0) < 0
	if a.seen && !identity {
		b.Queue(`SELECT interaction_id FROM seen WHERE channel = $1 AND message_id = $2`, string(ch), msgID).
			Query(func(rows pgx.Rows) error {
				for rows.Next() {
					var id int64
					if err := rows.Scan(&id); err != nil {
						return err
					}
					a.seenID, a.seenFound = crm.ID(id), true
				}
				return rows.Err()
			})
	}
	var owner int64
	var newID int64
	var historyIDs, outboxIDs []int64
	if identity {
		a.identity, a.key = true, key
		withSeen := a
		if !a.seen {
			withSeen = nil
		}
		t.queueIdentityLock(b, key, withSeen)
		// In one statement, in this order: the customer's row locked,
		// then the lock on its history, then the ids drawn under it. The
		// history's lateral join reads c, so it runs for c's row once
		// LockRows has locked it; the id arrays are init plans of the
		// select list, which PostgreSQL runs when the joined row is
		// projected (ExecSetParamPlan, on first use), after both locks.
		// A new identity's customer gets its id here too:
		// nobody else can append to the history of an id no committed row
		// holds, so its interaction ids need no lock.
		b.Queue(`SELECT c.id, c.data,
	CASE WHEN c.id IS NULL AND NOT EXISTS (SELECT 1 FROM customer_keys WHERE kind = $2 AND key = $3)
		THEN nextval('customers_id_seq') ELSE 0 END,
	array(SELECT nextval('interactions_id_seq') FROM generate_series(1, $1)),
	array(SELECT nextval('outbox_id_seq') FROM generate_series(1, $1))
FROM (SELECT 1) AS one
LEFT JOIN LATERAL (SELECT r.id, r.data FROM customer_keys k JOIN customers r ON r.id = k.customer_id
	WHERE k.kind = $2 AND k.key = $3 FOR UPDATE OF r) AS c ON true
LEFT JOIN LATERAL (SELECT pg_advisory_xact_lock($4, ((c.id << 32) >> 32)::int4)) AS history ON c.id IS NOT NULL`,
			idsAhead, keyIdentity, key, int32(lockHistory)).
			QueryRow(func(row pgx.Row) error {
				var id *int64
				var data []byte
				if err := row.Scan(&id, &data, &newID, &historyIDs, &outboxIDs); err != nil {
					return err
				}
				if id == nil {
					return nil
				}
				c, err := decodeCustomer(*id, data)
				if err != nil {
					return err
				}
				a.customer, owner = c, *id
				return nil
			})
	}
	return func() {
		slices.Sort(historyIDs)
		switch c := a.customer; {
		case c != nil && crm.ID(owner) == c.ID:
			t.historyFor, t.historyIDs = c.ID, historyIDs
		case c == nil && newID != 0:
			t.newCustomerID = crm.ID(newID)
			t.historyFor, t.historyIDs = t.newCustomerID, historyIDs
		}
		slices.Sort(outboxIDs)
		t.outboxIDs = append(t.outboxIDs, outboxIDs...)
		t.ahead = a
	}
}
